/**
 * Small integer hashes for the hot path: no strings, no allocation. `mix32` is the finaliser of
 * MurmurHash3 (public-domain constants), good enough to spread keys over power-of-two tables.
 */

/** Avalanches a 32-bit value. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Folds one more 32-bit word into a running hash. */
export function fold32(h: number, w: number): number {
  h ^= mix32(w + 0x9e3779b9);
  h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
  return h >>> 0;
}

/**
 * Hash of `n` words of `words` starting at `off`, seeded. Per word one multiply-xorshift step (a
 * bijection of the running state for a fixed word, so keys differing in one word never collide
 * before the final `mix32`): a third of the cost of folding every word with `fold32`, which
 * matters because every detector hashes a 5–12-word key for most rows.
 */
export function hashWords(words: Uint32Array, off: number, n: number, seed = 0): number {
  let h = (seed ^ Math.imul(n, 0x27d4eb2f)) >>> 0;
  for (let i = 0; i < n; i++) {
    h = Math.imul(h ^ words[off + i]!, 0x9e3779b1);
    h ^= h >>> 15;
  }
  return mix32(h);
}
