/**
 * Scoring of `acd eval` (issue 6): alerts against the ground truth of the generated scenarios.
 *
 * - An alert is a **true positive** when its detector is among a truth line's `expectedDetectors`,
 *   its subject is among that line's attackers or victims (for `ddos` the subject is the victim
 *   by construction, DESIGN section 6) — compared after the same pseudonymisation, an IPv6
 *   subject `prefix/64` matching any address in it — and its event-time span overlaps the line's
 *   span widened by `slackMs` (flow exporters report up to one active timeout late).
 * - **Precision** per (scenario run, detector) counts every alert of the run, including alerts on
 *   benign look-alikes and background.
 * - **Recall** per (scenario, detector) is the share of the truth lines expecting the detector that
 *   have at least one true-positive alert of it.
 * - **Time to detect** is event time from the line's start to the end of the first evidence
 *   window of its first true-positive alert (when the detector could first have known).
 */
import type { Alert } from '../../common/schema/alert.ts';
import type { DetectorName } from '../../common/schema/legal.ts';

/** A truth line as scoring needs it: addresses already mapped as the centre sees them. */
export interface ScoredTruth {
  scenario: string;
  kind: string;
  attackers: readonly string[];
  victims: readonly string[];
  start: number;
  end: number;
  expectedDetectors: readonly DetectorName[];
}

/** One row of the result: a scenario run and a detector. */
export interface ScoreRow {
  scenario: string;
  detector: DetectorName;
  /** Alerts of the detector in the run. */
  alerts: number;
  truePositives: number;
  /** truePositives / alerts; 1 when there were no alerts. */
  precision: number;
  /** Truth lines that expect the detector, and those found. */
  expected: number;
  found: number;
  /** found / expected; null when no line expects the detector. */
  recall: number | null;
  /** Median time to detect over the lines found (ms of event time), null when none. */
  timeToDetectMs: number | null;
}

/** Address equality, with `prefix/64` subjects matching any address of that IPv6 /64. */
export function subjectMatches(subject: string, address: string): boolean {
  if (subject === address) return true;
  const slash = subject.indexOf('/');
  if (slash < 0 || !address.includes(':')) return false;
  const prefix = subject.slice(0, slash);
  return expandV6(prefix).slice(0, 4).join(':') === expandV6(address).slice(0, 4).join(':');
}

function expandV6(a: string): string[] {
  const [head = '', tail] = a.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : new Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0');
  return [...h, ...fill, ...t].map((x) => x.replace(/^0+(?=.)/, '').toLowerCase());
}

function involved(line: ScoredTruth, subject: string): boolean {
  for (const a of line.attackers) if (subjectMatches(subject, a)) return true;
  for (const v of line.victims) if (subjectMatches(subject, v)) return true;
  return false;
}

/**
 * The truth lines an alert confirms (empty: a false positive). One alert may confirm several
 * lines: the same attack seen through two legal channels is two lines with the same subject.
 */
export function matchAlert(alert: Alert, truth: readonly ScoredTruth[], slackMs: number): ScoredTruth[] {
  const out: ScoredTruth[] = [];
  for (const line of truth) {
    if (!line.expectedDetectors.includes(alert.detector)) continue;
    if (alert.lastSeen < line.start - slackMs || alert.firstSeen > line.end + slackMs) continue;
    if (involved(line, alert.subject)) out.push(line);
  }
  return out;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Scores one scenario run: one row per detector that alerted or was expected. */
export function scoreRun(
  scenario: string,
  truth: readonly ScoredTruth[],
  alerts: readonly Alert[],
  slackMs: number,
): ScoreRow[] {
  const detectors = new Set<DetectorName>();
  for (const l of truth) for (const d of l.expectedDetectors) detectors.add(d);
  for (const a of alerts) detectors.add(a.detector);
  const rows: ScoreRow[] = [];
  for (const d of [...detectors].sort()) {
    const mine = alerts.filter((a) => a.detector === d);
    const firstHit = new Map<ScoredTruth, number>();
    let tp = 0;
    for (const a of mine) {
      const lines = matchAlert(a, truth, slackMs);
      if (lines.length === 0) continue;
      tp++;
      for (const line of lines) {
        const known = (a.evidence[0]?.window.end ?? a.firstSeen) - line.start;
        const prev = firstHit.get(line);
        if (prev === undefined || known < prev) firstHit.set(line, known);
      }
    }
    const expectedLines = truth.filter((l) => l.expectedDetectors.includes(d));
    const found = expectedLines.filter((l) => firstHit.has(l)).length;
    rows.push({
      scenario,
      detector: d,
      alerts: mine.length,
      truePositives: tp,
      precision: mine.length === 0 ? 1 : tp / mine.length,
      expected: expectedLines.length,
      found,
      recall: expectedLines.length === 0 ? null : found / expectedLines.length,
      timeToDetectMs: median([...firstHit.values()].map((v) => Math.max(0, v))),
    });
  }
  return rows;
}

/** Totals over rows: alert precision and line recall over everything. */
export function totals(rows: readonly ScoreRow[]): { precision: number; recall: number | null } {
  let alerts = 0;
  let tp = 0;
  let expected = 0;
  let found = 0;
  for (const r of rows) {
    alerts += r.alerts;
    tp += r.truePositives;
    expected += r.expected;
    found += r.found;
  }
  return { precision: alerts === 0 ? 1 : tp / alerts, recall: expected === 0 ? null : found / expected };
}
