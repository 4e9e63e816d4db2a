/**
 * Suppression lists: rules that down-rank alerts (analysts' false positives, warninglists, known
 * benign infrastructure). A matching alert is kept and exported, marked `suppressedBy` and scored
 * down; it is never dropped. Known research scanners are already down-ranked by the scan
 * detector (src/detect/scan/research.ts) and are deliberately not repeated here.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Alert, SuppressionRule } from '../common/schema/alert.ts';
import type { DetectorName } from '../common/schema/legal.ts';
import { SuppressionRuleError } from './errors.ts';
import { ValueMatcher, parseRange } from './match.ts';
import { DETECTOR_NAMES } from './evidence.ts';

/** JSON schema of a suppression rule (API bodies, persisted rules). */
export const SuppressionRuleSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' }),
    detector: Type.Optional(Type.Union(DETECTOR_NAMES.map((d) => Type.Literal(d)))),
    subject: Type.Optional(
      Type.String({ minLength: 1, maxLength: 256, description: 'Exact subject, address or CIDR prefix.' }),
    ),
    counterpart: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: 'Exact counterpart, address or CIDR prefix.',
      }),
    ),
    reason: Type.String({ minLength: 1, maxLength: 1000 }),
    createdBy: Type.String({ minLength: 1, maxLength: 200 }),
    createdAt: Type.Integer({ minimum: 0 }),
    expiresAt: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

/** Statically the same as `SuppressionRule` (src/common/schema/alert.ts). */
export type SuppressionRuleJson = Static<typeof SuppressionRuleSchema>;

/**
 * Checks an untrusted rule (API body, persisted file): the schema, and that a subject or
 * counterpart containing `/` is a valid CIDR prefix. Throws `SuppressionRuleError` naming the field.
 */
export function validateSuppressionRule(value: unknown): SuppressionRule {
  const first = Value.Errors(SuppressionRuleSchema, value).First();
  if (first) {
    const field = first.path.split('/').filter(Boolean).join('.') || '(rule)';
    throw new SuppressionRuleError(field, first.message);
  }
  const rule = value as SuppressionRule;
  for (const field of ['subject', 'counterpart'] as const) {
    const v = rule[field];
    if (v !== undefined && v.includes('/') && !parseRange(v))
      throw new SuppressionRuleError(field, 'not a CIDR prefix with host bits zero');
  }
  if (rule.expiresAt !== undefined && rule.expiresAt <= rule.createdAt)
    throw new SuppressionRuleError('expiresAt', 'must be after createdAt');
  return structuredClone(rule);
}

interface CompiledRule {
  rule: SuppressionRule;
  subject: ValueMatcher | undefined;
  counterpart: ValueMatcher | undefined;
}

/** The rules in force, compiled for matching; ordered by id so the chosen rule is deterministic. */
export class SuppressionList {
  private rules: CompiledRule[] = [];

  /** Adds a rule (validated), replacing one with the same id. */
  add(rule: SuppressionRule): SuppressionRule {
    const r = validateSuppressionRule(rule);
    const compiled: CompiledRule = {
      rule: r,
      subject: r.subject === undefined ? undefined : new ValueMatcher(r.subject),
      counterpart: r.counterpart === undefined ? undefined : new ValueMatcher(r.counterpart),
    };
    this.rules = this.rules.filter((c) => c.rule.id !== r.id);
    this.rules.push(compiled);
    this.rules.sort((a, b) => (a.rule.id < b.rule.id ? -1 : a.rule.id > b.rule.id ? 1 : 0));
    return structuredClone(r);
  }

  /** Removes a rule; false when no rule had this id. */
  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((c) => c.rule.id !== id);
    return this.rules.length !== before;
  }

  /** Copies of the rules, ordered by id. */
  list(): SuppressionRule[] {
    return this.rules.map((c) => structuredClone(c.rule));
  }

  /** Number of rules. */
  get size(): number {
    return this.rules.length;
  }

  /**
   * The first rule (by id) in force at `now` that matches: detector equal when set, subject
   * equal or inside the CIDR when set, some counterpart equal or inside when set.
   */
  match(
    detector: DetectorName,
    subject: string,
    counterparts: readonly string[],
    now: number,
  ): SuppressionRule | undefined {
    for (const c of this.rules) {
      const r = c.rule;
      if (r.expiresAt !== undefined && r.expiresAt <= now) continue;
      if (r.detector !== undefined && r.detector !== detector) continue;
      if (c.subject && !c.subject.matches(subject)) continue;
      if (c.counterpart && !counterparts.some((x) => c.counterpart?.matches(x) === true)) continue;
      return r;
    }
    return undefined;
  }
}

/**
 * The rule an analyst's "false positive" action creates: the alert's detector and subject, for
 * `ttlMs` (absent = until removed). The id is derived from the alert id, so repeating the action
 * replaces the rule instead of piling up copies.
 */
export function falsePositiveRule(
  alert: Pick<Alert, 'id' | 'detector' | 'subject'>,
  actor: string,
  reason: string,
  now: number,
  ttlMs?: number,
): SuppressionRule {
  const rule: SuppressionRule = {
    id: `fp-${alert.id}`,
    detector: alert.detector,
    subject: alert.subject,
    reason,
    createdBy: actor,
    createdAt: now,
  };
  if (ttlMs !== undefined) rule.expiresAt = now + ttlMs;
  return validateSuppressionRule(rule);
}
