// A tiny SVG chart writer for benchmark results (horizontal bars, x/y lines), so plots
// need no plotting library and render on GitHub as they are.

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** Text after the bar; defaults to the value with thousands separators. */
  readonly note?: string;
  /** Marks the project's own bars so they stand out from baselines and peers. */
  readonly highlight?: boolean;
}

export interface BarChart {
  readonly title: string;
  /** What the values measure, e.g. `rows/s`. */
  readonly unit: string;
  readonly bars: readonly Bar[];
  readonly subtitle?: string;
}

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [x: number, y: number])[];
  /** Drawn dashed (e.g. a peer's line next to the project's own). */
  readonly dashed?: boolean;
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly subtitle?: string;
  /** A logarithmic y axis (powers of ten), for values that span several orders of magnitude. */
  readonly logY?: boolean;
}

const FONT = 'font-family="Helvetica, Arial, sans-serif"';
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7'];
const BASELINE = '#9aa5b1';
const OWN = '#2f6fb0';

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');

/** "Nice" axis ticks (1, 2, 5 × 10^k) from 0 to at least max. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function shortNumber(n: number): string {
  if (n >= 1e9) return `${+(n / 1e9).toPrecision(3)}G`;
  if (n >= 1e6) return `${+(n / 1e6).toPrecision(3)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toPrecision(3)}k`;
  return `${+n.toPrecision(3)}`;
}

function heading(title: string, subtitle: string | undefined, width: number): string {
  let s = `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold" ${FONT}>${escapeXml(title)}</text>`;
  if (subtitle) s += `<text x="${width / 2}" y="44" text-anchor="middle" font-size="12" fill="#555" ${FONT}>${escapeXml(subtitle)}</text>`;
  return s;
}

/** Horizontal bars, one per entry, with a value axis starting at zero. */
export function barChartSvg(chart: BarChart): string {
  const width = 760;
  const labelWidth = 230;
  const noteWidth = 150;
  const top = chart.subtitle ? 64 : 48;
  const barH = 26;
  const gap = 10;
  const plotW = width - labelWidth - noteWidth - 20;
  const height = top + chart.bars.length * (barH + gap) + 44;
  const max = Math.max(...chart.bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)), 0);
  const ticks = niceTicks(max);
  const scale = plotW / ticks[ticks.length - 1]!;
  const parts: string[] = [`<rect width="${width}" height="${height}" fill="white"/>`, heading(chart.title, chart.subtitle, width)];
  const axisY = top + chart.bars.length * (barH + gap);
  for (const t of ticks) {
    const x = labelWidth + t * scale;
    parts.push(`<line x1="${x}" y1="${top - 4}" x2="${x}" y2="${axisY}" stroke="#e3e3e3"/>`);
    parts.push(`<text x="${x}" y="${axisY + 16}" text-anchor="middle" font-size="11" fill="#555" ${FONT}>${shortNumber(t)}</text>`);
  }
  parts.push(`<text x="${labelWidth + plotW / 2}" y="${axisY + 34}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(chart.unit)}</text>`);
  chart.bars.forEach((b, i) => {
    const y = top + i * (barH + gap);
    const w = Number.isFinite(b.value) ? Math.max(1, b.value * scale) : 0;
    parts.push(`<text x="${labelWidth - 8}" y="${y + barH / 2 + 4}" text-anchor="end" font-size="12" ${FONT}>${escapeXml(b.label)}</text>`);
    parts.push(`<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${b.highlight ? OWN : BASELINE}"/>`);
    parts.push(`<text x="${labelWidth + w + 6}" y="${y + barH / 2 + 4}" font-size="12" ${FONT}>${escapeXml(b.note ?? fmt(b.value))}</text>`);
  });
  parts.push(`<line x1="${labelWidth}" y1="${top - 4}" x2="${labelWidth}" y2="${axisY}" stroke="#333"/>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n${parts.join('\n')}\n</svg>\n`;
}

/** Powers of ten from at or below min to at or above max (a log axis). */
export function decadeTicks(min: number, max: number): number[] {
  if (!(min > 0) || !(max > 0)) return [1, 10];
  const lo = Math.floor(Math.log10(min));
  let hi = Math.ceil(Math.log10(max));
  if (hi === lo) hi++;
  const ticks: number[] = [];
  for (let k = lo; k <= hi; k++) ticks.push(Number((10 ** k).toPrecision(12)));
  return ticks;
}

/** Lines over a numeric x axis (e.g. throughput by batch size), both axes from zero. */
export function lineChartSvg(chart: LineChart): string {
  const width = 760;
  const height = 440;
  const left = 80;
  const right = 170;
  const top = chart.subtitle ? 64 : 48;
  const bottom = 56;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const all = chart.series.flatMap((s) => s.points);
  const xTicks = niceTicks(Math.max(...all.map((p) => p[0]), 0));
  const ys = all.map((p) => p[1]).filter((y) => !chart.logY || y > 0);
  const yTicks = chart.logY ? decadeTicks(Math.min(...ys), Math.max(...ys)) : niceTicks(Math.max(...ys, 0));
  const xMax = xTicks[xTicks.length - 1]!;
  const yMin = chart.logY ? yTicks[0]! : 0;
  const yMax = yTicks[yTicks.length - 1]!;
  const X = (x: number) => left + (x / xMax) * plotW;
  const Y = chart.logY
    ? (y: number) => top + plotH - ((Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotH
    : (y: number) => top + plotH - (y / yMax) * plotH;
  const parts: string[] = [`<rect width="${width}" height="${height}" fill="white"/>`, heading(chart.title, chart.subtitle, width)];
  for (const t of yTicks) {
    parts.push(`<line x1="${left}" y1="${Y(t)}" x2="${left + plotW}" y2="${Y(t)}" stroke="#e3e3e3"/>`);
    parts.push(`<text x="${left - 6}" y="${Y(t) + 4}" text-anchor="end" font-size="11" fill="#555" ${FONT}>${shortNumber(t)}</text>`);
  }
  for (const t of xTicks) {
    parts.push(`<text x="${X(t)}" y="${top + plotH + 16}" text-anchor="middle" font-size="11" fill="#555" ${FONT}>${shortNumber(t)}</text>`);
  }
  parts.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${left + plotW / 2}" y="${height - 14}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(chart.xLabel)}</text>`);
  parts.push(`<text transform="translate(18 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(chart.yLabel)}</text>`);
  chart.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const pts = [...s.points].filter((p) => !chart.logY || p[1] > 0).sort((a, b) => a[0] - b[0]);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) parts.push(`<circle cx="${X(p[0]).toFixed(1)}" cy="${Y(p[1]).toFixed(1)}" r="3" fill="${color}"/>`);
    const ly = top + 10 + i * 20;
    parts.push(`<line x1="${left + plotW + 14}" y1="${ly}" x2="${left + plotW + 34}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${left + plotW + 40}" y="${ly + 4}" font-size="12" ${FONT}>${escapeXml(s.name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n${parts.join('\n')}\n</svg>\n`;
}
