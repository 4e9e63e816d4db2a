/**
 * The project's border and ASN source (DESIGN sections 3 and 6): a versioned table built from
 * registry data, with integer hot-path lookups for selection and string helpers for everything
 * else. See README-level docs in load.ts (sources, cache) and table.ts (lookups).
 */
export {
  parseAddress,
  tryParseAddress,
  formatAddress,
  formatIpv4,
  formatIpv6,
  formatIpv6BigInt,
  parseIpv4,
  parseIpv6Into,
  parsePrefix,
  formatPrefix,
  wordsToBigInt,
  bigIntToWords,
  type ParsedAddress,
  type ParsedPrefix,
} from './address.ts';
export { CountryTableBuilder, AsnTableBuilder } from './build.ts';
export { serializeTables, deserializeTables, CACHE_FORMAT } from './cache.ts';
export { parseCountryCsv, parseAsnCsv } from './csv.ts';
export { parseDelegated, type DelegatedOptions, type DelegatedResult } from './delegated.ts';
export { PrefixParseError, AddressError, PrefixSourceError } from './errors.ts';
export {
  loadPrefixTable,
  loadDelegatedCountry,
  parsePackagedTables,
  COUNTRY_PACKAGE,
  ASN_PACKAGE,
  DEFAULT_CACHE_DIR,
  type LoadPrefixOptions,
  type LoadReport,
} from './load.ts';
export {
  SPECIAL_REASONS,
  SPECIAL_IPV4,
  SPECIAL_IPV6,
  type SpecialReason,
  type SpecialPrefix,
} from './special.ts';
export { PrefixTable, embeddedIpv4, type EndpointClass } from './table.ts';
export { RangeIndex4, RangeIndex6 } from './search.ts';
export {
  SPECIAL_BASE,
  CLASS_UNKNOWN,
  type ClassCode,
  type CountryTable,
  type AsnTable,
  type SourceVersion,
  type PrefixTableVersion,
} from './types.ts';
