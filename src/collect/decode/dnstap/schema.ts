import { DnstapError, ProtobufError } from './errors.ts';
import { ProtoReader, ProtoWriter } from './protobuf.ts';

/**
 * The dnstap schema (dnstap.proto, public domain, from the dnstap project): field numbers and
 * enumerations, a decoder from protobuf bytes to typed objects and an encoder for tests and the
 * simulator. Only the numbers are taken from the schema; the code is our own.
 */

/** `Dnstap` field numbers. */
export const DNSTAP_FIELD = { identity: 1, version: 2, extra: 3, message: 14, type: 15 } as const;

/** `Dnstap.Type`: which payload is filled in (only MESSAGE is defined). */
export const DNSTAP_TYPE_MESSAGE = 1;

/** `Message` field numbers. */
export const MESSAGE_FIELD = {
  type: 1,
  socketFamily: 2,
  socketProtocol: 3,
  queryAddress: 4,
  responseAddress: 5,
  queryPort: 6,
  responsePort: 7,
  queryTimeSec: 8,
  queryTimeNsec: 9,
  queryMessage: 10,
  queryZone: 11,
  responseTimeSec: 12,
  responseTimeNsec: 13,
  responseMessage: 14,
  policy: 15,
  httpProtocol: 16,
} as const;

/** `Policy` field numbers. */
export const POLICY_FIELD = { type: 1, rule: 2, action: 3, match: 4, value: 5 } as const;

/** `Message.Type` names by number (index = number). */
export const MESSAGE_TYPE_NAMES: readonly (string | undefined)[] = [
  undefined,
  'AUTH_QUERY',
  'AUTH_RESPONSE',
  'RESOLVER_QUERY',
  'RESOLVER_RESPONSE',
  'CLIENT_QUERY',
  'CLIENT_RESPONSE',
  'FORWARDER_QUERY',
  'FORWARDER_RESPONSE',
  'STUB_QUERY',
  'STUB_RESPONSE',
  'TOOL_QUERY',
  'TOOL_RESPONSE',
  'UPDATE_QUERY',
  'UPDATE_RESPONSE',
];

/** `Message.Type` numbers by name. */
export const MESSAGE_TYPE = {
  AUTH_QUERY: 1,
  AUTH_RESPONSE: 2,
  RESOLVER_QUERY: 3,
  RESOLVER_RESPONSE: 4,
  CLIENT_QUERY: 5,
  CLIENT_RESPONSE: 6,
  FORWARDER_QUERY: 7,
  FORWARDER_RESPONSE: 8,
  STUB_QUERY: 9,
  STUB_RESPONSE: 10,
  TOOL_QUERY: 11,
  TOOL_RESPONSE: 12,
  UPDATE_QUERY: 13,
  UPDATE_RESPONSE: 14,
} as const;

/** `SocketFamily`. */
export const SOCKET_FAMILY = { INET: 1, INET6: 2 } as const;

/**
 * `SocketProtocol` names (index = number), lower-case as they appear in `dnsTransport`, and the
 * IP protocol each runs over (DoQ is QUIC, i.e. UDP; DoT and DoH over TCP as deployed today).
 */
export const SOCKET_PROTOCOLS: readonly ({ name: string; ipProtocol: number } | undefined)[] = [
  undefined,
  { name: 'udp', ipProtocol: 17 },
  { name: 'tcp', ipProtocol: 6 },
  { name: 'dot', ipProtocol: 6 },
  { name: 'doh', ipProtocol: 6 },
  { name: 'dnscrypt-udp', ipProtocol: 17 },
  { name: 'dnscrypt-tcp', ipProtocol: 6 },
  { name: 'doq', ipProtocol: 17 },
];

/** `Policy.Action` names (index = number). */
export const POLICY_ACTION_NAMES: readonly (string | undefined)[] = [
  undefined,
  'NXDOMAIN',
  'NODATA',
  'PASS',
  'DROP',
  'TRUNCATE',
  'LOCAL_DATA',
];

/** `Policy.Match` names (index = number). */
export const POLICY_MATCH_NAMES: readonly (string | undefined)[] = [
  undefined,
  'QNAME',
  'CLIENT_IP',
  'RESPONSE_IP',
  'NS_NAME',
  'NS_IP',
];

/** A decoded `Policy` (the rule and matched value are kept as bytes; the event does not use them). */
export interface DnstapPolicy {
  type?: string;
  rule?: Uint8Array;
  action?: number;
  match?: number;
  value?: Uint8Array;
}

/** A decoded `Message`. Byte fields are views into the frame (valid as long as the frame is). */
export interface DnstapMessage {
  type: number;
  socketFamily?: number;
  socketProtocol?: number;
  queryAddress?: Uint8Array;
  responseAddress?: Uint8Array;
  queryPort?: number;
  responsePort?: number;
  queryTimeSec?: number;
  queryTimeNsec?: number;
  queryMessage?: Uint8Array;
  queryZone?: Uint8Array;
  responseTimeSec?: number;
  responseTimeNsec?: number;
  responseMessage?: Uint8Array;
  policy?: DnstapPolicy;
  httpProtocol?: number;
}

/** A decoded `Dnstap` payload. */
export interface DnstapPayload {
  type?: number;
  identity?: Uint8Array;
  version?: Uint8Array;
  extra?: Uint8Array;
  message?: DnstapMessage;
}

/** Outcome of decoding one dnstap payload. */
export type DnstapDecodeResult = { ok: true; payload: DnstapPayload } | { ok: false; error: DnstapError };

/**
 * Decodes one `Dnstap` protobuf payload (a Frame Streams data frame). Pure; never throws. A payload
 * without a `Message`, or whose message lacks its required `type`, is an error: nothing can be
 * reported from it. Unknown fields are skipped, as protobuf requires.
 */
export function decodeDnstapPayload(bytes: Uint8Array): DnstapDecodeResult {
  try {
    const r = new ProtoReader(bytes);
    const p: DnstapPayload = {};
    let messageAt = -1;
    let messageEnd = -1;
    while (r.next()) {
      switch (r.field) {
        case DNSTAP_FIELD.identity:
          p.identity = r.bytesOrSkip();
          break;
        case DNSTAP_FIELD.version:
          p.version = r.bytesOrSkip();
          break;
        case DNSTAP_FIELD.extra:
          p.extra = r.bytesOrSkip();
          break;
        case DNSTAP_FIELD.type:
          p.type = r.number();
          break;
        case DNSTAP_FIELD.message: {
          const v = r.bytesOrSkip();
          if (v) {
            messageEnd = r.offset;
            messageAt = messageEnd - v.length;
          }
          break;
        }
        default:
          r.skip();
      }
    }
    if (messageAt < 0) {
      return { ok: false, error: new DnstapError('not-a-message', 'dnstap payload has no Message', 0) };
    }
    const m = decodeMessage(bytes, messageAt, messageEnd);
    if (m === undefined) {
      return {
        ok: false,
        error: new DnstapError('missing-message-type', 'dnstap Message has no type', messageAt),
      };
    }
    p.message = m;
    return { ok: true, payload: p };
  } catch (err) {
    if (err instanceof ProtobufError) {
      return { ok: false, error: new DnstapError(err.reason, err.message, err.offset, { cause: err }) };
    }
    throw err;
  }
}

function decodeMessage(b: Uint8Array, start: number, end: number): DnstapMessage | undefined {
  const r = new ProtoReader(b, start, end);
  const m: Partial<DnstapMessage> = {};
  while (r.next()) {
    switch (r.field) {
      case MESSAGE_FIELD.type:
        m.type = r.number();
        break;
      case MESSAGE_FIELD.socketFamily:
        m.socketFamily = r.number();
        break;
      case MESSAGE_FIELD.socketProtocol:
        m.socketProtocol = r.number();
        break;
      case MESSAGE_FIELD.queryAddress:
        m.queryAddress = r.bytesOrSkip();
        break;
      case MESSAGE_FIELD.responseAddress:
        m.responseAddress = r.bytesOrSkip();
        break;
      case MESSAGE_FIELD.queryPort:
        m.queryPort = r.number();
        break;
      case MESSAGE_FIELD.responsePort:
        m.responsePort = r.number();
        break;
      case MESSAGE_FIELD.queryTimeSec:
        m.queryTimeSec = r.number();
        break;
      case MESSAGE_FIELD.queryTimeNsec:
        m.queryTimeNsec = r.number();
        break;
      case MESSAGE_FIELD.queryMessage:
        m.queryMessage = r.bytesOrSkip();
        break;
      case MESSAGE_FIELD.queryZone:
        m.queryZone = r.bytesOrSkip();
        break;
      case MESSAGE_FIELD.responseTimeSec:
        m.responseTimeSec = r.number();
        break;
      case MESSAGE_FIELD.responseTimeNsec:
        m.responseTimeNsec = r.number();
        break;
      case MESSAGE_FIELD.responseMessage:
        m.responseMessage = r.bytesOrSkip();
        break;
      case MESSAGE_FIELD.policy: {
        const v = r.bytesOrSkip();
        if (v) m.policy = decodePolicy(v);
        break;
      }
      case MESSAGE_FIELD.httpProtocol:
        m.httpProtocol = r.number();
        break;
      default:
        r.skip();
    }
  }
  if (m.type === undefined) return undefined;
  return m as DnstapMessage;
}

function decodePolicy(b: Uint8Array): DnstapPolicy {
  const r = new ProtoReader(b);
  const p: DnstapPolicy = {};
  while (r.next()) {
    switch (r.field) {
      case POLICY_FIELD.type: {
        const v = r.bytesOrSkip();
        if (v) p.type = new TextDecoder().decode(v);
        break;
      }
      case POLICY_FIELD.rule:
        p.rule = r.bytesOrSkip();
        break;
      case POLICY_FIELD.action:
        p.action = r.number();
        break;
      case POLICY_FIELD.match:
        p.match = r.number();
        break;
      case POLICY_FIELD.value:
        p.value = r.bytesOrSkip();
        break;
      default:
        r.skip();
    }
  }
  return p;
}

/** Encodes a `Dnstap` payload (type MESSAGE): for tests, generated fixtures and the simulator. */
export function encodeDnstapPayload(p: DnstapPayload): Uint8Array {
  const w = new ProtoWriter();
  if (p.identity) w.bytes(DNSTAP_FIELD.identity, p.identity);
  if (p.version) w.bytes(DNSTAP_FIELD.version, p.version);
  if (p.extra) w.bytes(DNSTAP_FIELD.extra, p.extra);
  if (p.message) w.bytes(DNSTAP_FIELD.message, encodeMessage(p.message));
  w.uint(DNSTAP_FIELD.type, p.type ?? DNSTAP_TYPE_MESSAGE);
  return w.finish();
}

function encodeMessage(m: DnstapMessage): Uint8Array {
  const w = new ProtoWriter();
  const F = MESSAGE_FIELD;
  w.uint(F.type, m.type);
  if (m.socketFamily !== undefined) w.uint(F.socketFamily, m.socketFamily);
  if (m.socketProtocol !== undefined) w.uint(F.socketProtocol, m.socketProtocol);
  if (m.queryAddress) w.bytes(F.queryAddress, m.queryAddress);
  if (m.responseAddress) w.bytes(F.responseAddress, m.responseAddress);
  if (m.queryPort !== undefined) w.uint(F.queryPort, m.queryPort);
  if (m.responsePort !== undefined) w.uint(F.responsePort, m.responsePort);
  if (m.queryTimeSec !== undefined) w.uint(F.queryTimeSec, m.queryTimeSec);
  if (m.queryTimeNsec !== undefined) w.fixed32(F.queryTimeNsec, m.queryTimeNsec);
  if (m.queryMessage) w.bytes(F.queryMessage, m.queryMessage);
  if (m.queryZone) w.bytes(F.queryZone, m.queryZone);
  if (m.responseTimeSec !== undefined) w.uint(F.responseTimeSec, m.responseTimeSec);
  if (m.responseTimeNsec !== undefined) w.fixed32(F.responseTimeNsec, m.responseTimeNsec);
  if (m.responseMessage) w.bytes(F.responseMessage, m.responseMessage);
  if (m.policy) {
    const pw = new ProtoWriter();
    if (m.policy.type !== undefined) pw.bytes(POLICY_FIELD.type, m.policy.type);
    if (m.policy.rule) pw.bytes(POLICY_FIELD.rule, m.policy.rule);
    if (m.policy.action !== undefined) pw.uint(POLICY_FIELD.action, m.policy.action);
    if (m.policy.match !== undefined) pw.uint(POLICY_FIELD.match, m.policy.match);
    if (m.policy.value) pw.bytes(POLICY_FIELD.value, m.policy.value);
    w.bytes(F.policy, pw.finish());
  }
  if (m.httpProtocol !== undefined) w.uint(F.httpProtocol, m.httpProtocol);
  return w.finish();
}
