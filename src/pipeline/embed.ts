// Helpers for applications that embed Vastflow without a pipeline file: one source as an
// Observable of batches, and collecting a stream's batches (acknowledging each).

import { lastValueFrom, tap, toArray, type Observable } from 'rxjs';
import type { Batch } from '../data/batch.js';
import { simpleContext } from '../data/context.js';
import { componentsOf, findComponent } from './registry.js';

export interface ReadSourceOptions {
  /** Relative paths resolve against this directory (default: the working directory). */
  readonly baseDir?: string;
  /** Diagnostics (rejected input, warnings); default: dropped. */
  readonly log?: (message: string) => void;
}

/**
 * The batches of one source component (`zeek-tsv`, `json`, `pcap`, ...) with the same
 * options as in a pipeline file. Reading starts on subscribe; each batch's ack must be
 * released (collectBatches does) or the source stops when its window is full.
 */
export function readSource(type: string, options: Record<string, unknown>, settings: ReadSourceOptions = {}): Observable<Batch> {
  const spec = findComponent('source', type);
  if (spec?.kind !== 'source') throw new Error(`unknown source type '${type}'; source types: ${componentsOf('source').map((c) => c.type).join(', ')}`);
  const parsed = spec.options.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.length ? `option '${i.path.join('.')}'` : 'options'}: ${i.message}`);
    throw new Error(`source type '${type}': ${problems.join('; ')}`);
  }
  return spec.create(parsed.data, simpleContext(type, settings.baseDir ?? process.cwd(), settings.log ?? (() => {})));
}

/** Runs a stream to its end and returns its batches, releasing each one's ack on arrival. */
export function collectBatches(batches: Observable<Batch>): Promise<Batch[]> {
  return lastValueFrom(batches.pipe(tap((b) => b.ack.release()), toArray()));
}
