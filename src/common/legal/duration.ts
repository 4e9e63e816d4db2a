/**
 * Durations of legal parameters. Retention is stated in the law's own unit (years), which is not
 * a fixed number of milliseconds, so a legal duration is kept as `{ amount, unit }` and added to a
 * time by calendar arithmetic in UTC: two years after 2024-02-29 is 2026-02-28 (the day clamped
 * to the end of the shorter month), so a leap year never shifts a deadline by a day.
 */

/** Units of a legal duration: fixed units and calendar years/months (`y`, `mo`). */
export type LegalDurationUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'mo' | 'y';

/** A parsed legal duration. */
export interface LegalDuration {
  readonly amount: number;
  readonly unit: LegalDurationUnit;
  /** The text it was parsed from, for display and audit. */
  readonly text: string;
}

const FIXED_MS: Partial<Record<LegalDurationUnit, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Pattern of a legal duration text (`2y`, `6mo`, `30d`, `24h`, `90m`, `10s`, `500ms`). */
export const LEGAL_DURATION_PATTERN = '^[0-9]{1,6}(ms|s|m|h|d|mo|y)$';
const RE = new RegExp(LEGAL_DURATION_PATTERN);

/** Parses a legal duration; `undefined` when the text is not one. */
export function parseLegalDuration(text: string): LegalDuration | undefined {
  const m = RE.exec(text);
  if (!m) return undefined;
  return { amount: Number(text.slice(0, text.length - m[1]!.length)), unit: m[1] as LegalDurationUnit, text };
}

/**
 * `t` (epoch ms) plus the duration. Calendar units keep the time of day and clamp the day to the
 * end of a shorter month (2024-02-29 + 1y = 2025-02-28 at the same time of day).
 */
export function addLegalDuration(t: number, d: LegalDuration): number {
  const fixed = FIXED_MS[d.unit];
  if (fixed !== undefined) return t + d.amount * fixed;
  const date = new Date(t);
  const months = d.unit === 'y' ? d.amount * 12 : d.amount;
  const y = date.getUTCFullYear();
  const mo = date.getUTCMonth() + months;
  const targetYear = y + Math.floor(mo / 12);
  const targetMonth = ((mo % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(targetYear, targetMonth + 1, 0)).getUTCDate();
  const day = Math.min(date.getUTCDate(), lastDay);
  return Date.UTC(
    targetYear,
    targetMonth,
    day,
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
    date.getUTCMilliseconds(),
  );
}

/**
 * An upper bound of the duration in milliseconds (a year counted as 366 days, a month as 31),
 * for comparisons such as "a stop grace must be shorter than the revocation-stop deadline".
 */
export function maxLegalDurationMs(d: LegalDuration): number {
  const fixed = FIXED_MS[d.unit];
  if (fixed !== undefined) return d.amount * fixed;
  return d.amount * (d.unit === 'y' ? 366 : 31) * 86_400_000;
}
