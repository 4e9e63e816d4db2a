/**
 * DNS names and answers on their way out of the edge (R-SEL-2, R-SEL-4; DESIGN section 6).
 * Decisions (documented in README.md):
 * - Reverse-lookup names (`…in-addr.arpa`, `…ip6.arpa`) spell an address. When that address is
 *   domestic (and not waived) its labels are replaced by those of the Crypto-PAn pseudonym, keeping
 *   the label count: Crypto-PAn is prefix-preserving, so a partial reverse zone (`2.1.in-addr.arpa`)
 *   maps consistently with the full names under it. A reverse name that does not decode cleanly
 *   is replaced by a keyed hash: it might still spell an address.
 * - PTR answer data are reverse-DNS names (host names of addresses): removed, as R-SEL-2 demands.
 * - A/AAAA answer data are addresses: domestic ones are pseudonymised like endpoints.
 * - Names that contain an e-mail-like string (an `@`, raw or escaped as `\064`) are replaced by
 *   the keyed hash of the whole name (R-SEL-4: "e-mail-like strings likewise with a keyed hash").
 * Every other name is kept: query names are allow-listed.
 */
import type { FieldValue } from '../common/schema/record.ts';
import type { KeyedHasher } from './pseudonymise/index.ts';

/** Pseudonymises one textual address if it is domestic; returns the text to publish. */
export type AddressTextMapper = (text: string) => string | undefined;

/** Suffix of a hashed name: `.invalid` (RFC 6761) so that it can never be resolved. */
export const HASHED_NAME_SUFFIX = '.pseudonym.invalid';

const PTR = 12;
const A = 1;
const AAAA = 28;

/** What a name transform needs: the epoch's hasher and an address mapper. */
export interface NameContext {
  hasher: KeyedHasher;
  /** Pseudonym (or clear text when foreign/waived) of an address; undefined when not an address. */
  mapAddress: AddressTextMapper;
  /** Pseudonymises the IPv4 address `a` when domestic; returns the uint32 to publish. */
  map4(a: number): number;
  /** Pseudonymises the IPv6 address in `w` in place when domestic. */
  map6(w: Uint32Array): void;
}

function hashed(ctx: NameContext, label: string, name: string): string {
  // Over-long input cannot be an identifier we keep; hash a bounded prefix and its length.
  const v = name.length > 1000 ? `${name.slice(0, 1000)}#${name.length}` : name;
  return `${ctx.hasher.hash(label, v)}${HASHED_NAME_SUFFIX}`;
}

const V4_ARPA = '.in-addr.arpa';
const V6_ARPA = '.ip6.arpa';

function reverse4(name: string, ctx: NameContext): string {
  const labels = name.slice(0, -V4_ARPA.length).split('.');
  if (labels.length < 1 || labels.length > 4) return hashed(ctx, 'dns-reverse', name);
  let a = 0;
  for (let i = 0; i < 4; i++) {
    const l = labels[labels.length - 1 - i];
    let octet = 0;
    if (l !== undefined) {
      if (!/^(0|[1-9][0-9]{0,2})$/.test(l) || Number(l) > 255) return hashed(ctx, 'dns-reverse', name);
      octet = Number(l);
    }
    a = a * 256 + octet;
  }
  const p = ctx.map4(a);
  const out: string[] = [];
  for (let i = labels.length - 1; i >= 0; i--) out.push(String((p >>> (8 * (3 - i))) & 255));
  return `${out.join('.')}${V4_ARPA}`;
}

function reverse6(name: string, ctx: NameContext): string {
  const labels = name.slice(0, -V6_ARPA.length).split('.');
  if (labels.length < 1 || labels.length > 32 || labels.some((l) => !/^[0-9a-f]$/.test(l)))
    return hashed(ctx, 'dns-reverse', name);
  const w = new Uint32Array(4);
  for (let i = 0; i < labels.length; i++) {
    const nibble = parseInt(labels[labels.length - 1 - i]!, 16);
    const word = i >>> 3;
    w[word] = (w[word]! | (nibble << (28 - 4 * (i & 7)))) >>> 0;
  }
  ctx.map6(w);
  const out: string[] = [];
  for (let i = labels.length - 1; i >= 0; i--)
    out.push(((w[i >>> 3]! >>> (28 - 4 * (i & 7))) & 15).toString(16));
  return `${out.join('.')}${V6_ARPA}`;
}

/** The publishable form of a DNS name (see the file comment). */
export function transformName(name: string, ctx: NameContext): string {
  const lower = name.toLowerCase();
  if (lower.includes('@') || lower.includes('\\064')) return hashed(ctx, 'email', lower);
  if (lower.endsWith(V4_ARPA)) return reverse4(lower, ctx);
  if (lower.endsWith(V6_ARPA)) return reverse6(lower, ctx);
  if (lower === 'in-addr.arpa' || lower === 'ip6.arpa') return lower;
  return name;
}

/** The publishable form of `dnsAnswers`, or undefined when it is not an array of answers. */
export function transformAnswers(value: FieldValue, ctx: NameContext): FieldValue[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: FieldValue[] = [];
  for (const a of value.slice(0, 64)) {
    if (typeof a !== 'object' || a === null || Array.isArray(a)) continue;
    const name = a.name;
    const type = a.type;
    const ttl = a.ttl;
    if (typeof name !== 'string' || typeof type !== 'number' || typeof ttl !== 'number') continue;
    const o: { [k: string]: FieldValue } = { name: transformName(name, ctx), type, ttl };
    const data = a.data;
    if (typeof data === 'string' && type !== PTR) {
      if (type === A || type === AAAA) {
        const m = ctx.mapAddress(data);
        if (m !== undefined) o.data = m;
      } else o.data = transformName(data, ctx);
    }
    out.push(o);
  }
  return out;
}

/** Names and answer addresses of a DNS event, raw, for selector matching (before any transform). */
export function dnsMatchInputs(
  fields: Readonly<Record<string, FieldValue>>,
  names: string[],
  addresses: string[],
): void {
  names.length = 0;
  addresses.length = 0;
  const q = fields.dnsQueryName;
  if (typeof q === 'string') names.push(q);
  const ans = fields.dnsAnswers;
  if (!Array.isArray(ans)) return;
  for (const a of ans.slice(0, 64)) {
    if (typeof a !== 'object' || a === null || Array.isArray(a)) continue;
    if (typeof a.name === 'string') names.push(a.name);
    if (typeof a.data === 'string') {
      if (a.type === A || a.type === AAAA) addresses.push(a.data);
      else names.push(a.data);
    }
  }
}
