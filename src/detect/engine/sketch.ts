/**
 * Sketches for state that cannot be exact at scale (REQUIREMENTS R-DET "bounded memory"):
 *
 * - `CountMinSketch` (Cormode and Muthukrishnan 2005): `depth` rows of `width` counters; an
 *   estimate never undercounts and overcounts by at most ε·N (ε = e/width) with probability
 *   1 − δ (δ = e^−depth), N being the total added.
 * - `HllPool`: HyperLogLog (Flajolet et al. 2007) registers for many keys in one byte array,
 *   2^p registers per key; relative standard error ≈ 1.04/√(2^p). Small ranges use linear
 *   counting, as in the paper. Hashes come from `mix32` over the caller's 32-bit item hash.
 */
import { mix32 } from './hash.ts';

/** A count-min sketch over 32-bit item hashes with float counters (weights may be fractional). */
export class CountMinSketch {
  readonly width: number;
  readonly depth: number;
  private readonly cells: Float32Array;
  private readonly mask: number;
  /** Sum of all weights added since the last `clear()`. */
  total = 0;

  /** `width` is rounded up to a power of two. */
  constructor(width: number, depth: number) {
    let w = 16;
    while (w < width) w *= 2;
    this.width = w;
    this.depth = Math.max(1, Math.min(16, depth | 0));
    this.mask = w - 1;
    this.cells = new Float32Array(w * this.depth);
  }

  /** Bytes held by the counters. */
  get bytes(): number {
    return this.cells.byteLength;
  }

  /** Adds `weight` for an item (given by its 32-bit hash) and returns the new estimate. */
  add(h: number, weight: number): number {
    // Double hashing (Kirsch and Mitzenmacher 2006): row r uses h1 + r·h2.
    const h2 = mix32(h ^ 0x5bd1e995) | 1;
    let est = Infinity;
    const w = this.width;
    for (let r = 0; r < this.depth; r++) {
      const i = r * w + ((h + Math.imul(r, h2)) & this.mask);
      const v = this.cells[i]! + weight;
      this.cells[i] = v;
      if (v < est) est = v;
    }
    this.total += weight;
    return est;
  }

  /** Prefetch helper: loads the item's counters; returns a value to discard. */
  peek(h: number): number {
    const h2 = mix32(h ^ 0x5bd1e995) | 1;
    let sum = 0;
    const w = this.width;
    for (let r = 0; r < this.depth; r++) sum += this.cells[r * w + ((h + Math.imul(r, h2)) & this.mask)]!;
    return sum;
  }

  /** Estimate for an item (never below the true count, up to float32 rounding). */
  estimate(h: number): number {
    const h2 = mix32(h ^ 0x5bd1e995) | 1;
    let est = Infinity;
    const w = this.width;
    for (let r = 0; r < this.depth; r++) {
      const v = this.cells[r * w + ((h + Math.imul(r, h2)) & this.mask)]!;
      if (v < est) est = v;
    }
    return est;
  }

  /** Resets every counter. */
  clear(): void {
    this.cells.fill(0);
    this.total = 0;
  }
}

/** 2^−r for every register value (ranks are at most 33): no Math.pow in `count`. */
const INV_POW2 = Float64Array.from({ length: 64 }, (_, r) => 2 ** -r);

/** HyperLogLog registers for `keys` keys, 2^p registers each, in one byte array. */
export class HllPool {
  readonly p: number;
  readonly m: number;
  private readonly regs: Uint8Array;
  private readonly alpha: number;

  constructor(keys: number, p: number) {
    this.p = Math.max(4, Math.min(16, p | 0));
    this.m = 1 << this.p;
    this.regs = new Uint8Array(keys * this.m);
    const m = this.m;
    this.alpha = m === 16 ? 0.673 : m === 32 ? 0.697 : m === 64 ? 0.709 : 0.7213 / (1 + 1.079 / m);
  }

  /** Bytes held by the registers. */
  get bytes(): number {
    return this.regs.byteLength;
  }

  /** Bytes per key. */
  get bytesPerKey(): number {
    return this.m;
  }

  /** Adds an item (its 32-bit hash) to key `k`; returns true when a register changed. */
  add(k: number, itemHash: number): boolean {
    const x = mix32(itemHash);
    const idx = x >>> (32 - this.p);
    // Rank = position of the first 1 bit in the remaining 32 − p bits (1-based).
    const rest = (x << this.p) >>> 0;
    const rank = rest === 0 ? 32 - this.p + 1 : Math.clz32(rest) + 1;
    const at = k * this.m + idx;
    if (rank > this.regs[at]!) {
      this.regs[at] = rank;
      return true;
    }
    return false;
  }

  /** Estimated number of distinct items added to key `k`. */
  count(k: number): number {
    const m = this.m;
    const off = k * m;
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < m; i++) {
      const r = this.regs[off + i]!;
      sum += INV_POW2[r]!;
      if (r === 0) zeros++;
    }
    const e = (this.alpha * m * m) / sum;
    if (e <= 2.5 * m && zeros > 0) return m * Math.log(m / zeros);
    return e;
  }

  /** Estimated distinct items of the union of keys `a` and `b`. */
  countUnion(a: number, b: number): number {
    const m = this.m;
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < m; i++) {
      const r = Math.max(this.regs[a * m + i]!, this.regs[b * m + i]!);
      sum += INV_POW2[r]!;
      if (r === 0) zeros++;
    }
    const e = (this.alpha * m * m) / sum;
    if (e <= 2.5 * m && zeros > 0) return m * Math.log(m / zeros);
    return e;
  }

  /** Empties key `k`. */
  clear(k: number): void {
    this.regs.fill(0, k * this.m, (k + 1) * this.m);
  }
}
