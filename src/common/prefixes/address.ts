/**
 * Text <-> integer conversions for addresses and prefixes. These are the "edges" of the prefix
 * module (configuration, CLI, tests, the simulator); the hot path works on integers only.
 *
 * Layout matches `FlowBatch` (src/common/schema/batch.ts): IPv4 is one uint32, IPv6 is four
 * big-endian uint32 words (word 0 holds the most significant bits).
 */
import { AddressError } from './errors.ts';

/** A parsed address: `w0` holds IPv4; IPv6 uses all four words. */
export interface ParsedAddress {
  version: 4 | 6;
  w0: number;
  w1: number;
  w2: number;
  w3: number;
}

/** Parses dotted-quad IPv4 into a uint32, or `undefined` when the text is not strict IPv4. */
export function parseIpv4(s: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      // A leading zero is refused: "010" is octal in some parsers and ambiguous.
      if (digits === 1 && octet === 0) return undefined;
      octet = octet * 10 + (c - 48);
      if (octet > 255) return undefined;
      digits++;
    } else if (c === 46) {
      if (digits === 0 || dots === 3) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return value * 256 + octet;
}

/** Formats a uint32 as dotted-quad IPv4. */
export function formatIpv4(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/**
 * Parses IPv6 text (RFC 4291 section 2.2, incl. `::` and a trailing dotted IPv4) into four words
 * written to `out`. Returns false when the text is not IPv6. Zone ids (`%eth0`) are refused:
 * they never appear in flow data.
 */
export function parseIpv6Into(s: string, out: Uint32Array | number[]): boolean {
  if (s.length < 2 || s.length > 45) return false;
  const groups: number[] = [];
  let gap = -1;
  let i = 0;
  if (s.startsWith('::')) {
    gap = 0;
    i = 2;
    if (s.length === 2) {
      out[0] = out[1] = out[2] = out[3] = 0;
      return true;
    }
  } else if (s.charCodeAt(0) === 58) return false;
  while (i < s.length) {
    // Trailing dotted IPv4 takes the last two groups.
    const rest = s.slice(i);
    if (!rest.includes(':') && rest.includes('.')) {
      const v4 = parseIpv4(rest);
      if (v4 === undefined) return false;
      groups.push(v4 >>> 16, v4 & 0xffff);
      i = s.length;
      break;
    }
    let v = 0;
    let n = 0;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else break;
      v = v * 16 + d;
      n++;
      i++;
      if (n > 4) return false;
    }
    if (n === 0) return false;
    groups.push(v);
    if (i === s.length) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < s.length && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = groups.length;
      i++;
      if (i === s.length) break;
    } else if (i === s.length) return false;
  }
  if (gap < 0 ? groups.length !== 8 : groups.length > 7) return false;
  const full: number[] = [];
  if (gap < 0) full.push(...groups);
  else {
    full.push(...groups.slice(0, gap));
    for (let k = groups.length; k < 8; k++) full.push(0);
    full.push(...groups.slice(gap));
  }
  for (let w = 0; w < 4; w++) out[w] = ((full[2 * w]! << 16) | full[2 * w + 1]!) >>> 0;
  return true;
}

/** Formats four words as RFC 5952 IPv6 text (IPv4-mapped addresses in mixed notation). */
export function formatIpv6(w0: number, w1: number, w2: number, w3: number): string {
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return `::ffff:${formatIpv4(w3)}`;
  const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  // RFC 5952 4.2: compress the longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let k = 0; k < 8;) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen) {
      bestStart = k;
      bestLen = e - k;
    }
    k = e;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Parses IPv4 or IPv6 text; `undefined` when it is neither. */
export function tryParseAddress(s: string): ParsedAddress | undefined {
  if (s.includes(':')) {
    const w = [0, 0, 0, 0];
    if (!parseIpv6Into(s, w)) return undefined;
    return { version: 6, w0: w[0]!, w1: w[1]!, w2: w[2]!, w3: w[3]! };
  }
  const v4 = parseIpv4(s);
  return v4 === undefined ? undefined : { version: 4, w0: v4, w1: 0, w2: 0, w3: 0 };
}

/** Parses IPv4 or IPv6 text; throws `AddressError` when it is neither. */
export function parseAddress(s: string): ParsedAddress {
  const a = tryParseAddress(s);
  if (!a) throw new AddressError(s);
  return a;
}

/** Canonical text of a parsed address (dotted quad, or RFC 5952). */
export function formatAddress(a: ParsedAddress): string {
  return a.version === 4 ? formatIpv4(a.w0) : formatIpv6(a.w0, a.w1, a.w2, a.w3);
}

/** Converts four words to a 128-bit bigint (setup code only, never the hot path). */
export function wordsToBigInt(w0: number, w1: number, w2: number, w3: number): bigint {
  return (BigInt(w0) << 96n) | (BigInt(w1) << 64n) | (BigInt(w2) << 32n) | BigInt(w3);
}

/** Splits a 128-bit bigint into four words written to `out` at `offset`. */
export function bigIntToWords(v: bigint, out: Uint32Array | number[], offset = 0): void {
  out[offset] = Number((v >> 96n) & 0xffffffffn);
  out[offset + 1] = Number((v >> 64n) & 0xffffffffn);
  out[offset + 2] = Number((v >> 32n) & 0xffffffffn);
  out[offset + 3] = Number(v & 0xffffffffn);
}

/** Text of a 128-bit bigint as IPv6. */
export function formatIpv6BigInt(v: bigint): string {
  const w = [0, 0, 0, 0];
  bigIntToWords(v, w);
  return formatIpv6(w[0]!, w[1]!, w[2]!, w[3]!);
}

/** An address prefix as an inclusive integer range (IPv4 numbers are exact in a bigint too). */
export interface ParsedPrefix {
  version: 4 | 6;
  /** Prefix length in bits. */
  length: number;
  /** First address (host bits zero). */
  first: bigint;
  /** Last address (host bits one). */
  last: bigint;
}

/**
 * Parses `address/length` (host bits must be zero, as in every registry and route table) into
 * its inclusive range. Throws `AddressError`.
 */
export function parsePrefix(s: string): ParsedPrefix {
  const slash = s.indexOf('/');
  if (slash < 0) throw new AddressError(s, 'not a prefix (address/length)');
  const a = tryParseAddress(s.slice(0, slash));
  const lenText = s.slice(slash + 1);
  if (!a || !/^[0-9]{1,3}$/.test(lenText)) throw new AddressError(s, 'not a prefix (address/length)');
  const bits = a.version === 4 ? 32 : 128;
  const length = Number(lenText);
  if (length > bits) throw new AddressError(s, `prefix length above ${bits}`);
  const first = a.version === 4 ? BigInt(a.w0) : wordsToBigInt(a.w0, a.w1, a.w2, a.w3);
  const hostMask = (1n << BigInt(bits - length)) - 1n;
  if ((first & hostMask) !== 0n) throw new AddressError(s, 'host bits set');
  return { version: a.version, length, first, last: first | hostMask };
}

/** Formats a prefix from its first address and length. */
export function formatPrefix(version: 4 | 6, first: bigint, length: number): string {
  return version === 4 ? `${formatIpv4(Number(first))}/${length}` : `${formatIpv6BigInt(first)}/${length}`;
}
