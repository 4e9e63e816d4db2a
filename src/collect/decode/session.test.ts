import { describe, expect, it } from 'vitest';
import { FlowBatch, type FlowRecord, type OptionsRecord } from '../../common/schema/index.ts';
import {
  encodeIpfixMessage,
  encodeNetflow5Message,
  encodeNetflow9Message,
  type EncodeTemplate,
} from '../../simulate/encode/index.ts';
import { DecoderStateError } from './errors.ts';
import { collectingSink, datagram, testSession } from './testing.ts';
import type { DecodeEvent } from './types.ts';

const T = Date.UTC(2026, 0, 1, 12); // export time used throughout
const flows = (s: ReturnType<typeof collectingSink>): FlowRecord[] =>
  s.records.filter((r): r is FlowRecord => r.recordType === 'flow');
const kinds = (events: DecodeEvent[]): string[] =>
  events.map((e) => e.kind).filter((k) => k !== 'clock-offset');

const V4: EncodeTemplate = {
  templateId: 256,
  fields: [
    'sourceIPv4Address',
    'destinationIPv4Address',
    'sourceTransportPort',
    'destinationTransportPort',
    'protocolIdentifier',
    'tcpControlBits',
    'octetDeltaCount',
    'packetDeltaCount',
    'flowStartMilliseconds',
    'flowEndMilliseconds',
    'ingressInterface',
    'egressInterface',
    'minimumTTL',
    'maximumTTL',
  ],
};
const v4rec = (i: number) => ({
  sourceIPv4Address: `10.0.0.${i}`,
  destinationIPv4Address: '192.0.2.77',
  sourceTransportPort: 40000 + i,
  destinationTransportPort: 443,
  protocolIdentifier: 6,
  tcpControlBits: 0x1b,
  octetDeltaCount: 1000 * i,
  packetDeltaCount: 10 + i,
  flowStartMilliseconds: T - 5000,
  flowEndMilliseconds: T - 1000,
  ingressInterface: 3,
  egressInterface: 7,
  minimumTTL: 60,
  maximumTTL: 64,
});

function ipfix(
  sequence: number,
  sets: Parameters<typeof encodeIpfixMessage>[0]['sets'],
  domain = 1,
): Uint8Array {
  return encodeIpfixMessage({ observationDomainId: domain, sequence, exportTime: T, sets });
}

describe('netflow v5 decoder', () => {
  it('decodes whole records with IANA names, sampling and absolute times', () => {
    const { session } = testSession();
    const sink = collectingSink();
    const rec = {
      sourceIPv4Address: '10.1.2.3',
      destinationIPv4Address: '198.51.100.9',
      ipNextHopIPv4Address: '10.0.0.254',
      ingressInterface: 2,
      egressInterface: 5,
      packetDeltaCount: 12,
      octetDeltaCount: 3456,
      flowStartSysUpTime: 99_000,
      flowEndSysUpTime: 99_900,
      sourceTransportPort: 51000,
      destinationTransportPort: 53,
      tcpControlBits: 0,
      protocolIdentifier: 17,
      ipClassOfService: 0x28,
      bgpSourceAsNumber: 64500,
      bgpDestinationAsNumber: 64501,
      sourceIPv4PrefixLength: 24,
      destinationIPv4PrefixLength: 16,
    };
    const bytes = encodeNetflow5Message({
      sequence: 1000,
      exportTime: T + 250,
      sysUptime: 100_000,
      samplingInterval: 100,
      engineType: 1,
      engineId: 2,
      records: [rec],
    });
    session.decode(datagram(bytes), sink);
    expect(sink.records).toEqual([
      {
        recordType: 'flow',
        protocol: 'netflow5',
        observation: {
          exporter: '192.0.2.1',
          observationDomainId: 258,
          templateId: 0,
          sequence: 1000,
          exportTime: T + 250,
        },
        recordIndex: 0,
        samplingInterval: 100,
        fields: {
          ...rec,
          engineType: 1,
          engineId: 2,
          flowStartMilliseconds: T + 250 - 1000,
          flowEndMilliseconds: T + 250 - 100,
        },
      },
    ]);
  });

  it('takes an unsampled header as interval 1, or the per-exporter override', () => {
    const bytes = encodeNetflow5Message({
      sequence: 0,
      exportTime: T,
      sysUptime: 1,
      samplingInterval: 0,
      engineType: 0,
      engineId: 0,
      records: [{}],
    });
    const a = testSession();
    const s1 = collectingSink();
    a.session.decode(datagram(bytes), s1);
    expect(flows(s1)[0]!.samplingInterval).toBe(1);
    const b = testSession({ samplingOverrides: { '192.0.2.1': 64 } });
    const s2 = collectingSink();
    b.session.decode(datagram(bytes), s2);
    expect(flows(s2)[0]!.samplingInterval).toBe(64);
  });

  it('counts lost flows, reordering and restarts by sequence', () => {
    const { session, metrics } = testSession();
    const sink = collectingSink();
    const msg = (sequence: number, n: number, sysUptime = 100_000) =>
      datagram(
        encodeNetflow5Message({
          sequence,
          exportTime: T,
          sysUptime,
          samplingInterval: 0,
          engineType: 0,
          engineId: 0,
          records: Array.from({ length: n }, () => ({})),
        }),
      );
    session.decode(msg(0, 5), sink); // next 5
    session.decode(msg(5, 5), sink); // ok, next 10
    session.decode(msg(20, 5), sink); // gap of 10 (10..19 lost), next 25
    session.decode(msg(10, 5), sink); // late: 5 of the 10 arrive after all
    session.decode(msg(25, 5, 100), sink); // uptime went back: restart
    expect(kinds(sink.events)).toEqual(['sequence-gap', 'sequence-reorder', 'exporter-restart']);
    const st = session.exporters()[0]!;
    expect(st).toMatchObject({ datagrams: 5, records: 25, lost: 5, reordered: 1, restarts: 1 });
    expect(metrics.snapshot()['decode_sequence_lost{protocol="netflow5"}']).toBe(10);
  });
});

describe('netflow v9 decoder', () => {
  const tpl: EncodeTemplate = {
    templateId: 260,
    fields: [
      'sourceIPv4Address',
      'destinationIPv4Address',
      { name: 'ingressInterface', length: 2 },
      { name: 'packetDeltaCount', length: 4 },
      { name: 'octetDeltaCount', length: 4 },
      'flowStartSysUpTime',
      'flowEndSysUpTime',
      'sourceTransportPort',
      'destinationTransportPort',
      { name: 'tcpControlBits', length: 1 },
      'protocolIdentifier',
      { name: 'samplerId', length: 1 },
    ],
  };
  const opts: EncodeTemplate = {
    templateId: 261,
    scopeCount: 1,
    fields: [{ name: 'scopeSystem', length: 4 }, { name: 'samplerId', length: 1 }, 'samplingInterval'],
  };

  it('decodes templates, options data (printed and applied) and data with sampling per sampler', () => {
    const { session } = testSession();
    const sink = collectingSink();
    const rec = {
      sourceIPv4Address: '10.9.8.7',
      destinationIPv4Address: '10.1.1.1',
      ingressInterface: 4,
      packetDeltaCount: 3,
      octetDeltaCount: 180,
      flowStartSysUpTime: 5_000,
      flowEndSysUpTime: 9_000,
      sourceTransportPort: 1234,
      destinationTransportPort: 22,
      tcpControlBits: 2,
      protocolIdentifier: 6,
      samplerId: 7,
    };
    const bytes = encodeNetflow9Message({
      sourceId: 42,
      sequence: 1,
      exportTime: T,
      sysUptime: 10_000,
      sets: [
        { kind: 'template', templates: [tpl] },
        { kind: 'options-template', templates: [opts] },
        { kind: 'data', template: opts, records: [{ scopeSystem: 1, samplerId: 7, samplingInterval: 512 }] },
        { kind: 'data', template: tpl, records: [rec, { ...rec, samplerId: 8 }] },
      ],
    });
    session.decode(datagram(bytes), sink);
    const observation = { exporter: '192.0.2.1', observationDomainId: 42, sequence: 1, exportTime: T };
    expect(sink.records[0]).toEqual({
      recordType: 'options',
      protocol: 'netflow9',
      observation: { ...observation, templateId: 261 },
      recordIndex: 0,
      scope: { scopeSystem: 1 },
      fields: { samplerId: 7, samplingInterval: 512 },
    } satisfies OptionsRecord);
    expect(sink.records[1]).toEqual({
      recordType: 'flow',
      protocol: 'netflow9',
      observation: { ...observation, templateId: 260 },
      recordIndex: 1,
      samplingInterval: 512,
      fields: { ...rec, flowStartMilliseconds: T - 5000, flowEndMilliseconds: T - 1000 },
    });
    // Sampler 8 is unknown: the record falls back to 1.
    expect((sink.records[2] as FlowRecord).samplingInterval).toBe(1);
    expect(kinds(sink.events)).toEqual(['template-added', 'template-added', 'sampling-changed']);
  });

  it('applies a rate change from the record that reports it', () => {
    const { session } = testSession();
    const sink = collectingSink();
    const wide: EncodeTemplate = {
      templateId: 262,
      scopeCount: 1,
      fields: [{ name: 'scopeSystem' }, 'samplingInterval'],
    };
    const t2: EncodeTemplate = { templateId: 263, fields: ['sourceIPv4Address'] };
    const msg = (seq: number, rate: number) =>
      datagram(
        encodeNetflow9Message({
          sourceId: 1,
          sequence: seq,
          exportTime: T,
          sysUptime: 10_000,
          sets: [
            { kind: 'data', template: t2, records: [{ sourceIPv4Address: '10.0.0.1' }] },
            { kind: 'data', template: wide, records: [{ scopeSystem: 0, samplingInterval: rate }] },
            { kind: 'data', template: t2, records: [{ sourceIPv4Address: '10.0.0.2' }] },
          ],
        }),
      );
    session.decode(
      datagram(
        encodeNetflow9Message({
          sourceId: 1,
          sequence: 0,
          exportTime: T,
          sysUptime: 10_000,
          sets: [
            { kind: 'template', templates: [t2] },
            { kind: 'options-template', templates: [wide] },
          ],
        }),
      ),
      sink,
    );
    session.decode(msg(1, 10), sink);
    session.decode(msg(2, 20), sink);
    expect(flows(sink).map((r) => r.samplingInterval)).toEqual([1, 10, 10, 20]);
  });
});

describe('ipfix decoder', () => {
  it('round-trips a template and data records', () => {
    const { session } = testSession();
    const sink = collectingSink();
    const recs = [v4rec(1), v4rec(2)];
    session.decode(
      datagram(
        ipfix(0, [
          { kind: 'template', templates: [V4] },
          { kind: 'data', template: V4, records: recs },
        ]),
      ),
      sink,
    );
    expect(flows(sink)).toEqual(
      recs.map((fields, i) => ({
        recordType: 'flow',
        protocol: 'ipfix',
        observation: {
          exporter: '192.0.2.1',
          observationDomainId: 1,
          templateId: 256,
          sequence: 0,
          exportTime: T,
        },
        recordIndex: i,
        samplingInterval: 1,
        fields,
      })),
    );
  });

  it('decodes variable-length fields (1- and 3-byte forms), enterprise IEs, reduced size, floats, booleans', () => {
    const { session } = testSession();
    const sink = collectingSink();
    const t: EncodeTemplate = {
      templateId: 300,
      fields: [
        'applicationName',
        { name: 'interfaceDescription' },
        { name: 'octetDeltaCount', length: 4 },
        { name: 'packetDeltaCount', length: 2 },
        { id: 7, enterprise: 12345, length: 4 }, // unknown vendor element
        'sourceIPv6Address',
        'sourceMacAddress',
        'dataRecordsReliability',
        { name: 'absoluteError', length: 4 },
        'flowStartMicroseconds',
        'flowEndSeconds',
        'ipClassOfService',
      ],
    };
    const long = 'x'.repeat(300); // needs the 3-byte length form
    const rec = {
      applicationName: 'dns',
      interfaceDescription: long,
      octetDeltaCount: 4_000_000_000,
      packetDeltaCount: 65535,
      e12345id7: 'deadbeef',
      sourceIPv6Address: '2001:db8::42',
      sourceMacAddress: '00:1b:21:aa:bb:cc',
      dataRecordsReliability: false,
      absoluteError: 0.5,
      flowStartMicroseconds: T + 0.5,
      flowEndSeconds: T,
      ipClassOfService: 0,
    };
    session.decode(
      datagram(
        ipfix(0, [
          { kind: 'template', templates: [t] },
          { kind: 'data', template: t, records: [rec] },
        ]),
      ),
      sink,
    );
    expect(flows(sink)[0]!.fields).toEqual(rec);
  });

  it('gives unsigned64 beyond 2^53-1 as a decimal string', () => {
    const { session } = testSession();
    const sink = collectingSink();
    const t: EncodeTemplate = { templateId: 301, fields: ['octetDeltaCount', 'packetDeltaCount'] };
    const rec = { octetDeltaCount: '18446744073709551615', packetDeltaCount: 2 ** 53 - 1 };
    session.decode(
      datagram(
        ipfix(0, [
          { kind: 'template', templates: [t] },
          { kind: 'data', template: t, records: [rec] },
        ]),
      ),
      sink,
    );
    expect(flows(sink)[0]!.fields).toEqual(rec);
  });

  it('decodes RFC 5103 biflow reverse elements', () => {
    const { session } = testSession();
    const sink = collectingSink();
    const t: EncodeTemplate = {
      templateId: 302,
      fields: ['sourceIPv4Address', 'octetDeltaCount', 'reverseOctetDeltaCount', 'reversePacketDeltaCount'],
    };
    const rec = {
      sourceIPv4Address: '10.0.0.1',
      octetDeltaCount: 10,
      reverseOctetDeltaCount: 20,
      reversePacketDeltaCount: 2,
    };
    session.decode(
      datagram(
        ipfix(0, [
          { kind: 'template', templates: [t] },
          { kind: 'data', template: t, records: [rec] },
        ]),
      ),
      sink,
    );
    expect(flows(sink)[0]!.fields).toEqual(rec);
    const batch = new FlowBatch(8);
    session.decodeToBatch(datagram(ipfix(1, [{ kind: 'data', template: t, records: [rec] }])), {
      batch,
      flush: () => batch.clear(),
    });
    expect([batch.octets[0], batch.revOctets[0], batch.revPackets[0]]).toEqual([10, 20, 2]);
  });

  it('decodes basicList and subTemplateList into arrays', () => {
    const { session } = testSession();
    const sink = collectingSink();
    const inner: EncodeTemplate = { templateId: 400, fields: ['sourceIPv4Address', 'sourceTransportPort'] };
    const t: EncodeTemplate = {
      templateId: 401,
      fields: [
        'protocolIdentifier',
        { name: 'basicList', list: { kind: 'basicList', element: 'interfaceName', semantic: 3 } },
        { name: 'subTemplateList', list: { kind: 'subTemplateList', template: inner, semantic: 3 } },
      ],
    };
    const rec = {
      protocolIdentifier: 6,
      basicList: ['eth0', 'eth1'],
      subTemplateList: [
        { sourceIPv4Address: '10.0.0.1', sourceTransportPort: 1 },
        { sourceIPv4Address: '10.0.0.2', sourceTransportPort: 2 },
      ],
    };
    session.decode(
      datagram(
        ipfix(0, [
          { kind: 'template', templates: [inner, t] },
          { kind: 'data', template: t, records: [rec] },
        ]),
      ),
      sink,
    );
    expect(flows(sink)[0]!.fields).toEqual(rec);
  });

  it('learns sampling from options data per selector id and exporter-wide', () => {
    const { session } = testSession();
    const sink = collectingSink();
    const opt: EncodeTemplate = {
      templateId: 500,
      scopeCount: 1,
      fields: ['selectorId', 'samplingPacketInterval', 'samplingPacketSpace'],
    };
    const wide: EncodeTemplate = {
      templateId: 501,
      scopeCount: 1,
      fields: ['observationDomainId', 'samplingInterval'],
    };
    const data: EncodeTemplate = { templateId: 502, fields: ['sourceIPv4Address', 'selectorId'] };
    const own: EncodeTemplate = { templateId: 503, fields: ['sourceIPv4Address', 'samplingInterval'] };
    session.decode(
      datagram(
        ipfix(0, [
          { kind: 'options-template', templates: [opt, wide] },
          { kind: 'template', templates: [data, own] },
          {
            kind: 'data',
            template: opt,
            records: [{ selectorId: 9, samplingPacketInterval: 1, samplingPacketSpace: 99 }],
          },
          { kind: 'data', template: wide, records: [{ observationDomainId: 1, samplingInterval: 1000 }] },
          {
            kind: 'data',
            template: data,
            records: [
              { sourceIPv4Address: '10.0.0.1', selectorId: 9 },
              { sourceIPv4Address: '10.0.0.2', selectorId: 10 },
            ],
          },
          { kind: 'data', template: own, records: [{ sourceIPv4Address: '10.0.0.3', samplingInterval: 7 }] },
        ]),
      ),
      sink,
    );
    expect(flows(sink).map((r) => r.samplingInterval)).toEqual([100, 1000, 7]);
    expect(session.exportState().sampling).toEqual([
      { exporter: '192.0.2.1', protocol: 'ipfix', observationDomainId: 1, samplerId: 9, interval: 100 },
      { exporter: '192.0.2.1', protocol: 'ipfix', observationDomainId: 1, samplerId: -1, interval: 1000 },
    ]);
  });

  it('withdraws single templates and all templates', () => {
    const { session, metrics } = testSession();
    const sink = collectingSink();
    const a: EncodeTemplate = { templateId: 256, fields: ['sourceIPv4Address'] };
    const b: EncodeTemplate = { templateId: 257, fields: ['destinationIPv4Address'] };
    session.decode(datagram(ipfix(0, [{ kind: 'template', templates: [a, b] }])), sink);
    session.decode(datagram(ipfix(0, [{ kind: 'withdrawal', templateIds: [256] }])), sink);
    session.decode(
      datagram(ipfix(0, [{ kind: 'data', template: a, records: [{ sourceIPv4Address: '1.1.1.1' }] }])),
      sink,
    );
    expect(flows(sink)).toHaveLength(0);
    session.decode(datagram(ipfix(0, [{ kind: 'withdrawal', templateIds: [2] }])), sink);
    expect(session.exporters()[0]!.templates).toBe(0);
    expect(metrics.snapshot().decode_templates_withdrawn).toBe(2);
    expect(metrics.snapshot().decode_templates_held).toBe(0);
  });

  it('replaces a redefined template and refreshes an identical one silently', () => {
    const { session } = testSession();
    const sink = collectingSink();
    const a: EncodeTemplate = { templateId: 256, fields: ['sourceIPv4Address'] };
    const a2: EncodeTemplate = { templateId: 256, fields: ['destinationIPv4Address'] };
    session.decode(datagram(ipfix(0, [{ kind: 'template', templates: [a] }])), sink);
    session.decode(datagram(ipfix(0, [{ kind: 'template', templates: [a] }])), sink);
    session.decode(datagram(ipfix(0, [{ kind: 'template', templates: [a2] }])), sink);
    session.decode(
      datagram(ipfix(0, [{ kind: 'data', template: a2, records: [{ destinationIPv4Address: '2.2.2.2' }] }])),
      sink,
    );
    expect(kinds(sink.events)).toEqual(['template-added', 'template-changed']);
    expect(flows(sink)[0]!.fields).toEqual({ destinationIPv4Address: '2.2.2.2' });
  });

  it('holds data that arrives before its template and decodes it when the template comes', () => {
    const { session } = testSession();
    const sink = collectingSink();
    session.decode(datagram(ipfix(0, [{ kind: 'data', template: V4, records: [v4rec(1)] }])), sink);
    session.decode(datagram(ipfix(1, [{ kind: 'data', template: V4, records: [v4rec(2), v4rec(3)] }])), sink);
    expect(flows(sink)).toHaveLength(0);
    session.decode(datagram(ipfix(3, [{ kind: 'template', templates: [V4] }])), sink);
    expect(flows(sink).map((r) => r.fields)).toEqual([v4rec(1), v4rec(2), v4rec(3)]);
    expect(flows(sink).map((r) => r.observation.sequence)).toEqual([0, 1, 1]);
    expect(kinds(sink.events)).toEqual([
      'template-missing',
      'pending-buffered',
      'template-missing',
      'pending-buffered',
      'template-added',
      'pending-decoded',
      'pending-decoded',
    ]);
  });

  it('bounds the pending buffer and drops stale sets on tick', () => {
    const { session, metrics } = testSession({ pendingMaxSets: 2, pendingMaxAgeMs: 1000 });
    const sink = collectingSink();
    for (let i = 0; i < 3; i++)
      session.decode(
        datagram(ipfix(i, [{ kind: 'data', template: V4, records: [v4rec(i)] }]), '192.0.2.1', T),
        sink,
      );
    session.tick(T + 5000, sink);
    expect(metrics.snapshot()['decode_pending_dropped{reason="overflow"}']).toBe(1);
    expect(metrics.snapshot()['decode_pending_dropped{reason="timeout"}']).toBe(2);
    session.decode(datagram(ipfix(3, [{ kind: 'template', templates: [V4] }])), sink);
    expect(flows(sink)).toHaveLength(0);
  });

  it('expires templates not refreshed within the timeout', () => {
    const { session } = testSession({ templateTimeoutMs: 10_000 });
    const sink = collectingSink();
    session.decode(datagram(ipfix(0, [{ kind: 'template', templates: [V4] }]), '192.0.2.1', T), sink);
    session.tick(T + 5_000, sink);
    expect(session.exporters()[0]!.templates).toBe(1);
    session.tick(T + 10_001, sink);
    expect(session.exporters()[0]!.templates).toBe(0);
    expect(kinds(sink.events)).toContain('template-expired');
  });

  it('keeps templates of different exporters and domains apart', () => {
    const { session } = testSession();
    const sink = collectingSink();
    const other: EncodeTemplate = { templateId: 256, fields: ['destinationTransportPort'] };
    session.decode(datagram(ipfix(0, [{ kind: 'template', templates: [V4] }]), '192.0.2.1'), sink);
    session.decode(datagram(ipfix(0, [{ kind: 'template', templates: [other] }]), '192.0.2.2'), sink);
    session.decode(
      datagram(ipfix(0, [{ kind: 'data', template: V4, records: [v4rec(1)] }]), '192.0.2.1'),
      sink,
    );
    session.decode(
      datagram(
        ipfix(0, [{ kind: 'data', template: other, records: [{ destinationTransportPort: 53 }] }]),
        '192.0.2.2',
      ),
      sink,
    );
    // Same exporter, other domain: no template there.
    session.decode(
      datagram(ipfix(0, [{ kind: 'data', template: V4, records: [v4rec(1)] }], 2), '192.0.2.1'),
      sink,
    );
    expect(flows(sink).map((r) => [r.observation.exporter, r.fields])).toEqual([
      ['192.0.2.1', v4rec(1)],
      ['192.0.2.2', { destinationTransportPort: 53 }],
    ]);
  });

  it('exports and imports its state so that a restart keeps decoding', () => {
    const a = testSession();
    const sink = collectingSink();
    a.session.decode(datagram(ipfix(0, [{ kind: 'template', templates: [V4] }])), sink);
    const state = JSON.parse(JSON.stringify(a.session.exportState())) as unknown;
    const b = testSession();
    b.session.importState(state);
    b.session.decode(datagram(ipfix(0, [{ kind: 'data', template: V4, records: [v4rec(5)] }])), sink);
    expect(flows(sink)[0]!.fields).toEqual(v4rec(5));
    expect(b.session.exportState().templates).toEqual(a.session.exportState().templates);
  });

  it('rejects invalid state with DecoderStateError', () => {
    const { session } = testSession();
    for (const bad of [
      null,
      { version: 2, templates: [], sampling: [] },
      { version: 1, templates: [{}], sampling: [] },
      {
        version: 1,
        templates: [
          {
            exporter: 'x',
            protocol: 'ipfix',
            observationDomainId: 0,
            templateId: 12,
            scopeCount: 0,
            fields: [{ id: 1, length: 4, enterprise: 0 }],
            lastSeen: 0,
          },
        ],
        sampling: [],
      },
      {
        version: 1,
        templates: [],
        sampling: [{ exporter: 'x', observationDomainId: 0, samplerId: 1, interval: -1 }],
      },
    ]) {
      expect(() => session.importState(bad)).toThrow(DecoderStateError);
    }
  });

  it('counts lost data records, reordering and restarts by sequence', () => {
    const { session } = testSession();
    const sink = collectingSink();
    session.decode(datagram(ipfix(0, [{ kind: 'template', templates: [V4] }])), sink);
    const data = (seq: number, n: number) =>
      datagram(
        ipfix(seq, [{ kind: 'data', template: V4, records: Array.from({ length: n }, (_, i) => v4rec(i)) }]),
      );
    session.decode(data(0, 3), sink); // next 3
    session.decode(data(13, 2), sink); // 10 lost, next 15
    session.decode(data(3, 4), sink); // late
    session.decode(data(4_000_000_000, 1), sink); // far back (signed): restart
    expect(kinds(sink.events).filter((k) => k.startsWith('sequence') || k === 'exporter-restart')).toEqual([
      'sequence-gap',
      'sequence-reorder',
      'exporter-restart',
    ]);
    expect(session.exporters()[0]).toMatchObject({ lost: 6, reordered: 1, restarts: 1 });
  });

  it('raises exporter-silent once per silence and measures the clock offset', () => {
    const { session, metrics } = testSession({ silenceAlarmMs: 1000 });
    const sink = collectingSink();
    session.decode(datagram(ipfix(0, [{ kind: 'template', templates: [V4] }]), '192.0.2.1', T + 1500), sink);
    session.tick(T + 2000, sink);
    session.tick(T + 3000, sink);
    session.tick(T + 4000, sink);
    expect(sink.events.filter((e) => e.kind === 'exporter-silent')).toHaveLength(1);
    expect(metrics.snapshot().decode_exporters_silent).toBe(1);
    expect(session.exporters()[0]!.clockOffsetMs).toBe(1500);
  });

  it('reports unsupported versions', () => {
    const { session, metrics } = testSession();
    const sink = collectingSink();
    session.decode(datagram(new Uint8Array([0, 7, 0, 0])), sink);
    expect(sink.events).toEqual([{ kind: 'unsupported-version', exporter: '192.0.2.1', version: 7 }]);
    expect(metrics.snapshot().decode_unsupported_versions).toBe(1);
  });
});
