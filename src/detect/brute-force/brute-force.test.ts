import { beforeAll, describe, expect, it } from 'vitest';
import type { FlowRecord } from '../../common/schema/record.ts';
import { flowRecord, runDetection, scenarioFlows, testWorld, truthOf } from '../testing.ts';

const T0 = Date.parse('2026-05-11T09:00:00.000Z');

beforeAll(async () => {
  await testWorld();
}, 120_000);

function login(src: string, dst: string, port: number, t: number, bytes: number, packets = 20): FlowRecord {
  return flowRecord({
    sourceIPv4Address: src,
    destinationIPv4Address: dst,
    sourceTransportPort: 40000 + (t % 20000),
    destinationTransportPort: port,
    protocolIdentifier: 6,
    tcpControlBits: 27,
    packetDeltaCount: packets,
    octetDeltaCount: bytes,
    flowStartMilliseconds: t - 3000,
    flowEndMilliseconds: t,
  });
}

describe('brute-force detector', () => {
  it.each(['brute-force-ssh', 'brute-force-rdp'])(
    'finds the attacker of %s',
    async (name) => {
      const { records, truth } = await scenarioFlows(name);
      const { evidence } = runDetection(records);
      const bf = evidence.filter((e) => e.detector === 'brute-force');
      const { attackers, victims } = truthOf(truth, 'brute-force');
      expect(bf.length).toBeGreaterThan(0);
      for (const a of attackers) expect(bf.some((e) => e.subject === a)).toBe(true);
      for (const e of bf) {
        expect(attackers.has(e.subject)).toBe(true);
        expect(victims.has(e.counterpart!)).toBe(true);
        expect(e.facts.service).toBe(name === 'brute-force-ssh' ? 'ssh' : 'rdp');
      }
    },
    60_000,
  );

  it('does not flag a user with a few failed SSH logins', () => {
    const recs = [0, 20_000, 45_000, 70_000].map((d) =>
      login('198.51.100.7', '192.0.2.22', 22, T0 + d, 3000),
    );
    expect(runDetection(recs).evidence).toEqual([]);
  });

  it('does not flag long interactive sessions or file transfers to port 22', () => {
    const recs: FlowRecord[] = [];
    for (let k = 0; k < 40; k++)
      recs.push(login('198.51.100.8', '192.0.2.22', 22, T0 + k * 2000, 5_000_000, 4000));
    expect(runDetection(recs).evidence).toEqual([]);
  });

  it('does not flag one source spreading short connections over many hosts (a scan, not brute force)', () => {
    const recs: FlowRecord[] = [];
    for (let k = 0; k < 60; k++) recs.push(login('198.51.100.9', `192.0.2.${k}`, 22, T0 + k * 1000, 3000));
    expect(runDetection(recs).evidence.filter((e) => e.detector === 'brute-force')).toEqual([]);
  });

  it('flags 40 similar attempts in two minutes', () => {
    const recs: FlowRecord[] = [];
    for (let k = 0; k < 40; k++)
      recs.push(login('198.51.100.10', '192.0.2.3', 3389, T0 + k * 2500, 4000 + (k % 5) * 50));
    const { evidence } = runDetection(recs);
    expect(evidence).toHaveLength(1);
    expect(evidence[0]).toMatchObject({
      subject: '198.51.100.10',
      counterpart: '192.0.2.3',
      severity: 'medium',
    });
  });
});
