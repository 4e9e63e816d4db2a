import { ipv4At, ipv6At } from '../values.ts';
import { DnsParseError, type DnsMalformedReason } from './errors.ts';
import {
  DNS_HEADER_BYTES,
  MAX_DNS_MESSAGE_BYTES,
  MAX_EDNS_OPTIONS,
  MAX_LABELS,
  MAX_NAME_WIRE_BYTES,
  MAX_POINTER_HOPS,
  MAX_RECORDS_PER_SECTION,
} from './limits.ts';
import { DNS_TYPE } from './names.ts';

/** The fixed header of a DNS message (RFC 1035 section 4.1.1, RFC 4035 for AD/CD). */
export interface DnsHeader {
  /** Transaction id chosen by the querier. */
  id: number;
  /** QR: the message is a response. */
  qr: boolean;
  /** Kind of query (0 QUERY, 4 NOTIFY, 5 UPDATE, …). */
  opcode: number;
  /** Authoritative answer. */
  aa: boolean;
  /** The message was truncated by its sender (TC flag): the full answer needs TCP. */
  tc: boolean;
  /** Recursion desired. */
  rd: boolean;
  /** Recursion available. */
  ra: boolean;
  /** The reserved Z bit (must be zero; kept because covert channels use it). */
  z: boolean;
  /** Authentic data (DNSSEC, RFC 4035). */
  ad: boolean;
  /** Checking disabled (DNSSEC, RFC 4035). */
  cd: boolean;
  /** The low 4 bits of the response code; see `DnsMessage.rcode` for the EDNS-extended value. */
  rcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

/** One entry of the question section. */
export interface DnsQuestion {
  /** Presentation form, lower-case, without the trailing dot; the root is `.`. */
  name: string;
  type: number;
  class: number;
}

/**
 * One resource record. `data` holds what detection uses and nothing more: the address of A/AAAA
 * records, the target name of CNAME, DNAME, NS and PTR, the exchange of MX, the target of SRV and
 * the primary server of SOA. TXT contents are never kept, only their string count and length.
 */
export interface DnsResourceRecord {
  name: string;
  type: number;
  class: number;
  /** Time to live in seconds, as sent (unsigned 32-bit). */
  ttl: number;
  /** Length of the RDATA in octets. */
  rdlength: number;
  data?: string;
  /** MX preference. */
  preference?: number;
  /** SRV priority, weight and port. */
  priority?: number;
  weight?: number;
  port?: number;
  /** SOA serial and negative-caching TTL (the `minimum` field, RFC 2308). */
  serial?: number;
  minimum?: number;
  /** TXT (and SPF): number of character-strings and their total length in octets. */
  txtStrings?: number;
  txtBytes?: number;
}

/** What an OPT pseudo-record says (EDNS0, RFC 6891 section 6.1.3). */
export interface DnsEdns {
  /** Requestor's UDP payload size (the OPT record's CLASS field). */
  udpSize: number;
  /** EDNS version (0 today). */
  version: number;
  /** Upper 8 bits of the extended response code. */
  extendedRcode: number;
  /** DNSSEC OK bit (RFC 3225). */
  do: boolean;
  /** Number of options (skipped, never interpreted). */
  optionCount: number;
  /** Total octets of option data. */
  optionBytes: number;
}

/** A parsed DNS message: everything that could be read, even when `DnsParseResult.error` is set. */
export interface DnsMessage {
  header: DnsHeader;
  questions: DnsQuestion[];
  answers: DnsResourceRecord[];
  authorities: DnsResourceRecord[];
  /** Additional records other than the OPT pseudo-record. */
  additionals: DnsResourceRecord[];
  /** The first OPT record of the additional section, when present. */
  edns?: DnsEdns;
  /** Full response code: header RCODE plus, with EDNS, the extended upper bits (12 bits). */
  rcode: number;
  /** Octets of the message (as given, up to MAX_DNS_MESSAGE_BYTES). */
  size: number;
  /** TXT/SPF records in the answer section (tunnels carry their payload there). */
  txtCount: number;
  /** Total character-string octets of those TXT records. */
  txtBytes: number;
}

/**
 * The three outcomes of a parse (CONVENTIONS habit 4): `ok`; `truncated` (the bytes ended early:
 * `message` holds what was read); `malformed` (the bytes break the format or a limit: `message`
 * holds what was read before the problem, or is absent when not even the header was there).
 */
export type DnsParseResult =
  | { status: 'ok'; message: DnsMessage; error?: undefined }
  | { status: 'truncated' | 'malformed'; message: DnsMessage | undefined; error: DnsParseError };

/**
 * Parses one DNS message (RFC 1035, EDNS0 RFC 6891). Pure; never throws. Names are decompressed
 * with loop protection (pointers must go strictly backwards, at most MAX_POINTER_HOPS of them per
 * name), and every count and length is checked against the bytes and the limits of `limits.ts`.
 */
export function parseDnsMessage(bytes: Uint8Array): DnsParseResult {
  if (bytes.length < DNS_HEADER_BYTES) {
    return {
      status: 'truncated',
      message: undefined,
      error: new DnsParseError('short-header', `message of ${bytes.length} bytes has no full header`, 0),
    };
  }
  const p = new Parser(
    bytes.length > MAX_DNS_MESSAGE_BYTES ? bytes.subarray(0, MAX_DNS_MESSAGE_BYTES) : bytes,
  );
  const msg = p.msg;
  try {
    if (bytes.length > MAX_DNS_MESSAGE_BYTES) {
      throw new DnsParseError(
        'too-long',
        `message longer than ${MAX_DNS_MESSAGE_BYTES} bytes`,
        MAX_DNS_MESSAGE_BYTES,
      );
    }
    p.parse();
  } catch (err) {
    const e =
      err instanceof DnsParseError
        ? err
        : new DnsParseError('internal', `unexpected parser failure: ${String(err)}`, p.pos);
    return { status: e.reason === 'truncated' ? 'truncated' : 'malformed', message: msg, error: e };
  }
  if (p.firstRdataError) return { status: 'malformed', message: msg, error: p.firstRdataError };
  return { status: 'ok', message: msg };
}

function fail(reason: DnsMalformedReason, message: string, offset: number): never {
  throw new DnsParseError(reason, message, offset);
}

/** Presentation text of each label octet: lower-case ASCII, `\.`, `\\` and `\DDD` for the rest. */
const LABEL_CHAR: readonly string[] = Array.from({ length: 256 }, (_, c) => {
  if (c === 0x2e) return '\\.';
  if (c === 0x5c) return '\\\\';
  if (c >= 0x41 && c <= 0x5a) return String.fromCharCode(c + 32);
  if (c > 0x20 && c < 0x7f) return String.fromCharCode(c);
  return '\\' + String(c).padStart(3, '0');
});

/** Reads a DNS message; one instance per message (the state is the read position). */
class Parser {
  readonly msg: DnsMessage;
  pos = DNS_HEADER_BYTES;
  /** Set by the first undecodable RDATA: the record is kept without data and parsing continues. */
  firstRdataError: DnsParseError | undefined;
  /** Where the name last read by `readName` ended (the position after it in the record stream). */
  private nameEnd = 0;

  constructor(private readonly b: Uint8Array) {
    const flags = (b[2]! << 8) | b[3]!;
    const header: DnsHeader = {
      id: (b[0]! << 8) | b[1]!,
      qr: (flags & 0x8000) !== 0,
      opcode: (flags >>> 11) & 0xf,
      aa: (flags & 0x0400) !== 0,
      tc: (flags & 0x0200) !== 0,
      rd: (flags & 0x0100) !== 0,
      ra: (flags & 0x0080) !== 0,
      z: (flags & 0x0040) !== 0,
      ad: (flags & 0x0020) !== 0,
      cd: (flags & 0x0010) !== 0,
      rcode: flags & 0xf,
      qdcount: (b[4]! << 8) | b[5]!,
      ancount: (b[6]! << 8) | b[7]!,
      nscount: (b[8]! << 8) | b[9]!,
      arcount: (b[10]! << 8) | b[11]!,
    };
    this.msg = {
      header,
      questions: [],
      answers: [],
      authorities: [],
      additionals: [],
      rcode: header.rcode,
      size: b.length,
      txtCount: 0,
      txtBytes: 0,
    };
  }

  parse(): void {
    const h = this.msg.header;
    const qd = this.sectionCount(h.qdcount, 'question');
    for (let i = 0; i < qd; i++) {
      const name = this.readName(this.pos);
      this.pos = this.nameEnd;
      this.need(4);
      const type = this.u16(this.pos);
      const cls = this.u16(this.pos + 2);
      this.pos += 4;
      this.msg.questions.push({ name, type, class: cls });
    }
    this.readSection(this.sectionCount(h.ancount, 'answer'), this.msg.answers, true);
    this.readSection(this.sectionCount(h.nscount, 'authority'), this.msg.authorities, false);
    this.readSection(this.sectionCount(h.arcount, 'additional'), this.msg.additionals, false);
    if (h.qdcount > MAX_RECORDS_PER_SECTION || h.ancount > MAX_RECORDS_PER_SECTION) {
      fail('too-many-records', `a section claims more than ${MAX_RECORDS_PER_SECTION} records`, this.pos);
    }
    if (h.nscount > MAX_RECORDS_PER_SECTION || h.arcount > MAX_RECORDS_PER_SECTION) {
      fail('too-many-records', `a section claims more than ${MAX_RECORDS_PER_SECTION} records`, this.pos);
    }
  }

  /** A section's count, capped by the limit (the excess is reported once everything is read). */
  private sectionCount(n: number, _section: string): number {
    return n > MAX_RECORDS_PER_SECTION ? MAX_RECORDS_PER_SECTION : n;
  }

  private readSection(count: number, out: DnsResourceRecord[], isAnswer: boolean): void {
    for (let i = 0; i < count; i++) {
      const start = this.pos;
      const name = this.readName(this.pos);
      this.pos = this.nameEnd;
      this.need(10);
      const b = this.b;
      const type = this.u16(this.pos);
      const cls = this.u16(this.pos + 2);
      const ttl =
        ((b[this.pos + 4]! << 24) | (b[this.pos + 5]! << 16) | (b[this.pos + 6]! << 8) | b[this.pos + 7]!) >>>
        0;
      const rdlength = this.u16(this.pos + 8);
      this.pos += 10;
      const rdStart = this.pos;
      if (rdStart + rdlength > b.length) {
        fail('truncated', `record data of ${rdlength} bytes runs past the message end`, rdStart);
      }
      const rdEnd = rdStart + rdlength;
      this.pos = rdEnd;
      if (type === DNS_TYPE.OPT) {
        if (this.msg.edns === undefined) this.readOpt(name, cls, ttl, rdStart, rdEnd, start);
        continue;
      }
      const rr: DnsResourceRecord = { name, type, class: cls, ttl, rdlength };
      this.readRdata(rr, rdStart, rdEnd);
      if (isAnswer && rr.txtStrings !== undefined) {
        this.msg.txtCount++;
        this.msg.txtBytes += rr.txtBytes ?? 0;
      }
      out.push(rr);
    }
  }

  private readOpt(name: string, cls: number, ttl: number, rdStart: number, rdEnd: number, at: number): void {
    if (name !== '.') this.rdataError(`OPT record owner is not the root`, at);
    let optionCount = 0;
    let optionBytes = 0;
    let o = rdStart;
    while (o < rdEnd && optionCount < MAX_EDNS_OPTIONS) {
      if (o + 4 > rdEnd) {
        this.rdataError('EDNS option header runs past the OPT record', o);
        break;
      }
      const len = this.u16(o + 2);
      if (o + 4 + len > rdEnd) {
        this.rdataError('EDNS option data runs past the OPT record', o);
        break;
      }
      optionCount++;
      optionBytes += len;
      o += 4 + len;
    }
    const extendedRcode = ttl >>> 24;
    this.msg.edns = {
      udpSize: cls,
      version: (ttl >>> 16) & 0xff,
      extendedRcode,
      do: (ttl & 0x8000) !== 0,
      optionCount,
      optionBytes,
    };
    this.msg.rcode = (extendedRcode << 4) | this.msg.header.rcode;
  }

  private readRdata(rr: DnsResourceRecord, s: number, e: number): void {
    const b = this.b;
    const len = e - s;
    switch (rr.type) {
      case DNS_TYPE.A:
        if (len === 4) rr.data = ipv4At(b, s);
        else this.rdataError(`A record of ${len} bytes`, s);
        return;
      case DNS_TYPE.AAAA:
        if (len === 16) rr.data = ipv6At(b, s);
        else this.rdataError(`AAAA record of ${len} bytes`, s);
        return;
      case DNS_TYPE.CNAME:
      case DNS_TYPE.NS:
      case DNS_TYPE.PTR:
      case DNS_TYPE.DNAME:
        rr.data = this.rdataName(s, e);
        return;
      case DNS_TYPE.MX:
        if (len < 3) return this.rdataError(`MX record of ${len} bytes`, s);
        rr.preference = this.u16(s);
        rr.data = this.rdataName(s + 2, e);
        return;
      case DNS_TYPE.SRV:
        if (len < 7) return this.rdataError(`SRV record of ${len} bytes`, s);
        rr.priority = this.u16(s);
        rr.weight = this.u16(s + 2);
        rr.port = this.u16(s + 4);
        rr.data = this.rdataName(s + 6, e);
        return;
      case DNS_TYPE.SOA: {
        const mname = this.rdataName(s, e);
        if (mname === undefined) return;
        const afterM = this.nameEnd;
        const rname = this.rdataName(afterM, e);
        if (rname === undefined) return;
        const o = this.nameEnd;
        if (o + 20 !== e) return this.rdataError('SOA record has a wrong length', o);
        rr.data = mname;
        rr.serial = this.u32(o);
        rr.minimum = this.u32(o + 16);
        return;
      }
      case DNS_TYPE.TXT:
      case DNS_TYPE.SPF: {
        // Only counted: the contents may be anything a tunnel puts there.
        let strings = 0;
        let total = 0;
        let o = s;
        while (o < e) {
          const n = b[o]!;
          if (o + 1 + n > e) return this.rdataError('TXT string runs past the record', o);
          strings++;
          total += n;
          o += 1 + n;
        }
        rr.txtStrings = strings;
        rr.txtBytes = total;
        return;
      }
      default:
        return;
    }
  }

  /** A name inside RDATA: it may point anywhere earlier, but its own octets must stay in the RDATA. */
  private rdataName(s: number, e: number): string | undefined {
    try {
      const name = this.readName(s, e);
      if (this.nameEnd > e) {
        this.rdataError('name runs past the record data', s);
        return undefined;
      }
      return name;
    } catch (err) {
      if (err instanceof DnsParseError) {
        this.firstRdataError ??= new DnsParseError(
          err.reason === 'truncated' ? 'bad-rdata' : err.reason,
          `record data: ${err.message}`,
          err.offset,
        );
        return undefined;
      }
      throw err;
    }
  }

  private rdataError(message: string, offset: number): void {
    this.firstRdataError ??= new DnsParseError('bad-rdata', message, offset);
  }

  /**
   * Reads the (possibly compressed) name starting at `start`, which must end before `limit`
   * (the message end, or the record end for names in RDATA); sets `nameEnd` to the position after
   * it in the original stream. Throws DnsParseError (caught by the caller) on any violation.
   */
  private readName(start: number, limit = this.b.length): string {
    const b = this.b;
    let pos = start;
    let end = -1;
    let hops = 0;
    let labels = 0;
    let wire = 1; // the root octet
    let name = '';
    // Bounded: every iteration either consumes a label (capped by MAX_LABELS and the wire
    // length) or follows a pointer (capped by MAX_POINTER_HOPS, and strictly backwards).
    for (;;) {
      if (pos >= (end < 0 ? limit : b.length)) fail('truncated', 'name runs past the end', pos);
      const len = b[pos]!;
      const kind = len & 0xc0;
      if (kind === 0xc0) {
        if (pos + 1 >= (end < 0 ? limit : b.length)) fail('truncated', 'compression pointer cut short', pos);
        const target = ((len & 0x3f) << 8) | b[pos + 1]!;
        if (target >= pos || target < DNS_HEADER_BYTES) {
          fail('pointer-invalid', `compression pointer to ${target} is not a prior name`, pos);
        }
        if (++hops > MAX_POINTER_HOPS)
          fail('pointer-loop', `more than ${MAX_POINTER_HOPS} compression pointers`, pos);
        if (end < 0) end = pos + 2;
        pos = target;
        continue;
      }
      if (kind !== 0) fail('bad-label-type', `label type 0x${kind.toString(16)} is not supported`, pos);
      if (len === 0) {
        pos++;
        break;
      }
      if (++labels > MAX_LABELS) fail('too-many-labels', `name has more than ${MAX_LABELS} labels`, pos);
      wire += len + 1;
      if (wire > MAX_NAME_WIRE_BYTES)
        fail('name-too-long', `name longer than ${MAX_NAME_WIRE_BYTES} octets`, pos);
      const stop = pos + 1 + len;
      if (stop > (end < 0 ? limit : b.length)) fail('truncated', 'label runs past the end', pos);
      if (name !== '') name += '.';
      for (let i = pos + 1; i < stop; i++) name += LABEL_CHAR[b[i]!]!;
      pos = stop;
    }
    this.nameEnd = end < 0 ? pos : end;
    return name === '' ? '.' : name;
  }

  private need(n: number): void {
    if (this.pos + n > this.b.length) fail('truncated', `needed ${n} more bytes`, this.pos);
  }

  private u16(o: number): number {
    return (this.b[o]! << 8) | this.b[o + 1]!;
  }

  private u32(o: number): number {
    return ((this.b[o]! << 24) | (this.b[o + 1]! << 16) | (this.b[o + 2]! << 8) | this.b[o + 3]!) >>> 0;
  }
}
