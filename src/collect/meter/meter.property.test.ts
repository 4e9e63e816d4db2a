/**
 * Property tests of the flow meter on untrusted input: random and mutated frames, random link
 * types and timestamps, random captures. They fail only on an untyped exception or a broken
 * invariant: the table never exceeds its limit, and every metered packet is in exactly one record.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../common/errors.ts';
import type { DecodedRecord, FlowRecord } from '../../common/schema/index.ts';
import { buildFrame, type TransportSpec } from '../decode/packet/testing.ts';
import { createFlowMeter, readTrafficFile } from './index.ts';

const V4 = ['10.0.0.1', '10.0.0.2', '192.0.2.9'];
const V6 = ['2001:db8::1', '2001:db8::2', 'fe80::1'];

const transport: fc.Arbitrary<TransportSpec> = fc.oneof(
  fc.record({
    kind: fc.constant('tcp' as const),
    srcPort: fc.constantFrom(53, 80, 40000),
    dstPort: fc.constantFrom(53, 80, 40000),
    flags: fc.integer({ min: 0, max: 0x1ff }),
  }),
  fc.record({
    kind: fc.constant('udp' as const),
    srcPort: fc.constantFrom(53, 1000),
    dstPort: fc.constantFrom(53, 1000),
  }),
  fc.record({
    kind: fc.constant('icmp' as const),
    type: fc.constantFrom(0, 3, 8, 128, 129),
    code: fc.integer({ min: 0, max: 3 }),
  }),
);

/** A well-formed frame from a small space of endpoints, so that packets share flows. */
const builtFrame: fc.Arbitrary<Uint8Array> = fc
  .record({
    v6: fc.boolean(),
    src: fc.integer({ min: 0, max: 2 }),
    dst: fc.integer({ min: 0, max: 2 }),
    t: transport,
    vlans: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
    frag: fc.constantFrom(0, 0, 0, 1, 2, 3),
    id: fc.integer({ min: 0, max: 3 }),
    payload: fc.uint8Array({ maxLength: 64 }),
  })
  .map((r) =>
    buildFrame({
      ethernet: { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' },
      vlans: r.vlans.map((id) => ({ id })),
      ip: r.v6
        ? {
            version: 6,
            src: V6[r.src]!,
            dst: V6[r.dst]!,
            transport: r.t,
            ...(r.frag
              ? {
                  extensions: [
                    { type: 44 as const, offset: r.frag === 1 ? 0 : 8, more: r.frag !== 3, id: r.id },
                  ],
                }
              : {}),
          }
        : {
            version: 4,
            src: V4[r.src]!,
            dst: V4[r.dst]!,
            transport: r.t,
            id: r.id,
            flags: r.frag === 0 ? 0 : r.frag === 3 ? 0 : 1,
            fragmentOffset: r.frag <= 1 ? 0 : 8,
          },
      payload: r.payload,
    }),
  );

/** Built frames, cut or with a byte changed, and plain random bytes. */
const frame: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 5, arbitrary: builtFrame },
  {
    weight: 2,
    arbitrary: fc
      .tuple(builtFrame, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }))
      .map(([f, cut, at, v]) => {
        const g = f.slice(0, cut % (f.length + 1));
        if (g.length > 0) g[at % g.length] = v;
        return g;
      }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 120 }) },
);

const packet = fc.record({
  dt: fc.oneof(
    fc.integer({ min: 0, max: 3_000 }),
    fc.integer({ min: -2_000, max: 70_000 }),
    fc.constant(Number.NaN),
  ),
  linkType: fc.oneof(
    { weight: 8, arbitrary: fc.constant(1) },
    { weight: 1, arbitrary: fc.constantFrom(0, 101, 113, 228, 229, 276, 9999) },
  ),
  bytes: frame,
  iface: fc.integer({ min: 0, max: 1 }),
});

const options = fc.record({
  maxFlows: fc.integer({ min: 1, max: 8 }),
  idleTimeoutMs: fc.integer({ min: 0, max: 20_000 }),
  shortIdleTimeoutMs: fc.integer({ min: 0, max: 10_000 }),
  activeTimeoutMs: fc.integer({ min: 0, max: 60_000 }),
  tcpEndGraceMs: fc.integer({ min: 0, max: 5_000 }),
});

function flowPackets(rs: DecodedRecord[]): { packets: number; octets: number; flows: FlowRecord[] } {
  const flows = rs.filter((r): r is FlowRecord => r.recordType === 'flow');
  let packets = 0;
  let octets = 0;
  for (const r of flows) {
    packets += (r.fields.packetDeltaCount as number) + (r.fields.reversePacketDeltaCount as number);
    octets += (r.fields.octetDeltaCount as number) + (r.fields.reverseOctetDeltaCount as number);
  }
  return { packets, octets, flows };
}

describe('flow meter properties', () => {
  it('never throws, never exceeds maxFlows, and puts every metered packet in exactly one record', () => {
    fc.assert(
      fc.property(options, fc.array(packet, { maxLength: 80 }), (opts, packets) => {
        const records: DecodedRecord[] = [];
        const m = createFlowMeter(opts, { record: (r) => records.push(r) });
        let t = 1_700_000_000_000;
        for (const p of packets) {
          t = Number.isNaN(p.dt) ? t : t + p.dt;
          m.packet(Number.isNaN(p.dt) ? Number.NaN : t, p.linkType, p.bytes, p.iface);
          expect(m.stats.activeFlows).toBeLessThanOrEqual(opts.maxFlows);
        }
        m.flush();
        const s = m.stats;
        expect(s.maxActiveFlows).toBeLessThanOrEqual(opts.maxFlows);
        expect(s.activeFlows).toBe(0);
        const { packets: sum, octets, flows } = flowPackets(records);
        expect(sum).toBe(s.ipPackets);
        expect(octets).toBe(s.ipOctets);
        expect(flows).toHaveLength(s.flowRecords);
        expect(Object.values(s.flowsExpired).reduce((a, b) => a + b, 0)).toBe(s.flowRecords);
        expect(s.packets).toBe(packets.length);
        expect(s.ipPackets + s.nonIp + s.truncated + s.malformed + s.tooDeep + s.unsupportedLinkType).toBe(
          s.packets,
        );
        for (const r of flows) {
          expect(
            (r.fields.packetDeltaCount as number) + (r.fields.reversePacketDeltaCount as number),
          ).toBeGreaterThan(0);
          expect(r.fields.flowStartMilliseconds as number).toBeLessThanOrEqual(
            r.fields.flowEndMilliseconds as number,
          );
        }
        const seqs = records.map((r) => r.observation.sequence);
        expect(new Set(seqs).size).toBe(seqs.length);
      }),
      { numRuns: 400 },
    );
  });

  describe('on random capture files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'acd-meter-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** A classic pcap header (microseconds, Ethernet) followed by records, some of them broken. */
    const capture = fc
      .array(
        fc.record({
          frame,
          sec: fc.integer({ min: 0, max: 2 ** 31 }),
          usec: fc.integer({ min: 0, max: 999_999 }),
          lie: fc.boolean(),
        }),
        { maxLength: 20 },
      )
      .map((recs) => {
        const parts: Buffer[] = [];
        const h = Buffer.alloc(24);
        h.writeUInt32LE(0xa1b2c3d4, 0);
        h.writeUInt16LE(2, 4);
        h.writeUInt16LE(4, 6);
        h.writeUInt32LE(65535, 16);
        h.writeUInt32LE(1, 20);
        parts.push(h);
        for (const r of recs) {
          const rh = Buffer.alloc(16);
          rh.writeUInt32LE(r.sec, 0);
          rh.writeUInt32LE(r.usec, 4);
          // A lying captured length desynchronises the reader, as a corrupt file would.
          rh.writeUInt32LE(r.lie ? r.frame.length + 7 : r.frame.length, 8);
          rh.writeUInt32LE(r.frame.length, 12);
          parts.push(rh, Buffer.from(r.frame));
        }
        return Buffer.concat(parts);
      });

    it('reads any capture without an untyped exception, accounting for every metered packet', async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            capture,
            fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
          ),
          async (bytes) => {
            const path = join(dir, `c${n++}.pcap`);
            writeFileSync(path, bytes);
            const records: DecodedRecord[] = [];
            try {
              const it = readTrafficFile(path, { chunkBytes: 17, maxFlows: 4 });
              for (let r = await it.next(); ; r = await it.next()) {
                if (r.done) {
                  expect(flowPackets(records).packets).toBe(r.value.ipPackets);
                  expect(r.value.maxActiveFlows).toBeLessThanOrEqual(4);
                  break;
                }
                records.push(r.value);
              }
            } catch (err) {
              expect(err).toBeInstanceOf(InputError);
            }
          },
        ),
        { numRuns: 60 },
      );
    });
  });
});
