import { beforeAll, describe, expect, it } from 'vitest';
import type { DecodedRecord } from '../../common/schema/record.ts';
import {
  backgroundRecords,
  dnsEvent,
  mergeByTime,
  runRecords,
  scenarioRecords,
  SCENARIO_START,
} from '../dns-testing.ts';
import { testWorld, truthOf } from '../testing.ts';
import { charEntropy } from './detector.ts';

const ONLY_DNS = {
  scan: { enabled: false },
  ddos: { enabled: false },
  bruteForce: { enabled: false },
  beacon: { enabled: false },
  longConnection: { enabled: false },
  exfiltration: { enabled: false },
} as const;

beforeAll(async () => {
  await testWorld();
}, 120_000);

function query(client: string, name: string, t: number, qtype = 1, rcode = 0): DecodedRecord {
  return dnsEvent({
    sourceIPv4Address: client,
    destinationIPv4Address: '192.0.2.53',
    eventTime: t,
    dnsQueryName: name,
    dnsQueryType: qtype,
    dnsResponseCode: rcode,
    dnsAnswers: [],
  });
}

describe('dns-tunnel detector', () => {
  it('measures character entropy without the dots', () => {
    expect(charEntropy('aaaa')).toBe(0);
    expect(charEntropy('ab.ab')).toBe(1);
    expect(charEntropy('abcdefghijklmnop')).toBe(4);
  });

  it('finds the client of the dns-tunnel scenario through its provider\u2019s resolver (DNS events)', async () => {
    const { records, truth } = await scenarioRecords('dns-tunnel', { extra: { via: 'operator-resolver' } });
    const { evidence } = runRecords(records, ONLY_DNS);
    const t = evidence.filter((e) => e.detector === 'dns-tunnel');
    const { victims } = truthOf(truth, 'dns-tunnel');
    expect(t.length).toBeGreaterThanOrEqual(10);
    for (const e of t) {
      expect(victims.has(e.subject)).toBe(true);
      expect(e.severity).toBe('high'); // TXT-heavy
      expect(e.facts).toMatchObject({ via: 'dns', type: 'encoded-names' });
      expect(Number(e.facts.uniqueSubdomains)).toBeGreaterThanOrEqual(30);
      expect(Number(e.facts.txtBytes)).toBeGreaterThan(0);
    }
    expect(new Set(t.map((e) => e.facts.domain)).size).toBe(1);
    expect(evidence.filter((e) => e.detector !== 'dns-tunnel')).toEqual([]);
  }, 60_000);

  it('finds the client through a foreign resolver from the volume of large queries (flows)', async () => {
    const { records, truth } = await scenarioRecords('dns-tunnel', { extra: { via: 'foreign-resolver' } });
    const { evidence } = runRecords(records, ONLY_DNS);
    const t = evidence.filter((e) => e.detector === 'dns-tunnel');
    const { victims } = truthOf(truth, 'dns-tunnel');
    expect(t.length).toBeGreaterThanOrEqual(20);
    for (const e of t) {
      expect(victims.has(e.subject)).toBe(true);
      expect(['medium', 'high']).toContain(e.severity);
      expect(e.facts.via).toBe('flows');
      expect(Number(e.facts.meanQueryBytes)).toBeGreaterThanOrEqual(130);
    }
    // Sustained: high from the third flagged window.
    expect(t.some((e) => e.severity === 'high')).toBe(true);
    expect(evidence.filter((e) => e.detector !== 'dns-tunnel')).toEqual([]);
  }, 60_000);

  it('does not confuse a DGA client with a tunnel', async () => {
    const { records } = await scenarioRecords('dga', { extra: { via: 'operator-resolver' } });
    expect(runRecords(records, ONLY_DNS).evidence.filter((e) => e.detector === 'dns-tunnel')).toEqual([]);
  }, 60_000);

  it('gives no evidence on the background (DNS events and resolver flows)', async () => {
    const dns = await backgroundRecords('dns', 60, 15 * 60_000, 13);
    const flows = await backgroundRecords('flow', 60, 15 * 60_000, 14);
    const { evidence } = runRecords(mergeByTime(dns, flows), ONLY_DNS);
    expect(evidence.filter((e) => e.detector === 'dns-tunnel')).toEqual([]);
  }, 120_000);

  it('does not flag many short, plain subdomains of one service (image shards, CDN nodes)', () => {
    const recs: DecodedRecord[] = [];
    for (let k = 0; k < 200; k++)
      recs.push(query('198.51.100.30', `img${k}.static.example.com`, SCENARIO_START + k * 200));
    expect(runRecords(recs, ONLY_DNS).evidence).toEqual([]);
  });

  it('reports random-subdomain NXDOMAIN bursts as low; flush closes the window; budget respected', () => {
    const recs: DecodedRecord[] = [];
    for (let k = 0; k < 60; k++)
      recs.push(
        query(
          '198.51.100.31',
          `x${(k * 7919).toString(36)}.victim-zone.example`,
          SCENARIO_START + k * 100,
          1,
          3,
        ),
      );
    const budget = 512 * 1024;
    const { evidence, engine } = runRecords(recs, { ...ONLY_DNS, dnsTunnel: { stateBudgetBytes: budget } });
    expect(evidence).toHaveLength(1);
    expect(evidence[0]).toMatchObject({
      detector: 'dns-tunnel',
      subject: '198.51.100.31',
      counterpart: '192.0.2.53',
      severity: 'low',
    });
    expect(evidence[0]!.facts).toMatchObject({ type: 'random-subdomains', domain: 'victim-zone.example' });
    const st = engine.stats().detectors['dns-tunnel']!;
    expect(st.bytesReserved).toBeLessThanOrEqual(budget);
    expect(st.keys).toBe(1);
  });
});
