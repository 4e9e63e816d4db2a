import type { DnsEvent, Fields, Observation } from '../../../common/schema/index.ts';
import type { DecodeEvent } from '../types.ts';
import { ipv4At, ipv6At } from '../values.ts';
import { decodeDnsMessageToFields } from '../dns/fields.ts';
import { parseDnsMessage } from '../dns/parse.ts';
import {
  decodeDnstapPayload,
  MESSAGE_TYPE_NAMES,
  POLICY_ACTION_NAMES,
  POLICY_MATCH_NAMES,
  SOCKET_FAMILY,
  SOCKET_PROTOCOLS,
  type DnstapMessage,
} from './schema.ts';

/** Where a dnstap payload came from: the sender and a sequence number for the record id. */
export interface DnstapContext {
  /** The dnstap sender: peer address (TCP), `unix:PATH` (unix socket) or `file`. */
  exporter: string;
  /**
   * Position of the frame in what the input has read (per listener or per file), so that
   * exporter + sequence identify the event (DESIGN section 6, recordId).
   */
  sequence: number;
}

/** Outcome of turning one dnstap frame into an event. */
export interface DnstapEventResult {
  /** The event, unless the payload was not a usable dnstap Message. */
  event: DnsEvent | undefined;
  /** Anomalies: a payload that could not be decoded, a DNS message that could not be read fully. */
  events: DecodeEvent[];
}

/**
 * Decodes one dnstap data frame into a `DnsEvent` (`recordType: 'dns'`, `protocol: 'dnstap'`).
 * Pure; never throws. The DNS message fields are those of `decodeDnsMessageToFields` (see there);
 * dnstap adds:
 *
 * - `dnsMessageType` (string): `CLIENT_QUERY`, `CLIENT_RESPONSE`, `RESOLVER_QUERY`,
 *   `RESOLVER_RESPONSE`, `FORWARDER_QUERY`, `AUTH_RESPONSE`, … (`TYPE<n>` for unknown numbers).
 * - `sourceIPv4Address` / `sourceIPv6Address`: the query address (the message initiator: the
 *   client for CLIENT_*, the resolver itself for RESOLVER_* and FORWARDER_*).
 * - `destinationIPv4Address` / `destinationIPv6Address`: the response address (the responder).
 * - `sourceTransportPort`, `destinationTransportPort`: query and response ports.
 * - `protocolIdentifier` (17 or 6): the IP protocol the DNS transport runs over; `dnsTransport`
 *   (`udp`, `tcp`, `dot`, `doh`, `dnscrypt-udp`, `dnscrypt-tcp`, `doq`).
 * - `eventTime` (epoch ms): the response time for *_RESPONSE messages, the query time otherwise
 *   (falling back to whichever is present); `dnsQueryTime`, `dnsResponseTime` (epoch ms) when
 *   present.
 * - `dnsQueryZone`: the bailiwick of resolver queries (lower-case, no trailing dot).
 * - `dnsPolicyType`, `dnsPolicyAction`, `dnsPolicyMatch`: operator policy (e.g. RPZ) applied.
 *
 * The DNS message parsed is the response message for *_RESPONSE types and the query message
 * otherwise (falling back to the other when the expected one is absent). The server identity,
 * version and `extra` of the payload are never emitted: the identity can identify a provider's
 * server and is not needed for detection.
 */
export function decodeDnstapFrame(bytes: Uint8Array, ctx: DnstapContext): DnstapEventResult {
  const d = decodeDnstapPayload(bytes);
  if (!d.ok) {
    return {
      event: undefined,
      events: [
        {
          kind: 'malformed',
          protocol: 'dnstap',
          exporter: ctx.exporter,
          reason: d.error.reason,
          offset: d.error.offset,
        },
      ],
    };
  }
  const m = d.payload.message!;
  const fields: Fields = {};
  const events: DecodeEvent[] = [];
  const isResponse = m.type % 2 === 0 && m.type >= 2 && m.type <= 14;
  fields.dnsMessageType = MESSAGE_TYPE_NAMES[m.type] ?? `TYPE${m.type}`;

  const transport = m.socketProtocol === undefined ? undefined : SOCKET_PROTOCOLS[m.socketProtocol];
  if (transport) {
    fields.protocolIdentifier = transport.ipProtocol;
    fields.dnsTransport = transport.name;
  }
  putAddress(fields, m, m.queryAddress, 'source');
  putAddress(fields, m, m.responseAddress, 'destination');
  if (m.queryPort !== undefined && m.queryPort <= 0xffff) fields.sourceTransportPort = m.queryPort;
  if (m.responsePort !== undefined && m.responsePort <= 0xffff)
    fields.destinationTransportPort = m.responsePort;

  const qt = timeMs(m.queryTimeSec, m.queryTimeNsec);
  const rt = timeMs(m.responseTimeSec, m.responseTimeNsec);
  const eventTime = isResponse ? (rt ?? qt) : (qt ?? rt);
  if (eventTime !== undefined) fields.eventTime = eventTime;
  if (qt !== undefined) fields.dnsQueryTime = qt;
  if (rt !== undefined) fields.dnsResponseTime = rt;

  if (m.queryZone) {
    const zone = wireName(m.queryZone);
    if (zone !== undefined) fields.dnsQueryZone = zone;
  }
  if (m.policy) {
    if (m.policy.type !== undefined) fields.dnsPolicyType = m.policy.type;
    if (m.policy.action !== undefined)
      fields.dnsPolicyAction = POLICY_ACTION_NAMES[m.policy.action] ?? `ACTION${m.policy.action}`;
    if (m.policy.match !== undefined)
      fields.dnsPolicyMatch = POLICY_MATCH_NAMES[m.policy.match] ?? `MATCH${m.policy.match}`;
  }

  const dns = isResponse ? (m.responseMessage ?? m.queryMessage) : (m.queryMessage ?? m.responseMessage);
  if (dns) {
    const r = decodeDnsMessageToFields(dns, fields);
    if (r.error) {
      events.push({
        kind: 'malformed',
        protocol: 'dns',
        exporter: ctx.exporter,
        reason: r.error.reason,
        offset: r.error.offset,
      });
    }
  }

  const observation: Observation = {
    exporter: ctx.exporter,
    observationDomainId: 0,
    templateId: 0,
    sequence: ctx.sequence,
    exportTime: eventTime ?? 0,
  };
  return {
    event: { recordType: 'dns', protocol: 'dnstap', observation, recordIndex: 0, fields },
    events,
  };
}

/** Writes an address field named after the family: by `socket_family`, else by the length. */
function putAddress(
  f: Fields,
  m: DnstapMessage,
  a: Uint8Array | undefined,
  side: 'source' | 'destination',
): void {
  if (!a) return;
  const fam =
    m.socketFamily ?? (a.length === 4 ? SOCKET_FAMILY.INET : a.length === 16 ? SOCKET_FAMILY.INET6 : 0);
  if (fam === SOCKET_FAMILY.INET && a.length === 4) f[`${side}IPv4Address`] = ipv4At(a, 0);
  else if (fam === SOCKET_FAMILY.INET6 && a.length === 16) f[`${side}IPv6Address`] = ipv6At(a, 0);
}

/** Epoch milliseconds from dnstap's seconds + nanoseconds (nanoseconds beyond 1e9 are ignored). */
function timeMs(sec: number | undefined, nsec: number | undefined): number | undefined {
  if (sec === undefined) return undefined;
  const ns = nsec !== undefined && nsec < 1e9 ? nsec : 0;
  return sec * 1000 + Math.floor(ns / 1e6);
}

/**
 * A wire-format name outside a message (dnstap's query_zone): parsed by wrapping it in a minimal
 * question so the DNS parser's checks and presentation rules apply; compression is impossible
 * there (pointers would point into the header, which the parser refuses).
 */
function wireName(b: Uint8Array): string | undefined {
  if (b.length > 255) return undefined;
  const msg = new Uint8Array(12 + b.length + 4);
  msg[5] = 1; // QDCOUNT = 1
  msg.set(b, 12);
  const r = parseDnsMessage(msg);
  return r.status === 'ok' ? r.message.questions[0]?.name : undefined;
}
