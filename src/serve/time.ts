/** Parsing of the API's time parameters (`from`, `to`, `since`, `until`). Pure. */

/** Longest time parameter looked at (an ISO 8601 date-time with offset and ms is 29 characters). */
export const MAX_TIME_PARAM_LENGTH = 40;

/** Years the API accepts in time parameters (epoch ms outside them are surely mistakes). */
const MIN_TIME_MS = Date.UTC(1970, 0, 1);
const MAX_TIME_MS = Date.UTC(10000, 0, 1) - 1;

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * Parses a time parameter: epoch milliseconds (digits) or ISO 8601 — a date (`2026-01-02`, UTC
 * midnight) or a date-time with `Z` or an offset (a bare local time is ambiguous, so refused).
 * Returns epoch ms, or undefined when the text is none of these. Pure; bounded length.
 */
export function parseTimeParam(text: string): number | undefined {
  if (text.length === 0 || text.length > MAX_TIME_PARAM_LENGTH) return undefined;
  if (/^\d{1,16}$/.test(text)) {
    const n = Number(text);
    return n >= MIN_TIME_MS && n <= MAX_TIME_MS ? n : undefined;
  }
  const m = ISO_RE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = h === undefined ? 0 : Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return undefined;
  const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  let offsetMin = 0;
  if (zone !== undefined && zone !== 'Z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om);
  }
  const base = new Date(0);
  base.setUTCFullYear(year, month - 1, day);
  base.setUTCHours(hour, minute, second, ms);
  const t = base.getTime() - offsetMin * 60_000;
  return t >= MIN_TIME_MS && t <= MAX_TIME_MS ? t : undefined;
}
