import { describe, expect, it } from 'vitest';
import { decodeDnstapFrame } from '../../collect/decode/dnstap/index.ts';
import { parseDnsMessage } from '../../collect/decode/dns/index.ts';
import type { Fields } from '../../common/schema/index.ts';
import { dnstapMessageFromFields, encodeDnsMessage, encodeDnstapMessage } from './dnstap.ts';

const T = Date.UTC(2026, 0, 1, 9);

function roundTrip(f: Fields): Fields {
  const r = decodeDnstapFrame(encodeDnstapMessage(dnstapMessageFromFields(f)), {
    exporter: 'file',
    sequence: 0,
  });
  expect(r.events).toEqual([]);
  return r.event!.fields;
}

describe('dnstap and DNS message encoders', () => {
  it('client query over IPv6 with EDNS', () => {
    const f: Fields = {
      dnsMessageType: 'CLIENT_QUERY',
      sourceIPv6Address: '2001:db8::10',
      destinationIPv6Address: '2001:db8::53',
      sourceTransportPort: 40000,
      destinationTransportPort: 53,
      eventTime: T,
      dnsId: 1,
      dnsQueryName: 'mail.example.org',
      dnsQueryType: 28,
      dnsEdnsUdpSize: 1232,
      dnsEdnsDo: true,
    };
    expect(roundTrip(f)).toMatchObject({
      ...f,
      dnsQueryTime: T,
      dnsIsResponse: false,
      dnsTransport: 'udp',
      dnsEdnsVersion: 0,
    });
  });

  it('resolver response with CNAME, A, AAAA and TXT answers', () => {
    const f: Fields = {
      dnsMessageType: 'RESOLVER_RESPONSE',
      sourceIPv4Address: '10.0.0.53',
      destinationIPv4Address: '198.51.100.1',
      sourceTransportPort: 33333,
      destinationTransportPort: 53,
      dnsQueryTime: T,
      dnsResponseTime: T + 30,
      dnsId: 77,
      dnsQueryName: 'www.example.com',
      dnsQueryType: 1,
      dnsResponseCode: 0,
      dnsQueryZone: 'example.com',
      dnsAnswers: [
        { name: 'www.example.com', type: 5, ttl: 60, data: 'edge.cdn.example.net' },
        { name: 'edge.cdn.example.net', type: 1, ttl: 20, data: '192.0.2.7' },
        { name: 'edge.cdn.example.net', type: 28, ttl: 20, data: '2001:db8::7' },
        { name: 'www.example.com', type: 16, ttl: 20 },
      ],
      dnsTxtCount: 1,
      dnsTxtBytes: 300,
    };
    const out = roundTrip(f);
    expect(out).toMatchObject({ ...f, eventTime: T + 30, dnsAnswerCount: 4, dnsResponseCodeName: 'NOERROR' });
  });

  it('NXDOMAIN over TCP, and extended rcodes through EDNS', () => {
    const nx = roundTrip({
      dnsMessageType: 'CLIENT_RESPONSE',
      dnsTransport: 'tcp',
      sourceIPv4Address: '10.1.1.1',
      destinationIPv4Address: '10.0.0.53',
      dnsResponseTime: T,
      dnsQueryName: 'qxjzvk.example',
      dnsQueryType: 1,
      dnsResponseCode: 3,
    });
    expect(nx).toMatchObject({ dnsResponseCodeName: 'NXDOMAIN', protocolIdentifier: 6, dnsAnswerCount: 0 });
    const bad = roundTrip({
      dnsMessageType: 'CLIENT_RESPONSE',
      dnsQueryName: 'x.example',
      dnsResponseCode: 16,
      dnsEdnsUdpSize: 4096,
    });
    expect(bad.dnsResponseCode).toBe(16);
  });

  it('compresses repeated names with pointers', () => {
    const m = encodeDnsMessage({
      id: 1,
      response: true,
      question: { name: 'a.example.com', type: 1 },
      answers: [
        { type: 1, ttl: 1, data: '192.0.2.1' },
        { type: 1, ttl: 1, data: '192.0.2.2' },
      ],
    });
    // header 12 + question (15 + 4) + 2 answers of (2 pointer + 10 + 4)
    expect(m.length).toBe(12 + 19 + 2 * 16);
    const p = parseDnsMessage(m);
    expect(p.status).toBe('ok');
    expect(p.message?.answers.map((a) => a.data)).toEqual(['192.0.2.1', '192.0.2.2']);
  });
});
