import { beforeAll, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../common/schema/record.ts';
import { flowRecord, runDetection, scenarioFlows, testWorld, truthOf } from '../testing.ts';
import { ContactCache, NEW_DESTINATION, NEW_PORT, REPEAT } from './detector.ts';

const T0 = Date.parse('2026-05-11T09:00:00.000Z');

beforeAll(async () => {
  await testWorld();
}, 120_000);

function syn(src: string, dst: string, dport: number, t: number, ttl = 240): FlowRecord {
  return flowRecord({
    sourceIPv4Address: src,
    destinationIPv4Address: dst,
    sourceTransportPort: 40000,
    destinationTransportPort: dport,
    protocolIdentifier: 6,
    tcpControlBits: 2,
    packetDeltaCount: 1,
    octetDeltaCount: 44,
    flowStartMilliseconds: t,
    flowEndMilliseconds: t,
    minimumTTL: ttl,
  });
}

describe('scan detector', () => {
  it.each(['scan-horizontal', 'scan-vertical', 'mirai-scan'])(
    'finds the scanner of %s',
    async (name) => {
      const { records, truth } = await scenarioFlows(name);
      const { evidence } = runDetection(records);
      const scans = evidence.filter((e) => e.detector === 'scan');
      const { attackers } = truthOf(truth, 'scan');
      expect(scans.length).toBeGreaterThan(0);
      // Every scanner found, every subject a scanner (precision on the scenario's own traffic).
      for (const a of attackers) expect(scans.some((e) => e.subject === a)).toBe(true);
      for (const e of scans) expect(attackers.has(e.subject)).toBe(true);
      for (const e of scans) expect(['medium', 'high']).toContain(e.severity);
      if (name === 'scan-vertical') expect(scans.some((e) => e.facts.type === 'vertical')).toBe(true);
      if (name === 'scan-horizontal')
        expect(scans.some((e) => e.facts.type === 'horizontal' && e.facts.port === 22)).toBe(true);
      expect(scans[0]!.recordIds.length).toBeGreaterThan(0);
    },
    60_000,
  );

  it('down-ranks a research scanner from a published range to low severity (not dropped)', () => {
    const recs: FlowRecord[] = [];
    for (let i = 0; i < 200; i++)
      recs.push(syn('162.142.125.33', `198.51.${i >> 8}.${i & 255}`, 443, T0 + i * 100));
    const { evidence } = runDetection(recs);
    expect(evidence).toHaveLength(1);
    expect(evidence[0]).toMatchObject({ detector: 'scan', subject: '162.142.125.33', severity: 'low' });
    expect(evidence[0]!.facts.researchScanner).toBe('censys');
  });

  it('groups scanners with the same port, initial TTL and hour into one campaign', () => {
    const recs: FlowRecord[] = [];
    for (let i = 0; i < 300; i++)
      for (const src of ['203.0.113.1', '203.0.113.2', '203.0.113.3'])
        recs.push(syn(src, `198.51.${i >> 8}.${i & 255}`, 23, T0 + i * 100, 50));
    const { evidence } = runDetection(recs);
    expect(new Set(evidence.map((e) => e.facts.campaignId)).size).toBe(1);
    expect(Math.max(...evidence.map((e) => Number(e.facts.campaignSources)))).toBe(3);
  });

  it('does not flag clients whose connections succeed, nor a few failures', () => {
    const recs: FlowRecord[] = [];
    for (let c = 0; c < 50; c++)
      for (let k = 0; k < 20; k++) {
        const t = T0 + c * 1000 + k * 3000;
        recs.push(
          flowRecord({
            sourceIPv4Address: `10.0.${c}.1`,
            destinationIPv4Address: `192.0.2.${k}`,
            sourceTransportPort: 50000 + k,
            destinationTransportPort: 443,
            protocolIdentifier: 6,
            tcpControlBits: 27,
            packetDeltaCount: 12,
            octetDeltaCount: 5000,
            flowStartMilliseconds: t,
            flowEndMilliseconds: t + 500,
          }),
        );
        if (k < 3) recs.push(syn(`10.0.${c}.1`, `192.0.2.${100 + k}`, 8080, t + 1));
      }
    recs.sort((a, b) => Number(a.fields.flowEndMilliseconds) - Number(b.fields.flowEndMilliseconds));
    expect(runDetection(recs).evidence).toEqual([]);
  });

  it('finds a slow scan that never fills one window (the walk carries its failures across windows)', () => {
    const recs: FlowRecord[] = [];
    // Three probes a minute for 12 minutes to distinct hosts, none answered: no 60-s window
    // reaches the 8-failure floor, but the walk crosses the scanner threshold.
    for (let i = 0; i < 36; i++) recs.push(syn('203.0.113.7', `198.51.100.${i + 1}`, 22, T0 + i * 20_000));
    const { evidence } = runDetection(recs);
    expect(evidence.length).toBeGreaterThan(0);
    expect(evidence.every((e) => e.subject === '203.0.113.7' && e.facts.randomWalk === 'scanner')).toBe(true);
    expect(Number(evidence[0]!.facts.walkFailedContacts)).toBeGreaterThanOrEqual(8);
  });

  it('does not flag a host with occasional failures among its successes, however long it runs', () => {
    const recs: FlowRecord[] = [];
    // A failed contact every minute for an hour, each between successful connections.
    for (let k = 0; k < 60; k++) {
      const t = T0 + k * 60_000;
      for (let j = 0; j < 3; j++)
        recs.push(
          flowRecord({
            sourceIPv4Address: '10.9.0.1',
            destinationIPv4Address: `192.0.2.${(k * 3 + j) % 250}`,
            sourceTransportPort: 50000 + j,
            destinationTransportPort: 443,
            protocolIdentifier: 6,
            tcpControlBits: 27,
            packetDeltaCount: 12,
            octetDeltaCount: 5000,
            flowStartMilliseconds: t + j * 1000,
            flowEndMilliseconds: t + j * 1000 + 500,
          }),
        );
      recs.push(syn('10.9.0.1', `198.51.100.${k + 1}`, 8443, t + 5000));
    }
    expect(runDetection(recs).evidence).toEqual([]);
  });

  it('keys IPv6 scanners by /64', () => {
    const recs: FlowRecord[] = [];
    for (let i = 0; i < 100; i++)
      recs.push(
        flowRecord({
          sourceIPv6Address: `2001:db8:1:2::${(i % 7) + 1}`,
          destinationIPv6Address: `2001:db8:ff::${i + 1}`,
          sourceTransportPort: 40000,
          destinationTransportPort: 22,
          protocolIdentifier: 6,
          tcpControlBits: 2,
          packetDeltaCount: 1,
          octetDeltaCount: 64,
          flowStartMilliseconds: T0 + i * 100,
          flowEndMilliseconds: T0 + i * 100,
        }),
      );
    const { evidence } = runDetection(recs);
    expect(evidence.map((e) => e.subject)).toEqual(['2001:db8:1:2::/64']);
  });
});

describe('scan first-contact cache', () => {
  it('tells repeats, new ports of a known destination and new destinations apart', () => {
    const c = new ContactCache(1024);
    expect(c.contact(7, 99, 22)).toBe(NEW_DESTINATION);
    expect(c.contact(7, 99, 22)).toBe(REPEAT);
    expect(c.contact(7, 99, 23)).toBe(NEW_PORT);
    // Another pair in the same set (same set hash, another tag) is a new destination.
    expect(c.contact(7, 1234, 22)).toBe(NEW_DESTINATION);
  });

  it('keeps the newest eight triples of a set and forgets the oldest', () => {
    const c = new ContactCache(1024);
    for (let port = 1; port <= 9; port++) c.contact(5, 77, port);
    expect(c.contact(5, 77, 9)).toBe(REPEAT);
    expect(c.contact(5, 77, 2)).toBe(REPEAT);
    // Port 1 was pushed out, but the pair is still known through its other triples.
    expect(c.contact(5, 77, 1)).toBe(NEW_PORT);
  });

  it('gives a source state only at its second failed first contact of a window (admission)', () => {
    // One failed contact per minute for ten minutes: never two in a window, never any state.
    const sparse: FlowRecord[] = [];
    for (let k = 0; k < 10; k++)
      sparse.push(syn('203.0.113.9', `198.51.100.${k + 1}`, 22, T0 + k * 60_000 + 30_000));
    expect(runDetection(sparse).engine.stats().detectors.scan!.keys).toBe(0);
    // Two in one window: state, counting both.
    const pair = [
      syn('203.0.113.9', '198.51.100.1', 22, T0 + 1000),
      syn('203.0.113.9', '198.51.100.2', 22, T0 + 2000),
    ];
    expect(runDetection(pair).engine.stats().detectors.scan!.keys).toBe(1);
    const single = runDetection(pair, { scan: { admitFailures: 1 } });
    expect(single.engine.stats().detectors.scan!.keys).toBe(1);
    expect(
      runDetection(pair.slice(0, 1), { scan: { admitFailures: 1 } }).engine.stats().detectors.scan!.keys,
    ).toBe(1);
  });
});
