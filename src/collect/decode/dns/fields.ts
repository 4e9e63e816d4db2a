import type { FieldValue, Fields } from '../../../common/schema/index.ts';
import { MAX_ANSWERS_KEPT } from './limits.ts';
import { dnsRcodeName, dnsTypeName } from './names.ts';
import { parseDnsMessage, type DnsHeader, type DnsMessage, type DnsParseResult } from './parse.ts';

/**
 * Fills `out` with the DNS fields of a `DnsEvent` from one wire-format DNS message, and returns the
 * parse result (so the caller can count malformed messages). Shared by the dnstap decoder and the
 * traffic-capture flow meter, so DNS events look the same whatever carried them. Pure; never
 * throws. A message that could not be read fully still yields every field that was read, plus
 * `dnsMalformed`.
 *
 * Fields (present when the message has them):
 * - `dnsId` (number): transaction id.
 * - `dnsIsResponse` (boolean): the QR bit.
 * - `dnsOpcode` (number): 0 QUERY, 4 NOTIFY, 5 UPDATE, …
 * - `dnsFlags` (string): the header flags that are set, space-separated in dig's order
 *   (`qr aa tc rd ra z ad cd`), e.g. `"qr rd ra"`.
 * - `dnsTruncated` (boolean): the TC flag (the sender cut the answer; the client retries over TCP).
 * - `dnsQueryName` (string): first question's name, lower-case, no trailing dot (`.` for the root),
 *   non-printable octets as `\DDD`.
 * - `dnsQueryType` (number), `dnsQueryTypeName` (string, `A`, `AAAA`, `TYPE65280`), `dnsQueryClass`
 *   (number, 1 = IN).
 * - `dnsQuestionCount`, `dnsAnswerCount`, `dnsAuthorityCount`, `dnsAdditionalCount` (numbers): the
 *   header's section counts.
 * - `dnsMessageSize` (number): octets of the DNS message.
 * - Responses only: `dnsResponseCode` (number, EDNS-extended when an OPT record is present),
 *   `dnsResponseCodeName` (`NOERROR`, `NXDOMAIN`, …), `dnsAnswers` (array, at most
 *   MAX_ANSWERS_KEPT, of `{ name, type, ttl, data? }` where `data` is the address of A/AAAA, the
 *   target of CNAME/DNAME/NS/PTR/SRV, the exchange of MX, the primary server of SOA; absent for
 *   other types), `dnsTxtCount` and `dnsTxtBytes` (TXT/SPF records in the answer section and the
 *   total octets of their strings; the contents themselves are never kept).
 * - With an OPT record: `dnsEdnsUdpSize`, `dnsEdnsVersion` (numbers), `dnsEdnsDo` (boolean, the
 *   DNSSEC OK bit).
 * - `dnsMalformed` (string): why the message could not be read fully (`truncated`, `pointer-loop`,
 *   … see `DnsMalformedReason`); absent when it was read completely.
 */
export function decodeDnsMessageToFields(bytes: Uint8Array, out: Fields): DnsParseResult {
  const r = parseDnsMessage(bytes);
  if (r.message) messageToFields(r.message, out);
  else out.dnsMessageSize = bytes.length;
  if (r.error) out.dnsMalformed = r.error.reason;
  return r;
}

/** Writes the fields of an already parsed message (see `decodeDnsMessageToFields`). */
export function messageToFields(m: DnsMessage, out: Fields): void {
  const h = m.header;
  out.dnsId = h.id;
  out.dnsIsResponse = h.qr;
  out.dnsOpcode = h.opcode;
  out.dnsFlags = flagsText(h);
  out.dnsTruncated = h.tc;
  const q = m.questions[0];
  if (q) {
    out.dnsQueryName = q.name;
    out.dnsQueryType = q.type;
    out.dnsQueryTypeName = dnsTypeName(q.type);
    out.dnsQueryClass = q.class;
  }
  out.dnsQuestionCount = h.qdcount;
  out.dnsAnswerCount = h.ancount;
  out.dnsAuthorityCount = h.nscount;
  out.dnsAdditionalCount = h.arcount;
  out.dnsMessageSize = m.size;
  if (h.qr) {
    out.dnsResponseCode = m.rcode;
    out.dnsResponseCodeName = dnsRcodeName(m.rcode);
    const answers: FieldValue[] = [];
    const n = Math.min(m.answers.length, MAX_ANSWERS_KEPT);
    for (let i = 0; i < n; i++) {
      const a = m.answers[i]!;
      const o: { [name: string]: FieldValue } = { name: a.name, type: a.type, ttl: a.ttl };
      if (a.data !== undefined) o.data = a.data;
      answers.push(o);
    }
    out.dnsAnswers = answers;
    out.dnsTxtCount = m.txtCount;
    out.dnsTxtBytes = m.txtBytes;
  }
  if (m.edns) {
    out.dnsEdnsUdpSize = m.edns.udpSize;
    out.dnsEdnsVersion = m.edns.version;
    out.dnsEdnsDo = m.edns.do;
  }
}

/** dig's rendering of the header flags that are set. */
function flagsText(h: DnsHeader): string {
  let s = '';
  if (h.qr) s += 'qr ';
  if (h.aa) s += 'aa ';
  if (h.tc) s += 'tc ';
  if (h.rd) s += 'rd ';
  if (h.ra) s += 'ra ';
  if (h.z) s += 'z ';
  if (h.ad) s += 'ad ';
  if (h.cd) s += 'cd ';
  return s.length > 0 ? s.slice(0, -1) : '';
}
