import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.ts';
import type { Evidence } from '../../common/schema/evidence.ts';
import type { DecodedRecord, FlowRecord } from '../../common/schema/record.ts';
import { resolveDetectConfig, type DetectConfigInput } from '../config.ts';
import { DetectionEngine } from '../engine/engine.ts';
import { mixedRecords } from '../flow-testing.ts';
import { flowRecord, testWorld, truthOf } from '../testing.ts';
import { createExfiltrationDetector } from './detector.ts';

const T0 = Date.parse('2026-05-11T09:00:00.000Z');

beforeAll(async () => {
  await testWorld();
}, 120_000);

function run(records: readonly DecodedRecord[], over: DetectConfigInput = {}) {
  const evidence: Evidence[] = [];
  const cfg = resolveDetectConfig(over);
  const d = createExfiltrationDetector(cfg.exfiltration, (e) => evidence.push(e));
  const engine = new DetectionEngine(cfg.engine, [d], { clock: new ManualClock(0) });
  for (const r of records) engine.pushRecord(r);
  engine.flush();
  return { evidence, stats: d.stats() };
}

/** `minutes` one-minute upload records of `bytesPerMinute` from host to peer (and small ACK records back). */
function upload(
  host: string,
  peer: string,
  from: number,
  minutes: number,
  bytesPerMinute: number,
  asn = 0,
): FlowRecord[] {
  const out: FlowRecord[] = [];
  for (let m = 0; m < minutes; m++) {
    const t = from + m * 60_000;
    out.push(
      flowRecord({
        sourceIPv4Address: host,
        destinationIPv4Address: peer,
        sourceTransportPort: 51000,
        destinationTransportPort: 443,
        protocolIdentifier: 6,
        tcpControlBits: 0x18,
        packetDeltaCount: Math.ceil(bytesPerMinute / 1400),
        octetDeltaCount: bytesPerMinute,
        flowStartMilliseconds: t,
        flowEndMilliseconds: t + 59_999,
        bgpDestinationAsNumber: asn,
      }),
      flowRecord({
        sourceIPv4Address: peer,
        destinationIPv4Address: host,
        sourceTransportPort: 443,
        destinationTransportPort: 51000,
        protocolIdentifier: 6,
        tcpControlBits: 0x18,
        packetDeltaCount: Math.ceil(bytesPerMinute / 2800),
        octetDeltaCount: Math.ceil(bytesPerMinute / 2800) * 52,
        flowStartMilliseconds: t,
        flowEndMilliseconds: t + 59_999,
      }),
    );
  }
  return out;
}

describe('exfiltration detector', () => {
  it('finds the exfiltration scenario in its first hour: the uploading host as subject, the drop as counterpart', async () => {
    const { records, truth } = await mixedRecords({
      scenario: 'exfiltration',
      start: T0,
      durationMs: 2 * 3600_000,
      density: 5,
    });
    const { evidence } = run(records);
    const { attackers, victims } = truthOf(truth, 'exfiltration');
    const hits = evidence.filter((e) => e.severity !== 'low');
    expect(hits.length).toBeGreaterThan(0);
    for (const e of hits) {
      expect(victims.has(e.subject)).toBe(true);
      expect(attackers.has(e.counterpart!)).toBe(true);
    }
    expect(hits[0]!.window.start).toBe(T0);
  }, 120_000);

  it('down-ranks the nightly backups to foreign clouds of the background to low', async () => {
    // 01:00–04:00 JST: the generator's backup window.
    const { records } = await mixedRecords({
      start: Date.parse('2026-05-10T16:00:00.000Z'),
      durationMs: 3 * 3600_000,
      density: 5,
    });
    const { evidence } = run(records);
    expect(evidence.length).toBeGreaterThan(0);
    for (const e of evidence) {
      expect(e.severity).toBe('low');
      expect(e.facts.lookalike).toBe('nightly-cloud-backup');
    }
  }, 120_000);

  it('flags 600 MB in an hour to one foreign host when the host has no history (cold-start floor)', () => {
    const { evidence } = run(upload('198.51.100.5', '192.0.2.9', T0, 60, 10e6));
    expect(evidence).toHaveLength(1);
    expect(evidence[0]).toMatchObject({
      subject: '198.51.100.5',
      counterpart: '192.0.2.9',
      severity: 'medium',
    });
    expect(evidence[0]!.facts.uploadRatio).toBeGreaterThan(4);
  });

  it('does not flag 300 MB an hour, symmetric transfers, or a host whose learned normal is higher', () => {
    expect(run(upload('198.51.100.6', '192.0.2.9', T0, 60, 5e6)).evidence).toEqual([]);
    // Symmetric: as much comes back.
    const sym = upload('198.51.100.7', '192.0.2.9', T0, 60, 10e6).map((r) =>
      r.fields.sourceIPv4Address === '192.0.2.9'
        ? { ...r, fields: { ...r.fields, octetDeltaCount: 10e6 } }
        : r,
    );
    expect(run(sym).evidence).toEqual([]);
    // A host that uploads ~600 MB every hour: after warm-up its threshold is its own normal.
    const recs: FlowRecord[] = [];
    for (let h = 0; h < 30; h++)
      recs.push(...upload('198.51.100.8', '192.0.2.9', T0 + h * 3600_000, 60, 10e6 * (1 + (h % 3) * 0.02)));
    const { evidence } = run(recs, { exfiltration: { warmupWindows: 4 } });
    expect(evidence.length).toBeGreaterThan(0);
    expect(evidence.length).toBeLessThanOrEqual(5);
    expect(evidence.every((e) => e.window.start < T0 + 6 * 3600_000)).toBe(true);
  });

  it('stays within its memory budget under churn and closes host windows at flush', () => {
    const recs: FlowRecord[] = [];
    for (let k = 0; k < 4000; k++)
      recs.push(...upload(`198.51.${(k >> 8) & 255}.${k & 255}`, '192.0.2.1', T0 + k * 100, 1, 2e6));
    recs.sort((a, b) => Number(a.fields.flowEndMilliseconds) - Number(b.fields.flowEndMilliseconds));
    const { stats } = run(recs, { exfiltration: { stateBudgetBytes: 64 * 1024 } });
    expect(stats.bytesReserved).toBeLessThanOrEqual(stats.budgetBytes);
    expect(stats.evictions).toBeGreaterThan(0);
  });
});
