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
