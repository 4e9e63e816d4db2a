import { describe, expect, it } from 'vitest';
import { ManualClock } from '../common/clock.ts';
import { ConfigError } from '../common/errors.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import { resolveCorrelateConfig, type CorrelateConfigInput } from './config.ts';
import { createCorrelator, type CorrelationDelta, type CorrelatorDeps } from './correlator.ts';
import { IncidentTransitionError, NotFoundError, SuppressionRuleError } from './errors.ts';
import { alertScore, incidentScore } from './score.ts';
import { evidence, T0, testOperators } from './testing.ts';

function make(cfg: CorrelateConfigInput = {}, deps: CorrelatorDeps = {}) {
  const clock = new ManualClock(T0 + 86_400_000);
  const metrics = new MetricsRegistry();
  const c = createCorrelator(resolveCorrelateConfig(cfg), { clock, metrics, ...deps });
  return { c, clock, metrics };
}

describe('correlate config', () => {
  it('fills defaults and names the bad key', () => {
    const cfg = resolveCorrelateConfig();
    expect(cfg.alertGapMs).toBe(300_000);
    expect(cfg.score.operatorWeight).toBe(0.4);
    expect(() => resolveCorrelateConfig({ alertGapMs: -1 })).toThrow(ConfigError);
    try {
      resolveCorrelateConfig({ score: { operatorWeight: 0.9 } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).key).toBe('correlate.score');
    }
  });
});

describe('alerts', () => {
  it('folds evidence of the same detector and subject within the gap into one alert', () => {
    const { c } = make({ alertGapMs: 60_000 });
    const a1 = c.push(evidence({ at: T0 })).alerts[0];
    const a2 = c.push(evidence({ at: T0 + 60_000, severity: 'high', confidence: 0.9 })).alerts[0];
    const a3 = c.push(evidence({ at: T0 + 150_000 })).alerts[0]; // starts 30 s after lastSeen
    expect(a1?.id).toBeDefined();
    expect(a2?.id).toBe(a1?.id);
    expect(a3?.id).toBe(a1?.id);
    expect(a3).toMatchObject({ evidenceCount: 3, severity: 'high', firstSeen: T0, lastSeen: T0 + 210_000 });
    expect(a3?.score).toBeGreaterThan(0.9);
  });

  it('starts a new alert after the gap, for another detector, or for another subject', () => {
    const { c } = make({ alertGapMs: 60_000 });
    const ids = new Set<string>();
    ids.add(c.push(evidence({ at: T0 })).alerts[0]?.id ?? '');
    ids.add(c.push(evidence({ at: T0 + 200_000 })).alerts[0]?.id ?? '');
    ids.add(c.push(evidence({ at: T0, detector: 'brute-force' })).alerts[0]?.id ?? '');
    ids.add(c.push(evidence({ at: T0, subject: '192.0.2.11' })).alerts[0]?.id ?? '');
    expect(ids.size).toBe(4);
    expect(c.stats().alerts).toBe(4);
  });

  it('keeps the first and the latest evidence, bounded, and counts all of it', () => {
    const { c } = make({ evidenceHead: 2, evidenceTail: 3 });
    let last: CorrelationDelta | undefined;
    for (let k = 0; k < 20; k++) last = c.push(evidence({ at: T0 + k * 60_000, recordIds: [`r${k}`] }));
    const a = last?.alerts[0];
    expect(a?.evidenceCount).toBe(20);
    expect(a?.evidence.map((e) => e.recordIds[0])).toEqual(['r0', 'r1', 'r17', 'r18', 'r19']);
  });

  it('merges counterparts, deduplicated and bounded', () => {
    const { c } = make({ maxCounterparts: 3 });
    let a;
    for (const cp of ['198.18.0.1', '198.18.0.2', '198.18.0.1', '198.18.0.3', '198.18.0.4'])
      a = c.push(evidence({ detector: 'brute-force', counterpart: cp })).alerts[0];
    expect(a?.counterparts).toEqual(['198.18.0.1', '198.18.0.2', '198.18.0.3']);
  });

  it('derives the same ids when the same evidence is replayed', () => {
    const stream = [
      evidence({ at: T0 }),
      evidence({ at: T0, detector: 'brute-force', counterpart: '198.18.0.1' }),
      evidence({ at: T0 + 3_600_000 * 5 }),
      evidence({ at: T0 + 60_000, subject: '192.0.2.99', counterpart: '192.0.2.10', detector: 'beacon' }),
    ];
    const run = () => {
      const { c } = make();
      for (const e of stream) c.push(e);
      const s = c.snapshot();
      return { alerts: s.alerts.map((a) => a.id), incidents: s.incidents.map((i) => i.id) };
    };
    const first = run();
    expect(run()).toEqual(first);
    expect(first.alerts.every((id) => /^a-[0-9a-f]{20}$/.test(id))).toBe(true);
  });

  it('refuses malformed evidence without changing anything and counts it', () => {
    const { c, metrics } = make();
    const bad = [
      { ...evidence(), window: { start: 5, end: 1 } },
      { ...evidence(), confidence: Number.NaN },
      { ...evidence(), detector: 'nope' },
      { ...evidence(), subject: '' },
    ];
    for (const e of bad) expect(c.push(e as never).alerts).toEqual([]);
    expect(c.stats().alerts).toBe(0);
    expect(metrics.snapshot()['correlate_evidence_rejected{reason="window"}']).toBe(1);
  });
});

describe('operators and severity', () => {
  const operators = testOperators();

  it('makes an alert critical when an operator is the victim (DDoS subject in its range)', () => {
    const { c } = make({}, { operators });
    const a = c.push(evidence({ detector: 'ddos', subject: '198.51.100.7', severity: 'high' })).alerts[0];
    expect(a).toMatchObject({ severity: 'critical', operators: ['bank-a'], sectors: ['finance'] });
    expect(c.snapshot().incidents[0]?.severity).toBe('critical');
  });

  it('treats the counterpart as the victim of a scanner or brute-forcer, not its subject', () => {
    const { c } = make({}, { operators });
    const attacker = c.push(evidence({ detector: 'brute-force', subject: '198.51.100.9' })).alerts[0];
    expect(attacker).toMatchObject({ severity: 'medium', operators: ['bank-a'] });
    const victim = c.push(
      evidence({ detector: 'brute-force', subject: '192.0.2.50', counterpart: '2001:db8:b:1::5' }),
    ).alerts[0];
    expect(victim).toMatchObject({ severity: 'critical', operators: ['water-b'], sectors: ['water'] });
  });

  it('matches IPv6 /64 subjects and DNS names in facts (involved, not victim)', () => {
    const { c } = make({}, { operators });
    const a = c.push(evidence({ detector: 'beacon', subject: '2001:db8:b:7::/64' })).alerts[0];
    expect(a?.operators).toEqual(['water-b']);
    const d = c.push(
      evidence({ detector: 'dns-tunnel', subject: '192.0.2.77', facts: { domain: 'x1.api.bank-a.example' } }),
    ).alerts[0];
    expect(d).toMatchObject({ operators: ['bank-a'], severity: 'medium' });
  });

  it('matches only waived ranges when told the addresses are pseudonymised, and asks the hook first', () => {
    const { c } = make({ operatorRanges: 'waived' }, { operators });
    expect(c.push(evidence({ detector: 'ddos', subject: '198.51.100.7' })).alerts[0]?.operators).toEqual([]);
    expect(c.push(evidence({ detector: 'ddos', subject: '203.0.113.7' })).alerts[0]?.operators).toEqual([
      'water-b',
    ]);
    const hooked = make(
      { operatorRanges: 'waived' },
      {
        operators,
        operatorOf: (addr) => (addr === '10.9.9.9' ? [{ id: 'bank-a', sector: 'finance' }] : undefined),
      },
    ).c;
    expect(hooked.push(evidence({ detector: 'ddos', subject: '10.9.9.9' })).alerts[0]?.severity).toBe(
      'critical',
    );
  });
});

describe('scores', () => {
  const cfg = resolveCorrelateConfig().score;
  it('grows with repetition, duration, counterparts and operator impact, and stays in [0, 1]', () => {
    const base = {
      confidence: 0.5,
      evidenceCount: 1,
      durationMs: 0,
      counterparts: 0,
      operatorImpact: 0,
      suppressed: false,
    };
    const s0 = alertScore(base, cfg);
    expect(s0).toBe(0.5);
    expect(alertScore({ ...base, evidenceCount: 10 }, cfg)).toBeGreaterThan(s0);
    expect(alertScore({ ...base, durationMs: 3_600_000 }, cfg)).toBeGreaterThan(s0);
    expect(alertScore({ ...base, counterparts: 20 }, cfg)).toBeGreaterThan(s0);
    expect(alertScore({ ...base, operatorImpact: 1 }, cfg)).toBe(0.7);
    const max = alertScore(
      {
        confidence: 1,
        evidenceCount: 1e9,
        durationMs: 1e12,
        counterparts: 1e6,
        operatorImpact: 1,
        suppressed: false,
      },
      cfg,
    );
    expect(max).toBe(1);
    expect(alertScore({ ...base, suppressed: true }, cfg)).toBe(0.1);
    expect(incidentScore(0.5, true, cfg)).toBe(0.65);
  });
});

describe('incidents', () => {
  it('groups alerts that share infrastructure (union over subjects and counterparts)', () => {
    const { c } = make();
    // A scans the victim, B brute-forces the same victim, C beacons to A: one chain A–victim–B, C–A.
    c.push(evidence({ detector: 'scan', subject: '192.0.2.1', counterpart: '198.18.5.5' }));
    c.push(evidence({ detector: 'brute-force', subject: '192.0.2.2', counterpart: '198.18.5.5' }));
    c.push(evidence({ detector: 'beacon', subject: '198.18.9.9', counterpart: '192.0.2.1' }));
    c.push(evidence({ detector: 'scan', subject: '192.0.2.200' })); // unrelated
    const s = c.snapshot();
    expect(s.incidents).toHaveLength(2);
    const big = s.incidents.find((i) => i.alerts.length === 3);
    expect(big?.detectors).toEqual(['beacon', 'brute-force', 'scan']);
    expect(big?.campaign).toBe(true);
    expect(big?.severity).toBe('critical');
    for (const a of s.alerts) expect(s.incidents.filter((i) => i.alerts.includes(a.id))).toHaveLength(1);
  });

  it('merges incidents when a later alert links them, keeping the oldest id', () => {
    const { c } = make();
    const i1 = c.push(evidence({ detector: 'scan', subject: '192.0.2.1', counterpart: '198.18.0.1' }))
      .incidents[0];
    const i2 = c.push(evidence({ detector: 'scan', subject: '192.0.2.2', counterpart: '198.18.0.2' }))
      .incidents[0];
    expect(i1?.id).not.toBe(i2?.id);
    const d = c.push(evidence({ detector: 'beacon', subject: '198.18.0.1', counterpart: '198.18.0.2' }));
    expect(d.merged).toEqual([{ id: i2?.id, into: i1?.id }]);
    const inc = c.incident(i1?.id ?? '');
    expect(inc?.alerts).toHaveLength(3);
    expect(inc?.mergedFrom).toEqual([i2?.id]);
    expect(c.incident(i2?.id ?? '')).toBeUndefined();
    expect(new Set(d.alerts.map((a) => a.incidentId))).toEqual(new Set([i1?.id]));
  });

  it('does not group alerts far apart in time', () => {
    const { c } = make({ incidentGapMs: 600_000, alertGapMs: 0 });
    c.push(evidence({ at: T0 }));
    c.push(evidence({ at: T0 + 3_600_000 }));
    expect(c.snapshot().incidents).toHaveLength(2);
  });

  it('groups victims of one sector and calls several sectors a campaign', () => {
    const { c } = make({}, { operators: testOperators() });
    c.push(evidence({ detector: 'ddos', subject: '198.51.100.1' }));
    c.push(evidence({ detector: 'ddos', subject: '198.51.100.2' }));
    let s = c.snapshot();
    expect(s.incidents).toHaveLength(1);
    expect(s.incidents[0]).toMatchObject({ sectors: ['finance'], severity: 'critical', campaign: false });
    expect(s.incidents[0]?.summary).toMatch(/^Incident \(critical\): 2 alerts from ddos/);
    // The same attacker brute-forcing a water operator too: two sectors.
    c.push(evidence({ detector: 'scan', subject: '192.0.2.66', counterpart: '198.51.100.1' }));
    c.push(evidence({ detector: 'brute-force', subject: '192.0.2.66', counterpart: '203.0.113.3' }));
    s = c.snapshot();
    expect(s.incidents).toHaveLength(1);
    expect(s.incidents[0]).toMatchObject({ campaign: true, sectors: ['finance', 'water'] });
  });

  it('keeps a lone low-severity alert low and not a campaign', () => {
    const { c } = make({ minAlertSeverity: 'low' });
    const i = c.push(evidence({ severity: 'low', confidence: 0.3 })).incidents[0];
    expect(i).toMatchObject({ severity: 'low', campaign: false, state: 'new', detectors: ['scan'] });
  });
});

describe('minimum alert severity', () => {
  it('opens no alert for low evidence alone, by default, and counts it', () => {
    const { c, metrics } = make();
    const d = c.push(evidence({ severity: 'low', confidence: 0.3 }));
    expect(d.alerts).toHaveLength(0);
    expect(d.incidents).toHaveLength(0);
    expect(c.snapshot().alerts).toHaveLength(0);
    expect(metrics.snapshot()['correlate_evidence_below_alert']).toBe(1);
  });

  it('folds low evidence into an alert that stronger evidence opened', () => {
    const { c } = make({ alertGapMs: 60_000 });
    const first = c.push(evidence({ at: T0, severity: 'medium' })).alerts[0];
    const later = c.push(evidence({ at: T0 + 60_000, severity: 'low' })).alerts[0];
    expect(later?.id).toBe(first?.id);
    expect(later?.evidenceCount).toBe(2);
    expect(later?.severity).toBe('medium');
  });

  it('opens alerts from low evidence when set to low', () => {
    const { c } = make({ minAlertSeverity: 'low' });
    expect(c.push(evidence({ severity: 'low' })).alerts).toHaveLength(1);
  });
});

describe('incident lifecycle', () => {
  it('walks new → triaged → notified → mitigated → closed, recording actor and reason', () => {
    const { c, clock } = make();
    const id = c.push(evidence()).incidents[0]?.id ?? '';
    for (const to of ['triaged', 'notified', 'mitigated', 'closed'] as const) {
      clock.advance(1000);
      expect(c.transition(id, to, 'analyst-1', `to ${to}`).state).toBe(to);
    }
    const inc = c.incident(id);
    expect(inc?.history.map((h) => `${h.from}>${h.to}`)).toEqual([
      'new>triaged',
      'triaged>notified',
      'notified>mitigated',
      'mitigated>closed',
    ]);
    expect(inc?.history[0]).toMatchObject({
      actor: 'analyst-1',
      reason: 'to triaged',
      at: T0 + 86_400_000 + 1000,
    });
  });

  it('allows closing from any open state (false positive)', () => {
    const { c } = make();
    const id = c.push(evidence()).incidents[0]?.id ?? '';
    expect(c.transition(id, 'closed', 'a', 'false positive').state).toBe('closed');
  });

  it('refuses illegal transitions with ERR_INCIDENT_TRANSITION', () => {
    const { c } = make();
    const id = c.push(evidence()).incidents[0]?.id ?? '';
    const illegal = (to: string, actor = 'a', reason = 'r') => {
      try {
        c.transition(id, to as never, actor, reason);
        return undefined;
      } catch (err) {
        return err;
      }
    };
    expect(illegal('notified')).toBeInstanceOf(IncidentTransitionError); // skipping triage
    expect(illegal('new')).toBeInstanceOf(IncidentTransitionError); // same state
    expect(illegal('reopened')).toBeInstanceOf(IncidentTransitionError);
    expect(illegal('triaged', ' ')).toBeInstanceOf(IncidentTransitionError); // no actor
    expect(illegal('triaged', 'a', '')).toBeInstanceOf(IncidentTransitionError); // no reason
    c.transition(id, 'triaged', 'a', 'r');
    expect(illegal('new')).toBeInstanceOf(IncidentTransitionError); // backwards
    c.transition(id, 'closed', 'a', 'r');
    const err = illegal('triaged');
    expect(err).toBeInstanceOf(IncidentTransitionError);
    expect((err as IncidentTransitionError).code).toBe('ERR_INCIDENT_TRANSITION');
    expect(() => c.transition('i-unknown', 'triaged', 'a', 'r')).toThrow(NotFoundError);
    expect(c.incident(id)?.history).toHaveLength(2);
  });

  it('does not reopen a closed incident: new evidence starts a new alert and incident', () => {
    const { c } = make();
    const first = c.push(evidence({ at: T0 }));
    const id = first.incidents[0]?.id ?? '';
    c.transition(id, 'closed', 'a', 'handled');
    const next = c.push(evidence({ at: T0 + 60_000 }));
    expect(next.alerts[0]?.id).not.toBe(first.alerts[0]?.id);
    expect(next.incidents[0]?.id).not.toBe(id);
    expect(c.incident(id)).toMatchObject({ state: 'closed', alerts: [first.alerts[0]?.id] });
  });

  it('keeps an incident being handled and lets new linked incidents join it', () => {
    const { c } = make();
    const a = c.push(evidence({ subject: '192.0.2.1', counterpart: '198.18.0.1' })).incidents[0]?.id ?? '';
    c.transition(a, 'triaged', 'analyst', 'looking');
    const d = c.push(evidence({ detector: 'brute-force', subject: '192.0.2.1', counterpart: '198.18.0.9' }));
    expect(d.incidents.map((i) => i.id)).toEqual([a]);
    expect(c.incident(a)).toMatchObject({ state: 'triaged', campaign: true });
  });
});

describe('suppression', () => {
  const rule = {
    id: 'warn-1',
    subject: '192.0.2.0/24',
    reason: 'lab scanner',
    createdBy: 'analyst',
    createdAt: T0,
  };

  it('marks matching alerts, scores them down and keeps them', () => {
    const { c } = make({}, { rules: [rule] });
    const a = c.push(evidence({ confidence: 0.8 })).alerts[0];
    expect(a?.suppressedBy).toBe('warn-1');
    expect(a?.score).toBeLessThan(0.2);
    const other = c.push(evidence({ subject: '198.18.0.1', confidence: 0.8 })).alerts[0];
    expect(other?.suppressedBy).toBeUndefined();
    expect(c.snapshot().alerts).toHaveLength(2);
  });

  it('re-scores held alerts when rules are added and removed, and honours expiry', () => {
    const { c, clock } = make();
    const before = c.push(evidence({ confidence: 0.8 })).alerts[0];
    const add = c.addSuppression({ ...rule, detector: 'scan', expiresAt: clock.now() + 60_000 });
    expect(add.alerts[0]).toMatchObject({ id: before?.id, suppressedBy: 'warn-1' });
    expect(add.incidents[0]?.severity).toBe('low');
    clock.advance(120_000);
    const flushed = c.flush();
    expect(flushed.alerts.find((a) => a.id === before?.id)?.suppressedBy).toBeUndefined();
    c.addSuppression({ ...rule, id: 'warn-2' });
    const removed = c.removeSuppression('warn-2');
    expect(removed.alerts[0]?.score).toBe(before?.score);
    expect(c.removeSuppression('never-existed').alerts).toEqual([]);
  });

  it('matches by counterpart CIDR and by detector', () => {
    const { c } = make();
    c.addSuppression({
      id: 'r1',
      detector: 'beacon',
      counterpart: '2001:db8::/32',
      reason: 'cdn',
      createdBy: 'x',
      createdAt: T0,
    });
    expect(
      c.push(evidence({ detector: 'beacon', counterpart: '2001:db8:1::1' })).alerts[0]?.suppressedBy,
    ).toBe('r1');
    expect(
      c.push(evidence({ detector: 'scan', counterpart: '2001:db8:1::1' })).alerts[0]?.suppressedBy,
    ).toBeUndefined();
  });

  it('creates a rule from the analyst false-positive action', () => {
    const { c } = make();
    const a = c.push(evidence()).alerts[0];
    const { rule: r, delta } = c.markFalsePositive(a?.id ?? '', 'analyst', 'our own scanner', 3_600_000);
    expect(r).toMatchObject({ id: `fp-${a?.id}`, detector: 'scan', subject: '192.0.2.10' });
    expect(delta.alerts[0]?.suppressedBy).toBe(r.id);
    expect(c.suppressions()).toHaveLength(1);
  });

  it('refuses invalid rules', () => {
    const { c } = make();
    expect(() => c.addSuppression({ ...rule, subject: '192.0.2.1/24' })).toThrow(SuppressionRuleError);
    expect(() => c.addSuppression({ ...rule, id: '' })).toThrow(SuppressionRuleError);
    expect(() => c.addSuppression({ ...rule, expiresAt: T0 - 1 })).toThrow(SuppressionRuleError);
  });

  it('does not let suppressed alerts make a campaign', () => {
    const { c } = make({}, { rules: [{ ...rule, detector: 'beacon' }] });
    c.push(evidence({ detector: 'scan', subject: '198.18.0.1', counterpart: '192.0.2.1' }));
    const i = c.push(evidence({ detector: 'beacon', subject: '192.0.2.1' })).incidents[0];
    expect(i).toMatchObject({ campaign: false, detectors: ['beacon', 'scan'], severity: 'medium' });
  });
});

describe('streaming and memory', () => {
  it('hands every change to onChange and coalesces changes until flush', () => {
    const seen: CorrelationDelta[] = [];
    const { c } = make({}, { onChange: (d) => seen.push(d) });
    for (let k = 0; k < 5; k++) c.push(evidence({ at: T0 + k * 60_000 }));
    expect(seen).toHaveLength(5);
    const f = c.flush();
    expect(f.alerts).toHaveLength(1);
    expect(f.incidents).toHaveLength(1);
    expect(f.alerts[0]?.evidenceCount).toBe(5);
    expect(c.flush().alerts).toEqual([]);
  });

  it('evicts the oldest alerts and incidents beyond the caps and counts them', () => {
    const { c, metrics } = make({ maxAlerts: 16, maxIncidents: 16, maxIncidentAlerts: 16 });
    for (let k = 0; k < 40; k++) c.push(evidence({ subject: `192.0.2.${k}` }));
    const s = c.snapshot();
    expect(s.alerts.length).toBeLessThanOrEqual(16);
    expect(s.incidents.length).toBeLessThanOrEqual(16);
    expect(s.alerts.map((a) => a.subject)).toContain('192.0.2.39');
    expect(metrics.snapshot()['correlate_incidents_evicted']).toBe(24);
    for (const a of s.alerts) expect(s.incidents.find((i) => i.id === a.incidentId)?.alerts).toContain(a.id);
  });

  it('evicts closed incidents first', () => {
    const { c } = make({ maxAlerts: 16, maxIncidents: 16, maxIncidentAlerts: 16 });
    const ids: string[] = [];
    for (let k = 0; k < 16; k++)
      ids.push(c.push(evidence({ subject: `192.0.2.${k}` })).incidents[0]?.id ?? '');
    c.transition(ids[5] ?? '', 'closed', 'a', 'done');
    const d = c.push(evidence({ subject: '192.0.2.200' }));
    expect(d.evicted.incidents).toEqual([ids[5]]);
  });
});
