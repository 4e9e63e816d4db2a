/**
 * `dns-tunnel` detector (REQUIREMENTS R-DET-5): data carried in DNS names and answers — one client
 * querying many distinct, long, high-entropy names under one registrable domain, often TXT/NULL,
 * at a sustained rate. From DNS events: per (client, registrable domain) and window, distinct
 * subdomains (HyperLogLog), subdomain length and entropy, TXT/NULL volume, NXDOMAIN share. From
 * flows, when only UDP/53 flows to a resolver are visible: per (client, resolver), sustained
 * volume of large query datagrams. Algorithm and parameters: README.md.
 */
import type { Evidence, Severity } from '../../common/schema/evidence.ts';
import type { DnsTunnelConfig } from '../config.ts';
import { SKIP, type DetectBatch } from '../engine/batch.ts';
import type { DnsRow } from '../engine/adapt.ts';
import { dnsCount, dnsQueryName, dnsQueryType, dnsResponseCode, textHostKey } from '../engine/dns.ts';
import { hashWords, mix32 } from '../engine/hash.ts';
import { formatHostKey, hostKey, HOST_KEY_WORDS } from '../engine/keys.ts';
import { CountMinSketch, HllPool } from '../engine/sketch.ts';
import { HashBits, RecordSamples, TouchedSlots } from '../engine/slots.ts';
import { KeyedTable } from '../engine/table.ts';
import type { Detector, DetectorStats, EvidenceSink } from '../engine/types.ts';
import { WindowTimer } from '../engine/windows.ts';
import { addressHash, pairHash } from '../dga/detector.ts';
import { splitName } from '../dga/model.ts';

/** Version of the algorithm and defaults. */
export const DNS_TUNNEL_VERSION = '1.0.0';

const UDP = 17;
const DNS_PORT = 53;
/** Whether row `i` is for the flow path: UDP to or from port 53, not skipped by the engine. */
function isDnsRow(b: DetectBatch, i: number): boolean {
  return (
    b.skip[i] === SKIP.none && b.proto[i] === UDP && (b.dstPort[i] === DNS_PORT || b.srcPort[i] === DNS_PORT)
  );
}

/** Rows per chunk of the flow path's prefetch pass (see `onBatch`). */
const PREFETCH_CHUNK = 256;
/** Query types that carry data in answers: TXT (16), NULL (10). */
const TXT = 16;
const NULL_RR = 10;
/** Key words of a (client, domain) pair: host key + 64-bit domain fingerprint. */
const DOMAIN_KEY_WORDS = HOST_KEY_WORDS + 2;
/** Typed columns of a (client, domain) slot plus an estimate for its two strings. */
const DOMAIN_COLUMN_BYTES = 8 * 7 + 4 * 4 + 2 + 1 + 64 + 48;
/** Typed columns of a (client, resolver) slot. */
const PAIR_COLUMN_BYTES = 8 * 5 + 4 * 2 + 1;

/** Most cells per row of the flow admission sketch (count-min, depth 2; cleared every flow window). */
const ADMIT_CELLS = 1 << 15;

/** Admission sketch width for a budget: at most 1/16 of it, 1,024 to `ADMIT_CELLS` cells per row. */
function admitWidth(budget: number): number {
  let w = 1024;
  while (w * 2 <= ADMIT_CELLS && w * 2 * 8 <= budget / 16) w *= 2;
  return w;
}

/** FNV-1a over a string with a seed. */
function fnv(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h);
}

const charCounts = new Uint16Array(128);

/** Shannon entropy (bits per character) of the characters of `s` other than dots. */
export function charEntropy(s: string): number {
  let n = 0;
  const used: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 127;
    if (c === 46) continue;
    if (charCounts[c] === 0) used.push(c);
    charCounts[c]!++;
    n++;
  }
  let e = 0;
  for (const c of used) {
    const p = charCounts[c]! / n;
    e -= p * Math.log2(p);
    charCounts[c] = 0;
  }
  return e;
}

/** Longest label of a dotted name. */
function maxLabel(s: string): number {
  let best = 0;
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) === 46) run = 0;
    else if (++run > best) best = run;
  }
  return best;
}

/** Creates the DNS tunnel detector. */
export function createDnsTunnelDetector(config: DnsTunnelConfig, emit: EvidenceSink): Detector {
  return new DnsTunnelDetector(config, emit);
}

class DnsTunnelDetector implements Detector {
  readonly name = 'dns-tunnel' as const;
  readonly version = DNS_TUNNEL_VERSION;
  readonly key = 'source' as const;

  private readonly key7 = new Uint32Array(DOMAIN_KEY_WORDS);
  private readonly key10 = new Uint32Array(HOST_KEY_WORDS * 2);

  // Per (client, registrable domain): DNS events.
  private readonly doms: KeyedTable;
  private readonly hll: HllPool;
  private readonly dTouched: TouchedSlots;
  private readonly dSamples: RecordSamples;
  private readonly dTimer: WindowTimer;
  private readonly dPerEntry: number;
  private readonly dWin: Float64Array;
  private readonly dFirst: Float64Array;
  private readonly dLast: Float64Array;
  private readonly dSubLen: Float64Array;
  private readonly dEntropy: Float64Array;
  private readonly dTxtBytes: Float64Array;
  private readonly dRespBytes: Float64Array;
  private readonly dQueries: Uint32Array;
  private readonly dNx: Uint32Array;
  private readonly dTxt: Uint32Array;
  private readonly dFlagged: Uint32Array;
  private readonly dMaxLabel: Uint16Array;
  private readonly dDone: Uint8Array;
  private readonly dDomain: string[];
  private readonly dResolver: string[];

  // Per (client, resolver): flows.
  private readonly pairs: KeyedTable;
  private readonly servers: HashBits;
  private readonly admit: CountMinSketch;
  private readonly admitQueries: number;
  private admitWin = -Infinity;
  private readonly pTouched: TouchedSlots;
  private readonly pSamples: RecordSamples;
  private readonly pTimer: WindowTimer;
  private readonly pPerEntry: number;
  private readonly pWin: Float64Array;
  private readonly pFirst: Float64Array;
  private readonly pLast: Float64Array;
  private readonly pQueries: Float64Array;
  private readonly pQBytes: Float64Array;
  private readonly pABytes: Float64Array;
  private readonly pFlagged: Uint32Array;
  private readonly pDone: Uint8Array;

  /** Sink of prefetch loads (kept so that they are not optimised away). */
  private prefetched = 0;
  private records = 0;
  private evidence = 0;

  constructor(
    private readonly cfg: DnsTunnelConfig,
    private readonly emit: EvidenceSink,
  ) {
    const budget = cfg.stateBudgetBytes;
    let sm = 1024;
    while (sm * 2 <= Math.min(1 << 20, budget / 16)) sm *= 2;
    this.servers = new HashBits(sm);
    this.admit = new CountMinSketch(admitWidth(budget), 2);
    this.admitQueries = Math.max(2, Math.floor(cfg.flowMinQueries / 4));
    const rest = budget - this.servers.bytes - this.admit.bytes;
    const hllBytes = 1 << Math.max(4, Math.min(16, cfg.hllPrecision));
    this.dPerEntry = DOMAIN_KEY_WORDS * 4 + 28 + DOMAIN_COLUMN_BYTES + 9 + hllBytes;
    this.pPerEntry = HOST_KEY_WORDS * 8 + 28 + PAIR_COLUMN_BYTES + 9;
    // Three quarters for the name-level state (the richer signal), a quarter for flows.
    this.doms = new KeyedTable(Math.max(16, Math.floor((rest * 0.75) / this.dPerEntry)), DOMAIN_KEY_WORDS);
    this.pairs = new KeyedTable(Math.max(16, Math.floor((rest * 0.25) / this.pPerEntry)), HOST_KEY_WORDS * 2);
    const c = this.doms.capacity;
    this.hll = new HllPool(c, cfg.hllPrecision);
    this.dWin = new Float64Array(c);
    this.dFirst = new Float64Array(c);
    this.dLast = new Float64Array(c);
    this.dSubLen = new Float64Array(c);
    this.dEntropy = new Float64Array(c);
    this.dTxtBytes = new Float64Array(c);
    this.dRespBytes = new Float64Array(c);
    this.dQueries = new Uint32Array(c);
    this.dNx = new Uint32Array(c);
    this.dTxt = new Uint32Array(c);
    this.dFlagged = new Uint32Array(c);
    this.dMaxLabel = new Uint16Array(c);
    this.dDone = new Uint8Array(c);
    this.dDomain = new Array<string>(c).fill('');
    this.dResolver = new Array<string>(c).fill('');
    this.dTouched = new TouchedSlots(c);
    this.dSamples = new RecordSamples(c, cfg.maxRecordIds);
    this.dTimer = new WindowTimer(cfg.windowMs);
    this.doms.onRemove = (s) => {
      if (this.dDone[s] === 0 && this.dQueries[s]! > 0) this.evaluateDomain(s);
      this.dDone[s] = 1;
    };
    const p = this.pairs.capacity;
    this.pWin = new Float64Array(p);
    this.pFirst = new Float64Array(p);
    this.pLast = new Float64Array(p);
    this.pQueries = new Float64Array(p);
    this.pQBytes = new Float64Array(p);
    this.pABytes = new Float64Array(p);
    this.pFlagged = new Uint32Array(p);
    this.pDone = new Uint8Array(p);
    this.pTouched = new TouchedSlots(p);
    this.pSamples = new RecordSamples(p, cfg.maxRecordIds);
    this.pTimer = new WindowTimer(cfg.flowWindowMs);
    this.pairs.onRemove = (s) => {
      if (this.pDone[s] === 0 && this.pQueries[s]! > 0) this.evaluatePair(s);
      this.pDone[s] = 1;
    };
  }

  // ---- DNS events ------------------------------------------------------------------------------

  onDns(r: DnsRow): void {
    this.records++;
    const cfg = this.cfg;
    const name = dnsQueryName(r.fields);
    if (name === '') return;
    const parts = splitName(name);
    if (parts === undefined || parts.sub === '') return;
    const key = this.key7;
    if (!textHostKey(r.client, cfg.groupIpv6By64, key)) return;
    key[HOST_KEY_WORDS] = fnv(parts.domain, 1);
    key[HOST_KEY_WORDS + 1] = fnv(parts.domain, 2);
    const t = r.time;
    const h = hashWords(key, 0, DOMAIN_KEY_WORDS);
    const s0 = this.doms.find(key, h);
    const s = s0 >= 0 ? s0 : this.doms.acquire(key, t, h);
    const w = Math.floor(t / cfg.windowMs);
    if (s0 < 0) {
      this.dFlagged[s] = 0;
      this.dDomain[s] = parts.domain;
      this.resetDomain(s, t, w);
    } else {
      this.doms.touch(s, t);
      if (w > this.dWin[s]!) {
        if (this.dDone[s] === 0 && this.dQueries[s]! > 0) this.evaluateDomain(s);
        this.resetDomain(s, t, w);
      }
    }
    this.dTimer.start(t);
    this.dTouched.add(s);
    if (t < this.dFirst[s]!) this.dFirst[s] = t;
    if (t > this.dLast[s]!) this.dLast[s] = t;
    this.dQueries[s]!++;
    if (this.dResolver[s] === '') this.dResolver[s] = r.server;
    this.hll.add(s, fnv(parts.sub, 3));
    this.dSubLen[s]! += parts.sub.length;
    this.dEntropy[s]! += charEntropy(parts.sub);
    const ml = maxLabel(parts.sub);
    if (ml > this.dMaxLabel[s]!) this.dMaxLabel[s] = ml;
    const f = r.fields;
    const qtype = dnsQueryType(f);
    const txtCount = dnsCount(f, 'dnsTxtCount');
    if (qtype === TXT || qtype === NULL_RR || txtCount > 0) this.dTxt[s]!++;
    this.dTxtBytes[s]! += dnsCount(f, 'dnsTxtBytes');
    this.dRespBytes[s]! += dnsCount(f, 'dnsMessageSize');
    if (dnsResponseCode(f) === 3) this.dNx[s]!++;
    if (this.dSamples.wants(s)) this.dSamples.add(s, r.recordId);
  }

  private resetDomain(s: number, t: number, w: number): void {
    this.dWin[s] = w;
    this.dFirst[s] = t;
    this.dLast[s] = t;
    this.dSubLen[s] = 0;
    this.dEntropy[s] = 0;
    this.dTxtBytes[s] = 0;
    this.dRespBytes[s] = 0;
    this.dQueries[s] = 0;
    this.dNx[s] = 0;
    this.dTxt[s] = 0;
    this.dMaxLabel[s] = 0;
    this.dDone[s] = 0;
    this.dResolver[s] = '';
    this.hll.clear(s);
    this.dSamples.clear(s);
  }

  private evaluateDomain(s: number): void {
    this.dDone[s] = 1;
    const cfg = this.cfg;
    const n = this.dQueries[s]!;
    const unique = Math.min(n, Math.round(this.hll.count(s)));
    if (unique < cfg.minUniqueSubdomains) {
      this.dSamples.clear(s);
      return;
    }
    const meanSub = this.dSubLen[s]! / n;
    const meanEnt = this.dEntropy[s]! / n;
    const nxShare = this.dNx[s]! / n;
    const txtShare = this.dTxt[s]! / n;
    const encoded = meanSub >= cfg.minMeanSubdomainLength || meanEnt >= cfg.minMeanEntropy;
    const randomSub = nxShare >= cfg.minNxShare;
    if (!encoded && !randomSub) {
      this.dSamples.clear(s);
      return;
    }
    const flagged = ++this.dFlagged[s]!;
    let severity: Severity = 'low';
    if (encoded) severity = flagged >= cfg.highWindows || txtShare >= cfg.highTxtShare ? 'high' : 'medium';
    const windowStart = this.dWin[s]! * cfg.windowMs;
    const e: Evidence = {
      detector: 'dns-tunnel',
      version: DNS_TUNNEL_VERSION,
      subject: formatHostKey(this.doms.keys, s * DOMAIN_KEY_WORDS),
      window: {
        start: Math.min(windowStart, this.dFirst[s]!),
        end: Math.max(windowStart + cfg.windowMs, this.dLast[s]! + 1),
      },
      confidence: round3(
        Math.min(0.99, 0.4 + 0.3 * Math.min(1, unique / (4 * cfg.minUniqueSubdomains)) + 0.3 * txtShare),
      ),
      severity,
      facts: {
        via: 'dns',
        type: encoded ? 'encoded-names' : 'random-subdomains',
        domain: this.dDomain[s]!,
        queries: n,
        uniqueSubdomains: unique,
        meanSubdomainLength: Math.round(meanSub * 10) / 10,
        maxLabelLength: this.dMaxLabel[s]!,
        meanEntropy: Math.round(meanEnt * 100) / 100,
        txtQueries: this.dTxt[s]!,
        txtBytes: this.dTxtBytes[s]!,
        nxdomain: this.dNx[s]!,
        responseBytes: this.dRespBytes[s]!,
        windowsFlagged: flagged,
      },
      recordIds: this.dSamples.take(s),
    };
    if (this.dResolver[s] !== '') e.counterpart = this.dResolver[s]!;
    this.push(e);
  }

  // ---- flows ---------------------------------------------------------------------------------

  onBatch(b: DetectBatch): void {
    if (!this.cfg.flowEnabled) return;
    const n = b.length;
    let sink = 0;
    for (let c0 = 0; c0 < n; c0 += PREFETCH_CHUNK) {
      const c1 = Math.min(n, c0 + PREFETCH_CHUNK);
      // First load the filter words and sketch counters of the chunk's DNS rows (independent
      // loads: the CPU overlaps their cache misses), then do the work on cached lines.
      for (let i = c0; i < c1; i++) {
        if (!isDnsRow(b, i)) continue;
        const query = b.dstPort[i] === DNS_PORT;
        const v = b.ipVersion[i]!;
        const ch = addressHash(query ? b.src : b.dst, i * 4, v);
        sink ^=
          this.servers.peek(ch) ^ this.admit.peek(pairHash(ch, addressHash(query ? b.dst : b.src, i * 4, v)));
      }
      for (let i = c0; i < c1; i++) if (isDnsRow(b, i)) this.onRecord(b, i);
    }
    this.prefetched ^= sink;
  }

  onRecord(b: DetectBatch, i: number): void {
    this.records++;
    const cfg = this.cfg;
    if (!cfg.flowEnabled || b.proto[i] !== UDP) return;
    const query = b.dstPort[i] === DNS_PORT && b.srcPort[i]! >= 1024;
    const answer = b.srcPort[i] === DNS_PORT && b.dstPort[i]! >= 1024;
    if (!query && !answer) return;
    const v = b.ipVersion[i]!;
    const off = i * 4;
    const client = query ? b.src : b.dst;
    const server = query ? b.dst : b.src;
    const ch = addressHash(client, off, v);
    const sh = addressHash(server, off, v);
    if (query) this.servers.set(sh);
    // A resolver's own upstream queries are not a client's.
    if (this.servers.has(ch)) return;
    const t = b.time[i]!;
    const w = Math.floor(t / cfg.flowWindowMs);
    // Admission (as in `dga`): exact state only once the window's sketch counts a few queries.
    if (w > this.admitWin) {
      this.admit.clear();
      this.admitWin = w;
    }
    const ph = pairHash(ch, sh);
    const packets = Math.max(1, b.packets[i]!);
    const est = query ? this.admit.add(ph, packets) : this.admit.estimate(ph);
    if (est < this.admitQueries) return;
    const key = this.key10;
    hostKey(client, off, v, cfg.groupIpv6By64, key, 0);
    hostKey(server, off, v, false, key, HOST_KEY_WORDS);
    const h = hashWords(key, 0, HOST_KEY_WORDS * 2);
    const s0 = this.pairs.find(key, h);
    if (s0 < 0 && !query) return; // answers alone do not open state
    const s = s0 >= 0 ? s0 : this.pairs.acquire(key, t, h);
    // Queries the sketch saw before admission count too (their mean size is this one's).
    let counted = packets;
    if (s0 < 0) {
      this.pFlagged[s] = 0;
      this.resetPair(s, t, w);
      counted = est;
    } else {
      this.pairs.touch(s, t);
      if (w > this.pWin[s]!) {
        if (this.pDone[s] === 0 && this.pQueries[s]! > 0) this.evaluatePair(s);
        this.resetPair(s, t, w);
        if (query) counted = est;
      }
    }
    this.pTimer.start(t);
    this.pTouched.add(s);
    if (t < this.pFirst[s]!) this.pFirst[s] = t;
    if (t > this.pLast[s]!) this.pLast[s] = t;
    if (query) {
      this.pQueries[s]! += counted;
      this.pQBytes[s]! += (b.octets[i]! / packets) * counted;
      if (this.pSamples.wants(s)) this.pSamples.add(s, b.recordId(i));
    } else this.pABytes[s]! += b.octets[i]!;
  }

  private resetPair(s: number, t: number, w: number): void {
    this.pWin[s] = w;
    this.pFirst[s] = t;
    this.pLast[s] = t;
    this.pQueries[s] = 0;
    this.pQBytes[s] = 0;
    this.pABytes[s] = 0;
    this.pDone[s] = 0;
    this.pSamples.clear(s);
  }

  private evaluatePair(s: number): void {
    this.pDone[s] = 1;
    const cfg = this.cfg;
    const n = this.pQueries[s]!;
    const meanQ = this.pQBytes[s]! / Math.max(1, n);
    if (n < cfg.flowMinQueries || meanQ < cfg.flowMinMeanQueryBytes) {
      this.pSamples.clear(s);
      return;
    }
    const flagged = ++this.pFlagged[s]!;
    const k = this.pairs.keys;
    const windowStart = this.pWin[s]! * cfg.flowWindowMs;
    this.push({
      detector: 'dns-tunnel',
      version: DNS_TUNNEL_VERSION,
      subject: formatHostKey(k, s * HOST_KEY_WORDS * 2),
      counterpart: formatHostKey(k, s * HOST_KEY_WORDS * 2 + HOST_KEY_WORDS),
      window: { start: windowStart, end: windowStart + cfg.flowWindowMs },
      confidence: round3(
        Math.min(0.9, 0.4 + 0.1 * flagged + Math.min(0.2, (meanQ - cfg.flowMinMeanQueryBytes) / 500)),
      ),
      severity: flagged >= cfg.highWindows ? 'high' : 'medium',
      facts: {
        via: 'flows',
        type: 'volume',
        queries: Math.round(n),
        meanQueryBytes: Math.round(meanQ),
        queryBytes: Math.round(this.pQBytes[s]!),
        answerBytes: Math.round(this.pABytes[s]!),
        queriesPerSecond: Math.round((n / (cfg.flowWindowMs / 1000)) * 100) / 100,
        windowsFlagged: flagged,
      },
      recordIds: this.pSamples.take(s),
    });
  }

  // ---- windows ---------------------------------------------------------------------------------

  private push(e: Evidence): void {
    this.evidence++;
    this.emit(e);
  }

  private closeDomains(win: number): void {
    this.dTouched.sweep((s) => {
      if (this.dWin[s]! > win) return false;
      if (this.dDone[s] === 0 && this.dQueries[s]! > 0) this.evaluateDomain(s);
      return true;
    });
  }

  private closePairs(win: number): void {
    this.pTouched.sweep((s) => {
      if (this.pWin[s]! > win) return false;
      if (this.pDone[s] === 0 && this.pQueries[s]! > 0) this.evaluatePair(s);
      return true;
    });
  }

  onWatermark(t: number): void {
    this.dTimer.closeDue(t, (k) => this.closeDomains(k));
    this.pTimer.closeDue(t, (k) => this.closePairs(k));
    this.doms.expire(t - this.cfg.keyTtlMs);
    this.pairs.expire(t - this.cfg.keyTtlMs);
  }

  flush(): void {
    this.closeDomains(Infinity);
    this.closePairs(Infinity);
  }

  stats(): DetectorStats {
    return {
      records: this.records,
      evidence: this.evidence,
      keys: this.doms.size + this.pairs.size,
      bytesUsed:
        this.doms.size * this.dPerEntry +
        this.pairs.size * this.pPerEntry +
        this.servers.bytes +
        this.admit.bytes,
      bytesReserved:
        this.doms.capacity * this.dPerEntry +
        this.pairs.capacity * this.pPerEntry +
        this.servers.bytes +
        this.admit.bytes,
      budgetBytes: this.cfg.stateBudgetBytes,
      evictions: this.doms.evictions + this.pairs.evictions,
      expired: this.doms.expired + this.pairs.expired,
    };
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
