/**
 * Zeek conn.log and dns.log, in both writers' forms: tab-separated with `#` header lines (the
 * ASCII writer's default) and one JSON object per line (`LogAscii::use_json`). Line parsers are
 * pure: text + explicit header state -> a {@link LineResult}; they never throw.
 *
 * conn.log -> one bidirectional FlowRecord (`protocol: 'zeek'`): originator = source, responder =
 * destination. Octet counters come from `orig_ip_bytes`/`resp_ip_bytes` (IP-level bytes, what a
 * flow exporter counts as octetDeltaCount), not from `orig_bytes`/`resp_bytes` (payload bytes
 * derived from TCP sequence numbers, which overcount on retransmissions); those are kept as
 * `zeekOrigBytes`/`zeekRespBytes`. Zeek-specific columns keep documented names: `zeekUid`,
 * `zeekConnState`, `zeekHistory`, `zeekService`, `zeekLocalOrig`, `zeekLocalResp`,
 * `zeekMissedBytes`, `zeekTunnelParents`, `zeekCommunityId`. Dataset labels (`label`,
 * `detailed-label` as in CTU IoT-23) become `label`/`detailedLabel`; any other column is ignored.
 * ICMP connections carry the type in `id.orig_p` and the code in `id.resp_p`: they become
 * icmpType/Code fields, not transport ports.
 *
 * dns.log -> one DnsEvent per line (a query and its response): client = source, resolver =
 * destination, with the field names and value forms of the DNS events of the dnstap decoder and
 * the flow meter (`decode/dns/fields.ts`), as far as Zeek logs the values: `dnsId`,
 * `dnsIsResponse` (true when the line has a response, i.e. an rcode), `dnsFlags` (dig-style
 * lower-case string, see {@link DNS_FLAG_NAMES}), `dnsTruncated`, `dnsQueryName` (lower-case, no
 * trailing dot), `dnsQueryClass`, `dnsQueryType`/`dnsQueryTypeName` and
 * `dnsResponseCode`/`dnsResponseCodeName` (IANA mnemonics, `TYPE<n>`/`RCODE<n>` when unknown),
 * `dnsAnswers` (`{ type?, ttl?, data? }`: Zeek logs neither the owner name nor the type of an
 * answer, so `type` is set only where the data shows it: 1/28 for addresses, 16 for TXT), TXT
 * answers counted in `dnsTxtCount`/`dnsTxtBytes` with their text dropped (as the other DNS
 * decoders do), `dnsTransport` (`udp`/`tcp`), `eventTime` (the query's time: Zeek's `ts`). Zeek-only
 * values: `zeekUid`, `zeekRttMicroseconds`, `dnsQueryClassName` (Zeek's `C_INTERNET` form),
 * `dnsRejected`.
 */
import type { FieldValue, Fields } from '../../../common/schema/index.ts';
import { DNS_TYPE, dnsRcodeName, dnsTypeName } from '../../decode/dns/names.ts';
import { MAX_TEXT_COLUMNS, MAX_ZEEK_LIST_ELEMENTS } from './limits.ts';
import { putAddress, putIcmp, textDns, textFlow } from './record.ts';
import type { LineResult } from './types.ts';
import {
  microsToMillis,
  parseCounter,
  parseDateTimeMicros,
  parseIp,
  parseMac,
  parseProtocol,
  parseSecondsMicros,
  parseUint,
} from './values.ts';

/** The Zeek logs imported. */
export type ZeekLog = 'conn' | 'dns';

/**
 * Header state of a Zeek TSV stream, updated by its `#` lines. A file may hold several logs one
 * after the other (concatenated rotations); each `#fields` line replaces the column table.
 */
export interface ZeekTsvState {
  separator: string;
  setSeparator: string;
  emptyField: string;
  unsetField: string;
  /** `#path` value, or '' before one is seen. */
  path: string;
  /** Column names from `#fields`, undefined before the first one. */
  fields: string[] | undefined;
  /** Column name -> position, made once per `#fields` line. */
  index: Map<string, number>;
  /**
   * First column whose data is split on runs of spaces rather than the separator: the CTU
   * IoT-23 labelled logs append `   label   detailed-label` with three spaces instead of tabs.
   */
  spaceSplitFrom: number;
  /** Which log the current columns describe: from `#path`, else from the column names. */
  log: ZeekLog | 'other';
}

/** Zeek's ASCII writer defaults, in force until the header says otherwise. */
export function initialZeekTsvState(): ZeekTsvState {
  return {
    separator: '\t',
    setSeparator: ',',
    emptyField: '(empty)',
    unsetField: '-',
    path: '',
    fields: undefined,
    index: new Map(),
    spaceSplitFrom: -1,
    log: 'other',
  };
}

/** Decodes the `\xHH` escapes Zeek writes in `#separator`. */
function unescapeZeek(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Which log a set of column names belongs to (used when `#path` names neither). */
export function zeekLogOfColumns(names: readonly string[]): ZeekLog | 'other' {
  const has = (n: string): boolean => names.includes(n);
  if (has('query') && (has('rcode') || has('qtype') || has('trans_id'))) return 'dns';
  if (has('conn_state') || has('orig_ip_bytes') || (has('orig_bytes') && has('resp_bytes'))) return 'conn';
  return 'other';
}

/** Accessor over one Zeek row, the same for TSV and JSON. `undefined` = unset or absent. */
interface ZeekRow {
  get(name: string): string | undefined;
  list(name: string): string[] | undefined;
}

/**
 * One TSV line. Header lines update `state` (and yield `header` for `#fields`); data lines of a
 * conn or dns log yield a record; data lines of other logs are skipped.
 */
export function parseZeekTsvLine(state: ZeekTsvState, text: string, line: number): LineResult<ZeekTsvState> {
  if (text.length === 0) return { kind: 'none' };
  if (text.startsWith('#')) return zeekHeaderLine(state, text);
  const fields = state.fields;
  if (!fields) return { kind: 'error', reason: 'no-header' };
  if (state.log === 'other') return { kind: 'skip', reason: 'other-log' };
  let cols = text.split(state.separator);
  if (state.spaceSplitFrom >= 0 && cols.length > state.spaceSplitFrom) {
    const tail = cols.slice(state.spaceSplitFrom).join(' ').trim().split(/ +/);
    cols = cols.slice(0, state.spaceSplitFrom).concat(tail);
  }
  if (cols.length < fields.length) return { kind: 'error', reason: 'column-count' };
  const index = state.index;
  const raw = (name: string): string | undefined => {
    const i = index.get(name);
    if (i === undefined) return undefined;
    const v = cols[i]!;
    return v === state.unsetField ? undefined : v;
  };
  const row: ZeekRow = {
    get(name) {
      const v = raw(name);
      return v === state.emptyField ? '' : v;
    },
    list(name) {
      const v = raw(name);
      if (v === undefined) return undefined;
      if (v === state.emptyField || v === '') return [];
      return v.split(state.setSeparator, MAX_ZEEK_LIST_ELEMENTS);
    },
  };
  return state.log === 'conn' ? zeekConn(row, line) : zeekDns(row, line);
}

function zeekHeaderLine(state: ZeekTsvState, text: string): LineResult<ZeekTsvState> {
  if (text.startsWith('#separator')) {
    const v = unescapeZeek(text.slice('#separator'.length).trim());
    if (v.length > 0) state.separator = v;
    return { kind: 'none' };
  }
  const sep = text.indexOf(state.separator);
  const key = sep === -1 ? text : text.slice(0, sep);
  const rest = sep === -1 ? '' : text.slice(sep + state.separator.length);
  switch (key) {
    case '#set_separator':
      if (rest) state.setSeparator = unescapeZeek(rest);
      return { kind: 'none' };
    case '#empty_field':
      state.emptyField = rest;
      return { kind: 'none' };
    case '#unset_field':
      state.unsetField = rest;
      return { kind: 'none' };
    case '#path':
      state.path = rest;
      return { kind: 'none' };
    case '#fields': {
      const parts = rest.split(state.separator);
      const names: string[] = [];
      let spaceFrom = -1;
      for (const p of parts) {
        if (p.includes(' ')) {
          if (spaceFrom < 0) spaceFrom = names.length;
          names.push(...p.trim().split(/ +/));
        } else names.push(p);
      }
      if (names.length > MAX_TEXT_COLUMNS || new Set(names).size !== names.length) {
        state.fields = undefined;
        return { kind: 'error', reason: 'bad-header' };
      }
      state.fields = names;
      state.index = new Map(names.map((n, i) => [n, i]));
      state.spaceSplitFrom = spaceFrom;
      state.log = state.path === 'conn' || state.path === 'dns' ? state.path : zeekLogOfColumns(names);
      return { kind: 'header', header: state };
    }
    default:
      // #open, #close, #types and comments carry nothing the records need.
      return { kind: 'none' };
  }
}

/** The default log of a JSON stream (from the sniffer's kind). */
export interface ZeekJsonState {
  log: ZeekLog;
}

/**
 * One JSON line: an object with Zeek's dotted column names (a nested `id` object is accepted
 * too). A `_path` member, added by log shippers, decides the log; otherwise the stream's log.
 */
export function parseZeekJsonLine(
  state: ZeekJsonState,
  text: string,
  line: number,
): LineResult<ZeekJsonState> {
  const t = text.trim();
  if (t.length === 0) return { kind: 'none' };
  if (!t.startsWith('{')) return { kind: 'error', reason: 'bad-json' };
  let obj: unknown;
  try {
    obj = JSON.parse(t);
  } catch {
    return { kind: 'error', reason: 'bad-json' };
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
    return { kind: 'error', reason: 'bad-json' };
  const o = flattenZeekJson(obj as Record<string, unknown>);
  let log: ZeekLog | 'other' = state.log;
  const path = o.get('_path');
  if (typeof path === 'string') log = path === 'conn' || path === 'dns' ? path : 'other';
  if (log === 'other') return { kind: 'skip', reason: 'other-log' };
  const row: ZeekRow = {
    get(name) {
      const v = o.get(name);
      return v === undefined || v === null || Array.isArray(v) ? undefined : jsonScalarText(v);
    },
    list(name) {
      const v = o.get(name);
      if (v === undefined || v === null) return undefined;
      const arr = Array.isArray(v) ? v : [v];
      const out: string[] = [];
      for (const e of arr.slice(0, MAX_ZEEK_LIST_ELEMENTS)) {
        const s = e === null || typeof e === 'object' ? undefined : jsonScalarText(e);
        if (s !== undefined) out.push(s);
      }
      return out;
    },
  };
  return log === 'conn' ? zeekConn(row, line) : zeekDns(row, line);
}

/** Top-level members plus one level of nested objects as dotted names (`id.orig_h`). */
function flattenZeekJson(obj: Record<string, unknown>): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) m.set(`${k}.${k2}`, v2);
    } else m.set(k, v);
  }
  return m;
}

/**
 * JSON scalars in the TSV text forms the field mapping reads: booleans `T`/`F`, integers as
 * digits, other numbers with six decimals (Zeek's own precision; avoids exponent notation).
 */
function jsonScalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'T' : 'F';
  if (typeof v === 'number' && Number.isFinite(v)) return Number.isInteger(v) ? String(v) : v.toFixed(6);
  return undefined;
}

/** Zeek time: epoch seconds with decimals, or ISO 8601 (`JSON::TS_ISO8601`), in microseconds. */
function zeekTimeMicros(s: string): number | undefined {
  return s.includes('-') ? parseDateTimeMicros(s) : parseSecondsMicros(s);
}

type Err = {
  kind: 'error';
  reason: 'bad-time' | 'bad-address' | 'bad-number' | 'missing-field';
  column: string;
};

function err(reason: Err['reason'], column: string): Err {
  return { kind: 'error', reason, column };
}

/** Reads a counter column into `f[name]`; an unparsable value is an error, an unset one is left out. */
function putCounter(f: Fields, name: string, row: ZeekRow, column: string): Err | undefined {
  const v = row.get(column);
  if (v === undefined || v === '') return undefined;
  const n = parseCounter(v);
  if (n === undefined) return err('bad-number', column);
  f[name] = n;
  return undefined;
}

function putBool(f: Fields, name: string, row: ZeekRow, column: string): void {
  const v = row.get(column);
  if (v === 'T') f[name] = true;
  else if (v === 'F') f[name] = false;
}

/** Common endpoints of conn and dns lines: addresses, ports (or ICMP), time, protocol. */
function endpoints(
  row: ZeekRow,
  f: Fields,
): { ok: true; startUs: number; family: 4 | 6; proto: number | undefined } | Err {
  const ts = row.get('ts');
  if (ts === undefined) return err('missing-field', 'ts');
  const startUs = zeekTimeMicros(ts);
  if (startUs === undefined) return err('bad-time', 'ts');
  const oh = row.get('id.orig_h');
  const rh = row.get('id.resp_h');
  if (oh === undefined) return err('missing-field', 'id.orig_h');
  if (rh === undefined) return err('missing-field', 'id.resp_h');
  const src = parseIp(oh);
  if (!src) return err('bad-address', 'id.orig_h');
  const dst = parseIp(rh);
  if (!dst) return err('bad-address', 'id.resp_h');
  putAddress(f, 'source', src);
  putAddress(f, 'destination', dst);
  const protoName = row.get('proto');
  let proto: number | undefined;
  const ipProto = row.get('ip_proto');
  if (ipProto !== undefined && ipProto !== '') {
    proto = parseUint(ipProto, 255);
    if (proto === undefined) return err('bad-number', 'ip_proto');
  } else if (protoName === 'icmp') proto = src.family === 4 ? 1 : 58;
  else if (protoName !== undefined && protoName !== 'unknown_transport') proto = parseProtocol(protoName);
  if (proto !== undefined) f.protocolIdentifier = proto;
  const op = row.get('id.orig_p');
  const rp = row.get('id.resp_p');
  const opn = op === undefined || op === '' ? undefined : parseUint(op, 65535);
  const rpn = rp === undefined || rp === '' ? undefined : parseUint(rp, 65535);
  if (op !== undefined && op !== '' && opn === undefined) return err('bad-number', 'id.orig_p');
  if (rp !== undefined && rp !== '' && rpn === undefined) return err('bad-number', 'id.resp_p');
  if (proto === 1 || proto === 58) {
    if (opn !== undefined && opn <= 255 && rpn !== undefined && rpn <= 255) putIcmp(f, src.family, opn, rpn);
  } else {
    if (opn !== undefined) f.sourceTransportPort = opn;
    if (rpn !== undefined) f.destinationTransportPort = rpn;
  }
  return { ok: true, startUs, family: src.family, proto };
}

const LABEL_COLUMNS: Readonly<Record<string, string>> = {
  label: 'label',
  Label: 'label',
  'detailed-label': 'detailedLabel',
  detailed_label: 'detailedLabel',
  detailedLabel: 'detailedLabel',
};

function zeekConn(row: ZeekRow, line: number): LineResult<never> {
  const f: Fields = {};
  const ep = endpoints(row, f);
  if (!('ok' in ep)) return ep;
  f.flowStartMilliseconds = microsToMillis(ep.startUs);
  const dur = row.get('duration');
  let durUs = 0;
  if (dur !== undefined && dur !== '') {
    const d = parseSecondsMicros(dur);
    if (d === undefined) return err('bad-number', 'duration');
    durUs = d;
  }
  f.flowEndMilliseconds = microsToMillis(ep.startUs + durUs);
  const e =
    putCounter(f, 'octetDeltaCount', row, 'orig_ip_bytes') ??
    putCounter(f, 'packetDeltaCount', row, 'orig_pkts') ??
    putCounter(f, 'reverseOctetDeltaCount', row, 'resp_ip_bytes') ??
    putCounter(f, 'reversePacketDeltaCount', row, 'resp_pkts') ??
    putCounter(f, 'zeekOrigBytes', row, 'orig_bytes') ??
    putCounter(f, 'zeekRespBytes', row, 'resp_bytes') ??
    putCounter(f, 'zeekMissedBytes', row, 'missed_bytes');
  if (e) return e;
  const str = (name: string, column: string): void => {
    const v = row.get(column);
    if (v !== undefined && v !== '') f[name] = v;
  };
  str('zeekUid', 'uid');
  str('zeekConnState', 'conn_state');
  str('zeekHistory', 'history');
  str('zeekService', 'service');
  str('zeekCommunityId', 'community_id');
  putBool(f, 'zeekLocalOrig', row, 'local_orig');
  putBool(f, 'zeekLocalResp', row, 'local_resp');
  const tp = row.list('tunnel_parents');
  if (tp && tp.length > 0) f.zeekTunnelParents = tp;
  for (const [col, name] of [
    ['orig_l2_addr', 'sourceMacAddress'],
    ['resp_l2_addr', 'destinationMacAddress'],
  ] as const) {
    const v = row.get(col);
    const mac = v ? parseMac(v) : undefined;
    if (mac) f[name] = mac;
  }
  for (const [col, name] of [
    ['vlan', 'vlanId'],
    ['inner_vlan', 'dot1qCustomerVlanId'],
  ] as const) {
    const v = row.get(col);
    const n = v ? parseUint(v, 4095) : undefined;
    if (n !== undefined) f[name] = n;
  }
  for (const [col, name] of Object.entries(LABEL_COLUMNS)) {
    const v = row.get(col);
    if (v !== undefined && v !== '') f[name] = v;
  }
  return { kind: 'record', record: textFlow('zeek', line, f) };
}

/**
 * Zeek's dns.log flag columns, in dig's order. `dnsFlags` is the string the other DNS decoders
 * print (`"qr aa rd ra"`): `qr` when the line has a response (an rcode), then the columns that
 * are `T`, lower-case. Zeek does not log AD and CD as flags (its `Z` column is the raw 3-bit
 * field), so those never appear here.
 */
export const DNS_FLAG_NAMES = ['AA', 'TC', 'RD', 'RA'] as const;

/**
 * Mnemonic of a number from the shared table, else Zeek's own name unless it is one of Zeek's
 * placeholders for numbers it does not know (`query-65280`, `rcode-24`, `unknown`), else the
 * shared `TYPE<n>`/`RCODE<n>` form.
 */
function dnsName(
  n: number | undefined,
  zeekName: string | undefined,
  table: (n: number) => string,
): string | undefined {
  if (n === undefined) return zeekName;
  const ours = table(n);
  if (!/^(TYPE|RCODE)\d+$/.test(ours)) return ours;
  if (zeekName !== undefined && zeekName !== '' && !/^(query|rcode)-\d+$|^unknown/i.test(zeekName))
    return zeekName;
  return ours;
}

/**
 * Octets of text in a TXT answer as Zeek writes it (`TXT 11 v=spf1 -all`, one `TXT n s` per
 * string, joined by spaces), or undefined when the answer is not a TXT answer.
 */
function zeekTxtBytes(a: string): number | undefined {
  if (!a.startsWith('TXT ')) return undefined;
  let bytes = 0;
  let p = 0;
  while (p < a.length) {
    const m = /^TXT (\d{1,5})(?: |$)/.exec(a.slice(p, p + 11));
    if (!m) break;
    const n = Number(m[1]);
    bytes += n;
    // Zeek escapes non-printable octets, so the text can be longer than its count: the next
    // string starts at or after the counted end. Each round moves on by at least 5 characters.
    const next = a.indexOf(' TXT ', p + m[0].length + n);
    if (next < 0) break;
    p = next + 1;
  }
  return bytes;
}

/** Query names as the other DNS decoders print them: lower-case, no trailing dot (`.` is the root). */
function zeekQueryName(q: string): string {
  const lower = q.toLowerCase();
  return lower.length > 1 && lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

function zeekDns(row: ZeekRow, line: number): LineResult<never> {
  const f: Fields = {};
  const ep = endpoints(row, f);
  if (!('ok' in ep)) return ep;
  f.eventTime = microsToMillis(ep.startUs);
  const str = (name: string, column: string): void => {
    const v = row.get(column);
    if (v !== undefined && v !== '') f[name] = v;
  };
  const num = (name: string, column: string, max: number): Err | undefined => {
    const v = row.get(column);
    if (v === undefined || v === '') return undefined;
    const n = parseUint(v, max);
    if (n === undefined) return err('bad-number', column);
    f[name] = n;
    return undefined;
  };
  str('zeekUid', 'uid');
  if (ep.proto === 17) f.dnsTransport = 'udp';
  else if (ep.proto === 6) f.dnsTransport = 'tcp';
  const e =
    num('dnsId', 'trans_id', 65535) ??
    num('dnsQueryClass', 'qclass', 65535) ??
    num('dnsQueryType', 'qtype', 65535) ??
    num('dnsResponseCode', 'rcode', 4095);
  if (e) return e;
  const query = row.get('query');
  if (query !== undefined && query !== '') f.dnsQueryName = zeekQueryName(query);
  str('dnsQueryClassName', 'qclass_name');
  const qtype = typeof f.dnsQueryType === 'number' ? f.dnsQueryType : undefined;
  const typeName = dnsName(qtype, row.get('qtype_name'), dnsTypeName);
  if (typeName !== undefined && typeName !== '') f.dnsQueryTypeName = typeName;
  const rcode = typeof f.dnsResponseCode === 'number' ? f.dnsResponseCode : undefined;
  const rcodeName = dnsName(rcode, row.get('rcode_name'), dnsRcodeName);
  if (rcodeName !== undefined && rcodeName !== '') f.dnsResponseCodeName = rcodeName;
  // A line has a response when Zeek saw one, which is when it logs an rcode.
  f.dnsIsResponse = rcode !== undefined;
  const rtt = row.get('rtt');
  if (rtt !== undefined && rtt !== '') {
    const us = parseSecondsMicros(rtt);
    if (us === undefined) return err('bad-number', 'rtt');
    f.zeekRttMicroseconds = us;
  }
  const flags: string[] = rcode !== undefined ? ['qr'] : [];
  for (const name of DNS_FLAG_NAMES) if (row.get(name) === 'T') flags.push(name.toLowerCase());
  f.dnsFlags = flags.join(' ');
  const tc = row.get('TC');
  if (tc === 'T' || tc === 'F') f.dnsTruncated = tc === 'T';
  putBool(f, 'dnsRejected', row, 'rejected');
  const answers = row.list('answers') ?? [];
  // Responses always carry the answer list and TXT totals, empty or zero when nothing came back.
  if (answers.length > 0 || rcode !== undefined) {
    const ttls = row.list('TTLs') ?? [];
    const out: FieldValue[] = [];
    let txtCount = 0;
    let txtBytes = 0;
    for (let i = 0; i < answers.length; i++) {
      const data = answers[i]!;
      const a: { [k: string]: FieldValue } = {};
      const txt = zeekTxtBytes(data);
      const ip = txt === undefined ? parseIp(data) : undefined;
      if (txt !== undefined) {
        // TXT contents are never kept (they can carry anything); only their count and size.
        a.type = DNS_TYPE.TXT;
        txtCount++;
        txtBytes += txt;
      } else if (ip) {
        a.type = ip.family === 4 ? DNS_TYPE.A : DNS_TYPE.AAAA;
        a.data = ip.text;
      } else a.data = data;
      const t = ttls[i];
      const us = t === undefined ? undefined : parseSecondsMicros(t);
      if (us !== undefined) a.ttl = Math.floor(us / 1_000_000);
      out.push(a);
    }
    f.dnsAnswers = out;
    f.dnsTxtCount = txtCount;
    f.dnsTxtBytes = txtBytes;
  }
  return { kind: 'record', record: textDns('zeek', line, f) };
}
