/**
 * Value readers and formatters shared by every decoder and by the compiled templates. They read
 * from a Uint8Array at an offset the caller has already bounds-checked, and produce the external
 * value forms of src/common/schema/record.ts (canonical address strings, numbers up to 2^53-1).
 */

/** `0`..`255` as strings. */
const OCTET: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));
/** `0.`..`255.`. */
const OCTET_DOT: readonly string[] = OCTET.map((s) => s + '.');
/** Two lower-case hex digits per byte value. */
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/*
 * Address formatting is most of the cost of a full flow record. Tables indexed by byte (256
 * entries, which stay in the CPU cache whatever the addresses) give the text of each byte with
 * its separator, so that an IPv6 group costs one concatenation; 64K-entry tables per 16-bit group
 * were tried and lose on real-looking (random) addresses to cache misses.
 */

/** Byte value in hex without leading zeros. */
const HEX_NZ: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16));
/** The same followed by `:`. */
const HEX_NZ_C: readonly string[] = HEX_NZ.map((s) => s + ':');
/** The same preceded by `:`. */
const C_HEX_NZ: readonly string[] = HEX_NZ.map((s) => ':' + s);
/** Two hex digits followed by `:`. */
const HEX2_C: readonly string[] = HEX2.map((s) => s + ':');

/** Hex text of a 16-bit group. */
function group(v: number): string {
  return v > 255 ? HEX_NZ[v >>> 8]! + HEX2[v & 255]! : HEX_NZ[v]!;
}
/** Hex text of a group followed by `:`. */
function groupColon(v: number): string {
  return v > 255 ? HEX_NZ[v >>> 8]! + HEX2_C[v & 255]! : HEX_NZ_C[v]!;
}
/** `:` followed by the hex text of a group. */
function colonGroup(v: number): string {
  return v > 255 ? C_HEX_NZ[v >>> 8]! + HEX2[v & 255]! : C_HEX_NZ[v]!;
}

/** Dotted-quad IPv4 string of the 4 bytes at `o`. */
export function ipv4At(b: Uint8Array, o: number): string {
  return OCTET_DOT[b[o]!]! + OCTET_DOT[b[o + 1]!]! + OCTET_DOT[b[o + 2]!]! + OCTET[b[o + 3]!]!;
}

/** Dotted-quad IPv4 string of a uint32. */
export function ipv4String(v: number): string {
  return (
    OCTET_DOT[(v >>> 24) & 255]! +
    OCTET_DOT[(v >>> 16) & 255]! +
    OCTET_DOT[(v >>> 8) & 255]! +
    OCTET[v & 255]!
  );
}

/**
 * Longest run of zero groups per zero-group bitmap (bit i = group i is 0), as start * 16 + length;
 * 0 when no run of two or more exists (RFC 5952 section 4.2.2: a single zero group is never
 * compressed; the first of equally long runs is).
 */
const ZERO_RUN: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let z = 0; z < 256; z++) {
    let bestStart = -1;
    let bestLen = 1;
    for (let i = 0; i < 8;) {
      if ((z & (1 << i)) === 0) {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && (z & (1 << j)) !== 0) j++;
      if (j - i > bestLen) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    }
    t[z] = bestStart < 0 ? 0 : bestStart * 16 + bestLen;
  }
  return t;
})();

/** Scratch for the eight groups of an IPv6 address (no allocation per address). */
const GROUPS = new Uint16Array(8);

/**
 * RFC 5952 text of the eight groups in `GROUPS`: lower case, leading zeros dropped, the longest
 * run of two or more zero groups compressed to `::` (the leftmost on ties), IPv4-mapped addresses
 * as `::ffff:a.b.c.d`.
 */
function ipv6Text(): string {
  const g = GROUPS;
  let z = 0;
  for (let i = 0; i < 8; i++) if (g[i] === 0) z |= 1 << i;
  if ((z & 0x3f) === 0x1f && g[5] === 0xffff) {
    const hi = g[6]!;
    const lo = g[7]!;
    return '::ffff:' + OCTET_DOT[hi >>> 8]! + OCTET_DOT[hi & 255]! + OCTET_DOT[lo >>> 8]! + OCTET[lo & 255]!;
  }
  const run = ZERO_RUN[z]!;
  if (run === 0) {
    let s = group(g[0]!);
    for (let i = 1; i < 8; i++) s += colonGroup(g[i]!);
    return s;
  }
  const start = run >>> 4;
  const end = start + (run & 15);
  // Groups before the run end with ':', those after it start with one: `a:b:` + `:` + `:c:d`.
  let s = start === 0 ? ':' : '';
  for (let i = 0; i < start; i++) s += groupColon(g[i]!);
  if (end === 8) return s + ':';
  for (let i = end; i < 8; i++) s += colonGroup(g[i]!);
  return s;
}

/** RFC 5952 text (see `ipv6Text`) of the 16 bytes at `o`. */
export function ipv6At(b: Uint8Array, o: number): string {
  const g = GROUPS;
  for (let i = 0; i < 8; i++) g[i] = (b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!;
  return ipv6Text();
}

/** RFC 5952 text of an IPv6 address given as four big-endian 32-bit words. */
export function ipv6FromWords(w0: number, w1: number, w2: number, w3: number): string {
  const g = GROUPS;
  g[0] = w0 >>> 16;
  g[1] = w0 & 0xffff;
  g[2] = w1 >>> 16;
  g[3] = w1 & 0xffff;
  g[4] = w2 >>> 16;
  g[5] = w2 & 0xffff;
  g[6] = w3 >>> 16;
  g[7] = w3 & 0xffff;
  return ipv6Text();
}

/** Lower-case colon-separated MAC address of the 6 bytes at `o`. */
export function macAt(b: Uint8Array, o: number): string {
  return (
    HEX2[b[o]!]! +
    ':' +
    HEX2[b[o + 1]!]! +
    ':' +
    HEX2[b[o + 2]!]! +
    ':' +
    HEX2[b[o + 3]!]! +
    ':' +
    HEX2[b[o + 4]!]! +
    ':' +
    HEX2[b[o + 5]!]!
  );
}

/** Lower-case hex of `len` bytes at `o` (octetArray values). */
export function hexAt(b: Uint8Array, o: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += HEX2[b[o + i]!]!;
  return s;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** UTF-8 string of `len` bytes at `o`, trailing NULs trimmed (fixed-length fields pad with them). */
export function stringAt(b: Uint8Array, o: number, len: number): string {
  let end = o + len;
  while (end > o && b[end - 1] === 0) end--;
  // Short ASCII strings (interface and application names) are common; skip the decoder for them.
  if (end - o <= 32) {
    let s = '';
    for (let i = o; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) return utf8.decode(b.subarray(o, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8.decode(b.subarray(o, end));
}

/** Unsigned big-endian integer of 1-8 bytes: a number up to 2^53-1, else a decimal string. */
export function unsignedAt(b: Uint8Array, o: number, len: number): number | string {
  if (len <= 6) {
    let v = 0;
    for (let i = 0; i < len; i++) v = v * 256 + b[o + i]!;
    return v;
  }
  const hiLen = len - 4;
  let hi = 0;
  for (let i = 0; i < hiLen; i++) hi = hi * 256 + b[o + i]!;
  const lo =
    ((b[o + hiLen]! << 24) | (b[o + hiLen + 1]! << 16) | (b[o + hiLen + 2]! << 8) | b[o + hiLen + 3]!) >>> 0;
  if (hi < 0x200000) return hi * 4294967296 + lo;
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/** Unsigned 64-bit at `o` (the common full-size counter). */
export function u64At(b: Uint8Array, o: number): number | string {
  const hi = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  const lo = ((b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) >>> 0;
  if (hi < 0x200000) return hi * 4294967296 + lo;
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/** Unsigned integer of 1-8 bytes as a float (precision lost beyond 2^53): for batch columns. */
export function unsignedFloatAt(b: Uint8Array, o: number, len: number): number {
  let v = 0;
  for (let i = 0; i < len; i++) v = v * 256 + b[o + i]!;
  return v;
}

/** Signed (two's complement) big-endian integer of 1-8 bytes, reduced size sign-extended. */
export function signedAt(b: Uint8Array, o: number, len: number): number | string {
  if (len <= 6) {
    let v = 0;
    for (let i = 0; i < len; i++) v = v * 256 + b[o + i]!;
    const half = 2 ** (len * 8 - 1);
    return v >= half ? v - half * 2 : v;
  }
  let v = 0n;
  for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(b[o + i]!);
  v = BigInt.asIntN(len * 8, v);
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v.toString();
}

const scratch = new DataView(new ArrayBuffer(8));

/** IEEE float32 at `o`. */
export function float32At(b: Uint8Array, o: number): number {
  for (let i = 0; i < 4; i++) scratch.setUint8(i, b[o + i]!);
  return scratch.getFloat32(0);
}

/** IEEE float64 at `o`. */
export function float64At(b: Uint8Array, o: number): number {
  for (let i = 0; i < 8; i++) scratch.setUint8(i, b[o + i]!);
  return scratch.getFloat64(0);
}

/** Seconds between the NTP epoch (1900) and the Unix epoch. */
const NTP_UNIX_OFFSET = 2208988800;

/**
 * An NTP-format timestamp (dateTimeMicroseconds/Nanoseconds, RFC 7011 section 6.1.9-10) as epoch
 * ms with a fraction. Seconds below 2^31 are taken as NTP era 1 (after 2036), as RFC 5905 advises.
 */
export function ntpAt(b: Uint8Array, o: number): number {
  let sec = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  const frac = ((b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) >>> 0;
  if (sec < 0x80000000) sec += 4294967296;
  return (sec - NTP_UNIX_OFFSET) * 1000 + (frac / 4294967296) * 1000;
}
