/**
 * Text-to-value conversions shared by the Zeek, Argus and nfdump parsers. All are total: they
 * return `undefined` for anything they cannot read, never throw, and produce the external value
 * forms of src/common/schema/record.ts (canonical addresses, numbers up to 2^53-1 and decimal
 * strings beyond, epoch milliseconds).
 */
import { ipv4String, ipv6FromWords } from '../../decode/values.ts';

/** An address with its family. */
export interface ParsedIp {
  readonly family: 4 | 6;
  /** Canonical text: dotted quad, or RFC 5952 for IPv6. */
  readonly text: string;
}

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function ipv4Value(s: string): number | undefined {
  const m = IPV4_RE.exec(s);
  if (!m) return undefined;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return undefined;
    v = v * 256 + o;
  }
  return v;
}

/** Parses an IPv4 dotted quad or an IPv6 address (any valid text form) to its canonical text. */
export function parseIp(s: string): ParsedIp | undefined {
  if (s.length === 0 || s.length > 45) return undefined;
  if (!s.includes(':')) {
    const v = ipv4Value(s);
    return v === undefined ? undefined : { family: 4, text: ipv4String(v) };
  }
  const groups = parseIpv6Groups(s);
  if (!groups) return undefined;
  const w = (i: number): number => ((groups[i]! << 16) | groups[i + 1]!) >>> 0;
  return { family: 6, text: ipv6FromWords(w(0), w(2), w(4), w(6)) };
}

function parseIpv6Groups(s: string): number[] | undefined {
  const dbl = s.indexOf('::');
  if (dbl !== -1 && s.indexOf('::', dbl + 1) !== -1) return undefined;
  const parseSide = (t: string): number[] | undefined => {
    if (t === '') return [];
    const out: number[] = [];
    const parts = t.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v = ipv4Value(p);
        if (v === undefined) return undefined;
        out.push(Math.floor(v / 65536), v % 65536);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  if (dbl === -1) {
    const g = parseSide(s);
    return g && g.length === 8 ? g : undefined;
  }
  const head = parseSide(s.slice(0, dbl));
  const tail = parseSide(s.slice(dbl + 2));
  if (!head || !tail || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** MAC address with 1-2 hex digits per group separated by `:` or `-` (Argus drops leading zeros). */
export function parseMac(s: string): string | undefined {
  const parts = s.split(/[:-]/);
  if (parts.length !== 6) return undefined;
  let out = '';
  for (const p of parts) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return undefined;
    out += (out ? ':' : '') + p.toLowerCase().padStart(2, '0');
  }
  return out;
}

/** Largest unsigned 64-bit value, as a BigInt, for counter range checks. */
const U64_MAX = (1n << 64n) - 1n;

/**
 * Unsigned decimal integer (a counter): a number up to 2^53-1, a decimal string up to 2^64-1
 * (DESIGN section 7), `undefined` otherwise.
 */
export function parseCounter(s: string): number | string | undefined {
  if (!/^\d{1,20}$/.test(s)) return undefined;
  if (s.length < 16) return Number(s);
  const b = BigInt(s);
  if (b > U64_MAX) return undefined;
  if (b <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(b);
  return b.toString();
}

/** Unsigned integer up to `max`, decimal or `0x` hexadecimal. */
export function parseUint(s: string, max: number): number | undefined {
  let v: number;
  if (/^\d{1,15}$/.test(s)) v = Number(s);
  else if (/^0[xX][0-9a-fA-F]{1,12}$/.test(s)) v = parseInt(s.slice(2), 16);
  else return undefined;
  return v <= max ? v : undefined;
}

/**
 * Non-negative decimal seconds (`1795630349.438498`, `0.000242`, `12`) as integer microseconds;
 * digits beyond the sixth decimal are truncated. Up to 11 integer digits (year 5138), so the
 * result always stays below 2^53.
 */
export function parseSecondsMicros(s: string): number | undefined {
  const m = /^(\d{1,11})(?:\.(\d{0,12}))?$/.exec(s);
  if (!m) return undefined;
  const frac = (m[2] ?? '').slice(0, 6).padEnd(6, '0');
  return Number(m[1]) * 1_000_000 + Number(frac);
}

const DATETIME_RE = /^(\d{4})[-/](\d{2})[-/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,12}))?(Z)?$/;

/**
 * Calendar time `YYYY-MM-DD HH:MM:SS[.frac]` (also `/` between date parts, `T` before the time
 * and a trailing `Z`) read as UTC, in microseconds since the epoch. Fields out of range (month 13,
 * 31 February) yield `undefined`.
 */
export function parseDateTimeMicros(s: string): number | undefined {
  const m = DATETIME_RE.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 60) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, se);
  // Date.UTC rolls 31 February over into March: reject instead of guessing.
  if (new Date(ms).getUTCDate() !== d && se < 60) return undefined;
  const frac = (m[7] ?? '').slice(0, 6).padEnd(6, '0');
  return ms * 1000 + Number(frac);
}

/** Microseconds to whole milliseconds (floor: a flow never starts before its first packet). */
export function microsToMillis(us: number): number {
  return Math.floor(us / 1000);
}

/**
 * IANA protocol numbers by keyword, as Argus, nfdump and Zeek print them (lower-cased here). Only
 * names these tools print; anything else must be a number.
 */
const PROTOCOLS: Readonly<Record<string, number>> = {
  hopopt: 0,
  icmp: 1,
  igmp: 2,
  ggp: 3,
  ipv4: 4,
  ipnip: 4,
  st: 5,
  tcp: 6,
  egp: 8,
  igp: 9,
  udp: 17,
  rdp: 27,
  ipv6: 41,
  'ipv6-route': 43,
  'ipv6-frag': 44,
  rsvp: 46,
  gre: 47,
  esp: 50,
  ah: 51,
  'ipv6-icmp': 58,
  icmp6: 58,
  icmpv6: 58,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  eigrp: 88,
  ospf: 89,
  ospfigp: 89,
  ipip: 94,
  etherip: 97,
  encap: 98,
  pim: 103,
  ipcomp: 108,
  vrrp: 112,
  l2tp: 115,
  isis: 124,
  sctp: 132,
  udplite: 136,
  'mpls-in-ip': 137,
};

/** Protocol keyword or number (0-255) to the IANA protocol number. */
export function parseProtocol(s: string): number | undefined {
  const n = parseUint(s, 255);
  if (n !== undefined) return n;
  return Object.prototype.hasOwnProperty.call(PROTOCOLS, s.toLowerCase())
    ? PROTOCOLS[s.toLowerCase()]
    : undefined;
}

const TCP_FLAG_BITS: Readonly<Record<string, number>> = {
  C: 0x80,
  E: 0x40,
  U: 0x20,
  A: 0x10,
  P: 0x08,
  R: 0x04,
  S: 0x02,
  F: 0x01,
};

/**
 * TCP flags as nfdump prints them: letters `CEUAPRSF` with `.` for a clear bit (`...AP.SF`; older
 * versions print six positions `UAPRSF`), or a number (decimal or `0x` hex). Letters are read by
 * name, not position, so both widths work.
 */
export function parseTcpFlags(s: string): number | undefined {
  const n = parseUint(s, 0xffff);
  if (n !== undefined) return n;
  if (s.length === 0 || s.length > 9) return undefined;
  let v = 0;
  for (const c of s) {
    if (c === '.') continue;
    const bit = TCP_FLAG_BITS[c];
    if (bit === undefined) return undefined;
    v |= bit;
  }
  return v;
}
