// The store's live feed, for a node that answers queries over what it imports (DESIGN.md
// §6-7): every batch the archive takes in is announced to the listeners at that moment,
// and the batches taken in but not yet recorded in the catalog stay visible as `pending`.
// A unified query draws its seam with one synchronous step: listen, then take the catalog
// and the pending batches. Each batch enters exactly once, so it is either in that
// snapshot (catalog or pending) or announced to the listener afterwards, never both.

import type { Batch } from '../data/batch.js';
import type { Catalog } from './catalog.js';

export type FeedListener = (batch: Batch) => void;

/** What was in the store at one instant: its finished partitions and the batches on their way there. */
export interface StoreSnapshot {
  readonly catalog: Catalog;
  readonly pending: readonly Batch[];
}

export class StoreFeed {
  private readonly listeners = new Set<FeedListener>();
  private readonly inFlight = new Set<Batch>();

  /** Announces a batch the archive took in (its ids are final). */
  enter(batch: Batch): void {
    this.inFlight.add(batch);
    for (const l of this.listeners) l(batch);
  }

  /** The batches are in the catalog now (called in the same step that records them). */
  recorded(batches: readonly Batch[]): void {
    for (const b of batches) this.inFlight.delete(b);
  }

  /** The archive gave up on these batches (a failed write): they never reach the catalog. */
  dropped(batches: readonly Batch[]): void {
    this.recorded(batches);
  }

  /** Calls `listener` with every batch entering from now on; returns the unsubscribe. */
  listen(listener: FeedListener): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  get pending(): readonly Batch[] {
    return [...this.inFlight];
  }
}
