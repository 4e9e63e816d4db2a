import { describe, expect, it } from 'vitest';
import { FlowBatch } from '../../../common/schema/index.ts';
import type { CountersRecord, DecodedRecord, FlowRecord } from '../../../common/schema/index.ts';
import type { DecodeEvent } from '../types.ts';
import { buildFrame } from '../packet/testing.ts';
import { decodeSflowDatagram, decodeSflowDatagramToBatch, looksLikeSflow5 } from './decode.ts';
import {
  SFLOW_MAX_AS_PATH_LENGTH,
  SFLOW_MAX_COMMUNITIES,
  SFLOW_MAX_RECORDS_PER_SAMPLE,
  SFLOW_MAX_SAMPLES,
} from './limits.ts';
import { createSflowState } from './state.ts';
import type { SflowState } from './state.ts';
import { buildSflowDatagram } from './testing.ts';
import type { DatagramSpec, FlowRecordSpec, SampleSpec } from './testing.ts';

// Every datagram in this file is built from the sFlow v5 specification's XDR definitions by
// ./testing.ts, with sampled headers built from the protocol specifications by ../packet/testing.ts.

const ctx = { exporter: '192.0.2.250', receivedAt: Date.UTC(2026, 10, 25, 12, 0, 0) };

function run(
  bytes: Uint8Array,
  state: SflowState = createSflowState(),
  c = ctx,
): { records: DecodedRecord[]; events: DecodeEvent[] } {
  const records: DecodedRecord[] = [];
  const events: DecodeEvent[] = [];
  decodeSflowDatagram(bytes, c, state, { record: (r) => records.push(r), event: (e) => events.push(e) });
  return { records, events };
}

const tcpHeader = buildFrame({
  ethernet: { src: '00:1b:21:aa:bb:cc', dst: '3c:fd:fe:01:02:03' },
  vlans: [{ id: 42, priority: 2 }],
  ip: {
    version: 4,
    src: '198.51.100.10',
    dst: '203.0.113.80',
    tos: 0x10,
    ttl: 63,
    id: 4321,
    flags: 0x2,
    transport: { kind: 'tcp', srcPort: 49152, dstPort: 443, seq: 1000, flags: 0x10 },
  },
  payload: new Uint8Array(60).fill(0x41),
});

function flowSample(
  records: FlowRecordSpec[],
  over: Partial<Extract<SampleSpec, { kind: 'flow' }>> = {},
): SampleSpec {
  return {
    kind: 'flow',
    seq: 10,
    sourceIdType: 0,
    sourceIdIndex: 7,
    rate: 2048,
    pool: 204800,
    drops: 0,
    input: 7,
    output: 9,
    records,
    ...over,
  };
}

function datagram(samples: SampleSpec[], over: Partial<DatagramSpec> = {}): Uint8Array {
  return buildSflowDatagram({
    agent: '192.0.2.1',
    subAgentId: 3,
    sequence: 100,
    uptime: 3_600_000,
    samples,
    ...over,
  });
}

describe('sflow v5 decoder', () => {
  it('decodes a flow sample with a raw header and extended switch, router and gateway data', () => {
    const bytes = datagram([
      flowSample([
        { kind: 'header', protocol: 1, frameLength: 1518, stripped: 4, header: tcpHeader.subarray(0, 128) },
        { kind: 'switch', srcVlan: 42, srcPriority: 2, dstVlan: 43, dstPriority: 0 },
        { kind: 'router', nextHop: '192.0.2.254', srcMask: 24, dstMask: 16 },
        {
          kind: 'gateway',
          nextHop: '192.0.2.253',
          as: 64500,
          srcAs: 64496,
          srcPeerAs: 64497,
          path: [
            { type: 2, asns: [64510, 64511, 64511] },
            { type: 1, asns: [64512] },
          ],
          communities: [0xfbf40064, 0xfbf400c8],
          localPref: 100,
        },
      ]),
    ]);
    const { records, events } = run(bytes);
    expect(events).toEqual([]);
    expect(records).toEqual([
      {
        recordType: 'flow',
        protocol: 'sflow5',
        observation: {
          exporter: '192.0.2.1',
          observationDomainId: 3,
          templateId: 0,
          sequence: 100,
          exportTime: ctx.receivedAt,
        },
        recordIndex: 0,
        samplingInterval: 2048,
        fields: {
          sourceMacAddress: '00:1b:21:aa:bb:cc',
          destinationMacAddress: '3c:fd:fe:01:02:03',
          ethernetType: 0x0800,
          vlanId: 42,
          dot1qPriority: 2,
          ipVersion: 4,
          sourceIPv4Address: '198.51.100.10',
          destinationIPv4Address: '203.0.113.80',
          fragmentFlags: 0x40,
          protocolIdentifier: 6,
          ipClassOfService: 0x10,
          ipTTL: 63,
          ipTotalLength: 20 + 20 + 60,
          sourceTransportPort: 49152,
          destinationTransportPort: 443,
          tcpControlBits: 0x10,
          tcpSequenceNumber: 1000,
          octetDeltaCount: 1518,
          packetDeltaCount: 1,
          ingressInterface: 7,
          egressInterface: 9,
          postVlanId: 43,
          sflowDstPriority: 0,
          ipNextHopIPv4Address: '192.0.2.254',
          sourceIPv4PrefixLength: 24,
          destinationIPv4PrefixLength: 16,
          bgpNextHopIPv4Address: '192.0.2.253',
          bgpSourceAsNumber: 64496,
          bgpDestinationAsNumber: 64512,
          bgpPrevAdjacentAsNumber: 64497,
          bgpNextAdjacentAsNumber: 64510,
          sflowAsPath: [64510, 64511, 64511, 64512],
          bgpDestinationCommunityList: [0xfbf40064, 0xfbf400c8],
          sflowLocalPref: 100,
          sflowRouterAs: 64500,
          flowStartMilliseconds: ctx.receivedAt,
          flowEndMilliseconds: ctx.receivedAt,
          sflowSourceIdType: 0,
          sflowSourceIdIndex: 7,
          sflowSampleSequence: 10,
          sflowSamplePool: 204800,
          sflowDrops: 0,
        },
      },
    ]);
  });

  it('decodes an expanded flow sample with an IPv6 header, a discard and user/URL records', () => {
    const v6 = buildFrame({
      ethernet: { src: '02:00:00:00:00:0a', dst: '02:00:00:00:00:0b' },
      ip: {
        version: 6,
        src: '2001:db8:1::10',
        dst: '2001:db8:2::20',
        hopLimit: 60,
        transport: { kind: 'udp', srcPort: 5353, dstPort: 53 },
      },
      payload: new Uint8Array(30),
    });
    const bytes = datagram(
      [
        flowSample(
          [
            { kind: 'header', protocol: 1, frameLength: 112, header: v6 },
            { kind: 'user', srcUser: 'alice', dstUser: 'bob@example' },
            { kind: 'url', direction: 2, url: '/index.html?q=1', host: 'www.example.org' },
            { kind: 'router', nextHop: '2001:db8::1', srcMask: 48, dstMask: 64 },
          ],
          {
            expanded: true,
            sourceIdType: 0,
            sourceIdIndex: 70000,
            input: 70000,
            inputFormat: 0,
            outputFormat: 1,
            output: 258,
            rate: 0,
          },
        ),
      ],
      { agent: '2001:db8::99' },
    );
    const { records, events } = run(bytes);
    expect(events).toEqual([]);
    const r = records[0] as FlowRecord;
    expect(r.observation.exporter).toBe('2001:db8::99');
    // A sampling rate of 0 is nonsense; the record says "unsampled" rather than divide by zero.
    expect(r.samplingInterval).toBe(1);
    expect(r.fields).toMatchObject({
      sourceIPv6Address: '2001:db8:1::10',
      destinationIPv6Address: '2001:db8:2::20',
      protocolIdentifier: 17,
      ipTTL: 60,
      sourceTransportPort: 5353,
      destinationTransportPort: 53,
      octetDeltaCount: 112,
      ingressInterface: 70000,
      forwardingStatus: 128,
      sflowDiscardReason: 258,
      sflowSrcUser: 'alice',
      sflowDstUser: 'bob@example',
      httpRequestTarget: '/index.html?q=1',
      httpRequestHost: 'www.example.org',
      sflowUrlDirection: 2,
      ipNextHopIPv6Address: '2001:db8::1',
      sourceIPv6PrefixLength: 48,
      destinationIPv6PrefixLength: 64,
      sflowSourceIdIndex: 70000,
    });
    expect(r.fields.egressInterface).toBeUndefined();
  });

  it('uses sampled ethernet, IPv4 and IPv6 records when no header is sampled', () => {
    const bytes = datagram([
      flowSample([
        { kind: 'ethernet', length: 1514, src: '00:00:5e:00:53:01', dst: '00:00:5e:00:53:02', type: 0x0800 },
        {
          kind: 'ipv4',
          length: 1500,
          protocol: 6,
          src: '192.0.2.7',
          dst: '192.0.2.8',
          srcPort: 25,
          dstPort: 40000,
          tcpFlags: 0x18,
          tos: 0,
        },
      ]),
      flowSample(
        [
          {
            kind: 'ipv6',
            length: 1280,
            protocol: 58,
            src: '2001:db8::7',
            dst: '2001:db8::8',
            srcPort: 0,
            dstPort: 0,
            tcpFlags: 0,
            tos: 0xb8,
          },
        ],
        { seq: 11, input: 0x3fffffff, outputFormat: 2, output: 3 },
      ),
    ]);
    const { records } = run(bytes);
    expect(records.map((r) => r.fields)).toEqual([
      {
        sourceMacAddress: '00:00:5e:00:53:01',
        destinationMacAddress: '00:00:5e:00:53:02',
        ethernetType: 0x0800,
        ipVersion: 4,
        sourceIPv4Address: '192.0.2.7',
        destinationIPv4Address: '192.0.2.8',
        protocolIdentifier: 6,
        ipClassOfService: 0,
        ipTotalLength: 1500,
        sourceTransportPort: 25,
        destinationTransportPort: 40000,
        tcpControlBits: 0x18,
        octetDeltaCount: 1514,
        packetDeltaCount: 1,
        ingressInterface: 7,
        egressInterface: 9,
        flowStartMilliseconds: ctx.receivedAt,
        flowEndMilliseconds: ctx.receivedAt,
        sflowSourceIdType: 0,
        sflowSourceIdIndex: 7,
        sflowSampleSequence: 10,
        sflowSamplePool: 204800,
        sflowDrops: 0,
      },
      {
        ipVersion: 6,
        sourceIPv6Address: '2001:db8::7',
        destinationIPv6Address: '2001:db8::8',
        protocolIdentifier: 58,
        ipClassOfService: 0xb8,
        ipTotalLength: 1280,
        octetDeltaCount: 1280,
        packetDeltaCount: 1,
        sflowOutputInterfaces: 3,
        flowStartMilliseconds: ctx.receivedAt,
        flowEndMilliseconds: ctx.receivedAt,
        sflowSourceIdType: 0,
        sflowSourceIdIndex: 7,
        sflowSampleSequence: 11,
        sflowSamplePool: 204800,
        sflowDrops: 0,
      },
    ]);
    expect(records.map((r) => r.recordIndex)).toEqual([0, 1]);
  });

  it('decodes counter samples with generic, ethernet, VLAN and processor records', () => {
    const generic = {
      ifIndex: 7,
      ifType: 6,
      ifSpeed: 10_000_000_000n,
      ifDirection: 1,
      ifStatus: 3,
      ifInOctets: 2n ** 60n,
      ifInUcastPkts: 1000,
      ifInMulticastPkts: 10,
      ifInBroadcastPkts: 5,
      ifInDiscards: 1,
      ifInErrors: 2,
      ifInUnknownProtos: 3,
      ifOutOctets: 123456789012,
      ifOutUcastPkts: 2000,
      ifOutMulticastPkts: 20,
      ifOutBroadcastPkts: 6,
      ifOutDiscards: 4,
      ifOutErrors: 5,
      ifPromiscuousMode: 2,
    };
    const bytes = datagram([
      {
        kind: 'counters',
        seq: 55,
        sourceIdType: 0,
        sourceIdIndex: 7,
        records: [
          { kind: 'generic', values: generic },
          { kind: 'ethernet', values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13] },
          { kind: 'raw', format: 2000, data: new Uint8Array(12) },
          { kind: 'raw', format: (4413 << 12) | 1, data: new Uint8Array(8) },
        ],
      },
      {
        kind: 'counters',
        expanded: true,
        seq: 9,
        sourceIdType: 1,
        sourceIdIndex: 100,
        records: [
          {
            kind: 'vlan',
            vlanId: 100,
            octets: 5_000_000,
            ucast: 10,
            multicast: 11,
            broadcast: 12,
            discards: 13,
          },
          {
            kind: 'processor',
            cpu5s: 1250,
            cpu1m: -1,
            cpu5m: 900,
            totalMemory: 8n << 30n,
            freeMemory: 1n << 30n,
          },
        ],
      },
    ]);
    const { records, events } = run(bytes);
    expect(events).toEqual([]);
    const observation = {
      exporter: '192.0.2.1',
      observationDomainId: 3,
      templateId: 0,
      sequence: 100,
      exportTime: ctx.receivedAt,
    };
    expect(records).toEqual<CountersRecord[]>([
      {
        recordType: 'counters',
        protocol: 'sflow5',
        observation,
        recordIndex: 0,
        fields: {
          sflowSourceIdType: 0,
          sflowSourceIdIndex: 7,
          sflowSampleSequence: 55,
          ifIndex: 7,
          ifType: 6,
          ifSpeed: 10_000_000_000,
          ifDirection: 1,
          ifAdminStatus: 1,
          ifOperStatus: 1,
          ifInOctets: '1152921504606846976',
          ifInUcastPkts: 1000,
          ifInMulticastPkts: 10,
          ifInBroadcastPkts: 5,
          ifInDiscards: 1,
          ifInErrors: 2,
          ifInUnknownProtos: 3,
          ifOutOctets: 123456789012,
          ifOutUcastPkts: 2000,
          ifOutMulticastPkts: 20,
          ifOutBroadcastPkts: 6,
          ifOutDiscards: 4,
          ifOutErrors: 5,
          ifPromiscuousMode: 2,
          dot3StatsAlignmentErrors: 1,
          dot3StatsFCSErrors: 2,
          dot3StatsSingleCollisionFrames: 3,
          dot3StatsMultipleCollisionFrames: 4,
          dot3StatsSQETestErrors: 5,
          dot3StatsDeferredTransmissions: 6,
          dot3StatsLateCollisions: 7,
          dot3StatsExcessiveCollisions: 8,
          dot3StatsInternalMacTransmitErrors: 9,
          dot3StatsCarrierSenseErrors: 10,
          dot3StatsFrameTooLongs: 11,
          dot3StatsInternalMacReceiveErrors: 12,
          dot3StatsSymbolErrors: 13,
        },
      },
      {
        recordType: 'counters',
        protocol: 'sflow5',
        observation,
        recordIndex: 1,
        fields: {
          sflowSourceIdType: 1,
          sflowSourceIdIndex: 100,
          sflowSampleSequence: 9,
          vlanId: 100,
          vlanOctets: 5_000_000,
          vlanUcastPkts: 10,
          vlanMulticastPkts: 11,
          vlanBroadcastPkts: 12,
          vlanDiscards: 13,
          cpu5s: 1250,
          cpu1m: -1,
          cpu5m: 900,
          totalMemory: 8 * 2 ** 30,
          freeMemory: 2 ** 30,
        },
      },
    ]);
  });

  it('skips unknown and enterprise samples and records by their length', () => {
    const bytes = datagram([
      { kind: 'raw', format: 5, data: new Uint8Array(16) },
      { kind: 'raw', format: (9 << 12) | 1, data: new Uint8Array(20) },
      flowSample([
        { kind: 'raw', format: 2100, data: new Uint8Array(7) },
        { kind: 'header', protocol: 1, frameLength: 100, header: tcpHeader.subarray(0, 64) },
        { kind: 'raw', format: (8 << 12) | 1003, data: new Uint8Array(4) },
      ]),
    ]);
    const { records, events } = run(bytes);
    expect(events).toEqual([]);
    expect(records).toHaveLength(1);
    expect(records[0]!.fields).toMatchObject({ sourceTransportPort: 49152, octetDeltaCount: 100 });
  });

  it('takes the UDP source as identity when the agent address type is unknown', () => {
    const { records } = run(datagram([flowSample([])], { agent: '' }));
    expect(records[0]!.observation.exporter).toBe(ctx.exporter);
    expect(records[0]!.fields).toMatchObject({ octetDeltaCount: 0, packetDeltaCount: 1 });
  });

  it('reports datagram sequence gaps, reorders and agent restarts per agent and sub-agent', () => {
    const state = createSflowState();
    const at = (sequence: number, uptime: number, subAgentId = 3): DecodeEvent[] =>
      run(datagram([], { sequence, uptime, subAgentId }), state).events;
    const h = 3_600_000;
    expect(at(100, h + 10_000)).toEqual([]);
    expect(at(101, h + 11_000)).toEqual([]);
    expect(at(105, h + 12_000)).toEqual([
      {
        kind: 'sequence-gap',
        exporter: '192.0.2.1',
        observationDomainId: 3,
        expected: 102,
        received: 105,
        lost: 3,
      },
    ]);
    expect(at(103, h + 11_900)).toEqual([
      {
        kind: 'sequence-reorder',
        exporter: '192.0.2.1',
        observationDomainId: 3,
        expected: 106,
        received: 103,
      },
    ]);
    // Another sub-agent of the same agent has its own numbering.
    expect(at(1, 500, 4)).toEqual([]);
    expect(at(106, h + 13_000)).toEqual([]);
    // Uptime back to near zero: the agent rebooted and numbers from 1 again.
    expect(at(1, 2_000)).toEqual([
      { kind: 'exporter-restart', exporter: '192.0.2.1', observationDomainId: 3 },
    ]);
    expect(at(2, 3_000)).toEqual([]);
    // Sequence numbers wrap around 2^32 without a gap; the 32-bit uptime wraps after 49.7 days
    // without a reboot.
    expect(at(0xfffffffe, 2 ** 32 - 2000, 5)).toEqual([]);
    expect(at(0xffffffff, 2 ** 32 - 1000, 5)).toEqual([]);
    expect(at(0, 500, 5)).toEqual([]);
  });

  it('tracks sample sequences per data source and counts sampler drops', () => {
    const state = createSflowState();
    const send = (seq: number, samples: SampleSpec[]): DecodeEvent[] =>
      run(datagram(samples, { sequence: seq }), state).events;
    const fs = (seq: number, drops: number, sourceIdIndex = 7): SampleSpec =>
      flowSample([], { seq, drops, sourceIdIndex });
    const cs = (seq: number): SampleSpec => ({
      kind: 'counters',
      seq,
      sourceIdType: 0,
      sourceIdIndex: 7,
      records: [],
    });
    expect(send(1, [fs(10, 5), cs(1), fs(500, 0, 8)])).toEqual([]);
    expect(send(2, [fs(11, 5), fs(14, 9), cs(2), fs(501, 0, 8)])).toEqual([
      {
        kind: 'sample-sequence-gap',
        exporter: '192.0.2.1',
        observationDomainId: 3,
        sourceIdType: 0,
        sourceIdIndex: 7,
        sampleKind: 'flow',
        expected: 12,
        received: 14,
        lost: 2,
      },
      {
        kind: 'sampling-drops',
        exporter: '192.0.2.1',
        observationDomainId: 3,
        sourceIdType: 0,
        sourceIdIndex: 7,
        drops: 4,
      },
    ]);
    // A late datagram carries older samples: reorders, not resets.
    expect(send(1, [fs(13, 9)]).map((e) => e.kind)).toEqual(['sequence-reorder', 'sample-sequence-reorder']);
    // A step back inside an in-order datagram: the sampler restarted its numbering.
    expect(send(3, [fs(1, 0)]).map((e) => e.kind)).toEqual(['sample-sequence-reset']);
    expect(send(4, [fs(2, 0), cs(3)])).toEqual([]);
  });

  it('drops a malformed sample, keeps the others and says why', () => {
    const good = flowSample([
      { kind: 'header', protocol: 1, frameLength: 90, header: tcpHeader.subarray(0, 90) },
    ]);
    // A record claiming more bytes than its sample holds.
    const bad = flowSample([{ kind: 'raw', format: 1, data: new Uint8Array(8), length: 4000 }], { seq: 11 });
    const { records, events } = run(datagram([good, bad, { ...good, seq: 12 } as SampleSpec]));
    expect(records.map((r) => r.fields.sflowSampleSequence)).toEqual([10, 12]);
    // The dropped sample counts as lost for its sampler.
    expect(events.map((e) => e.kind)).toEqual(['malformed', 'sample-sequence-gap']);
    expect(events[0]).toEqual({
      kind: 'malformed',
      protocol: 'sflow5',
      exporter: '192.0.2.1',
      reason: 'flow record length exceeds sample',
      offset: expect.any(Number) as number,
    });
  });

  it('rejects counts and lengths beyond the buffer or the limits', () => {
    const kinds = (b: Uint8Array): string[] =>
      run(b).events.map((e) => (e.kind === 'malformed' ? e.reason : e.kind));
    expect(kinds(datagram([], { sampleCount: SFLOW_MAX_SAMPLES + 1 }))).toEqual([
      'sample count exceeds datagram or limit',
    ]);
    expect(kinds(datagram([{ kind: 'raw', format: 1, data: new Uint8Array(8), length: 1 << 30 }]))).toEqual([
      'sample length exceeds datagram',
    ]);
    const many = flowSample(
      Array.from({ length: SFLOW_MAX_RECORDS_PER_SAMPLE + 1 }, (): FlowRecordSpec => ({
        kind: 'raw',
        format: 3000,
        data: new Uint8Array(0),
      })),
    );
    expect(kinds(datagram([many]))).toEqual(['flow record count exceeds sample or limit']);
    const shortHeader = flowSample([
      { kind: 'raw', format: 1, data: Uint8Array.from([0, 0, 0, 1, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 1, 0]) },
    ]);
    expect(kinds(datagram([shortHeader]))).toEqual(['sampled header length exceeds record or limit']);
    const v4 = datagram([]);
    v4[3] = 4;
    expect(kinds(v4)).toEqual(['unsupported-version']);
    expect(kinds(v4.subarray(0, 3))).toEqual(['datagram shorter than its header']);
    expect(kinds(datagram([]).subarray(0, 20))).toEqual(['truncated datagram header']);
    const trailing = new Uint8Array(datagram([]).length + 4);
    trailing.set(datagram([]));
    expect(kinds(trailing)).toEqual(['bytes after the last sample']);
  });

  it('cuts AS paths and community lists at their limits', () => {
    const bytes = datagram([
      flowSample([
        {
          kind: 'gateway',
          nextHop: '',
          as: 65000,
          srcAs: 0,
          srcPeerAs: 0,
          path: [
            { type: 2, asns: Array.from({ length: SFLOW_MAX_AS_PATH_LENGTH + 10 }, (_, i) => 1000 + i) },
          ],
          communities: Array.from({ length: SFLOW_MAX_COMMUNITIES + 5 }, (_, i) => i),
          localPref: 0,
        },
      ]),
      flowSample(
        [
          {
            kind: 'gateway',
            nextHop: '192.0.2.1',
            as: 65000,
            srcAs: 0,
            srcPeerAs: 0,
            path: [],
            communities: [],
            localPref: 0,
          },
        ],
        { seq: 11 },
      ),
    ]);
    const { records, events } = run(bytes);
    expect(events).toEqual([]);
    const f = records[0]!.fields;
    expect(f.sflowAsPath).toHaveLength(SFLOW_MAX_AS_PATH_LENGTH);
    expect(f.bgpDestinationCommunityList).toHaveLength(SFLOW_MAX_COMMUNITIES);
    // The destination AS is still the true last AS of the path.
    expect(f.bgpDestinationAsNumber).toBe(1000 + SFLOW_MAX_AS_PATH_LENGTH + 9);
    expect(f.bgpNextHopIPv4Address).toBeUndefined();
    // An empty path: the destination is in the router's own AS.
    expect(records[1]!.fields).toMatchObject({ bgpDestinationAsNumber: 65000, sflowAsPath: [] });
    expect(records[1]!.fields.bgpNextAdjacentAsNumber).toBeUndefined();
  });

  it('fills FlowBatch rows with the same values as the records', () => {
    const v6 = buildFrame({
      ethernet: { src: '02:00:00:00:00:0a', dst: '02:00:00:00:00:0b' },
      ip: {
        version: 6,
        src: '2001:db8::1',
        dst: '2001:db8::2',
        transport: { kind: 'icmp', type: 128, code: 0 },
      },
    });
    const bytes = datagram([
      flowSample([
        { kind: 'header', protocol: 1, frameLength: 1518, header: tcpHeader.subarray(0, 128) },
        {
          kind: 'gateway',
          nextHop: '192.0.2.1',
          as: 1,
          srcAs: 2,
          srcPeerAs: 3,
          path: [{ type: 2, asns: [4, 5] }],
          communities: [],
          localPref: 0,
        },
      ]),
      { kind: 'counters', seq: 1, sourceIdType: 0, sourceIdIndex: 7, records: [] },
      flowSample([{ kind: 'header', protocol: 1, frameLength: 70, header: v6 }], { seq: 11, rate: 100 }),
    ]);
    // Capacity 1: the decoder must flush between rows.
    const batch = new FlowBatch(1);
    const rows: Record<string, number>[] = [];
    const out = {
      batch,
      flush(): void {
        for (let i = 0; i < batch.length; i++) {
          rows.push({
            ipVersion: batch.ipVersion[i]!,
            src0: batch.src[i * 4]!,
            dst3: batch.dst[i * 4 + 3]!,
            srcPort: batch.srcPort[i]!,
            dstPort: batch.dstPort[i]!,
            proto: batch.proto[i]!,
            tcpFlags: batch.tcpFlags[i]!,
            octets: batch.octets[i]!,
            packets: batch.packets[i]!,
            ttl: batch.minTtl[i]!,
            inIf: batch.inIf[i]!,
            outIf: batch.outIf[i]!,
            srcAs: batch.srcAs[i]!,
            dstAs: batch.dstAs[i]!,
            icmp: batch.icmpTypeCode[i]!,
            sampling: batch.samplingInterval[i]!,
            exporter: batch.exporterIndex[i]!,
            domain: batch.observationDomainId[i]!,
            sequence: batch.sequence[i]!,
            recordIndex: batch.recordIndex[i]!,
            start: batch.start[i]!,
          });
        }
        batch.clear();
      },
    };
    const counters: DecodedRecord[] = [];
    decodeSflowDatagramToBatch(bytes, ctx, createSflowState(), out, { record: (r) => counters.push(r) });
    out.flush();
    expect(batch.exporters).toEqual(['192.0.2.1']);
    expect(counters.map((r) => r.recordType)).toEqual(['counters']);
    const common = {
      exporter: 0,
      domain: 3,
      sequence: 100,
      start: ctx.receivedAt,
      packets: 1,
      inIf: 7,
      outIf: 9,
    };
    expect(rows).toEqual([
      {
        ...common,
        ipVersion: 4,
        src0: 0xc633640a,
        dst3: 0,
        srcPort: 49152,
        dstPort: 443,
        proto: 6,
        tcpFlags: 0x10,
        octets: 1518,
        ttl: 63,
        srcAs: 2,
        dstAs: 5,
        icmp: 0,
        sampling: 2048,
        recordIndex: 0,
      },
      {
        ...common,
        ipVersion: 6,
        src0: 0x20010db8,
        dst3: 2,
        srcPort: 0,
        dstPort: 0,
        proto: 58,
        tcpFlags: 0,
        octets: 70,
        ttl: 64,
        srcAs: 0,
        dstAs: 0,
        icmp: 128 * 256,
        sampling: 100,
        recordIndex: 2,
      },
    ]);
  });

  it('recognises sFlow v5 by its first words', () => {
    expect(looksLikeSflow5(datagram([]))).toBe(true);
    expect(looksLikeSflow5(Uint8Array.from([0, 5, 0, 1, ...new Array<number>(30).fill(0)]))).toBe(false);
  });
});
