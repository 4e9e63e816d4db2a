/**
 * Content-based recognition of input files and export messages. Formats are told apart by their
 * bytes, never by file names (issue 2). The header checks here are O(1) so that scanners can try
 * them at every byte offset when resynchronising without becoming quadratic.
 */
import {
  MAX_IPFIX_MESSAGE_BYTES,
  MAX_NETFLOW5_RECORDS,
  MIN_IPFIX_MESSAGE_BYTES,
  NETFLOW5_HEADER_BYTES,
  NETFLOW5_RECORD_BYTES,
  NETFLOW9_HEADER_BYTES,
} from './limits.ts';

/** Export protocols recognised by structure. */
export type ExportKind = 'netflow5' | 'netflow9' | 'ipfix';

/**
 * Result of an O(1) header check at one offset: a plausible header (with the message length when
 * the header carries it: IPFIX and v5), `no`, or `more` when the bytes end before a verdict.
 */
export type HeaderCheck =
  | { kind: 'ipfix'; length: number }
  | { kind: 'netflow5'; length: number }
  | { kind: 'netflow9' }
  | 'no'
  | 'more';

function u16(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
}
function u32(b: Uint8Array, o: number): number {
  return (((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0)) >>> 0;
}

/** IPFIX set ids that may appear in a message: 2 (template), 3 (options template), >= 256 (data). */
export function isIpfixSetId(id: number): boolean {
  return id === 2 || id === 3 || id >= 256;
}

/** NetFlow v9 flowset ids: 0 (template), 1 (options template), >= 256 (data). */
export function isNetflow9FlowsetId(id: number): boolean {
  return id === 0 || id === 1 || id >= 256;
}

/**
 * Checks whether an export message header plausibly starts at `off` in `b` (bytes up to `end`,
 * default the array's end), looking at the header and the first set/flowset header only.
 * Rules: IPFIX: version 10, 16 <= length <= {@link MAX_IPFIX_MESSAGE_BYTES}, first set id 2, 3 or
 * >= 256 with 4 <= set length <= message length - 16. NetFlow v9: version 9, first flowset id 0, 1
 * or >= 256 with length >= 4. NetFlow v5: version 5, 1 <= count <= {@link MAX_NETFLOW5_RECORDS},
 * unix_nsecs below one second.
 */
export function checkExportHeader(b: Uint8Array, off: number, end: number = b.length): HeaderCheck {
  const avail = end - off;
  if (avail < 2) return 'more';
  const version = u16(b, off);
  if (version === 10) {
    if (avail < 4) return 'more';
    const length = u16(b, off + 2);
    if (length < MIN_IPFIX_MESSAGE_BYTES || length > MAX_IPFIX_MESSAGE_BYTES) return 'no';
    if (length === MIN_IPFIX_MESSAGE_BYTES) return { kind: 'ipfix', length };
    if (length < MIN_IPFIX_MESSAGE_BYTES + 4) return 'no';
    if (avail < 20) return 'more';
    const setId = u16(b, off + 16);
    const setLen = u16(b, off + 18);
    if (!isIpfixSetId(setId) || setLen < 4 || setLen > length - MIN_IPFIX_MESSAGE_BYTES) return 'no';
    return { kind: 'ipfix', length };
  }
  if (version === 9) {
    if (avail < NETFLOW9_HEADER_BYTES + 4) return 'more';
    const fsId = u16(b, off + NETFLOW9_HEADER_BYTES);
    const fsLen = u16(b, off + NETFLOW9_HEADER_BYTES + 2);
    if (!isNetflow9FlowsetId(fsId) || fsLen < 4) return 'no';
    return { kind: 'netflow9' };
  }
  if (version === 5) {
    if (avail < 4) return 'more';
    const count = u16(b, off + 2);
    if (count < 1 || count > MAX_NETFLOW5_RECORDS) return 'no';
    if (avail < 16) return 'more';
    if (u32(b, off + 12) >= 1_000_000_000) return 'no';
    return { kind: 'netflow5', length: NETFLOW5_HEADER_BYTES + count * NETFLOW5_RECORD_BYTES };
  }
  return 'no';
}

/**
 * Recognises one complete export datagram (a UDP payload) by structure, stricter than
 * {@link checkExportHeader}: IPFIX length equals the datagram length and its sets tile it exactly;
 * v9 flowsets tile the datagram (up to 3 trailing padding bytes tolerated); v5 length is exactly
 * 24 + 48 * count. Used to pick export datagrams out of captures on unexpected ports, so it prefers
 * missing an odd datagram to mistaking other UDP traffic for flow exports.
 */
export function recogniseExportDatagram(b: Uint8Array): ExportKind | undefined {
  const h = checkExportHeader(b, 0);
  if (h === 'no' || h === 'more') return undefined;
  if (h.kind === 'netflow5') return h.length === b.length ? 'netflow5' : undefined;
  if (h.kind === 'ipfix') {
    if (h.length !== b.length) return undefined;
    return setsTile(b, MIN_IPFIX_MESSAGE_BYTES, b.length, isIpfixSetId, 0) ? 'ipfix' : undefined;
  }
  return setsTile(b, NETFLOW9_HEADER_BYTES, b.length, isNetflow9FlowsetId, 3) ? 'netflow9' : undefined;
}

/** True when set headers (id, length >= 4) tile [start, end) exactly, up to `slack` trailing bytes. */
function setsTile(
  b: Uint8Array,
  start: number,
  end: number,
  validId: (id: number) => boolean,
  slack: number,
): boolean {
  let off = start;
  // Each step advances by at least 4 bytes, so the loop runs at most (end - start) / 4 times.
  while (end - off >= 4) {
    const id = u16(b, off);
    const len = u16(b, off + 2);
    if (!validId(id) || len < 4 || off + len > end) return end - off <= slack && allZero(b, off, end);
    off += len;
  }
  return end - off <= slack && allZero(b, off, end);
}

function allZero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

/** What a file is, recognised by content. */
export type SniffResult =
  | { kind: 'pcap'; littleEndian: boolean; nanosecond: boolean }
  | { kind: 'pcapng'; littleEndian: boolean }
  | { kind: 'raw-export'; protocol: ExportKind }
  | { kind: 'unknown'; reason: 'empty' | 'unrecognised' };

/** Classic pcap magic numbers as read big-endian from the first four bytes. */
const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_MAGIC_US_SWAPPED = 0xd4c3b2a1;
const PCAP_MAGIC_NS_SWAPPED = 0x4d3cb2a1;
/** Alexey Kuznetzov's patched pcap (24-byte record headers), seen from old Red Hat tcpdump. */
const PCAP_MAGIC_KUZNETZOV = 0xa1b2cd34;
const PCAP_MAGIC_KUZNETZOV_SWAPPED = 0x34cdb2a1;
/** The pcapng section header block type: a palindrome, so it reads the same in both orders. */
const PCAPNG_SHB = 0x0a0d0d0a;

/**
 * Recognises a file by its first bytes (give at least {@link SNIFF_BYTES} when the file has them).
 * pcap and pcapng by magic number; raw export files when an export header is plausible at offset 0.
 */
export function sniff(head: Uint8Array): SniffResult {
  if (head.length === 0) return { kind: 'unknown', reason: 'empty' };
  if (head.length >= 4) {
    const magic = u32(head, 0);
    switch (magic) {
      case PCAP_MAGIC_US:
      case PCAP_MAGIC_KUZNETZOV:
        return { kind: 'pcap', littleEndian: false, nanosecond: false };
      case PCAP_MAGIC_NS:
        return { kind: 'pcap', littleEndian: false, nanosecond: true };
      case PCAP_MAGIC_US_SWAPPED:
      case PCAP_MAGIC_KUZNETZOV_SWAPPED:
        return { kind: 'pcap', littleEndian: true, nanosecond: false };
      case PCAP_MAGIC_NS_SWAPPED:
        return { kind: 'pcap', littleEndian: true, nanosecond: true };
      case PCAPNG_SHB:
        if (head.length >= 12) {
          const bom = u32(head, 8);
          if (bom === 0x1a2b3c4d) return { kind: 'pcapng', littleEndian: false };
          if (bom === 0x4d3c2b1a) return { kind: 'pcapng', littleEndian: true };
        }
        break;
      default:
        break;
    }
  }
  const h = checkExportHeader(head, 0);
  if (h !== 'no' && h !== 'more') return { kind: 'raw-export', protocol: h.kind };
  return { kind: 'unknown', reason: 'unrecognised' };
}
