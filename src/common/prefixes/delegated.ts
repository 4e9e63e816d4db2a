/**
 * Parser for the RIR statistics exchange format ("delegated" and "delegated-extended" files of
 * AFRINIC, APNIC, ARIN, LACNIC, RIPE NCC and the NRO's combined file), so that
 * `acd prefixes update FILE` can load a newer border table than the packaged one.
 *
 * Lines (fields separated by `|`):
 * - `#…` comments and blank lines are skipped;
 * - header `version|registry|serial|records|startdate|enddate|UTCoffset` (several when files are
 *   concatenated);
 * - summary `registry|*|type|*|count|summary`;
 * - record `registry|cc|type|start|value|date|status[|opaque-id[|extensions…]]` where `type` is
 *   `asn`, `ipv4` or `ipv6`; for ipv4 `value` is the number of addresses (not necessarily a power
 *   of two), for ipv6 the prefix length. Only `allocated`/`assigned` records with a country code
 *   become rows; `available`/`reserved` space stays unknown. `asn` records are skipped: they say
 *   which country holds an AS number, not which addresses it originates.
 */
import { parseIpv4, parseIpv6Into, wordsToBigInt } from './address.ts';
import { CountryTableBuilder } from './build.ts';
import { forEachLine } from './csv.ts';
import { PrefixParseError } from './errors.ts';
import type { CountryTable } from './types.ts';

/**
 * Longest line accepted. Real records are < 120 characters; extensions may add a little. A cap
 * keeps a corrupt file from producing huge fields or messages.
 */
const MAX_LINE = 4096;
/** Registry names of the format plus the NRO's combined file. */
const REGISTRY = /^[a-z]{2,16}$/;

/** Options of `parseDelegated`. */
export interface DelegatedOptions {
  /** Label used in errors and, without a header, as the source name (default `delegated`). */
  source?: string;
  /** Version to stamp when the file has no header line (otherwise the highest header serial). */
  version?: string;
}

/** Result of `parseDelegated`: the table plus counts for the operator. */
export interface DelegatedResult {
  table: CountryTable;
  /** Country rows taken (ipv4 + ipv6 records, before flattening). */
  rows: number;
  /** Records skipped: asn records, available/reserved space, records without a country. */
  skipped: number;
  /** Registries named in headers. */
  registries: string[];
}

/**
 * Parses a delegated(-extended) file into a `CountryTable`. Throws `PrefixParseError` naming the
 * line on anything malformed; never anything else.
 */
export function parseDelegated(text: string, options: DelegatedOptions = {}): DelegatedResult {
  const label = options.source ?? 'delegated';
  const builder = new CountryTableBuilder();
  const registries: string[] = [];
  let serial: string | undefined;
  let rows = 0;
  let skipped = 0;
  const words = [0, 0, 0, 0];
  forEachLine(text, (raw, lineNo) => {
    const line = raw.trim();
    if (line.length === 0 || line.startsWith('#')) return;
    if (line.length > MAX_LINE)
      throw new PrefixParseError(label, lineNo, `line longer than ${MAX_LINE} characters`);
    const f = line.split('|');
    if (f.length < 6) throw new PrefixParseError(label, lineNo, 'expected at least 6 |-separated fields');
    // Header: the first field is the format version (a number such as 2 or 2.3).
    if (/^[0-9]+(\.[0-9]+)*$/.test(f[0]!)) {
      const registry = f[1]!;
      const s = f[2]!;
      if (!REGISTRY.test(registry))
        throw new PrefixParseError(label, lineNo, 'header registry is not a registry name');
      if (!/^[0-9A-Za-z.-]{1,32}$/.test(s))
        throw new PrefixParseError(label, lineNo, 'header serial is malformed');
      if (!registries.includes(registry)) registries.push(registry);
      if (serial === undefined || s > serial) serial = s;
      return;
    }
    const [registry, cc, type, start, value] = f as [string, string, string, string, string];
    if (!REGISTRY.test(registry))
      throw new PrefixParseError(label, lineNo, 'registry is not a registry name');
    if (f[5] === 'summary') {
      if (cc !== '*') throw new PrefixParseError(label, lineNo, 'summary line without * country');
      return;
    }
    if (f.length < 7)
      throw new PrefixParseError(
        label,
        lineNo,
        'record needs 7 fields (registry|cc|type|start|value|date|status)',
      );
    const status = f[6]!.toLowerCase();
    if (!['allocated', 'assigned', 'available', 'reserved'].includes(status))
      throw new PrefixParseError(label, lineNo, 'unknown status');
    if (type !== 'asn' && type !== 'ipv4' && type !== 'ipv6')
      throw new PrefixParseError(label, lineNo, 'unknown type');
    if (cc !== '' && !/^[A-Z]{2}$/.test(cc))
      throw new PrefixParseError(label, lineNo, 'country is not an ISO 3166 alpha-2 code');
    if (!/^[0-9]{1,10}$/.test(value))
      throw new PrefixParseError(label, lineNo, 'value is not a decimal number');
    const v = Number(value);
    if (type === 'asn') {
      skipped++;
      return;
    }
    // Validate the range even when the record is skipped, so a broken file is noticed.
    let first: bigint;
    let last: bigint;
    if (type === 'ipv4') {
      const a = parseIpv4(start);
      if (a === undefined) throw new PrefixParseError(label, lineNo, 'start is not an IPv4 address');
      if (v < 1 || a + v - 1 > 0xffffffff)
        throw new PrefixParseError(label, lineNo, 'address count out of range');
      first = BigInt(a);
      last = BigInt(a + v - 1);
    } else {
      if (!parseIpv6Into(start, words))
        throw new PrefixParseError(label, lineNo, 'start is not an IPv6 address');
      if (v > 128) throw new PrefixParseError(label, lineNo, 'prefix length above 128');
      first = wordsToBigInt(words[0]!, words[1]!, words[2]!, words[3]!);
      const host = (1n << BigInt(128 - v)) - 1n;
      if ((first & host) !== 0n)
        throw new PrefixParseError(label, lineNo, 'host bits set below the prefix length');
      last = first | host;
    }
    // ZZ is the format's "no country" for unassigned space.
    if ((status !== 'allocated' && status !== 'assigned') || cc === '' || cc === 'ZZ') {
      skipped++;
      return;
    }
    if (type === 'ipv4') builder.add4(Number(first), Number(last), cc);
    else builder.add6(first, last, cc);
    rows++;
  });
  const version = options.version ?? serial;
  if (version === undefined) throw new PrefixParseError(label, 1, 'no header line and no version given');
  const source =
    registries.length > 0 ? `delegated-${registries.join('+')}-extended` : (options.source ?? 'delegated');
  return { table: builder.build({ source, version }), rows, skipped, registries };
}
