// Index hits of recent predicates (VAST'15: caching index hits enables iterative
// analyses). Per partition, a bounded LRU keeps the candidate rows of each test the
// planner evaluated, and the exact hits of each query the lookup finished; a refined
// query (a previous one with one more conjunct) starts from the previous exact hits and
// evaluates only the new conjunct. Partitions are immutable, so entries never go stale;
// queries relative to `now` are never cached.

import type { Bound, Test } from '../query/index.js';
import { formatLiteral } from '../query/index.js';
import type { Bitmap } from './build.js';

/** Counters a lookup adds to: what the index computed and what the cache answered. */
export interface HitStats {
  /** Tests evaluated on the index (not answered from the cache). */
  indexTests: number;
  /** Tests or whole conjunctions answered from the cache. */
  cacheHits: number;
}

/** A stable text for a test (column, operator, literal, protocol source); undefined when it depends on `now`. */
export function testKey(t: Test): string | undefined {
  if (t.value.kind === 'time' && t.value.relative) return undefined;
  const protocol = t.protocol === undefined ? '' : `@${JSON.stringify(t.protocol)}`;
  return `${t.column}${t.op}${t.value.kind}:${formatLiteral(t.value)}${protocol}`;
}

/** A stable text for a bound (conjunctions and disjunctions sorted: they commute); undefined when it depends on `now`. */
export function boundKey(b: Bound): string | undefined {
  switch (b.kind) {
    case 'const': return b.value ? 'T' : 'F';
    case 'test': return testKey(b);
    case 'and': case 'or': {
      const keys: string[] = [];
      for (const t of b.terms) { const k = boundKey(t); if (k === undefined) return undefined; keys.push(k); }
      return `${b.kind === 'and' ? '&' : '|'}(${keys.sort().join(',')})`;
    }
  }
}

/** The conjuncts of a bound as keys (a non-`and` bound is one conjunct); undefined entries depend on `now`. */
export function conjunctKeys(b: Bound): (string | undefined)[] {
  return b.kind === 'and' ? b.terms.map(boundKey) : [boundKey(b)];
}

interface ExactEntry {
  readonly conjuncts: ReadonlySet<string>;
  readonly hits: Bitmap;
}

/** Bytes a bitmap holds (roaring's serialised size is a close bound of its memory). */
function sizeOf(b: Bitmap): number {
  return b.getSerializationSizeInBytes('portable') + 64;
}

/** The cached hits of one partition: keys are prefixed by the schema's file name. */
export class PartitionHits {
  private readonly tests = new Map<string, Bitmap>();
  private readonly exact = new Map<string, ExactEntry>();
  private bytes = 0;

  constructor(private readonly maxEntries: number, private readonly maxBytes: number) {}

  get size(): number {
    return this.tests.size + this.exact.size;
  }

  test(key: string): Bitmap | undefined {
    const b = this.tests.get(key);
    if (b) { this.tests.delete(key); this.tests.set(key, b); }
    return b;
  }

  setTest(key: string, b: Bitmap): void {
    if (this.tests.has(key)) return;
    this.tests.set(key, b);
    this.bytes += sizeOf(b);
    this.evict();
  }

  /**
   * The smallest cached exact result among queries whose conjuncts are all among
   * `conjuncts` (each such query's hits contain this query's): with the conjuncts it
   * covers, which need no evaluation.
   */
  bestExact(prefix: string, conjuncts: readonly string[]): ExactEntry | undefined {
    const have = new Set(conjuncts);
    let best: ExactEntry | undefined;
    for (const [key, e] of this.exact) {
      if (!key.startsWith(prefix)) continue;
      let covered = true;
      for (const c of e.conjuncts) if (!have.has(c)) { covered = false; break; }
      if (covered && (!best || e.hits.size < best.hits.size)) best = e;
    }
    if (best) {
      // Touch it: recently used entries are evicted last.
      for (const [key, e] of this.exact) if (e === best) { this.exact.delete(key); this.exact.set(key, e); break; }
    }
    return best;
  }

  setExact(prefix: string, conjuncts: readonly string[], hits: Bitmap): void {
    const key = `${prefix}${[...conjuncts].sort().join('\u0000')}`;
    if (this.exact.has(key)) return;
    this.exact.set(key, { conjuncts: new Set(conjuncts), hits });
    this.bytes += sizeOf(hits);
    this.evict();
  }

  private evict(): void {
    while ((this.size > this.maxEntries || this.bytes > this.maxBytes) && this.size > 1) {
      // Oldest first, tests before exact results (those save the most work).
      const map: Map<string, Bitmap | ExactEntry> = this.tests.size > 0 ? this.tests : this.exact;
      const [key, v] = map.entries().next().value as [string, Bitmap | ExactEntry];
      map.delete(key);
      this.bytes -= sizeOf('hits' in v ? v.hits : v);
    }
  }
}

/** Per-partition caches, themselves bounded: the least recently used partition's goes first. */
export class HitCache {
  private readonly partitions = new Map<string, PartitionHits>();

  constructor(
    readonly maxPartitions = 256,
    readonly maxEntriesPerPartition = 64,
    readonly maxBytesPerPartition = 32 << 20,
  ) {}

  partition(name: string): PartitionHits {
    let p = this.partitions.get(name);
    if (p) { this.partitions.delete(name); this.partitions.set(name, p); return p; }
    p = new PartitionHits(this.maxEntriesPerPartition, this.maxBytesPerPartition);
    this.partitions.set(name, p);
    if (this.partitions.size > this.maxPartitions) this.partitions.delete(this.partitions.keys().next().value as string);
    return p;
  }
}
