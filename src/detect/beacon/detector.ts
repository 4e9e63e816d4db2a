/**
 * `beacon` detector (REQUIREMENTS R-DET-2): an internal host that contacts the same counterpart
 * (address and service, or DNS domain) at regular intervals with requests of nearly constant
 * size — command-and-control check-ins. Per pair, a ring of the last connection start times and
 * sizes is scored for interval regularity (quartile skew, median absolute deviation), size
 * regularity, interval histogram concentration and persistence across hours, combined into a
 * 0..1 score (after RITA). Algorithm and parameters: README.md.
 */
import { getDomain } from 'tldts';
import { parseIpv4, parseIpv6Into } from '../../common/prefixes/address.ts';
import type { Evidence } from '../../common/schema/evidence.ts';
import type { BeaconConfig } from '../config.ts';
import type { DnsRow } from '../engine/adapt.ts';
import { CHANNEL_AGREEMENT, SKIP, type DetectBatch } from '../engine/batch.ts';
import { hashWords, mix32 } from '../engine/hash.ts';
import { formatHostKey, hostKey, HOST_KEY_WORDS } from '../engine/keys.ts';
import { sourceIsInternal } from '../engine/side.ts';
import { RecordSamples } from '../engine/slots.ts';
import { KeyedTable } from '../engine/table.ts';
import type { Detector, DetectorStats, EvidenceSink } from '../engine/types.ts';

/** Version of the algorithm and defaults. */
export const BEACON_VERSION = '1.0.0';

const TCP = 6;
const UDP = 17;
const SYN = 2;
const ACK = 16;
/** Key words: internal host (5), counterpart host or domain hash (5), service word (1). */
const KEY_WORDS = HOST_KEY_WORDS * 2 + 1;
/** Service word of DNS-query pairs (no flow has port 53 with protocol 255). */
const DNS_SERVICE = (53 << 8) | 0xff;
/**
 * Per-slot scalars, interleaved in one Float64Array so that a slot's are one 64-byte line (one
 * cache miss instead of seven separate column arrays): start of the last connection counted,
 * first persistence bucket of the `hours` bitmap, report window last emitted in (−1: none), ring
 * head, connections counted, active-bucket bitmap, legal channel code.
 */
const M_LAST_START = 0;
const M_FIRST_HOUR = 1;
const M_EMITTED = 2;
const M_HEAD = 3;
const M_COUNT = 4;
const M_HOURS = 5;
const M_CHANNEL = 6;
const M_STRIDE = 8;
/** Per-slot bytes besides the ring: the interleaved scalars and the domain reference. */
const COLUMN_BYTES = M_STRIDE * 8 + 8;
/**
 * Rows per chunk of `onBatch`'s passes: the first two only load the cache lines the third will
 * need (index cells, admission sets, slot lines) for the whole chunk, so the misses of
 * independent rows overlap; the lines stay cached until the third pass uses them.
 */
const CHUNK = 256;

/**
 * Bounded admission counter: 4-way set-associative (fingerprint, count, last second). A pair
 * gets a ring only once it was seen `admitConnections` times, so one-off pairs (most traffic)
 * never take ring state. The way replaced is the one with the lowest live count (idle entries
 * count as empty), so a recurring pair survives a churn of one-off pairs.
 */
class AdmissionCache {
  /**
   * Per way four words — fingerprint 1, fingerprint 2, count, last second — and four ways per
   * set, interleaved so one set is one 64-byte run (one cache line, one miss per lookup).
   */
  private readonly ways: Uint32Array;
  private readonly mask: number;

  constructor(
    entries: number,
    private readonly idleSeconds: number,
  ) {
    let sets = 16;
    while (sets * 2 * 4 <= entries) sets *= 2;
    this.mask = sets - 1;
    this.ways = new Uint32Array(sets * 16);
  }

  /** Bytes per entry. */
  static readonly ENTRY_BYTES = 16;

  get bytes(): number {
    return this.ways.byteLength;
  }

  /** Prefetch helper: loads the set of hash `h1`; returns a value to discard. */
  peek(h1: number): number {
    // Both ends: the array's data need not start on a cache line, so a set may straddle two.
    const base = (h1 & this.mask) * 16;
    return this.ways[base]! ^ this.ways[base + 15]!;
  }

  /** Counts one more connection of the pair (two hashes) at `sec`; returns its count. */
  hit(h1: number, h2: number, sec: number): number {
    const x = (h1 | 1) >>> 0;
    const y = (mix32(h2) | 1) >>> 0;
    const w = this.ways;
    const base = (h1 & this.mask) * 16;
    let victim = base;
    let victimCount = Infinity;
    let victimLast = Infinity;
    for (let j = base; j < base + 16; j += 4) {
      const last = w[j + 3]!;
      const idle = w[j] === 0 || sec - last > this.idleSeconds;
      if (w[j] === x && w[j + 1] === y) {
        const c = idle ? 1 : Math.min(0xffff, w[j + 2]! + 1);
        w[j + 2] = c;
        if (sec > last) w[j + 3] = sec;
        return c;
      }
      const c = idle ? 0 : w[j + 2]!;
      if (c < victimCount || (c === victimCount && last < victimLast)) {
        victim = j;
        victimCount = c;
        victimLast = last;
      }
    }
    w[victim] = x;
    w[victim + 1] = y;
    w[victim + 2] = 1;
    w[victim + 3] = sec;
    return 1;
  }
}

/** Sorts `a[0..n)` ascending in place (insertion sort: n ≤ 256, no allocation). */
function sortPrefix(a: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= 0 && a[j]! > v) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
}

/** Quantile `q` of sorted `a[0..n)` (linear interpolation). */
function quantile(a: Float64Array, n: number, q: number): number {
  const p = q * (n - 1);
  const lo = Math.floor(p);
  const hi = Math.min(n - 1, lo + 1);
  return a[lo]! + (a[hi]! - a[lo]!) * (p - lo);
}

/** Regularity figures of a sample: Bowley skew, MAD / median, median. */
interface Regularity {
  skew: number;
  madRatio: number;
  median: number;
}

/** Creates the beacon detector. */
export function createBeaconDetector(config: BeaconConfig, emit: EvidenceSink): Detector {
  return new BeaconDetector(config, emit);
}

class BeaconDetector implements Detector {
  readonly name = 'beacon' as const;
  readonly version = BEACON_VERSION;
  readonly key = 'pair' as const;

  private readonly table: KeyedTable;
  private readonly admission: AdmissionCache;
  private readonly samples: RecordSamples;
  private readonly key11 = new Uint32Array(KEY_WORDS);
  private readonly addr = new Uint32Array(4);
  private readonly perEntry: number;
  private readonly ring: number;
  private readonly weightSum: number;

  /** Ring of start times and sizes, `ring` per slot. */
  private readonly starts: Float64Array;
  private readonly sizes: Float32Array;
  /** Per-slot scalars, `M_STRIDE` per slot (see `M_LAST_START` …). */
  private readonly meta: Float64Array;
  /** Ids of samples are kept from this connection count on (the ones before the first judgement). */
  private readonly sampleFrom: number;
  /** Per chunk row: key hash, and whether the row is a candidate (see `CHUNK`). */
  private readonly chunkHash = new Uint32Array(CHUNK);
  private readonly chunkSlot = new Int32Array(CHUNK);
  private readonly chunkOk = new Uint8Array(CHUNK);
  /** Sink of prefetch loads (kept so that they are not optimised away). */
  private prefetched = 0;
  /** Domain of DNS-query pairs (the counterpart), set once per admitted pair. */
  private readonly names: (string | undefined)[];

  private readonly sa: Float64Array;
  private readonly sb: Float64Array;
  private readonly reg: Regularity = { skew: 0, madRatio: 0, median: 0 };
  private records = 0;
  private evidence = 0;

  constructor(
    private readonly cfg: BeaconConfig,
    private readonly emit: EvidenceSink,
  ) {
    const R = cfg.ringSize;
    this.ring = R;
    this.weightSum = cfg.weightInterval + cfg.weightSize + cfg.weightHistogram + cfg.weightPersistence || 1;
    const admissionBytes = Math.floor(cfg.stateBudgetBytes * cfg.admissionShare);
    this.admission = new AdmissionCache(
      Math.max(64, Math.floor(admissionBytes / AdmissionCache.ENTRY_BYTES)),
      Math.ceil(cfg.keyTtlMs / 1000),
    );
    this.perEntry = KEY_WORDS * 4 + 28 + R * 12 + COLUMN_BYTES;
    const scratch = R * 16;
    const capacity = Math.max(
      16,
      Math.floor((cfg.stateBudgetBytes - this.admission.bytes - scratch) / this.perEntry),
    );
    this.table = new KeyedTable(capacity, KEY_WORDS);
    const c = this.table.capacity;
    this.starts = new Float64Array(c * R);
    this.sizes = new Float32Array(c * R);
    this.meta = new Float64Array(c * M_STRIDE);
    this.sampleFrom = Math.max(1, cfg.minConnections - cfg.maxRecordIds + 1);
    this.names = new Array<string | undefined>(c).fill(undefined);
    this.sa = new Float64Array(R);
    this.sb = new Float64Array(R);
    this.samples = new RecordSamples(c, cfg.maxRecordIds);
  }

  onBatch(b: DetectBatch): void {
    const n = b.length;
    const hs = this.chunkHash;
    const slots = this.chunkSlot;
    const ok = this.chunkOk;
    const table = this.table;
    const admission = this.admission;
    const meta = this.meta;
    let sink = 0;
    for (let c0 = 0; c0 < n; c0 += CHUNK) {
      const c1 = Math.min(n, c0 + CHUNK);
      const len = c1 - c0;
      // Pass 1: which rows count, and their keys' hashes (no random memory access).
      for (let i = c0; i < c1; i++) {
        const j = i - c0;
        ok[j] = 0;
        slots[j] = -1;
        if (b.skip[i] !== SKIP.none) continue;
        this.records++;
        if (!this.keyOf(b, i)) continue;
        ok[j] = 1;
        hs[j] = hashWords(this.key11, 0, KEY_WORDS);
      }
      // Pass 2: load the index cells and admission sets. The loop body is short and its
      // iterations independent, so the CPU keeps many of these cache misses in flight at once.
      for (let j = 0; j < len; j++) {
        if (ok[j] === 0) continue;
        const h = hs[j]!;
        sink ^= admission.peek(h);
        slots[j] = table.candidate(h);
      }
      // Pass 3: the same for the lines of the slots those cells name, then their LRU neighbours.
      for (let j = 0; j < len; j++) {
        const s = slots[j]!;
        if (s >= 0) sink ^= table.touchLines(s) ^ meta[s * M_STRIDE]!;
      }
      sink ^= table.neighbourLines(slots, len);
      // Pass 4: the work, on cached lines.
      for (let i = c0; i < c1; i++) {
        const j = i - c0;
        if (ok[j] === 1 && this.keyOf(b, i)) this.process(b, i, hs[j]!);
      }
    }
    this.prefetched ^= sink;
  }

  onRecord(b: DetectBatch, i: number): void {
    this.records++;
    if (this.keyOf(b, i)) this.process(b, i, hashWords(this.key11, 0, KEY_WORDS));
  }

  /**
   * Whether row `i` is a connection beacon counts (a completed TCP connection or a short UDP
   * exchange, seen from its internal end); if so, its pair key is written to `key11`.
   */
  private keyOf(b: DetectBatch, i: number): boolean {
    const proto = b.proto[i]!;
    if (proto === TCP) {
      // Count completed connections, not exports: a flow without SYN is a later export of a
      // long connection, one without ACK a failed contact (scan's business). Flags 0: the
      // exporter does not report flags; every record counts.
      const f = b.tcpFlags[i]!;
      if (f !== 0 && (f & (SYN | ACK)) !== (SYN | ACK)) return false;
    } else if (proto === UDP) {
      const st = b.start[i]!;
      if (st > 0 && b.end[i]! - st > this.cfg.maxUdpFlowMs) return false;
    } else return false;
    // One record per connection: the internal (client) side's.
    if (!sourceIsInternal(b, i)) return false;
    const v = b.ipVersion[i]!;
    const off = i * 4;
    const key = this.key11;
    hostKey(b.src, off, v, this.cfg.groupIpv6By64, key, 0);
    hostKey(b.dst, off, v, false, key, HOST_KEY_WORDS);
    key[KEY_WORDS - 1] = (b.dstPort[i]! << 8) | proto;
    return true;
  }

  /** Counts row `i` (its key in `key11`, hash `h`) for its pair. */
  private process(b: DetectBatch, i: number, h: number): void {
    const st = b.start[i]!;
    const t = st > 0 ? st : b.time[i]!;
    const s = this.slotFor(t, h);
    if (s < 0) return;
    const sampling = b.samplingInterval[i]! || 1;
    if (!this.add(s, t, b.octets[i]! / sampling)) return;
    const ch = b.channel[i]!;
    if (ch !== 0) this.meta[s * M_STRIDE + M_CHANNEL] = ch;
    if (this.meta[s * M_STRIDE + M_COUNT]! >= this.sampleFrom && this.samples.wants(s))
      this.samples.add(s, b.recordId(i));
    this.judgeIfDue(s, t);
  }

  onDns(r: DnsRow): void {
    if (!this.cfg.dns) return;
    this.records++;
    const q = r.fields.dnsQueryName;
    if (typeof q !== 'string' || q.length === 0 || !(r.time > 0)) return;
    const a = this.addr;
    let v = 0;
    const a4 = parseIpv4(r.client);
    if (a4 !== undefined) {
      a[0] = a4;
      a[1] = a[2] = a[3] = 0;
      v = 4;
    } else if (parseIpv6Into(r.client, a)) v = 6;
    if (v === 0) return;
    const domain = getDomain(q.endsWith('.') ? q.slice(0, -1) : q) ?? q.toLowerCase();
    const key = this.key11;
    hostKey(a, 0, v, this.cfg.groupIpv6By64, key, 0);
    key[HOST_KEY_WORDS] = 0xd0;
    key[HOST_KEY_WORDS + 1] = strHash(domain, 0x811c9dc5);
    key[HOST_KEY_WORDS + 2] = strHash(domain, 0x01000193);
    key[HOST_KEY_WORDS + 3] = domain.length;
    key[HOST_KEY_WORDS + 4] = 0;
    key[KEY_WORDS - 1] = DNS_SERVICE;
    const s = this.slotFor(r.time, hashWords(key, 0, KEY_WORDS));
    if (s < 0) return;
    if (this.table.created) this.names[s] = domain;
    const size = num(r.fields.dnsTxtBytes) || num(r.fields.dnsMessageSize) || q.length;
    if (!this.add(s, r.time, size)) return;
    if (this.meta[s * M_STRIDE + M_COUNT]! >= this.sampleFrom && this.samples.wants(s))
      this.samples.add(s, r.recordId);
    this.judgeIfDue(s, r.time);
  }

  /** The pair's slot (its key in `key11`, hash `h`), or −1 while the pair is not admitted. */
  private slotFor(t: number, h: number): number {
    const key = this.key11;
    const s0 = this.table.find(key, h);
    if (s0 >= 0) {
      this.table.touch(s0, t);
      this.table.created = false;
      return s0;
    }
    const n = this.admission.hit(h, hashWords(key, 0, KEY_WORDS, 0x51ed27), Math.floor(t / 1000));
    if (n < this.cfg.admitConnections) return -1;
    const s = this.table.acquire(key, t, h);
    const m = s * M_STRIDE;
    const meta = this.meta;
    meta[m + M_HEAD] = 0;
    meta[m + M_COUNT] = 0;
    meta[m + M_LAST_START] = -Infinity;
    meta[m + M_FIRST_HOUR] = Math.floor(t / this.cfg.persistenceBucketMs);
    meta[m + M_HOURS] = 0;
    meta[m + M_EMITTED] = -1;
    meta[m + M_CHANNEL] = 0;
    this.names[s] = undefined;
    this.samples.clear(s);
    this.table.created = true;
    return s;
  }

  /** Adds a connection start; false when it belongs to the previous one's burst. */
  private add(s: number, t: number, size: number): boolean {
    const meta = this.meta;
    const m = s * M_STRIDE;
    if (Math.abs(t - meta[m + M_LAST_START]!) < this.cfg.minIntervalMs) return false;
    meta[m + M_LAST_START] = t;
    const R = this.ring;
    const head = meta[m + M_HEAD]!;
    const at = s * R + head;
    this.starts[at] = t;
    this.sizes[at] = size;
    meta[m + M_HEAD] = head + 1 === R ? 0 : head + 1;
    meta[m + M_COUNT]!++;
    const hour = Math.floor(t / this.cfg.persistenceBucketMs);
    let rel = hour - meta[m + M_FIRST_HOUR]!;
    let hours = meta[m + M_HOURS]!;
    if (rel >= 32) {
      const shift = rel - 31;
      hours = shift >= 32 ? 0 : hours >>> shift;
      meta[m + M_FIRST_HOUR]! += shift;
      rel = 31;
    }
    if (rel >= 0) hours = (hours | (1 << rel)) >>> 0;
    meta[m + M_HOURS] = hours;
    return true;
  }

  private judgeIfDue(s: number, t: number): void {
    const c = this.meta[s * M_STRIDE + M_COUNT]! - this.cfg.minConnections;
    if (c < 0 || c % this.cfg.rejudgeEvery !== 0) return;
    const w = Math.floor(t / this.cfg.reportWindowMs);
    if (this.meta[s * M_STRIDE + M_EMITTED] === w) return;
    this.judge(s, w);
  }

  /** Regularity of sorted `a[0..n)`, using `tmp` as scratch. */
  private regularity(a: Float64Array, n: number, tmp: Float64Array): Regularity {
    const q1 = quantile(a, n, 0.25);
    const q2 = quantile(a, n, 0.5);
    const q3 = quantile(a, n, 0.75);
    const r = this.reg;
    r.skew = q3 - q1 > 1e-9 * Math.max(1, q2) ? (q3 + q1 - 2 * q2) / (q3 - q1) : 0;
    for (let i = 0; i < n; i++) tmp[i] = Math.abs(a[i]! - q2);
    sortPrefix(tmp, n);
    const mad = quantile(tmp, n, 0.5);
    r.madRatio = q2 > 0 ? mad / q2 : mad > 0 ? Infinity : 0;
    r.median = q2;
    return r;
  }

  private judge(s: number, w: number): void {
    const cfg = this.cfg;
    const R = this.ring;
    const m0 = s * M_STRIDE;
    const n = Math.min(this.meta[m0 + M_COUNT]!, R);
    const base = s * R;
    const a = this.sa;
    const tmp = this.sb;
    // Intervals between consecutive starts (ring order is arrival order: sort first).
    for (let k = 0; k < n; k++) a[k] = this.starts[base + k]!;
    sortPrefix(a, n);
    const first = a[0]!;
    const last = a[n - 1]!;
    for (let k = 1; k < n; k++) a[k - 1] = a[k]! - a[k - 1]!;
    const m = n - 1;
    sortPrefix(a, m);
    const ir = this.regularity(a, m, tmp);
    const period = ir.median;
    const intervalSkew = ir.skew;
    const intervalMad = ir.madRatio;
    const sw = cfg.skewWeight;
    const intervalScore =
      sw * (1 - Math.min(1, Math.abs(intervalSkew))) +
      (1 - sw) * Math.max(0, 1 - intervalMad / cfg.intervalMadRef);
    let inMode = 0;
    const lo = period * (1 - cfg.histogramTolerance);
    const hi = period * (1 + cfg.histogramTolerance);
    for (let k = 0; k < m; k++) if (a[k]! >= lo && a[k]! <= hi) inMode++;
    const histogramScore = inMode / m;
    for (let k = 0; k < n; k++) a[k] = this.sizes[base + k]!;
    sortPrefix(a, n);
    const sr = this.regularity(a, n, tmp);
    let inSize = 0;
    const slo = sr.median * (1 - cfg.sizeTolerance);
    const shi = sr.median * (1 + cfg.sizeTolerance);
    for (let k = 0; k < n; k++) if (a[k]! >= slo && a[k]! <= shi) inSize++;
    const sizeShare = inSize / n;
    const sizeScore =
      sw * (1 - Math.min(1, Math.abs(sr.skew))) +
      (1 - sw) * Math.max(0, 1 - sr.madRatio / cfg.sizeMadRef) * sizeShare;
    const lastHour = Math.floor(last / cfg.persistenceBucketMs);
    const spanned = Math.max(1, Math.min(32, lastHour - this.meta[m0 + M_FIRST_HOUR]! + 1));
    const activeHours = popcount(this.meta[m0 + M_HOURS]!);
    const persistence = Math.min(1, activeHours / spanned);
    const score =
      (cfg.weightInterval * intervalScore +
        cfg.weightSize * sizeScore +
        cfg.weightHistogram * histogramScore +
        cfg.weightPersistence * persistence) /
      this.weightSum;
    if (score < cfg.minScore || sizeScore < cfg.minSizeScore || !(period >= cfg.minPeriodMs)) return;
    this.meta[m0 + M_EMITTED] = w;
    const key = this.table.keys;
    const ko = s * KEY_WORDS;
    const service = key[ko + KEY_WORDS - 1]!;
    const dns = service === DNS_SERVICE;
    const r3 = (x: number): number => Math.round(x * 1000) / 1000;
    const e: Evidence = {
      detector: 'beacon',
      version: BEACON_VERSION,
      subject: formatHostKey(key, ko),
      counterpart: dns ? (this.names[s] ?? '') : formatHostKey(key, ko + HOST_KEY_WORDS),
      window: { start: first, end: last + 1 },
      confidence: r3(Math.min(0.99, score)),
      severity:
        this.meta[m0 + M_CHANNEL] === CHANNEL_AGREEMENT ||
        (score >= cfg.highScore && activeHours >= cfg.highMinBuckets)
          ? 'high'
          : 'medium',
      facts: {
        transport: dns ? 'dns-query' : (service & 0xff) === TCP ? 'tcp' : 'udp',
        port: dns ? 53 : service >>> 8,
        connections: this.meta[m0 + M_COUNT]!,
        judged: n,
        periodMs: Math.round(period),
        intervalSkew: r3(intervalSkew),
        intervalMadRatio: r3(intervalMad),
        histogramShare: r3(histogramScore),
        medianBytes: Math.round(sr.median),
        sizeSkew: r3(sr.skew),
        sizeMadRatio: r3(Math.min(sr.madRatio, 1e6)),
        sizeShare: r3(sizeShare),
        persistence: r3(persistence),
        activeBuckets: activeHours,
        intervalScore: r3(intervalScore),
        sizeScore: r3(sizeScore),
        score: r3(score),
      },
      recordIds: this.samples.take(s),
    };
    this.evidence++;
    this.emit(e);
  }

  onWatermark(t: number): void {
    this.table.expire(t - this.cfg.keyTtlMs);
  }

  /** Evidence is emitted as pairs qualify (streaming); nothing stays open at the end. */
  flush(): void {}

  stats(): DetectorStats {
    return {
      records: this.records,
      evidence: this.evidence,
      keys: this.table.size,
      bytesUsed: this.table.size * this.perEntry + this.admission.bytes + this.ring * 16,
      bytesReserved: this.table.capacity * this.perEntry + this.admission.bytes + this.ring * 16,
      budgetBytes: this.cfg.stateBudgetBytes,
      evictions: this.table.evictions,
      expired: this.table.expired,
    };
  }
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** FNV-1a-style 32-bit hash of a string with a seed (DNS path only). */
function strHash(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return mix32(h);
}
