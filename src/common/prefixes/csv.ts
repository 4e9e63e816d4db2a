/**
 * Parser for the ip-location-db "num" CSV files: `start,end,country` (geo-whois-asn-country) and
 * `start,end,asn,org` (asn), bounds as inclusive decimal integers (128-bit for IPv6), org names
 * RFC 4180-quoted when they contain commas or quotes. Untrusted input: every malformed line is a
 * `PrefixParseError` naming the line; nothing else is thrown.
 */
import type { AsnTableBuilder, CountryTableBuilder } from './build.ts';
import { PrefixParseError } from './errors.ts';

/** Longest decimal of a uint32 (4294967295). */
const MAX_DIGITS_V4 = 10;
/** Longest decimal of a uint128 (340282366920938463463374607431768211455). */
const MAX_DIGITS_V6 = 39;
/** Largest IPv6 bound. */
const MAX_V6 = (1n << 128n) - 1n;
/** Largest 4-byte ASN (RFC 6793). */
const MAX_ASN = 0xffffffff;
/**
 * Longest line accepted. Real lines are < 200 characters; a cap keeps a corrupt file without
 * newlines from producing a huge error message or field.
 */
const MAX_LINE = 4096;

/** Calls `fn(line, lineNumber)` for each non-empty line (CRLF tolerated). */
export function forEachLine(text: string, fn: (line: string, lineNo: number) => void): void {
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let lineNo = 0;
  while (pos < text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    lineNo++;
    let end = nl;
    if (end > pos && text.charCodeAt(end - 1) === 13) end--;
    if (end > pos) fn(text.slice(pos, end), lineNo);
    pos = nl + 1;
  }
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Parses a decimal uint32 field; throws `PrefixParseError`. */
function uint32Field(s: string, what: string, source: string, lineNo: number): number {
  if (!isDigits(s) || s.length > MAX_DIGITS_V4)
    throw new PrefixParseError(source, lineNo, `${what} is not a decimal uint32`);
  const v = Number(s);
  if (v > 0xffffffff) throw new PrefixParseError(source, lineNo, `${what} above 2^32-1`);
  return v;
}

/** Parses a decimal uint128 field; throws `PrefixParseError`. */
function uint128Field(s: string, what: string, source: string, lineNo: number): bigint {
  if (!isDigits(s) || s.length > MAX_DIGITS_V6)
    throw new PrefixParseError(source, lineNo, `${what} is not a decimal uint128`);
  const v = BigInt(s);
  if (v > MAX_V6) throw new PrefixParseError(source, lineNo, `${what} above 2^128-1`);
  return v;
}

/** Splits the first `n` comma-separated fields off a line; the rest (unsplit) is the last item. */
function splitFields(line: string, n: number, source: string, lineNo: number): string[] {
  if (line.length > MAX_LINE)
    throw new PrefixParseError(source, lineNo, `line longer than ${MAX_LINE} characters`);
  const out: string[] = [];
  let pos = 0;
  for (let k = 0; k < n; k++) {
    const c = line.indexOf(',', pos);
    if (c < 0)
      throw new PrefixParseError(source, lineNo, `expected at least ${n + 1} comma-separated fields`);
    out.push(line.slice(pos, c));
    pos = c + 1;
  }
  out.push(line.slice(pos));
  return out;
}

/** Unquotes an RFC 4180 field (`"a ""b"", c"` → `a "b", c`); plain fields are returned as they are. */
function unquote(s: string, source: string, lineNo: number): string {
  if (s.charCodeAt(0) !== 34) {
    if (s.includes('"')) throw new PrefixParseError(source, lineNo, 'quote inside an unquoted field');
    return s;
  }
  if (s.length < 2 || s.charCodeAt(s.length - 1) !== 34)
    throw new PrefixParseError(source, lineNo, 'unterminated quoted field');
  const inner = s.slice(1, -1);
  // Inside quotes every quote must be doubled.
  if (inner.replaceAll('""', '').includes('"'))
    throw new PrefixParseError(source, lineNo, 'stray quote in quoted field');
  return inner.replaceAll('""', '"');
}

function checkCountry(cc: string, source: string, lineNo: number): void {
  if (!/^[A-Z]{2}$/.test(cc))
    throw new PrefixParseError(source, lineNo, 'country is not an ISO 3166 alpha-2 code');
}

/**
 * Adds the rows of a `start,end,country` file to `builder`. `ipVersion` says which file it is
 * (the numbers alone cannot tell small IPv6 bounds from IPv4). Returns the number of rows.
 */
export function parseCountryCsv(
  text: string,
  source: string,
  ipVersion: 4 | 6,
  builder: CountryTableBuilder,
): number {
  let rows = 0;
  forEachLine(text, (line, lineNo) => {
    const [s, e, cc] = splitFields(line, 2, source, lineNo) as [string, string, string];
    checkCountry(cc, source, lineNo);
    if (ipVersion === 4) {
      const start = uint32Field(s, 'start', source, lineNo);
      const end = uint32Field(e, 'end', source, lineNo);
      if (end < start) throw new PrefixParseError(source, lineNo, 'end before start');
      builder.add4(start, end, cc);
    } else {
      const start = uint128Field(s, 'start', source, lineNo);
      const end = uint128Field(e, 'end', source, lineNo);
      if (end < start) throw new PrefixParseError(source, lineNo, 'end before start');
      builder.add6(start, end, cc);
    }
    rows++;
  });
  return rows;
}

/** Adds the rows of a `start,end,asn,org` file to `builder`. Returns the number of rows. */
export function parseAsnCsv(
  text: string,
  source: string,
  ipVersion: 4 | 6,
  builder: AsnTableBuilder,
): number {
  let rows = 0;
  forEachLine(text, (line, lineNo) => {
    const [s, e, asnText, orgField] = splitFields(line, 3, source, lineNo) as [
      string,
      string,
      string,
      string,
    ];
    const asn = uint32Field(asnText, 'asn', source, lineNo);
    if (asn > MAX_ASN) throw new PrefixParseError(source, lineNo, 'asn out of range');
    const org = unquote(orgField, source, lineNo);
    if (ipVersion === 4) {
      const start = uint32Field(s, 'start', source, lineNo);
      const end = uint32Field(e, 'end', source, lineNo);
      if (end < start) throw new PrefixParseError(source, lineNo, 'end before start');
      builder.add4(start, end, asn, org);
    } else {
      const start = uint128Field(s, 'start', source, lineNo);
      const end = uint128Field(e, 'end', source, lineNo);
      if (end < start) throw new PrefixParseError(source, lineNo, 'end before start');
      builder.add6(start, end, asn, org);
    }
    rows++;
  });
  return rows;
}
