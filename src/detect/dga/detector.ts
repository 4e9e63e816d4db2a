/**
 * `dga` detector (REQUIREMENTS R-DET-5): a client resolving many random-looking domains in a
 * burst, most of them answered NXDOMAIN — a domain-generation algorithm looking for its C2.
 * From DNS events: per client and window, NXDOMAIN responses and distinct registrable domains
 * whose label the character model (model.ts) scores as machine-made. From flows, when only UDP/53
 * flows to a resolver are visible (a foreign resolver): per (client, resolver), bursts of many
 * short query flows in a few seconds. Algorithm and parameters: README.md.
 */
import type { Evidence } from '../../common/schema/evidence.ts';
import type { DgaConfig } from '../config.ts';
import { SKIP, type DetectBatch } from '../engine/batch.ts';
import type { DnsRow } from '../engine/adapt.ts';
import {
  dnsQueryName,
  dnsResponseCode,
  forEachDnsAnswer,
  parseAddressInto,
  textHostKey,
} from '../engine/dns.ts';
import { hashWords, mix32 } from '../engine/hash.ts';
import { formatHostKey, hostKey, HOST_KEY_WORDS } from '../engine/keys.ts';
import { HashBits, RecordSamples, SeenCache, TouchedSlots } from '../engine/slots.ts';
import { CountMinSketch } from '../engine/sketch.ts';
import { KeyedTable } from '../engine/table.ts';
import type { Detector, DetectorStats, EvidenceSink } from '../engine/types.ts';
import { WindowTimer } from '../engine/windows.ts';
import { defaultDgaModel, splitName, type DgaModel } from './model.ts';

/** Version of the algorithm and defaults. */
export const DGA_VERSION = '1.0.0';

const UDP = 17;
const DNS_PORT = 53;
/** Activity slots per flow window (one bit each). */
const SLOTS = 32;
/** Example names kept per client-window (for the evidence). */
const EXAMPLES = 3;
/** Bytes per client slot: typed columns plus an estimate for the example strings and resolver. */
const CLIENT_COLUMN_BYTES = 8 * 3 + 4 * 5 + 1 + 3 * 48 + 48 + 48;
/** Bytes per pair slot: typed columns. */
const PAIR_COLUMN_BYTES = 8 * 4 + 4 * 4 + 1;

/** Most cells per row of the flow admission sketch (count-min, depth 2; cleared every flow window). */
const ADMIT_CELLS = 1 << 15;

/** Admission sketch width for a budget: at most 1/16 of it, 1,024 to `ADMIT_CELLS` cells per row. */
function admitWidth(budget: number): number {
  let w = 1024;
  while (w * 2 <= ADMIT_CELLS && w * 2 * 8 <= budget / 16) w *= 2;
  return w;
}

/** Cheap 32-bit hash of the address at `words[off..off+4)` (IPv4: one word). */
export function addressHash(words: Uint32Array, off: number, v: number): number {
  if (v === 4) return mix32(words[off]! ^ 0x2545f491);
  return mix32(
    mix32(words[off]! ^ 0x2545f491) ^
      Math.imul(words[off + 1]!, 0x9e3779b1) ^
      mix32(words[off + 2]! + words[off + 3]!),
  );
}

/** Hash of a (client, resolver) pair from their {@link addressHash}es. */
export function pairHash(client: number, server: number): number {
  return mix32(client ^ Math.imul(server, 0x9e3779b1));
}

/** Whether row `i` is for the flow path: a UDP record to port 53, not skipped by the engine. */
function isQueryRow(b: DetectBatch, i: number): boolean {
  return b.skip[i] === SKIP.none && b.proto[i] === UDP && b.dstPort[i] === DNS_PORT;
}

/** Rows per chunk of the flow path's prefetch pass (see `onBatch`). */
const PREFETCH_CHUNK = 256;

/** FNV-1a over a string with a seed (distinct-name fingerprints). */
function fnv(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h);
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** Options of the detector besides its configuration. */
export interface DgaDetectorOptions {
  /** The character model (default: trained on the `email-providers` list). */
  model?: DgaModel;
}

/** Creates the DGA detector. */
export function createDgaDetector(
  config: DgaConfig,
  emit: EvidenceSink,
  options: DgaDetectorOptions = {},
): Detector {
  return new DgaDetector(config, emit, options.model ?? defaultDgaModel());
}

class DgaDetector implements Detector {
  readonly name = 'dga' as const;
  readonly version = DGA_VERSION;
  readonly key = 'source' as const;

  private readonly key5 = new Uint32Array(HOST_KEY_WORDS);
  private readonly key10 = new Uint32Array(HOST_KEY_WORDS * 2);

  // Per client (DNS events).
  private readonly clients: KeyedTable;
  private readonly names: SeenCache;
  private readonly cTouched: TouchedSlots;
  private readonly cSamples: RecordSamples;
  private readonly cTimer: WindowTimer;
  private readonly cPerEntry: number;
  private readonly cWin: Float64Array;
  private readonly cFirst: Float64Array;
  private readonly cLast: Float64Array;
  private readonly cQueries: Uint32Array;
  private readonly cNx: Uint32Array;
  private readonly cDga: Uint32Array;
  private readonly cDgaNx: Uint32Array;
  private readonly cResolved: Uint32Array;
  private readonly cDone: Uint8Array;
  private readonly cExamples: (string[] | undefined)[];
  private readonly cResolver: string[];
  private readonly cC2: (string | undefined)[];

  // Per (client, resolver) (flows).
  private readonly pairs: KeyedTable;
  private readonly servers: HashBits;
  /** (client, resolver) pairs whose DNS events (names) are visible: hashed filter, as `servers`. */
  private readonly named: HashBits;
  private readonly addrScratch = new Uint32Array(8);
  private readonly pHash: Uint32Array;
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
  private readonly pBytes: Float64Array;
  private readonly pQueries: Float64Array;
  private readonly pSlots: Uint32Array;
  private readonly pBursts: Uint32Array;
  private readonly pV: Uint8Array;
  private readonly pDone: Uint8Array;

  /** Learned NXDOMAIN responses per client-window (EWMA mean and mean absolute deviation). */
  private baseMean = 0;
  private baseDev = 0;
  private baseN = 0;
  /** Sink of prefetch loads (kept so that they are not optimised away). */
  private prefetched = 0;
  private records = 0;
  private evidence = 0;

  constructor(
    private readonly cfg: DgaConfig,
    private readonly emit: EvidenceSink,
    private readonly model: DgaModel,
  ) {
    const budget = cfg.stateBudgetBytes;
    this.names = new SeenCache(Math.max(1024, Math.floor(budget / 8 / 9)));
    // "Is a DNS server" filter: one bit per hashed address, up to 2^20 bits (≤ 1/128 of the budget).
    let sm = 1024;
    while (sm * 2 <= Math.min(1 << 20, budget / 16)) sm *= 2;
    this.servers = new HashBits(sm);
    this.named = new HashBits(sm);
    this.admit = new CountMinSketch(admitWidth(budget), 2);
    this.admitQueries = Math.max(2, Math.floor(cfg.flowMinQueries / 4));
    const rest = budget - this.names.bytes - this.servers.bytes - this.named.bytes - this.admit.bytes;
    this.cPerEntry = HOST_KEY_WORDS * 4 + 28 + CLIENT_COLUMN_BYTES + 9;
    this.pPerEntry = HOST_KEY_WORDS * 8 + 28 + PAIR_COLUMN_BYTES + 9;
    this.clients = new KeyedTable(Math.max(16, Math.floor(rest / 2 / this.cPerEntry)), HOST_KEY_WORDS);
    this.pairs = new KeyedTable(Math.max(16, Math.floor(rest / 2 / this.pPerEntry)), HOST_KEY_WORDS * 2);
    const c = this.clients.capacity;
    this.cWin = new Float64Array(c);
    this.cFirst = new Float64Array(c);
    this.cLast = new Float64Array(c);
    this.cQueries = new Uint32Array(c);
    this.cNx = new Uint32Array(c);
    this.cDga = new Uint32Array(c);
    this.cDgaNx = new Uint32Array(c);
    this.cResolved = new Uint32Array(c);
    this.cDone = new Uint8Array(c);
    this.cExamples = new Array<string[] | undefined>(c).fill(undefined);
    this.cResolver = new Array<string>(c).fill('');
    this.cC2 = new Array<string | undefined>(c).fill(undefined);
    this.cTouched = new TouchedSlots(c);
    this.cSamples = new RecordSamples(c, cfg.maxRecordIds);
    this.cTimer = new WindowTimer(cfg.windowMs);
    this.clients.onRemove = (s) => {
      if (this.cDone[s] === 0 && this.cQueries[s]! > 0) this.evaluateClient(s);
      this.cDone[s] = 1;
    };
    const p = this.pairs.capacity;
    this.pWin = new Float64Array(p);
    this.pFirst = new Float64Array(p);
    this.pLast = new Float64Array(p);
    this.pBytes = new Float64Array(p);
    this.pQueries = new Float64Array(p);
    this.pSlots = new Uint32Array(p);
    this.pBursts = new Uint32Array(p);
    this.pV = new Uint8Array(p);
    this.pHash = new Uint32Array(p);
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
    this.markNamed(r.client, r.server);
    const rcode = dnsResponseCode(r.fields);
    if (rcode < 0) return; // a query without its response: nothing to judge yet
    const key = this.key5;
    if (!textHostKey(r.client, cfg.groupIpv6By64, key)) return;
    const t = r.time;
    const h = hashWords(key, 0, HOST_KEY_WORDS);
    const s0 = this.clients.find(key, h);
    const s = s0 >= 0 ? s0 : this.clients.acquire(key, t, h);
    const w = Math.floor(t / cfg.windowMs);
    if (s0 < 0) this.resetClient(s, t, w);
    else {
      this.clients.touch(s, t);
      if (w > this.cWin[s]!) {
        if (this.cDone[s] === 0 && this.cQueries[s]! > 0) this.evaluateClient(s);
        this.resetClient(s, t, w);
      }
    }
    this.cTimer.start(t);
    this.cTouched.add(s);
    if (t < this.cFirst[s]!) this.cFirst[s] = t;
    if (t > this.cLast[s]!) this.cLast[s] = t;
    this.cQueries[s]!++;
    if (this.cResolver[s] === '') this.cResolver[s] = r.server;
    const nx = rcode === 3;
    if (nx) this.cNx[s]!++;
    const name = dnsQueryName(r.fields);
    const parts = name === '' ? undefined : splitName(name);
    let dga = false;
    if (parts !== undefined && !parts.label.startsWith('xn--')) {
      dga = this.model.score(parts.label, cfg.minLabelLength) >= cfg.minScore;
      if (dga && !this.names.seen(fold(h, w), fnv(parts.domain, w))) {
        this.cDga[s]!++;
        if (nx) this.cDgaNx[s]!++;
        let ex = this.cExamples[s];
        if (ex === undefined) this.cExamples[s] = ex = [];
        if (ex.length < EXAMPLES) ex.push(parts.domain);
        if (rcode === 0)
          forEachDnsAnswer(r.fields, (type, data) => {
            if (type !== 1 && type !== 28) return;
            if (this.cC2[s] === undefined) this.cC2[s] = data;
          });
        if (rcode === 0 && this.cC2[s] !== undefined) this.cResolved[s]!++;
      }
    }
    if ((dga || nx) && this.cSamples.wants(s)) this.cSamples.add(s, r.recordId);
  }

  /**
   * Remembers that the names of this (client, resolver) pair are visible: the flow heuristic
   * stands in for invisible names and leaves such pairs to the name-based decision (a DNS
   * tunnel's query stream under one domain is dns-tunnel's finding, not a DGA burst).
   */
  private markNamed(client: string, server: string): void {
    const a = this.addrScratch;
    const vc = parseAddressInto(client, a, 0);
    const vs = vc === 0 ? 0 : parseAddressInto(server, a, 4);
    if (vs === 0) return;
    this.named.set(pairHash(addressHash(a, 0, vc), addressHash(a, 4, vs)));
  }

  private resetClient(s: number, t: number, w: number): void {
    this.cWin[s] = w;
    this.cFirst[s] = t;
    this.cLast[s] = t;
    this.cQueries[s] = 0;
    this.cNx[s] = 0;
    this.cDga[s] = 0;
    this.cDgaNx[s] = 0;
    this.cResolved[s] = 0;
    this.cDone[s] = 0;
    this.cExamples[s] = undefined;
    this.cResolver[s] = '';
    this.cC2[s] = undefined;
    this.cSamples.clear(s);
  }

  /** NXDOMAIN threshold: the floor, or the learned baseline when warm and higher. */
  private nxThreshold(): number {
    const learned =
      this.baseN >= this.cfg.warmupWindows ? this.baseMean + this.cfg.baselineDeviations * this.baseDev : 0;
    return Math.max(this.cfg.minNxdomain, learned);
  }

  private evaluateClient(s: number): void {
    this.cDone[s] = 1;
    const cfg = this.cfg;
    const nx = this.cNx[s]!;
    const dga = this.cDga[s]!;
    const nxThreshold = this.nxThreshold();
    // An NXDOMAIN burst made of DGA-like names; or so many DGA-like names that they need no NXDOMAIN.
    const hit = dga >= cfg.minDgaNames && (nx >= nxThreshold || dga >= 3 * cfg.minDgaNames);
    if (!hit) {
      const a = cfg.baselineAlpha;
      const d = nx - this.baseMean;
      this.baseMean = this.baseN === 0 ? nx : this.baseMean + a * d;
      this.baseDev += a * (Math.abs(d) - this.baseDev);
      this.baseN++;
      return;
    }
    const windowStart = this.cWin[s]! * cfg.windowMs;
    const c2 = this.cC2[s];
    const facts: Record<string, number | string> = {
      via: 'dns',
      queries: this.cQueries[s]!,
      nxdomain: nx,
      dgaNames: dga,
      dgaNxdomain: this.cDgaNx[s]!,
      resolvedDgaNames: this.cResolved[s]!,
      nxThreshold: Math.round(nxThreshold * 10) / 10,
      resolver: this.cResolver[s]!,
      examples: (this.cExamples[s] ?? []).join(' '),
    };
    if (c2 !== undefined) facts.resolvedTo = c2;
    this.push({
      detector: 'dga',
      version: DGA_VERSION,
      subject: formatHostKey(this.clients.keys, s * HOST_KEY_WORDS),
      counterpart: c2 ?? this.cResolver[s]!,
      window: {
        start: Math.min(windowStart, this.cFirst[s]!),
        end: Math.max(windowStart + cfg.windowMs, this.cLast[s]! + 1),
      },
      confidence: round3(Math.min(0.99, 0.5 + 0.5 * Math.min(1, dga / (4 * cfg.minDgaNames)))),
      severity: c2 !== undefined ? 'high' : 'medium',
      facts,
      recordIds: this.cSamples.take(s),
    });
  }

  // ---- flows (UDP/53 to a resolver whose names are not visible) -------------------------------

  onBatch(b: DetectBatch): void {
    if (!this.cfg.flowEnabled) return;
    const n = b.length;
    let sink = 0;
    for (let c0 = 0; c0 < n; c0 += PREFETCH_CHUNK) {
      const c1 = Math.min(n, c0 + PREFETCH_CHUNK);
      // First load the filter words and sketch counters of the chunk's queries (independent
      // loads: the CPU overlaps their cache misses), then do the work on cached lines.
      for (let i = c0; i < c1; i++) {
        if (!isQueryRow(b, i)) continue;
        const v = b.ipVersion[i]!;
        const sh = addressHash(b.src, i * 4, v);
        const ph = pairHash(sh, addressHash(b.dst, i * 4, v));
        sink ^= this.servers.peek(sh) ^ this.named.peek(ph) ^ this.admit.peek(ph);
      }
      for (let i = c0; i < c1; i++) if (isQueryRow(b, i)) this.onRecord(b, i);
    }
    this.prefetched ^= sink;
  }

  onRecord(b: DetectBatch, i: number): void {
    this.records++;
    const cfg = this.cfg;
    if (!cfg.flowEnabled || b.proto[i] !== UDP || b.dstPort[i] !== DNS_PORT || b.srcPort[i]! < 1024) return;
    const v = b.ipVersion[i]!;
    const off = i * 4;
    // The destination answers DNS queries: remember it, and skip sources that are servers
    // themselves (a resolver's upstream queries are not a client's).
    const sh = addressHash(b.src, off, v);
    const dh = addressHash(b.dst, off, v);
    this.servers.set(dh);
    if (this.servers.has(sh)) return;
    const t = b.time[i]!;
    const w = Math.floor(t / cfg.flowWindowMs);
    // Admission: a pair gets exact state only once the window's sketch counts a few queries,
    // so the many clients with an occasional query cost two sketch cells, not a table slot.
    if (w > this.admitWin) {
      this.admit.clear();
      this.admitWin = w;
    }
    const ph = pairHash(sh, dh);
    if (this.named.has(ph)) return; // names visible: the DNS path judges
    const packets = Math.max(1, b.packets[i]!);
    const est = this.admit.add(ph, packets);
    if (est < this.admitQueries) return;
    const key = this.key10;
    hostKey(b.src, off, v, cfg.groupIpv6By64, key, 0);
    hostKey(b.dst, off, v, false, key, HOST_KEY_WORDS);
    const h = hashWords(key, 0, HOST_KEY_WORDS * 2);
    const s0 = this.pairs.find(key, h);
    const s = s0 >= 0 ? s0 : this.pairs.acquire(key, t, h);
    let counted = packets;
    if (s0 < 0) {
      this.pBursts[s] = 0;
      this.pV[s] = v;
      this.pHash[s] = ph;
      this.resetPair(s, t, w);
      counted = est; // the queries the sketch saw before admission
    } else {
      this.pairs.touch(s, t);
      if (w > this.pWin[s]!) {
        if (this.pDone[s] === 0 && this.pQueries[s]! > 0) this.evaluatePair(s);
        this.resetPair(s, t, w);
        counted = est;
      }
    }
    this.pTimer.start(t);
    this.pTouched.add(s);
    if (t < this.pFirst[s]!) this.pFirst[s] = t;
    if (t > this.pLast[s]!) this.pLast[s] = t;
    this.pQueries[s]! += counted;
    this.pBytes[s]! += (b.octets[i]! / packets) * counted;
    const slot = Math.min(SLOTS - 1, Math.floor(((t - w * cfg.flowWindowMs) * SLOTS) / cfg.flowWindowMs));
    this.pSlots[s]! |= 1 << slot;
    if (this.pSamples.wants(s)) this.pSamples.add(s, b.recordId(i));
  }

  private resetPair(s: number, t: number, w: number): void {
    this.pWin[s] = w;
    this.pFirst[s] = t;
    this.pLast[s] = t;
    this.pQueries[s] = 0;
    this.pBytes[s] = 0;
    this.pSlots[s] = 0;
    this.pDone[s] = 0;
    this.pSamples.clear(s);
  }

  private evaluatePair(s: number): void {
    this.pDone[s] = 1;
    const cfg = this.cfg;
    const n = this.pQueries[s]!;
    const active = popcount(this.pSlots[s]!);
    // Names of the pair became visible after its flows (DNS events lag): the DNS path judges.
    const named = this.named.has(this.pHash[s]!);
    if (named || n < cfg.flowMinQueries || active > cfg.flowMaxActiveShare * SLOTS) {
      this.pSamples.clear(s);
      return;
    }
    const bursts = ++this.pBursts[s]!;
    const k = this.pairs.keys;
    const windowStart = this.pWin[s]! * cfg.flowWindowMs;
    const slotMs = cfg.flowWindowMs / SLOTS;
    this.push({
      detector: 'dga',
      version: DGA_VERSION,
      subject: formatHostKey(k, s * HOST_KEY_WORDS * 2),
      counterpart: formatHostKey(k, s * HOST_KEY_WORDS * 2 + HOST_KEY_WORDS),
      window: { start: windowStart, end: windowStart + cfg.flowWindowMs },
      confidence: round3(Math.min(0.9, 0.3 + 0.15 * bursts)),
      severity: bursts >= cfg.flowMinBursts ? 'medium' : 'low',
      facts: {
        via: 'flows',
        queries: Math.round(n),
        activeSlots: active,
        burstSeconds: Math.round((active * slotMs) / 100) / 10,
        meanQueryBytes: Math.round(this.pBytes[s]! / n),
        bursts,
      },
      recordIds: this.pSamples.take(s),
    });
  }

  // ---- windows -----------------------------------------------------------------------------------

  private push(e: Evidence): void {
    this.evidence++;
    this.emit(e);
  }

  private closeClients(win: number): void {
    this.cTouched.sweep((s) => {
      if (this.cWin[s]! > win) return false;
      if (this.cDone[s] === 0 && this.cQueries[s]! > 0) this.evaluateClient(s);
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
    this.cTimer.closeDue(t, (k) => this.closeClients(k));
    this.pTimer.closeDue(t, (k) => this.closePairs(k));
    this.clients.expire(t - this.cfg.keyTtlMs);
    this.pairs.expire(t - this.cfg.keyTtlMs);
  }

  flush(): void {
    this.closeClients(Infinity);
    this.closePairs(Infinity);
  }

  stats(): DetectorStats {
    const fixed = this.names.bytes + this.servers.bytes + this.named.bytes + this.admit.bytes;
    return {
      records: this.records,
      evidence: this.evidence,
      keys: this.clients.size + this.pairs.size,
      bytesUsed: this.clients.size * this.cPerEntry + this.pairs.size * this.pPerEntry + fixed,
      bytesReserved: this.clients.capacity * this.cPerEntry + this.pairs.capacity * this.pPerEntry + fixed,
      budgetBytes: this.cfg.stateBudgetBytes,
      evictions: this.clients.evictions + this.pairs.evictions,
      expired: this.clients.expired + this.pairs.expired,
    };
  }
}

function fold(h: number, w: number): number {
  return mix32(h ^ Math.imul(w | 0, 0x9e3779b1));
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
