/**
 * Building records as acd's decoders print them: flows with IANA field names (one direction per
 * record, as routers export them) and DNS events with the dnstap decoder's names.
 */
import type { Fields, FieldValue } from '../../common/schema/index.ts';
import type { Rng } from '../country/index.ts';
import { DNS_RR, encodeDnsMessage, type DnsAnswerInput } from '../encode/dnstap.ts';
import type { GeneratedRecord } from '../traffic/types.ts';
import type { Env } from './run.ts';
import { familyOf } from './world.ts';

/** TCP flag bits (RFC 9293). */
export const TCP = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 } as const;
/** A whole short connection as one side sends it: SYN, data, FIN, all acknowledged. */
export const TCP_SESSION = TCP.SYN | TCP.ACK | TCP.PSH | TCP.FIN;
/** IP protocol numbers. */
export const PROTO = { TCP: 6, UDP: 17 } as const;
/** `flowEndReason` values (IANA): why the exporter ended the flow record. */
export const END_REASON = { idle: 1, active: 2, end: 3, forced: 4 } as const;
/** IP + TCP header bytes without options (IPv4, IPv6). */
export const TCP_HEADER = { 4: 40, 6: 60 } as const;
/** IP + UDP header bytes (IPv4, IPv6). */
export const UDP_HEADER = { 4: 28, 6: 48 } as const;

/** One direction of a flow. */
export interface FlowSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto: number;
  packets: number;
  octets: number;
  start: number;
  end: number;
  flags?: number;
  /** Observed TTL (min, max). */
  ttl?: [number, number];
  endReason?: number;
}

/** The flow's fields (IANA names, addresses in canonical text). */
export function flowFields(s: FlowSpec): Fields {
  const v6 = familyOf(s.src) === 6;
  const f: Fields = {};
  f[v6 ? 'sourceIPv6Address' : 'sourceIPv4Address'] = s.src;
  f[v6 ? 'destinationIPv6Address' : 'destinationIPv4Address'] = s.dst;
  f.sourceTransportPort = s.sport;
  f.destinationTransportPort = s.dport;
  f.protocolIdentifier = s.proto;
  if (s.proto === PROTO.TCP) f.tcpControlBits = s.flags ?? 0;
  f.octetDeltaCount = Math.max(1, Math.round(s.octets));
  f.packetDeltaCount = Math.max(1, Math.round(s.packets));
  f.flowStartMilliseconds = Math.floor(s.start);
  f.flowEndMilliseconds = Math.floor(s.end);
  if (s.ttl) {
    f.minimumTTL = s.ttl[0];
    f.maximumTTL = s.ttl[1];
  }
  f.flowEndReason =
    s.endReason ??
    (s.flags !== undefined && s.flags & (TCP.FIN | TCP.RST) ? END_REASON.end : END_REASON.idle);
  return f;
}

/** A flow record carried by the provider of its domestic endpoint. */
export function flowRecord(env: Env, s: FlowSpec): GeneratedRecord {
  return {
    kind: 'flow',
    time: Math.floor(s.end),
    providerId: env.world.carrier(s.src, s.dst),
    fields: flowFields(s),
    label: env.label,
  };
}

function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The TTL an exporter sees from a host: its operating system's initial TTL (64, 128 or 255)
 * minus the hops to the exporter (1–4 from a domestic host, 8–25 from abroad). Derived from the
 * address, so one host always shows the same TTL, as it does on a real path.
 */
export function ttlOf(env: Env, address: string, initial?: number): [number, number] {
  const h = hash32(address);
  const init = initial ?? [64, 64, 128, 255][h & 3]!;
  const hops = env.world.isDomestic(address) ? 1 + ((h >>> 4) % 4) : 8 + ((h >>> 4) % 18);
  const t = init - hops;
  return [t, t];
}

/** An ephemeral source port (Linux range 32768–60999, the most common client stack). */
export function ephemeralPort(rng: Rng): number {
  return rng.range(32768, 60999);
}

/** A DNS answer as the decoder prints it (`data` absent for TXT). */
export interface DnsAnswer {
  name: string;
  type: number;
  ttl: number;
  data?: string;
}

/** One client query and its response, as the resolver's dnstap `CLIENT_RESPONSE` shows it. */
export interface DnsSpec {
  client: string;
  resolver: string;
  clientPort: number;
  /** Response time (the event time). */
  time: number;
  /** Query-to-response delay (ms). */
  rttMs: number;
  id: number;
  qname: string;
  qtype: number;
  rcode: number;
  answers: DnsAnswer[];
  /** TXT answers: text size in bytes per record. */
  txtSizes?: number[];
}

const TYPE_NAMES: Record<number, string> = { 1: 'A', 5: 'CNAME', 16: 'TXT', 28: 'AAAA' };
const RCODE_NAMES: Record<number, string> = { 0: 'NOERROR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 5: 'REFUSED' };
/** EDNS(0) buffer size resolvers advertise since DNS Flag Day 2020. */
const EDNS_UDP_SIZE = 1232;

/** Size of the response on the wire (the real encoder's output, so the decoder prints the same). */
function messageSize(s: DnsSpec): number {
  let txt = 0;
  const answers: DnsAnswerInput[] = s.answers.map((a) =>
    a.type === DNS_RR.TXT
      ? { name: a.name, type: a.type, ttl: a.ttl, data: 'x'.repeat(s.txtSizes?.[txt++] ?? 0) }
      : { name: a.name, type: a.type, ttl: a.ttl, data: a.data ?? '' },
  );
  return encodeDnsMessage({
    id: s.id,
    response: true,
    rcode: s.rcode,
    question: { name: s.qname, type: s.qtype },
    answers,
    edns: { udpSize: EDNS_UDP_SIZE },
  }).length;
}

/** The DNS event's fields (dnstap decoder names). */
export function dnsFields(s: DnsSpec): Fields {
  const v6 = familyOf(s.client) === 6;
  const txtSizes = s.txtSizes ?? [];
  const answers: FieldValue[] = s.answers.map((a) => {
    const o: { [k: string]: FieldValue } = { name: a.name, type: a.type, ttl: a.ttl };
    if (a.data !== undefined && a.type !== DNS_RR.TXT) o.data = a.data;
    return o;
  });
  const f: Fields = {
    dnsMessageType: 'CLIENT_RESPONSE',
    protocolIdentifier: PROTO.UDP,
    dnsTransport: 'udp',
  };
  f[v6 ? 'sourceIPv6Address' : 'sourceIPv4Address'] = s.client;
  f[v6 ? 'destinationIPv6Address' : 'destinationIPv4Address'] = s.resolver;
  f.sourceTransportPort = s.clientPort;
  f.destinationTransportPort = 53;
  f.eventTime = s.time;
  f.dnsQueryTime = s.time - s.rttMs;
  f.dnsResponseTime = s.time;
  f.dnsId = s.id;
  f.dnsIsResponse = true;
  f.dnsOpcode = 0;
  f.dnsFlags = 'qr rd ra';
  f.dnsTruncated = false;
  f.dnsQueryName = s.qname;
  f.dnsQueryType = s.qtype;
  f.dnsQueryTypeName = TYPE_NAMES[s.qtype] ?? `TYPE${s.qtype}`;
  f.dnsQueryClass = 1;
  f.dnsQuestionCount = 1;
  f.dnsAnswerCount = answers.length;
  f.dnsAuthorityCount = 0;
  f.dnsAdditionalCount = 1;
  f.dnsMessageSize = messageSize(s);
  f.dnsResponseCode = s.rcode;
  f.dnsResponseCodeName = RCODE_NAMES[s.rcode] ?? `RCODE${s.rcode}`;
  f.dnsAnswers = answers;
  f.dnsTxtCount = txtSizes.length;
  f.dnsTxtBytes = txtSizes.reduce((a, b) => a + b, 0);
  f.dnsEdnsUdpSize = EDNS_UDP_SIZE;
  f.dnsEdnsVersion = 0;
  f.dnsEdnsDo = false;
  return f;
}

/** A DNS event observed by the resolver's provider. */
export function dnsRecord(env: Env, s: DnsSpec): GeneratedRecord {
  return {
    kind: 'dns',
    time: Math.floor(s.time),
    providerId: env.world.providerOf(s.resolver)?.id ?? env.world.carrier(s.client, s.resolver),
    fields: dnsFields(s),
    label: env.label,
  };
}

/** The resolver a domestic client uses: one of its provider's resolvers of the same family. */
export function resolverOf(env: Env, client: string, rng: Rng): string {
  const fam = familyOf(client);
  const p = env.world.providerOf(client) ?? env.world.model.providers[0]!;
  const same = p.resolvers.filter((r) => familyOf(r) === fam);
  if (same.length > 0) return rng.pick(same);
  const any = env.world.model.providers.flatMap((x) => x.resolvers.filter((r) => familyOf(r) === fam));
  return any.length > 0 ? rng.pick(any) : rng.pick(p.resolvers);
}

/** Letters for random-looking names. */
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
/** RFC 4648 base32 alphabet, lower case (what DNS tunnels encode data with). */
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** `n` random characters of `alphabet`. */
export function randomText(rng: Rng, n: number, alphabet: string = LETTERS): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}

/** Base32 text of `n` characters. */
export function base32Text(rng: Rng, n: number): string {
  return randomText(rng, n, BASE32);
}
