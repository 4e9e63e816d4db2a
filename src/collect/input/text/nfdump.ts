/**
 * `nfdump -o csv` output, in both layouts: nfdump up to 1.7.4 (Debian 12 ships 1.7.1) prints a
 * fixed 48-column table headed `ts,te,td,sa,da,sp,dp,pr,flg,...`; nfdump 1.7.5 and later print the
 * columns chosen with `-o csv:%ts,%td,...` (default `firstSeen,duration,proto,srcAddr,srcPort,
 * dstAddr,dstPort,packets,bytes,flows`), headed by the names of nfdump's CSV format table. Both
 * sets of names map to the same fields ({@link NFDUMP_COLUMN_ALIASES}). One line -> one
 * FlowRecord (`protocol: 'nfdump'`); the summary trailer (`Summary`, `flows,bytes,...` and its
 * values) is skipped.
 *
 * Times are read as UTC: nfdump prints local time, so files must be written with TZ=UTC. 1.7.1
 * prints `ts`/`te` to the second only (`td` keeps milliseconds, kept as
 * `flowDurationMilliseconds`); the newer layout prints milliseconds. Raw epoch times (`%tsr`) are
 * read too. When no end time is printed, end = start + duration.
 *
 * Counters: ipkt/ibyt -> packetDeltaCount/octetDeltaCount; opkt/obyt -> the reverse counters
 * when non-zero (NSEL and bidirectional exports). Columns nfdump fills with a placeholder when
 * the flow lacks the element (0, 0.0.0.0, 00:00:00:00:00:00, 0-0-0, 0.000, 0/0) are left out, so
 * only information the exporter sent appears. nfdump CSV carries no sampling rate: records have
 * samplingInterval 1 (nfcapd's own `-s` scaling, if used, is already in the counters).
 */
import type { Fields } from '../../../common/schema/index.ts';
import { MAX_TEXT_COLUMNS } from './limits.ts';
import { putAddress, putIcmp, textFlow } from './record.ts';
import type { LineResult } from './types.ts';
import {
  microsToMillis,
  parseCounter,
  parseDateTimeMicros,
  parseIp,
  parseMac,
  parseProtocol,
  parseSecondsMicros,
  parseTcpFlags,
  parseUint,
} from './values.ts';

/** Header names of the newer layout mapped to the 1.7.1 names used internally. */
export const NFDUMP_COLUMN_ALIASES: Readonly<Record<string, string>> = {
  firstSeen: 'ts',
  lastSeen: 'te',
  duration: 'td',
  received: 'tr',
  proto: 'pr',
  srcAddr: 'sa',
  dstAddr: 'da',
  srcPort: 'sp',
  dstPort: 'dp',
  flags: 'flg',
  fwdStatus: 'fwd',
  tos: 'stos',
  srcTos: 'stos',
  dstTos: 'dtos',
  packets: 'ipkt',
  inPackets: 'ipkt',
  bytes: 'ibyt',
  inBytes: 'ibyt',
  outPackets: 'opkt',
  outBytes: 'obyt',
  flows: 'fl',
  input: 'in',
  output: 'out',
  srcAS: 'sas',
  dstAS: 'das',
  srcMask: 'smk',
  dstMask: 'dmk',
  direction: 'dir',
  nextIP: 'nh',
  bgpNextIP: 'nhb',
  routerIP: 'ra',
  srcVlan: 'svln',
  dstVlan: 'dvln',
  inSrcMac: 'ismc',
  outDstMac: 'odmc',
  inDstMac: 'idmc',
  outSrcMac: 'osmc',
  clientLatency: 'cl',
  serverLatency: 'sl',
  appLatency: 'al',
  engine: 'eng',
  exporterID: 'exid',
  icmpTYpe: 'it',
  icmpType: 'it',
  icmpCode: 'ic',
  mplsLabel1: 'mpls1',
  mplsLabel2: 'mpls2',
  mplsLabel3: 'mpls3',
  mplsLabel4: 'mpls4',
  mplsLabel5: 'mpls5',
  mplsLabel6: 'mpls6',
  mplsLabel7: 'mpls7',
  mplsLabel8: 'mpls8',
  mplsLabel9: 'mpls9',
  mplsLabel10: 'mpls10',
};

/** Header state: internal column name -> position; `inSummary` once the trailer has begun. */
export interface NfdumpHeader {
  readonly index: ReadonlyMap<string, number>;
  readonly columns: number;
  inSummary: boolean;
}

/** Whether a line is an nfdump CSV header (either layout). */
export function isNfdumpHeader(text: string): boolean {
  const names = text.split(',').map((s) => s.trim());
  const has = (n: string): boolean => names.includes(n);
  return (has('ts') && has('sa') && has('da')) || (has('firstSeen') && (has('srcAddr') || has('dstAddr')));
}

/** Reads a header row; `undefined` when it has too many columns or no address column. */
export function parseNfdumpHeader(text: string): NfdumpHeader | undefined {
  const names = text.split(',').map((s) => s.trim());
  if (names.length > MAX_TEXT_COLUMNS) return undefined;
  const index = new Map<string, number>();
  names.forEach((n, i) => {
    const key = NFDUMP_COLUMN_ALIASES[n] ?? n;
    if (!index.has(key)) index.set(key, i);
  });
  if (!index.has('sa') || !index.has('da') || !index.has('ts')) return undefined;
  return { index, columns: names.length, inSummary: false };
}

type Err = {
  kind: 'error';
  reason: 'bad-time' | 'bad-address' | 'bad-number' | 'missing-field';
  column: string;
};
const err = (reason: Err['reason'], column: string): Err => ({ kind: 'error', reason, column });

function nfTimeMicros(s: string): number | undefined {
  if (/^\d{4}-/.test(s)) return s.startsWith('0000-') ? undefined : parseDateTimeMicros(s);
  return parseSecondsMicros(s);
}

/** Duration in seconds (`0.514`) or as `HH:MM:SS.mmm` (nfdump's fmt output), in microseconds. */
function nfDurationMicros(s: string): number | undefined {
  const m = /^(\d{1,6}):(\d{2}):(\d{2}(?:\.\d{1,6})?)$/.exec(s);
  if (m) {
    const sec = parseSecondsMicros(m[3]!);
    return sec === undefined ? undefined : (Number(m[1]) * 3600 + Number(m[2]) * 60) * 1_000_000 + sec;
  }
  return parseSecondsMicros(s);
}

/** MPLS `label-exp-bos` as the 3-byte label stack entry (IANA mplsTopLabelStackSection), hex. */
function mplsEntry(s: string): string | undefined {
  const m = /^(\d{1,7})-(\d)-(\d)$/.exec(s);
  if (!m) return undefined;
  const label = Number(m[1]);
  const exp = Number(m[2]);
  const bos = Number(m[3]);
  if (label > 0xfffff || exp > 7 || bos > 1) return undefined;
  if (label === 0 && exp === 0 && bos === 0) return '';
  return ((label << 4) | (exp << 1) | bos).toString(16).padStart(6, '0');
}

const MPLS_FIELDS = [
  'mplsTopLabelStackSection',
  'mplsLabelStackSection2',
  'mplsLabelStackSection3',
  'mplsLabelStackSection4',
  'mplsLabelStackSection5',
  'mplsLabelStackSection6',
  'mplsLabelStackSection7',
  'mplsLabelStackSection8',
  'mplsLabelStackSection9',
  'mplsLabelStackSection10',
];

/** One line with the current header (mutated only to note the summary trailer). */
export function parseNfdumpLine(
  header: NfdumpHeader | undefined,
  text: string,
  line: number,
): LineResult<NfdumpHeader> {
  const t = text.trim();
  if (t.length === 0) return { kind: 'none' };
  if (t.startsWith('Summary')) {
    if (header) header.inSummary = true;
    return { kind: 'skip', reason: 'summary' };
  }
  if (header?.inSummary) return { kind: 'skip', reason: 'summary' };
  if (isNfdumpHeader(t)) {
    const h = parseNfdumpHeader(t);
    return h ? { kind: 'header', header: h } : { kind: 'error', reason: 'bad-header' };
  }
  if (!header) return { kind: 'error', reason: 'no-header' };
  const cols = t.split(',');
  if (cols.length < header.columns) return { kind: 'error', reason: 'column-count' };
  const get = (name: string): string | undefined => {
    const i = header.index.get(name);
    if (i === undefined) return undefined;
    const v = cols[i]!.trim();
    return v === '' ? undefined : v;
  };
  const f: Fields = {};

  const ts = get('ts');
  if (ts === undefined) return err('missing-field', 'ts');
  const startUs = nfTimeMicros(ts);
  if (startUs === undefined) return err('bad-time', 'ts');
  let durUs: number | undefined;
  const td = get('td');
  if (td !== undefined) {
    durUs = nfDurationMicros(td);
    if (durUs === undefined) return err('bad-number', 'td');
  }
  let endUs = startUs + (durUs ?? 0);
  const te = get('te');
  if (te !== undefined) {
    const v = nfTimeMicros(te);
    if (v === undefined) return err('bad-time', 'te');
    endUs = Math.max(v, startUs);
  }
  f.flowStartMilliseconds = microsToMillis(startUs);
  f.flowEndMilliseconds = microsToMillis(endUs);
  if (durUs !== undefined) f.flowDurationMilliseconds = Math.round(durUs / 1000);

  const sa = get('sa');
  const da = get('da');
  if (sa === undefined) return err('missing-field', 'sa');
  if (da === undefined) return err('missing-field', 'da');
  const src = parseIp(sa);
  if (!src) return err('bad-address', 'sa');
  const dst = parseIp(da);
  if (!dst) return err('bad-address', 'da');
  putAddress(f, 'source', src);
  putAddress(f, 'destination', dst);
  const family = src.family;

  const pr = get('pr');
  let proto: number | undefined;
  if (pr !== undefined) {
    proto = parseProtocol(pr);
    if (proto === undefined) return err('bad-number', 'pr');
    f.protocolIdentifier = proto;
  }
  const icmp = proto === 1 || proto === 58;
  const sp = get('sp');
  if (sp !== undefined) {
    const v = parseUint(sp, 65535);
    if (v === undefined) return err('bad-number', 'sp');
    f.sourceTransportPort = v;
  }
  const dp = get('dp');
  if (dp !== undefined) {
    // The newer layout prints ICMP as `type.code`; 1.7.1 prints type * 256 + code, as exported.
    const tc = /^(\d{1,3})\.(\d{1,3})$/.exec(dp);
    const v = tc ? Number(tc[1]) * 256 + Number(tc[2]) : parseUint(dp, 65535);
    if (v === undefined || v > 65535) return err('bad-number', 'dp');
    f.destinationTransportPort = v;
    if (icmp) putIcmp(f, family, v >> 8, v & 0xff);
  }
  const it = get('it');
  const ic = get('ic');
  if (icmp && it !== undefined && ic !== undefined) {
    const a = parseUint(it, 255);
    const b = parseUint(ic, 255);
    if (a === undefined || b === undefined) return err('bad-number', 'icmpType');
    putIcmp(f, family, a, b);
  }
  const flg = get('flg');
  if (flg !== undefined) {
    const v = parseTcpFlags(flg);
    if (v === undefined) return err('bad-number', 'flg');
    if (proto === 6 || v !== 0) f.tcpControlBits = v;
  }

  // Counters: the forward pair always, the reverse pair when non-zero, the flow count as printed.
  for (const [col, name, always] of [
    ['ipkt', 'packetDeltaCount', true],
    ['ibyt', 'octetDeltaCount', true],
    ['opkt', 'reversePacketDeltaCount', false],
    ['obyt', 'reverseOctetDeltaCount', false],
    ['fl', 'deltaFlowCount', true],
  ] as const) {
    const v = get(col);
    if (v === undefined) continue;
    const n = parseCounter(v);
    if (n === undefined) return err('bad-number', col);
    if (always || n !== 0) f[name] = n;
  }

  // Small integers, left out when zero (nfdump's placeholder).
  const v4 = family === 4;
  for (const [col, name, max] of [
    ['fwd', 'forwardingStatus', 255],
    ['stos', 'ipClassOfService', 255],
    ['dtos', 'postIpClassOfService', 255],
    ['in', 'ingressInterface', 0xffffffff],
    ['out', 'egressInterface', 0xffffffff],
    ['sas', 'bgpSourceAsNumber', 0xffffffff],
    ['das', 'bgpDestinationAsNumber', 0xffffffff],
    ['smk', v4 ? 'sourceIPv4PrefixLength' : 'sourceIPv6PrefixLength', 128],
    ['dmk', v4 ? 'destinationIPv4PrefixLength' : 'destinationIPv6PrefixLength', 128],
    ['svln', 'vlanId', 4095],
    ['dvln', 'postVlanId', 4095],
    ['exid', 'nfdumpExporterId', 0xffffffff],
  ] as const) {
    const v = get(col);
    if (v === undefined) continue;
    const n = parseUint(v, max);
    if (n === undefined) return err('bad-number', col);
    if (n !== 0) f[name] = n;
  }
  const dir = get('dir');
  if (dir === '1' || dir === 'E') f.flowDirection = 1;
  else if (dir !== undefined && dir !== '0' && dir !== 'I') return err('bad-number', 'dir');

  for (const [col, n4, n6] of [
    ['nh', 'ipNextHopIPv4Address', 'ipNextHopIPv6Address'],
    ['nhb', 'bgpNextHopIPv4Address', 'bgpNextHopIPv6Address'],
    ['ra', 'exporterIPv4Address', 'exporterIPv6Address'],
  ] as const) {
    const v = get(col);
    if (v === undefined) continue;
    const ip = parseIp(v);
    if (!ip) return err('bad-address', col);
    if (ip.text !== '0.0.0.0' && ip.text !== '::') f[ip.family === 4 ? n4 : n6] = ip.text;
  }
  for (const [col, name] of [
    ['ismc', 'sourceMacAddress'],
    ['idmc', 'destinationMacAddress'],
    ['osmc', 'postSourceMacAddress'],
    ['odmc', 'postDestinationMacAddress'],
  ] as const) {
    const v = get(col);
    if (v === undefined) continue;
    const m = parseMac(v);
    if (!m) return err('bad-address', col);
    if (m !== '00:00:00:00:00:00') f[name] = m;
  }
  for (let i = 0; i < 10; i++) {
    const v = get(`mpls${i + 1}`);
    if (v === undefined) continue;
    const e = mplsEntry(v);
    if (e === undefined) return err('bad-number', `mpls${i + 1}`);
    if (e !== '') f[MPLS_FIELDS[i]!] = e;
  }
  for (const [col, name] of [
    ['cl', 'nfdumpClientLatencyMilliseconds'],
    ['sl', 'nfdumpServerLatencyMilliseconds'],
    ['al', 'nfdumpApplicationLatencyMilliseconds'],
  ] as const) {
    const v = get(col);
    if (v === undefined) continue;
    const us = parseSecondsMicros(v);
    if (us === undefined) return err('bad-number', col);
    if (us !== 0) f[name] = us / 1_000_000;
  }
  const eng = get('eng');
  if (eng !== undefined) {
    const m = /^(\d{1,3})\/(\d{1,3})$/.exec(eng);
    if (!m || Number(m[1]) > 255 || Number(m[2]) > 255) return err('bad-number', 'eng');
    if (eng !== '0/0') {
      f.engineType = Number(m[1]);
      f.engineId = Number(m[2]);
    }
  }
  const tr = get('tr');
  if (tr !== undefined) {
    const v = nfTimeMicros(tr);
    if (v !== undefined) f.collectionTimeMilliseconds = microsToMillis(v);
  }
  return { kind: 'record', record: textFlow('nfdump', line, f) };
}
