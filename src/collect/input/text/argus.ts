/**
 * Argus flow records printed as CSV by `ra -c , -n -s ...` (and the CTU-13 "binetflow" files,
 * which are such output). The header row names the columns; any subset and order of the columns
 * listed in {@link ARGUS_COLUMNS} is read, others are ignored. One line -> one bidirectional
 * FlowRecord (`protocol: 'argus'`): source = Argus' source, `octetDeltaCount` = SrcBytes,
 * `reverseOctetDeltaCount` = DstBytes, or TotBytes - SrcBytes when only totals are printed;
 * packets likewise (when only TotPkts is printed it is kept as `argusTotalPackets`, since it
 * cannot be split by direction). `Dir` and `State` are kept as `argusDirection`/`argusState`.
 *
 * Times: `StartTime`/`LastTime` as calendar time (`2011/08/10 09:46:53.047277`, the CTU-13 and
 * RA_TIME_FORMAT="%Y/%m/%d %T.%f" form; also `-` between date parts) or epoch seconds (`ra -u`),
 * read as UTC: ra prints local time, so files must be written with TZ=UTC (CTU-13's are). ra's
 * default format (time of day only) cannot be placed on the calendar: such lines are malformed
 * (`bad-time`). The flow end is LastTime, else StartTime + Dur.
 *
 * Ports: decimal or `0x` hexadecimal. For ICMP (and IPv6-ICMP) Argus prints the type in the low
 * byte and the code in the high byte of the source-port column (`0x0008` echo request, `0x0303`
 * port unreachable, seen on argus 3.0.8.2); they become icmpType/Code fields and no transport
 * ports are set (the destination-port column then holds ICMP data such as the echo id, ignored).
 * Management records (`man`) are skipped. Non-IP records (arp, llc) keep their protocol name as
 * `argusProtocol`; MAC addresses in the address columns become source/destinationMacAddress.
 */
import type { Fields } from '../../../common/schema/index.ts';
import { MAX_TEXT_COLUMNS } from './limits.ts';
import { counterDiff, putAddress, putIcmp, textFlow } from './record.ts';
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

/** ra column titles read (as printed by ra 3.0.8; compared case-insensitively). */
export const ARGUS_COLUMNS = [
  'StartTime',
  'LastTime',
  'Dur',
  'Proto',
  'SrcAddr',
  'Sport',
  'Dir',
  'DstAddr',
  'Dport',
  'State',
  'sTos',
  'dTos',
  'sTtl',
  'dTtl',
  'TotPkts',
  'TotBytes',
  'SrcPkts',
  'DstPkts',
  'SrcBytes',
  'DstBytes',
  'SrcMac',
  'DstMac',
  'Label',
] as const;

/** Header state: lower-cased column name -> position. */
export interface ArgusHeader {
  readonly index: ReadonlyMap<string, number>;
  readonly columns: number;
}

/** Whether a CSV line is an Argus header row (names SrcAddr and DstAddr, and a time or port column). */
export function isArgusHeader(text: string): boolean {
  const names = text.split(',').map((s) => s.trim());
  const has = (n: string): boolean => names.includes(n);
  return has('SrcAddr') && has('DstAddr') && (has('StartTime') || has('Sport') || has('Dir') || has('Proto'));
}

/** Reads a header row; `undefined` when it is not a usable Argus header. */
export function parseArgusHeader(text: string): ArgusHeader | undefined {
  const names = text.split(',').map((s) => s.trim().toLowerCase());
  if (names.length > MAX_TEXT_COLUMNS || !names.includes('srcaddr') || !names.includes('dstaddr')) {
    return undefined;
  }
  const index = new Map<string, number>();
  names.forEach((n, i) => {
    if (n && !index.has(n)) index.set(n, i);
  });
  return { index, columns: names.length };
}

type Err = {
  kind: 'error';
  reason: 'bad-time' | 'bad-address' | 'bad-number' | 'missing-field';
  column: string;
};
const err = (reason: Err['reason'], column: string): Err => ({ kind: 'error', reason, column });

/** Argus time: calendar (`/` or `-` dates) or epoch seconds, in microseconds; time of day alone fails. */
function argusTimeMicros(s: string): number | undefined {
  if (/^\d{4}[-/]/.test(s)) return parseDateTimeMicros(s);
  return parseSecondsMicros(s);
}

/**
 * One line with the current header (`undefined` before one). A header row (also a repeated one,
 * as in concatenated files) yields `header`.
 */
export function parseArgusLine(
  header: ArgusHeader | undefined,
  text: string,
  line: number,
): LineResult<ArgusHeader> {
  if (text.trim().length === 0) return { kind: 'none' };
  if (isArgusHeader(text)) {
    const h = parseArgusHeader(text);
    return h ? { kind: 'header', header: h } : { kind: 'error', reason: 'bad-header' };
  }
  if (!header) return { kind: 'error', reason: 'no-header' };
  const cols = text.split(',');
  if (cols.length < header.columns) return { kind: 'error', reason: 'column-count' };
  const get = (name: string): string | undefined => {
    const i = header.index.get(name);
    if (i === undefined) return undefined;
    const v = cols[i]!.trim();
    return v === '' ? undefined : v;
  };

  const protoText = get('proto');
  if (protoText === 'man') return { kind: 'skip', reason: 'management' };
  const f: Fields = {};
  const st = get('starttime');
  if (st === undefined) return err('missing-field', 'StartTime');
  const startUs = argusTimeMicros(st);
  if (startUs === undefined) return err('bad-time', 'StartTime');

  const sa = get('srcaddr');
  const da = get('dstaddr');
  if (sa === undefined) return err('missing-field', 'SrcAddr');
  if (da === undefined) return err('missing-field', 'DstAddr');
  const src = parseIp(sa);
  const dst = parseIp(da);
  let family: 4 | 6 | undefined;
  if (src && dst) {
    putAddress(f, 'source', src);
    putAddress(f, 'destination', dst);
    family = src.family;
  } else {
    const sm = parseMac(sa);
    const dm = parseMac(da);
    if (!sm) return err('bad-address', 'SrcAddr');
    if (!dm) return err('bad-address', 'DstAddr');
    f.sourceMacAddress = sm;
    f.destinationMacAddress = dm;
  }

  let proto: number | undefined;
  if (protoText !== undefined) {
    proto = parseProtocol(protoText);
    if (proto !== undefined) f.protocolIdentifier = proto;
    else f.argusProtocol = protoText;
  }
  const sp = get('sport');
  const dp = get('dport');
  if ((proto === 1 || proto === 58) && family !== undefined) {
    if (sp !== undefined) {
      const v = parseUint(sp, 65535);
      if (v === undefined) return err('bad-number', 'Sport');
      putIcmp(f, family, v & 0xff, v >> 8);
    }
  } else {
    if (sp !== undefined) {
      const v = parseUint(sp, 65535);
      if (v === undefined) return err('bad-number', 'Sport');
      f.sourceTransportPort = v;
    }
    if (dp !== undefined) {
      const v = parseUint(dp, 65535);
      if (v === undefined) return err('bad-number', 'Dport');
      f.destinationTransportPort = v;
    }
  }

  f.flowStartMilliseconds = microsToMillis(startUs);
  let endUs = startUs;
  const lt = get('lasttime');
  const dur = get('dur');
  if (lt !== undefined) {
    const v = argusTimeMicros(lt);
    if (v === undefined) return err('bad-time', 'LastTime');
    endUs = Math.max(v, startUs);
  } else if (dur !== undefined) {
    const v = parseSecondsMicros(dur);
    if (v === undefined) return err('bad-number', 'Dur');
    endUs = startUs + v;
  }
  f.flowEndMilliseconds = microsToMillis(endUs);

  const counters: Record<string, number | string | undefined> = {};
  for (const c of ['totpkts', 'totbytes', 'srcpkts', 'dstpkts', 'srcbytes', 'dstbytes']) {
    const v = get(c);
    if (v === undefined) continue;
    const n = parseCounter(v);
    if (n === undefined) return err('bad-number', c);
    counters[c] = n;
  }
  const pair = (
    srcName: string,
    dstName: string,
    totName: string,
    fwd: string,
    rev: string,
    totalField: string,
  ): void => {
    const s = counters[srcName];
    const d = counters[dstName];
    const t = counters[totName];
    if (s !== undefined) {
      f[fwd] = s;
      if (d !== undefined) f[rev] = d;
      else if (t !== undefined) {
        const r = counterDiff(t, s);
        if (r !== undefined) f[rev] = r;
      }
    } else if (t !== undefined) f[totalField] = t;
  };
  pair('srcbytes', 'dstbytes', 'totbytes', 'octetDeltaCount', 'reverseOctetDeltaCount', 'argusTotalBytes');
  pair('srcpkts', 'dstpkts', 'totpkts', 'packetDeltaCount', 'reversePacketDeltaCount', 'argusTotalPackets');

  for (const [col, name] of [
    ['stos', 'ipClassOfService'],
    ['dtos', 'reverseIpClassOfService'],
    ['sttl', 'ipTTL'],
    ['dttl', 'reverseIpTTL'],
  ] as const) {
    const v = get(col);
    if (v === undefined) continue;
    const n = parseUint(v, 255);
    if (n === undefined) return err('bad-number', col);
    f[name] = n;
  }
  for (const [col, name] of [
    ['srcmac', 'sourceMacAddress'],
    ['dstmac', 'destinationMacAddress'],
  ] as const) {
    const v = get(col);
    const m = v === undefined ? undefined : parseMac(v);
    if (m) f[name] = m;
  }
  const dir = get('dir');
  if (dir !== undefined) f.argusDirection = dir;
  const state = get('state');
  if (state !== undefined) f.argusState = state;
  const label = get('label');
  if (label !== undefined) f.label = label;
  return { kind: 'record', record: textFlow('argus', line, f) };
}
