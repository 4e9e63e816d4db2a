/**
 * The centre's bounded de-duplication by `recordId` (DESIGN section 3: "the centre deduplicates by
 * recordId"). It remembers the last `capacityPerKey` record ids per (edge instance, partition) —
 * the edge instance is the batch id without its counter — and forgets the least recently active
 * keys beyond `maxKeys`. Why per key and why this size: README.md, "Window arithmetic".
 *
 * Ids are committed only after the handler succeeded, so a failed delivery is redelivered with all
 * its records; a delivery whose acknowledgement was lost is recognised on redelivery.
 */
import type { SelectedRecord } from '../common/schema/selected.ts';

/** Options of a `RecordDeduper`. */
export interface DedupOptions {
  /** Record ids remembered per (edge instance, partition). */
  capacityPerKey: number;
  /** Keys remembered; the least recently used is forgotten first. */
  maxKeys: number;
}

/** Defaults: 2 × 32 batches in flight × 1000 records per batch per key, 1024 keys. */
export const DEFAULT_DEDUP: DedupOptions = { capacityPerKey: 65_536, maxKeys: 1024 };

class Ring {
  readonly ids: (string | undefined)[];
  readonly set = new Set<string>();
  pos = 0;
  constructor(capacity: number) {
    this.ids = new Array<string | undefined>(capacity);
  }
  add(id: string): void {
    if (this.set.has(id)) return;
    const old = this.ids[this.pos];
    if (old !== undefined) this.set.delete(old);
    this.ids[this.pos] = id;
    this.set.add(id);
    this.pos = (this.pos + 1) % this.ids.length;
  }
}

/** The producer part of a batch id `<provider>.<instance>.<counter>` (everything before the last dot). */
export function producerOf(batchId: string): string {
  const i = batchId.lastIndexOf('.');
  return i < 0 ? batchId : batchId.slice(0, i);
}

/** Bounded record-id de-duplication (see the module comment). */
export class RecordDeduper {
  private readonly rings = new Map<string, Ring>();
  /** Records removed as duplicates since creation. */
  dropped = 0;

  constructor(readonly options: DedupOptions = DEFAULT_DEDUP) {}

  private ring(batchId: string, partition: number, create: boolean): Ring | undefined {
    const key = `${producerOf(batchId)}#${partition}`;
    let r = this.rings.get(key);
    if (r) {
      // Move to the most recently used end.
      this.rings.delete(key);
      this.rings.set(key, r);
      return r;
    }
    if (!create) return undefined;
    r = new Ring(this.options.capacityPerKey);
    this.rings.set(key, r);
    if (this.rings.size > this.options.maxKeys) {
      const oldest = this.rings.keys().next().value;
      if (oldest !== undefined) this.rings.delete(oldest);
    }
    return r;
  }

  /** The records not yet committed (also removes repeats inside the batch); does not commit. */
  filter(batchId: string, partition: number, records: SelectedRecord[]): SelectedRecord[] {
    const ring = this.ring(batchId, partition, false);
    const seen = new Set<string>();
    let out: SelectedRecord[] | undefined;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const dup = ring?.set.has(r.recordId) === true || seen.has(r.recordId);
      seen.add(r.recordId);
      if (dup && !out) out = records.slice(0, i);
      else if (!dup && out) out.push(r);
    }
    if (!out) return records;
    this.dropped += records.length - out.length;
    return out;
  }

  /** Remembers the records of a successfully handled batch. */
  commit(batchId: string, partition: number, records: readonly SelectedRecord[]): void {
    if (records.length === 0) return;
    const ring = this.ring(batchId, partition, true)!;
    for (const r of records) ring.add(r.recordId);
  }
}
