/**
 * Random draws the traffic model needs, on the country model's seeded `Rng` (so a run is
 * reproducible): normal, lognormal, Pareto and exponential. Parameters are given the way the
 * documentation (docs/simulate.md) states them: a lognormal by its median and shape σ, a Pareto by
 * its scale (minimum) and tail index α.
 */
import type { Rng } from '../country/index.ts';

/** A standard normal draw (Box–Muller; one of the pair is discarded for simplicity). */
export function normal(rng: Rng): number {
  let u = rng.float();
  while (u <= 0) u = rng.float();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.float());
}

/** A lognormal draw with the given median (e^μ) and shape σ. */
export function lognormal(rng: Rng, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(rng));
}

/**
 * A Pareto (type I) draw: P(X > x) = (xm / x)^α for x ≥ xm. α ≤ 2 gives infinite variance, the
 * heavy tail of transfer sizes; the draw is capped at `cap` so one record stays encodable.
 */
export function pareto(rng: Rng, xm: number, alpha: number, cap = Number.POSITIVE_INFINITY): number {
  let u = rng.float();
  while (u <= 0) u = rng.float();
  return Math.min(cap, xm / Math.pow(u, 1 / alpha));
}

/** An exponential draw with the given mean. */
export function exponential(rng: Rng, mean: number): number {
  let u = rng.float();
  while (u <= 0) u = rng.float();
  return -mean * Math.log(u);
}

/** Uniform in [a, b). */
export function uniform(rng: Rng, a: number, b: number): number {
  return a + (b - a) * rng.float();
}

/** Cumulative weights for `pickCumulative`. */
export function cumulative(weights: readonly number[]): Float64Array {
  const c = new Float64Array(weights.length);
  let t = 0;
  for (let i = 0; i < weights.length; i++) c[i] = t += weights[i]!;
  return c;
}

/** An index drawn with probability proportional to its weight (binary search in `cum`). */
export function pickCumulative(rng: Rng, cum: Float64Array): number {
  const x = rng.float() * cum[cum.length - 1]!;
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
