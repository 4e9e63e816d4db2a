import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DecodedRecord, Fields } from '../../../common/schema/index.ts';
import { FlowBatch } from '../../../common/schema/index.ts';
import { createCaptureReader } from '../../input/pcap.ts';
import { PacketInfo, decodePacket, startFromLinkType } from '../packet/decode.ts';
import { ipv4String } from '../values.ts';
import type { DecodeEvent } from '../types.ts';
import { decodeSflowDatagram, decodeSflowDatagramToBatch } from './decode.ts';
import { createSflowState } from './state.ts';

// Real bytes: pmacctd's sfprobe plugin (Debian pmacct) exporting sFlow v5 from a capture of real
// clients and servers (src/collect/decode/testdata/README.md, scripts/make-fixtures.sh). The
// expected values are tshark's independent decoding of the same captures (testdata/README.md).

const fixtures = new URL('../testdata/', import.meta.url);
const mine = new URL('./testdata/', import.meta.url);

interface Datagram {
  bytes: Uint8Array;
  source: string;
  receivedAt: number;
}

/** UDP payloads sent to `port` in a capture, taken out with the packet decoder. */
function datagrams(name: string, port: number): Datagram[] {
  const reader = createCaptureReader();
  const { packets } = reader.push(readFileSync(new URL(`${name}.pcap`, fixtures)));
  const info = new PacketInfo();
  const out: Datagram[] = [];
  for (const p of packets) {
    decodePacket(p.data, 0, p.data.length, startFromLinkType(p.linkType), info);
    if (info.protocol !== 17 || info.dstPort !== port || info.payloadOffset < 0) continue;
    out.push({
      bytes: p.data.subarray(info.payloadOffset, info.payloadEnd),
      source: ipv4String(info.src[0]!),
      receivedAt: Math.floor(p.timestampMs),
    });
  }
  return out;
}

interface TsharkSample {
  datagram: { agent: string; subAgentId: number; sequence: number; uptime: number };
  kind: 'flow' | 'counters';
  seq: number;
  sourceIdType: number;
  sourceIdIndex: number;
  rate?: number;
  pool?: number;
  drops?: number;
  input?: number;
  output?: number;
  srcVlan?: number;
  dstVlan?: number;
  frameLength?: number;
  ipVersion?: number;
  src?: string;
  dst?: string;
  proto?: number;
  ttl?: number;
  tos?: number;
  ipLength?: number;
  srcPort?: number;
  dstPort?: number;
  tcpFlags?: number;
  tcpSeq?: number;
  icmpType?: number;
  icmpCode?: number;
  generic?: Record<string, number>;
}

function tshark(name: string): TsharkSample[] {
  const j = JSON.parse(readFileSync(new URL(`${name}.samples.json`, mine), 'utf8')) as {
    samples: TsharkSample[];
  };
  return j.samples;
}

function decodeAll(d: Datagram[]): { records: DecodedRecord[]; events: DecodeEvent[] } {
  const state = createSflowState();
  const records: DecodedRecord[] = [];
  const events: DecodeEvent[] = [];
  for (const x of d) {
    decodeSflowDatagram(x.bytes, { exporter: x.source, receivedAt: x.receivedAt }, state, {
      record: (r) => records.push(r),
      event: (e) => events.push(e),
    });
  }
  return { records, events };
}

/** The fields tshark's view says a record must have. */
function expectedFlowFields(t: TsharkSample): Fields {
  const f: Fields = {
    octetDeltaCount: t.frameLength!,
    packetDeltaCount: 1,
    sflowSampleSequence: t.seq,
    sflowSourceIdType: t.sourceIdType,
    sflowSourceIdIndex: t.sourceIdIndex,
    sflowSamplePool: t.pool!,
    sflowDrops: t.drops!,
    vlanId: t.srcVlan!,
    postVlanId: t.dstVlan!,
    ipVersion: t.ipVersion!,
    protocolIdentifier: t.proto!,
    ipTTL: t.ttl!,
    ipClassOfService: t.tos!,
    ipTotalLength: t.ipLength!,
  };
  if (t.ipVersion === 4) {
    f.sourceIPv4Address = t.src!;
    f.destinationIPv4Address = t.dst!;
  } else {
    f.sourceIPv6Address = t.src!;
    f.destinationIPv6Address = t.dst!;
  }
  if (t.srcPort !== undefined) {
    f.sourceTransportPort = t.srcPort;
    f.destinationTransportPort = t.dstPort!;
  }
  if (t.tcpFlags !== undefined) {
    f.tcpControlBits = t.tcpFlags;
    f.tcpSequenceNumber = t.tcpSeq!;
  }
  if (t.icmpType !== undefined)
    f[t.ipVersion === 4 ? 'icmpTypeCodeIPv4' : 'icmpTypeCodeIPv6'] = t.icmpType * 256 + t.icmpCode!;
  return f;
}

describe.each([
  ['pmacct-sfprobe', 52],
  ['pmacct-sfprobe-sampled', 6],
  ['pmacct-sfprobe-counters', 4],
])('sflow v5 decoder on pmacct sfprobe capture %s', (name, datagramCount) => {
  const d = datagrams(name, 6343);
  const expected = tshark(name);

  it('decodes every sample as tshark does', () => {
    expect(d).toHaveLength(datagramCount);
    const { records, events } = decodeAll(d);
    expect(events.filter((e) => e.kind === 'malformed')).toEqual([]);
    expect(records).toHaveLength(expected.length);
    records.forEach((r, i) => {
      const t = expected[i]!;
      expect(r.recordType).toBe(t.kind);
      expect(r.protocol).toBe('sflow5');
      expect(r.observation).toEqual({
        exporter: t.datagram.agent,
        observationDomainId: t.datagram.subAgentId,
        templateId: 0,
        sequence: t.datagram.sequence,
        exportTime: expect.any(Number) as number,
      });
      if (r.recordType === 'flow') {
        expect(r.samplingInterval).toBe(t.rate);
        // pmacct reports interfaces as unknown (0x3fffffff): no interface fields.
        expect(t.input).toBe(0x3fffffff);
        expect(r.fields).toMatchObject(expectedFlowFields(t));
        expect(r.fields.ingressInterface).toBeUndefined();
        expect(r.fields.egressInterface).toBeUndefined();
      } else {
        expect(r.fields).toMatchObject({
          sflowSampleSequence: t.seq,
          sflowSourceIdType: t.sourceIdType,
          sflowSourceIdIndex: t.sourceIdIndex,
          ...t.generic,
        });
      }
    });
  });

  it('finds no sequence anomalies in an orderly export', () => {
    const { events } = decodeAll(d);
    expect(events).toEqual([]);
  });

  it('fills the batch with the same flows', () => {
    const state = createSflowState();
    const batch = new FlowBatch(1024);
    const flows: Record<string, number>[] = [];
    for (const x of d) {
      decodeSflowDatagramToBatch(x.bytes, { exporter: x.source, receivedAt: x.receivedAt }, state, {
        batch,
        flush: () => batch.clear(),
      });
    }
    for (let i = 0; i < batch.length; i++) {
      flows.push({
        octets: batch.octets[i]!,
        proto: batch.proto[i]!,
        dstPort: batch.dstPort[i]!,
        v: batch.ipVersion[i]!,
      });
    }
    const t = expected.filter((s) => s.kind === 'flow');
    expect(flows).toEqual(
      t.map((s) => ({ octets: s.frameLength, proto: s.proto, dstPort: s.dstPort ?? 0, v: s.ipVersion })),
    );
  });
});

describe('sflow v5 decoder on a real datagram', () => {
  it('decodes pmacct datagrams to whole records', () => {
    const [first, second] = datagrams('pmacct-sfprobe-counters', 6343);
    const state = createSflowState();
    const records: DecodedRecord[] = [];
    const sink = { record: (r: DecodedRecord): number => records.push(r) };
    decodeSflowDatagram(first!.bytes, { exporter: '127.0.0.1', receivedAt: 1_000 }, state, sink);
    const observation = {
      exporter: '127.0.0.1',
      observationDomainId: 1,
      templateId: 0,
      sequence: 1,
      exportTime: 1_000,
    };
    // Values as `tshark -r pmacct-sfprobe-counters.pcap -d udp.port==6343,sflow -V` shows them.
    expect(records).toEqual([
      {
        recordType: 'flow',
        protocol: 'sflow5',
        observation,
        recordIndex: 0,
        samplingInterval: 64,
        fields: {
          ipVersion: 4,
          sourceIPv4Address: '127.0.0.1',
          destinationIPv4Address: '127.0.0.53',
          fragmentFlags: 0,
          protocolIdentifier: 17,
          ipClassOfService: 0,
          ipTTL: 64,
          ipTotalLength: 81,
          sourceTransportPort: 44823,
          destinationTransportPort: 53,
          octetDeltaCount: 85,
          packetDeltaCount: 1,
          vlanId: 0,
          postVlanId: 0,
          dot1qPriority: 0,
          sflowDstPriority: 0,
          flowStartMilliseconds: 1_000,
          flowEndMilliseconds: 1_000,
          sflowSourceIdType: 0,
          sflowSourceIdIndex: 1,
          sflowSampleSequence: 1,
          sflowSamplePool: 3,
          sflowDrops: 0,
        },
      },
      expect.objectContaining({ recordType: 'flow', recordIndex: 1 }) as DecodedRecord,
    ]);
    records.length = 0;
    decodeSflowDatagram(second!.bytes, { exporter: '127.0.0.1', receivedAt: 2_000 }, state, sink);
    expect(records.filter((r) => r.recordType === 'counters')).toEqual([
      {
        recordType: 'counters',
        protocol: 'sflow5',
        observation: { ...observation, sequence: 2, exportTime: 2_000 },
        recordIndex: records.findIndex((r) => r.recordType === 'counters'),
        fields: {
          sflowSourceIdType: 0,
          sflowSourceIdIndex: 1,
          sflowSampleSequence: 1,
          ifIndex: 1073741823,
          ifType: 6,
          ifSpeed: 100000000,
          ifDirection: 1,
          ifAdminStatus: 1,
          ifOperStatus: 1,
          ifInOctets: 3573,
          ifInUcastPkts: 2,
          ifInMulticastPkts: 40,
          ifInBroadcastPkts: 0,
          ifInDiscards: 0,
          ifInErrors: 0,
          ifInUnknownProtos: 0,
          ifOutOctets: 0,
          ifOutUcastPkts: 0,
          ifOutMulticastPkts: 0,
          ifOutBroadcastPkts: 0,
          ifOutDiscards: 0,
          ifOutErrors: 0,
          ifPromiscuousMode: 0,
        },
      },
    ]);
  });
});
