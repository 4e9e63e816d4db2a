/**
 * The report period as people write it (CLI options, API query): a date `YYYY-MM-DD` (UTC; as
 * `to`, the whole of that day is included, as in `acd audit export`) or an exact time (ISO 8601
 * with `Z` or an offset, or epoch ms; as `to`, exclusive). Pure; throws `ReportPeriodError`.
 */
import { parseTimeParam } from '../../serve/time.ts';
import { checkReportPeriod } from './build.ts';
import { ReportPeriodError } from './errors.ts';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/** One bound: epoch ms, or undefined when the text is not a date or time. */
export function parsePeriodBound(text: string, end: boolean): number | undefined {
  const t = parseTimeParam(text);
  if (t === undefined) return undefined;
  return end && DATE_ONLY.test(text) ? t + DAY_MS : t;
}

/** Parses `from` and `to` into `[from, to)`; throws `ReportPeriodError` naming the bad one. */
export function parseReportPeriod(fromText: string, toText: string): { from: number; to: number } {
  const from = parsePeriodBound(fromText, false);
  if (from === undefined)
    throw new ReportPeriodError(`from: not a date or ISO time: ${fromText.slice(0, 40)}`, 'from');
  const to = parsePeriodBound(toText, true);
  if (to === undefined)
    throw new ReportPeriodError(`to: not a date or ISO time: ${toText.slice(0, 40)}`, 'to');
  checkReportPeriod(from, to);
  return { from, to };
}
