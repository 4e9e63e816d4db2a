/**
 * The streaming detection engine: takes flows (decoder `FlowBatch`es, `FlowRecord`s,
 * `SelectedRecord`s) and DNS events, drops late and cross-exporter duplicate rows, feeds the
 * detectors batch by batch, and advances the event-time watermark that closes their windows.
 * Constructors do no I/O; there is nothing to start (the caller drives it by pushing input and
 * calling `advance()` periodically so idle partitions release the watermark).
 */
import type { Clock } from '../../common/clock.ts';
import type { FlowBatch } from '../../common/schema/batch.ts';
import type { DecodedRecord, DnsEvent, FlowRecord } from '../../common/schema/record.ts';
import type { SelectedRecord } from '../../common/schema/selected.ts';
import type { EngineConfig } from '../config.ts';
import { appendFlowBatch, appendFlowRecord, appendSelectedRecord, toDnsRow } from './adapt.ts';
import { DetectBatch, SKIP } from './batch.ts';
import { FlowDeduper } from './dedup.ts';
import type { Detector, DetectorStats } from './types.ts';
import { MAX_PARTITIONS, WatermarkTracker } from './watermark.ts';

/** Engine counters. */
export interface EngineStats {
  /** Flow rows and DNS events received. */
  records: number;
  /** Rows handed to detectors. */
  processed: number;
  /** Rows older than the watermark (dropped). */
  late: number;
  /** Rows already reported by another exporter (dropped). */
  duplicates: number;
  /** Rows without usable addresses (dropped). */
  invalid: number;
  /** Current watermark (epoch ms; −Infinity before input). */
  watermark: number;
  partitions: { name: string; maxEventTime: number; idle: boolean; records: number; late: number }[];
  /** Bytes of the deduplication cache. */
  dedupBytes: number;
  detectors: Record<string, DetectorStats>;
}

/** What the engine needs from outside. */
export interface DetectionEngineDeps {
  /** Processing-time clock (idle partitions). */
  clock: Clock;
}

/**
 * Largest event time accepted: the end of the ECMAScript date range (year 275760). Beyond it
 * window arithmetic loses integer precision (k + 1 === k), so such rows are invalid input.
 */
export const MAX_EVENT_TIME = 8.64e15;

/** Partition name of a selected record: provider id and exporter (the first two id parts). */
function selectedPartition(r: SelectedRecord): string {
  const a = r.recordId.indexOf('/');
  const b = a < 0 ? -1 : r.recordId.indexOf('/', a + 1);
  return b < 0 ? r.provenance.providerId : r.recordId.slice(0, b);
}

/** The detection engine. */
export class DetectionEngine {
  private readonly tracker: WatermarkTracker;
  private readonly dedup: FlowDeduper | undefined;
  private readonly pending: DetectBatch;
  private readonly partMax = new Float64Array(MAX_PARTITIONS).fill(-Infinity);
  private readonly partCount = new Uint32Array(MAX_PARTITIONS);
  private readonly touched: number[] = [];
  private partitionMap = new Uint16Array(0);
  private lastWatermark = -Infinity;
  private maxEventTime = -Infinity;
  private readonly counters = { records: 0, processed: 0, late: 0, duplicates: 0, invalid: 0 };

  constructor(
    readonly config: EngineConfig,
    readonly detectors: readonly Detector[],
    deps: DetectionEngineDeps,
  ) {
    this.tracker = new WatermarkTracker(deps.clock, config.allowedLatenessMs, config.idleTimeoutMs);
    this.dedup = config.dedup.enabled
      ? new FlowDeduper(config.dedup.entries, config.dedup.windowMs)
      : undefined;
    this.pending = this.newBatch(config.batchSize);
  }

  /** A batch wired to this engine's partition names (for record ids). */
  newBatch(capacity: number): DetectBatch {
    const b = new DetectBatch(capacity);
    b.partitionNames = (id) => this.tracker.nameOf(id);
    return b;
  }

  /** Engine partition id of an exporter/edge name. */
  partition(name: string): number {
    return this.tracker.partition(name);
  }

  /** Current watermark. */
  get watermark(): number {
    return this.tracker.value;
  }

  /** Pushes a decoder batch: its rows are copied into the pending batch and processed when full. */
  pushFlowBatch(fb: FlowBatch): void {
    if (this.partitionMap.length < fb.exporters.length)
      this.partitionMap = new Uint16Array(Math.max(16, fb.exporters.length * 2));
    for (let e = 0; e < fb.exporters.length; e++)
      this.partitionMap[e] = this.tracker.partition(fb.exporters[e]!);
    let from = 0;
    while (from < fb.length) {
      from = appendFlowBatch(this.pending, fb, from, this.partitionMap);
      if (this.pending.full) this.drain();
    }
  }

  /** Pushes one decoded record (flows and DNS events; options and counters are ignored). */
  pushRecord(r: DecodedRecord): void {
    if (r.recordType === 'flow') this.pushFlowRecord(r);
    else if (r.recordType === 'dns') this.pushDns(r);
  }

  /** Pushes one decoded flow. */
  pushFlowRecord(r: FlowRecord): void {
    const p = this.tracker.partition(r.observation.exporter);
    if (!appendFlowRecord(this.pending, r, p)) {
      this.drain();
      appendFlowRecord(this.pending, r, p);
    }
  }

  /** Pushes one selected record (flow or DNS). */
  pushSelected(r: SelectedRecord): void {
    const p = this.tracker.partition(selectedPartition(r));
    if (r.recordType === 'dns') {
      this.dnsRow(toDnsRow(r, p, r.recordId));
      return;
    }
    if (!appendSelectedRecord(this.pending, r, p)) {
      this.drain();
      appendSelectedRecord(this.pending, r, p);
    }
  }

  /** Pushes one decoded DNS event. */
  pushDns(e: DnsEvent): void {
    const p = this.tracker.partition(e.observation.exporter);
    const id = `${e.observation.exporter}/${e.observation.observationDomainId}/${e.observation.sequence}/${e.recordIndex}`;
    this.dnsRow(toDnsRow(e, p, id));
  }

  private dnsRow(row: ReturnType<typeof toDnsRow>): void {
    this.counters.records++;
    if (!(row.time > 0 && row.time <= MAX_EVENT_TIME)) {
      this.counters.invalid++;
      return;
    }
    if (row.time < this.tracker.value) {
      this.counters.late++;
      this.tracker.countLate(row.partition, 1);
      return;
    }
    this.tracker.observe(row.partition, row.time, 1);
    if (row.time > this.maxEventTime) this.maxEventTime = row.time;
    this.counters.processed++;
    for (const d of this.detectors) d.onDns?.(row);
  }

  /** Processes the pending rows (called automatically when the pending batch fills). */
  drain(): void {
    if (this.pending.length === 0) return;
    this.process(this.pending);
    this.pending.clear();
    this.advanceWatermark();
  }

  /**
   * Processes a caller-filled batch directly (the columnar fast path: no copy). Marks late,
   * duplicate and invalid rows in `b.skip`, hands the batch to every detector, then advances
   * the watermark.
   */
  processBatch(b: DetectBatch): void {
    this.drain();
    this.process(b);
    this.advanceWatermark();
  }

  private process(b: DetectBatch): void {
    const n = b.length;
    const wm = this.tracker.value;
    const dedup = this.dedup;
    const skip = b.skip;
    const time = b.time;
    const part = b.partition;
    let late = 0;
    let dup = 0;
    let invalid = 0;
    dedup?.prepare(b.src, b.dst, b.srcPort, b.dstPort, b.proto, n);
    for (let i = 0; i < n; i++) {
      if (skip[i] !== SKIP.none) {
        invalid++;
        continue;
      }
      const t = time[i]!;
      const p = part[i]!;
      if (!(t > 0 && t <= MAX_EVENT_TIME)) {
        skip[i] = SKIP.invalid;
        invalid++;
        continue;
      }
      if (t < wm) {
        skip[i] = SKIP.late;
        this.tracker.countLate(p, 1);
        late++;
        continue;
      }
      if (dedup !== undefined && dedup.checkRow(i, b.start[i]! || t, p)) {
        skip[i] = SKIP.duplicate;
        dup++;
        continue;
      }
      if (this.partCount[p] === 0) this.touched.push(p);
      this.partCount[p]!++;
      if (t > this.partMax[p]!) this.partMax[p] = t;
    }
    for (const p of this.touched) {
      this.tracker.observe(p, this.partMax[p]!, this.partCount[p]!);
      if (this.partMax[p]! > this.maxEventTime) this.maxEventTime = this.partMax[p]!;
      this.partMax[p] = -Infinity;
      this.partCount[p] = 0;
    }
    this.touched.length = 0;
    this.counters.records += n;
    this.counters.late += late;
    this.counters.duplicates += dup;
    this.counters.invalid += invalid;
    this.counters.processed += n - late - dup - invalid;
    for (const d of this.detectors) {
      if (d.onBatch) d.onBatch(b);
      else for (let i = 0; i < n; i++) if (skip[i] === SKIP.none) d.onRecord(b, i);
    }
  }

  private advanceWatermark(): void {
    const wm = this.tracker.advance();
    if (wm > this.lastWatermark) {
      this.lastWatermark = wm;
      for (const d of this.detectors) d.onWatermark(wm);
    }
  }

  /**
   * Processes pending rows and recomputes the watermark: call it periodically (e.g. every
   * second of wall time) so that partitions that went idle stop holding windows open.
   */
  advance(): void {
    this.drain();
    this.advanceWatermark();
  }

  /** End of input: processes everything, moves the watermark past the newest event, flushes. */
  flush(): void {
    this.drain();
    if (this.maxEventTime > -Infinity) {
      this.tracker.forceTo(this.maxEventTime + 1);
      this.advanceWatermark();
    }
    for (const d of this.detectors) d.flush();
  }

  /** Counters, watermark, partitions and per-detector state figures. */
  stats(): EngineStats {
    const detectors: Record<string, DetectorStats> = {};
    for (const d of this.detectors) detectors[d.name] = d.stats();
    return {
      ...this.counters,
      watermark: this.tracker.value,
      partitions: this.tracker.snapshot(),
      dedupBytes: this.dedup?.bytes ?? 0,
      detectors,
    };
  }
}
