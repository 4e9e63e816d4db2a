/**
 * The synthetic country: domestic providers built on the real address space of the largest
 * domestic ASNs, foreign hosts sampled from other countries' real ranges (with their real ASNs,
 * incl. cloud/CDN networks), and critical-infrastructure operators in the 15 sectors holding
 * sub-prefixes of provider space. Deterministic: the same configuration (seed included) and the
 * same prefix table give the same model, byte for byte once serialised.
 */
import type { PrefixTable } from '../../common/prefixes/index.ts';
import {
  RangeIndex4,
  RangeIndex6,
  bigIntToWords,
  formatIpv4,
  formatIpv6BigInt,
  formatPrefix,
  wordsToBigInt,
} from '../../common/prefixes/index.ts';
import { type CountryConfig, resolveCountryConfig } from './config.ts';
import { CountryModelError } from './errors.ts';
import { Rng } from './random.ts';
import { FAMILY_NAMES, GIVEN_NAMES, SECTORS, SECTOR_STYLE, SYLLABLES, type Sector } from './sectors.ts';

/** A flow exporter of a provider (one router or probe). */
export interface Exporter {
  /** `provider-1-exporter-1`, … */
  id: string;
  providerId: string;
  /** Loopback source address the simulated exporter sends from (127.0.0.2, 127.0.0.3, …). */
  address: string;
  observationDomainId: number;
  format: CountryConfig['exportFormat'];
  /** Packet sampling, 1-in-N (1 = unsampled). */
  samplingRate: number;
}

/** What a provider prefix is used for in the model. */
export type PrefixRole = 'subscribers' | 'infrastructure' | 'enterprise';

/** A prefix of a provider, sampled from its real ranges. */
export interface ProviderPrefix {
  prefix: string;
  version: 4 | 6;
  role: PrefixRole;
}

/** A server inside a provider's infrastructure space. */
export interface Server {
  address: string;
  role: 'web' | 'mail' | 'dns-authoritative';
}

/** A domestic provider (telecom operator running an edge). */
export interface Provider {
  /** `provider-1`, `provider-2`, … (stable across table versions). */
  id: string;
  /** Short name derived from the organisation, e.g. `softbank`. */
  slug: string;
  /** Organisation name as the ASN source spells it. */
  name: string;
  asn: number;
  prefixes: ProviderPrefix[];
  exporters: Exporter[];
  /** Subscriber addresses (IPv4 first, then IPv6). */
  subscribers: string[];
  servers: Server[];
  /** Recursive resolvers the subscribers use. */
  resolvers: string[];
}

/** Roles of foreign hosts, for the traffic generator. */
export type ForeignRole = 'web' | 'mail' | 'dns' | 'ntp' | 'vpn' | 'generic' | 'cloud' | 'cdn';

/** A host abroad, from real foreign ranges. */
export interface ForeignHost {
  address: string;
  country: string;
  asn: number;
  org: string;
  role: ForeignRole;
}

/** An address range held by an operator. */
export interface OperatorRange {
  prefix: string;
  /** The operator's agreement waives pseudonymisation of this range (DESIGN section 6). */
  pseudonymisationWaived: boolean;
}

/** A designated important system of an operator. */
export interface ImportantSystem {
  name: string;
  address: string;
}

/** A contact of an operator (synthetic). */
export interface Contact {
  role: 'security' | 'management';
  name: string;
  email: string;
}

/** An operator's agreement with the office (channel `agreement-foreign-to-domestic`). */
export interface Agreement {
  status: 'active' | 'none' | 'expired';
  /** Present unless `status` is `none`. */
  id?: string;
  /** ISO dates (YYYY-MM-DD), present unless `status` is `none`. */
  validFrom?: string;
  validUntil?: string;
}

/** A critical-infrastructure operator. */
export interface Operator {
  /** `op-finance-1`, … */
  id: string;
  name: string;
  sector: Sector;
  /** Provider whose space the ranges come from. */
  providerId: string;
  ranges: OperatorRange[];
  domains: string[];
  importantSystems: ImportantSystem[];
  contacts: Contact[];
  agreement: Agreement;
}

/** The whole synthetic country. */
export interface CountryModel {
  seed: number;
  domesticCountry: string;
  /** Prefix table the model was built from: the same seed on another table gives another model. */
  tableVersion: string;
  providers: Provider[];
  foreign: ForeignHost[];
  operators: Operator[];
}

/** Tries before a sampler gives up: generous, since real tables have plenty of clean space. */
const MAX_TRIES = 500;
/** Default block sizes taken from provider space. */
const V4_BLOCK = { subscribers: 22, infrastructure: 24, enterprise: 22 } as const;
const V6_BLOCK = { subscribers: 40, infrastructure: 48, enterprise: 44 } as const;

interface Row4 {
  start: number;
  end: number;
}
interface Row6 {
  start: bigint;
  end: bigint;
}

/** Table access with row-level (not only class-level) answers, for "whole prefix is clean" checks. */
class TableView {
  readonly table: PrefixTable;
  readonly domestic: number;
  private readonly c4: RangeIndex4;
  private readonly c6: RangeIndex6;
  private readonly a4: RangeIndex4;
  private readonly a6: RangeIndex6;
  private readonly w = [0, 0, 0, 0];

  constructor(table: PrefixTable, domesticCountry: string) {
    this.table = table;
    this.domestic = table.countryClass(domesticCountry);
    const c = table.country;
    const a = table.asn;
    this.c4 = new RangeIndex4(c.v4Starts, c.v4Ends);
    this.c6 = new RangeIndex6(c.v6Starts, c.v6Ends);
    this.a4 = new RangeIndex4(a.v4Starts, a.v4Ends);
    this.a6 = new RangeIndex6(a.v6Starts, a.v6Ends);
  }

  /** True when one country row (of class `cls`) and one ASN row (of `asn`) cover [first, last]. */
  clean4(first: number, last: number, cls: number, asn: number): boolean {
    const c = this.table.country;
    const a = this.table.asn;
    const r = this.c4.find(first);
    if (r < 0 || c.v4Values[r] !== cls || c.v4Ends[r]! < last) return false;
    const s = this.a4.find(first);
    return s >= 0 && a.v4Asn[s] === asn && a.v4Ends[s]! >= last;
  }

  /** IPv6 version of `clean4`. */
  clean6(first: bigint, last: bigint, cls: number, asn: number): boolean {
    const c = this.table.country;
    const a = this.table.asn;
    const w = this.w;
    bigIntToWords(first, w);
    const r = this.c6.find(w[0]!, w[1]!, w[2]!, w[3]!);
    if (r < 0 || c.v6Values[r] !== cls || rowEnd6(c.v6Ends, r) < last) return false;
    const s = this.a6.find(w[0]!, w[1]!, w[2]!, w[3]!);
    return s >= 0 && a.v6Asn[s] === asn && rowEnd6(a.v6Ends, s) >= last;
  }
}

function rowEnd6(ends: Uint32Array, r: number): bigint {
  const o = r * 4;
  return wordsToBigInt(ends[o]!, ends[o + 1]!, ends[o + 2]!, ends[o + 3]!);
}

function rowStart6(starts: Uint32Array, r: number): bigint {
  const o = r * 4;
  return wordsToBigInt(starts[o]!, starts[o + 1]!, starts[o + 2]!, starts[o + 3]!);
}

/** Picks an index from cumulative weights (binary search). */
function pickCumulative(rng: Rng, cumulative: readonly number[]): number {
  const total = cumulative[cumulative.length - 1] ?? 0;
  const x = rng.float() * total;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function cumulativeOf(sizes: readonly number[]): number[] {
  let t = 0;
  return sizes.map((s) => (t += s));
}

interface Block {
  first: bigint;
  last: bigint;
}

const overlaps = (a: Block, b: Block): boolean => a.first <= b.last && b.first <= a.last;

/** Samples aligned, clean, non-overlapping blocks of a provider's real space. */
class ProviderSpace {
  readonly v4Rows: Row4[] = [];
  readonly v6Rows: Row6[] = [];
  private readonly cum4: number[];
  private readonly taken: Block[] = [];

  constructor(
    private readonly view: TableView,
    readonly asn: number,
  ) {
    const t = view.table;
    const a = t.asn;
    for (let i = 0; i < a.v4Asn.length; i++) {
      if (a.v4Asn[i] !== asn) continue;
      const start = a.v4Starts[i]!;
      if (t.classify4(start) === view.domestic) this.v4Rows.push({ start, end: a.v4Ends[i]! });
    }
    for (let i = 0; i < a.v6Asn.length; i++) {
      if (a.v6Asn[i] !== asn) continue;
      const o = i * 4;
      if (
        t.classify6(a.v6Starts[o]!, a.v6Starts[o + 1]!, a.v6Starts[o + 2]!, a.v6Starts[o + 3]!) ===
        view.domestic
      )
        this.v6Rows.push({ start: rowStart6(a.v6Starts, i), end: rowEnd6(a.v6Ends, i) });
    }
    this.cum4 = cumulativeOf(this.v4Rows.map((r) => r.end - r.start + 1));
  }

  /** An aligned IPv4 block of `len` bits (or smaller, down to /28, when space is scarce). */
  block4(rng: Rng, len: number): Block | undefined {
    for (let l = len; l <= 28; l++) {
      const size = 2 ** (32 - l);
      for (let k = 0; k < MAX_TRIES; k++) {
        const row = this.v4Rows[pickCumulative(rng, this.cum4)];
        if (!row) return undefined;
        const firstAligned = Math.ceil(row.start / size) * size;
        const slots = Math.floor((row.end + 1 - firstAligned) / size);
        if (slots < 1) continue;
        const first = firstAligned + rng.int(slots) * size;
        const b = { first: BigInt(first), last: BigInt(first + size - 1) };
        if (this.taken.some((t) => overlaps(t, b))) continue;
        if (!this.view.clean4(first, first + size - 1, this.view.domestic, this.asn)) continue;
        this.taken.push(b);
        return b;
      }
    }
    return undefined;
  }

  /** An aligned IPv6 block of `len` bits (smaller, down to /56, when needed). */
  block6(rng: Rng, len: number): Block | undefined {
    if (this.v6Rows.length === 0) return undefined;
    for (let l = len; l <= 56; l += 4) {
      const size = 1n << BigInt(128 - l);
      for (let k = 0; k < MAX_TRIES / 5; k++) {
        const row = rng.pick(this.v6Rows);
        const firstAligned = ((row.start + size - 1n) / size) * size;
        if (firstAligned + size - 1n > row.end) continue;
        const slots = (row.end + 1n - firstAligned) / size;
        const first = firstAligned + rng.bigint(slots) * size;
        const b = { first, last: first + size - 1n };
        if (this.taken.some((t) => overlaps(t, b))) continue;
        if (!this.view.clean6(b.first, b.last, this.view.domestic, this.asn)) continue;
        this.taken.push(b);
        return b;
      }
    }
    return undefined;
  }
}

/** Hands out consecutive aligned sub-blocks of a provider's enterprise blocks (never overlapping). */
class SubAllocator {
  private blocks: Block[] = [];
  private cursor = 0n;
  private current = -1;

  constructor(private readonly next: () => Block | undefined) {}

  /** A block of 2^hostBits addresses, aligned, after the previous one. */
  alloc(hostBits: number): Block | undefined {
    const size = 1n << BigInt(hostBits);
    for (let attempt = 0; attempt < 3; attempt++) {
      const cur = this.blocks[this.current];
      if (cur) {
        const first = ((this.cursor + size - 1n) / size) * size;
        if (first + size - 1n <= cur.last) {
          this.cursor = first + size;
          return { first, last: first + size - 1n };
        }
      }
      const nb = this.next();
      if (!nb) return undefined;
      this.blocks.push(nb);
      this.current = this.blocks.length - 1;
      this.cursor = nb.first;
    }
    return undefined;
  }
}

/** A random host address inside a block (IPv4 avoids the all-zeros/all-ones host of small blocks). */
function hostIn(rng: Rng, b: Block, version: 4 | 6): string {
  const size = b.last - b.first + 1n;
  if (version === 4) {
    const off = size > 2n ? 1n + rng.bigint(size - 2n) : rng.bigint(size);
    return formatIpv4(Number(b.first + off));
  }
  return formatIpv6BigInt(b.first + 1n + rng.bigint(size - 1n));
}

function uniqueHosts(
  rng: Rng,
  count: number,
  blocks: readonly Block[],
  version: 4 | 6,
  used: Set<string>,
): string[] {
  const out: string[] = [];
  if (blocks.length === 0) return out;
  for (let k = 0; out.length < count && k < count * 20; k++) {
    const a = hostIn(rng, rng.pick(blocks), version);
    if (used.has(a)) continue;
    used.add(a);
    out.push(a);
  }
  return out;
}

function slugOf(org: string): string {
  const words = org
    .toLowerCase()
    .replace(/[^a-z0-9 ]+/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
  const skip = new Set(['inc', 'corp', 'corporation', 'co', 'ltd', 'llc', 'kk', 'the', 'japan']);
  return words.find((w) => !skip.has(w)) ?? words[0] ?? 'provider';
}

/** The largest domestic ASNs by IPv4 address space, distinct organisations. */
function chooseProviderAsns(view: TableView, count: number): number[] {
  const t = view.table;
  const a = t.asn;
  const size = new Map<number, number>();
  for (let i = 0; i < a.v4Asn.length; i++) {
    const s = a.v4Starts[i]!;
    const e = a.v4Ends[i]!;
    if (t.classify4(s) === view.domestic && t.classify4(e) === view.domestic)
      size.set(a.v4Asn[i]!, (size.get(a.v4Asn[i]!) ?? 0) + (e - s + 1));
  }
  const ranked = [...size].sort((x, y) => y[1] - x[1] || x[0] - y[0]);
  const out: number[] = [];
  const orgs = new Set<string>();
  for (const [asn] of ranked) {
    const org = t.orgOf(asn) ?? String(asn);
    if (orgs.has(org)) continue;
    orgs.add(org);
    out.push(asn);
    if (out.length === count) break;
  }
  return out;
}

function buildProviders(view: TableView, config: CountryConfig, rng: Rng) {
  const asns =
    config.providerAsns.length > 0 ? config.providerAsns : chooseProviderAsns(view, config.providers);
  if (asns.length < config.providers && config.providerAsns.length === 0)
    throw new CountryModelError(
      `only ${asns.length} domestic ASNs for ${config.domesticCountry} in the table`,
    );
  const providers: Provider[] = [];
  const allocators = new Map<string, { v4: SubAllocator; v6: SubAllocator }>();
  let exporterSeq = 0;
  const used = new Set<string>();
  asns.forEach((asn, p) => {
    const r = rng.fork(`provider-${asn}`);
    const space = new ProviderSpace(view, asn);
    if (space.v4Rows.length === 0)
      throw new CountryModelError(`AS${asn} has no ${config.domesticCountry} IPv4 space in the table`);
    const id = `provider-${p + 1}`;
    const prefixes: ProviderPrefix[] = [];
    const take4 = (role: PrefixRole): Block | undefined => {
      const b = space.block4(r, V4_BLOCK[role]);
      if (b)
        prefixes.push({
          prefix: formatPrefix(4, b.first, 32 - log2(b.last - b.first + 1n)),
          version: 4,
          role,
        });
      return b;
    };
    const take6 = (role: PrefixRole): Block | undefined => {
      const b = space.block6(r, V6_BLOCK[role]);
      if (b)
        prefixes.push({
          prefix: formatPrefix(6, b.first, 128 - log2(b.last - b.first + 1n)),
          version: 6,
          role,
        });
      return b;
    };
    const subs4 = [take4('subscribers'), take4('subscribers')].filter((b): b is Block => !!b);
    const infra4 = [take4('infrastructure')].filter((b): b is Block => !!b);
    const subs6 = [take6('subscribers')].filter((b): b is Block => !!b);
    const infra6 = [take6('infrastructure')].filter((b): b is Block => !!b);
    if (subs4.length === 0 || infra4.length === 0)
      throw new CountryModelError(`AS${asn}: no clean IPv4 space to sample`);
    allocators.set(id, {
      v4: new SubAllocator(() => take4('enterprise')),
      v6: new SubAllocator(() => take6('enterprise')),
    });
    const exporters: Exporter[] = [];
    for (let e = 0; e < config.exportersPerProvider; e++) {
      const n = 2 + exporterSeq++;
      exporters.push({
        id: `${id}-exporter-${e + 1}`,
        providerId: id,
        address: `127.0.${n >> 8}.${n & 255}`,
        observationDomainId: (p + 1) * 100 + e,
        format: config.exportFormat,
        samplingRate: r.pick(config.samplingRates),
      });
    }
    const subscribers = [
      ...uniqueHosts(r, config.subscribersV4, subs4, 4, used),
      ...uniqueHosts(r, config.subscribersV6, subs6, 6, used),
    ];
    const resolvers = [
      ...uniqueHosts(r, config.resolversPerProvider, infra4, 4, used),
      ...uniqueHosts(r, 1, infra6, 6, used),
    ];
    const serverRoles: Server['role'][] = ['web', 'mail', 'dns-authoritative'];
    const servers = uniqueHosts(r, config.serversPerProvider, infra4, 4, used).map((address, i) => ({
      address,
      role: serverRoles[i % serverRoles.length]!,
    }));
    const name = view.table.orgOf(asn) ?? `AS${asn}`;
    providers.push({
      id,
      slug: slugOf(name),
      name,
      asn,
      prefixes,
      exporters,
      subscribers,
      servers,
      resolvers,
    });
  });
  return { providers, allocators, used };
}

function log2(n: bigint): number {
  let l = 0;
  while (n > 1n) {
    n >>= 1n;
    l++;
  }
  return l;
}

const CLOUD_ORGS: readonly { pattern: RegExp; role: ForeignRole }[] = [
  { pattern: /amazon/i, role: 'cloud' },
  { pattern: /google/i, role: 'cloud' },
  { pattern: /microsoft/i, role: 'cloud' },
  { pattern: /cloudflare/i, role: 'cdn' },
  { pattern: /akamai/i, role: 'cdn' },
];

const GENERIC_ROLES: readonly ForeignRole[] = ['web', 'mail', 'dns', 'ntp', 'vpn', 'generic'];
const GENERIC_WEIGHTS: readonly number[] = [60, 5, 5, 5, 5, 20];

function buildForeign(view: TableView, config: CountryConfig, rng: Rng, used: Set<string>): ForeignHost[] {
  const t = view.table;
  const c = t.country;
  const a = t.asn;
  const out: ForeignHost[] = [];
  const add = (addr: string, asn: number, role: ForeignRole): boolean => {
    if (used.has(addr)) return false;
    const cls = t.classifyEndpoint(addr);
    if (cls.kind !== 'country' || cls.country === config.domesticCountry) return false;
    used.add(addr);
    out.push({ address: addr, country: cls.country, asn, org: t.orgOf(asn) ?? `AS${asn}`, role });
    return true;
  };
  const w = [0, 0, 0, 0];

  // Generic hosts from the weighted countries.
  const countries = Object.keys(config.foreignCountryWeights)
    .filter((cc) => cc !== config.domesticCountry && t.countryClass(cc) >= 0)
    .sort();
  if (countries.length === 0)
    throw new CountryModelError('no foreign country of foreignCountryWeights is in the table');
  const weights = countries.map((cc) => config.foreignCountryWeights[cc] ?? 0);
  const rows4 = countries.map(() => [] as number[]);
  const rows6 = countries.map(() => [] as number[]);
  const clsToIdx = new Map(countries.map((cc, i) => [t.countryClass(cc), i]));
  for (let i = 0; i < c.v4Values.length; i++) {
    const k = clsToIdx.get(c.v4Values[i]!);
    if (k !== undefined) rows4[k]!.push(i);
  }
  for (let i = 0; i < c.v6Values.length; i++) {
    const k = clsToIdx.get(c.v6Values[i]!);
    if (k !== undefined) rows6[k]!.push(i);
  }
  const cum4 = rows4.map((rows) => cumulativeOf(rows.map((i) => c.v4Ends[i]! - c.v4Starts[i]! + 1)));
  const gr = rng.fork('foreign');
  for (let n = 0, tries = 0; n < config.foreignHosts && tries < config.foreignHosts * 50; tries++) {
    const k = gr.weighted(weights);
    const role = GENERIC_ROLES[gr.weighted(GENERIC_WEIGHTS)]!;
    if (gr.chance(config.foreignV6Share) && rows6[k]!.length > 0) {
      const i = gr.pick(rows6[k]!);
      const start = rowStart6(c.v6Starts, i);
      const addr = start + gr.bigint(rowEnd6(c.v6Ends, i) - start + 1n);
      bigIntToWords(addr, w);
      const asn = t.asn6(w[0]!, w[1]!, w[2]!, w[3]!);
      if (asn !== 0 && add(formatIpv6BigInt(addr), asn, role)) n++;
    } else if (rows4[k]!.length > 0) {
      const i = rows4[k]![pickCumulative(gr, cum4[k]!)]!;
      const addr = c.v4Starts[i]! + gr.int(c.v4Ends[i]! - c.v4Starts[i]! + 1);
      const asn = t.asn4(addr);
      if (asn !== 0 && add(formatIpv4(addr), asn, role)) n++;
    }
  }

  // Cloud and CDN look-alikes: the organisation's ASN with the most foreign IPv4 space.
  for (const { pattern, role } of CLOUD_ORGS) {
    if (config.cloudHostsPerOrg === 0) break;
    // Test each organisation name once, not once per row.
    const orgMatches = a.orgs.map((o) => pattern.test(o));
    const size = new Map<number, number>();
    for (let i = 0; i < a.v4Asn.length; i++) {
      if (!orgMatches[a.v4Org[i]!]) continue;
      const cls = t.classify4(a.v4Starts[i]!);
      if (cls === view.domestic || t.countryOf(cls) === undefined) continue;
      size.set(a.v4Asn[i]!, (size.get(a.v4Asn[i]!) ?? 0) + a.v4Ends[i]! - a.v4Starts[i]! + 1);
    }
    const best = [...size].sort((x, y) => y[1] - x[1] || x[0] - y[0])[0];
    if (!best) continue;
    const asn = best[0];
    const rows: number[] = [];
    for (let i = 0; i < a.v4Asn.length; i++) if (a.v4Asn[i] === asn) rows.push(i);
    const cum = cumulativeOf(rows.map((i) => a.v4Ends[i]! - a.v4Starts[i]! + 1));
    const cr = rng.fork(`cloud-${asn}`);
    for (let n = 0, tries = 0; n < config.cloudHostsPerOrg && tries < config.cloudHostsPerOrg * 50; tries++) {
      const i = rows[pickCumulative(cr, cum)]!;
      const addr = a.v4Starts[i]! + cr.int(a.v4Ends[i]! - a.v4Starts[i]! + 1);
      if (add(formatIpv4(addr), asn, role)) n++;
    }
  }
  return out;
}

function placeName(rng: Rng): string {
  const n = rng.range(2, 3);
  let s = '';
  for (let i = 0; i < n; i++) s += rng.pick(SYLLABLES);
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function isoDate(base: string, days: number): string {
  return new Date(Date.parse(`${base}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function buildOperators(
  config: CountryConfig,
  rng: Rng,
  providers: readonly Provider[],
  allocators: Map<string, { v4: SubAllocator; v6: SubAllocator }>,
): Operator[] {
  const operators: Operator[] = [];
  const names = new Set<string>();
  for (const sector of SECTORS) {
    const style = SECTOR_STYLE[sector];
    for (let k = 1; k <= config.operatorsPerSector; k++) {
      const id = `op-${sector}-${k}`;
      const r = rng.fork(id);
      const provider = r.pick(providers);
      const alloc = allocators.get(provider.id)!;
      let place = placeName(r);
      const si = r.int(style.suffixes.length);
      for (let t = 0; names.has(`${place} ${style.suffixes[si]}`) && t < 100; t++) place = placeName(r);
      const name = `${place} ${style.suffixes[si]}`;
      names.add(name);
      const slug = `${place.toLowerCase()}-${style.slugs[si] ?? style.slugs[0]}`;

      const statusIdx = r.weighted([60, 25, 15]);
      const status = (['active', 'none', 'expired'] as const)[statusIdx]!;
      const agreement: Agreement = { status };
      if (status !== 'none') {
        agreement.id = `agr-${id}`;
        const from = -r.range(60, 1500);
        agreement.validFrom = isoDate(config.referenceDate, from);
        agreement.validUntil =
          status === 'active'
            ? isoDate(config.referenceDate, r.range(180, 1100))
            : isoDate(config.referenceDate, r.range(from + 30, -1));
      }

      const ranges: OperatorRange[] = [];
      const v4Blocks: Block[] = [];
      const nRanges = r.range(1, 2);
      for (let j = 0; j < nRanges; j++) {
        const hostBits = r.pick([4, 5]); // a /28 or a /27
        const b = alloc.v4.alloc(hostBits);
        if (!b) continue;
        v4Blocks.push(b);
        ranges.push({
          prefix: formatPrefix(4, b.first, 32 - hostBits),
          pseudonymisationWaived: status === 'active' && r.chance(0.25),
        });
      }
      if (r.chance(0.5)) {
        const b = alloc.v6.alloc(80); // a /48
        if (b)
          ranges.push({
            prefix: formatPrefix(6, b.first, 48),
            pseudonymisationWaived: status === 'active' && r.chance(0.25),
          });
      }
      if (v4Blocks.length === 0)
        throw new CountryModelError(`${provider.id}: enterprise space exhausted for ${id}`);

      const systems = new Set<string>();
      const importantSystems: ImportantSystem[] = [];
      const nSys = r.range(2, Math.min(3, style.systems.length));
      for (let j = 0; j < nSys; j++) {
        const address = hostIn(r, r.pick(v4Blocks), 4);
        if (systems.has(address)) continue;
        systems.add(address);
        importantSystems.push({ name: style.systems[j]!, address });
      }
      const domains = [`${slug}.${style.sld}`];
      if (r.chance(0.3)) domains.push(`${place.toLowerCase()}-group.co.jp`);
      const person = (): string => `${r.pick(GIVEN_NAMES)} ${r.pick(FAMILY_NAMES)}`;
      const contacts: Contact[] = [
        { role: 'security', name: person(), email: `soc@${slug}.example.jp` },
        { role: 'management', name: person(), email: `ciso@${slug}.example.jp` },
      ];
      operators.push({
        id,
        name,
        sector,
        providerId: provider.id,
        ranges,
        domains,
        importantSystems,
        contacts,
        agreement,
      });
    }
  }
  return operators;
}

/**
 * Builds the synthetic country from a prefix table. Throws `CountryModelError` when the table
 * cannot support the configuration (too few domestic ASNs, no foreign space) and `ConfigError`
 * for invalid parameters.
 */
export function buildCountryModel(table: PrefixTable, partial: Partial<CountryConfig> = {}): CountryModel {
  const config = resolveCountryConfig(partial);
  const view = new TableView(table, config.domesticCountry);
  if (view.domestic < 0)
    throw new CountryModelError(`country ${config.domesticCountry} is not in the prefix table`);
  const rng = new Rng(config.seed);
  const { providers, allocators, used } = buildProviders(view, config, rng.fork('providers'));
  const operators = buildOperators(config, rng.fork('operators'), providers, allocators);
  // Enterprise blocks were drawn lazily by the operators and recorded in their provider's prefixes.
  const foreign = buildForeign(view, config, rng, used);
  return {
    seed: config.seed,
    domesticCountry: config.domesticCountry,
    tableVersion: table.tableVersion,
    providers,
    foreign,
    operators,
  };
}

/** The model as JSON text (stable: same model → same bytes). */
export function countryModelToJson(model: CountryModel): string {
  return JSON.stringify(model, null, 2) + '\n';
}
