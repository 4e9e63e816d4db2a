/**
 * `ddos` detector (REQUIREMENTS R-DET-3): per destination, sliding-window rates (packets, bits,
 * flows, SYN-only packets, large UDP datagrams, reflected packets) and distinct sources
 * (HyperLogLog) against cold-start floors and a learned EWMA baseline; reflection typed by the
 * amplifier's source port and packet size. Count-min admission keeps exact state for busy
 * destinations only. Algorithm, parameters and the latency bound: README.md.
 */
import type { Evidence } from '../../common/schema/evidence.ts';
import type { DdosConfig } from '../config.ts';
import { CHANNEL_AGREEMENT, SKIP, type DetectBatch } from '../engine/batch.ts';
import { hashWords } from '../engine/hash.ts';
import { formatHostKey, hostKey, HOST_KEY_WORDS } from '../engine/keys.ts';
import { CountMinSketch, HllPool } from '../engine/sketch.ts';
import { RecordSamples, TouchedSlots } from '../engine/slots.ts';
import { KeyedTable } from '../engine/table.ts';
import type { Detector, DetectorStats, EvidenceSink } from '../engine/types.ts';
import { WindowTimer } from '../engine/windows.ts';
import { reflectionMinSize, REFLECTION_PORTS } from './vectors.ts';

/** Version of the algorithm and defaults. */
export const DDOS_VERSION = '1.0.0';

const TCP = 6;
const UDP = 17;
const SYN = 2;
const ACK = 16;

/** Counters per bucket: packets, bytes, flows, SYN-only packets, large UDP packets, reflected. */
const M = 6;
const PK = 0;
const BY = 1;
const FL = 2;
const SY = 3;
const UL = 4;
const RF = 5;
/** Ring cells beyond the window, for records that run ahead of the watermark. */
const LOOKAHEAD_BUCKETS = 8;
/** Admission weight of ordinary packets (see `admissionWeight`). */
const ORDINARY_WEIGHT = 0.01;
/**
 * Rows per chunk of `onBatch`'s passes: the middle pass only loads the index cells and sketch
 * counters the last pass needs, in short independent iterations, so the CPU overlaps the cache
 * misses of many rows instead of taking them one after the other.
 */
const CHUNK = 256;
/**
 * While a destination's typed counters in the current bucket are over a floor and no alarm is
 * raised, it is judged again every this many of its records (the distinct sources grow as the
 * records arrive), without waiting for the watermark.
 */
const EARLY_EVERY = 16;

/** Creates the DDoS detector. */
export function createDdosDetector(config: DdosConfig, emit: EvidenceSink): Detector {
  return new DdosDetector(config, emit);
}

class DdosDetector implements Detector {
  readonly name = 'ddos' as const;
  readonly version = DDOS_VERSION;
  readonly key = 'destination' as const;

  private readonly table: KeyedTable;
  private readonly cms: CountMinSketch;
  private cmsBucket = -Infinity;
  private readonly hll: HllPool;
  private readonly touched: TouchedSlots;
  private readonly samples: RecordSamples;
  private readonly timer: WindowTimer;
  private readonly key5 = new Uint32Array(HOST_KEY_WORDS);
  private readonly B: number;
  /** Ring cells per destination: the window plus room for records ahead of the watermark. */
  private readonly R: number;
  private readonly perEntry: number;
  private readonly fixedBytes: number;
  private readonly admitPerBucket: number;

  private readonly ring: Float32Array;
  private readonly stamp: Float64Array;
  private readonly hllStamp: Float64Array;
  private readonly firstBucket: Float64Array;
  private readonly lastBucket: Float64Array;
  private readonly base: Float64Array; // mean and deviation of pps, bps, fps
  private readonly warm: Uint32Array;
  private readonly alarmSince: Float64Array;
  private readonly lastEmit: Float64Array;
  private readonly lastAlarmBucket: Float64Array;
  private readonly reflPort: Uint16Array;
  private readonly reflPortCount: Int32Array;
  private readonly channel: Uint8Array;
  private readonly done: Float64Array;
  /** Bucket whose typed counters crossed a floor (early judgement, see `EARLY_EVERY`), and records since. */
  private readonly earlyBucket: Float64Array;
  private readonly earlyCount: Uint32Array;
  /** Packets of one bucket that alone exceed each typed floor over a whole window. */
  private readonly earlyReflected: number;
  private readonly earlySyn: number;
  private readonly earlyUdp: number;

  private readonly sums = new Float64Array(M);
  /** Per chunk row: the destination key's hash (see `CHUNK`). */
  private readonly chunkHash = new Uint32Array(CHUNK);
  /** Sink of prefetch loads (kept so that they are not optimised away). */
  private prefetched = 0;
  private records = 0;
  private evidence = 0;

  constructor(
    private readonly cfg: DdosConfig,
    private readonly emit: EvidenceSink,
  ) {
    this.B = cfg.windowBuckets;
    this.R = cfg.windowBuckets + LOOKAHEAD_BUCKETS;
    const windowSeconds = (cfg.windowBuckets * cfg.bucketMs) / 1000;
    this.earlyReflected = cfg.reflectionFloorPps * windowSeconds;
    this.earlySyn = cfg.synFloorPps * windowSeconds;
    this.earlyUdp = cfg.udpFloorPps * windowSeconds;
    // The admission sketch takes at most a quarter of the budget.
    const maxWidth = Math.floor(cfg.stateBudgetBytes / 4 / 4 / cfg.cmsDepth / 2);
    this.cms = new CountMinSketch(Math.min(cfg.cmsWidth, Math.max(16, maxWidth)), cfg.cmsDepth);
    this.admitPerBucket = (cfg.admitPacketsPerSecond * cfg.bucketMs) / 1000;
    const hllBytes = 2 << cfg.hllPrecision;
    this.perEntry =
      HOST_KEY_WORDS * 4 +
      28 +
      this.R * (M * 4 + 8) +
      2 * 8 +
      hllBytes +
      8 * 3 +
      6 * 8 +
      4 +
      8 * 3 +
      2 +
      4 +
      1 +
      8 +
      8 +
      12 +
      8 /* earlyBucket */ +
      4; /* earlyCount */
    this.fixedBytes = this.cms.bytes;
    const capacity = Math.max(16, Math.floor((cfg.stateBudgetBytes - this.fixedBytes) / this.perEntry));
    this.table = new KeyedTable(capacity, HOST_KEY_WORDS);
    const c = this.table.capacity;
    this.hll = new HllPool(c * 2, cfg.hllPrecision);
    this.ring = new Float32Array(c * this.R * M);
    this.stamp = new Float64Array(c * this.R).fill(-1);
    this.hllStamp = new Float64Array(c * 2).fill(-1);
    this.firstBucket = new Float64Array(c);
    this.lastBucket = new Float64Array(c);
    this.base = new Float64Array(c * 6);
    this.warm = new Uint32Array(c);
    this.alarmSince = new Float64Array(c);
    this.lastEmit = new Float64Array(c);
    this.lastAlarmBucket = new Float64Array(c);
    this.reflPort = new Uint16Array(c);
    this.reflPortCount = new Int32Array(c);
    this.channel = new Uint8Array(c);
    this.done = new Float64Array(c);
    this.earlyBucket = new Float64Array(c);
    this.earlyCount = new Uint32Array(c);
    this.touched = new TouchedSlots(c);
    this.samples = new RecordSamples(c, cfg.maxRecordIds);
    this.timer = new WindowTimer(cfg.bucketMs);
  }

  onBatch(b: DetectBatch): void {
    const n = b.length;
    const hs = this.chunkHash;
    let sink = 0;
    for (let c0 = 0; c0 < n; c0 += CHUNK) {
      const c1 = Math.min(n, c0 + CHUNK);
      for (let i = c0; i < c1; i++) if (b.skip[i] === SKIP.none) hs[i - c0] = this.keyHash(b, i);
      for (let i = c0; i < c1; i++) {
        if (b.skip[i] !== SKIP.none) continue;
        const h = hs[i - c0]!;
        sink ^= this.table.candidate(h) ^ this.cms.peek(h);
      }
      for (let i = c0; i < c1; i++) {
        if (b.skip[i] !== SKIP.none) continue;
        this.records++;
        this.process(b, i, this.keyHash(b, i));
      }
    }
    this.prefetched ^= sink;
  }

  onRecord(b: DetectBatch, i: number): void {
    this.records++;
    this.process(b, i, this.keyHash(b, i));
  }

  /** Writes row `i`'s destination key to `key5`; its hash. */
  private keyHash(b: DetectBatch, i: number): number {
    hostKey(b.dst, i * 4, b.ipVersion[i]!, this.cfg.groupIpv6By64, this.key5);
    return hashWords(this.key5, 0, HOST_KEY_WORDS);
  }

  /** Counts row `i` for its destination (key in `key5`, hash `h`). */
  private process(b: DetectBatch, i: number, h: number): void {
    const cfg = this.cfg;
    const t = b.time[i]!;
    const bucket = Math.floor(t / cfg.bucketMs);
    const dur = b.end[i]! - b.start[i]!;
    // Rate credit: a record covering more than the window (a long flow's active-timeout export)
    // adds only the window's share of its packets to the volume counters, assuming the flow was
    // steady (right when exports cluster, as at an onset; one big download cannot spike them).
    // The typed counters (reflected, large UDP) take the whole record: their floors also need
    // many sources, and with exports spread over the active timeout — reflectors and bots start
    // at different times — only window/timeout of the flows report in any window, so the share
    // would undercount a steady attack by that factor (20× at 60 s) and hide it.
    const windowMs = cfg.bucketMs * this.B;
    const credit = dur > windowMs ? windowMs / dur : 1;
    const packets = b.packets[i]! * credit;
    const typedPackets = b.packets[i]!;
    const key = this.key5;
    let s = this.table.find(key, h);
    if (s < 0) {
      // Admission: destinations get exact state once the count-min sketch says they are busy.
      if (bucket > this.cmsBucket) {
        this.cms.clear();
        this.cmsBucket = bucket;
      }
      if (this.cms.add(h, packets * this.admissionWeight(b, i, packets)) < this.admitPerBucket) return;
      s = this.table.acquire(key, t, h);
      this.resetSlot(s, bucket);
    } else this.table.touch(s, t);
    this.timer.start(t);

    const R = this.R;
    const cell = s * R + (((bucket % R) + R) % R);
    if (this.stamp[cell] !== bucket) {
      const old = this.stamp[cell]!;
      if (bucket < old) return; // older than the ring: beyond any window still open
      // The cell still holds a bucket not yet judged (input far ahead of the watermark): judge
      // this destination now, on the window ending with its newest data before this record,
      // instead of losing those buckets.
      if (old >= 0 && old > this.done[s]!) this.evaluate(s, Math.min(bucket - 1, this.lastBucket[s]!));
      this.stamp[cell] = bucket;
      this.ring.fill(0, cell * M, cell * M + M);
    }
    if (bucket > this.lastBucket[s]!) this.lastBucket[s] = bucket;
    this.touched.add(s);
    const r = cell * M;
    const octets = b.octets[i]! * credit;
    this.ring[r + PK]! += packets;
    this.ring[r + BY]! += octets;
    this.ring[r + FL]! += 1;
    const proto = b.proto[i]!;
    if (proto === TCP) {
      if ((b.tcpFlags[i]! & (SYN | ACK)) === SYN) this.ring[r + SY]! += packets;
    } else if (proto === UDP && packets > 0) {
      const size = octets / packets;
      const sport = b.srcPort[i]!;
      const min = reflectionMinSize(sport);
      if (min !== 0) {
        if (size >= min) {
          this.ring[r + RF]! += typedPackets;
          if (this.reflPort[s] === sport) this.reflPortCount[s]!++;
          else if (--this.reflPortCount[s]! <= 0) {
            this.reflPort[s] = sport;
            this.reflPortCount[s] = 1;
          }
        }
      } else if (size >= cfg.udpMinPacketBytes) this.ring[r + UL]! += typedPackets;
    }
    // Distinct sources: two HLLs per destination, one per window epoch, read as their union.
    const epoch = Math.floor(bucket / this.B);
    const hs = s * 2 + (epoch & 1);
    if (this.hllStamp[hs] !== epoch) {
      this.hllStamp[hs] = epoch;
      this.hll.clear(hs);
    }
    this.hll.add(hs, hashWords(b.src, i * 4, 4));
    const ch = b.channel[i]!;
    if (ch !== 0) this.channel[s] = ch;
    if (this.alarmSince[s]! > 0) {
      if (this.samples.wants(s)) this.samples.add(s, b.recordId(i));
    } else if (
      this.ring[r + RF]! >= this.earlyReflected ||
      this.ring[r + SY]! >= this.earlySyn ||
      this.ring[r + UL]! >= this.earlyUdp
    )
      this.judgeEarly(s, bucket);
  }

  /**
   * Latency (REQUIREMENTS R-DET-3: an alarm within seconds of the attack's first records): this
   * bucket alone is over a typed floor, so the destination is judged now on the buckets up to it,
   * without waiting for the watermark (which trails the slowest exporter and the allowed
   * lateness). Repeated every `EARLY_EVERY` records of the destination while the alarm is not
   * raised, since its distinct sources keep growing; a judgement that finds no attack changes
   * nothing (no baseline learning from a bucket still filling).
   */
  private judgeEarly(s: number, bucket: number): void {
    if (this.earlyBucket[s] !== bucket) {
      this.earlyBucket[s] = bucket;
      this.earlyCount[s] = 0;
    }
    if (this.earlyCount[s]!++ % EARLY_EVERY !== 0) return;
    this.evaluate(s, bucket, true);
  }

  /**
   * Weight of a record's packets in the admission sketch: attack-shaped packets (SYN-only, large
   * UDP, amplified answers) count fully, ordinary traffic 1/100, so a destination needs 50
   * attack-shaped or 5,000 ordinary packets/s (defaults) before it gets exact state; every floor
   * is far above either.
   */
  private admissionWeight(b: DetectBatch, i: number, packets: number): number {
    const proto = b.proto[i]!;
    if (proto === TCP) return (b.tcpFlags[i]! & (SYN | ACK)) === SYN ? 1 : ORDINARY_WEIGHT;
    if (proto !== UDP || packets <= 0) return ORDINARY_WEIGHT;
    const size = b.octets[i]! / b.packets[i]!;
    const min = reflectionMinSize(b.srcPort[i]!);
    return (min !== 0 ? size >= min : size >= this.cfg.udpMinPacketBytes) ? 1 : ORDINARY_WEIGHT;
  }

  /** True when `x` is above the learned baseline (always while the baseline is cold). */
  private above(warm: boolean, x: number, mean: number, dev: number): boolean {
    const cfg = this.cfg;
    return !warm || (x > mean + cfg.baselineDeviations * dev && x > cfg.baselineRatio * mean);
  }

  /** EWMA update of a mean (at `o`) and its mean absolute deviation (at `o + 1`). */
  private learn(o: number, x: number, first: boolean): void {
    const a = this.cfg.baselineAlpha;
    const mean = this.base[o]!;
    this.base[o] = first ? x : mean + a * (x - mean);
    this.base[o + 1] = this.base[o + 1]! + a * (Math.abs(x - mean) - this.base[o + 1]!);
  }

  private resetSlot(s: number, bucket: number): void {
    const R = this.R;
    this.stamp.fill(-1, s * R, s * R + R);
    this.hllStamp[s * 2] = this.hllStamp[s * 2 + 1] = -1;
    this.firstBucket[s] = bucket;
    this.lastBucket[s] = bucket;
    this.base.fill(0, s * 6, s * 6 + 6);
    this.warm[s] = 0;
    this.alarmSince[s] = 0;
    this.lastEmit[s] = 0;
    this.lastAlarmBucket[s] = 0;
    this.reflPort[s] = 0;
    this.reflPortCount[s] = 0;
    this.channel[s] = 0;
    this.done[s] = -Infinity;
    this.earlyBucket[s] = -1;
    this.earlyCount[s] = 0;
    this.samples.clear(s);
  }

  /**
   * Evaluates the window ending with bucket `k` for one destination. `early`: bucket `k` is still
   * filling (see `judgeEarly`): only an alarm counts; otherwise nothing is marked or learned.
   */
  private evaluate(s: number, k: number, early = false): void {
    if (this.done[s]! >= k) return;
    if (!early) this.done[s] = k;
    const cfg = this.cfg;
    const B = this.B;
    const sums = this.sums.fill(0);
    const R = this.R;
    for (let j = 0; j < R; j++) {
      const cell = s * R + j;
      const st = this.stamp[cell]!;
      if (st > k - B && st <= k) for (let m = 0; m < M; m++) sums[m]! += this.ring[cell * M + m]!;
    }
    const span = Math.max(1, Math.min(B, k - this.firstBucket[s]! + 1));
    const sec = (span * cfg.bucketMs) / 1000;
    const pps = sums[PK]! / sec;
    const bps = (sums[BY]! * 8) / sec;
    const fps = sums[FL]! / sec;
    const synPps = sums[SY]! / sec;
    const udpPps = sums[UL]! / sec;
    const reflPps = sums[RF]! / sec;
    // Distinct sources cost a register scan: only computed when a typed floor is crossed.
    const typed = reflPps >= cfg.reflectionFloorPps || synPps >= cfg.synFloorPps || udpPps >= cfg.udpFloorPps;
    const sources = typed ? this.sourcesOf(s, k) : 0;
    const bo = s * 6;
    const warm = this.warm[s]! >= cfg.warmupBuckets;
    const ppsAbove = this.above(warm, pps, this.base[bo]!, this.base[bo + 1]!);
    let type = '';
    let floor = 1;
    let rate = 0;
    if (ppsAbove && reflPps >= cfg.reflectionFloorPps && sources >= cfg.minSources / 2) {
      type = 'reflection';
      floor = cfg.reflectionFloorPps;
      rate = reflPps;
    } else if (ppsAbove && synPps >= cfg.synFloorPps && sources >= cfg.minSources) {
      type = 'syn-flood';
      floor = cfg.synFloorPps;
      rate = synPps;
    } else if (ppsAbove && udpPps >= cfg.udpFloorPps && sources >= cfg.minSources) {
      type = 'udp-flood';
      floor = cfg.udpFloorPps;
      rate = udpPps;
    } else if (ppsAbove && pps >= cfg.volumeFloorPps) {
      type = 'volumetric';
      floor = cfg.volumeFloorPps;
      rate = pps;
    } else if (bps >= cfg.volumeFloorBps && this.above(warm, bps, this.base[bo + 2]!, this.base[bo + 3]!)) {
      type = 'volumetric';
      floor = cfg.volumeFloorBps;
      rate = bps;
    } else if (
      fps >= cfg.flowFloorPerSecond &&
      this.above(warm, fps, this.base[bo + 4]!, this.base[bo + 5]!)
    ) {
      type = 'flow-flood';
      floor = cfg.flowFloorPerSecond;
      rate = fps;
    }
    const bucketStart = k * cfg.bucketMs;
    if (type === '' && early) return;
    if (early) this.done[s] = k;
    if (type === '') {
      // Learn only from quiet buckets, so an attack does not become the baseline.
      if (this.alarmSince[s]! === 0 || k - this.lastAlarmBucket[s]! > B) {
        this.alarmSince[s] = 0;
        const first = this.warm[s] === 0;
        this.learn(bo, pps, first);
        this.learn(bo + 2, bps, first);
        this.learn(bo + 4, fps, first);
        this.warm[s]!++;
      }
      return;
    }
    this.lastAlarmBucket[s] = k;
    const onset = this.alarmSince[s]! === 0;
    if (onset) this.alarmSince[s] = bucketStart - (span - 1) * cfg.bucketMs;
    const end = bucketStart + cfg.bucketMs;
    if (!onset && end - this.lastEmit[s]! < cfg.reemitMs) return;
    this.lastEmit[s] = end;
    const facts: Record<string, number | string> = {
      type,
      packetsPerSecond: Math.round(pps),
      bitsPerSecond: Math.round(bps),
      flowsPerSecond: Math.round(fps),
      synPacketsPerSecond: Math.round(synPps),
      udpLargePacketsPerSecond: Math.round(udpPps),
      reflectedPacketsPerSecond: Math.round(reflPps),
      distinctSources: Math.round(sources),
      baselinePacketsPerSecond: Math.round(this.base[bo]!),
      baselineWarm: warm ? 1 : 0,
      attackStart: this.alarmSince[s]!,
      windowMs: span * cfg.bucketMs,
    };
    if (type === 'reflection' && this.reflPortCount[s]! > 0) {
      facts.sourcePort = this.reflPort[s]!;
      facts.vector = REFLECTION_PORTS.get(this.reflPort[s]!)?.vector ?? 'unknown';
    }
    const e: Evidence = {
      detector: 'ddos',
      version: DDOS_VERSION,
      subject: formatHostKey(this.table.keys.subarray(s * HOST_KEY_WORDS, (s + 1) * HOST_KEY_WORDS)),
      window: { start: this.alarmSince[s]!, end },
      confidence: Math.round(Math.min(0.99, 0.6 + 0.4 * Math.min(1, rate / floor - 1)) * 1000) / 1000,
      severity: this.channel[s] === CHANNEL_AGREEMENT ? 'critical' : 'high',
      facts,
      recordIds: this.samples.take(s),
    };
    this.evidence++;
    this.emit(e);
  }

  /** Distinct sources of the current and previous HLL epochs of a destination. */
  private sourcesOf(s: number, k: number): number {
    const epoch = Math.floor(k / this.B);
    const cur = s * 2 + (epoch & 1);
    const prev = s * 2 + ((epoch + 1) & 1);
    return this.hllStamp[prev] === epoch - 1 && this.hllStamp[cur] === epoch
      ? this.hll.countUnion(cur, prev)
      : this.hllStamp[cur] === epoch
        ? this.hll.count(cur)
        : this.hllStamp[prev] === epoch - 1
          ? this.hll.count(prev)
          : 0;
  }

  private closeBucket(k: number): void {
    // Every destination touched in an open bucket is evaluated at each close, using only the
    // buckets up to k: a destination that keeps receiving traffic ahead of the watermark (an
    // ongoing attack) must not wait until it goes quiet.
    this.touched.sweep((s) => {
      this.evaluate(s, Math.min(k, this.lastBucket[s]!));
      return this.lastBucket[s]! <= k;
    });
  }

  onWatermark(t: number): void {
    this.timer.closeDue(t, (k) => this.closeBucket(k));
    this.table.expire(t - this.cfg.keyTtlMs);
  }

  flush(): void {
    this.closeBucket(Infinity);
  }

  stats(): DetectorStats {
    return {
      records: this.records,
      evidence: this.evidence,
      keys: this.table.size,
      bytesUsed: this.table.size * this.perEntry + this.fixedBytes,
      bytesReserved: this.table.capacity * this.perEntry + this.fixedBytes,
      budgetBytes: this.cfg.stateBudgetBytes,
      evictions: this.table.evictions,
      expired: this.table.expired,
    };
  }
}
