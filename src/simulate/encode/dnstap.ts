/**
 * dnstap and DNS message encoders for the simulator. The dnstap payload is protobuf (dnstap.proto,
 * from the dnstap project: field numbers only), written by hand: varints, fixed32 and
 * length-delimited fields. DNS messages follow RFC 1035 (name compression, A/AAAA/CNAME/TXT
 * answers) with an EDNS(0) OPT record (RFC 6891) and extended response codes.
 */
import type { Fields, FieldValue } from '../../common/schema/index.ts';
import { EncodeError } from './errors.ts';
import { addressBytes } from './sflow.ts';

// ---- protobuf -------------------------------------------------------------------------------

/** Protobuf wire types used here. */
const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** A growable protobuf writer (the simulator's DNS rate is modest; simplicity first). */
class Pb {
  private buf = new Uint8Array(256);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  /** A varint of a non-negative integer up to 2^53 (arithmetic, since bit operators stop at 32). */
  varint(v: number): void {
    if (!Number.isInteger(v) || v < 0) throw new EncodeError(`varint needs a non-negative integer, got ${v}`);
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.length++] = v;
  }
  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }
  uint(field: number, v: number): void {
    this.tag(field, WIRE_VARINT);
    this.varint(v);
  }
  fixed32(field: number, v: number): void {
    this.tag(field, WIRE_I32);
    this.ensure(4);
    // Protobuf fixed-width values are little-endian.
    this.buf[this.length++] = v & 0xff;
    this.buf[this.length++] = (v >>> 8) & 0xff;
    this.buf[this.length++] = (v >>> 16) & 0xff;
    this.buf[this.length++] = (v >>> 24) & 0xff;
  }
  bytes(field: number, b: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** dnstap `Message.Type` numbers of the message kinds the simulator writes (and the others). */
export const DNSTAP_MESSAGE_TYPES = {
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
} as const;

/** A dnstap message type name. */
export type DnstapMessageTypeName = keyof typeof DNSTAP_MESSAGE_TYPES;

/** dnstap `SocketProtocol` numbers. */
const SOCKET_PROTOCOL = { udp: 1, tcp: 2, dot: 3, doh: 4 } as const;

/** What one dnstap message says (times in epoch milliseconds, fractional parts kept to the µs). */
export interface DnstapMessageInput {
  type: DnstapMessageTypeName;
  /** DNS transport; default udp. */
  transport?: keyof typeof SOCKET_PROTOCOL;
  /** Query (initiator) and response (responder) addresses: IPv4 or IPv6 text of one family. */
  queryAddress?: string;
  responseAddress?: string;
  queryPort?: number;
  responsePort?: number;
  queryTimeMs?: number;
  responseTimeMs?: number;
  /** Wire-format DNS messages. */
  queryMessage?: Uint8Array;
  responseMessage?: Uint8Array;
  /** Bailiwick of a resolver query (text, e.g. `example.com`). */
  queryZone?: string;
  /** Server identity and version strings (dnstap's `identity`, `version`). */
  identity?: string;
  version?: string;
}

const DNSTAP = { identity: 1, version: 2, message: 14, type: 15 } as const;
const MSG = {
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
} as const;

function putTime(w: Pb, secField: number, nsecField: number, ms: number): void {
  const sec = Math.floor(ms / 1000);
  w.uint(secField, sec);
  w.fixed32(nsecField, Math.min(999_999_999, Math.round((ms - sec * 1000) * 1e6)));
}

/** Encodes one `Dnstap` protobuf payload of type MESSAGE (a Frame Streams data frame's content). */
export function encodeDnstapMessage(m: DnstapMessageInput): Uint8Array {
  const w = new Pb();
  w.uint(MSG.type, DNSTAP_MESSAGE_TYPES[m.type]);
  const q = m.queryAddress !== undefined ? addressBytes(m.queryAddress) : undefined;
  const r = m.responseAddress !== undefined ? addressBytes(m.responseAddress) : undefined;
  const fam = (q ?? r)?.length;
  if (fam !== undefined) w.uint(MSG.socketFamily, fam === 4 ? 1 : 2);
  w.uint(MSG.socketProtocol, SOCKET_PROTOCOL[m.transport ?? 'udp']);
  if (q) w.bytes(MSG.queryAddress, q);
  if (r) w.bytes(MSG.responseAddress, r);
  if (m.queryPort !== undefined) w.uint(MSG.queryPort, m.queryPort);
  if (m.responsePort !== undefined) w.uint(MSG.responsePort, m.responsePort);
  if (m.queryTimeMs !== undefined) putTime(w, MSG.queryTimeSec, MSG.queryTimeNsec, m.queryTimeMs);
  if (m.queryMessage) w.bytes(MSG.queryMessage, m.queryMessage);
  if (m.queryZone !== undefined) w.bytes(MSG.queryZone, encodeName(m.queryZone));
  if (m.responseTimeMs !== undefined) putTime(w, MSG.responseTimeSec, MSG.responseTimeNsec, m.responseTimeMs);
  if (m.responseMessage) w.bytes(MSG.responseMessage, m.responseMessage);
  const msg = w.finish();
  const top = new Pb();
  if (m.identity !== undefined) top.bytes(DNSTAP.identity, new TextEncoder().encode(m.identity));
  if (m.version !== undefined) top.bytes(DNSTAP.version, new TextEncoder().encode(m.version));
  top.bytes(DNSTAP.message, msg);
  top.uint(DNSTAP.type, 1); // Dnstap.Type MESSAGE
  return top.finish();
}

// ---- DNS messages ---------------------------------------------------------------------------

/** DNS RR type numbers the encoder writes data for. */
export const DNS_RR = { A: 1, CNAME: 5, TXT: 16, AAAA: 28, OPT: 41 } as const;

/** One answer record. `data`: the address (A/AAAA), target name (CNAME) or text (TXT). */
export interface DnsAnswerInput {
  /** Owner name; defaults to the question name. */
  name?: string;
  type: number;
  ttl: number;
  data: string;
}

/** A DNS query or response to encode. */
export interface DnsMessageInput {
  id: number;
  response: boolean;
  opcode?: number;
  /** Header flags; `rd` defaults to true (stub queries ask for recursion), `ra` to `response`. */
  aa?: boolean;
  tc?: boolean;
  rd?: boolean;
  ra?: boolean;
  ad?: boolean;
  cd?: boolean;
  /** Response code (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ...); values above 15 need `edns`. */
  rcode?: number;
  question: { name: string; type: number; class?: number };
  answers?: DnsAnswerInput[];
  /** EDNS(0) OPT record in the additional section. */
  edns?: { udpSize: number; version?: number; do?: boolean };
}

/** Limit of a DNS name on the wire (RFC 1035 section 3.1). */
const MAX_NAME_BYTES = 255;
/** Limit of one label (RFC 1035 section 2.3.4). */
const MAX_LABEL_BYTES = 63;

/** A name in uncompressed wire format (`example.com` -> 7example3com0). */
export function encodeName(name: string): Uint8Array {
  const labels = name === '.' || name === '' ? [] : name.replace(/\.$/, '').split('.');
  const parts = labels.map((l) => new TextEncoder().encode(l));
  const out = new Uint8Array(parts.reduce((n, p) => n + 1 + p.length, 1));
  if (out.length > MAX_NAME_BYTES) throw new EncodeError(`dns name longer than 255 bytes: ${name}`);
  let o = 0;
  for (const p of parts) {
    if (p.length === 0 || p.length > MAX_LABEL_BYTES) throw new EncodeError(`bad dns label in ${name}`);
    out[o++] = p.length;
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Writer with RFC 1035 name compression (section 4.1.4): suffixes seen before become pointers. */
class DnsWriter {
  buf = new Uint8Array(512);
  length = 0;
  private readonly names = new Map<string, number>();
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v & 0xff;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf[this.length++] = (v >> 8) & 0xff;
    this.buf[this.length++] = v & 0xff;
  }
  u32(v: number): void {
    this.u16(Math.floor(v / 65536) & 0xffff);
    this.u16(v & 0xffff);
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  name(name: string): void {
    encodeName(name); // validates lengths
    const labels = name === '.' || name === '' ? [] : name.replace(/\.$/, '').split('.');
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      const at = this.names.get(suffix);
      if (at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      // Pointers have 14 bits of offset; names further in are written out in full.
      if (this.length < 0x3fff) this.names.set(suffix, this.length);
      const l = new TextEncoder().encode(labels[i]);
      this.u8(l.length);
      this.bytes(l);
    }
    this.u8(0);
  }
}

/** Encodes a DNS query or response (RFC 1035), answers in order, OPT last. */
export function encodeDnsMessage(m: DnsMessageInput): Uint8Array {
  const w = new DnsWriter();
  const rcode = m.rcode ?? 0;
  if (rcode > 15 && !m.edns) throw new EncodeError('extended rcode needs an EDNS OPT record');
  const flags =
    (m.response ? 0x8000 : 0) |
    (((m.opcode ?? 0) & 0xf) << 11) |
    (m.aa ? 0x0400 : 0) |
    (m.tc ? 0x0200 : 0) |
    ((m.rd ?? true) ? 0x0100 : 0) |
    ((m.ra ?? m.response) ? 0x0080 : 0) |
    (m.ad ? 0x0020 : 0) |
    (m.cd ? 0x0010 : 0) |
    (rcode & 0xf);
  const answers = m.response ? (m.answers ?? []) : [];
  w.u16(m.id & 0xffff);
  w.u16(flags);
  w.u16(1);
  w.u16(answers.length);
  w.u16(0);
  w.u16(m.edns ? 1 : 0);
  w.name(m.question.name);
  w.u16(m.question.type);
  w.u16(m.question.class ?? 1);
  for (const a of answers) {
    w.name(a.name ?? m.question.name);
    w.u16(a.type);
    w.u16(1);
    w.u32(a.ttl >>> 0);
    const lenAt = w.length;
    w.u16(0);
    const start = w.length;
    switch (a.type) {
      case DNS_RR.A:
      case DNS_RR.AAAA: {
        const b = addressBytes(a.data);
        if (b.length !== (a.type === DNS_RR.A ? 4 : 16))
          throw new EncodeError(`address ${a.data} for type ${a.type}`);
        w.bytes(b);
        break;
      }
      case DNS_RR.CNAME:
        w.name(a.data);
        break;
      case DNS_RR.TXT: {
        // TXT data is a sequence of character-strings of at most 255 bytes each.
        const t = new TextEncoder().encode(a.data);
        for (let o = 0; o < t.length || o === 0; o += 255) {
          const part = t.subarray(o, Math.min(t.length, o + 255));
          w.u8(part.length);
          w.bytes(part);
          if (t.length === 0) break;
        }
        break;
      }
      default:
        throw new EncodeError(`dns answer type ${a.type} not supported by the encoder`);
    }
    const len = w.length - start;
    w.buf[lenAt] = len >> 8;
    w.buf[lenAt + 1] = len & 0xff;
  }
  if (m.edns) {
    w.u8(0); // root owner name
    w.u16(DNS_RR.OPT);
    w.u16(m.edns.udpSize);
    // TTL field of OPT: extended rcode (upper 8 bits of 12), version, DO bit, zero.
    w.u8(rcode >> 4);
    w.u8(m.edns.version ?? 0);
    w.u16(m.edns.do ? 0x8000 : 0);
    w.u16(0);
  }
  return w.buf.slice(0, w.length);
}

// ---- from the decoder's field names ---------------------------------------------------------

function str(v: FieldValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function numOr(v: FieldValue | undefined, d: number): number {
  return typeof v === 'number' ? v : d;
}

/**
 * Builds the dnstap message for a DNS event given with the field names the dnstap decoder prints
 * (`dnsMessageType`, `sourceIPv4Address`/`sourceIPv6Address` = query address,
 * `destinationIPv4Address`/... = response address, `sourceTransportPort`, `destinationTransportPort`,
 * `dnsTransport`, `eventTime`, `dnsQueryTime`, `dnsResponseTime`, `dnsId`, `dnsQueryName`,
 * `dnsQueryType`, `dnsQueryClass`, `dnsResponseCode`, `dnsAnswers` [{name,type,ttl,data}],
 * `dnsTxtCount`/`dnsTxtBytes` (TXT answers without data get filler text of that size),
 * `dnsEdnsUdpSize`, `dnsEdnsDo`, `dnsFlags`, `dnsQueryZone`). Response types carry the query time
 * too (as resolvers log it) and a response message; query types a query message.
 */
export function dnstapMessageFromFields(f: Fields): DnstapMessageInput {
  const typeName = str(f.dnsMessageType) ?? 'CLIENT_QUERY';
  if (!(typeName in DNSTAP_MESSAGE_TYPES)) throw new EncodeError(`unknown dnstap message type ${typeName}`);
  const type = typeName as DnstapMessageTypeName;
  const isResponse = DNSTAP_MESSAGE_TYPES[type] % 2 === 0;
  const flags = str(f.dnsFlags);
  const hasFlag = (x: string, d: boolean): boolean =>
    flags === undefined ? d : flags.split(' ').includes(x);
  const txtCount = numOr(f.dnsTxtCount, 0);
  const txtBytes = numOr(f.dnsTxtBytes, 0);
  const answers: DnsAnswerInput[] = [];
  const list = Array.isArray(f.dnsAnswers) ? f.dnsAnswers : [];
  let txtSeen = 0;
  for (const a of list) {
    if (typeof a !== 'object' || a === null || Array.isArray(a)) continue;
    const t = numOr(a.type, 1);
    const ans: DnsAnswerInput = { type: t, ttl: numOr(a.ttl, 300), data: str(a.data) ?? '' };
    if (typeof a.name === 'string') ans.name = a.name;
    if (t === DNS_RR.TXT && a.data === undefined) {
      // Decoded events keep no TXT contents, only their sizes: spread the bytes over the records.
      const share = txtCount > 0 ? Math.floor(txtBytes / txtCount) : 0;
      ans.data = 'x'.repeat(
        Math.max(0, share + (txtSeen === txtCount - 1 ? txtBytes - share * txtCount : 0)),
      );
      txtSeen++;
    }
    answers.push(ans);
  }
  const msg: DnsMessageInput = {
    id: numOr(f.dnsId, 0),
    response: isResponse,
    rd: hasFlag('rd', true),
    ra: hasFlag('ra', isResponse),
    aa: hasFlag('aa', false),
    ad: hasFlag('ad', false),
    cd: hasFlag('cd', false),
    tc: f.dnsTruncated === true || hasFlag('tc', false),
    rcode: numOr(f.dnsResponseCode, 0),
    question: {
      name: str(f.dnsQueryName) ?? '.',
      type: numOr(f.dnsQueryType, 1),
      class: numOr(f.dnsQueryClass, 1),
    },
    answers,
  };
  if (typeof f.dnsEdnsUdpSize === 'number') {
    msg.edns = { udpSize: f.dnsEdnsUdpSize, do: f.dnsEdnsDo === true, version: numOr(f.dnsEdnsVersion, 0) };
  } else if (msg.rcode !== undefined && msg.rcode > 15) {
    msg.edns = { udpSize: 1232 };
  }
  const bytes = encodeDnsMessage(msg);
  const eventTime = typeof f.eventTime === 'number' ? f.eventTime : undefined;
  const out: DnstapMessageInput = { type };
  const transport = str(f.dnsTransport);
  if (transport === 'udp' || transport === 'tcp' || transport === 'dot' || transport === 'doh')
    out.transport = transport;
  else if (f.protocolIdentifier === 6) out.transport = 'tcp';
  const qa = str(f.sourceIPv4Address) ?? str(f.sourceIPv6Address);
  const ra = str(f.destinationIPv4Address) ?? str(f.destinationIPv6Address);
  if (qa !== undefined) out.queryAddress = qa;
  if (ra !== undefined) out.responseAddress = ra;
  if (typeof f.sourceTransportPort === 'number') out.queryPort = f.sourceTransportPort;
  if (typeof f.destinationTransportPort === 'number') out.responsePort = f.destinationTransportPort;
  const qt = typeof f.dnsQueryTime === 'number' ? f.dnsQueryTime : isResponse ? undefined : eventTime;
  const rt = typeof f.dnsResponseTime === 'number' ? f.dnsResponseTime : isResponse ? eventTime : undefined;
  if (qt !== undefined) out.queryTimeMs = qt;
  if (rt !== undefined) out.responseTimeMs = rt;
  if (isResponse) out.responseMessage = bytes;
  else out.queryMessage = bytes;
  const zone = str(f.dnsQueryZone);
  if (zone !== undefined) out.queryZone = zone;
  return out;
}
