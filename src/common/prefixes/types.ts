/**
 * The compact, sorted, non-overlapping range tables behind border and ASN classification.
 * Plain data (typed arrays + string tables) so they can be cached as bytes and shared.
 */

/** Where one half of the table came from. */
export interface SourceVersion {
  /** Source name, e.g. `@ip-location-db/geo-whois-asn-country` or `delegated-apnic-extended`. */
  source: string;
  /** Source version: the npm package version, or the delegated file's serial/date. */
  version: string;
}

/** Both halves of a prefix table and the `tableVersion` string stamped on every record. */
export interface PrefixTableVersion {
  country: SourceVersion;
  asn: SourceVersion;
  /** e.g. `geo-whois-asn-country@2.3.2026061719+asn@2.3.2026061719`. */
  tableVersion: string;
}

/**
 * Class code returned by the hot-path classifiers: `0 ≤ c < SPECIAL_BASE` is an index into
 * `CountryTable.countries`; `SPECIAL_BASE + r` is special space with reason `SPECIAL_REASONS[r]`;
 * `CLASS_UNKNOWN` is space no registry row covers. With this layout "counts as domestic" is
 * `c === domesticIndex || c >= SPECIAL_BASE` (special and unknown are both ≥ SPECIAL_BASE).
 */
export type ClassCode = number;

/** First class code of special space. */
export const SPECIAL_BASE = 0x8000;
/** Class code of unknown (unallocated, not in the table) space. */
export const CLASS_UNKNOWN = 0xffff;

/**
 * Address → country (or special reason). Ranges are inclusive, sorted, non-overlapping; gaps are
 * unknown space. `values[i]` is a `ClassCode` (never `CLASS_UNKNOWN`).
 */
export interface CountryTable {
  version: SourceVersion;
  /** ISO 3166 alpha-2 codes, sorted; the index is the class code. */
  countries: readonly string[];
  v4Starts: Uint32Array;
  v4Ends: Uint32Array;
  v4Values: Uint16Array;
  /** IPv6 bounds: four big-endian words per row (row i at 4*i). */
  v6Starts: Uint32Array;
  v6Ends: Uint32Array;
  v6Values: Uint16Array;
}

/** Address → origin ASN and organisation. Ranges inclusive, sorted, non-overlapping. */
export interface AsnTable {
  version: SourceVersion;
  /** Organisation names; `v4Org`/`v6Org` index into it. */
  orgs: readonly string[];
  v4Starts: Uint32Array;
  v4Ends: Uint32Array;
  v4Asn: Uint32Array;
  v4Org: Uint32Array;
  v6Starts: Uint32Array;
  v6Ends: Uint32Array;
  v6Asn: Uint32Array;
  v6Org: Uint32Array;
}
