import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CountersRecord, FlowRecord } from '../../common/schema/index.ts';
import { collectingSink } from '../../collect/decode/testing.ts';
import { createSflowState, decodeSflowDatagram } from '../../collect/decode/sflow/index.ts';
import { encodeSflowDatagram, sflowFlowSampleBytes, type SflowFlowSample } from './sflow.ts';

const T = Date.UTC(2026, 0, 1);

function decode(bytes: Uint8Array) {
  const sink = collectingSink();
  decodeSflowDatagram(bytes, { exporter: '127.0.0.9', receivedAt: T }, createSflowState(), sink);
  return sink;
}

const flow = (over: Partial<SflowFlowSample> = {}): SflowFlowSample => ({
  kind: 'flow',
  sequence: 7,
  sourceIdType: 0,
  sourceIdIndex: 3,
  samplingRate: 512,
  samplePool: 100_000,
  drops: 2,
  input: 3,
  output: 9,
  packet: {
    src: '10.1.2.3',
    dst: '203.0.113.5',
    protocol: 6,
    srcPort: 50123,
    dstPort: 443,
    tcpFlags: 0x18,
    ttl: 61,
    ipLength: 1400,
  },
  switch: { srcVlan: 10, srcPriority: 0, dstVlan: 20, dstPriority: 0 },
  router: { nextHop: '192.0.2.1', srcMaskLen: 16, dstMaskLen: 24 },
  ...over,
});

describe('sFlow v5 encoder', () => {
  it('writes flow samples with a raw header, switch and router data that the sFlow decoder reads back', () => {
    const bytes = encodeSflowDatagram({
      agentAddress: '127.0.0.9',
      subAgentId: 4,
      sequence: 99,
      uptimeMs: 12345,
      samples: [flow()],
    });
    const sink = decode(bytes);
    expect(sink.events).toEqual([]);
    const r = sink.records[0] as FlowRecord;
    expect(r.samplingInterval).toBe(512);
    expect(r.observation).toMatchObject({ exporter: '127.0.0.9', observationDomainId: 4, sequence: 99 });
    expect(r.fields).toMatchObject({
      sourceIPv4Address: '10.1.2.3',
      destinationIPv4Address: '203.0.113.5',
      protocolIdentifier: 6,
      sourceTransportPort: 50123,
      destinationTransportPort: 443,
      tcpControlBits: 0x18,
      ipTTL: 61,
      ipTotalLength: 1400,
      // Frame length: Ethernet header + IP packet + FCS.
      octetDeltaCount: 14 + 1400 + 4,
      packetDeltaCount: 1,
      ingressInterface: 3,
      egressInterface: 9,
      vlanId: 10,
      postVlanId: 20,
      ipNextHopIPv4Address: '192.0.2.1',
      sourceIPv4PrefixLength: 16,
      destinationIPv4PrefixLength: 24,
      sflowSampleSequence: 7,
      sflowSamplePool: 100_000,
      sflowDrops: 2,
    });
    expect(sflowFlowSampleBytes(flow())).toBe(bytes.length - 28);
  });

  it('writes IPv6 UDP samples and generic interface counters', () => {
    const bytes = encodeSflowDatagram({
      agentAddress: '2001:db8::9',
      subAgentId: 0,
      sequence: 1,
      uptimeMs: 1,
      samples: [
        flow({
          packet: {
            src: '2001:db8::1',
            dst: '2001:db8:1::2',
            protocol: 17,
            srcPort: 5353,
            dstPort: 53,
            ipLength: 90,
            vlan: 7,
          },
          router: { nextHop: 'fe80::1', srcMaskLen: 48, dstMaskLen: 32 },
        }),
        {
          kind: 'counters',
          sequence: 5,
          sourceIdType: 0,
          sourceIdIndex: 3,
          generic: {
            ifIndex: 3,
            ifType: 6,
            ifSpeed: 10e9,
            ifDirection: 1,
            ifStatus: 3,
            ifInOctets: 2 ** 40,
            ifInUcastPkts: 10,
            ifInMulticastPkts: 0,
            ifInBroadcastPkts: 0,
            ifInDiscards: 0,
            ifInErrors: 0,
            ifInUnknownProtos: 0,
            ifOutOctets: 77,
            ifOutUcastPkts: 1,
            ifOutMulticastPkts: 0,
            ifOutBroadcastPkts: 0,
            ifOutDiscards: 0,
            ifOutErrors: 0,
            ifPromiscuousMode: 0,
          },
        },
      ],
    });
    const sink = decode(bytes);
    expect(sink.events).toEqual([]);
    const f = (sink.records[0] as FlowRecord).fields;
    expect(f).toMatchObject({
      sourceIPv6Address: '2001:db8::1',
      destinationIPv6Address: '2001:db8:1::2',
      protocolIdentifier: 17,
      destinationTransportPort: 53,
      vlanId: 10,
      ipNextHopIPv6Address: 'fe80::1',
      sourceIPv6PrefixLength: 48,
    });
    const c = sink.records[1] as CountersRecord;
    expect(c.fields).toMatchObject({
      ifIndex: 3,
      ifSpeed: 10e9,
      ifInOctets: 2 ** 40,
      ifOutOctets: 77,
      ifOperStatus: 1,
    });
  });

  it('any packet it is given decodes without anomalies (property)', () => {
    const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
    fc.assert(
      fc.property(
        ipv4,
        ipv4,
        fc.constantFrom(1, 6, 17, 47),
        fc.nat(65535),
        fc.nat(65535),
        fc.integer({ min: 0, max: 9000 }),
        (src, dst, protocol, sp, dp, len) => {
          const bytes = encodeSflowDatagram({
            agentAddress: '127.0.0.1',
            subAgentId: 0,
            sequence: 1,
            uptimeMs: 0,
            samples: [flow({ packet: { src, dst, protocol, srcPort: sp, dstPort: dp, ipLength: len } })],
          });
          const sink = decode(bytes);
          expect(sink.events).toEqual([]);
          expect((sink.records[0] as FlowRecord).fields.sourceIPv4Address).toBe(src);
        },
      ),
      { numRuns: 200 },
    );
  });
});
