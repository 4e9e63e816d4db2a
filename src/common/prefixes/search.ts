/**
 * Range search over the sorted, disjoint rows of a table: a direct-indexed bucket array on the
 * top bits narrows the binary search to the few rows that start near the address, so a lookup
 * touches a handful of cache lines instead of ~20 scattered ones (measured in bench/prefixes.ts:
 * about 2-3× faster than a plain binary search on the full table).
 */

/** Bucket bits for IPv4 (65,536 buckets of /16; 256 KiB of index). */
const BITS4 = 16;
/**
 * Bucket bits for IPv6, taken from the top of word 0 (1,048,576 buckets of /20; 4 MiB of index).
 * Allocated IPv6 space is a few /12s (2001::, 2400::, 2a00::, …), so /16 buckets would still
 * hold thousands of rows each.
 */
const BITS6 = 20;

/** For each bucket b, the number of rows whose start lies before bucket b (length buckets + 1). */
function bucketCounts(n: number, bits: number, topOf: (i: number) => number): Uint32Array {
  const buckets = 2 ** bits;
  const counts = new Uint32Array(buckets + 1);
  let row = 0;
  for (let b = 0; b <= buckets; b++) {
    while (row < n && topOf(row) < b) row++;
    counts[b] = row;
  }
  return counts;
}

/** IPv4 rows: `starts`/`ends` inclusive uint32 bounds. */
export class RangeIndex4 {
  private readonly starts: Uint32Array;
  private readonly ends: Uint32Array;
  private readonly counts: Uint32Array;

  constructor(starts: Uint32Array, ends: Uint32Array) {
    this.starts = starts;
    this.ends = ends;
    this.counts = bucketCounts(starts.length, BITS4, (i) => starts[i]! >>> (32 - BITS4));
  }

  /** Row containing `a` (uint32), or -1. */
  find(a: number): number {
    const b = a >>> (32 - BITS4);
    let lo = this.counts[b]!;
    let hi = this.counts[b + 1]! - 1;
    // The row before the bucket's first may reach into it.
    let found = lo - 1;
    const starts = this.starts;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= a) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && a <= this.ends[found]! ? found : -1;
  }
}

/** IPv6 rows: four big-endian words per bound. */
export class RangeIndex6 {
  private readonly starts: Uint32Array;
  private readonly ends: Uint32Array;
  private readonly counts: Uint32Array;

  constructor(starts: Uint32Array, ends: Uint32Array) {
    this.starts = starts;
    this.ends = ends;
    this.counts = bucketCounts(starts.length / 4, BITS6, (i) => starts[i * 4]! >>> (32 - BITS6));
  }

  /** Row containing the address, or -1. */
  find(w0: number, w1: number, w2: number, w3: number): number {
    const b = w0 >>> (32 - BITS6);
    let lo = this.counts[b]!;
    let hi = this.counts[b + 1]! - 1;
    let found = lo - 1;
    const s = this.starts;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const o = mid * 4;
      // start[mid] <= address, word by word.
      let le: boolean;
      let x = s[o]!;
      if (x !== w0) le = x < w0;
      else if ((x = s[o + 1]!) !== w1) le = x < w1;
      else if ((x = s[o + 2]!) !== w2) le = x < w2;
      else le = s[o + 3]! <= w3;
      if (le) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return -1;
    // Containment: address <= end[found].
    const e = this.ends;
    const o = found * 4;
    let x = e[o]!;
    if (x !== w0) return x > w0 ? found : -1;
    if ((x = e[o + 1]!) !== w1) return x > w1 ? found : -1;
    if ((x = e[o + 2]!) !== w2) return x > w2 ? found : -1;
    return e[o + 3]! >= w3 ? found : -1;
  }
}

/** Marks a /16 of {@link PairIndex4}'s first level that one row covers entirely. */
const UNIFORM = 0xffffffff;
/** Marks a /16 of {@link PairIndex4}'s first level that has a second-level block (offset in the low bits). */
const L2_FLAG = 0x80000000;
/** Second-level bits: a split /16 with more than `L2_MIN_ROWS` rows is cut into 2^L2_BITS /20s. */
const L2_BITS = 4;
/**
 * Rows above which a /16 gets a second level (a binary search over this many rows is 2-3 steps
 * in one or two cache lines; the registry's busiest /16s hold thousands of rows, and the
 * second level costs (2^L2_BITS + 1) * 4 bytes per such /16, about 1 MiB in all).
 */
const L2_MIN_ROWS = 4;

/**
 * IPv4 country AND origin ASN in one lookup, for the selection hot path (each record needs
 * both, for both endpoints). The country and ASN tables are merged into one set of rows that
 * cover the whole address space with no gaps (a gap becomes a row whose class is
 * `unknownClass` and ASN 0), each row holding a "pair id" into a small dictionary of distinct
 * (class, ASN) pairs. A direct-indexed first level of 65,536 /16 entries answers a /16 that a
 * single row covers (about 80 % of allocated space, e.g. of Japan's) at once; otherwise it gives
 * the rows to binary-search, stored as [start, pair] so the search and the answer share cache
 * lines. Measured in bench/select.ts: one lookup here replaces two `RangeIndex4` searches
 * (~6 scattered cache misses) with one or two.
 */
export class PairIndex4 {
  /** Rows as [start, pair id] (row 0 starts at 0; row i ends where row i+1 starts). */
  readonly rows: Uint32Array;
  /** Distinct pairs as [class, asn]; the pair id is the index / 2. */
  readonly pairs: Uint32Array;
  /** Per /16: [first row, last row], [pair id, UNIFORM] or [0, L2_FLAG | offset in `#l2`]. */
  readonly #l1: Uint32Array;
  /** Per /20 of a busy /16: the row covering its start (one more entry ends the block). */
  readonly #l2: Uint32Array;

  constructor(
    countryStarts: Uint32Array,
    countryEnds: Uint32Array,
    countryValues: ArrayLike<number>,
    asnStarts: Uint32Array,
    asnEnds: Uint32Array,
    asnValues: ArrayLike<number>,
    unknownClass: number,
  ) {
    const starts: number[] = [];
    const rowPair: number[] = [];
    const pairIds = new Map<number, number>();
    const pairList: number[] = [];
    const pairOf = (cls: number, asn: number): number => {
      const key = cls * 4294967296 + asn;
      let id = pairIds.get(key);
      if (id === undefined) {
        id = pairList.length / 2;
        pairList.push(cls, asn);
        pairIds.set(key, id);
      }
      return id;
    };
    const nc = countryStarts.length;
    const na = asnStarts.length;
    let i = 0;
    let j = 0;
    let x = 0;
    // Walk the two sorted, disjoint row lists at once, emitting one row per change of either.
    while (x <= 0xffffffff) {
      while (i < nc && countryEnds[i]! < x) i++;
      while (j < na && asnEnds[j]! < x) j++;
      const inC = i < nc && countryStarts[i]! <= x;
      const inA = j < na && asnStarts[j]! <= x;
      const cls = inC ? countryValues[i]! : unknownClass;
      const asn = inA ? asnValues[j]! : 0;
      // The next address at which either value may change.
      const nextC = i < nc ? (inC ? countryEnds[i]! + 1 : countryStarts[i]!) : 4294967296;
      const nextA = j < na ? (inA ? asnEnds[j]! + 1 : asnStarts[j]!) : 4294967296;
      const pair = pairOf(cls, asn);
      if (rowPair.length === 0 || rowPair[rowPair.length - 1] !== pair) {
        starts.push(x);
        rowPair.push(pair);
      }
      x = Math.min(nextC, nextA);
    }
    const n = starts.length;
    const rows = new Uint32Array(n * 2);
    for (let r = 0; r < n; r++) {
      rows[r * 2] = starts[r]!;
      rows[r * 2 + 1] = rowPair[r]!;
    }
    this.rows = rows;
    this.pairs = Uint32Array.from(pairList);
    const l1 = new Uint32Array(65536 * 2);
    const l2: number[] = [];
    /** The row covering `x`, searching forward from row `from` (which starts at or before `x`). */
    const cover = (x: number, from: number): number => {
      let k = from;
      while (k + 1 < n && starts[k + 1]! <= x) k++;
      return k;
    };
    let r = 0;
    for (let b = 0; b < 65536; b++) {
      const lo = b * 65536;
      const hi = lo + 65535;
      // r: the row covering lo (the last row starting at or before it).
      while (r + 1 < n && starts[r + 1]! <= lo) r++;
      let last = r;
      while (last + 1 < n && starts[last + 1]! <= hi) last++;
      if (last === r) {
        l1[b * 2] = rowPair[r]!;
        l1[b * 2 + 1] = UNIFORM;
      } else if (last - r <= L2_MIN_ROWS) {
        l1[b * 2] = r;
        l1[b * 2 + 1] = last;
      } else {
        l1[b * 2 + 1] = L2_FLAG | l2.length;
        const step = 65536 >>> L2_BITS;
        let k = r;
        for (let sub = 0; sub < 1 << L2_BITS; sub++) l2.push((k = cover(lo + sub * step, k)));
        l2.push(last);
      }
    }
    this.#l1 = l1;
    this.#l2 = Uint32Array.from(l2);
  }

  /**
   * `find` for many addresses at once: `out[i]` = pair id of `words[i * stride]` for i < count
   * (`stride` 4 reads the first word of each `FlowBatch` address). Done in passes, each of whose
   * memory reads are independent across addresses, so the CPU overlaps their cache misses
   * instead of waiting for each address's chain of dependent reads (first level → second level
   * → rows) in turn. `lo` and `hi` are scratch arrays of at least `count` entries. With
   * `versions` (a `FlowBatch.ipVersion` column), rows whose version is not 4 are skipped (pair 0).
   */
  findMany(
    words: Uint32Array,
    stride: number,
    count: number,
    out: Uint32Array,
    lo: Uint32Array,
    hi: Uint32Array,
    versions?: Uint8Array,
  ): void {
    const l1 = this.#l1;
    const l2 = this.#l2;
    const rows = this.rows;
    // Pass 1: first level. hi = UNIFORM marks an answered address.
    for (let i = 0; i < count; i++) {
      if (versions !== undefined && versions[i] !== 4) {
        out[i] = 0;
        hi[i] = UNIFORM;
        continue;
      }
      const b = (words[i * stride]! >>> 16) << 1;
      const h = l1[b + 1]!;
      const l = l1[b]!;
      if (h === UNIFORM) out[i] = l;
      lo[i] = l;
      hi[i] = h;
    }
    // Pass 2: second level, and a touch of each search's first row (warms its cache line).
    let touch = 0;
    for (let i = 0; i < count; i++) {
      let h = hi[i]!;
      if (h === UNIFORM) continue;
      if (h >= L2_FLAG) {
        const o = (h & ~L2_FLAG) + ((words[i * stride]! >>> (16 - L2_BITS)) & ((1 << L2_BITS) - 1));
        const l = l2[o]!;
        h = l2[o + 1]!;
        lo[i] = l;
        hi[i] = h;
      }
      touch ^= rows[((lo[i]! + h + 1) >>> 1) * 2]!;
    }
    // Pass 3: the searches.
    for (let i = 0; i < count; i++) {
      let h = hi[i]!;
      if (h === UNIFORM) continue;
      let l = lo[i]!;
      const u = words[i * stride]! >>> 0;
      while (l < h) {
        const mid = (l + h + 1) >>> 1;
        if (rows[mid * 2]! <= u) l = mid;
        else h = mid - 1;
      }
      out[i] = rows[l * 2 + 1]!;
    }
    this.sink = touch;
  }

  /** Keeps the touch reads of `findMany` from being optimised away. */
  private sink = 0;

  /** Pair id of the IPv4 address `a` (uint32): `pairs[2 * id]` is its class, `pairs[2 * id + 1]` its ASN. */
  find(a: number): number {
    const l1 = this.#l1;
    const b = (a >>> 16) << 1;
    let hi = l1[b + 1]!;
    if (hi === UNIFORM) return l1[b]!;
    let lo: number;
    if (hi >= L2_FLAG) {
      const o = (hi & ~L2_FLAG) + ((a >>> (16 - L2_BITS)) & ((1 << L2_BITS) - 1));
      const l2 = this.#l2;
      lo = l2[o]!;
      hi = l2[o + 1]!;
    } else lo = l1[b]!;
    const rows = this.rows;
    const u = a >>> 0;
    // Invariant: rows[lo] starts at or before `a` (it covers the start of the /16).
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (rows[mid * 2]! <= u) lo = mid;
      else hi = mid - 1;
    }
    return rows[lo * 2 + 1]!;
  }
}
