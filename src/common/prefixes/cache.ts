/**
 * Binary form of a prefix table, so that start-up does not re-parse ~60 MB of CSV (about 2-3 s)
 * every time: the typed arrays are written as they are, behind a small JSON header with the
 * versions and string tables. Layout:
 *
 *   "ACDPFX01" | uint32 LE header length | header JSON (UTF-8, padded to 4) | arrays…
 *
 * Arrays follow in the order of `ARRAY_ORDER`, each padded to 4 bytes, in the machine's byte order
 * (the header records it; a cache from a machine of the other byte order is rebuilt, not read).
 */
import { PrefixSourceError } from './errors.ts';
import { SPECIAL_REASONS } from './special.ts';
import { SPECIAL_BASE, type AsnTable, type CountryTable, type SourceVersion } from './types.ts';

/** Bump when the binary layout or the meaning of stored codes (e.g. SPECIAL_REASONS) changes. */
export const CACHE_FORMAT = 1;
const MAGIC = 'ACDPFX01';
/** A header above this is not one we wrote (ASN org names are ~2 MB of JSON). */
const MAX_HEADER = 64 * 1024 * 1024;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface Header {
  format: number;
  littleEndian: boolean;
  country: { version: SourceVersion; countries: string[]; n4: number; n6: number };
  asn: { version: SourceVersion; orgs: string[]; n4: number; n6: number };
}

type Arr = Uint32Array | Uint16Array;

function arrays(c: CountryTable, a: AsnTable): Arr[] {
  return [
    c.v4Starts,
    c.v4Ends,
    c.v4Values,
    c.v6Starts,
    c.v6Ends,
    c.v6Values,
    a.v4Starts,
    a.v4Ends,
    a.v4Asn,
    a.v4Org,
    a.v6Starts,
    a.v6Ends,
    a.v6Asn,
    a.v6Org,
  ];
}

const pad4 = (n: number): number => (n + 3) & ~3;

/** Serialises both tables into one byte array. */
export function serializeTables(country: CountryTable, asn: AsnTable): Uint8Array {
  const header: Header = {
    format: CACHE_FORMAT,
    littleEndian: LITTLE_ENDIAN,
    country: {
      version: country.version,
      countries: [...country.countries],
      n4: country.v4Values.length,
      n6: country.v6Values.length,
    },
    asn: { version: asn.version, orgs: [...asn.orgs], n4: asn.v4Asn.length, n6: asn.v6Asn.length },
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const list = arrays(country, asn);
  let size = 8 + 4 + pad4(headerBytes.length);
  for (const a of list) size += pad4(a.byteLength);
  const out = new Uint8Array(size);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  let off = 12 + pad4(headerBytes.length);
  for (const a of list) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), off);
    off += pad4(a.byteLength);
  }
  return out;
}

function isHeader(h: unknown): h is Header {
  if (typeof h !== 'object' || h === null) return false;
  const o = h as Record<string, unknown>;
  const part = (p: unknown, list: string): boolean => {
    if (typeof p !== 'object' || p === null) return false;
    const q = p as Record<string, unknown>;
    const v = q.version as Record<string, unknown> | undefined;
    return (
      typeof v === 'object' &&
      v !== null &&
      typeof v.source === 'string' &&
      typeof v.version === 'string' &&
      Array.isArray(q[list]) &&
      (q[list] as unknown[]).every((s) => typeof s === 'string') &&
      Number.isSafeInteger(q.n4) &&
      Number.isSafeInteger(q.n6) &&
      (q.n4 as number) >= 0 &&
      (q.n6 as number) >= 0
    );
  };
  return (
    typeof o.format === 'number' &&
    typeof o.littleEndian === 'boolean' &&
    part(o.country, 'countries') &&
    part(o.asn, 'orgs')
  );
}

/**
 * Reads bytes written by `serializeTables`. Throws `PrefixSourceError` when they are not a cache
 * of this format (callers then rebuild from the sources).
 */
export function deserializeTables(bytes: Uint8Array): { country: CountryTable; asn: AsnTable } {
  const bad = (why: string): PrefixSourceError => new PrefixSourceError(`prefix cache unusable: ${why}`);
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw bad('bad magic');
  const hlen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (hlen > MAX_HEADER || 12 + hlen > bytes.length) throw bad('bad header length');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hlen)));
  } catch (err) {
    throw new PrefixSourceError('prefix cache unusable: header is not JSON', { cause: err });
  }
  if (!isHeader(header)) throw bad('header has the wrong shape');
  if (header.format !== CACHE_FORMAT) throw bad(`format ${header.format}, expected ${CACHE_FORMAT}`);
  if (header.littleEndian !== LITTLE_ENDIAN) throw bad('written on a machine of the other byte order');
  let off = 12 + pad4(hlen);
  const take32 = (n: number): Uint32Array => {
    const a = new Uint32Array(n);
    if (off + a.byteLength > bytes.length) throw bad('truncated');
    new Uint8Array(a.buffer).set(bytes.subarray(off, off + a.byteLength));
    off += pad4(a.byteLength);
    return a;
  };
  const take16 = (n: number): Uint16Array => {
    const a = new Uint16Array(n);
    if (off + a.byteLength > bytes.length) throw bad('truncated');
    new Uint8Array(a.buffer).set(bytes.subarray(off, off + a.byteLength));
    off += pad4(a.byteLength);
    return a;
  };
  const c = header.country;
  const s = header.asn;
  const country: CountryTable = {
    version: c.version,
    countries: c.countries,
    v4Starts: take32(c.n4),
    v4Ends: take32(c.n4),
    v4Values: take16(c.n4),
    v6Starts: take32(c.n6 * 4),
    v6Ends: take32(c.n6 * 4),
    v6Values: take16(c.n6),
  };
  const asn: AsnTable = {
    version: s.version,
    orgs: s.orgs,
    v4Starts: take32(s.n4),
    v4Ends: take32(s.n4),
    v4Asn: take32(s.n4),
    v4Org: take32(s.n4),
    v6Starts: take32(s.n6 * 4),
    v6Ends: take32(s.n6 * 4),
    v6Asn: take32(s.n6),
    v6Org: take32(s.n6),
  };
  if (off !== bytes.length) throw bad('trailing bytes');
  const validClass = (v: number): boolean =>
    v < country.countries.length || (v >= SPECIAL_BASE && v < SPECIAL_BASE + SPECIAL_REASONS.length);
  for (const v of country.v4Values) if (!validClass(v)) throw bad('class code out of range');
  for (const v of country.v6Values) if (!validClass(v)) throw bad('class code out of range');
  for (const o of asn.v4Org) if (o >= asn.orgs.length) throw bad('org index out of range');
  for (const o of asn.v6Org) if (o >= asn.orgs.length) throw bad('org index out of range');
  return { country, asn };
}
