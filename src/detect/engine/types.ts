/**
 * The detector contract. A detector consumes flows (rows of a `DetectBatch`) and, optionally, DNS
 * events in event time; the engine tells it how far event time has safely progressed
 * (`onWatermark`) and when the input ends (`flush`). It emits `Evidence` through the sink it was
 * created with, keeps its state within its memory budget, and reports that state (`stats`).
 */
import type { DetectorName } from '../../common/schema/legal.ts';
import type { Evidence } from '../../common/schema/evidence.ts';
import type { DetectBatch } from './batch.ts';
import type { DnsRow } from './adapt.ts';

/**
 * The key a detector's state is partitioned by (DESIGN section 1: records are routed by it so a
 * partition is owned by one worker): the source address, the destination address, or the pair.
 */
export type PartitionKey = 'source' | 'destination' | 'pair';

/** Receives evidence as detectors emit it. */
export type EvidenceSink = (e: Evidence) => void;

/** Figures a detector reports about itself (metrics, `bench:detect`). */
export interface DetectorStats {
  /** Flow rows (and DNS events) the detector looked at. */
  records: number;
  /** Evidence emitted. */
  evidence: number;
  /** Keys held now, over all of the detector's tables. */
  keys: number;
  /** Estimated bytes in use: keys held × bytes per entry + sketches. */
  bytesUsed: number;
  /** Bytes allocated up front (tables at capacity + sketches); never exceeds `budgetBytes`. */
  bytesReserved: number;
  /** The configured memory budget. */
  budgetBytes: number;
  /** Keys evicted because a table was full (LRU). */
  evictions: number;
  /** Keys dropped after their TTL. */
  expired: number;
}

/** A streaming detector. */
export interface Detector {
  readonly name: DetectorName;
  /** Semver of the algorithm and its defaults, stamped on every evidence. */
  readonly version: string;
  readonly key: PartitionKey;
  /** Looks at one flow row (rows with `skip` set are never passed). */
  onRecord(b: DetectBatch, i: number): void;
  /**
   * Optional: the whole batch at once (same effect as `onRecord` for every row whose `skip` is 0;
   * lets the detector run its own monomorphic loop).
   */
  onBatch?(b: DetectBatch): void;
  /** Optional: one DNS event (DNS detectors). */
  onDns?(r: DnsRow): void;
  /** Event time up to which input is complete: windows ending at or before `t` may close. */
  onWatermark(t: number): void;
  /** End of input: close every open window and emit what it holds. */
  flush(): void;
  stats(): DetectorStats;
}
