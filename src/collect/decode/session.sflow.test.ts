import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixtureDatagrams } from '../../../test/helpers/traffic.ts';
import { FlowBatch, type DecodedRecord } from '../../common/schema/index.ts';
import { encodeIpfixMessage, type EncodeTemplate } from '../../simulate/encode/index.ts';
import { createSflowState, decodeSflowDatagram, SFLOW_MAX_SAMPLES } from './sflow/index.ts';
import { buildSflowDatagram } from './sflow/testing.ts';
import { collectingSink, datagram, testSession } from './testing.ts';
import type { DecodeEvent } from './types.ts';

// Real bytes: pmacctd's sfprobe plugin (Debian pmacct) exporting sFlow v5 from captures of real
// clients and servers (testdata/README.md says how they were made). The session must give exactly
// what the sFlow decoder gives on its own, and keep sFlow apart from the other protocols.

const FIXTURES = ['pmacct-sfprobe', 'pmacct-sfprobe-sampled', 'pmacct-sfprobe-counters'] as const;

/** What the sFlow decoder alone makes of a fixture (one state for the whole capture). */
async function direct(
  name: (typeof FIXTURES)[number],
): Promise<{ records: DecodedRecord[]; events: DecodeEvent[] }> {
  const state = createSflowState();
  const records: DecodedRecord[] = [];
  const events: DecodeEvent[] = [];
  for (const d of await fixtureDatagrams(name)) {
    decodeSflowDatagram(d.bytes, { exporter: d.exporter.address, receivedAt: d.receivedAt }, state, {
      record: (r) => records.push(r),
      event: (e) => events.push(e),
    });
  }
  return { records, events };
}

describe('decoder session with sFlow v5', () => {
  for (const name of FIXTURES) {
    it(`decodes the real ${name} capture exactly as the sFlow decoder does`, async () => {
      const want = await direct(name);
      const { session, metrics } = testSession();
      const sink = collectingSink();
      const ds = await fixtureDatagrams(name);
      for (const d of ds) session.decode(d, sink);
      expect(sink.records.length).toBeGreaterThan(0);
      expect(sink.records).toEqual(want.records);
      expect(sink.events).toEqual(want.events);
      expect(sink.records.every((r) => r.protocol === 'sflow5')).toBe(true);

      const flows = want.records.filter((r) => r.recordType === 'flow').length;
      const counters = want.records.filter((r) => r.recordType === 'counters').length;
      const snap = metrics.snapshot();
      expect(snap['decode_datagrams{protocol="sflow5"}']).toBe(ds.length);
      expect(snap['decode_records{protocol="sflow5",type="flow"}']).toBe(flows);
      expect(snap['decode_records{protocol="sflow5",type="counters"}']).toBe(counters);
      expect(snap['decode_malformed{reason="sflow"}']).toBe(0);

      const stats = session.exporters();
      expect(
        stats.every((s) => s.protocol === 'sflow5' && s.templates === 0 && s.clockOffsetMs === null),
      ).toBe(true);
      expect(stats.reduce((n, s) => n + s.datagrams, 0)).toBe(ds.length);
      expect(stats.reduce((n, s) => n + s.records, 0)).toBe(flows + counters);
      expect(stats[0]!.lastSeen).toBe(ds[ds.length - 1]!.receivedAt);
    });

    it(`puts the flows of ${name} into the batch and still hands counter records to the sink`, async () => {
      const want = await direct(name);
      const { session } = testSession();
      const sink = collectingSink();
      const batch = new FlowBatch(64);
      let rows = 0;
      const out = {
        batch,
        flush(): void {
          rows += batch.length;
          batch.clear();
        },
      };
      for (const d of await fixtureDatagrams(name)) session.decodeToBatch(d, out, sink);
      out.flush();
      expect(rows).toBe(want.records.filter((r) => r.recordType === 'flow').length);
      expect(sink.records).toEqual(want.records.filter((r) => r.recordType === 'counters'));
      expect(sink.events).toEqual(want.events);
    });
  }

  it('keeps IPFIX and sFlow from one exporter address apart', () => {
    const { session, metrics, clock } = testSession({ silenceAlarmMs: 60_000 });
    const sink = collectingSink();
    const address = '192.0.2.1';
    const t0 = clock.now();
    const tpl: EncodeTemplate = { templateId: 256, fields: ['sourceIPv4Address', 'octetDeltaCount'] };
    const ipfix = (sequence: number, records: number): Uint8Array =>
      encodeIpfixMessage({
        observationDomainId: 0,
        sequence,
        exportTime: t0,
        sets: [
          { kind: 'template', templates: [tpl] },
          {
            kind: 'data',
            template: tpl,
            records: Array.from({ length: records }, (_, i) => ({
              sourceIPv4Address: `10.0.0.${i + 1}`,
              octetDeltaCount: 100 + i,
            })),
          },
        ],
      });
    const sflow = (sequence: number): Uint8Array =>
      buildSflowDatagram({
        agent: address,
        subAgentId: 0,
        sequence,
        uptime: 1000 * sequence,
        samples: [
          {
            kind: 'flow',
            seq: sequence,
            sourceIdType: 0,
            sourceIdIndex: 3,
            rate: 512,
            pool: 512 * sequence,
            drops: 0,
            input: 3,
            output: 4,
            records: [
              {
                kind: 'ipv4',
                length: 84,
                protocol: 1,
                src: '10.1.0.1',
                dst: '10.1.0.2',
                srcPort: 0,
                dstPort: 0,
                tcpFlags: 0,
                tos: 0,
              },
            ],
          },
        ],
      });
    // Interleaved, each protocol with its own sequence numbers: neither may see the other's as a
    // gap or a restart.
    session.decode(datagram(ipfix(0, 2), address, t0), sink);
    session.decode(datagram(sflow(1), address, t0), sink);
    session.decode(datagram(ipfix(2, 3), address, t0 + 1000), sink);
    session.decode(datagram(sflow(2), address, t0 + 1000), sink);
    session.decode(datagram(sflow(3), address, t0 + 2000), sink);

    const byProto = (p: string): DecodedRecord[] => sink.records.filter((r) => r.protocol === p);
    expect(byProto('ipfix')).toHaveLength(5);
    expect(byProto('sflow5')).toHaveLength(3);
    expect(byProto('sflow5').map((r) => (r.recordType === 'flow' ? r.samplingInterval : 0))).toEqual([
      512, 512, 512,
    ]);
    for (const r of sink.records) expect(r.observation.exporter).toBe(address);
    const anomalies = sink.events.filter((e) =>
      ['sequence-gap', 'sequence-reorder', 'exporter-restart', 'malformed', 'unsupported-version'].includes(
        e.kind,
      ),
    );
    expect(anomalies).toEqual([]);

    const stats = session.exporters().sort((a, b) => a.protocol.localeCompare(b.protocol));
    expect(stats).toMatchObject([
      { exporter: address, protocol: 'ipfix', datagrams: 2, records: 5, lost: 0, restarts: 0, templates: 1 },
      { exporter: address, protocol: 'sflow5', datagrams: 3, records: 3, lost: 0, restarts: 0, templates: 0 },
    ]);
    const snap = metrics.snapshot();
    expect(snap['decode_datagrams{protocol="ipfix"}']).toBe(2);
    expect(snap['decode_datagrams{protocol="sflow5"}']).toBe(3);

    // A lost sFlow datagram counts for sFlow only; silence is raised per protocol entry.
    session.decode(datagram(sflow(5), address, t0 + 3000), sink);
    expect(snap['decode_sequence_lost{protocol="sflow5"}'] ?? 0).toBe(0);
    expect(metrics.snapshot()['decode_sequence_lost{protocol="sflow5"}']).toBe(1);
    expect(metrics.snapshot()['decode_sequence_lost{protocol="ipfix"}']).toBe(0);
    const events: DecodeEvent[] = [];
    session.tick(t0 + 3000 + 60_000, { record: () => {}, event: (e) => events.push(e) });
    expect(events.filter((e) => e.kind === 'exporter-silent')).toHaveLength(2);
    expect(session.exporters().every((s) => s.silent)).toBe(true);

    // Nothing of sFlow is persisted: the state holds the IPFIX template only.
    const state = session.exportState();
    expect(state.templates.map((t) => t.protocol)).toEqual(['ipfix']);
  });

  it('counts a truncated sFlow datagram as malformed sFlow, not as an unknown version', () => {
    const { session, metrics } = testSession();
    const sink = collectingSink();
    const whole = buildSflowDatagram({
      agent: '192.0.2.9',
      subAgentId: 0,
      sequence: 1,
      uptime: 1,
      samples: [],
    });
    session.decode(datagram(whole.subarray(0, 12)), sink);
    expect(sink.events.map((e) => e.kind)).toEqual(['malformed']);
    expect(metrics.snapshot()['decode_malformed{reason="sflow"}']).toBe(1);
    expect(metrics.snapshot().decode_unsupported_versions).toBe(0);
  });

  it('never throws on mutated real sFlow datagrams, in either mode', async () => {
    const seeds = (await fixtureDatagrams('pmacct-sfprobe-counters')).slice(0, 8);
    const { session } = testSession();
    const batch = new FlowBatch(16);
    const out = { batch, flush: (): void => batch.clear() };
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(),
        (seed, flips, cut) => {
          const bytes = seed.bytes.slice(0, Math.max(4, seed.bytes.length - (cut % 64)));
          for (const [at, v] of flips) bytes[4 + (at % (bytes.length - 4))] = v;
          const sink = collectingSink();
          session.decode({ ...seed, bytes }, sink);
          session.decodeToBatch({ ...seed, bytes }, out, sink);
          // Only sFlow comes out, and never more records than the datagram may carry samples.
          for (const r of sink.records) expect(r.protocol).toBe('sflow5');
          expect(sink.records.length).toBeLessThanOrEqual(2 * SFLOW_MAX_SAMPLES);
        },
      ),
      { numRuns: 500 },
    );
  });
});
