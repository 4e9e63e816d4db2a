/**
 * Background traffic of the synthetic country (issue 4): what the providers' networks carry when
 * nothing is attacking. A `RecordSource` that, for each slice of event time, emits flow records
 * (or, in DNS mode, resolver DNS events) at a density that follows the daily cycle
 * (`diurnal.ts`), over a service mix with heavy-tailed sizes, in three directions (domestic ↔
 * foreign, domestic ↔ domestic, foreign ↔ foreign transit), plus the *benign look-alikes* that a
 * naive detector mistakes for attacks: research scanners, CDN fan-out, software-update bursts,
 * periodic keep-alives and nightly backups to foreign clouds. Every parameter is a named constant
 * or a field of `BackgroundConfig`, documented in docs/simulate.md.
 *
 * Determinism: every draw comes from the `Rng` handed in, and records are produced in a fixed
 * order, so the same seed and slices give the same records.
 */
import type { Fields } from '../../common/schema/index.ts';
import { formatIpv4, parsePrefix } from '../../common/prefixes/index.ts';
import type { CountryModel, ForeignHost, Rng } from '../country/index.ts';
import { DiurnalCurve, JST_PROFILE, type DiurnalProfile } from './diurnal.ts';
import { cumulative, lognormal, pareto, pickCumulative, uniform } from './distributions.ts';
import { POPULAR_DOMAINS } from './domains.ts';
import type { GeneratedRecord, RecordSource } from './types.ts';

/** Services of the ordinary mix. */
export const SERVICES = ['web', 'video', 'dns', 'mail', 'ntp', 'vpn', 'cloud', 'icmp'] as const;
/** A service of the ordinary mix. */
export type ServiceName = (typeof SERVICES)[number];

/** Look-alike names (record label `lookalike:<name>`). */
export const LOOKALIKES = [
  'research-scanner',
  'cdn-short-flows',
  'software-update',
  'keepalive',
  'nightly-backup',
] as const;
/** A benign look-alike. */
export type LookalikeName = (typeof LOOKALIKES)[number];

/** Relative share of sessions per service (documented defaults). */
export const DEFAULT_SERVICE_MIX: Readonly<Record<ServiceName, number>> = {
  web: 44,
  video: 5,
  dns: 20,
  mail: 3,
  ntp: 3,
  vpn: 2,
  cloud: 10,
  icmp: 1.5,
};

/** Direction of ordinary sessions: shares of domestic↔foreign, domestic↔domestic and transit. */
export const DEFAULT_DIRECTIONS = { domesticForeign: 0.78, domesticDomestic: 0.15, transit: 0.07 } as const;

/** Parameters of the look-alikes (documented in docs/simulate.md). */
export interface LookalikeParams {
  /** Research scanners: share of background sessions that are scanner probes (1 record each). */
  scannerShare: number;
  /** Scanner hosts used (from known research-scanner organisations' ranges). */
  scannerHosts: number;
  /** CDN fan-out: share of sessions that start a burst, flows per burst and burst spread (s). */
  cdnBurstShare: number;
  cdnFlowsMin: number;
  cdnFlowsMax: number;
  cdnSpreadSeconds: number;
  /** Software updates: window every `updatePeriodHours` (from local midnight), `updateWindowMinutes` long. */
  updatePeriodHours: number;
  updateWindowMinutes: number;
  /** Share of sessions that are update downloads while a window is open; median size (bytes). */
  updateShare: number;
  updateMedianBytes: number;
  /** Keep-alives: records/s as a share of the background density, periods (s) and jitter (±fraction). */
  keepaliveShare: number;
  keepalivePeriods: readonly number[];
  keepaliveJitter: number;
  /** Nightly backups: hosts, local start window [from, from + span) hours, median duration (min), median Mbit/s. */
  backupHosts: number;
  backupStartHour: number;
  backupStartSpanHours: number;
  backupMedianMinutes: number;
  backupMedianMbps: number;
}

/** Default look-alike parameters. */
export const DEFAULT_LOOKALIKES: Readonly<LookalikeParams> = {
  scannerShare: 0.015,
  scannerHosts: 6,
  cdnBurstShare: 0.004,
  cdnFlowsMin: 20,
  cdnFlowsMax: 60,
  cdnSpreadSeconds: 3,
  updatePeriodHours: 6,
  updateWindowMinutes: 20,
  updateShare: 0.04,
  updateMedianBytes: 80e6,
  keepaliveShare: 0.02,
  keepalivePeriods: [30, 60, 120, 270, 300],
  keepaliveJitter: 0.1,
  backupHosts: 6,
  backupStartHour: 1,
  backupStartSpanHours: 2.5,
  backupMedianMinutes: 40,
  backupMedianMbps: 80,
};

/** Exporters' active timeout: a longer flow is exported as consecutive records of at most this. */
export const ACTIVE_TIMEOUT_MS = 300_000;
/** Interval of the records of a long transfer (backups): routers often use 60 s active timeouts. */
export const BACKUP_RECORD_INTERVAL_MS = 60_000;
/** Most bytes one record may carry (a 64-bit counter could take more; this keeps sums exact). */
const MAX_RECORD_BYTES = 8e9;

/** Configuration of the background source. */
export interface BackgroundConfig {
  /** Mean records (flows, or DNS events with `kind: 'dns'`) per event second over a day. */
  density: number;
  /** `flow`: flow records (DNS appears as flows); `dns`: resolver DNS events only. */
  kind: 'flow' | 'dns';
  diurnal?: DiurnalProfile;
  mix?: Partial<Record<ServiceName, number>>;
  directions?: { domesticForeign: number; domesticDomestic: number; transit: number };
  /** Share of DNS queries answered NXDOMAIN (default 0.05). */
  nxdomainRate?: number;
  /** Share of subscriber sessions over IPv6 when both ends can (default 0.25). */
  ipv6Share?: number;
  lookalikes?: Partial<LookalikeParams>;
  /** Research-scanner hosts (see `findScannerHosts`); empty: documented fallback ranges. */
  scanners?: readonly ForeignHost[];
}

/**
 * Published research-scanner ranges used when the prefix table finds no scanner organisation:
 * Censys (AS398324) announces these for its scanning, per its public documentation.
 */
export const FALLBACK_SCANNER_PREFIXES: readonly string[] = [
  '162.142.125.0/24',
  '167.94.138.0/24',
  '167.94.145.0/24',
  '167.94.146.0/24',
  '206.168.34.0/24',
];

/** Organisations that run research scanners (matched against the ASN table's organisation names). */
export const SCANNER_ORG_PATTERN =
  /\bcensys\b|shadowserver|rapid7|stretchoid|onyphe|driftnet|internet measurement|leakix|binaryedge/i;

/** Ports research scanners probe (TCP unless listed in `UDP_SCAN_PORTS`). */
const SCAN_PORTS = [
  21, 22, 23, 25, 53, 80, 110, 123, 143, 161, 443, 445, 502, 587, 993, 995, 1433, 1883, 1900, 2222, 3306,
  3389, 5060, 5432, 5683, 5900, 6379, 7547, 8000, 8080, 8443, 8888, 9000, 9200, 11211, 27017, 37215, 47808,
];
const UDP_SCAN_PORTS = new Set([53, 123, 161, 1900, 5060, 5683, 11211, 47808]);

/** An endpoint with what the records need, precomputed once. */
interface Ep {
  address: string;
  v6: boolean;
  asn: number;
  /** Index of the domestic provider, -1 abroad. */
  provider: number;
  /** Customer-facing interface on its own provider's routers (1..4), servers 5. */
  iface: number;
  /** TTL seen at the router. */
  ttl: number;
}

interface HeapItem {
  time: number;
  seq: number;
  rec?: GeneratedRecord;
  timer?: number;
}

/** A binary min-heap on (time, seq): pending future records and timers, in a deterministic order. */
class Heap {
  private a: HeapItem[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): HeapItem | undefined {
    return this.a[0];
  }
  private less(i: number, j: number): boolean {
    const x = this.a[i]!;
    const y = this.a[j]!;
    return x.time < y.time || (x.time === y.time && x.seq < y.seq);
  }
  push(item: HeapItem): void {
    const a = this.a;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): HeapItem | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(l, m)) m = l;
        if (r < a.length && this.less(r, m)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

interface Keepalive {
  host: Ep;
  cloud: Ep;
  port: number;
  periodMs: number;
}

interface Backup {
  host: Ep;
  cloud: Ep;
  /** Local-day offset of the start (ms after local midnight) and duration of tonight's run. */
  startOffsetMs: number;
  durationMs: number;
  bytesPerSecond: number;
  clientPort: number;
  /** Event time of the next record of the current run (NaN when idle). */
  runStart: number;
  runEnd: number;
}

function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Research-scanner hosts from the prefix table: addresses in ASN rows whose organisation matches
 * `SCANNER_ORG_PATTERN` and that lie abroad. Deterministic for a seed. Empty when none match.
 */
export function findScannerHosts(
  table: {
    asn: {
      orgs: readonly string[];
      v4Org: ArrayLike<number>;
      v4Asn: ArrayLike<number>;
      v4Starts: ArrayLike<number>;
      v4Ends: ArrayLike<number>;
    };
    classifyEndpoint(a: string): { kind: string; country?: string };
    orgOf(asn: number): string | undefined;
  },
  domesticCountry: string,
  rng: Rng,
  count: number,
): ForeignHost[] {
  const a = table.asn;
  const match = a.orgs.map((o) => SCANNER_ORG_PATTERN.test(o));
  const rows: number[] = [];
  for (let i = 0; i < a.v4Asn.length; i++) if (match[a.v4Org[i]!]) rows.push(i);
  const out: ForeignHost[] = [];
  const seen = new Set<string>();
  for (let k = 0; k < count * 20 && out.length < count && rows.length > 0; k++) {
    const i = rows[rng.int(rows.length)]!;
    const start = a.v4Starts[i]!;
    const addr = formatIpv4(start + rng.int(a.v4Ends[i]! - start + 1));
    const cls = table.classifyEndpoint(addr);
    if (seen.has(addr) || cls.kind !== 'country' || cls.country === domesticCountry) continue;
    seen.add(addr);
    const asn = a.v4Asn[i]!;
    out.push({
      address: addr,
      country: cls.country ?? '',
      asn,
      org: table.orgOf(asn) ?? `AS${asn}`,
      role: 'generic',
    });
  }
  return out;
}

const CLIENT_PORT_MIN = 32768;
const CLIENT_PORT_SPAN = 28232; // Linux ephemeral range 32768–60999

/** The background traffic source. */
export class BackgroundSource implements RecordSource {
  private readonly rng: Rng;
  private readonly curve: DiurnalCurve;
  private readonly density: number;
  private readonly kind: 'flow' | 'dns';
  private readonly la: LookalikeParams;
  private readonly nxdomainRate: number;
  private readonly ipv6Share: number;
  private readonly dirCum: Float64Array;
  private readonly providerIds: string[];
  /** Per provider: subscribers (v4, v6), resolvers, servers by role. */
  private readonly subs4: Ep[][] = [];
  private readonly subs6: Ep[][] = [];
  private readonly resolvers4: Ep[][] = [];
  private readonly resolvers6: Ep[][] = [];
  private readonly web: Ep[][] = [];
  private readonly mail: Ep[][] = [];
  private readonly auth: Ep[][] = [];
  private readonly enterprise: Ep[] = [];
  private readonly subsCum: Float64Array;
  /** Foreign hosts by role and family. */
  private readonly foreign = new Map<string, Ep[]>();
  private readonly scanners: Ep[];
  private readonly scannerCum: Float64Array;
  private readonly domesticV4: { start: number; size: number; provider: number }[] = [];
  private readonly domesticV4Cum: Float64Array;
  private readonly domainCum: Float64Array;
  private readonly serviceCum: Float64Array;
  private readonly services: (ServiceName | LookalikeName)[];
  private readonly updateIdx: number;
  private readonly heap = new Heap();
  private seq = 0;
  private budget = 0;
  private readonly keepalives: Keepalive[] = [];
  private readonly backups: Backup[] = [];
  private started = false;
  private updateHosts: Ep[] = [];
  private updateWindow = -1;

  constructor(
    private readonly model: CountryModel,
    rng: Rng,
    config: BackgroundConfig,
  ) {
    if (!(config.density >= 0) || !Number.isFinite(config.density))
      throw new RangeError('background density must be a finite number >= 0');
    this.rng = rng;
    this.curve = new DiurnalCurve(config.diurnal ?? JST_PROFILE);
    this.density = config.density;
    this.kind = config.kind;
    this.la = { ...DEFAULT_LOOKALIKES, ...config.lookalikes };
    this.nxdomainRate = config.nxdomainRate ?? 0.05;
    this.ipv6Share = config.ipv6Share ?? 0.25;
    const d = config.directions ?? DEFAULT_DIRECTIONS;
    this.dirCum = cumulative([d.domesticForeign, d.domesticDomestic, d.transit]);
    this.providerIds = model.providers.map((p) => p.id);

    const ttlOf = (addr: string, hops: number): number => ((fnv(addr) & 1) === 0 ? 64 : 128) - hops;
    model.providers.forEach((p, pi) => {
      const ep = (address: string, iface: number): Ep => ({
        address,
        v6: address.includes(':'),
        asn: p.asn,
        provider: pi,
        iface,
        ttl: ttlOf(address, 2 + (fnv(address) % 6)),
      });
      const subs = p.subscribers.map((a) => ep(a, 1 + (fnv(a) % 4)));
      this.subs4.push(subs.filter((e) => !e.v6));
      this.subs6.push(subs.filter((e) => e.v6));
      const res = p.resolvers.map((a) => ep(a, 5));
      this.resolvers4.push(res.filter((e) => !e.v6));
      this.resolvers6.push(res.filter((e) => e.v6));
      this.web.push(p.servers.filter((s) => s.role === 'web').map((s) => ep(s.address, 5)));
      this.mail.push(p.servers.filter((s) => s.role === 'mail').map((s) => ep(s.address, 5)));
      this.auth.push(p.servers.filter((s) => s.role === 'dns-authoritative').map((s) => ep(s.address, 5)));
      for (const pre of p.prefixes) {
        if (pre.version !== 4) continue;
        const pp = parsePrefix(pre.prefix);
        const start = Number(pp.first);
        this.domesticV4.push({ start, size: 2 ** (32 - pp.length), provider: pi });
      }
    });
    for (const o of model.operators) {
      const pi = this.providerIds.indexOf(o.providerId);
      const p = model.providers[pi];
      if (!p) continue;
      for (const s of o.importantSystems)
        this.enterprise.push({
          address: s.address,
          v6: false,
          asn: p.asn,
          provider: pi,
          iface: 6,
          ttl: ttlOf(s.address, 3),
        });
    }
    this.subsCum = cumulative(this.subs4.map((s) => s.length));
    this.domesticV4Cum = cumulative(this.domesticV4.map((b) => b.size));
    for (const f of model.foreign) {
      const e: Ep = {
        address: f.address,
        v6: f.address.includes(':'),
        asn: f.asn,
        provider: -1,
        iface: 10 + (f.asn % 4),
        ttl: ttlOf(f.address, 10 + (fnv(f.address) % 12)),
      };
      const key = `${f.role}${e.v6 ? '6' : '4'}`;
      let list = this.foreign.get(key);
      if (!list) this.foreign.set(key, (list = []));
      list.push(e);
    }
    const scan = (config.scanners ?? []).slice(0, this.la.scannerHosts);
    this.scanners = scan.map((f) => ({
      address: f.address,
      v6: false,
      asn: f.asn,
      provider: -1,
      iface: 10 + (f.asn % 4),
      ttl: ttlOf(f.address, 12),
    }));
    if (this.scanners.length === 0) {
      const r = rng.fork('fallback-scanners');
      for (let i = 0; i < this.la.scannerHosts; i++) {
        const p = parsePrefix(FALLBACK_SCANNER_PREFIXES[i % FALLBACK_SCANNER_PREFIXES.length]!);
        const a = formatIpv4(Number(p.first) + 1 + r.int(254));
        this.scanners.push({ address: a, v6: false, asn: 398324, provider: -1, iface: 10, ttl: 52 });
      }
    }
    // Zipf-like activity: the first scanner is the busiest.
    this.scannerCum = cumulative(this.scanners.map((_, i) => 1 / (i + 1)));
    this.domainCum = cumulative(POPULAR_DOMAINS.map((x) => x.weight));

    const mix = { ...DEFAULT_SERVICE_MIX, ...config.mix };
    const names: (ServiceName | LookalikeName)[] = [...SERVICES];
    const weights = SERVICES.map((s) => mix[s]);
    const total = weights.reduce((a, b) => a + b, 0);
    names.push('research-scanner', 'cdn-short-flows', 'software-update');
    // Look-alike shares are of records; a CDN burst makes ~2 records per flow.
    const meanBurst = this.la.cdnFlowsMin + this.la.cdnFlowsMax;
    weights.push(
      total * this.la.scannerShare,
      (total * this.la.cdnBurstShare * 2) / meanBurst,
      total * this.la.updateShare,
    );
    this.services = names;
    this.serviceCum = cumulative(weights);
    this.updateIdx = names.indexOf('software-update');
  }

  /** The normalised diurnal factor at `t` (for tests and docs). */
  factor(t: number): number {
    return this.curve.factor(t);
  }

  private setup(from: number): void {
    this.started = true;
    if (this.kind !== 'flow') return;
    const r = this.rng.fork('lookalike-schedules');
    // Keep-alives: enough hosts that their records are `keepaliveShare` of the density.
    const periods = this.la.keepalivePeriods;
    const meanPeriod = periods.reduce((a, b) => a + b, 0) / Math.max(1, periods.length);
    const hosts = Math.min(
      5000,
      Math.max(4, Math.round((this.la.keepaliveShare * this.density * meanPeriod) / 2)),
    );
    const clouds = [...(this.foreign.get('cloud4') ?? []), ...(this.foreign.get('cdn4') ?? [])];
    if (this.la.keepaliveShare > 0 && clouds.length > 0 && periods.length > 0) {
      for (let i = 0; i < hosts; i++) {
        const k: Keepalive = {
          host: this.pickSub4(r),
          cloud: r.pick(clouds),
          port: r.pick([443, 443, 8883, 5223, 5228]),
          periodMs: r.pick(periods) * 1000,
        };
        this.keepalives.push(k);
        this.heap.push({ time: from + r.float() * k.periodMs, seq: this.seq++, timer: i });
      }
    }
    const cloudOnly = this.foreign.get('cloud4') ?? [];
    const sources = this.enterprise.length > 0 ? this.enterprise : this.web.flat();
    if (cloudOnly.length > 0 && sources.length > 0) {
      for (let i = 0; i < this.la.backupHosts; i++) {
        const b: Backup = {
          host: r.pick(sources),
          cloud: r.pick(cloudOnly),
          startOffsetMs: (this.la.backupStartHour + r.float() * this.la.backupStartSpanHours) * 3_600_000,
          durationMs: 0,
          bytesPerSecond: 0,
          clientPort: CLIENT_PORT_MIN + r.int(CLIENT_PORT_SPAN),
          runStart: NaN,
          runEnd: NaN,
        };
        this.backups.push(b);
        this.scheduleBackup(this.keepalives.length + i, from);
      }
    }
  }

  /** Schedules backup `timer` at its next nightly start at or after `after`. */
  private scheduleBackup(timer: number, after: number): void {
    const b = this.backups[timer - this.keepalives.length]!;
    const off = this.curve.profile.utcOffsetHours * 3_600_000;
    const day = Math.floor((after + off) / 86_400_000);
    let start = day * 86_400_000 - off + b.startOffsetMs;
    if (start < after) start += 86_400_000;
    b.runStart = start;
    b.durationMs =
      Math.min(120, Math.max(10, lognormal(this.rng, this.la.backupMedianMinutes, 0.5))) * 60_000;
    b.bytesPerSecond = (lognormal(this.rng, this.la.backupMedianMbps, 0.6) * 1e6) / 8;
    b.runEnd = start + b.durationMs;
    this.heap.push({ time: Math.min(b.runEnd, start + BACKUP_RECORD_INTERVAL_MS), seq: this.seq++, timer });
  }

  generate(from: number, to: number, out: (r: GeneratedRecord) => void): void {
    if (!this.started) this.setup(from);
    if (to > from && this.density > 0) {
      const mid = (from + to) / 2;
      this.budget += (this.density * this.curve.factor(mid) * (to - from)) / 1000;
      const window = this.updateWindowAt(mid);
      let made = 0;
      const n = Math.floor(this.budget);
      const span = to - from;
      while (made < n) {
        const t = from + Math.floor(this.rng.float() * span);
        made += this.kind === 'dns' ? this.dnsEvent(t, out) : this.session(t, window, out);
      }
      this.budget -= made;
    }
    for (let top = this.heap.peek(); top && top.time < to; top = this.heap.peek()) {
      this.heap.pop();
      if (top.rec) out(top.rec);
      else if (top.timer !== undefined) this.runTimer(top.timer, top.time, out);
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private pickSub4(r: Rng = this.rng): Ep {
    const pi = pickCumulative(r, this.subsCum);
    return r.pick(this.subs4[pi]!);
  }

  /** A subscriber, IPv6 with `ipv6Share` when its provider has IPv6 subscribers. */
  private pickSub(): Ep {
    const pi = pickCumulative(this.rng, this.subsCum);
    const s6 = this.subs6[pi]!;
    if (s6.length > 0 && this.rng.chance(this.ipv6Share)) return this.rng.pick(s6);
    return this.rng.pick(this.subs4[pi]!);
  }

  private foreignOf(role: string, v6: boolean): Ep {
    const list = this.foreign.get(`${role}${v6 ? '6' : '4'}`);
    if (list && list.length > 0) return this.rng.pick(list);
    const alt =
      this.foreign.get(`web${v6 ? '6' : '4'}`) ??
      this.foreign.get(`generic${v6 ? '6' : '4'}`) ??
      this.foreign.get('web4');
    if (alt && alt.length > 0) return this.rng.pick(alt);
    return this.rng.pick(this.foreign.get('generic4') ?? [...this.foreign.values()][0]!);
  }

  private hasForeign(role: string, v6: boolean): boolean {
    return (this.foreign.get(`${role}${v6 ? '6' : '4'}`)?.length ?? 0) > 0;
  }

  private clientPort(): number {
    return CLIENT_PORT_MIN + this.rng.int(CLIENT_PORT_SPAN);
  }

  private ifaceFor(ep: Ep, reporter: number): number {
    if (ep.provider === reporter) return ep.iface;
    return ep.provider >= 0 ? 20 : ep.iface;
  }

  /** Builds one unidirectional flow record. */
  private flow(
    label: string,
    reporter: number,
    src: Ep,
    dst: Ep,
    sport: number,
    dport: number,
    proto: number,
    flags: number,
    bytes: number,
    packets: number,
    start: number,
    end: number,
    endReason: number,
  ): GeneratedRecord {
    const p = Math.max(1, Math.round(packets));
    const b = Math.min(MAX_RECORD_BYTES, Math.max(p * (proto === 6 ? 40 : 28), Math.round(bytes)));
    const f: Fields = src.v6
      ? { sourceIPv6Address: src.address, destinationIPv6Address: dst.address }
      : { sourceIPv4Address: src.address, destinationIPv4Address: dst.address };
    f.sourceTransportPort = sport;
    f.destinationTransportPort = dport;
    f.protocolIdentifier = proto;
    if (proto === 6) f.tcpControlBits = flags;
    if (proto === 1) f.icmpTypeCodeIPv4 = dport;
    if (proto === 58) f.icmpTypeCodeIPv6 = dport;
    f.octetDeltaCount = b;
    f.packetDeltaCount = p;
    f.flowStartMilliseconds = Math.min(start, end);
    f.flowEndMilliseconds = end;
    f.ingressInterface = this.ifaceFor(src, reporter);
    f.egressInterface = this.ifaceFor(dst, reporter);
    f.bgpSourceAsNumber = src.asn;
    f.bgpDestinationAsNumber = dst.asn;
    f.minimumTTL = src.ttl;
    f.maximumTTL = src.ttl;
    f.flowEndReason = endReason;
    return { kind: 'flow', time: end, providerId: this.providerIds[reporter]!, fields: f, label };
  }

  /** Emits a request/response pair (client → server, server → client) ending at `end`. */
  private pair(
    label: string,
    client: Ep,
    server: Ep,
    reporter: number,
    dport: number,
    proto: number,
    reqBytes: number,
    respBytes: number,
    durationMs: number,
    end: number,
    out: (r: GeneratedRecord) => void,
  ): number {
    const cport = this.clientPort();
    let reason = proto === 6 ? 3 : 1;
    let dur = Math.max(0, durationMs);
    if (dur > ACTIVE_TIMEOUT_MS) {
      // Only the last active-timeout interval of a long session is in this record.
      const share = ACTIVE_TIMEOUT_MS / dur;
      reqBytes *= share;
      respBytes *= share;
      dur = ACTIVE_TIMEOUT_MS;
      reason = 2;
    }
    const start = end - Math.round(dur);
    const mss = 1380;
    const respPackets = Math.ceil(respBytes / mss) + (proto === 6 ? 2 : 0);
    const reqPackets =
      proto === 6
        ? Math.max(Math.ceil(reqBytes / 600), Math.ceil(respPackets / 2)) + 2
        : Math.ceil(reqBytes / mss);
    const flagsReq = reason === 2 ? 0x18 : 0x1b;
    const flagsResp = reason === 2 ? 0x18 : 0x1b;
    out(
      this.flow(
        label,
        reporter,
        client,
        server,
        cport,
        dport,
        proto,
        flagsReq,
        reqBytes,
        reqPackets,
        start,
        end,
        reason,
      ),
    );
    const rtt = Math.min(dur, 5 + this.rng.int(40));
    out(
      this.flow(
        label,
        reporter,
        server,
        client,
        dport,
        cport,
        proto,
        flagsResp,
        respBytes,
        respPackets,
        start + rtt,
        end,
        reason,
      ),
    );
    return 2;
  }

  /** Chooses the ends of an ordinary client/server session for a service. */
  private ends(
    role: string,
    domesticServers: Ep[][] | undefined,
  ): { client: Ep; server: Ep; reporter: number } {
    const dir = pickCumulative(this.rng, this.dirCum);
    if (dir === 2) {
      // Transit: a foreign client reaching a foreign server across one of our providers.
      const v6 = this.rng.chance(0.1) && this.hasForeign(role, true) && this.hasForeign('generic', true);
      const reporter = this.rng.int(this.providerIds.length);
      return { client: this.foreignOf('generic', v6), server: this.foreignOf(role, v6), reporter };
    }
    let client = this.pickSub();
    if (dir === 1 && domesticServers) {
      const pi = this.rng.int(domesticServers.length);
      const list = domesticServers[pi]!.filter((e) => e.v6 === client.v6);
      if (list.length > 0) return { client, server: this.rng.pick(list), reporter: client.provider };
      if (client.v6) client = this.rng.pick(this.subs4[client.provider]!);
      const l4 = domesticServers[pi]!.filter((e) => !e.v6);
      if (l4.length > 0) return { client, server: this.rng.pick(l4), reporter: client.provider };
    }
    if (client.v6 && !this.hasForeign(role, true)) client = this.rng.pick(this.subs4[client.provider]!);
    return { client, server: this.foreignOf(role, client.v6), reporter: client.provider };
  }

  // ---- the ordinary mix ------------------------------------------------------------------------

  private session(t: number, updateWindow: boolean, out: (r: GeneratedRecord) => void): number {
    let s = this.services[pickCumulative(this.rng, this.serviceCum)]!;
    if (s === 'software-update' && !updateWindow) s = 'web';
    const r = this.rng;
    switch (s) {
      case 'web': {
        const { client, server, reporter } = this.ends('web', this.web);
        const quic = r.chance(0.1);
        const http = !quic && r.chance(0.05);
        let resp = lognormal(r, 14_000, 1.6);
        if (r.chance(0.03)) resp += pareto(r, 1e6, 1.3, 2e9);
        const dur = Math.min(60_000, lognormal(r, 1500, 1.2)) + resp / 2e3;
        return this.pair(
          'background',
          client,
          server,
          reporter,
          http ? 80 : 443,
          quic ? 17 : 6,
          lognormal(r, 900, 0.6),
          resp,
          dur,
          t,
          out,
        );
      }
      case 'video': {
        const { client, server, reporter } = this.ends(r.chance(0.6) ? 'cdn' : 'web', undefined);
        const resp = pareto(r, 5e6, 1.15, 4e9);
        const bps = (lognormal(r, 4, 0.5) * 1e6) / 8;
        return this.pair(
          'background',
          client,
          server,
          reporter,
          443,
          6,
          lognormal(r, 20_000, 0.8),
          resp,
          (resp / bps) * 1000,
          t,
          out,
        );
      }
      case 'dns':
        return this.dnsFlows(t, out);
      case 'mail': {
        if (r.chance(0.5)) {
          // Server to server SMTP between a provider's mail host and a foreign one.
          const pi = r.int(this.mail.length);
          const local = this.mail[pi]!;
          if (local.length > 0) {
            const m = r.pick(local);
            const f = this.foreignOf('mail', false);
            const inbound = r.chance(0.6);
            const size = lognormal(r, 30_000, 1.5);
            return inbound
              ? this.pair('background', f, m, pi, 25, 6, size, 400, lognormal(r, 800, 0.8), t, out)
              : this.pair('background', m, f, pi, 25, 6, size, 400, lognormal(r, 800, 0.8), t, out);
          }
        }
        const { client, server, reporter } = this.ends('mail', this.mail);
        const imap = r.chance(0.7);
        return this.pair(
          'background',
          client,
          server,
          reporter,
          imap ? 993 : 587,
          6,
          lognormal(r, 2_000, 1.2),
          imap ? lognormal(r, 25_000, 1.5) : 300,
          lognormal(r, 2_000, 1.0),
          t,
          out,
        );
      }
      case 'ntp': {
        const { client, server, reporter } = this.ends('ntp', undefined);
        const cport = r.chance(0.5) ? 123 : this.clientPort();
        out(this.flow('background', reporter, client, server, cport, 123, 17, 0, 76, 1, t, t, 1));
        out(this.flow('background', reporter, server, client, 123, cport, 17, 0, 76, 1, t, t, 1));
        return 2;
      }
      case 'vpn': {
        const { client, server, reporter } = this.ends('vpn', undefined);
        const port = r.pick([4500, 4500, 1194, 51820, 443]);
        const proto = port === 443 ? 6 : 17;
        const bytes = lognormal(r, 2e6, 1.5);
        return this.pair(
          'background',
          client,
          server,
          reporter,
          port,
          proto,
          bytes * 0.3,
          bytes,
          lognormal(r, 120_000, 1.0),
          t,
          out,
        );
      }
      case 'cloud': {
        const client = this.pickSub4();
        const server = this.foreignOf('cloud', false);
        return this.pair(
          'background',
          client,
          server,
          client.provider,
          443,
          6,
          lognormal(r, 5_000, 1.2),
          lognormal(r, 40_000, 1.8),
          lognormal(r, 3_000, 1.0),
          t,
          out,
        );
      }
      case 'icmp': {
        const { client, server, reporter } = this.ends('web', undefined);
        const n = 1 + r.int(4);
        const v6 = client.v6;
        out(
          this.flow(
            'background',
            reporter,
            client,
            server,
            0,
            v6 ? 0x8000 : 0x0800,
            v6 ? 58 : 1,
            0,
            84 * n,
            n,
            t - n * 1000,
            t,
            1,
          ),
        );
        out(
          this.flow(
            'background',
            reporter,
            server,
            client,
            0,
            v6 ? 0x8100 : 0x0000,
            v6 ? 58 : 1,
            0,
            84 * n,
            n,
            t - n * 1000 + 20,
            t,
            1,
          ),
        );
        return 2;
      }
      case 'research-scanner':
        return this.scanProbe(t, out);
      case 'cdn-short-flows':
        return this.cdnBurst(t, out);
      case 'software-update':
        return this.updateDownload(t, out);
      default:
        return 0;
    }
  }

  /** Subscriber ↔ resolver query and answer flows; a cache miss adds resolver ↔ foreign authoritative. */
  private dnsFlows(t: number, out: (r: GeneratedRecord) => void): number {
    const r = this.rng;
    const client = this.pickSub();
    const pi = client.provider;
    const res = client.v6 && this.resolvers6[pi]!.length > 0 ? this.resolvers6[pi]! : this.resolvers4[pi]!;
    if (res.length === 0) return this.session(t, false, out);
    let c = client;
    const resolver = r.pick(res);
    if (c.v6 !== resolver.v6) c = r.pick(this.subs4[pi]!);
    const cport = this.clientPort();
    const q = 60 + r.int(30);
    out(this.flow('background', pi, c, resolver, cport, 53, 17, 0, q, 1, t - 30, t - 30, 1));
    out(this.flow('background', pi, resolver, c, 53, cport, 17, 0, q + 40 + r.int(300), 1, t, t, 1));
    if (!r.chance(0.25) || resolver.v6) return 2;
    const auth = this.foreignOf('dns', false);
    const rport = this.clientPort();
    out(this.flow('background', pi, resolver, auth, rport, 53, 17, 0, q + 11, 1, t - 25, t - 25, 1));
    out(
      this.flow('background', pi, auth, resolver, 53, rport, 17, 0, q + 100 + r.int(400), 1, t - 5, t - 5, 1),
    );
    return 4;
  }

  // ---- DNS events (dnstap at the providers' resolvers) --------------------------------------------

  /** A query name: a popular domain with a common label, or (NXDOMAIN) a typo or a leaked local name. */
  private queryName(nx: boolean): string {
    const r = this.rng;
    const d = POPULAR_DOMAINS[pickCumulative(r, this.domainCum)]!;
    if (!nx) {
      const label = r.pick(d.labels);
      return label === '' ? d.name : `${label}.${d.name}`;
    }
    const k = r.int(10);
    if (k < 4) {
      // A typo: one letter of the second-level label dropped or doubled.
      const dot = d.name.indexOf('.');
      const i = r.int(Math.max(1, dot));
      return r.chance(0.5)
        ? d.name.slice(0, i) + d.name.slice(i + 1)
        : d.name.slice(0, i) + d.name[i] + d.name.slice(i);
    }
    if (k < 7) return `www.${d.name}.${r.pick(['home', 'localdomain', 'flets-east.jp', 'lan'])}`;
    return (
      r.pick(['wpad', 'isatap', 'printer', 'nas', 'router', '_ldap._tcp.dc._msdcs']) +
      '.' +
      r.pick(['local', 'lan', 'home', 'corp'])
    );
  }

  /** One CLIENT_RESPONSE DNS event at a provider resolver. */
  private dnsEvent(t: number, out: (r: GeneratedRecord) => void): number {
    const r = this.rng;
    const client = this.pickSub();
    const pi = client.provider;
    const res6 = this.resolvers6[pi]!;
    const resolver = client.v6 && res6.length > 0 ? r.pick(res6) : r.pick(this.resolvers4[pi]!);
    const c = client.v6 !== resolver.v6 ? r.pick(this.subs4[pi]!) : client;
    const nx = r.chance(this.nxdomainRate);
    const name = this.queryName(nx);
    const tk = r.int(100);
    const qtype = tk < 60 ? 1 : tk < 90 ? 28 : tk < 98 ? 65 : 15;
    const ttl = POPULAR_DOMAINS.find((d) => name.endsWith(d.name))?.ttl ?? 300;
    const answers: { type: number; ttl: number; data: string; name?: string }[] = [];
    if (!nx && (qtype === 1 || qtype === 28)) {
      const pool = this.foreign.get(`web${qtype === 28 ? '6' : '4'}`) ?? [];
      const cdn = /akamai|cloudfront|fastly|googlevideo|nflxvideo|tiktokcdn/.test(name);
      if (cdn) answers.push({ type: 5, ttl, data: `${name.split('.')[0]}.edge.example-cdn.net`, name });
      if (pool.length > 0) {
        const h = fnv(name);
        const n = 1 + (h % 3);
        for (let i = 0; i < n; i++)
          answers.push({ type: qtype, ttl, data: pool[(h + i * 7919) % pool.length]!.address });
      }
    }
    const latency = nx ? 20 + r.int(80) : r.chance(0.8) ? r.int(3) : 10 + r.int(120);
    const f: Fields = c.v6
      ? { sourceIPv6Address: c.address, destinationIPv6Address: resolver.address }
      : { sourceIPv4Address: c.address, destinationIPv4Address: resolver.address };
    f.dnsMessageType = 'CLIENT_RESPONSE';
    f.sourceTransportPort = this.clientPort();
    f.destinationTransportPort = 53;
    f.protocolIdentifier = 17;
    f.eventTime = t;
    f.dnsQueryTime = t - latency;
    f.dnsResponseTime = t;
    f.dnsId = r.int(65536);
    f.dnsQueryName = name;
    f.dnsQueryType = qtype;
    f.dnsResponseCode = nx ? 3 : 0;
    f.dnsAnswers = answers;
    out({
      kind: 'dns',
      time: t,
      providerId: this.providerIds[pi]!,
      fields: f,
      label: nx ? 'background:nxdomain' : 'background',
    });
    return 1;
  }

  // ---- look-alikes -----------------------------------------------------------------------------

  private randomDomesticV4(): { ep: Ep; provider: number } {
    const b = this.domesticV4[pickCumulative(this.rng, this.domesticV4Cum)]!;
    const addr = formatIpv4(b.start + this.rng.int(b.size));
    const p = this.model.providers[b.provider]!;
    return {
      ep: { address: addr, v6: false, asn: p.asn, provider: b.provider, iface: 1 + (fnv(addr) % 4), ttl: 60 },
      provider: b.provider,
    };
  }

  /** A research scanner's probe: one SYN (or UDP packet) to a random domestic address; ~10 % answer. */
  private scanProbe(t: number, out: (r: GeneratedRecord) => void): number {
    const r = this.rng;
    const scanner = this.scanners[pickCumulative(r, this.scannerCum)]!;
    const { ep, provider } = this.randomDomesticV4();
    const port = r.pick(SCAN_PORTS);
    const udp = UDP_SCAN_PORTS.has(port);
    const sport = 40000 + r.int(20000);
    const label = 'lookalike:research-scanner';
    out(
      this.flow(
        label,
        provider,
        scanner,
        ep,
        sport,
        port,
        udp ? 17 : 6,
        0x02,
        udp ? 60 + r.int(30) : 44,
        1,
        t,
        t,
        udp ? 1 : 3,
      ),
    );
    if (!r.chance(0.1)) return 1;
    out(
      this.flow(
        label,
        provider,
        ep,
        scanner,
        port,
        sport,
        udp ? 17 : 6,
        r.chance(0.5) ? 0x12 : 0x14,
        udp ? 100 : 40,
        1,
        t,
        t,
        udp ? 1 : 3,
      ),
    );
    return 2;
  }

  /** CDN fan-out: one subscriber opens many short TLS flows to several CDN hosts within seconds. */
  private cdnBurst(t: number, out: (r: GeneratedRecord) => void): number {
    const r = this.rng;
    const client = this.pickSub4();
    const cdn = [...(this.foreign.get('cdn4') ?? []), ...(this.foreign.get('cloud4') ?? [])];
    if (cdn.length === 0) return this.session(t, false, out);
    const hosts = Array.from({ length: 3 + r.int(6) }, () => r.pick(cdn));
    const n = this.la.cdnFlowsMin + r.int(this.la.cdnFlowsMax - this.la.cdnFlowsMin + 1);
    const spread = this.la.cdnSpreadSeconds * 1000;
    let made = 0;
    const sink = (rec: GeneratedRecord): void => {
      if (rec.time === t) out(rec);
      else this.heap.push({ time: rec.time, seq: this.seq++, rec });
    };
    for (let i = 0; i < n; i++) {
      const end = i === 0 ? t : t + Math.floor(r.float() * spread);
      made += this.pair(
        'lookalike:cdn-short-flows',
        client,
        r.pick(hosts),
        client.provider,
        443,
        6,
        lognormal(r, 700, 0.4),
        lognormal(r, 8_000, 0.8),
        50 + r.int(750),
        end,
        sink,
      );
    }
    return made;
  }

  private updateWindowAt(t: number): boolean {
    const off = this.curve.profile.utcOffsetHours * 3_600_000;
    const period = this.la.updatePeriodHours * 3_600_000;
    if (!(period > 0)) return false;
    const local = t + off;
    const k = Math.floor(local / period);
    const inWindow = local - k * period < this.la.updateWindowMinutes * 60_000;
    if (inWindow && k !== this.updateWindow) {
      // A new release: two update servers serve every download of this window.
      this.updateWindow = k;
      const pool = [...(this.foreign.get('cdn4') ?? []), ...(this.foreign.get('cloud4') ?? [])];
      this.updateHosts = pool.length > 0 ? [this.rng.pick(pool), this.rng.pick(pool)] : [];
    }
    return inWindow && this.updateHosts.length > 0;
  }

  /** A large download from one of the window's update servers to a subscriber. */
  private updateDownload(t: number, out: (r: GeneratedRecord) => void): number {
    const r = this.rng;
    const client = this.pickSub4();
    const server = r.pick(this.updateHosts);
    const size = Math.min(5e9, lognormal(r, this.la.updateMedianBytes, 1.0));
    const bps = (lognormal(r, 30, 0.6) * 1e6) / 8;
    return this.pair(
      'lookalike:software-update',
      client,
      server,
      client.provider,
      r.chance(0.3) ? 80 : 443,
      6,
      lognormal(r, 3_000, 0.5),
      size,
      (size / bps) * 1000,
      t,
      out,
    );
  }

  private runTimer(timer: number, time: number, out: (r: GeneratedRecord) => void): void {
    const r = this.rng;
    if (timer < this.keepalives.length) {
      const k = this.keepalives[timer]!;
      const label = 'lookalike:keepalive';
      const cport = this.clientPort();
      const n = 1 + r.int(3);
      const dur = 10 + r.int(190);
      out(
        this.flow(
          label,
          k.host.provider,
          k.host,
          k.cloud,
          cport,
          k.port,
          6,
          0x1b,
          n * (60 + r.int(190)),
          n + 2,
          time - dur,
          time,
          3,
        ),
      );
      out(
        this.flow(
          label,
          k.host.provider,
          k.cloud,
          k.host,
          k.port,
          cport,
          6,
          0x1b,
          n * (60 + r.int(190)),
          n + 2,
          time - dur + 5,
          time,
          3,
        ),
      );
      const jitter = 1 + uniform(r, -this.la.keepaliveJitter, this.la.keepaliveJitter);
      this.heap.push({
        time: time + Math.max(1000, Math.round(k.periodMs * jitter)),
        seq: this.seq++,
        timer,
      });
      return;
    }
    const b = this.backups[timer - this.keepalives.length];
    if (!b) return;
    const label = 'lookalike:nightly-backup';
    const start = Math.max(b.runStart, time - BACKUP_RECORD_INTERVAL_MS);
    const secs = (time - start) / 1000;
    const bytes = b.bytesPerSecond * secs * uniform(r, 0.85, 1.15);
    const pkts = Math.ceil(bytes / 1448);
    const last = time >= b.runEnd;
    const reason = last ? 3 : 2;
    const flags = last ? 0x19 : 0x18;
    out(
      this.flow(
        label,
        b.host.provider,
        b.host,
        b.cloud,
        b.clientPort,
        443,
        6,
        flags,
        bytes,
        pkts,
        start,
        time,
        reason,
      ),
    );
    out(
      this.flow(
        label,
        b.host.provider,
        b.cloud,
        b.host,
        443,
        b.clientPort,
        6,
        flags,
        Math.ceil(pkts / 2) * 52,
        Math.ceil(pkts / 2),
        start,
        time,
        reason,
      ),
    );
    if (last) this.scheduleBackup(timer, time + 3_600_000);
    else
      this.heap.push({ time: Math.min(b.runEnd, time + BACKUP_RECORD_INTERVAL_MS), seq: this.seq++, timer });
  }
}
