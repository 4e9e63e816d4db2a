/**
 * The daily cycle of background volume. A profile gives a relative volume for each local hour
 * (value at hh:00, linearly interpolated to the next hour) and the UTC offset of the local clock;
 * the curve is normalised to a mean of 1 over the day, so a density multiplied by it keeps its
 * daily mean.
 *
 * The default `jst` profile is shaped like residential broadband traffic in Japan (JST, UTC+9):
 * trough around 04:00–05:00 at about 0.37 of the mean, a morning rise, a flat working-day plateau,
 * and the evening peak around 21:00 at about 1.56 of the mean. `flat` is 1 at every hour (load tests).
 */

/** A daily volume profile. */
export interface DiurnalProfile {
  /** Name shown in docs and `--diurnal`. */
  name: string;
  /** Hours added to UTC to get the local hour the weights refer to. */
  utcOffsetHours: number;
  /** 24 relative weights, local hours 0..23 (any positive scale; normalised on use). */
  hourly: readonly number[];
}

/** Residential broadband in Japan (relative volume per JST hour, before normalisation). */
export const JST_PROFILE: DiurnalProfile = {
  name: 'jst',
  utcOffsetHours: 9,
  hourly: [
    1.15, 0.85, 0.6, 0.45, 0.38, 0.38, 0.48, 0.62, 0.74, 0.8, 0.85, 0.9, 1.0, 0.95, 0.92, 0.94, 0.98, 1.06,
    1.18, 1.32, 1.48, 1.6, 1.55, 1.4,
  ],
};

/** Constant volume (load tests: the rate is then exactly `--rate`). */
export const FLAT_PROFILE: DiurnalProfile = {
  name: 'flat',
  utcOffsetHours: 0,
  hourly: Array.from({ length: 24 }, () => 1),
};

/** The profiles `--diurnal` accepts. */
export const DIURNAL_PROFILES: Readonly<Record<string, DiurnalProfile>> = {
  jst: JST_PROFILE,
  flat: FLAT_PROFILE,
};

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** A compiled profile: `factor(t)` is the normalised volume at epoch ms `t` (mean 1 over a day). */
export class DiurnalCurve {
  private readonly w: Float64Array;
  private readonly offsetMs: number;

  constructor(readonly profile: DiurnalProfile) {
    if (profile.hourly.length !== 24 || profile.hourly.some((x) => !(x > 0)))
      throw new RangeError('a diurnal profile has 24 positive hourly weights');
    // The mean of a piecewise-linear curve through equally spaced points on a cycle is the mean
    // of the points, so dividing by it gives a daily mean of exactly 1.
    const mean = profile.hourly.reduce((a, b) => a + b, 0) / 24;
    this.w = Float64Array.from(profile.hourly, (x) => x / mean);
    this.offsetMs = profile.utcOffsetHours * HOUR_MS;
  }

  /** Normalised volume at epoch ms `t`. */
  factor(t: number): number {
    const local = ((((t + this.offsetMs) % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;
    const h = Math.floor(local);
    const f = local - h;
    return this.w[h]! * (1 - f) + this.w[(h + 1) % 24]! * f;
  }

  /** Integral of `factor` over [a, b) in seconds (trapezoid on 1-minute steps; exact enough). */
  integral(a: number, b: number): number {
    if (b <= a) return 0;
    const step = 60_000;
    let s = 0;
    for (let t = a; t < b; t += step) {
      const e = Math.min(b, t + step);
      s += ((this.factor(t) + this.factor(e)) / 2) * ((e - t) / 1000);
    }
    return s;
  }

  /** The local hour (0..23) of epoch ms `t` in this profile's time zone. */
  localHour(t: number): number {
    return Math.floor(((((t + this.offsetMs) % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS);
  }
}
