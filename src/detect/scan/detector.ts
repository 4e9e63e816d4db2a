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
import { RecordSamples, SeenCache, TouchedSlots } from '../engine/slots.ts';
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

/** Bytes of per-source columns besides the table's own (see the arrays in the constructor). */
const COLUMN_BYTES = 8 * 4 + 4 * 5 + 2 + 4 + 16 + 1 + 4 + 1 + 2 + 1 + 8 /* samples ref */ + 12; /* touched */

/** Initial TTL guessed from an observed one (operating systems start at 64, 128 or 255). */
function initialTtl(t: number): number {
  return t === 0 ? 0 : t <= 64 ? 64 : t <= 128 ? 128 : 255;
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

/** Creates the scan detector. */
export function createScanDetector(config: ScanConfig, emit: EvidenceSink): Detector {
  return new ScanDetector(config, emit);
}

class ScanDetector implements Detector {
  readonly name = 'scan' as const;
  readonly version = SCAN_VERSION;
  readonly key = 'source' as const;

  private readonly table: KeyedTable;
  private readonly pairs: SeenCache;
  private readonly triples: SeenCache;
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

  // Per-slot columns.
  private readonly llr: Float64Array;
  private readonly win: Float64Array;
  private readonly first: Float64Array;
  private readonly last: Float64Array;
  private readonly contacts: Uint32Array;
  private readonly failures: Uint32Array;
  private readonly dsts: Uint32Array;
  private readonly portsOnCand: Uint32Array;
  private readonly maxLlr: Float64Array;
  private readonly candPort: Uint16Array;
  private readonly candPortCount: Int32Array;
  private readonly candDst: Uint32Array;
  private readonly candDstV: Uint8Array;
  private readonly candDstCount: Int32Array;
  private readonly minTtl: Uint8Array;
  private readonly done: Uint8Array;
  private readonly researchOf: Int16Array;

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
    // The two first-contact caches take at most half of the budget.
    const cacheEntries = Math.max(1024, Math.min(cfg.contactCacheEntries, Math.floor(this.budget / 4 / 9)));
    this.pairs = new SeenCache(cacheEntries);
    this.triples = new SeenCache(cacheEntries);
    this.cacheBytes = this.pairs.bytes + this.triples.bytes;
    const perEntry = HOST_KEY_WORDS * 4 + 28 + COLUMN_BYTES;
    const capacity = Math.max(16, Math.floor((this.budget - this.cacheBytes) / perEntry));
    this.table = new KeyedTable(capacity, HOST_KEY_WORDS);
    const c = this.table.capacity;
    this.llr = new Float64Array(c);
    this.win = new Float64Array(c);
    this.first = new Float64Array(c);
    this.last = new Float64Array(c);
    this.contacts = new Uint32Array(c);
    this.failures = new Uint32Array(c);
    this.dsts = new Uint32Array(c);
    this.portsOnCand = new Uint32Array(c);
    this.maxLlr = new Float64Array(c);
    this.candPort = new Uint16Array(c);
    this.candPortCount = new Int32Array(c);
    this.candDst = new Uint32Array(c * 4);
    this.candDstV = new Uint8Array(c);
    this.candDstCount = new Int32Array(c);
    this.minTtl = new Uint8Array(c);
    this.done = new Uint8Array(c);
    this.researchOf = new Int16Array(c);
    this.touched = new TouchedSlots(c);
    this.samples = new RecordSamples(c, cfg.maxRecordIds);
    this.timer = new WindowTimer(cfg.windowMs);
    this.campaigns = new Campaigns(cfg.maxCampaigns);
    // A source pushed out of the table (LRU under churn, or TTL) is judged on what it holds first,
    // so churn can delay evidence but not lose a scanner that already crossed the thresholds.
    this.table.onRemove = (s) => {
      if (this.done[s] === 0 && this.contacts[s]! > 0) this.evaluate(s, this.win[s]!);
      this.done[s] = 1;
    };
  }

  onBatch(b: DetectBatch): void {
    const n = b.length;
    for (let i = 0; i < n; i++) if (b.skip[i] === SKIP.none) this.onRecord(b, i);
  }

  onRecord(b: DetectBatch, i: number): void {
    this.records++;
    const proto = b.proto[i]!;
    let outcome = 0; // 1 = failed first contact, 2 = success, 0 = not a contact attempt
    let fromDst = false; // ICMP unreachable: the failure belongs to the ICMP flow's destination
    if (proto === TCP) {
      const f = b.tcpFlags[i]!;
      if (f & SYN) {
        if ((f & ACK) === 0) outcome = 1;
        else if (b.srcPort[i]! > b.dstPort[i]!) outcome = 2;
      } else if ((f & (RST | ACK)) === RST) outcome = 1;
    } else if (proto === ICMP4 || proto === ICMP6) {
      const type = b.icmpTypeCode[i]! >>> 8;
      if ((proto === ICMP4 && type === 3) || (proto === ICMP6 && type === 1)) {
        outcome = 1;
        fromDst = true;
      }
    } else if (proto === UDP && b.revPackets[i]! > 0) outcome = 2;
    if (outcome === 0) return;

    const v = b.ipVersion[i]!;
    const off = i * 4;
    const me = fromDst ? b.dst : b.src;
    const other = fromDst ? b.src : b.dst;
    const port = fromDst ? 0 : b.dstPort[i]!;
    const t = b.time[i]!;
    const key = this.key5;
    hostKey(me, off, v, this.cfg.groupIpv6By64, key);
    const h = hashWords(key, 0, HOST_KEY_WORDS);
    // Successes of sources without state are not worth a slot (state starts at a failure), nor
    // the first-contact lookups below: most traffic leaves here.
    let s = this.table.find(key, h);
    if (s < 0 && outcome !== 1) return;
    // First contact? (source, destination, port) seen before means a repeat, which says nothing.
    const hd = hashWords(other, off, 4, 0x51ed);
    const tripleNew = !this.triples.seen(fold32(h, hd) ^ port, mix32(hd + port) ^ h);
    if (!tripleNew) return;
    const pairNew = !this.pairs.seen(fold32(hd, h), h ^ hd);
    if (s < 0) {
      s = this.table.acquire(key, t, h);
      this.reset(s, t, true);
      this.researchOf[s] = this.research.match(v, me, off, fromDst ? b.dstAsn[i]! : b.srcAsn[i]!);
    } else this.table.touch(s, t);

    this.timer.start(t);
    const w = Math.floor(t / this.cfg.windowMs);
    if (w > this.win[s]!) {
      if (this.done[s] === 0 && this.contacts[s]! > 0) this.evaluate(s, this.win[s]!);
      this.reset(s, t, false);
      this.win[s] = w;
    }
    this.touched.add(s);
    if (t < this.first[s]!) this.first[s] = t;
    if (t > this.last[s]!) this.last[s] = t;
    this.contacts[s]!++;
    if (outcome === 2) {
      this.llr[s] = Math.max(this.lower, this.llr[s]! + this.lnSuccess);
      return;
    }
    const l = this.llr[s]! + this.lnFail;
    this.llr[s] = l;
    if (l > this.maxLlr[s]!) this.maxLlr[s] = l;
    this.failures[s]!++;
    if (pairNew) this.dsts[s]!++;
    const ttl = b.minTtl[i]!;
    if (!fromDst && ttl !== 0 && (this.minTtl[s] === 0 || ttl < this.minTtl[s]!)) this.minTtl[s] = ttl;
    // Misra-Gries with one counter: the dominant port and the dominant destination.
    if (this.candPort[s] === port) this.candPortCount[s]!++;
    else if (--this.candPortCount[s]! <= 0) {
      this.candPort[s] = port;
      this.candPortCount[s] = 1;
    }
    const c4 = s * 4;
    const same =
      this.candDstV[s] === v &&
      this.candDst[c4] === other[off] &&
      this.candDst[c4 + 1] === other[off + 1] &&
      this.candDst[c4 + 2] === other[off + 2] &&
      this.candDst[c4 + 3] === other[off + 3];
    if (same) {
      this.candDstCount[s]!++;
      this.portsOnCand[s]!++;
    } else if (--this.candDstCount[s]! <= 0) {
      this.candDstV[s] = v;
      this.candDst[c4] = other[off]!;
      this.candDst[c4 + 1] = other[off + 1]!;
      this.candDst[c4 + 2] = other[off + 2]!;
      this.candDst[c4 + 3] = other[off + 3]!;
      this.candDstCount[s] = 1;
      this.portsOnCand[s] = 1;
    }
    if (this.failures[s]! >= 2 && this.samples.wants(s)) this.samples.add(s, b.recordId(i));
  }

  private reset(s: number, t: number, fresh: boolean): void {
    if (fresh) {
      this.llr[s] = 0;
      this.maxLlr[s] = 0;
      this.win[s] = Math.floor(t / this.cfg.windowMs);
      this.minTtl[s] = 0;
    }
    this.maxLlr[s] = this.llr[s]!;
    this.first[s] = t;
    this.last[s] = t;
    this.contacts[s] = 0;
    this.failures[s] = 0;
    this.dsts[s] = 0;
    this.portsOnCand[s] = 0;
    this.candPort[s] = 0;
    this.candPortCount[s] = 0;
    this.candDstV[s] = 0;
    this.candDstCount[s] = 0;
    this.done[s] = 0;
    this.samples.clear(s);
  }

  /** Decides on one source-window and emits evidence when it is a scan. */
  private evaluate(s: number, win: number): void {
    this.done[s] = 1;
    const cfg = this.cfg;
    const failures = this.failures[s]!;
    const contacts = this.contacts[s]!;
    if (failures < cfg.minFailedContacts) return;
    const ratio = failures / Math.max(1, contacts);
    const dsts = this.dsts[s]!;
    const ports = this.portsOnCand[s]!;
    const walk = this.maxLlr[s]! >= this.upper;
    const floor =
      ratio >= cfg.minFailureRatio &&
      (dsts >= cfg.horizontalMinDestinations || ports >= cfg.verticalMinPorts);
    if (!walk && !floor) return;
    const vertical = ports >= cfg.verticalMinPorts && ports >= dsts;
    const type = vertical ? 'vertical' : 'horizontal';
    const first = this.first[s]!;
    const last = this.last[s]!;
    const ttl = this.minTtl[s]!;
    const key = this.table.keys.subarray(s * HOST_KEY_WORDS, (s + 1) * HOST_KEY_WORDS);
    const target = vertical
      ? hashWords(this.candDst, s * 4, 4)
      : this.candPortCount[s]! > 0
        ? this.candPort[s]!
        : 0;
    const hour = Math.floor(first / 3_600_000);
    const fp = mix32(fold32(fold32(fold32(vertical ? 1 : 2, target), initialTtl(ttl)), hour));
    const campaignSources = this.campaigns.add(fp, first, last);
    const research = this.researchOf[s]!;
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
      logLikelihoodRatio: Math.round(this.maxLlr[s]! * 100) / 100,
      randomWalk: walk ? 'scanner' : 'undecided',
      campaignId: fp.toString(16).padStart(8, '0'),
      campaignSources,
    };
    if (!vertical && this.candPortCount[s]! > 0) facts.port = this.candPort[s]!;
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
    if (vertical && this.candDstV[s]) e.counterpart = formatAddressAt(this.candDst, s * 4, this.candDstV[s]);
    this.evidence++;
    this.emit(e);
  }

  private closeUpTo(win: number): void {
    this.touched.sweep((s) => {
      if (this.win[s]! > win) return false;
      if (this.done[s] === 0 && this.contacts[s]! > 0) this.evaluate(s, this.win[s]!);
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
