/**
 * Border and ASN lookups. The hot-path methods take integers (IPv4 uint32; IPv6 four big-endian
 * uint32 words as in `FlowBatch`) and return integers (class codes, ASNs): no strings, objects or
 * exceptions. Each is a binary search over typed arrays, O(log n). The string methods at the end
 * are conveniences for configuration, the CLI, tests and the simulator.
 */
import { parseAddress, type ParsedAddress } from './address.ts';
import { PairIndex4, RangeIndex6 } from './search.ts';
import { SPECIAL_REASONS, type SpecialReason } from './special.ts';
import {
  CLASS_UNKNOWN,
  SPECIAL_BASE,
  type AsnTable,
  type ClassCode,
  type CountryTable,
  type PrefixTableVersion,
} from './types.ts';

/** Result of `classifyEndpoint`. */
export type EndpointClass =
  { kind: 'country'; country: string } | { kind: 'special'; reason: SpecialReason } | { kind: 'unknown' };

/**
 * If the IPv6 address embeds an IPv4 address whose country decides its side of the border
 * (IPv4-mapped `::ffff:0:0/96`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`; see special.ts), returns
 * it as a uint32; otherwise -1.
 */
export function embeddedIpv4(w0: number, w1: number, w2: number, w3: number): number {
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return w3;
  if (w0 === 0x0064ff9b && w1 === 0 && w2 === 0) return w3;
  if (w0 >>> 16 === 0x2002) return (((w0 & 0xffff) << 16) | (w1 >>> 16)) >>> 0;
  return -1;
}

/**
 * A versioned border + ASN table. Construct from tables (no I/O); load with `loadPrefixTable`.
 */
export class PrefixTable {
  readonly country: CountryTable;
  readonly asn: AsnTable;
  /** Both sources' versions and the stamped `tableVersion`. */
  readonly version: PrefixTableVersion;
  private readonly countryIndex = new Map<string, number>();
  /** IPv4 country and ASN merged (one lookup gives both; see `PairIndex4`). */
  private readonly p4: PairIndex4;
  /** `p4.pairs`: [class, asn] per pair id. */
  private readonly pairs4: Uint32Array;
  private readonly c6: RangeIndex6;
  private readonly a6: RangeIndex6;
  private asnOrgs: Map<number, string> | undefined;

  constructor(country: CountryTable, asn: AsnTable) {
    this.country = country;
    this.asn = asn;
    this.version = {
      country: country.version,
      asn: asn.version,
      tableVersion: `${shortName(country.version.source)}@${country.version.version}+${shortName(asn.version.source)}@${asn.version.version}`,
    };
    country.countries.forEach((cc, i) => this.countryIndex.set(cc, i));
    // Search indexes: CPU only (tens of ms), no I/O.
    this.p4 = new PairIndex4(
      country.v4Starts,
      country.v4Ends,
      country.v4Values,
      asn.v4Starts,
      asn.v4Ends,
      asn.v4Asn,
      CLASS_UNKNOWN,
    );
    this.pairs4 = this.p4.pairs;
    this.c6 = new RangeIndex6(country.v6Starts, country.v6Ends);
    this.a6 = new RangeIndex6(asn.v6Starts, asn.v6Ends);
  }

  /** The string stamped on every selected record's provenance. */
  get tableVersion(): string {
    return this.version.tableVersion;
  }

  // ---- hot path: integers in, integers out ----

  /** Class code of an IPv4 address (uint32). */
  classify4(a: number): ClassCode {
    return this.pairs4[this.p4.find(a) * 2]!;
  }

  /**
   * Country and ASN of an IPv4 address (uint32) in one lookup, as a pair id for `pairClass` and
   * `pairAsn` (the selection hot path needs both for each endpoint).
   */
  pair4(a: number): number {
    return this.p4.find(a);
  }

  /**
   * `pair4` of many IPv4 addresses: `out[i]` = pair id of `words[i * stride]` for i < count
   * (stride 4 for `FlowBatch` address columns). Faster per address than `pair4` over batches of
   * thousands of distinct addresses (the lookups' cache misses overlap; see `PairIndex4.findMany`).
   * With `versions` (a `FlowBatch.ipVersion` column) only rows of version 4 are looked up.
   */
  pair4Many(
    words: Uint32Array,
    stride: number,
    count: number,
    out: Uint32Array,
    versions?: Uint8Array,
  ): void {
    if (this.scratchLo.length < count) {
      this.scratchLo = new Uint32Array(count);
      this.scratchHi = new Uint32Array(count);
    }
    this.p4.findMany(words, stride, count, out, this.scratchLo, this.scratchHi, versions);
  }

  /** Work arrays of `pair4Many` (grown to the largest batch seen). */
  private scratchLo = new Uint32Array(0);
  private scratchHi = new Uint32Array(0);

  /** Class code of a pair id from `pair4`. */
  pairClass(pair: number): ClassCode {
    return this.pairs4[pair * 2]!;
  }

  /** Origin ASN (0 when unknown) of a pair id from `pair4`. */
  pairAsn(pair: number): number {
    return this.pairs4[pair * 2 + 1]!;
  }

  /** Class code of an IPv6 address (four big-endian uint32 words). */
  classify6(w0: number, w1: number, w2: number, w3: number): ClassCode {
    const e = embeddedIpv4(w0, w1, w2, w3);
    if (e >= 0) return this.classify4(e);
    const i = this.c6.find(w0, w1, w2, w3);
    return i < 0 ? CLASS_UNKNOWN : this.country.v6Values[i]!;
  }

  /**
   * Class code of the address at `words[offset..]` in `FlowBatch` layout (IPv4 in the first word).
   * `ipVersion` 0 (no address) is unknown.
   */
  classifyAt(ipVersion: number, words: Uint32Array, offset: number): ClassCode {
    if (ipVersion === 4) return this.classify4(words[offset]!);
    if (ipVersion === 6)
      return this.classify6(words[offset]!, words[offset + 1]!, words[offset + 2]!, words[offset + 3]!);
    return CLASS_UNKNOWN;
  }

  /** Origin ASN of an IPv4 address, 0 when none is known (AS 0 is reserved, RFC 7607). */
  asn4(a: number): number {
    return this.pairs4[this.p4.find(a) * 2 + 1]!;
  }

  /** Origin ASN of an IPv6 address, 0 when none is known. Embedded IPv4 (see `embeddedIpv4`) decides. */
  asn6(w0: number, w1: number, w2: number, w3: number): number {
    const e = embeddedIpv4(w0, w1, w2, w3);
    if (e >= 0) return this.asn4(e);
    const i = this.a6.find(w0, w1, w2, w3);
    return i < 0 ? 0 : this.asn.v6Asn[i]!;
  }

  /** Origin ASN of the address at `words[offset..]` in `FlowBatch` layout; 0 when unknown. */
  asnAt(ipVersion: number, words: Uint32Array, offset: number): number {
    if (ipVersion === 4) return this.asn4(words[offset]!);
    if (ipVersion === 6)
      return this.asn6(words[offset]!, words[offset + 1]!, words[offset + 2]!, words[offset + 3]!);
    return 0;
  }

  /**
   * Domestic test on a class code (DESIGN section 6): the domestic country, special-purpose space
   * (RFC 1918, CGNAT, loopback, …) and unknown space all count as domestic, so that anything not
   * positively foreign is protected as domestic (pseudonymised; never selected as foreign).
   */
  static isDomesticClass(code: ClassCode, domesticIndex: number): boolean {
    return code === domesticIndex || code >= SPECIAL_BASE;
  }

  /**
   * Class code of a country (for `isDomesticClass`). A country absent from the table gets -1,
   * which matches no row: then only special and unknown space is domestic.
   */
  countryClass(cc: string): number {
    return this.countryIndex.get(cc.toUpperCase()) ?? -1;
  }

  // ---- conversions at the edges ----

  /** Country code of a class code, or undefined for special/unknown. */
  countryOf(code: ClassCode): string | undefined {
    return code < SPECIAL_BASE ? this.country.countries[code] : undefined;
  }

  /** Special reason of a class code, or undefined. */
  static specialReasonOf(code: ClassCode): SpecialReason | undefined {
    return code >= SPECIAL_BASE && code !== CLASS_UNKNOWN ? SPECIAL_REASONS[code - SPECIAL_BASE] : undefined;
  }

  /** The class of a class code as an object. */
  describe(code: ClassCode): EndpointClass {
    const cc = this.countryOf(code);
    if (cc !== undefined) return { kind: 'country', country: cc };
    const reason = PrefixTable.specialReasonOf(code);
    return reason !== undefined ? { kind: 'special', reason } : { kind: 'unknown' };
  }

  /** Organisation name of an ASN as the ASN source spells it. */
  orgOf(asn: number): string | undefined {
    if (!this.asnOrgs) {
      // Built on first use: only the edges of the system need names.
      const m = new Map<number, string>();
      const t = this.asn;
      const add = (asns: Uint32Array, orgs: Uint32Array): void => {
        for (let i = 0; i < asns.length; i++) if (!m.has(asns[i]!)) m.set(asns[i]!, t.orgs[orgs[i]!]!);
      };
      add(t.v4Asn, t.v4Org);
      add(t.v6Asn, t.v6Org);
      this.asnOrgs = m;
    }
    return this.asnOrgs.get(asn);
  }

  /** Class code of a parsed address. */
  classifyParsed(a: ParsedAddress): ClassCode {
    return a.version === 4 ? this.classify4(a.w0) : this.classify6(a.w0, a.w1, a.w2, a.w3);
  }

  /** Classifies a textual address (throws `AddressError` when it is not an address). */
  classifyEndpoint(address: string): EndpointClass {
    return this.describe(this.classifyParsed(parseAddress(address)));
  }

  /**
   * Whether a textual address counts as domestic for `domesticCountry` (ISO alpha-2): true for
   * the country's own space and for special and unknown space (DESIGN section 6).
   */
  isDomestic(address: string, domesticCountry: string): boolean {
    return PrefixTable.isDomesticClass(
      this.classifyParsed(parseAddress(address)),
      this.countryClass(domesticCountry),
    );
  }

  /** Origin ASN and organisation of a textual address, or undefined. */
  lookupAsn(address: string): { asn: number; org: string | undefined } | undefined {
    const a = parseAddress(address);
    const asn = a.version === 4 ? this.asn4(a.w0) : this.asn6(a.w0, a.w1, a.w2, a.w3);
    return asn === 0 ? undefined : { asn, org: this.orgOf(asn) };
  }
}

/** `@ip-location-db/asn` → `asn`: the short form used in `tableVersion`. */
function shortName(source: string): string {
  const slash = source.lastIndexOf('/');
  return slash >= 0 ? source.slice(slash + 1) : source;
}
