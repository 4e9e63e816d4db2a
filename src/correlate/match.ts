/**
 * Address and prefix matching for operators and suppression rules. Subjects are address strings,
 * `prefix/64` groups or (from other sources) arbitrary text; everything is compared as an inclusive
 * integer range so that an address, a /64 group and a CIDR rule compare the same way.
 */
import { tryParseAddress, wordsToBigInt, parsePrefix, AddressError } from '../common/prefixes/index.ts';

/** An address or prefix as an inclusive integer range. */
export interface AddressRange {
  version: 4 | 6;
  first: bigint;
  last: bigint;
}

/** Longest text considered for parsing (an IPv6 prefix is at most 49 characters). */
const MAX_TEXT = 64;

/**
 * Parses an address (`192.0.2.1`, `2001:db8::1`) or a prefix (`192.0.2.0/24`, `2001:db8:1:2::/64`)
 * into a range; `undefined` for anything else (pseudonym labels, names). Never throws.
 */
export function parseRange(text: string): AddressRange | undefined {
  if (text.length === 0 || text.length > MAX_TEXT) return undefined;
  if (text.includes('/')) {
    try {
      const p = parsePrefix(text);
      return { version: p.version, first: p.first, last: p.last };
    } catch (err) {
      if (err instanceof AddressError) return undefined;
      throw err;
    }
  }
  const a = tryParseAddress(text);
  if (!a) return undefined;
  const v = a.version === 4 ? BigInt(a.w0) : wordsToBigInt(a.w0, a.w1, a.w2, a.w3);
  return { version: a.version, first: v, last: v };
}

/** True when `inner` lies entirely within `outer`. */
export function rangeContains(outer: AddressRange, inner: AddressRange): boolean {
  return outer.version === inner.version && outer.first <= inner.first && inner.last <= outer.last;
}

/** True when the two ranges share at least one address. */
export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  return a.version === b.version && a.first <= b.last && b.first <= a.last;
}

/**
 * A value of a rule: an exact string, or a CIDR prefix/address that matches every address (or
 * group) inside it. Built once per rule.
 */
export class ValueMatcher {
  readonly text: string;
  private readonly range: AddressRange | undefined;
  constructor(text: string) {
    this.text = text;
    this.range = parseRange(text);
  }
  /** True when `value` equals the text or lies inside its range. */
  matches(value: string): boolean {
    if (value === this.text) return true;
    if (!this.range) return false;
    const r = parseRange(value);
    return r !== undefined && rangeContains(this.range, r);
  }
}
