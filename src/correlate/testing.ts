/** Test helpers of correlation: evidence and an operators file with two operators. */
import type { Evidence } from '../common/schema/evidence.ts';
import { validateOperatorsFile, type OperatorsFile } from '../common/operators/index.ts';

/** 2026-01-01T00:00:00Z, the base of test event times. */
export const T0 = Date.UTC(2026, 0, 1);

/** Evidence with defaults (a medium scan of 60 s starting at `T0`), overridden by `o`. */
export function evidence(o: Partial<Evidence> & { at?: number; ms?: number } = {}): Evidence {
  const start = o.at ?? T0;
  const { at: _at, ms, ...rest } = o;
  return {
    detector: 'scan',
    version: '1.0.0',
    subject: '192.0.2.10',
    window: { start, end: start + (ms ?? 60_000) },
    confidence: 0.6,
    severity: 'medium',
    facts: { type: 'horizontal', distinctDestinations: 120 },
    recordIds: ['p1/192.0.2.1/0/1/0'],
    ...rest,
  };
}

/**
 * Two operators: `bank-a` (finance, 198.51.100.0/24, bank-a.example) and `water-b` (water,
 * 203.0.113.0/25 waived, 2001:db8:b::/48).
 */
export function testOperators(): OperatorsFile {
  return validateOperatorsFile({
    schema: 'acd.operators/1',
    domesticCountry: 'JP',
    providers: [{ id: 'p1', name: 'Provider One', asn: 64500 }],
    operators: [
      {
        id: 'bank-a',
        name: 'Bank A',
        sector: 'finance',
        providerId: 'p1',
        ranges: [{ prefix: '198.51.100.0/24', pseudonymisationWaived: false }],
        domains: ['bank-a.example'],
        importantSystems: [],
        contacts: [],
        agreement: { status: 'none' },
      },
      {
        id: 'water-b',
        name: 'Water B',
        sector: 'water',
        providerId: 'p1',
        ranges: [
          { prefix: '203.0.113.0/25', pseudonymisationWaived: true },
          { prefix: '2001:db8:b::/48', pseudonymisationWaived: false },
        ],
        domains: ['water-b.example'],
        importantSystems: [],
        contacts: [],
        agreement: { status: 'none' },
      },
    ],
  });
}
