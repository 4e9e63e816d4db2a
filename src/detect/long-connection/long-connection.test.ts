import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.ts';
import type { Evidence } from '../../common/schema/evidence.ts';
import type { DecodedRecord, FlowRecord } from '../../common/schema/record.ts';
import { resolveDetectConfig, type DetectConfigInput } from '../config.ts';
import { DetectionEngine } from '../engine/engine.ts';
import { mixedRecords } from '../flow-testing.ts';
import { flowRecord, testWorld, truthOf } from '../testing.ts';
import { createLongConnectionDetector } from './detector.ts';

const T0 = Date.parse('2026-05-11T09:00:00.000Z');

beforeAll(async () => {
  await testWorld();
}, 120_000);

function run(records: readonly DecodedRecord[], over: DetectConfigInput = {}) {
  const evidence: Evidence[] = [];
  const cfg = resolveDetectConfig(over);
  const d = createLongConnectionDetector(cfg.longConnection, (e) => evidence.push(e));
  const engine = new DetectionEngine(cfg.engine, [d], { clock: new ManualClock(0) });
  for (const r of records) engine.pushRecord(r);
  engine.flush();
  return { evidence, stats: d.stats() };
}

/**
 * A connection exported every 60 s in both directions for `minutes`, `bps` bytes/s each way,
 * client `host`:`cport` to `peer`:`port`.
 */
function connection(
  host: string,
  peer: string,
  port: number,
  minutes: number,
  bps: number,
  cport = 50000,
  proto = 6,
): FlowRecord[] {
  const out: FlowRecord[] = [];
  for (let m = 0; m < minutes; m++) {
    const from = T0 + m * 60_000;
    const flags = m === 0 ? 0x1a : 0x18;
    for (const [s, d, sp, dp] of [
      [host, peer, cport, port],
      [peer, host, port, cport],
    ] as const)
      out.push(
        flowRecord({
          sourceIPv4Address: s,
          destinationIPv4Address: d,
          sourceTransportPort: sp,
          destinationTransportPort: dp,
          protocolIdentifier: proto,
          tcpControlBits: flags,
          packetDeltaCount: 10,
          octetDeltaCount: bps * 60 * (0.9 + ((m * 7) % 5) * 0.05),
          flowStartMilliseconds: from,
          flowEndMilliseconds: from + 59_999,
        }),
      );
  }
  return out;
}

describe('long-connection detector', () => {
  it('finds the long-connection scenario: the domestic end as subject, the foreign end as counterpart', async () => {
    const { records, truth } = await mixedRecords({
      scenario: 'long-connection',
      start: T0,
      durationMs: 2 * 3600_000,
      density: 5,
    });
    const { evidence } = run(records);
    const { attackers, victims } = truthOf(truth, 'long-connection');
    const medium = evidence.filter((e) => e.severity !== 'low');
    expect(medium).toHaveLength(1);
    expect(victims.has(medium[0]!.subject)).toBe(true);
    expect(attackers.has(medium[0]!.counterpart!)).toBe(true);
    expect(medium[0]!.facts.durationMs).toBeGreaterThanOrEqual(3600_000);
    // Found once the hour is reached, not at the end.
    expect(medium[0]!.window.end - T0).toBeLessThan(3600_000 + 120_000);
  }, 120_000);

  it('flags a quiet 90-minute connection once, medium', () => {
    const { evidence } = run(connection('198.51.100.5', '192.0.2.9', 8443, 90, 300));
    expect(evidence).toHaveLength(1);
    expect(evidence[0]).toMatchObject({
      subject: '198.51.100.5',
      counterpart: '192.0.2.9',
      severity: 'medium',
    });
    expect(evidence[0]!.facts.reason).toBe('low-steady-rate');
  });

  it('judges VPN tunnels and bulk transfers benign (low), and short connections not at all', () => {
    // NAT-T 4500↔4500 from a private address (rule 2 of engine/side.ts names the internal end).
    const vpn = run(connection('10.0.0.6', '192.0.2.10', 4500, 90, 300, 4500, 17)).evidence;
    expect(vpn).toHaveLength(1);
    expect(vpn[0]).toMatchObject({ severity: 'low', subject: '10.0.0.6' });
    expect(vpn[0]!.facts.reason).toBe('tunnel-port');
    const bulk = run(connection('198.51.100.7', '192.0.2.11', 443, 90, 5e6)).evidence;
    expect(bulk.map((e) => [e.severity, e.facts.reason])).toEqual([['low', 'bulk-rate']]);
    expect(run(connection('198.51.100.8', '192.0.2.12', 443, 50, 300)).evidence).toEqual([]);
    expect(
      run(connection('198.51.100.7', '192.0.2.11', 443, 90, 5e6), { longConnection: { reportBenign: false } })
        .evidence,
    ).toEqual([]);
  });

  it('stays within its memory budget under churn', () => {
    const recs: FlowRecord[] = [];
    for (let k = 0; k < 5000; k++)
      recs.push(
        flowRecord({
          sourceIPv4Address: `198.51.${(k >> 8) & 255}.${k & 255}`,
          destinationIPv4Address: '192.0.2.1',
          sourceTransportPort: 50000,
          destinationTransportPort: 443,
          protocolIdentifier: 6,
          tcpControlBits: 0x18,
          packetDeltaCount: 10,
          octetDeltaCount: 1000,
          flowStartMilliseconds: T0 + k * 10,
          flowEndMilliseconds: T0 + k * 10 + 60_000,
        }),
      );
    const { stats } = run(recs, { longConnection: { stateBudgetBytes: 64 * 1024 } });
    expect(stats.bytesReserved).toBeLessThanOrEqual(stats.budgetBytes);
    expect(stats.evictions).toBeGreaterThan(0);
  });
});
