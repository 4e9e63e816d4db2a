import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DnsEvent } from '../../../common/schema/index.ts';
import type { DecodeEvent } from '../types.ts';
import { DnstapError, ProtobufError } from './errors.ts';
import { decodeDnstapFrame } from './event.ts';
import { createFrameStreamReceiver } from './frame-stream.ts';
import { MAX_PROTOBUF_FIELDS, MAX_VARINT_BYTES } from './limits.ts';
import { ProtoReader, ProtoWriter } from './protobuf.ts';
import { decodeDnstapPayload, encodeDnstapPayload, MESSAGE_TYPE, SOCKET_FAMILY } from './schema.ts';

/** Frame Streams file written by fstrm_capture from unbound 1.17.1 (testdata/README.md). */
const fixture = new Uint8Array(readFileSync(new URL('./testdata/unbound-1.17.1.fstrm', import.meta.url)));
const frames = createFrameStreamReceiver({ bidirectional: false }).push(fixture).data;

function decodeAll(): { events: DnsEvent[]; anomalies: DecodeEvent[] } {
  const events: DnsEvent[] = [];
  const anomalies: DecodeEvent[] = [];
  frames.forEach((f, i) => {
    const r = decodeDnstapFrame(f, { exporter: 'file', sequence: i });
    if (r.event) events.push(r.event);
    anomalies.push(...r.events);
  });
  return { events, anomalies };
}

describe('dnstap decoder on the unbound capture', () => {
  const { events, anomalies } = decodeAll();

  it('turns every frame into an event without anomalies', () => {
    expect(events).toHaveLength(48);
    expect(anomalies).toEqual([]);
    const byType = new Map<string, number>();
    for (const e of events) {
      const t = e.fields.dnsMessageType as string;
      byType.set(t, (byType.get(t) ?? 0) + 1);
    }
    expect(Object.fromEntries(byType)).toEqual({
      CLIENT_QUERY: 19,
      CLIENT_RESPONSE: 19,
      FORWARDER_QUERY: 3,
      FORWARDER_RESPONSE: 3,
      RESOLVER_QUERY: 2,
      RESOLVER_RESPONSE: 2,
    });
  });

  it('decodes a client query into a whole event', () => {
    expect(events[0]).toEqual({
      recordType: 'dns',
      protocol: 'dnstap',
      observation: {
        exporter: 'file',
        observationDomainId: 0,
        templateId: 0,
        sequence: 0,
        exportTime: 1795630255657,
      },
      recordIndex: 0,
      fields: {
        dnsMessageType: 'CLIENT_QUERY',
        protocolIdentifier: 17,
        dnsTransport: 'udp',
        sourceIPv4Address: '127.0.0.1',
        destinationIPv4Address: '127.0.0.1',
        sourceTransportPort: 42783,
        destinationTransportPort: 15353,
        eventTime: 1795630255657,
        dnsQueryTime: 1795630255657,
        dnsId: 18314,
        dnsIsResponse: false,
        dnsOpcode: 0,
        dnsFlags: 'rd ad',
        dnsTruncated: false,
        dnsQueryName: 'www.lab.test',
        dnsQueryType: 1,
        dnsQueryTypeName: 'A',
        dnsQueryClass: 1,
        dnsQuestionCount: 1,
        dnsAnswerCount: 0,
        dnsAuthorityCount: 0,
        dnsAdditionalCount: 1,
        dnsMessageSize: 53,
        dnsEdnsUdpSize: 1232,
        dnsEdnsVersion: 0,
        dnsEdnsDo: false,
      },
    });
  });

  it('decodes an NXDOMAIN client response into a whole event', () => {
    const e = events.find(
      (x) => x.fields.dnsMessageType === 'CLIENT_RESPONSE' && x.fields.dnsQueryName === 'nx.lab.test',
    );
    expect(e).toEqual({
      recordType: 'dns',
      protocol: 'dnstap',
      observation: {
        exporter: 'file',
        observationDomainId: 0,
        templateId: 0,
        sequence: 7,
        exportTime: 1795630255739,
      },
      recordIndex: 0,
      fields: {
        dnsMessageType: 'CLIENT_RESPONSE',
        protocolIdentifier: 17,
        dnsTransport: 'udp',
        sourceIPv4Address: '127.0.0.1',
        destinationIPv4Address: '127.0.0.1',
        sourceTransportPort: 48080,
        destinationTransportPort: 15353,
        eventTime: 1795630255739,
        dnsResponseTime: 1795630255739,
        dnsId: 20625,
        dnsIsResponse: true,
        dnsOpcode: 0,
        dnsFlags: 'qr aa rd ra',
        dnsTruncated: false,
        dnsQueryName: 'nx.lab.test',
        dnsQueryType: 1,
        dnsQueryTypeName: 'A',
        dnsQueryClass: 1,
        dnsQuestionCount: 1,
        dnsAnswerCount: 0,
        dnsAuthorityCount: 1,
        dnsAdditionalCount: 1,
        dnsMessageSize: 91,
        dnsResponseCode: 3,
        dnsResponseCodeName: 'NXDOMAIN',
        dnsAnswers: [],
        dnsTxtCount: 0,
        dnsTxtBytes: 0,
        dnsEdnsUdpSize: 1232,
        dnsEdnsVersion: 0,
        dnsEdnsDo: false,
      },
    });
  });

  it('decodes a forwarder response with its zone, query time and CNAME chain', () => {
    const e = events.find(
      (x) => x.fields.dnsMessageType === 'FORWARDER_RESPONSE' && x.fields.dnsQueryName === 'alias.fwd.test',
    );
    expect(e?.fields).toMatchObject({
      dnsQueryZone: 'fwd.test',
      sourceIPv4Address: '0.0.0.0',
      destinationIPv4Address: '127.0.0.1',
      destinationTransportPort: 15354,
      dnsQueryTime: 1795630256039,
      dnsResponseTime: 1795630256040,
      eventTime: 1795630256040,
      dnsFlags: 'qr aa rd ra',
      dnsAnswers: [{ name: 'alias.fwd.test', type: 5, ttl: 120, data: 'www.fwd.test' }],
    });
  });

  it('decodes a resolver (stub-zone) NXDOMAIN and the IPv6 client, the TCP query and the TC answer', () => {
    expect(
      events.find(
        (x) => x.fields.dnsMessageType === 'RESOLVER_RESPONSE' && x.fields.dnsQueryName === 'nope.stub.test',
      )?.fields,
    ).toMatchObject({ dnsQueryZone: 'stub.test', dnsResponseCodeName: 'NXDOMAIN', dnsFlags: 'qr aa ra cd' });
    expect(
      events.filter((x) => x.fields.sourceIPv6Address === '::1').map((x) => x.fields.dnsMessageType),
    ).toEqual(['CLIENT_QUERY', 'CLIENT_RESPONSE']);
    expect(
      events
        .filter((x) => x.fields.dnsTransport === 'tcp')
        .map((x) => [x.fields.protocolIdentifier, x.fields.dnsTxtBytes]),
    ).toEqual([
      [6, undefined],
      [6, 720],
    ]);
    expect(events.filter((x) => x.fields.dnsTruncated === true).map((x) => x.fields.dnsQueryName)).toEqual([
      'big.lab.test',
    ]);
  });

  it('never emits the server identity or version', () => {
    expect(decodeDnstapPayload(frames[0]!)).toMatchObject({ ok: true });
    const text = JSON.stringify(events);
    expect(text).not.toContain('resolver-lab-1');
    expect(text).not.toContain('unbound 1.17');
  });
});

describe('dnstap decoder on generated payloads', () => {
  it('decodes policy, IPv6 addresses and DoH from an encoded payload', () => {
    const q = Uint8Array.from(
      Buffer.from('abcd01000001000000000000076578616d706c6503636f6d0000010001', 'hex'),
    );
    const payload = encodeDnstapPayload({
      identity: new TextEncoder().encode('secret-id'),
      message: {
        type: MESSAGE_TYPE.CLIENT_QUERY,
        socketFamily: SOCKET_FAMILY.INET6,
        socketProtocol: 4,
        queryAddress: Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 5]),
        responseAddress: Uint8Array.from([...new Array<number>(15).fill(0), 1]),
        queryPort: 40000,
        responsePort: 443,
        queryTimeSec: 1_700_000_000,
        queryTimeNsec: 123_456_789,
        queryMessage: q,
        policy: { type: 'RPZ', action: 1, match: 1 },
      },
    });
    const r = decodeDnstapFrame(payload, { exporter: '192.0.2.1', sequence: 5 });
    expect(r.events).toEqual([]);
    expect(r.event?.fields).toMatchObject({
      dnsMessageType: 'CLIENT_QUERY',
      protocolIdentifier: 6,
      dnsTransport: 'doh',
      sourceIPv6Address: '2001:db8::5',
      destinationIPv6Address: '::1',
      sourceTransportPort: 40000,
      destinationTransportPort: 443,
      eventTime: 1_700_000_000_123,
      dnsQueryName: 'example.com',
      dnsPolicyType: 'RPZ',
      dnsPolicyAction: 'NXDOMAIN',
      dnsPolicyMatch: 'QNAME',
    });
    expect(JSON.stringify(r.event)).not.toContain('secret-id');
  });

  it('reports a malformed DNS message inside a valid payload and keeps the event', () => {
    const payload = encodeDnstapPayload({
      message: { type: MESSAGE_TYPE.CLIENT_QUERY, queryMessage: Uint8Array.of(1, 2, 3) },
    });
    const r = decodeDnstapFrame(payload, { exporter: 'file', sequence: 0 });
    expect(r.event?.fields.dnsMalformed).toBe('short-header');
    expect(r.events).toEqual([
      { kind: 'malformed', protocol: 'dns', exporter: 'file', reason: 'short-header', offset: 0 },
    ]);
  });

  it('reports payloads without a message or without its type', () => {
    const none = decodeDnstapPayload(new ProtoWriter().uint(15, 1).finish());
    expect(none.ok).toBe(false);
    if (!none.ok) {
      expect(none.error).toBeInstanceOf(DnstapError);
      expect(none.error.reason).toBe('not-a-message');
    }
    const noType = decodeDnstapFrame(
      new ProtoWriter().bytes(14, new ProtoWriter().uint(6, 53).finish()).finish(),
      {
        exporter: 'x',
        sequence: 0,
      },
    );
    expect(noType.event).toBeUndefined();
    expect(noType.events[0]).toMatchObject({
      kind: 'malformed',
      protocol: 'dnstap',
      reason: 'missing-message-type',
    });
  });
});

describe('protobuf reader', () => {
  it('reads what the writer wrote (varints up to 2^53, fixed32, bytes)', () => {
    const b = new ProtoWriter()
      .uint(1, 0)
      .uint(2, 300)
      .uint(3, 2 ** 53 - 1)
      .fixed32(4, 0xdeadbeef)
      .bytes(5, 'hi')
      .finish();
    const r = new ProtoReader(b);
    const got: unknown[] = [];
    while (r.next()) got.push([r.field, r.wire === 2 ? Array.from(r.bytes()) : r.number()]);
    expect(got).toEqual([
      [1, 0],
      [2, 300],
      [3, 2 ** 53 - 1],
      [4, 0xdeadbeef],
      [5, [104, 105]],
    ]);
  });

  it('refuses over-long varints, groups, truncated lengths and too many fields', () => {
    const reason = (b: number[]): string | undefined => {
      try {
        const r = new ProtoReader(Uint8Array.from(b));
        while (r.next()) r.skip();
        return undefined;
      } catch (err) {
        expect(err).toBeInstanceOf(ProtobufError);
        return (err as ProtobufError).reason;
      }
    };
    expect(reason([0x08, ...new Array<number>(MAX_VARINT_BYTES).fill(0xff), 1])).toBe('varint-too-long');
    expect(reason([0x0b])).toBe('bad-wire-type');
    expect(reason([0x12, 5, 1])).toBe('truncated');
    expect(reason([0x00, 0])).toBe('bad-field-number');
    expect(
      reason(
        new Array<number>((MAX_PROTOBUF_FIELDS + 1) * 2).fill(0).map((_, i) => (i % 2 === 0 ? 0x08 : 1)),
      ),
    ).toBe('too-many-fields');
  });

  it('never throws anything but ProtobufError, and never loops, on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        try {
          const r = new ProtoReader(b);
          let n = 0;
          while (r.next()) {
            r.skip();
            n++;
          }
          expect(n).toBeLessThanOrEqual(MAX_PROTOBUF_FIELDS);
        } catch (err) {
          expect(err).toBeInstanceOf(ProtobufError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('decodeDnstapFrame never throws on random or mutated payloads', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        const r = decodeDnstapFrame(b, { exporter: 'x', sequence: 0 });
        for (const e of r.events) expect(e.kind).toBe('malformed');
        if (r.event) expect(r.event.recordType).toBe('dns');
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: frames.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        (i, edits) => {
          const b = Uint8Array.from(frames[i]!);
          for (const [p, v] of edits) b[p % b.length] = v;
          const r = decodeDnstapFrame(b, { exporter: 'x', sequence: 0 });
          for (const e of r.events) if (e.kind === 'malformed') expect(e.reason).not.toBe('internal');
        },
      ),
      { numRuns: 2000 },
    );
  });
});
