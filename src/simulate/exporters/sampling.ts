/**
 * Packet sampling as a sampling exporter does it. Method (documented in docs/simulate.md): random
 * 1-in-N packet sampling — every packet of a flow is selected independently with probability 1/N
 * (what sampled NetFlow's "random" mode and sFlow approximate). A flow of P packets and O octets
 * therefore shows k ~ Binomial(P, 1/N) packets, on average P/N, and k/P of its octets (each packet
 * is taken to have the flow's mean size); a flow none of whose packets was selected is not exported
 * at all, which is why sampled exports lose many small flows. Draws come from a seeded generator,
 * so a run is reproducible.
 */
import type { Rng } from './rng.ts';

/** Above this mean the binomial is drawn from its normal approximation (error well under 1 %). */
const NORMAL_APPROX_MEAN = 30;

/** Box-Muller standard normal draw. */
function normal(rng: Rng): number {
  let u = rng();
  while (u <= Number.MIN_VALUE) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/**
 * Draws k ~ Binomial(n, p): by inversion (sequential search of the distribution function, cost
 * proportional to the mean) for small means, by a rounded, clamped normal approximation above.
 */
export function binomial(rng: Rng, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const mean = n * p;
  if (mean >= NORMAL_APPROX_MEAN) {
    const k = Math.round(mean + Math.sqrt(mean * (1 - p)) * normal(rng));
    return Math.max(0, Math.min(n, k));
  }
  const q = 1 - p;
  const s = p / q;
  const a = (n + 1) * s;
  let r = Math.exp(n * Math.log1p(-p));
  let u = rng();
  let k = 0;
  while (u > r && k < n) {
    u -= r;
    k++;
    r *= a / k - s;
    if (r <= 0) break;
  }
  return k;
}

/** Result of sampling one flow: the exported packet and octet counts (0 packets = not exported). */
export interface SampledCounts {
  packets: number;
  octets: number;
}

/**
 * Applies 1-in-`interval` packet sampling to a flow of `packets` and `octets`; writes the exported
 * counts into `out` (reused to avoid an allocation per flow). Interval 1 passes counts through.
 */
export function sampleFlow(
  rng: Rng,
  interval: number,
  packets: number,
  octets: number,
  out: SampledCounts,
): void {
  if (interval <= 1 || packets <= 0) {
    out.packets = packets;
    out.octets = octets;
    return;
  }
  const k = binomial(rng, packets, 1 / interval);
  out.packets = k;
  out.octets = k === packets ? octets : Math.round((octets * k) / packets);
}
