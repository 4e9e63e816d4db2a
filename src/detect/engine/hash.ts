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

/** Hash of `n` words of `words` starting at `off`, seeded. */
export function hashWords(words: Uint32Array, off: number, n: number, seed = 0): number {
  let h = seed >>> 0;
  for (let i = 0; i < n; i++) h = fold32(h, words[off + i]!);
  return mix32(h ^ n);
}
