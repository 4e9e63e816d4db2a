import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ManualClock } from '../common/clock.ts';
import type { Evidence } from '../common/schema/evidence.ts';
import { SEVERITIES } from '../common/schema/evidence.ts';
import { resolveCorrelateConfig } from './config.ts';
import { createCorrelator, type Correlator } from './correlator.ts';
import { DETECTOR_NAMES } from './evidence.ts';
import { T0, testOperators } from './testing.ts';

const addresses = ['192.0.2.1', '192.0.2.2', '198.51.100.4', '203.0.113.9', '2001:db8:b:1::/64', 'p-opaque'];

const evidenceArb: fc.Arbitrary<Evidence> = fc
  .record({
    detector: fc.constantFrom(...DETECTOR_NAMES),
    subject: fc.constantFrom(...addresses),
    counterpart: fc.option(fc.constantFrom(...addresses), { nil: undefined }),
    start: fc.integer({ min: 0, max: 6 * 3_600_000 }),
    len: fc.integer({ min: 0, max: 600_000 }),
    confidence: fc.double({ min: 0, max: 1, noNaN: true }),
    severity: fc.constantFrom(...SEVERITIES),
    domain: fc.option(fc.constantFrom('a.bank-a.example', 'x.example', 'water-b.example.'), {
      nil: undefined,
    }),
  })
  .map((r) => {
    const e: Evidence = {
      detector: r.detector,
      version: '1.0.0',
      subject: r.subject,
      window: { start: T0 + r.start, end: T0 + r.start + r.len },
      confidence: r.confidence,
      severity: r.severity,
      facts: r.domain ? { domain: r.domain } : {},
      recordIds: [],
    };
    if (r.counterpart !== undefined) e.counterpart = r.counterpart;
    return e;
  });

type Op =
  | { kind: 'push'; e: Evidence }
  | { kind: 'garbage'; e: unknown }
  | { kind: 'transition'; pick: number; to: 'triaged' | 'notified' | 'mitigated' | 'closed' }
  | { kind: 'rule'; subject: string }
  | { kind: 'unrule' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: evidenceArb.map((e) => ({ kind: 'push' as const, e })) },
  { weight: 1, arbitrary: fc.anything().map((e) => ({ kind: 'garbage' as const, e })) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('transition' as const),
      pick: fc.nat(),
      to: fc.constantFrom('triaged' as const, 'notified' as const, 'mitigated' as const, 'closed' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...addresses).map((subject) => ({ kind: 'rule' as const, subject })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'unrule' as const }) },
);

function checkInvariants(c: Correlator): void {
  const s = c.snapshot();
  const incidents = new Map(s.incidents.map((i) => [i.id, i]));
  for (const a of s.alerts) {
    const homes = s.incidents.filter((i) => i.alerts.includes(a.id));
    expect(homes).toHaveLength(1);
    expect(a.incidentId).toBe(homes[0]?.id);
    expect(a.firstSeen).toBeLessThanOrEqual(a.lastSeen);
    expect(a.score).toBeGreaterThanOrEqual(0);
    expect(a.score).toBeLessThanOrEqual(1);
    expect(a.evidence.length).toBeLessThanOrEqual(a.evidenceCount);
    expect(a.evidence.length).toBeGreaterThan(0);
  }
  for (const i of s.incidents) {
    expect(i.firstSeen).toBeLessThanOrEqual(i.lastSeen);
    expect(i.score).toBeGreaterThanOrEqual(0);
    expect(i.score).toBeLessThanOrEqual(1);
    expect(new Set(i.alerts).size).toBe(i.alerts.length);
    expect(i.alerts.length).toBeGreaterThan(0);
    if (i.campaign) expect(i.severity).toBe('critical');
  }
  // No alert id appears in two incidents, held or not.
  const all = s.incidents.flatMap((i) => i.alerts);
  expect(new Set(all).size).toBe(all.length);
  expect(incidents.size).toBe(s.incidents.length);
}

describe('correlator (property)', () => {
  it('keeps its invariants for any sequence of evidence, transitions and rule changes', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), fc.boolean(), (ops, small) => {
        const clock = new ManualClock(T0);
        const cfg = resolveCorrelateConfig(
          small
            ? {
                maxAlerts: 16,
                maxIncidents: 16,
                maxIncidentAlerts: 4,
                alertGapMs: 60_000,
                incidentGapMs: 600_000,
              }
            : {},
        );
        const c = createCorrelator(cfg, { clock, operators: testOperators() });
        let rules = 0;
        for (const op of ops) {
          clock.advance(1000);
          if (op.kind === 'push') c.push(op.e);
          else if (op.kind === 'garbage') c.push(op.e as Evidence);
          else if (op.kind === 'transition') {
            const list = c.snapshot().incidents;
            const inc = list[op.pick % Math.max(1, list.length)];
            if (inc) {
              try {
                c.transition(inc.id, op.to, 'prop', 'test');
              } catch (err) {
                expect((err as { code?: string }).code).toBe('ERR_INCIDENT_TRANSITION');
              }
            }
          } else if (op.kind === 'rule') {
            c.addSuppression({
              id: `r${rules++}`,
              subject: op.subject,
              reason: 'prop',
              createdBy: 'prop',
              createdAt: clock.now(),
              expiresAt: clock.now() + 5000,
            });
          } else c.removeSuppression(`r${rules - 1}`);
          checkInvariants(c);
        }
        c.flush();
        checkInvariants(c);
      }),
      { numRuns: 100 },
    );
  });
});
