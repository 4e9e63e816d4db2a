import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecodedRecord } from '../../../common/schema/index.ts';
import { FlowBatch } from '../../../common/schema/index.ts';
import { createCaptureReader } from '../../input/pcap.ts';
import { PacketInfo, decodePacket, startFromLinkType } from '../packet/decode.ts';
import { buildFrame } from '../packet/testing.ts';
import type { DecodeEvent } from '../types.ts';
import { decodeSflowDatagram, decodeSflowDatagramToBatch } from './decode.ts';
import {
  SFLOW_MAX_AGENTS,
  SFLOW_MAX_AS_PATH_LENGTH,
  SFLOW_MAX_COMMUNITIES,
  SFLOW_MAX_SAMPLES,
  SFLOW_MAX_SOURCES_PER_AGENT,
  SFLOW_MAX_STRING_BYTES,
} from './limits.ts';
import { createSflowState } from './state.ts';
import type { SflowState } from './state.ts';
import { buildSflowDatagram } from './testing.ts';

const EVENT_KINDS = new Set([
  'malformed',
  'unsupported-version',
  'sequence-gap',
  'sequence-reorder',
  'exporter-restart',
  'sample-sequence-gap',
  'sample-sequence-reorder',
  'sample-sequence-reset',
  'sampling-drops',
]);

/** Seeds: real pmacct datagrams and a hand-built one with every record type (built from the spec). */
function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const info = new PacketInfo();
  for (const name of ['pmacct-sfprobe-counters', 'pmacct-sfprobe-sampled']) {
    const { packets } = createCaptureReader().push(
      readFileSync(new URL(`../testdata/${name}.pcap`, import.meta.url)),
    );
    for (const p of packets) {
      decodePacket(p.data, 0, p.data.length, startFromLinkType(p.linkType), info);
      if (info.payloadOffset >= 0) out.push(p.data.slice(info.payloadOffset, info.payloadEnd));
    }
  }
  const header = buildFrame({
    ethernet: { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' },
    vlans: [{ id: 5 }],
    mpls: [{ label: 100 }],
    ip: {
      version: 6,
      src: '2001:db8::1',
      dst: '2001:db8::2',
      extensions: [{ type: 0 }],
      transport: { kind: 'tcp', srcPort: 1, dstPort: 2 },
    },
  });
  out.push(
    buildSflowDatagram({
      agent: '2001:db8::1',
      subAgentId: 0,
      sequence: 1,
      uptime: 1,
      samples: [
        {
          kind: 'flow',
          expanded: true,
          seq: 1,
          sourceIdType: 0,
          sourceIdIndex: 1,
          rate: 100,
          pool: 100,
          drops: 1,
          input: 1,
          output: 2,
          records: [
            { kind: 'header', protocol: 1, frameLength: 100, header },
            {
              kind: 'ethernet',
              length: 100,
              src: '02:00:00:00:00:01',
              dst: '02:00:00:00:00:02',
              type: 0x86dd,
            },
            {
              kind: 'ipv4',
              length: 1,
              protocol: 6,
              src: '1.2.3.4',
              dst: '5.6.7.8',
              srcPort: 1,
              dstPort: 2,
              tcpFlags: 2,
              tos: 0,
            },
            {
              kind: 'ipv6',
              length: 1,
              protocol: 17,
              src: '::1',
              dst: '::2',
              srcPort: 1,
              dstPort: 2,
              tcpFlags: 0,
              tos: 0,
            },
            { kind: 'switch', srcVlan: 1, srcPriority: 0, dstVlan: 2, dstPriority: 0 },
            { kind: 'router', nextHop: '2001:db8::fe', srcMask: 1, dstMask: 2 },
            {
              kind: 'gateway',
              nextHop: '1.1.1.1',
              as: 1,
              srcAs: 2,
              srcPeerAs: 3,
              path: [{ type: 2, asns: [4, 5] }],
              communities: [6],
              localPref: 7,
            },
            { kind: 'user', srcUser: 'a', dstUser: 'b' },
            { kind: 'url', direction: 1, url: '/x', host: 'h' },
          ],
        },
        {
          kind: 'counters',
          seq: 1,
          sourceIdType: 0,
          sourceIdIndex: 1,
          records: [
            { kind: 'ethernet', values: [] },
            { kind: 'vlan', vlanId: 1, octets: 1, ucast: 1, multicast: 1, broadcast: 1, discards: 1 },
            { kind: 'processor', cpu5s: 1, cpu1m: 1, cpu5m: 1, totalMemory: 1, freeMemory: 1 },
          ],
        },
      ],
    }),
  );
  return out;
}

const SEEDS = seeds();
const INTERESTING = [0, 1, 2, 3, 4, 5, 0x7fffffff, 0x80000000, 0xffffffff, 0x3fffffff, 1001, 1003, 65535];

/** Decodes through both paths and checks every invariant; throws (via expect) on a violation. */
function check(b: Uint8Array, state: SflowState = createSflowState()): void {
  const records: DecodedRecord[] = [];
  const events: DecodeEvent[] = [];
  const t0 = performance.now();
  decodeSflowDatagram(b, { exporter: '192.0.2.1', receivedAt: 0 }, state, {
    record: (r) => records.push(r),
    event: (e) => events.push(e),
  });
  expect(performance.now() - t0).toBeLessThan(1000);
  expect(records.length).toBeLessThanOrEqual(SFLOW_MAX_SAMPLES);
  for (const e of events) expect(EVENT_KINDS.has(e.kind)).toBe(true);
  for (const r of records) {
    const f = r.fields;
    if (Array.isArray(f.sflowAsPath))
      expect(f.sflowAsPath.length).toBeLessThanOrEqual(SFLOW_MAX_AS_PATH_LENGTH);
    if (Array.isArray(f.bgpDestinationCommunityList)) {
      expect(f.bgpDestinationCommunityList.length).toBeLessThanOrEqual(SFLOW_MAX_COMMUNITIES);
    }
    for (const k of ['httpRequestTarget', 'httpRequestHost', 'sflowSrcUser', 'sflowDstUser']) {
      const v = f[k];
      if (typeof v === 'string') expect(Buffer.byteLength(v)).toBeLessThanOrEqual(SFLOW_MAX_STRING_BYTES * 3);
    }
  }
  // The hot path sees the same flows as the object path.
  const batch = new FlowBatch(64);
  let rows = 0;
  decodeSflowDatagramToBatch(b, { exporter: '192.0.2.1', receivedAt: 0 }, createSflowState(), {
    batch,
    flush: () => {
      rows += batch.length;
      batch.clear();
    },
  });
  rows += batch.length;
  expect(rows).toBe(records.filter((r) => r.recordType === 'flow').length);
}

describe('sflow v5 decoder (properties)', () => {
  it('never throws on random bytes, with or without a valid header start', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (b, v5) => {
        if (v5 && b.length >= 8) b.set([0, 0, 0, 5, 0, 0, 0, 1], 0);
        check(b);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on mutated datagrams (flipped bytes, extreme words, cuts)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SEEDS),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...INTERESTING)), { maxLength: 4 }),
        fc.nat(),
        (seed, bytes, words, cut) => {
          const b = seed.slice(0, cut % 4 === 0 ? cut % (seed.length + 1) : seed.length);
          const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
          for (const [at, v] of bytes) if (b.length > 0) b[at % b.length] = v;
          for (const [at, v] of words)
            if (b.length >= 4) dv.setUint32(((at % (b.length >> 2)) << 2) >>> 0, v >>> 0);
          check(b);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('keeps sequence state within its limits under a flood of forged agents and sources', () => {
    const state = createSflowState();
    // Many agents: each datagram names a new agent address.
    for (let i = 0; i < SFLOW_MAX_AGENTS + 50; i++) {
      const agent = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      check(buildSflowDatagram({ agent, subAgentId: 0, sequence: 1, uptime: 1, samples: [] }), state);
    }
    expect(state.agents.size).toBe(SFLOW_MAX_AGENTS);
    expect(state.stats.agentsEvicted).toBe(50);
    // Many sources of one agent: datagrams full of empty counter samples with new source ids.
    let next = 0;
    for (let d = 0; next < SFLOW_MAX_SOURCES_PER_AGENT + 50; d++) {
      const samples = Array.from({ length: SFLOW_MAX_SAMPLES }, () => ({
        kind: 'counters' as const,
        seq: 1,
        sourceIdType: 0,
        sourceIdIndex: next++,
        records: [],
      }));
      check(
        buildSflowDatagram({ agent: '192.0.2.9', subAgentId: 0, sequence: d + 1, uptime: 1000 + d, samples }),
        state,
      );
    }
    const agent = state.agents.get('192.0.2.9#0')!;
    expect(agent.sources.size).toBe(SFLOW_MAX_SOURCES_PER_AGENT);
    expect(state.agents.size).toBe(SFLOW_MAX_AGENTS);
  });
});
