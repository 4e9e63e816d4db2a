/**
 * `long-connection` detector (REQUIREMENTS R-DET-7): one connection (same 5-tuple, both
 * directions) whose accumulated duration — first start to last end across the exporter's
 * active-timeout re-exports — exceeds a threshold, with a low, steady byte rate on a port that is
 * not a known tunnel service. Algorithm and parameters: README.md.
 */
import type { Evidence } from '../../common/schema/evidence.ts';
import type { LongConnectionConfig } from '../config.ts';
import { CHANNEL_AGREEMENT, SKIP, type DetectBatch } from '../engine/batch.ts';
import { hashWords } from '../engine/hash.ts';
import { formatAddressAt } from '../engine/keys.ts';
import { sourceIsInternal } from '../engine/side.ts';
import { RecordSamples } from '../engine/slots.ts';
import { KeyedTable } from '../engine/table.ts';
import type { Detector, DetectorStats, EvidenceSink } from '../engine/types.ts';

/** Version of the algorithm and defaults. */
export const LONG_CONNECTION_VERSION = '1.0.0';

/** Key: version, internal address (4), external address (4), internal port, external port, proto. */
const KEY_WORDS = 12;
const COLUMN_BYTES = 8 * 6 + 4 + 1 + 1 + 8;

/** Creates the long-connection detector. */
export function createLongConnectionDetector(config: LongConnectionConfig, emit: EvidenceSink): Detector {
  return new LongConnectionDetector(config, emit);
}

class LongConnectionDetector implements Detector {
  readonly name = 'long-connection' as const;
  readonly version = LONG_CONNECTION_VERSION;
  readonly key = 'pair' as const;

  private readonly benign = new Uint8Array(65536);
  private readonly table: KeyedTable;
  private readonly samples: RecordSamples;
  private readonly key12 = new Uint32Array(KEY_WORDS);
  private readonly perEntry: number;

  private readonly first: Float64Array;
  private readonly last: Float64Array;
  private readonly bytesOut: Float64Array;
  private readonly bytesIn: Float64Array;
  /** Welford mean and M2 of per-record byte rates (steadiness). */
  private readonly rateMean: Float64Array;
  private readonly rateM2: Float64Array;
  private readonly recs: Uint32Array;
  private readonly channel: Uint8Array;
  private readonly done: Uint8Array;

  private records = 0;
  private evidence = 0;

  constructor(
    private readonly cfg: LongConnectionConfig,
    private readonly emit: EvidenceSink,
  ) {
    for (const p of cfg.tunnelPorts) this.benign[p] = 1;
    this.perEntry = KEY_WORDS * 4 + 28 + COLUMN_BYTES;
    this.table = new KeyedTable(Math.max(16, Math.floor(cfg.stateBudgetBytes / this.perEntry)), KEY_WORDS);
    const c = this.table.capacity;
    this.first = new Float64Array(c);
    this.last = new Float64Array(c);
    this.bytesOut = new Float64Array(c);
    this.bytesIn = new Float64Array(c);
    this.rateMean = new Float64Array(c);
    this.rateM2 = new Float64Array(c);
    this.recs = new Uint32Array(c);
    this.channel = new Uint8Array(c);
    this.done = new Uint8Array(c);
    this.samples = new RecordSamples(c, cfg.maxRecordIds);
  }

  onBatch(b: DetectBatch): void {
    const n = b.length;
    const min = this.cfg.minRecordDurationMs;
    for (let i = 0; i < n; i++)
      if (b.skip[i] === SKIP.none && b.end[i]! - b.start[i]! >= min && b.start[i]! > 0) this.onRecord(b, i);
  }

  onRecord(b: DetectBatch, i: number): void {
    this.records++;
    const st = b.start[i]!;
    const en = b.end[i]!;
    // Only records that are themselves long take state: segments of long flows, not sessions.
    if (!(st > 0) || en - st < this.cfg.minRecordDurationMs) return;
    const proto = b.proto[i]!;
    const out = sourceIsInternal(b, i);
    const off = i * 4;
    const key = this.key12;
    const inside = out ? b.src : b.dst;
    const outside = out ? b.dst : b.src;
    key[0] = b.ipVersion[i]!;
    key[1] = inside[off]!;
    key[2] = inside[off + 1]!;
    key[3] = inside[off + 2]!;
    key[4] = inside[off + 3]!;
    key[5] = outside[off]!;
    key[6] = outside[off + 1]!;
    key[7] = outside[off + 2]!;
    key[8] = outside[off + 3]!;
    key[9] = out ? b.srcPort[i]! : b.dstPort[i]!;
    key[10] = out ? b.dstPort[i]! : b.srcPort[i]!;
    key[11] = proto;
    const h = hashWords(key, 0, KEY_WORDS);
    const s = this.table.acquire(key, en, h);
    if (this.table.created) {
      this.first[s] = st;
      this.last[s] = en;
      this.bytesOut[s] = 0;
      this.bytesIn[s] = 0;
      this.rateMean[s] = 0;
      this.rateM2[s] = 0;
      this.recs[s] = 0;
      this.channel[s] = 0;
      this.done[s] = 0;
      this.samples.clear(s);
    }
    if (st < this.first[s]!) this.first[s] = st;
    if (en > this.last[s]!) this.last[s] = en;
    const bytes = b.octets[i]!;
    if (out) this.bytesOut[s]! += bytes;
    else this.bytesIn[s]! += bytes;
    // Steadiness from the internal side's records (one per active timeout).
    if (out) {
      const rate = bytes / Math.max(1, (en - st) / 1000);
      const k = ++this.recs[s]!;
      const d = rate - this.rateMean[s]!;
      this.rateMean[s]! += d / k;
      this.rateM2[s]! += d * (rate - this.rateMean[s]!);
    }
    const ch = b.channel[i]!;
    if (ch !== 0) this.channel[s] = ch;
    if (this.samples.wants(s)) this.samples.add(s, b.recordId(i));
    if (this.done[s] === 0 && this.last[s]! - this.first[s]! >= this.cfg.minDurationMs) this.judge(s);
  }

  private judge(s: number): void {
    this.done[s] = 1;
    const cfg = this.cfg;
    const key = this.table.keys;
    const ko = s * KEY_WORDS;
    const duration = this.last[s]! - this.first[s]!;
    const rate = (this.bytesOut[s]! + this.bytesIn[s]!) / (duration / 1000);
    const k = this.recs[s]!;
    const mean = this.rateMean[s]!;
    const cv = k > 1 && mean > 0 ? Math.sqrt(this.rateM2[s]! / (k - 1)) / mean : 0;
    const port = key[ko + 10]!;
    const tunnel = this.benign[port] === 1;
    const bulk = rate > cfg.maxBytesPerSecond;
    const unsteady = cv > cfg.maxRateCv;
    const suspicious = !tunnel && !bulk && !unsteady;
    if (!suspicious && !cfg.reportBenign) return;
    const v = key[ko]!;
    const e: Evidence = {
      detector: 'long-connection',
      version: LONG_CONNECTION_VERSION,
      subject: formatAddressAt(key, ko + 1, v),
      counterpart: formatAddressAt(key, ko + 5, v),
      window: { start: this.first[s]!, end: this.last[s]! + 1 },
      confidence: suspicious
        ? Math.round(Math.min(0.95, 0.6 + (0.1 * duration) / cfg.minDurationMs) * 1000) / 1000
        : 0.3,
      severity: !suspicious
        ? 'low'
        : this.channel[s] === CHANNEL_AGREEMENT || duration >= cfg.highDurationMs
          ? 'high'
          : 'medium',
      facts: {
        durationMs: Math.round(duration),
        port,
        internalPort: key[ko + 9]!,
        protocol: key[ko + 11]!,
        bytesOut: Math.round(this.bytesOut[s]!),
        bytesIn: Math.round(this.bytesIn[s]!),
        bytesPerSecond: Math.round(rate * 10) / 10,
        rateCv: Math.round(cv * 1000) / 1000,
        exports: k,
        reason: tunnel ? 'tunnel-port' : bulk ? 'bulk-rate' : unsteady ? 'unsteady-rate' : 'low-steady-rate',
      },
      recordIds: this.samples.take(s),
    };
    this.evidence++;
    this.emit(e);
  }

  onWatermark(t: number): void {
    this.table.expire(t - this.cfg.keyTtlMs);
  }

  /** Evidence is emitted when a connection crosses the threshold; nothing stays open. */
  flush(): void {}

  stats(): DetectorStats {
    return {
      records: this.records,
      evidence: this.evidence,
      keys: this.table.size,
      bytesUsed: this.table.size * this.perEntry,
      bytesReserved: this.table.capacity * this.perEntry,
      budgetBytes: this.cfg.stateBudgetBytes,
      evictions: this.table.evictions,
      expired: this.table.expired,
    };
  }
}
