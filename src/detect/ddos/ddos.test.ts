import { beforeAll, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../common/schema/record.ts';
import { flowRecord, runDetection, scenarioFlows, testWorld, truthOf } from '../testing.ts';
import fc from 'fast-check';
import { reflectionMinSize, REFLECTION_PORTS } from './vectors.ts';
import { ManualClock } from '../../common/clock.ts';
import type { Evidence } from '../../common/schema/evidence.ts';
import { createDetectionEngine, resolveDetectConfig } from '../index.ts';

const T0 = Date.parse('2026-05-11T09:00:00.000Z');

beforeAll(async () => {
  await testWorld();
}, 120_000);

describe('ddos detector', () => {
  it.each([
    ['ddos-flood', {}],
    ['ddos-flood', { extra: { type: 'udp' } }],
    ['ddos-reflection', {}],
    ['ddos-reflection', { extra: { vector: 'ntp' } }],
    ['ddos-reflection', { extra: { vector: 'ssdp' } }],
  ])(
    'finds the victim of %s %j',
    async (name, over) => {
      const { records, truth } = await scenarioFlows(name, over);
      const { evidence } = runDetection(records);
      const ddos = evidence.filter((e) => e.detector === 'ddos');
      const { victims } = truthOf(truth, 'ddos');
      expect(ddos.length).toBeGreaterThan(0);
      for (const v of victims) expect(ddos.some((e) => e.subject === v)).toBe(true);
      for (const e of ddos) expect(victims.has(e.subject)).toBe(true);
      if (name === 'ddos-reflection') expect(ddos[0]!.facts.type).toBe('reflection');
    },
    60_000,
  );

  it('alarms on a SYN flood within two buckets of its onset (event time)', async () => {
    const { records } = await scenarioFlows('ddos-flood');
    const first = Math.min(...records.map((r) => Number(r.fields.flowEndMilliseconds)));
    const { evidence } = runDetection(records);
    const e = evidence.find((x) => x.detector === 'ddos')!;
    expect(e.facts.type).toBe('syn-flood');
    expect(e.window.end - first).toBeLessThanOrEqual(2000);
  }, 60_000);

  it('alarms on the first exports of a reflection attack while a slow exporter holds the watermark back', () => {
    const evidence: Evidence[] = [];
    const engine = createDetectionEngine(resolveDetectConfig({}), {
      clock: new ManualClock(0),
      emit: (e) => evidence.push(e),
    });
    // A second exporter reported once, ten minutes earlier: the watermark stays there (the clock
    // does not move, so it is never declared idle).
    engine.pushFlowRecord(
      flowRecord(
        {
          sourceIPv4Address: '100.64.0.1',
          destinationIPv4Address: '192.0.2.1',
          sourceTransportPort: 40000,
          destinationTransportPort: 443,
          protocolIdentifier: 6,
          tcpControlBits: 27,
          packetDeltaCount: 10,
          octetDeltaCount: 4000,
          flowStartMilliseconds: T0 - 600_000,
          flowEndMilliseconds: T0 - 600_000,
        },
        '127.0.0.3',
      ),
    );
    // 300 DNS reflectors' first active-timeout exports (60 s of 1,300-byte answers each).
    for (let k = 0; k < 300; k++)
      engine.pushFlowRecord(
        flowRecord({
          sourceIPv4Address: `198.51.${k >> 8}.${k & 255}`,
          destinationIPv4Address: '192.0.2.99',
          sourceTransportPort: 53,
          destinationTransportPort: 40001,
          protocolIdentifier: 17,
          packetDeltaCount: 4000,
          octetDeltaCount: 4000 * 1300,
          flowStartMilliseconds: T0 - 60_000 + k * 10,
          flowEndMilliseconds: T0 + k * 10,
        }),
      );
    engine.advance();
    const e = evidence.find((x) => x.detector === 'ddos');
    expect(e?.subject).toBe('192.0.2.99');
    expect(e?.facts.type).toBe('reflection');
    expect(e!.window.end).toBeLessThanOrEqual(T0 + 4000);
  });

  it('does not alarm on a busy web server with many clients', () => {
    const recs: FlowRecord[] = [];
    // 2,000 clients, 400 sessions/s for 5 minutes, each a whole HTTPS connection (~40 packets).
    for (let k = 0; k < 400 * 300; k++) {
      const t = T0 + Math.floor(k * 2.5);
      const c = k % 2000;
      recs.push(
        flowRecord({
          sourceIPv4Address: `100.64.${c >> 8}.${c & 255}`,
          destinationIPv4Address: '192.0.2.80',
          sourceTransportPort: 32768 + (k % 20000),
          destinationTransportPort: 443,
          protocolIdentifier: 6,
          tcpControlBits: 27,
          packetDeltaCount: 40,
          octetDeltaCount: 30_000,
          flowStartMilliseconds: t - 800,
          flowEndMilliseconds: t,
        }),
      );
    }
    expect(runDetection(recs).evidence).toEqual([]);
  });

  it('does not call ordinary DNS answers reflection', () => {
    const recs: FlowRecord[] = [];
    for (let k = 0; k < 3000 * 30; k++) {
      const t = T0 + Math.floor(k / 3);
      recs.push(
        flowRecord({
          sourceIPv4Address: `203.0.${(k >> 8) & 63}.${k & 255}`,
          destinationIPv4Address: '192.0.2.53',
          sourceTransportPort: 53,
          destinationTransportPort: 40000 + (k % 1000),
          protocolIdentifier: 17,
          packetDeltaCount: 1,
          octetDeltaCount: 180,
          flowStartMilliseconds: t,
          flowEndMilliseconds: t,
        }),
      );
    }
    expect(runDetection(recs).evidence.filter((e) => e.facts.type === 'reflection')).toEqual([]);
  });
});

describe('reflection vectors', () => {
  it('gives every listed port its minimum size and every other port 0', () => {
    for (const [port, v] of REFLECTION_PORTS) expect(reflectionMinSize(port)).toBe(v.minPacketBytes);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), (port) => {
        expect(reflectionMinSize(port)).toBe(REFLECTION_PORTS.get(port)?.minPacketBytes ?? 0);
      }),
    );
  });
});
