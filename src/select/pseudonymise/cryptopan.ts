/**
 * Crypto-PAn: prefix-preserving address pseudonymisation (J. Xu, J. Fan, M. Ammar, S. Moon,
 * "Prefix-preserving IP address anonymization", ICNP 2002), as required by R-SEL-4.
 *
 * The 32-byte key is a 16-byte AES-128 key followed by a 16-byte pad; the pad is encrypted once
 * with the AES key, as the reference implementation does. Output bit i is input bit i XOR the
 * first bit of AES(first i input bits || pad bits i..127). Two addresses that share a k-bit prefix
 * therefore share a k-bit pseudonym prefix, and nothing else about them is revealed without the
 * key. IPv6 uses the same construction over 128 bits (as Yawning Angel's Go implementation and the
 * other common ports extend it), so the sample-key vectors of those implementations apply.
 *
 * Speed (edge hot path, target 1,000,000 addresses/s warm on one core):
 * - every round's AES input depends only on the original address, so all rounds of one address
 *   are encrypted in ONE `cipher.update` call over a reused plaintext buffer;
 * - the PRF bits for the first 16 rounds depend only on the top 16 address bits, so they are
 *   precomputed per key into a 65,536-entry table (65,535 AES blocks, ~1 MiB, a few ms); IPv4
 *   then needs 16 AES blocks per address and IPv6 112;
 * - a bounded set-associative cache of recent results (per instance, hence per key epoch; each
 *   set's keys and values interleaved in one array) answers repeated addresses without AES.
 *
 * Keys never leave this object: `toJSON` and `util.inspect` are redacted, `destroy()` zeroes the
 * buffers this process holds (OpenSSL's own copy of the AES key schedule is freed with the
 * cipher; JavaScript cannot scrub it).
 */
import { createCipheriv, type Cipher } from 'node:crypto';
import { inspect } from 'node:util';
import { formatIpv4, formatIpv6, tryParseAddress, AddressError } from '../../common/prefixes/index.ts';
import { PseudonymKeyError } from './errors.ts';

/** Crypto-PAn key length: 16 bytes of AES key + 16 bytes of pad. */
export const CRYPTOPAN_KEY_BYTES = 32;

/** Default number of cached results per address family (a power of two; 0 disables the cache). */
export const DEFAULT_CACHE_ENTRIES = 1 << 16;

/**
 * Upper bound of the cache size, so that a configuration error cannot make the edge allocate
 * gigabytes: 2^22 IPv6 entries are 2^22 * 32 bytes = 128 MiB (IPv4: 32 MiB).
 */
export const MAX_CACHE_ENTRIES = 1 << 22;

/** Bits resolved by the precomputed prefix table (rounds 0..15). */
const TABLE_BITS = 16;
const BLOCK = 16;
/** AES blocks per address after the table: IPv4 rounds 16..31, IPv6 rounds 16..127. */
const ROUNDS4 = 32 - TABLE_BITS;
const ROUNDS6 = 128 - TABLE_BITS;
/**
 * Addresses whose rounds are encrypted together by the batch APIs: one `cipher.update` call per
 * chunk amortises the per-call cost of node:crypto (about 1 us) over many addresses. 128 IPv4
 * addresses are 32 KiB of plaintext, 32 IPv6 addresses 56 KiB: both stay in L2 cache.
 */
const CHUNK4 = 128;
const CHUNK6 = 32;
/**
 * Ways per IPv4 cache set. A set is 8 × [key, value] = 64 bytes stored together, so a lookup
 * reads one or two cache lines (the old layout kept keys, values and LRU stamps in three arrays:
 * up to three misses, and a write on every hit). Ways fill in order and are never emptied one by
 * one, so an empty way ends the search; a full set replaces a way chosen round-robin, which over
 * a million distinct addresses hits as often as LRU did (bench/select.ts) without touching
 * memory on a hit. Address 0 (the empty-key marker) is never cached.
 */
const WAYS4 = 8;
/** Ways per IPv6 cache set: 4 × [4 key words, 4 value words] = 128 bytes. `::` is never cached. */
const WAYS6 = 4;
/** Addresses whose cache sets `pseudonymise4Many` reads ahead at once (256 × 64 bytes fit in L1/L2). */
const TOUCH4 = 256;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Byte-swaps a 32-bit word so that a Uint32Array store writes it big-endian on this host. */
function be(v: number): number {
  if (!LITTLE_ENDIAN) return v >>> 0;
  return ((v << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** Mask of the first `p` bits of a 32-bit word (0 <= p <= 32). */
function hiMask(p: number): number {
  return p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
}

/** Options of {@link CryptoPan}. */
export interface CryptoPanOptions {
  /**
   * Cache entries per address family, rounded up to a power of two (0 disables the cache).
   * Default {@link DEFAULT_CACHE_ENTRIES}; at most {@link MAX_CACHE_ENTRIES}.
   */
  cacheEntries?: number;
}

/** Hit/miss counters, for the edge's metrics. */
export interface CryptoPanStats {
  hits4: number;
  misses4: number;
  hits6: number;
  misses6: number;
}

function roundCache(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_CACHE_ENTRIES)
    throw new PseudonymKeyError(`cacheEntries must be an integer in 0..${MAX_CACHE_ENTRIES}`);
  if (n === 0) return 0;
  let c = WAYS4;
  while (c < n) c *= 2;
  return c;
}

/**
 * One Crypto-PAn key (one key epoch). Integer API for the hot path (`pseudonymise4`,
 * `pseudonymise6`), string API for everything else, and the inverse for re-identification.
 */
export class CryptoPan {
  #cipher: Cipher | undefined;
  /** The encrypted pad as four big-endian words. */
  readonly #pad = new Uint32Array(4);
  /** For each value of the top 16 address bits, the PRF bits of rounds 0..15 (bit 15 = round 0). */
  readonly #top = new Uint16Array(1 << TABLE_BITS);
  /** Plaintext of the rounds 16..31 of one IPv4 address (pad pre-filled; word 0 rewritten). */
  readonly #in4: Buffer;
  readonly #in4w: Uint32Array;
  /** Plaintext of the rounds 16..127 of one IPv6 address. */
  readonly #in6: Buffer;
  readonly #in6w: Uint32Array;
  /** Plaintext of up to CHUNK4 / CHUNK6 addresses for the batch APIs, allocated on first use. */
  #batch4: { buf: Buffer; w: Uint32Array; idx: Int32Array } | undefined;
  #batch6: { buf: Buffer; w: Uint32Array; idx: Int32Array } | undefined;
  /** One block, for the progressive inverse. */
  readonly #one = Buffer.alloc(BLOCK);
  readonly #onew: Uint32Array;

  // Set-associative result caches (see WAYS4): key 0 marks an empty way.
  /** Set index = (hash >>> shift) & mask; mask -1 disables the cache. */
  readonly #shift4: number;
  readonly #mask4: number;
  /** IPv4 sets: [key, value] × WAYS4 each. */
  readonly #c4: Uint32Array;
  readonly #shift6: number;
  readonly #mask6: number;
  /** IPv6 sets: [k0..k3, v0..v3] × WAYS6 each. */
  readonly #c6: Uint32Array;
  /** Round-robin victim way of a full set. */
  #victim = 0;
  readonly #stats: CryptoPanStats = { hits4: 0, misses4: 0, hits6: 0, misses6: 0 };
  readonly #w6 = new Uint32Array(4);

  /** `key` must be {@link CRYPTOPAN_KEY_BYTES} bytes; it is copied, not retained. */
  constructor(key: Uint8Array, options: CryptoPanOptions = {}) {
    if (key.length !== CRYPTOPAN_KEY_BYTES)
      throw new PseudonymKeyError(`a Crypto-PAn key has ${CRYPTOPAN_KEY_BYTES} bytes, got ${key.length}`);
    const aesKey = Buffer.from(key.subarray(0, 16));
    const cipher = createCipheriv('aes-128-ecb', aesKey, null);
    aesKey.fill(0);
    cipher.setAutoPadding(false);
    this.#cipher = cipher;

    const padIn = Buffer.from(key.subarray(16, 32));
    const padOut = cipher.update(padIn);
    padIn.fill(0);
    for (let k = 0; k < 4; k++) this.#pad[k] = padOut.readUInt32BE(k * 4);
    padOut.fill(0);

    this.#in4 = Buffer.alloc(ROUNDS4 * BLOCK);
    this.#in4w = new Uint32Array(this.#in4.buffer, this.#in4.byteOffset, this.#in4.length / 4);
    this.#in6 = Buffer.alloc(ROUNDS6 * BLOCK);
    this.#in6w = new Uint32Array(this.#in6.buffer, this.#in6.byteOffset, this.#in6.length / 4);
    this.#onew = new Uint32Array(this.#one.buffer, this.#one.byteOffset, 4);
    for (let j = 0; j < ROUNDS4; j++) this.#fillPad(this.#in4w, j * 4);
    for (let j = 0; j < ROUNDS6; j++) this.#fillPad(this.#in6w, j * 4);
    this.#buildTopTable();

    const c = roundCache(options.cacheEntries ?? DEFAULT_CACHE_ENTRIES);
    const sets4 = c / WAYS4;
    const sets6 = c / WAYS6;
    this.#shift4 = sets4 <= 1 ? 0 : 32 - Math.log2(sets4);
    this.#mask4 = c === 0 ? -1 : sets4 - 1;
    this.#c4 = new Uint32Array(c * 2);
    this.#shift6 = sets6 <= 1 ? 0 : 32 - Math.log2(sets6);
    this.#mask6 = c === 0 ? -1 : sets6 - 1;
    this.#c6 = new Uint32Array(c * 8);
  }

  #fillPad(w: Uint32Array, o: number): void {
    for (let k = 0; k < 4; k++) w[o + k] = be(this.#pad[k]!);
  }

  #aes(input: Buffer): Buffer {
    const c = this.#cipher;
    if (!c) throw new PseudonymKeyError('the Crypto-PAn key has been destroyed');
    return c.update(input);
  }

  /**
   * Rounds 0..15 depend only on the first 15 address bits: 2^0 + 2^1 + ... + 2^15 = 65,535
   * distinct AES inputs, encrypted in one call, then folded into one 16-bit mask per top-16 value.
   */
  #buildTopTable(): void {
    const blocks = (1 << TABLE_BITS) - 1;
    const buf = Buffer.alloc(blocks * BLOCK);
    const w = new Uint32Array(buf.buffer, buf.byteOffset, buf.length / 4);
    const pad0 = this.#pad[0]!;
    for (let p = 0; p < TABLE_BITS; p++) {
      const base = (1 << p) - 1;
      const lo = p === 0 ? 0xffffffff : 0xffffffff >>> p;
      for (let v = 0; v < 1 << p; v++) {
        const o = (base + v) * 4;
        const prefix = p === 0 ? 0 : (v << (32 - p)) >>> 0;
        w[o] = be((prefix | (pad0 & lo)) >>> 0);
        w[o + 1] = be(this.#pad[1]!);
        w[o + 2] = be(this.#pad[2]!);
        w[o + 3] = be(this.#pad[3]!);
      }
    }
    const out = this.#aes(buf);
    const top = this.#top;
    for (let x = 0; x < 1 << TABLE_BITS; x++) {
      let m = 0;
      for (let p = 0; p < TABLE_BITS; p++) {
        const v = p === 0 ? 0 : x >>> (TABLE_BITS - p);
        const bit = out[((1 << p) - 1 + v) * BLOCK]! >>> 7;
        m |= bit << (TABLE_BITS - 1 - p);
      }
      top[x] = m;
    }
    buf.fill(0);
    out.fill(0);
  }

  /** Writes the plaintexts of rounds 16..31 of IPv4 address `a` at block `block` of `w`. */
  #fill4(w: Uint32Array, block: number, a: number): void {
    const pad0 = this.#pad[0]!;
    for (let j = 0; j < ROUNDS4; j++) {
      const lo = 0xffffffff >>> (TABLE_BITS + j);
      w[(block + j) * 4] = be(((a & ~lo) | (pad0 & lo)) >>> 0);
    }
  }

  /** Folds the ciphertexts at block `block` of `out` into the pseudonym of `a`. */
  #fold4(out: Buffer, block: number, a: number): number {
    let m = this.#top[a >>> 16]! << 16;
    for (let j = 0; j < ROUNDS4; j++) m |= (out[(block + j) * BLOCK]! >>> 7) << (ROUNDS4 - 1 - j);
    return (a ^ m) >>> 0;
  }

  /** Writes the plaintexts of rounds 16..127 of an IPv6 address at block `block` of `w`. */
  #fill6(w: Uint32Array, block: number, a0: number, a1: number, a2: number, a3: number): void {
    const pad = this.#pad;
    for (let j = 0; j < ROUNDS6; j++) {
      const p = TABLE_BITS + j;
      const o = (block + j) * 4;
      const full = p >>> 5; // words entirely taken from the address
      const part = p & 31; // bits of the next word taken from the address
      if (full >= 1) w[o] = be(a0);
      if (full >= 2) w[o + 1] = be(a1);
      if (full >= 3) w[o + 2] = be(a2);
      if (part !== 0) {
        const hi = hiMask(part);
        const aw = full === 0 ? a0 : full === 1 ? a1 : full === 2 ? a2 : a3;
        w[o + full] = be(((aw & hi) | (pad[full]! & ~hi)) >>> 0);
      }
      // The other words of the block keep the pre-filled pad: this round never writes them.
    }
  }

  /** Folds the ciphertexts at block `block` of `out` into the pseudonym, written to `r[ro..]`. */
  #fold6(
    out: Buffer,
    block: number,
    a0: number,
    a1: number,
    a2: number,
    a3: number,
    r: Uint32Array,
    ro: number,
  ): void {
    let m0 = this.#top[a0 >>> 16]! << 16;
    let m1 = 0;
    let m2 = 0;
    let m3 = 0;
    for (let j = 0; j < ROUNDS6; j++) {
      const p = TABLE_BITS + j;
      const bit = (out[(block + j) * BLOCK]! >>> 7) << (31 - (p & 31));
      const word = p >>> 5;
      if (word === 0) m0 |= bit;
      else if (word === 1) m1 |= bit;
      else if (word === 2) m2 |= bit;
      else m3 |= bit;
    }
    r[ro] = (a0 ^ m0) >>> 0;
    r[ro + 1] = (a1 ^ m1) >>> 0;
    r[ro + 2] = (a2 ^ m2) >>> 0;
    r[ro + 3] = (a3 ^ m3) >>> 0;
  }

  /**
   * Looks `a` up in the IPv4 cache: the index in `#c4` of its pseudonym, or -1. Callers check
   * `#mask4 >= 0` and `a !== 0` first.
   */
  #find4(a: number): number {
    const c = this.#c4;
    const base = ((Math.imul(a, 0x9e3779b1) >>> this.#shift4) & this.#mask4) * (WAYS4 * 2);
    const end = base + WAYS4 * 2;
    for (let i = base; i < end; i += 2) {
      const k = c[i]!;
      if (k === a) return i + 1;
      if (k === 0) return -1;
    }
    return -1;
  }

  /** Stores the pseudonym `r` of `a` (`a !== 0`): its own way, else the first empty, else a victim. */
  #store4(a: number, r: number): void {
    const c = this.#c4;
    const base = ((Math.imul(a, 0x9e3779b1) >>> this.#shift4) & this.#mask4) * (WAYS4 * 2);
    const end = base + WAYS4 * 2;
    let i = base;
    for (; i < end; i += 2) {
      const k = c[i]!;
      if (k === a || k === 0) break;
    }
    if (i === end) {
      this.#victim = (this.#victim + 1) & (WAYS4 - 1);
      i = base + this.#victim * 2;
    }
    c[i] = a;
    c[i + 1] = r;
  }

  #set6(a0: number, a1: number, a2: number, a3: number): number {
    const h = Math.imul(
      a0 ^ Math.imul(a1, 0x85ebca6b) ^ Math.imul(a2, 0xc2b2ae35) ^ Math.imul(a3, 0x27d4eb2f),
      0x9e3779b1,
    );
    return ((h >>> this.#shift6) & this.#mask6) * (WAYS6 * 8);
  }

  /**
   * IPv6 counterpart of {@link #find4}: the index in `#c6` of the pseudonym's first word, or -1.
   * Callers check `#mask6 >= 0` and that the address is not `::`.
   */
  #find6(a0: number, a1: number, a2: number, a3: number): number {
    const c = this.#c6;
    const base = this.#set6(a0, a1, a2, a3);
    const end = base + WAYS6 * 8;
    for (let i = base; i < end; i += 8) {
      const k0 = c[i]!;
      const k1 = c[i + 1]!;
      const k2 = c[i + 2]!;
      const k3 = c[i + 3]!;
      if (k0 === a0 && k1 === a1 && k2 === a2 && k3 === a3) return i + 4;
      if ((k0 | k1 | k2 | k3) === 0) return -1;
    }
    return -1;
  }

  /** Stores the pseudonym at `r[ro..ro+4]` of an IPv6 address (not `::`). */
  #store6(a0: number, a1: number, a2: number, a3: number, r: Uint32Array, ro: number): void {
    const c = this.#c6;
    const base = this.#set6(a0, a1, a2, a3);
    const end = base + WAYS6 * 8;
    let i = base;
    for (; i < end; i += 8) {
      const k0 = c[i]!;
      const k1 = c[i + 1]!;
      const k2 = c[i + 2]!;
      const k3 = c[i + 3]!;
      if ((k0 === a0 && k1 === a1 && k2 === a2 && k3 === a3) || (k0 | k1 | k2 | k3) === 0) break;
    }
    if (i === end) {
      this.#victim = (this.#victim + 1) & (WAYS6 - 1);
      i = base + this.#victim * 8;
    }
    c[i] = a0;
    c[i + 1] = a1;
    c[i + 2] = a2;
    c[i + 3] = a3;
    c[i + 4] = r[ro]!;
    c[i + 5] = r[ro + 1]!;
    c[i + 6] = r[ro + 2]!;
    c[i + 7] = r[ro + 3]!;
  }

  #copy6(at: number, out: Uint32Array, o: number): void {
    const c = this.#c6;
    out[o] = c[at]!;
    out[o + 1] = c[at + 1]!;
    out[o + 2] = c[at + 2]!;
    out[o + 3] = c[at + 3]!;
  }

  /** Pseudonymises an IPv4 address (uint32) and returns the pseudonym (uint32). */
  pseudonymise4(a: number): number {
    a >>>= 0;
    const useCache = this.#mask4 >= 0 && a !== 0;
    if (useCache) {
      const f = this.#find4(a);
      if (f >= 0) {
        this.#stats.hits4++;
        return this.#c4[f]!;
      }
    }
    this.#stats.misses4++;
    this.#fill4(this.#in4w, 0, a);
    const r = this.#fold4(this.#aes(this.#in4), 0, a);
    if (useCache) this.#store4(a, r);
    return r;
  }

  /**
   * Pseudonymises the IPv6 address held as four big-endian words at `src[srcOffset..+4]` into
   * `out[outOffset..+4]` (`out` may be `src`: the input is read first).
   */
  pseudonymise6(src: ArrayLike<number>, out: Uint32Array, srcOffset = 0, outOffset = 0): void {
    const a0 = src[srcOffset]! >>> 0;
    const a1 = src[srcOffset + 1]! >>> 0;
    const a2 = src[srcOffset + 2]! >>> 0;
    const a3 = src[srcOffset + 3]! >>> 0;
    const useCache = this.#mask6 >= 0 && (a0 | a1 | a2 | a3) !== 0;
    if (useCache) {
      const f = this.#find6(a0, a1, a2, a3);
      if (f >= 0) {
        this.#stats.hits6++;
        this.#copy6(f, out, outOffset);
        return;
      }
    }
    this.#stats.misses6++;
    this.#fill6(this.#in6w, 0, a0, a1, a2, a3);
    const ct = this.#aes(this.#in6);
    this.#fold6(ct, 0, a0, a1, a2, a3, out, outOffset);
    if (useCache) this.#store6(a0, a1, a2, a3, out, outOffset);
  }

  #batchBuffers(chunk: number, rounds: number): { buf: Buffer; w: Uint32Array; idx: Int32Array } {
    const buf = Buffer.alloc(chunk * rounds * BLOCK);
    const w = new Uint32Array(buf.buffer, buf.byteOffset, buf.length / 4);
    for (let b = 0; b < chunk * rounds; b++) this.#fillPad(w, b * 4);
    return { buf, w, idx: new Int32Array(chunk) };
  }

  /**
   * Pseudonymises `count` IPv4 addresses of `src` into `out` (same indices; `out` may be `src`).
   * Cache misses are encrypted in chunks of up to 128 addresses per `cipher.update` call, which
   * is several times faster than {@link pseudonymise4} per address when most addresses are new.
   */
  pseudonymise4Many(src: Uint32Array, out: Uint32Array, count = src.length): void {
    const b = (this.#batch4 ??= this.#batchBuffers(CHUNK4, ROUNDS4));
    const useCache = this.#mask4 >= 0;
    const c4 = this.#c4;
    const shift = this.#shift4;
    const mask = this.#mask4;
    let touchedTo = 0;
    let touch = 0;
    let i = 0;
    while (i < count) {
      let n = 0;
      for (; i < count && n < CHUNK4; i++) {
        if (useCache && i === touchedTo) {
          // Read the first word of the next TOUCH4 addresses' sets: independent reads whose
          // cache misses overlap, so the lookups below find their sets in cache.
          touchedTo = Math.min(count, i + TOUCH4);
          for (let k = i; k < touchedTo; k++)
            touch ^= c4[((Math.imul(src[k]!, 0x9e3779b1) >>> shift) & mask) * (WAYS4 * 2)]!;
        }
        const a = src[i]! >>> 0;
        if (useCache && a !== 0) {
          const f = this.#find4(a);
          if (f >= 0) {
            this.#stats.hits4++;
            out[i] = this.#c4[f]!;
            continue;
          }
        }
        this.#fill4(b.w, n * ROUNDS4, a);
        b.idx[n++] = i;
      }
      if (n === 0) continue;
      this.#stats.misses4 += n;
      const ct = this.#aes(n === CHUNK4 ? b.buf : b.buf.subarray(0, n * ROUNDS4 * BLOCK));
      for (let j = 0; j < n; j++) {
        const at = b.idx[j]!;
        const a = src[at]! >>> 0;
        const r = this.#fold4(ct, j * ROUNDS4, a);
        out[at] = r;
        // The same address may occur twice in one chunk: #store4 then rewrites its own way.
        if (useCache && a !== 0) this.#store4(a, r);
      }
    }
    this.sink = touch;
  }

  /** Keeps the touch reads of `pseudonymise4Many` from being optimised away. */
  private sink = 0;

  /**
   * Pseudonymises `count` IPv6 addresses (four words each) of `src` into `out` (`out` may be
   * `src`); misses are encrypted in chunks of up to 32 addresses per `cipher.update` call.
   */
  pseudonymise6Many(src: Uint32Array, out: Uint32Array, count = src.length >>> 2): void {
    const b = (this.#batch6 ??= this.#batchBuffers(CHUNK6, ROUNDS6));
    const useCache = this.#mask6 >= 0;
    const held = new Uint32Array(CHUNK6 * 4);
    let i = 0;
    while (i < count) {
      let n = 0;
      for (; i < count && n < CHUNK6; i++) {
        const o = i * 4;
        const a0 = src[o]! >>> 0;
        const a1 = src[o + 1]! >>> 0;
        const a2 = src[o + 2]! >>> 0;
        const a3 = src[o + 3]! >>> 0;
        if (useCache && (a0 | a1 | a2 | a3) !== 0) {
          const f = this.#find6(a0, a1, a2, a3);
          if (f >= 0) {
            this.#stats.hits6++;
            this.#copy6(f, out, o);
            continue;
          }
        }
        this.#fill6(b.w, n * ROUNDS6, a0, a1, a2, a3);
        // Keep the input: when `out` is `src`, an earlier result may overwrite it in this chunk.
        held[n * 4] = a0;
        held[n * 4 + 1] = a1;
        held[n * 4 + 2] = a2;
        held[n * 4 + 3] = a3;
        b.idx[n++] = i;
      }
      if (n === 0) continue;
      this.#stats.misses6 += n;
      const ct = this.#aes(n === CHUNK6 ? b.buf : b.buf.subarray(0, n * ROUNDS6 * BLOCK));
      for (let j = 0; j < n; j++) {
        const o = b.idx[j]! * 4;
        const h = j * 4;
        const a0 = held[h]!;
        const a1 = held[h + 1]!;
        const a2 = held[h + 2]!;
        const a3 = held[h + 3]!;
        this.#fold6(ct, j * ROUNDS6, a0, a1, a2, a3, out, o);
        if (useCache && (a0 | a1 | a2 | a3) !== 0) this.#store6(a0, a1, a2, a3, out, o);
      }
    }
  }

  /**
   * Pseudonymises IPv4 or IPv6 text and returns the pseudonym in canonical text (dotted quad or
   * RFC 5952). Throws `AddressError` for anything else. Not for the hot path.
   */
  pseudonymiseAddress(text: string): string {
    const a = tryParseAddress(text);
    if (!a) throw new AddressError(text);
    if (a.version === 4) return formatIpv4(this.pseudonymise4(a.w0));
    const r = this.#w6;
    this.pseudonymise6([a.w0, a.w1, a.w2, a.w3], r);
    return formatIpv6(r[0]!, r[1]!, r[2]!, r[3]!);
  }

  /** The PRF bit of round `p` for the address whose first `p` bits are in `words` (rest ignored). */
  #prfBit(words: Uint32Array, p: number): number {
    if (p < TABLE_BITS) return (this.#top[words[0]! >>> 16]! >>> (TABLE_BITS - 1 - p)) & 1;
    const w = this.#onew;
    const full = p >>> 5;
    const part = p & 31;
    for (let k = 0; k < 4; k++) {
      let v: number;
      if (k < full) v = words[k]!;
      else if (k === full && part !== 0) {
        const hi = hiMask(part);
        v = ((words[k]! & hi) | (this.#pad[k]! & ~hi)) >>> 0;
      } else v = this.#pad[k]!;
      w[k] = be(v);
    }
    return this.#aes(this.#one)[0]! >>> 7;
  }

  /**
   * Inverts the pseudonymisation bit by bit: input bit i = output bit i XOR PRF(first i input
   * bits), and those input bits are already recovered when bit i is needed. One AES call per
   * round after the table; for re-identification only (R-OVS-2), never the hot path.
   */
  #invert(pseudo: Uint32Array, bits: number, out: Uint32Array): void {
    out.fill(0);
    for (let p = 0; p < bits; p++) {
      const word = p >>> 5;
      const shift = 31 - (p & 31);
      const y = (pseudo[word]! >>> shift) & 1;
      const x = y ^ this.#prfBit(out, p);
      out[word] = (out[word]! | (x << shift)) >>> 0;
    }
  }

  /** Recovers the clear IPv4 address (uint32) from its pseudonym. */
  depseudonymise4(pseudonym: number): number {
    const p = new Uint32Array([pseudonym >>> 0, 0, 0, 0]);
    const out = new Uint32Array(4);
    this.#invert(p, 32, out);
    return out[0]!;
  }

  /** Recovers the clear IPv6 address (four words at `src[srcOffset..]`) into `out[outOffset..]`. */
  depseudonymise6(src: ArrayLike<number>, out: Uint32Array, srcOffset = 0, outOffset = 0): void {
    const p = new Uint32Array(4);
    for (let k = 0; k < 4; k++) p[k] = src[srcOffset + k]! >>> 0;
    const r = new Uint32Array(4);
    this.#invert(p, 128, r);
    out.set(r, outOffset);
  }

  /** Recovers the clear address text from a pseudonym's text. Throws `AddressError`. */
  depseudonymiseAddress(text: string): string {
    const a = tryParseAddress(text);
    if (!a) throw new AddressError(text);
    if (a.version === 4) return formatIpv4(this.depseudonymise4(a.w0));
    const r = new Uint32Array(4);
    this.depseudonymise6([a.w0, a.w1, a.w2, a.w3], r);
    return formatIpv6(r[0]!, r[1]!, r[2]!, r[3]!);
  }

  /** Cache hit/miss counters since construction. */
  stats(): Readonly<CryptoPanStats> {
    return { ...this.#stats };
  }

  /** Empties the result caches (e.g. before measuring cold performance). */
  clearCache(): void {
    this.#c4.fill(0);
    this.#c6.fill(0);
  }

  /** True once {@link destroy} has run. */
  get destroyed(): boolean {
    return this.#cipher === undefined;
  }

  /**
   * Zeroes the pad, the prefix table, the work buffers and the caches (which map clear addresses
   * to pseudonyms) and drops the cipher; later calls throw `PseudonymKeyError`.
   */
  destroy(): void {
    this.#cipher = undefined;
    this.#pad.fill(0);
    this.#top.fill(0);
    this.#in4.fill(0);
    this.#in6.fill(0);
    this.#one.fill(0);
    this.clearCache();
  }

  /** Redacted: a key object must never reach a log line or a JSON document. */
  toJSON(): { type: 'crypto-pan'; key: '[redacted]' } {
    return { type: 'crypto-pan', key: '[redacted]' };
  }

  /** Redacted for `util.inspect` / `console.log`. */
  [inspect.custom](): string {
    return 'CryptoPan { key: [redacted] }';
  }
}
