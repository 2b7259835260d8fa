// Terminal progress and the end-of-run summary for `flow run`.

import type { NodeReport } from '../pipeline/run.js';

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

export function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

/** Redraws one line per node in place on a TTY: events/s and MB/s since the last draw. */
export class ProgressDisplay {
  private last = new Map<string, { events: number; bytes: number; at: number }>();
  private lines = 0;
  constructor(private readonly out: NodeJS.WriteStream) {}

  draw(nodes: readonly NodeReport[], elapsedMs: number): void {
    const now = elapsedMs;
    const width = Math.max(...nodes.map((n) => n.name.length));
    const rows = nodes.map((n) => {
      const prev = this.last.get(n.name) ?? { events: 0, bytes: 0, at: 0 };
      const dt = Math.max(1, now - prev.at) / 1000;
      const evs = (n.stats.events - prev.events) / dt;
      const mbs = (n.stats.bytes - prev.bytes) / dt / 1e6;
      this.last.set(n.name, { events: n.stats.events, bytes: n.stats.bytes, at: now });
      const bad = (n.stats.lag !== undefined ? `  lag ${formatCount(n.stats.lag)}` : '') + (n.stats.rejected ? `  rejected ${formatCount(n.stats.rejected)}` : '');
      const mb = n.stats.bytes ? `  ${mbs.toFixed(1).padStart(7)} MB/s` : '';
      return `${n.name.padEnd(width)}  ${formatCount(evs).padStart(7)} ev/s${mb}  total ${formatCount(n.stats.events)}${bad}`;
    });
    let s = this.lines ? `\x1b[${this.lines}A` : '';
    for (const r of rows) s += `\r\x1b[K${r}\n`;
    this.lines = rows.length;
    this.out.write(s);
  }

  clear(): void {
    if (this.lines) this.out.write(`\x1b[${this.lines}A\x1b[J`);
    this.lines = 0;
  }
}

export function summary(nodes: readonly NodeReport[], elapsedMs: number): string {
  const secs = Math.max(elapsedMs, 1) / 1000;
  const width = Math.max(...nodes.map((n) => n.name.length));
  const lines = [`done in ${secs.toFixed(2)}s`];
  for (const n of nodes) {
    const s = n.stats;
    let line = `  ${n.name.padEnd(width)}  ${n.type.padEnd(10)} ${String(s.events).padStart(10)} events  ${String(s.batches).padStart(6)} batches`;
    if (s.bytes) line += `  ${formatBytes(s.bytes)}`;
    if (s.events) line += `  (${formatCount(s.events / secs)} ev/s)`;
    if (s.lag !== undefined) line += `  lag ${s.lag}`;
    if (s.rejected) {
      const reasons = [...s.rejectedByReason.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5)
        .map(([r, c]) => `${c}× ${r}`).join('; ');
      line += `\n  ${' '.repeat(width)}  rejected ${s.rejected}: ${reasons}`;
    }
    lines.push(line);
  }
  return lines.join('\n');
}
