/**
 * Scores (0..1) and severities of alerts and incidents. The formula, also in README.md:
 *
 *   alert = round3( (c + (1 − c) · (wr·R + wd·D + wk·K + wo·O)) · (suppressed ? f : 1) )
 *     c = highest evidence confidence folded into the alert
 *     R = 1 − exp(−(evidenceCount − 1) / repetitionScale)        repetition
 *     D = min(1, (lastSeen − firstSeen) / durationScaleMs)         duration
 *     K = 1 − exp(−(counterparts − 1) / counterpartScale), 0 without counterparts
 *     O = 1 when a critical-infrastructure operator is a victim, 0.5 when one is only involved
 *     wr + wd + wk + wo ≤ 1 (checked), f = suppressedFactor
 *
 *   incident = m + (1 − m) · campaignBoost for a campaign, else m; m = highest alert score.
 *
 * Every term lies in [0, 1] and the weights sum to at most 1, so the score stays in [0, 1]; it
 * never decreases as evidence arrives (only a suppression rule lowers it).
 */
import type { Severity } from '../common/schema/evidence.ts';
import type { DetectorName } from '../common/schema/legal.ts';
import type { ScoreConfig } from './config.ts';

const RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/** The more severe of two severities. */
export function maxSeverity(a: Severity, b: Severity): Severity {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Numeric rank of a severity (low 0 … critical 3). */
export function severityRank(s: Severity): number {
  return RANK[s];
}

/**
 * Which side of an alert is the victim (DESIGN section 6 subjects): the scanner and the
 * brute-forcer are attackers, so their counterparts are the victims; the DDoS target and the
 * internal (infected, exfiltrating, beaconing …) host are victims themselves.
 */
export const VICTIM_ROLE: Readonly<Record<DetectorName, 'subject' | 'counterpart'>> = {
  scan: 'counterpart',
  'brute-force': 'counterpart',
  ddos: 'subject',
  beacon: 'subject',
  dga: 'subject',
  'dns-tunnel': 'subject',
  exfiltration: 'subject',
  'long-connection': 'subject',
  indicator: 'subject',
};

/** What the alert score is computed from. */
export interface AlertScoreInput {
  /** Highest evidence confidence, 0..1. */
  confidence: number;
  evidenceCount: number;
  durationMs: number;
  counterparts: number;
  /** 1 operator victim, 0.5 operator involved, 0 none. */
  operatorImpact: number;
  suppressed: boolean;
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The alert score of the formula above. */
export function alertScore(i: AlertScoreInput, cfg: ScoreConfig): number {
  const c = clamp01(i.confidence);
  const r = 1 - Math.exp(-Math.max(0, i.evidenceCount - 1) / cfg.repetitionScale);
  const d = clamp01(i.durationMs / cfg.durationScaleMs);
  const k = i.counterparts > 0 ? 1 - Math.exp(-(i.counterparts - 1) / cfg.counterpartScale) : 0;
  const o = clamp01(i.operatorImpact);
  const boost =
    cfg.repetitionWeight * r + cfg.durationWeight * d + cfg.counterpartWeight * k + cfg.operatorWeight * o;
  const s = c + (1 - c) * clamp01(boost);
  return clamp01(round3(i.suppressed ? s * cfg.suppressedFactor : s));
}

/** The incident score of the formula above, from its highest alert score. */
export function incidentScore(maxAlertScore: number, campaign: boolean, cfg: ScoreConfig): number {
  const m = clamp01(maxAlertScore);
  return clamp01(round3(campaign ? m + (1 - m) * cfg.campaignBoost : m));
}
