import { beforeAll, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../common/schema/record.ts';
import { mixedRecords } from '../flow-testing.ts';
import { flowRecord, runDetection, testWorld, truthOf } from '../testing.ts';
import { resolveDetectConfig } from '../config.ts';
import { createBeaconDetector } from './detector.ts';
import type { Evidence } from '../../common/schema/evidence.ts';
import { ManualClock } from '../../common/clock.ts';
import { DetectionEngine } from '../engine/engine.ts';
import type { DecodedRecord } from '../../common/schema/record.ts';

const T0 = Date.parse('2026-05-11T09:00:00.000Z');
const ONLY = { scan: { enabled: false }, ddos: { enabled: false }, bruteForce: { enabled: false } };

beforeAll(async () => {
  await testWorld();
}, 120_000);

/** Runs decoded records (flows and DNS) through an engine with only the beacon detector. */
function runBeacon(records: readonly DecodedRecord[], over: Parameters<typeof resolveDetectConfig>[0] = {}) {
  const evidence: Evidence[] = [];
  const cfg = resolveDetectConfig(over);
  const engine = new DetectionEngine(
    cfg.engine,
    [createBeaconDetector(cfg.beacon, (e) => evidence.push(e))],
    {
      clock: new ManualClock(0),
    },
  );
  for (const r of records) engine.pushRecord(r);
  engine.flush();
  return { evidence, stats: engine.stats().detectors.beacon! };
}

/** A client-side TCP connection record (SYN|ACK|PSH|FIN, ephemeral source port). */
function conn(src: string, dst: string, port: number, t: number, bytes: number): FlowRecord {
  return flowRecord({
    sourceIPv4Address: src,
    destinationIPv4Address: dst,
    sourceTransportPort: 40000 + (Math.floor(t / 1000) % 20000),
    destinationTransportPort: port,
    protocolIdentifier: 6,
    tcpControlBits: 27,
    packetDeltaCount: 8,
    octetDeltaCount: bytes,
    flowStartMilliseconds: t,
    flowEndMilliseconds: t + 400,
  });
}

describe('beacon detector', () => {
  it.each([
    ['https, ±30 % jitter', { jitter: 0.3 }],
    ['odd port, ±20 % jitter', { transport: 'odd-port', jitter: 0.2 }],
  ])(
    'finds the c2-beacon host (%s) within 20 periods among background traffic and its keep-alives',
    async (_name, extra) => {
      const { records, truth } = await mixedRecords({
        scenario: 'c2-beacon',
        extra,
        start: T0,
        durationMs: 3600_000,
        density: 20,
      });
      const { evidence } = runBeacon(records, ONLY);
      const { attackers, victims } = truthOf(truth, 'beacon');
      const hits = evidence.filter((e) => victims.has(e.subject));
      expect(hits.length).toBeGreaterThan(0);
      expect(attackers.has(hits[0]!.counterpart!)).toBe(true);
      expect(hits[0]!.severity).toBe('medium');
      const line = truth.find((l) => l.kind === 'c2')!;
      expect(hits[0]!.window.end - Date.parse(line.start)).toBeLessThanOrEqual(20 * 60_000);
      // Nothing else: the generator's periodic keep-alives (sizes vary) give no evidence.
      for (const e of evidence) expect(victims.has(e.subject) || attackers.has(e.subject)).toBe(true);
    },
    120_000,
  );

  it('finds a DNS-transport beacon (unique names under one domain) with the domain as counterpart', async () => {
    const { records, truth } = await mixedRecords({
      scenario: 'c2-beacon',
      extra: { transport: 'dns', period: '30s' },
      start: T0,
      durationMs: 1800_000,
      density: 5,
    });
    const { evidence } = runBeacon(records, ONLY);
    const { victims } = truthOf(truth, 'beacon');
    const dns = evidence.filter((e) => e.facts.transport === 'dns-query');
    expect(dns).toHaveLength(1);
    expect(victims.has(dns[0]!.subject)).toBe(true);
    expect(dns[0]!.counterpart).toMatch(/^[a-z]+-[a-z]+\d+\.[a-z]+$/);
  }, 120_000);

  it('does not flag periodic keep-alives whose sizes vary, nor irregular repeat visits', () => {
    const recs: FlowRecord[] = [];
    let x = 12345;
    const rnd = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let k = 0; k < 60; k++) {
      const n = 1 + Math.floor(rnd() * 3);
      recs.push(
        conn('198.51.100.20', '192.0.2.50', 5223, T0 + k * 60_000 + rnd() * 6000, n * (60 + rnd() * 190)),
      );
      recs.push(conn('198.51.100.21', '192.0.2.51', 443, T0 + rnd() * 3600_000, 1200));
    }
    recs.sort((a, b) => Number(a.fields.flowEndMilliseconds) - Number(b.fields.flowEndMilliseconds));
    expect(runBeacon(recs).evidence).toEqual([]);
  });

  it('counts a connection once (server-side records and mid-flow exports are ignored) and reports once per window', () => {
    const recs: FlowRecord[] = [];
    for (let k = 0; k < 150; k++) {
      const t = T0 + k * 60_000 + (k % 3) * 1500;
      recs.push(conn('198.51.100.30', '192.0.2.60', 443, t, 1180 + (k % 5) * 10));
      // The server's side of the same connection.
      recs.push(
        flowRecord({
          sourceIPv4Address: '192.0.2.60',
          destinationIPv4Address: '198.51.100.30',
          sourceTransportPort: 443,
          destinationTransportPort: 40000 + (Math.floor(t / 1000) % 20000),
          protocolIdentifier: 6,
          tcpControlBits: 27,
          packetDeltaCount: 8,
          octetDeltaCount: 4000 + (k % 7) * 300,
          flowStartMilliseconds: t + 50,
          flowEndMilliseconds: t + 400,
        }),
      );
    }
    recs.sort((a, b) => Number(a.fields.flowEndMilliseconds) - Number(b.fields.flowEndMilliseconds));
    const { evidence } = runBeacon(recs);
    // 150 minutes span three report windows (09:00, 10:00, 11:00): one evidence each.
    expect(evidence).toHaveLength(3);
    expect(evidence[0]).toMatchObject({
      subject: '198.51.100.30',
      counterpart: '192.0.2.60',
      severity: 'medium',
    });
    expect(evidence[0]!.facts.periodMs).toBeGreaterThan(55_000);
    expect(evidence[0]!.facts.periodMs).toBeLessThan(65_000);
    // Later windows are persistent across hours: high.
    expect(evidence[2]!.severity).toBe('high');
  });

  it('stays within its memory budget under pair churn (LRU eviction)', () => {
    const recs: FlowRecord[] = [];
    for (let k = 0; k < 20_000; k++) {
      const t = T0 + k * 50;
      // Every pair is seen three times (admitted), so the ring table fills and evicts.
      const dst = `192.0.${(k >> 8) & 255}.${k & 255}`;
      for (const d of [0, 5000, 10_000]) recs.push(conn('198.51.100.40', dst, 443, t + d, 500));
    }
    recs.sort((a, b) => Number(a.fields.flowEndMilliseconds) - Number(b.fields.flowEndMilliseconds));
    const { stats } = runBeacon(recs, { beacon: { stateBudgetBytes: 256 * 1024 } });
    expect(stats.bytesReserved).toBeLessThanOrEqual(stats.budgetBytes);
    expect(stats.evictions).toBeGreaterThan(0);
  });

  it('runs with the other detectors through the registry', () => {
    const recs: FlowRecord[] = [];
    for (let k = 0; k < 20; k++) recs.push(conn('198.51.100.50', '192.0.2.70', 8443, T0 + k * 30_000, 900));
    const { evidence } = runDetection(recs);
    expect(evidence.filter((e) => e.detector === 'beacon')).toHaveLength(1);
  });
});
