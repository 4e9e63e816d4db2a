import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../simulate/country/index.ts';
import { dgaName } from '../../simulate/scenarios/dns.ts';
import { POPULAR_DOMAINS } from '../../simulate/traffic/domains.ts';
import type { DecodedRecord } from '../../common/schema/record.ts';
import {
  backgroundRecords,
  dnsEvent,
  mergeByTime,
  runRecords,
  scenarioRecords,
  SCENARIO_START,
} from '../dns-testing.ts';
import { flowRecord, testWorld, truthOf } from '../testing.ts';
import { defaultDgaModel, registrableLabel, splitName } from './model.ts';

/** Only the DNS detectors (the flow detectors are tested elsewhere). */
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

function response(client: string, name: string, t: number, rcode: number, answer?: string): DecodedRecord {
  return dnsEvent({
    sourceIPv4Address: client,
    destinationIPv4Address: '192.0.2.53',
    eventTime: t,
    dnsQueryName: name,
    dnsQueryType: 1,
    dnsResponseCode: rcode,
    dnsAnswers: answer ? [{ name, type: 1, ttl: 300, data: answer }] : [],
  });
}

describe('dga character model', () => {
  const model = defaultDgaModel();

  it('is trained on thousands of real registrable labels', () => {
    expect(model.trainedLabels).toBeGreaterThan(5000);
  });

  it('scores generated DGA names high and popular domains low', () => {
    const rng = new Rng(3);
    const dga = Array.from({ length: 400 }, () => model.score(registrableLabel(dgaName(rng))!, 7));
    expect(dga.filter((s) => s >= 0.7).length / dga.length).toBeGreaterThan(0.75);
    const popular = POPULAR_DOMAINS.map((d) => model.score(registrableLabel(d.name)!, 7));
    expect(Math.max(...popular)).toBeLessThan(0.7);
    for (const n of ['cloudfront', 'akamaiedge', 'googleusercontent', 'wikipedia', 'rakuten'])
      expect(model.score(n, 7)).toBeLessThan(0.5);
    expect(model.score('qxkzvbtrplmnwj', 7)).toBeGreaterThan(0.9);
    expect(model.score('abc', 7)).toBe(0);
  });

  it('splits names at the registrable domain (public suffix list)', () => {
    expect(splitName('a.b.example.co.uk')).toEqual({ domain: 'example.co.uk', label: 'example', sub: 'a.b' });
    expect(splitName('printer.lan')).toEqual({ domain: 'printer.lan', label: 'printer', sub: '' });
    expect(splitName('localhost')).toBeUndefined();
  });
});

describe('dga detector', () => {
  it('finds the client of the dga scenario through its provider\u2019s resolver (DNS events)', async () => {
    const { records, truth } = await scenarioRecords('dga', { extra: { via: 'operator-resolver' } });
    const { evidence } = runRecords(records, ONLY_DNS);
    const dga = evidence.filter((e) => e.detector === 'dga');
    const { attackers, victims } = truthOf(truth, 'dga');
    expect(dga.length).toBeGreaterThanOrEqual(5);
    for (const e of dga) {
      expect(victims.has(e.subject)).toBe(true);
      expect(['medium', 'high']).toContain(e.severity);
      expect(e.facts.via).toBe('dns');
      expect(Number(e.facts.nxdomain)).toBeGreaterThanOrEqual(10);
    }
    // A DGA name that resolved names the C2: high severity, C2 as counterpart.
    const high = dga.filter((e) => e.severity === 'high');
    expect(high.length).toBeGreaterThan(0);
    for (const e of high) expect(attackers.has(e.counterpart!)).toBe(true);
    expect(dga[0]!.recordIds.length).toBeGreaterThan(0);
    expect(evidence.filter((e) => e.detector !== 'dga')).toEqual([]);
  }, 60_000);

  it('finds the client through a foreign resolver from UDP/53 bursts alone (flows)', async () => {
    const { records, truth } = await scenarioRecords('dga', { extra: { via: 'foreign-resolver' } });
    const { evidence } = runRecords(records, ONLY_DNS);
    const dga = evidence.filter((e) => e.detector === 'dga');
    const { victims } = truthOf(truth, 'dga');
    expect(dga.length).toBeGreaterThanOrEqual(4);
    for (const e of dga) {
      expect(victims.has(e.subject)).toBe(true);
      expect(e.facts.via).toBe('flows');
    }
    // Repeated bursts are behaviour, not chance: medium from the third burst on.
    expect(dga.some((e) => e.severity === 'medium')).toBe(true);
    expect(evidence.filter((e) => e.detector !== 'dga')).toEqual([]);
  }, 60_000);

  it('gives no medium+ evidence on the background (DNS events with NXDOMAIN, CDNs; resolver flows)', async () => {
    const dns = await backgroundRecords('dns', 60, 15 * 60_000, 11, 0.08);
    const flows = await backgroundRecords('flow', 60, 15 * 60_000, 12);
    const { evidence } = runRecords(mergeByTime(dns, flows), ONLY_DNS);
    expect(evidence.filter((e) => e.detector === 'dga' && e.severity !== 'low')).toEqual([]);
  }, 120_000);

  it('does not flag a client with typos, leaked local names and CDN look-ups', () => {
    const recs: DecodedRecord[] = [];
    const names = ['gogle.com', 'wpad.local', 'www.yahoo.co.jp.home', 'nflxvideo.net', 'tiktokcdn.com'];
    for (let k = 0; k < 40; k++)
      recs.push(
        response('198.51.100.20', names[k % names.length]!, SCENARIO_START + k * 500, k % 2 === 0 ? 3 : 0),
      );
    expect(runRecords(recs, ONLY_DNS).evidence).toEqual([]);
  });

  it('leaves a UDP/53 query stream whose names are visible to the name-based decision (an iodine-like tunnel)', () => {
    // A tunnel client: 40 query packets in 5 s to its server, each a distinct name under one
    // registrable domain. The flows alone look like a burst to an invisible resolver (low
    // evidence); with the names visible, one registrable domain is no DGA (dns-tunnel's case).
    const client = '198.51.100.30';
    const server = '203.0.113.53';
    const flows: DecodedRecord[] = [];
    const names: DecodedRecord[] = [];
    for (let k = 0; k < 40; k++) {
      const t = SCENARIO_START + k * 125;
      flows.push(
        flowRecord({
          sourceIPv4Address: client,
          destinationIPv4Address: server,
          sourceTransportPort: 40_000 + k,
          destinationTransportPort: 53,
          protocolIdentifier: 17,
          packetDeltaCount: 1,
          octetDeltaCount: 180,
          flowStartMilliseconds: t,
          flowEndMilliseconds: t,
        }),
      );
      names.push(
        dnsEvent({
          sourceIPv4Address: client,
          destinationIPv4Address: server,
          eventTime: t,
          dnsQueryName: `0${'abcdefghij'.repeat(5)}${k}.tun.example.net`,
          dnsQueryType: 10,
          dnsResponseCode: 0,
          dnsAnswers: [],
        }),
      );
    }
    const flowsOnly = runRecords(flows, ONLY_DNS).evidence.filter((e) => e.detector === 'dga');
    expect(flowsOnly).toHaveLength(1);
    expect(flowsOnly[0]).toMatchObject({ subject: client, severity: 'low', facts: { via: 'flows' } });
    // Names before the flows (a meter) and after them (dnstap lagging behind the exporter).
    for (const recs of [mergeByTime(names, flows), [...flows, ...names]])
      expect(runRecords(recs, ONLY_DNS).evidence.filter((e) => e.detector === 'dga')).toEqual([]);
  });

  it('closes the window at flush, respects its budget and reports state', () => {
    const rng = new Rng(5);
    const recs: DecodedRecord[] = [];
    for (let k = 0; k < 30; k++)
      recs.push(
        k === 29
          ? response('198.51.100.21', 'qxkzvbtrplmnwj.com', SCENARIO_START + k * 100, 0, '203.0.113.9')
          : response('198.51.100.21', dgaName(rng), SCENARIO_START + k * 100, 3),
      );
    const budget = 256 * 1024;
    const { evidence, engine } = runRecords(recs, { ...ONLY_DNS, dga: { stateBudgetBytes: budget } });
    expect(evidence).toHaveLength(1);
    expect(evidence[0]).toMatchObject({
      subject: '198.51.100.21',
      severity: 'high',
      counterpart: '203.0.113.9',
    });
    const st = engine.stats().detectors.dga!;
    expect(st.bytesReserved).toBeLessThanOrEqual(budget);
    expect(st.keys).toBe(1);
    expect(st.records).toBe(30);
  });
});
