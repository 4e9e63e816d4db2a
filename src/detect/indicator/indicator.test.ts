import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseIndicators, type IndicatorEntry } from '../../common/indicators/index.ts';
import { parsePrefix, tryParseAddress } from '../../common/prefixes/address.ts';
import type { DecodedRecord } from '../../common/schema/record.ts';
import { dnsEvent, runRecords, scenarioRecords, SCENARIO_START } from '../dns-testing.ts';
import { parseAddressInto } from '../engine/dns.ts';
import { flowRecord, testWorld, truthOf } from '../testing.ts';
import { IndicatorMatcher } from './match.ts';

const ONLY = {
  scan: { enabled: false },
  ddos: { enabled: false },
  bruteForce: { enabled: false },
  beacon: { enabled: false },
  longConnection: { enabled: false },
  exfiltration: { enabled: false },
  dga: { enabled: false },
  dnsTunnel: { enabled: false },
} as const;

const SET = parseIndicators(
  [
    'value,type,valid_until,source,confidence',
    '198.51.100.7,ipv4,,feed-a,90',
    '203.0.113.0/24,cidr,,feed-b,40',
    '203.0.113.128/25,cidr,2026-01-01T00:00:00Z,feed-c,70',
    '2001:db8:beef::/48,cidr,,feed-b,60',
    '2001:db8::99,ipv6,,feed-a,85',
    'evil.example,domain,,feed-d,75',
  ].join('\n'),
);

const words = new Uint32Array(4);
function match(m: IndicatorMatcher, addr: string, t = SCENARIO_START): string | undefined {
  const v = parseAddressInto(addr, words, 0);
  const e = m.matchAddress(words, 0, v, t);
  return e < 0 ? undefined : m.entries[e]!.value;
}

/** The obvious linear reference: every valid entry containing the address, longest prefix wins. */
function reference(list: readonly IndicatorEntry[], addr: string, t: number): string | undefined {
  const a = tryParseAddress(addr)!;
  const v =
    a.version === 4
      ? BigInt(a.w0)
      : (BigInt(a.w0) << 96n) | (BigInt(a.w1) << 64n) | (BigInt(a.w2) << 32n) | BigInt(a.w3);
  let best: { len: number; value: string } | undefined;
  for (const e of list) {
    if (e.type === 'domain' || (e.validUntil !== undefined && Date.parse(e.validUntil) < t)) continue;
    const p =
      e.type === 'cidr' ? parsePrefix(e.value) : parsePrefix(`${e.value}/${e.type === 'ipv4' ? 32 : 128}`);
    if (p.version === a.version && p.first <= v && v <= p.last && (!best || p.length > best.len))
      best = { len: p.length, value: e.value };
  }
  return best?.value;
}

function flow(src: string, dst: string, sport: number, dport: number, t: number): DecodedRecord {
  const v6 = src.includes(':');
  return flowRecord({
    [v6 ? 'sourceIPv6Address' : 'sourceIPv4Address']: src,
    [v6 ? 'destinationIPv6Address' : 'destinationIPv4Address']: dst,
    sourceTransportPort: sport,
    destinationTransportPort: dport,
    protocolIdentifier: 6,
    tcpControlBits: 27,
    packetDeltaCount: 10,
    octetDeltaCount: 4000,
    flowStartMilliseconds: t - 500,
    flowEndMilliseconds: t,
  });
}

beforeAll(async () => {
  await testWorld();
}, 120_000);

describe('indicator matcher', () => {
  const m = new IndicatorMatcher(SET);

  it('matches exact addresses, CIDR members (longest valid prefix) and IPv6 prefixes', () => {
    expect(match(m, '198.51.100.7')).toBe('198.51.100.7');
    expect(match(m, '198.51.100.8')).toBeUndefined();
    expect(match(m, '203.0.113.5')).toBe('203.0.113.0/24');
    // The /25 has expired by the event time: the /24 still covers the address.
    expect(match(m, '203.0.113.200')).toBe('203.0.113.0/24');
    expect(match(m, '203.0.113.200', Date.parse('2025-06-01'))).toBe('203.0.113.128/25');
    expect(match(m, '2001:db8:beef:1::5')).toBe('2001:db8:beef::/48');
    expect(match(m, '2001:db8::99')).toBe('2001:db8::99');
    expect(match(m, '2001:db8::98')).toBeUndefined();
    expect(match(m, '10.0.0.1')).toBeUndefined();
  });

  it('matches a listed domain and its subdomains, not look-alikes', () => {
    const at = (n: string): number => m.matchName(n, SCENARIO_START);
    expect(at('evil.example')).toBeGreaterThanOrEqual(0);
    expect(at('a.b.evil.example')).toBeGreaterThanOrEqual(0);
    expect(at('notevil.example')).toBe(-1);
    expect(at('evil.example.com')).toBe(-1);
  });

  it('property: agrees with a linear scan of the set for any address and set', () => {
    const v4 = fc
      .tuple(fc.constantFrom(203, 198, 10), fc.nat(255), fc.nat(255), fc.nat(255))
      .map((o) => o.join('.'));
    const entry = fc.oneof(
      v4.map((a): IndicatorEntry => ({ value: a, type: 'ipv4', source: 's', confidence: 50 })),
      fc
        .tuple(v4, fc.integer({ min: 0, max: 32 }), fc.option(fc.constantFrom('2026-01-01', '2027-01-01')))
        .map(([a, len, until]): IndicatorEntry => {
          const p = tryParseAddress(a)!;
          const net = len === 0 ? 0 : (p.w0 & (~0 << (32 - len))) >>> 0;
          const text = [net >>> 24, (net >>> 16) & 255, (net >>> 8) & 255, net & 255].join('.');
          const e: IndicatorEntry = { value: `${text}/${len}`, type: 'cidr', source: 's', confidence: 50 };
          if (until) e.validUntil = until;
          return e;
        }),
    );
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 12 }),
        fc.array(v4, { minLength: 1, maxLength: 10 }),
        (list, addrs) => {
          const mm = new IndicatorMatcher(list);
          for (const a of addrs) {
            const got = match(mm, a);
            const want = reference(list, a, SCENARIO_START);
            // Several entries may tie on the same value; the prefix (value) must agree.
            if (got !== want) return false;
          }
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('indicator detector', () => {
  it('finds every host of ioc-contact, with the indicator as counterpart', async () => {
    const { records, truth, indicators } = await scenarioRecords('ioc-contact');
    const { evidence } = runRecords(records, ONLY, indicators);
    const { victims } = truthOf(truth, 'indicator');
    const values = new Set(indicators.map((e) => e.value));
    expect(evidence.length).toBeGreaterThan(0);
    for (const v of victims) expect(evidence.some((e) => e.subject === v)).toBe(true);
    for (const e of evidence) {
      expect(e.detector).toBe('indicator');
      expect(victims.has(e.subject)).toBe(true);
      expect(values.has(e.counterpart!)).toBe(true);
      expect(e.facts.source).toBe('acd-simulator');
      if (e.facts.via === 'flow') expect(e.facts.direction).toBe('outbound');
    }
    expect(evidence.some((e) => e.facts.type === 'domain' && e.facts.via === 'dns-query')).toBe(true);
    expect(evidence.some((e) => e.facts.type === 'cidr')).toBe(true);
    // One evidence per (subject, indicator, window), however many records matched.
    const keys = evidence.map((e) => `${e.subject}|${e.counterpart}|${e.window.start}`);
    expect(new Set(keys).size).toBe(keys.length);
  }, 60_000);

  it('takes severity from confidence, the subject from the unlisted end, and respects expiry', () => {
    const t = SCENARIO_START;
    const recs = [
      flow('192.0.2.10', '198.51.100.7', 50000, 443, t),
      flow('198.51.100.7', '192.0.2.10', 443, 50000, t + 10),
      flow('192.0.2.10', '198.51.100.7', 50001, 443, t + 20),
      flow('203.0.113.9', '192.0.2.11', 40000, 22, t + 30),
      flow('192.0.2.12', '203.0.113.200', 50002, 443, t + 40),
      flow('2001:db8:1::5', '2001:db8:beef:7::1', 50003, 443, t + 50),
    ];
    const { evidence } = runRecords(recs, ONLY, SET);
    const by = (s: string) => evidence.filter((e) => e.subject === s);
    expect(by('192.0.2.10')).toHaveLength(1);
    expect(by('192.0.2.10')[0]).toMatchObject({
      counterpart: '198.51.100.7',
      severity: 'high',
      confidence: 0.9,
    });
    expect(by('192.0.2.11')[0]).toMatchObject({ counterpart: '203.0.113.0/24', severity: 'low' });
    expect(by('192.0.2.11')[0]!.facts.direction).toBe('inbound');
    // The expired /25 does not match; the /24 does.
    expect(by('192.0.2.12')[0]!.counterpart).toBe('203.0.113.0/24');
    expect(by('2001:db8:1::5')[0]).toMatchObject({ counterpart: '2001:db8:beef::/48', severity: 'medium' });
    expect(evidence).toHaveLength(4);
  });

  it('matches DNS query names and answers; a new window gives new evidence', () => {
    const t = SCENARIO_START;
    const dns = (name: string, at: number, answer?: string): DecodedRecord =>
      dnsEvent({
        sourceIPv4Address: '192.0.2.20',
        destinationIPv4Address: '192.0.2.53',
        eventTime: at,
        dnsQueryName: name,
        dnsQueryType: 1,
        dnsResponseCode: 0,
        dnsAnswers: answer ? [{ name, type: 1, ttl: 60, data: answer }] : [],
      });
    const recs = [
      dns('cdn.evil.example', t),
      dns('cdn.evil.example', t + 1000),
      dns('harmless.example', t + 2000, '198.51.100.7'),
      dns('www.evil.example', t + 400_000),
    ];
    const { evidence } = runRecords(recs, ONLY, SET);
    expect(evidence.map((e) => [e.counterpart, e.facts.via])).toEqual([
      ['evil.example', 'dns-query'],
      ['198.51.100.7', 'dns-answer'],
      ['evil.example', 'dns-query'],
    ]);
  });

  it('is not created without an indicator set; respects its budget', () => {
    const recs = [flow('192.0.2.10', '198.51.100.7', 50000, 443, SCENARIO_START)];
    expect(runRecords(recs, ONLY).engine.stats().detectors.indicator).toBeUndefined();
    const budget = 128 * 1024;
    const st = runRecords(recs, { ...ONLY, indicator: { stateBudgetBytes: budget } }, SET).engine.stats()
      .detectors.indicator!;
    expect(st.bytesReserved).toBeLessThanOrEqual(budget);
    expect(st.evidence).toBe(1);
  });
});
