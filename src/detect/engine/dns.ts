/**
 * Reading DNS events (`DnsRow`) for the DNS detectors (`dga`, `dns-tunnel`, `indicator`): the
 * client's host key from its address text, and the query name, type, response code and answers
 * from the dnstap decoder's fields, narrowed from `unknown`-shaped values without throwing.
 * DNS rates are far below flow rates, so these work on strings.
 */
import { parseIpv4, parseIpv6Into } from '../../common/prefixes/address.ts';
import type { Fields, FieldValue } from '../../common/schema/record.ts';
import { hostKey } from './keys.ts';

/** Longest query name considered (RFC 1035: 253 characters in text form). */
export const MAX_QNAME_CHARS = 253;
/** Most answers of one response looked at. */
export const MAX_DNS_ANSWERS = 64;

const scratch = new Uint32Array(4);

/**
 * Parses address text into `words[off..off+4)` (IPv4 in word 0); returns its version, or 0 when
 * the text is not an address.
 */
export function parseAddressInto(text: string, words: Uint32Array, off = 0): number {
  const a4 = parseIpv4(text);
  if (a4 !== undefined) {
    words[off] = a4;
    words[off + 1] = words[off + 2] = words[off + 3] = 0;
    return 4;
  }
  return parseIpv6Into(text, words.subarray(off, off + 4)) ? 6 : 0;
}

/** Writes the host key of address text into `key` (see keys.ts); false when it is no address. */
export function textHostKey(text: string, group64: boolean, key: Uint32Array): boolean {
  const v = parseAddressInto(text, scratch, 0);
  if (v === 0) return false;
  hostKey(scratch, 0, v, group64, key);
  return true;
}

function numField(f: Fields, name: string): number {
  const v = f[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : -1;
}

/** The query name, lower case, without a trailing dot; '' when absent or too long. */
export function dnsQueryName(f: Fields): string {
  const v = f.dnsQueryName;
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_QNAME_CHARS + 1) return '';
  const s = v.endsWith('.') ? v.slice(0, -1) : v;
  return s.toLowerCase();
}

/** The query type (1 = A, 16 = TXT, …), −1 when absent. */
export function dnsQueryType(f: Fields): number {
  return numField(f, 'dnsQueryType');
}

/** The response code (0 = NOERROR, 3 = NXDOMAIN), −1 when absent (a query, not a response). */
export function dnsResponseCode(f: Fields): number {
  return numField(f, 'dnsResponseCode');
}

/** A number field, 0 when absent. */
export function dnsCount(f: Fields, name: string): number {
  const v = numField(f, name);
  return v > 0 ? v : 0;
}

function isObject(v: FieldValue | undefined): v is { [name: string]: FieldValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Calls `fn(type, data)` for each answer record with a text `data` (addresses of A/AAAA, target
 * names of CNAME; TXT carries no data in the decoder's output), at most `MAX_DNS_ANSWERS`.
 */
export function forEachDnsAnswer(f: Fields, fn: (type: number, data: string) => void): void {
  const a = f.dnsAnswers;
  if (!Array.isArray(a)) return;
  const n = Math.min(a.length, MAX_DNS_ANSWERS);
  for (let i = 0; i < n; i++) {
    const r = a[i];
    if (!isObject(r)) continue;
    const type = r.type;
    const data = r.data;
    if (typeof type === 'number' && typeof data === 'string') fn(type, data);
  }
}
