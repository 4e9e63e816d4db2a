/** Pure parsers of untrusted request input: examples and property tests. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AcdError } from '../common/errors.ts';
import { createTokenAuth, demoTokenEntry, parseBearer, MAX_TOKEN_LENGTH } from './auth.ts';
import { createEventHub, formatEvent, parseLastEventId } from './events.ts';
import { STATUS_BY_CODE, statusOfCode, toProblem } from './problem.ts';
import { MAX_TIME_PARAM_LENGTH, parseTimeParam } from './time.ts';

describe('parseTimeParam', () => {
  it('accepts epoch ms, ISO dates and ISO date-times with a zone', () => {
    expect(parseTimeParam('1767225600000')).toBe(Date.UTC(2026, 0, 1));
    expect(parseTimeParam('2026-01-01')).toBe(Date.UTC(2026, 0, 1));
    expect(parseTimeParam('2026-01-01T00:00Z')).toBe(Date.UTC(2026, 0, 1));
    expect(parseTimeParam('2026-01-01T01:02:03.456Z')).toBe(Date.UTC(2026, 0, 1, 1, 2, 3, 456));
    expect(parseTimeParam('2026-01-01T02:00:00+01:00')).toBe(Date.UTC(2026, 0, 1, 1));
    expect(parseTimeParam('2026-01-01T00:00:00.123456789Z')).toBe(Date.UTC(2026, 0, 1, 0, 0, 0, 123));
  });

  it('refuses local times, impossible dates and other text', () => {
    for (const t of [
      '2026-01-01T00:00:00',
      '2026-02-30',
      '2026-13-01',
      '2026-01-01T24:00Z',
      'now',
      '',
      '-5',
      '1e12',
      '2026-1-1',
    ])
      expect(parseTimeParam(t), t).toBeUndefined();
  });

  it('never throws and returns ms round-tripping through ISO text (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        const t = parseTimeParam(s);
        if (s.length > MAX_TIME_PARAM_LENGTH) expect(t).toBeUndefined();
        if (t !== undefined) expect(Number.isFinite(t)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) }), (ms) => {
        expect(parseTimeParam(new Date(ms).toISOString())).toBe(ms);
        expect(parseTimeParam(String(ms))).toBe(ms);
      }),
    );
  });
});

describe('parseBearer and the token table', () => {
  it('takes the token of a Bearer header only', () => {
    expect(parseBearer('Bearer abc.DEF-123_~+/=')).toBe('abc.DEF-123_~+/=');
    expect(parseBearer('bearer  tok')).toBe('tok');
    for (const h of [
      undefined,
      '',
      'Bearer',
      'Basic abc',
      'Bearer a b',
      'Bearer ' + 'x'.repeat(MAX_TOKEN_LENGTH + 20),
    ])
      expect(parseBearer(h), String(h)).toBeUndefined();
  });

  it('never throws on arbitrary headers (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 700 }), (h) => {
        const t = parseBearer(h);
        if (t !== undefined) expect(t.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
      }),
    );
  });

  it('authenticates known tokens only and refuses short tokens at configuration', () => {
    const auth = createTokenAuth([
      { token: 'a-long-enough-token-1', user: 'u', role: 'analyst', defaultPurpose: 'monitoring' },
    ]);
    expect(auth.authenticate('a-long-enough-token-1')).toEqual({
      user: 'u',
      role: 'analyst',
      defaultPurpose: 'monitoring',
    });
    expect(auth.authenticate('a-long-enough-token-2')).toBeUndefined();
    expect(() =>
      createTokenAuth([{ token: 'short', user: 'u', role: 'analyst', defaultPurpose: 'monitoring' }]),
    ).toThrow(AcdError);
  });

  it('takes the demo token from ACD_DEMO_TOKEN or generates one', () => {
    expect(demoTokenEntry({ ACD_DEMO_TOKEN: 'demo-token-for-scripts' })).toEqual({
      entry: {
        token: 'demo-token-for-scripts',
        user: 'demo-analyst',
        role: 'analyst',
        defaultPurpose: 'monitoring',
      },
      generated: false,
    });
    const g = demoTokenEntry({});
    expect(g.generated).toBe(true);
    expect(g.entry.token.length).toBeGreaterThanOrEqual(40);
    expect(() => demoTokenEntry({ ACD_DEMO_TOKEN: 'short' })).toThrow(AcdError);
  });
});

describe('event hub', () => {
  it('numbers events, keeps the last ringSize retained ones, and skips unretained ones in catch-up', () => {
    const hub = createEventHub(3);
    const seen: number[] = [];
    const off = hub.subscribe((e) => seen.push(e.seq));
    for (let i = 1; i <= 5; i++) hub.publish('alert', { i });
    hub.publish('stats', { x: 1 }, { retain: false });
    expect(hub.lastSeq).toBe(6);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(hub.since(0).map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(hub.since(4).map((e) => e.seq)).toEqual([5]);
    expect(hub.since(6)).toEqual([]);
    off();
    hub.publish('incident', {});
    expect(seen).toHaveLength(6);
    expect(hub.listeners).toBe(0);
  });

  it('formats events as single-line data', () => {
    const hub = createEventHub(4);
    hub.publish('alert', { summary: 'two\nlines' });
    const [e] = hub.since(0);
    expect(e && formatEvent(e)).toBe('id: 1\nevent: alert\ndata: {"summary":"two\\nlines"}\n\n');
  });

  it('catch-up is always the retained suffix after the id (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.boolean(), { maxLength: 80 }),
        fc.nat(100),
        (size, retains, after) => {
          const hub = createEventHub(size);
          const retained: number[] = [];
          for (const r of retains) {
            const s = hub.publish('alert', null, { retain: r });
            if (r) retained.push(s);
          }
          expect(hub.since(after).map((e) => e.seq)).toEqual(retained.slice(-size).filter((s) => s > after));
        },
      ),
    );
  });

  it('parses Last-Event-ID as a decimal sequence number only (property)', () => {
    expect(parseLastEventId('42')).toBe(42);
    expect(parseLastEventId(' 7 ')).toBe(7);
    for (const v of [undefined, '', 'abc', '-1', '1.5', '99999999999999999999'])
      expect(parseLastEventId(v), v).toBeUndefined();
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const n = parseLastEventId(s);
        if (n !== undefined) expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
      }),
    );
  });
});

describe('problem details', () => {
  it('maps codes to statuses, including other components’ codes by convention', () => {
    expect(STATUS_BY_CODE.ERR_INCIDENT_TRANSITION).toBe(409);
    expect(statusOfCode('ERR_STORE_BAD_CURSOR')).toBe(400);
    expect(statusOfCode('ERR_CASE_NOT_FOUND')).toBe(404);
    expect(statusOfCode('ERR_APPROVAL_TRANSITION')).toBe(409);
    expect(statusOfCode('ERR_STORE_QUERY')).toBe(500);
  });

  it('hides the message of internal errors', () => {
    expect(toProblem(new Error('db password wrong'), '/api/x')).toEqual({
      type: 'urn:acd:problem:ERR_INTERNAL',
      title: 'Internal Server Error',
      status: 500,
      detail: 'internal error',
      code: 'ERR_INTERNAL',
      instance: '/api/x',
    });
    expect(toProblem(new AcdError('ERR_STORE_QUERY', 'SELECT * FROM secret'), '/').detail).toBe(
      'internal error',
    );
  });
});
