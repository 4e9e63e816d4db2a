/**
 * Value readers and formatters shared by every decoder and by the compiled templates. They read
 * from a Uint8Array at an offset the caller has already bounds-checked, and produce the external
 * value forms of src/common/schema/record.ts (canonical address strings, numbers up to 2^53-1).
 */

/** `0`..`255` as strings. */
const OCTET: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));
/** `0.`..`255.`: IPv4 strings are three table lookups plus one, concatenated. */
const OCTET_DOT: readonly string[] = OCTET.map((s) => s + '.');
/** Two lower-case hex digits per byte value. */
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

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
 * RFC 5952 text of the 16 bytes at `o`: lower case, leading zeros dropped, the longest run of two
 * or more zero groups compressed to `::` (the leftmost on ties), IPv4-mapped addresses as
 * `::ffff:a.b.c.d`.
 */
export function ipv6At(b: Uint8Array, o: number): string {
  const g = GROUPS;
  for (let i = 0; i < 8; i++) g[i] = (b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return '::ffff:' + ipv4At(b, o + 12);
  }
  let bestStart = -1;
  let bestLen = 1; // a single zero group is never compressed
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (i !== 0 && i !== bestStart + bestLen) s += ':';
    const v = g[i]!;
    s += v > 255 ? HEX_NZ[v >> 8]! + HEX2[v & 255]! : HEX_NZ[v]!;
  }
  return s;
}

/** Scratch for the eight groups of an IPv6 address (no allocation per address). */
const GROUPS = new Uint16Array(8);
/** Byte values in hex without leading zeros. */
const HEX_NZ: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16));

/** RFC 5952 text of an IPv6 address given as four big-endian 32-bit words. */
export function ipv6FromWords(w0: number, w1: number, w2: number, w3: number): string {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, w0 >>> 0);
  dv.setUint32(4, w1 >>> 0);
  dv.setUint32(8, w2 >>> 0);
  dv.setUint32(12, w3 >>> 0);
  return ipv6At(b, 0);
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
