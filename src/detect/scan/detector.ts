/**
 * `scan` detector (REQUIREMENTS R-DET-1): horizontal and vertical scans from failed first
 * contacts, a threshold random walk per source (Jung, Paxson, Berger, Balakrishnan 2004),
 * campaign grouping and research-scanner down-ranking. Algorithm and parameters: README.md.
 */
import type { Evidence } from '../../common/schema/evidence.ts';
import type { ScanConfig } from '../config.ts';
import type { DetectBatch } from '../engine/batch.ts';
import { SKIP } from '../engine/batch.ts';
import { fold32, hashWords, mix32 } from '../engine/hash.ts';
import { formatAddressAt, formatHostKey, hostKey, HOST_KEY_WORDS } from '../engine/keys.ts';
import { CountMinSketch } from '../engine/sketch.ts';
import { RecordSamples, TouchedSlots } from '../engine/slots.ts';
import { KeyedTable } from '../engine/table.ts';
import type { Detector, DetectorStats, EvidenceSink } from '../engine/types.ts';
import { WindowTimer } from '../engine/windows.ts';
import { RESEARCH_SCANNERS_VERSION, ResearchScannerIndex } from './research.ts';

/** Version of the algorithm and defaults. */
export const SCAN_VERSION = '1.0.0';

const TCP = 6;
const UDP = 17;
const ICMP4 = 1;
const ICMP6 = 58;
const SYN = 2;
const RST = 4;
const ACK = 16;

/**
 * Per-source scalars, interleaved in one Float64Array (`STRIDE` per slot, two 64-byte lines) so
 * that a record costs one or two cache misses instead of one per column: the first line holds
 * what every contact updates, the second what only failed contacts do.
 */
const F_WIN = 0;
const F_LLR = 1;
const F_FIRST = 2;
const F_LAST = 3;
const F_CONTACTS = 4;
const F_DONE = 5;
const F_MAX_LLR = 6;
const F_FAILURES = 7;
const F_DSTS = 8;
const F_PORTS_ON_CAND = 9;
const F_CAND_PORT = 10;
const F_CAND_PORT_COUNT = 11;
const F_CAND_DST_V = 12;
const F_CAND_DST_COUNT = 13;
const F_MIN_TTL = 14;
const F_RESEARCH_OF = 15;
/**
 * A slow scan (fewer than `minFailedContacts` failures in every window) needs its walk at this
 * multiple of the scanner threshold ln η1 (see `evaluate`).
 */
const SLOW_SCAN_WALK = 3;
/** Failed first contacts since the walk last sat at its lower clamp (across windows). */
const F_WALK_FAILS = 16;
/**
 * Scalars per slot. 18 rather than a whole third line: with the first-contact cache taking half
 * the budget, 144 bytes per slot still gives the default budget 2^16 slots (the table's capacity
 * is a power of two), where 192 would halve it.
 */
const STRIDE = 18;

/** Bytes of per-source state besides the table's own: the scalars, the candidate destination, samples and touched list. */
const COLUMN_BYTES = STRIDE * 8 + 16 + 8 /* samples ref */ + 5; /* touched */

/**
 * Rows per chunk of `onBatch`'s passes: the middle passes only load the cache lines the last one
 * needs (index cells, first-contact sets, per-source lines), with short independent iterations so
 * the CPU overlaps the misses of many rows; the lines stay cached for the last pass.
 */
const CHUNK = 256;

/** Initial TTL guessed from an observed one (operating systems start at 64, 128 or 255). */
function initialTtl(t: number): number {
  return t === 0 ? 0 : t <= 64 ? 64 : t <= 128 ? 128 : 255;
}

/** `ContactCache.contact` results. */
export const REPEAT = 0;
export const NEW_PORT = 1;
export const NEW_DESTINATION = 2;

/**
 * First-contact memory: (source, destination, port) triples, placed so that every triple of one
 * (source, destination) pair lands in the same 64-byte set. One cache line then answers both
 * questions a contact asks — was this triple seen (a repeat says nothing), and was this pair
 * (a new destination) — where two separate caches cost two cache misses per record. Eight ways
 * of (pair tag, port) per set, FIFO replacement by shifting within the set; a pair is forgotten
 * when its last triple is.
 */
export class ContactCache {
  private readonly ways: Uint32Array;
  private readonly mask: number;

  constructor(entries: number) {
    let sets = 16;
    while (sets * 8 < entries) sets *= 2;
    this.mask = sets - 1;
    this.ways = new Uint32Array(sets * 16);
  }

  /** Bytes held. */
  get bytes(): number {
    return this.ways.byteLength;
  }

  /** Prefetch helper: loads the set of pair hash `hp` (both ends: it may straddle two lines). */
  peek(hp: number): number {
    const base = (hp & this.mask) * 16;
    return this.ways[base]! ^ this.ways[base + 15]!;
  }

  /**
   * Records a contact of the pair (set hash `hp`, independent tag hash `tag`) on `port`:
   * `REPEAT` when the triple was seen, `NEW_PORT` when only the pair was, else `NEW_DESTINATION`.
   */
  contact(hp: number, tag: number, port: number): number {
    const t = (tag | 1) >>> 0; // non-zero: 0 marks an empty way
    const w = this.ways;
    const base = (hp & this.mask) * 16;
    let pairSeen = false;
    for (let i = base; i < base + 16; i += 2) {
      if (w[i] !== t) continue;
      if (w[i + 1] === port) return REPEAT;
      pairSeen = true;
    }
    for (let k = base + 15; k >= base + 2; k--) w[k] = w[k - 2]!;
    w[base] = t;
    w[base + 1] = port;
    return pairSeen ? NEW_PORT : NEW_DESTINATION;
  }
}

/** Bounded campaign registry: scanners grouped by (type, port or target, initial TTL, hour). */
class Campaigns {
  private readonly map = new Map<number, { sources: number; first: number; last: number }>();
  constructor(private readonly max: number) {}

  /** Adds one scanner-window to its campaign; returns the campaign's scanner count. */
  add(fp: number, first: number, last: number): number {
    let c = this.map.get(fp);
    if (!c) {
      if (this.map.size >= this.max) {
        const oldest = this.map.keys().next();
        if (!oldest.done) this.map.delete(oldest.value);
      }
      c = { sources: 0, first, last };
      this.map.set(fp, c);
    }
    c.sources++;
    if (first < c.first) c.first = first;
    if (last > c.last) c.last = last;
    return c.sources;
  }

  get size(): number {
    return this.map.size;
  }
}

/** Outcomes of `outcomeOf`. */
const FAIL = 1;
const SUCCESS = 2;
/** A failure reported by an ICMP unreachable: it belongs to the ICMP flow's destination. */
const FAIL_FROM_DST = 3;

/**
 * Row `i` as a contact attempt: `FAIL` (a SYN without ACK, a bare RST), `SUCCESS` (the server's
 * SYN-ACK side, or UDP with an answer), `FAIL_FROM_DST` (ICMP unreachable), or 0 (none).
 */
function outcomeOf(b: DetectBatch, i: number): number {
  const proto = b.proto[i]!;
  if (proto === TCP) {
    const f = b.tcpFlags[i]!;
    if (f & SYN) {
      if ((f & ACK) === 0) return FAIL;
      return b.srcPort[i]! > b.dstPort[i]! ? SUCCESS : 0;
    }
    return (f & (RST | ACK)) === RST ? FAIL : 0;
  }
  if (proto === ICMP4 || proto === ICMP6) {
    const type = b.icmpTypeCode[i]! >>> 8;
    return (proto === ICMP4 && type === 3) || (proto === ICMP6 && type === 1) ? FAIL_FROM_DST : 0;
  }
  return proto === UDP && b.revPackets[i]! > 0 ? SUCCESS : 0;
}

/** Creates the scan detector. */
export function createScanDetector(config: ScanConfig, emit: EvidenceSink): Detector {
  return new ScanDetector(config, emit);
}

class ScanDetector implements Detector {
  readonly name = 'scan' as const;
  readonly version = SCAN_VERSION;
  readonly key = 'source' as const;

  private readonly table: KeyedTable;
  private readonly contacts: ContactCache;
  /** Failed first contacts per source in the current window, before it has a slot. */
  private readonly admit: CountMinSketch;
  private admitWindow = -Infinity;
  private readonly admitFailures: number;
  private readonly touched: TouchedSlots;
  private readonly samples: RecordSamples;
  private readonly timer: WindowTimer;
  private readonly research = new ResearchScannerIndex();
  private readonly campaigns: Campaigns;
  private readonly key5 = new Uint32Array(HOST_KEY_WORDS);
  private readonly lnFail: number;
  private readonly lnSuccess: number;
  private readonly upper: number;
  private readonly lower: number;
  private readonly budget: number;
  private readonly cacheBytes: number;

  /** Per-slot scalars, `STRIDE` per slot (see `F_WIN` …). */
  private readonly m: Float64Array;
  /** Misra-Gries candidate destination per slot (4 words). */
  private readonly candDst: Uint32Array;
  /** Per chunk row: outcome (0 = not a contact attempt), key hash, destination hash, index candidate. */
  private readonly chunkOutcome = new Uint8Array(CHUNK);
  private readonly chunkHash = new Uint32Array(CHUNK);
  private readonly chunkDst = new Uint32Array(CHUNK);
  private readonly chunkSlot = new Int32Array(CHUNK);
  /** Sink of prefetch loads (kept so that they are not optimised away). */
  private prefetched = 0;

  private records = 0;
  private evidence = 0;

  constructor(
    private readonly cfg: ScanConfig,
    private readonly emit: EvidenceSink,
  ) {
    // Jung et al.: each failed first contact multiplies the likelihood ratio by (1−θ1)/(1−θ0),
    // each success by θ1/θ0; thresholds η1 = P_D/P_F (scanner), η0 = (1−P_D)/(1−P_F) (benign).
    this.lnFail = Math.log((1 - cfg.theta1) / (1 - cfg.theta0));
    this.lnSuccess = Math.log(cfg.theta1 / cfg.theta0);
    this.upper = Math.log(cfg.targetDetection / cfg.targetFalsePositive);
    this.lower = Math.log((1 - cfg.targetDetection) / (1 - cfg.targetFalsePositive));
    this.budget = cfg.stateBudgetBytes;
    // The first-contact cache takes at most half of the budget (8 bytes per triple).
    const cacheEntries = Math.max(1024, Math.min(cfg.contactCacheEntries, Math.floor(this.budget / 2 / 8)));
    this.contacts = new ContactCache(cacheEntries);
    // Admission sketch: failed first contacts per source in the current window, 2 rows of at
    // most 2^17 counters (1 MiB) and at most an eighth of the budget.
    this.admitFailures = cfg.admitFailures;
    this.admit = new CountMinSketch(
      Math.max(1024, Math.min(1 << 17, Math.floor(this.budget / 8 / 2 / 4))),
      2,
    );
    this.cacheBytes = this.contacts.bytes + this.admit.bytes;
    const perEntry = HOST_KEY_WORDS * 4 + 28 + COLUMN_BYTES;
    const capacity = Math.max(16, Math.floor((this.budget - this.cacheBytes) / perEntry));
    this.table = new KeyedTable(capacity, HOST_KEY_WORDS);
    const c = this.table.capacity;
    this.m = new Float64Array(c * STRIDE);
    this.candDst = new Uint32Array(c * 4);
    this.touched = new TouchedSlots(c);
    this.samples = new RecordSamples(c, cfg.maxRecordIds);
    this.timer = new WindowTimer(cfg.windowMs);
    this.campaigns = new Campaigns(cfg.maxCampaigns);
    // A source pushed out of the table (LRU under churn, or TTL) is judged on what it holds first,
    // so churn can delay evidence but not lose a scanner that already crossed the thresholds.
    this.table.onRemove = (s) => {
      if (this.m[s * STRIDE + F_DONE] === 0 && this.m[s * STRIDE + F_CONTACTS]! > 0)
        this.evaluate(s, this.m[s * STRIDE + F_WIN]!);
      this.m[s * STRIDE + F_DONE] = 1;
    };
  }

  onBatch(b: DetectBatch): void {
    const n = b.length;
    const oc = this.chunkOutcome;
    const hs = this.chunkHash;
    const hds = this.chunkDst;
    const slots = this.chunkSlot;
    const table = this.table;
    const m = this.m;
    let sink = 0;
    for (let c0 = 0; c0 < n; c0 += CHUNK) {
      const c1 = Math.min(n, c0 + CHUNK);
      const len = c1 - c0;
      // Pass 1: outcomes and hashes (no random memory access).
      for (let i = c0; i < c1; i++) {
        const j = i - c0;
        oc[j] = 0;
        slots[j] = -1;
        if (b.skip[i] !== SKIP.none) continue;
        this.records++;
        const o = outcomeOf(b, i);
        if (o === 0) continue;
        oc[j] = o;
        const fromDst = o === FAIL_FROM_DST;
        hs[j] = this.keyHash(b, i, fromDst);
        hds[j] = hashWords(fromDst ? b.src : b.dst, i * 4, 4, 0x51ed);
      }
      // Pass 2: index cells, in short independent iterations (the CPU keeps many of these
      // misses in flight).
      for (let j = 0; j < len; j++) if (oc[j] !== 0) slots[j] = table.candidate(hs[j]!);
      // Pass 3: the lines of the sources those cells name, and the first-contact set and
      // admission counters of the rows that will need them (a success of a source without state
      // needs neither: it stops at the index).
      for (let j = 0; j < len; j++) {
        const o = oc[j]!;
        if (o === 0) continue;
        const s = slots[j]!;
        const h = hs[j]!;
        if (s >= 0)
          sink ^= table.touchLines(s) ^ this.touched.peek(s) ^ m[s * STRIDE]! ^ m[s * STRIDE + F_MAX_LLR]!;
        else if (o === SUCCESS) continue;
        else sink ^= this.admit.peek(h);
        sink ^= this.contacts.peek(fold32(hds[j]!, h));
      }
      sink ^= table.neighbourLines(slots, len);
      // Pass 4: the work, on cached lines.
      for (let i = c0; i < c1; i++) {
        const j = i - c0;
        const o = oc[j]!;
        if (o !== 0) this.process(b, i, o, this.keyHash(b, i, o === FAIL_FROM_DST), hds[j]!);
      }
    }
    this.prefetched ^= sink;
  }

  onRecord(b: DetectBatch, i: number): void {
    this.records++;
    const o = outcomeOf(b, i);
    if (o === 0) return;
    const fromDst = o === FAIL_FROM_DST;
    const h = this.keyHash(b, i, fromDst);
    this.process(b, i, o, h, hashWords(fromDst ? b.src : b.dst, i * 4, 4, 0x51ed));
  }

  /** Writes row `i`'s source key (the ICMP flow's destination when `fromDst`) to `key5`; its hash. */
  private keyHash(b: DetectBatch, i: number, fromDst: boolean): number {
    hostKey(fromDst ? b.dst : b.src, i * 4, b.ipVersion[i]!, this.cfg.groupIpv6By64, this.key5);
    return hashWords(this.key5, 0, HOST_KEY_WORDS);
  }

  /**
   * Counts contact attempt `i` (outcome `o` of `outcomeOf`; its key in `key5` with hash `h`; `hd`
   * the hash of the contacted address) for its source.
   */
  private process(b: DetectBatch, i: number, o: number, h: number, hd: number): void {
    const fromDst = o === FAIL_FROM_DST;
    const outcome = fromDst ? FAIL : o;
    const v = b.ipVersion[i]!;
    const off = i * 4;
    const me = fromDst ? b.dst : b.src;
    const other = fromDst ? b.src : b.dst;
    const port = fromDst ? 0 : b.dstPort[i]!;
    const t = b.time[i]!;
    const key = this.key5;
    // Successes of sources without state are not worth a slot (state starts at a failure), nor
    // the first-contact lookups below: most traffic leaves here.
    let s = this.table.find(key, h);
    if (s < 0 && outcome !== FAIL) return;
    // First contact? (source, destination, port) seen before means a repeat, which says nothing.
    const seen = this.contacts.contact(fold32(hd, h), mix32(h ^ hd), port);
    if (seen === REPEAT) return;
    const pairNew = seen === NEW_DESTINATION;
    const m = this.m;
    if (s < 0) {
      // Admission: a source gets a slot at its `admitFailures`-th failed first contact of the
      // window (counted in a sketch until then), then starts with those failures counted.
      let prior = 0;
      if (this.admitFailures > 1) {
        const aw = Math.floor(t / this.cfg.windowMs);
        if (aw > this.admitWindow) {
          this.admit.clear();
          this.admitWindow = aw;
        }
        const est = this.admit.add(h, 1);
        if (est < this.admitFailures) return;
        prior = Math.min(Math.round(est), this.admitFailures) - 1;
      }
      s = this.table.acquire(key, t, h);
      this.reset(s, t, true);
      if (prior > 0) {
        const x0 = s * STRIDE;
        m[x0 + F_CONTACTS] = prior;
        m[x0 + F_FAILURES] = prior;
        m[x0 + F_DSTS] = prior;
        m[x0 + F_WALK_FAILS] = prior;
        m[x0 + F_LLR] = prior * this.lnFail;
        m[x0 + F_MAX_LLR] = prior * this.lnFail;
      }
      m[s * STRIDE + F_RESEARCH_OF] = this.research.match(v, me, off, fromDst ? b.dstAsn[i]! : b.srcAsn[i]!);
    } else this.table.touch(s, t);
    const x = s * STRIDE;

    this.timer.start(t);
    const w = Math.floor(t / this.cfg.windowMs);
    if (w > m[x + F_WIN]!) {
      if (m[x + F_DONE] === 0 && m[x + F_CONTACTS]! > 0) this.evaluate(s, m[x + F_WIN]!);
      this.reset(s, t, false);
      m[x + F_WIN] = w;
    }
    this.touched.add(s);
    if (t < m[x + F_FIRST]!) m[x + F_FIRST] = t;
    if (t > m[x + F_LAST]!) m[x + F_LAST] = t;
    m[x + F_CONTACTS]!++;
    if (outcome === SUCCESS) {
      const l = m[x + F_LLR]! + this.lnSuccess;
      if (l <= this.lower) {
        m[x + F_LLR] = this.lower;
        m[x + F_WALK_FAILS] = 0;
      } else m[x + F_LLR] = l;
      return;
    }
    const l = m[x + F_LLR]! + this.lnFail;
    m[x + F_LLR] = l;
    if (l > m[x + F_MAX_LLR]!) m[x + F_MAX_LLR] = l;
    m[x + F_FAILURES]!++;
    m[x + F_WALK_FAILS]!++;
    if (pairNew) m[x + F_DSTS]!++;
    const ttl = b.minTtl[i]!;
    if (!fromDst && ttl !== 0 && (m[x + F_MIN_TTL] === 0 || ttl < m[x + F_MIN_TTL]!)) m[x + F_MIN_TTL] = ttl;
    // Misra-Gries with one counter: the dominant port and the dominant destination.
    if (m[x + F_CAND_PORT] === port) m[x + F_CAND_PORT_COUNT]!++;
    else if (--m[x + F_CAND_PORT_COUNT]! <= 0) {
      m[x + F_CAND_PORT] = port;
      m[x + F_CAND_PORT_COUNT] = 1;
    }
    const c4 = s * 4;
    const cd = this.candDst;
    const same =
      m[x + F_CAND_DST_V] === v &&
      cd[c4] === other[off] &&
      cd[c4 + 1] === other[off + 1] &&
      cd[c4 + 2] === other[off + 2] &&
      cd[c4 + 3] === other[off + 3];
    if (same) {
      m[x + F_CAND_DST_COUNT]!++;
      m[x + F_PORTS_ON_CAND]!++;
    } else if (--m[x + F_CAND_DST_COUNT]! <= 0) {
      m[x + F_CAND_DST_V] = v;
      cd[c4] = other[off]!;
      cd[c4 + 1] = other[off + 1]!;
      cd[c4 + 2] = other[off + 2]!;
      cd[c4 + 3] = other[off + 3]!;
      m[x + F_CAND_DST_COUNT] = 1;
      m[x + F_PORTS_ON_CAND] = 1;
    }
    if (m[x + F_FAILURES]! >= 2 && this.samples.wants(s)) this.samples.add(s, b.recordId(i));
  }

  private reset(s: number, t: number, fresh: boolean): void {
    if (fresh) {
      this.m[s * STRIDE + F_LLR] = 0;
      this.m[s * STRIDE + F_MAX_LLR] = 0;
      this.m[s * STRIDE + F_WIN] = Math.floor(t / this.cfg.windowMs);
      this.m[s * STRIDE + F_MIN_TTL] = 0;
      this.m[s * STRIDE + F_WALK_FAILS] = 0;
    }
    this.m[s * STRIDE + F_MAX_LLR] = this.m[s * STRIDE + F_LLR]!;
    this.m[s * STRIDE + F_FIRST] = t;
    this.m[s * STRIDE + F_LAST] = t;
    this.m[s * STRIDE + F_CONTACTS] = 0;
    this.m[s * STRIDE + F_FAILURES] = 0;
    this.m[s * STRIDE + F_DSTS] = 0;
    this.m[s * STRIDE + F_PORTS_ON_CAND] = 0;
    this.m[s * STRIDE + F_CAND_PORT] = 0;
    this.m[s * STRIDE + F_CAND_PORT_COUNT] = 0;
    this.m[s * STRIDE + F_CAND_DST_V] = 0;
    this.m[s * STRIDE + F_CAND_DST_COUNT] = 0;
    this.m[s * STRIDE + F_DONE] = 0;
    this.samples.clear(s);
  }

  /** Decides on one source-window and emits evidence when it is a scan. */
  private evaluate(s: number, win: number): void {
    this.m[s * STRIDE + F_DONE] = 1;
    const cfg = this.cfg;
    const failures = this.m[s * STRIDE + F_FAILURES]!;
    const contacts = this.m[s * STRIDE + F_CONTACTS]!;
    const maxLlr = this.m[s * STRIDE + F_MAX_LLR]!;
    const walk = maxLlr >= this.upper;
    const walkFailures = this.m[s * STRIDE + F_WALK_FAILS]!;
    // The floor of failed first contacts holds within the window, or across windows for a slow
    // scan (a few probes a minute never fill one window, but walk up all the same): failed
    // contacts since the walk last sat at its benign clamp, with the walk at three times the
    // scanner threshold (false-positive rate P_F³ instead of P_F: without a window floor, the
    // walk's own P_F would flag about one benign host in a hundred whose contacts mostly succeed,
    // and P_F² still flags a host of the benchmark's background whose failures happened to come
    // nine in a row).
    if (failures === 0) return;
    if (
      failures < cfg.minFailedContacts &&
      !(maxLlr >= SLOW_SCAN_WALK * this.upper && walkFailures >= cfg.minFailedContacts)
    )
      return;
    const ratio = failures / Math.max(1, contacts);
    const dsts = this.m[s * STRIDE + F_DSTS]!;
    const ports = this.m[s * STRIDE + F_PORTS_ON_CAND]!;
    const floor =
      ratio >= cfg.minFailureRatio &&
      (dsts >= cfg.horizontalMinDestinations || ports >= cfg.verticalMinPorts);
    if (!walk && !floor) return;
    const vertical = ports >= cfg.verticalMinPorts && ports >= dsts;
    const type = vertical ? 'vertical' : 'horizontal';
    const first = this.m[s * STRIDE + F_FIRST]!;
    const last = this.m[s * STRIDE + F_LAST]!;
    const ttl = this.m[s * STRIDE + F_MIN_TTL]!;
    const key = this.table.keys.subarray(s * HOST_KEY_WORDS, (s + 1) * HOST_KEY_WORDS);
    const target = vertical
      ? hashWords(this.candDst, s * 4, 4)
      : this.m[s * STRIDE + F_CAND_PORT_COUNT]! > 0
        ? this.m[s * STRIDE + F_CAND_PORT]!
        : 0;
    const hour = Math.floor(first / 3_600_000);
    const fp = mix32(fold32(fold32(fold32(vertical ? 1 : 2, target), initialTtl(ttl)), hour));
    const campaignSources = this.campaigns.add(fp, first, last);
    const research = this.m[s * STRIDE + F_RESEARCH_OF]!;
    const size = vertical ? ports : dsts;
    const severity = research >= 0 ? 'low' : size >= 1000 || failures >= 5000 ? 'high' : 'medium';
    const confidence = Math.min(
      0.99,
      Math.max(0.3, ratio * (1 - Math.exp(-failures / (2 * cfg.minFailedContacts))) * (walk ? 1 : 0.9)),
    );
    const facts: Record<string, number | string> = {
      type,
      failedContacts: failures,
      firstContacts: contacts,
      failureRatio: Math.round(ratio * 1000) / 1000,
      distinctDestinations: dsts,
      portsOnTarget: ports,
      logLikelihoodRatio: Math.round(this.m[s * STRIDE + F_MAX_LLR]! * 100) / 100,
      randomWalk: walk ? 'scanner' : 'undecided',
      walkFailedContacts: walkFailures,
      campaignId: fp.toString(16).padStart(8, '0'),
      campaignSources,
    };
    if (!vertical && this.m[s * STRIDE + F_CAND_PORT_COUNT]! > 0)
      facts.port = this.m[s * STRIDE + F_CAND_PORT]!;
    if (ttl) {
      facts.ttl = ttl;
      facts.initialTtl = initialTtl(ttl);
    }
    if (research >= 0) {
      facts.researchScanner = this.research.names[research] ?? '';
      facts.researchListVersion = RESEARCH_SCANNERS_VERSION;
    }
    const e: Evidence = {
      detector: 'scan',
      version: SCAN_VERSION,
      subject: formatHostKey(key),
      window: {
        start: Math.min(first, win * cfg.windowMs),
        end: Math.max(last + 1, (win + 1) * cfg.windowMs),
      },
      confidence: Math.round(confidence * 1000) / 1000,
      severity,
      facts,
      recordIds: this.samples.take(s),
    };
    const dv = this.m[s * STRIDE + F_CAND_DST_V]!;
    if (vertical && dv) e.counterpart = formatAddressAt(this.candDst, s * 4, dv);
    this.evidence++;
    this.emit(e);
  }

  private closeUpTo(win: number): void {
    this.touched.sweep((s) => {
      if (this.m[s * STRIDE + F_WIN]! > win) return false;
      if (this.m[s * STRIDE + F_DONE] === 0 && this.m[s * STRIDE + F_CONTACTS]! > 0)
        this.evaluate(s, this.m[s * STRIDE + F_WIN]!);
      return true;
    });
  }

  onWatermark(t: number): void {
    this.timer.closeDue(t, (k) => this.closeUpTo(k));
    this.table.expire(t - this.cfg.keyTtlMs);
  }

  flush(): void {
    this.closeUpTo(Infinity);
  }

  stats(): DetectorStats {
    const per = this.table.bytesPerEntry + COLUMN_BYTES;
    return {
      records: this.records,
      evidence: this.evidence,
      keys: this.table.size,
      bytesUsed: this.table.size * per + this.cacheBytes,
      bytesReserved: this.table.capacity * per + this.cacheBytes,
      budgetBytes: this.budget,
      evictions: this.table.evictions,
      expired: this.table.expired,
    };
  }
}
