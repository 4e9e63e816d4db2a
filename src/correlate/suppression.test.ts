import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SuppressionRuleError } from './errors.ts';
import { parseRange, ValueMatcher } from './match.ts';
import { SuppressionList, validateSuppressionRule } from './suppression.ts';
import { evidenceProblem } from './evidence.ts';
import { T0 } from './testing.ts';

describe('suppression rules (untrusted input)', () => {
  it('either validates or throws SuppressionRuleError, for any value', () => {
    const ruleLike = fc.record(
      {
        id: fc.oneof(fc.string(), fc.stringMatching(/^[a-z0-9-]{1,20}$/)),
        detector: fc.oneof(fc.constant('scan'), fc.string()),
        subject: fc.oneof(fc.constant('192.0.2.0/24'), fc.constant('10.0.0.1/8'), fc.string()),
        counterpart: fc.string(),
        reason: fc.string(),
        createdBy: fc.string(),
        createdAt: fc.oneof(fc.integer(), fc.double()),
        expiresAt: fc.integer(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), ruleLike), (v) => {
        try {
          const r = validateSuppressionRule(v);
          expect(r.id.length).toBeGreaterThan(0);
          new SuppressionList().add(r);
        } catch (err) {
          expect(err).toBeInstanceOf(SuppressionRuleError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('matches exact values and CIDR prefixes (IPv4, IPv6, /64 groups)', () => {
    expect(new ValueMatcher('192.0.2.0/24').matches('192.0.2.77')).toBe(true);
    expect(new ValueMatcher('192.0.2.0/24').matches('192.0.3.1')).toBe(false);
    expect(new ValueMatcher('2001:db8::/32').matches('2001:db8:1:2::/64')).toBe(true);
    expect(new ValueMatcher('2001:db8:1:2::/64').matches('2001:db8:1::/48')).toBe(false);
    expect(new ValueMatcher('pseudo-x').matches('pseudo-x')).toBe(true);
    const list = new SuppressionList();
    list.add({ id: 'b', subject: '192.0.2.0/24', reason: 'r', createdBy: 'c', createdAt: T0 });
    list.add({
      id: 'a',
      subject: '192.0.2.5',
      reason: 'r',
      createdBy: 'c',
      createdAt: T0,
      expiresAt: T0 + 10,
    });
    expect(list.match('scan', '192.0.2.5', [], T0)?.id).toBe('a');
    expect(list.match('scan', '192.0.2.5', [], T0 + 10)?.id).toBe('b');
  });

  it('never throws on address text or evidence of any shape', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.anything(), (s, e) => {
        parseRange(s);
        const p = evidenceProblem(e);
        expect(p === undefined || typeof p === 'string').toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
