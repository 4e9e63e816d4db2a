/**
 * Deterministic random numbers for the exporters: a seeded 32-bit generator (mulberry32) per
 * exporter, so the same seed gives the same sampling decisions whatever the order in which
 * exporters are served.
 */

/** A seeded generator of uniform numbers in [0, 1). */
export interface Rng {
  (): number;
}

/** mulberry32: small, fast, and good enough for simulation (not for cryptography). */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit FNV-1a hash of a string, to derive per-exporter seeds from one run seed. */
export function hashString(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
