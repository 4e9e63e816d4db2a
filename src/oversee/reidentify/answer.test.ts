/**
 * The parser of edge answers (untrusted bytes from the bus): any input yields a typed outcome and
 * never throws; valid answers come back with canonical addresses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAnswer } from './answer.ts';

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
const good = {
  type: 'reidentification-answer',
  outcome: 'answered',
  requestId: 'reid-1',
  caseId: 'case-1',
  results: [
    { recordId: 'p/1/0/0/1', keyEpoch: 3, pseudonym: '2001:DB8:0::1', address: '2400:4050:2a1:0::5' },
  ],
};

describe('parseAnswer', () => {
  it('accepts answers and refusals, with addresses in canonical form', () => {
    const a = parseAnswer(enc(good));
    expect(a).toEqual({
      ok: true,
      answer: {
        ...good,
        results: [
          { recordId: 'p/1/0/0/1', keyEpoch: 3, pseudonym: '2001:db8::1', address: '2400:4050:2a1::5' },
        ],
      },
    });
    const r = parseAnswer(
      enc({ type: 'reidentification-answer', outcome: 'refused', code: 'ERR_REID_REPLAY' }),
    );
    expect(r.ok).toBe(true);
  });

  it('refuses non-JSON, extra members, bad codes, non-addresses and oversize input', () => {
    expect(parseAnswer(new TextEncoder().encode('{x')).ok).toBe(false);
    expect(parseAnswer(enc({ ...good, extra: 1 })).ok).toBe(false);
    expect(parseAnswer(enc({ type: 'reidentification-answer', outcome: 'refused', code: 'nope' })).ok).toBe(
      false,
    );
    expect(parseAnswer(enc({ ...good, results: [{ ...good.results[0], address: 'host.example' }] })).ok).toBe(
      false,
    );
    expect(parseAnswer(enc({ ...good, results: [] })).ok).toBe(false);
    expect(parseAnswer(new Uint8Array(300 * 1024)).ok).toBe(false);
  });

  it('property: any bytes or JSON value yields ok or a reason, never an exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const r = parseAnswer(bytes);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = parseAnswer(enc(v));
        expect(r.ok === true || typeof r.reason === 'string').toBe(true);
      }),
      { numRuns: 500 },
    );
    // Mutations of a valid answer: every field replaced by an arbitrary JSON value.
    fc.assert(
      fc.property(
        fc.constantFrom('type', 'outcome', 'requestId', 'caseId', 'results', 'code'),
        fc.jsonValue(),
        fc.constantFrom('recordId', 'keyEpoch', 'pseudonym', 'address'),
        fc.jsonValue(),
        (k, v, rk, rv) => {
          const doc = { ...good, [k]: v, results: [{ ...good.results[0], [rk]: rv }] };
          const r = parseAnswer(enc(doc));
          if (r.ok && r.answer.outcome === 'answered')
            for (const x of r.answer.results) expect(x.address).toMatch(/^[0-9a-f.:]+$/);
        },
      ),
      { numRuns: 500 },
    );
  });
});
