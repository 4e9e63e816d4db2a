/**
 * Packet headers of captured frames, from the link layer to UDP/TCP: Ethernet (802.1Q, QinQ),
 * Linux cooked SLL and SLL2, BSD loopback (DLT_NULL, DLT_LOOP), raw IP; IPv4 with options and IPv6
 * with extension headers; IPv4 and IPv6 fragment reassembly (bounded in count, bytes and age).
 * Pure: the only state is the fragment table, ages are measured in capture time.
 */
import {
  FRAGMENT_TIMEOUT_MS,
  MAX_FRAGMENTS_PER_DATAGRAM,
  MAX_FRAGMENT_BYTES_TOTAL,
  MAX_FRAGMENT_DATAGRAMS,
  MAX_IPV6_EXTENSION_HEADERS,
  MAX_REASSEMBLED_BYTES,
  MAX_VLAN_TAGS,
} from './limits.ts';
import { ipv4At as formatIPv4, ipv6At as formatIPv6 } from '../decode/values.ts';

/** LINKTYPE_ values understood (tcpdump.org link-layer header types). */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  /** DLT_RAW as written by some systems instead of LINKTYPE_RAW. */
  RAW_12: 12,
  /** DLT_RAW on OpenBSD. */
  RAW_14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** TCP header fields the stream reassembly needs. */
export interface TcpInfo {
  seq: number;
  ack: number;
  /** The 9 flag bits (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, ...). */
  flags: number;
}

/** TCP flag bits. */
export const TcpFlags = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/** A UDP datagram or TCP segment taken out of a captured frame. */
export interface DecodedPacket {
  ipVersion: 4 | 6;
  /** Canonical text form (dotted quad; RFC 5952 for IPv6). */
  srcAddress: string;
  dstAddress: string;
  srcPort: number;
  dstPort: number;
  /** IP protocol number: 17 (UDP) or 6 (TCP). */
  protocol: 6 | 17;
  tcp?: TcpInfo;
  /** Transport payload (a view, or a fresh buffer for reassembled datagrams). */
  payload: Uint8Array;
  /** True when the payload was reassembled from IP fragments. */
  reassembled: boolean;
}

/** Why a frame yielded no UDP/TCP payload. */
export type PacketSkipReason =
  | 'unsupported-link-type'
  | 'not-ip'
  | 'not-udp-tcp'
  | 'truncated'
  | 'malformed'
  | 'too-many-vlan-tags'
  | 'too-many-extension-headers'
  /** A fragment was stored; the datagram is returned when its last piece arrives. */
  | 'fragment-held'
  /** A fragment was refused (limits, overlap); a `fragments-dropped` event says why. */
  | 'fragment-dropped';

/** Outcome of decoding one frame. */
export type PacketResult = { ok: true; packet: DecodedPacket } | { ok: false; reason: PacketSkipReason };

/** Why fragments were given up. */
export type FragmentDropReason =
  'timeout' | 'overlap' | 'too-many-fragments' | 'too-large' | 'table-full' | 'memory' | 'incomplete-at-end';

/** Fragment reassembly events; they feed counters. */
export type PacketEvent =
  | { kind: 'fragments-dropped'; reason: FragmentDropReason; fragments: number; bytes: number }
  | { kind: 'fragments-reassembled'; fragments: number; bytes: number };

/** Stateful (fragments only) packet decoder; see {@link createPacketDecoder}. */
export interface PacketDecoder {
  /**
   * Decodes one captured frame of the given link type. `timestampMs` (capture time) ages the
   * fragment table; events (fragments given up or reassembled) are appended to `events`.
   */
  decode(linkType: number, frame: Uint8Array, timestampMs: number, events?: PacketEvent[]): PacketResult;
  /** Gives up every incomplete datagram (end of capture), reporting them as events. */
  flush(events?: PacketEvent[]): void;
  /** Incomplete datagrams and the bytes they hold. */
  readonly pendingDatagrams: number;
  readonly pendingBytes: number;
}

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = [0x8100, 0x88a8, 0x9100];
/** BSD address-family values for IPv6 in DLT_NULL/DLT_LOOP headers (Linux, Windows, BSDs, Darwin). */
const AF_INET = 2;
const AF_INET6 = new Set([10, 23, 24, 28, 30]);

function u16(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
}
function u32(b: Uint8Array, o: number): number {
  return (((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0)) >>> 0;
}

/**
 * Canonical address text (RFC 5952 for IPv6, IPv4-mapped as `::ffff:a.b.c.d`): the decoders'
 * shared formatters, under the names this module has always exported.
 */
export { ipv4At as formatIPv4, ipv6At as formatIPv6 } from '../decode/values.ts';
/** Where the network layer starts in a frame, or why it cannot be found. */
type NetworkStart = { version: 4 | 6 | 0; offset: number } | PacketSkipReason;

function ipVersionAt(b: Uint8Array, off: number): 4 | 6 | 0 {
  const v = (b[off] ?? 0) >> 4;
  return v === 4 ? 4 : v === 6 ? 6 : 0;
}

function fromEthertype(type: number, offset: number): NetworkStart {
  if (type === ETH_IPV4) return { version: 4, offset };
  if (type === ETH_IPV6) return { version: 6, offset };
  return 'not-ip';
}

function networkStart(linkType: number, b: Uint8Array): NetworkStart {
  switch (linkType) {
    case LinkType.ETHERNET: {
      if (b.length < 14) return 'truncated';
      let type = u16(b, 12);
      let off = 14;
      for (let tags = 0; ETH_VLAN.includes(type); tags++) {
        if (tags >= MAX_VLAN_TAGS) return 'too-many-vlan-tags';
        if (b.length < off + 4) return 'truncated';
        type = u16(b, off + 2);
        off += 4;
      }
      return fromEthertype(type, off);
    }
    case LinkType.LINUX_SLL:
      if (b.length < 16) return 'truncated';
      return fromEthertype(u16(b, 14), 16);
    case LinkType.LINUX_SLL2:
      if (b.length < 20) return 'truncated';
      return fromEthertype(u16(b, 0), 20);
    case LinkType.NULL:
    case LinkType.LOOP: {
      if (b.length < 4) return 'truncated';
      // DLT_LOOP is big-endian; DLT_NULL is in the writer's byte order, so take whichever is small.
      let af = u32(b, 0);
      if (linkType === LinkType.NULL && af > 0xffff) {
        af = ((b[0] ?? 0) | ((b[1] ?? 0) << 8) | ((b[2] ?? 0) << 16) | ((b[3] ?? 0) << 24)) >>> 0;
      }
      if (af === AF_INET) return { version: 4, offset: 4 };
      if (AF_INET6.has(af)) return { version: 6, offset: 4 };
      return 'not-ip';
    }
    case LinkType.RAW:
    case LinkType.RAW_12:
    case LinkType.RAW_14:
      return { version: 0, offset: 0 };
    case LinkType.IPV4:
      return { version: 4, offset: 0 };
    case LinkType.IPV6:
      return { version: 6, offset: 0 };
    default:
      return 'unsupported-link-type';
  }
}

interface Fragment {
  offset: number;
  bytes: Uint8Array;
}
interface PendingDatagram {
  fragments: Fragment[];
  bytes: number;
  /** Payload length, known once the last fragment (more-fragments clear) arrived; else -1. */
  total: number;
  firstSeenMs: number;
}

/** Creates a packet decoder with an empty fragment table. */
export function createPacketDecoder(): PacketDecoder {
  const pending = new Map<string, PendingDatagram>();
  let pendingBytes = 0;

  function dropDatagram(
    key: string,
    p: PendingDatagram,
    reason: FragmentDropReason,
    events?: PacketEvent[],
  ): void {
    pending.delete(key);
    pendingBytes -= p.bytes;
    events?.push({ kind: 'fragments-dropped', reason, fragments: p.fragments.length, bytes: p.bytes });
  }

  function expire(now: number, events?: PacketEvent[]): void {
    // Map iteration is in insertion order, i.e. oldest first for a capture read in order.
    for (const [key, p] of pending) {
      if (now - p.firstSeenMs <= FRAGMENT_TIMEOUT_MS) break;
      dropDatagram(key, p, 'timeout', events);
    }
  }

  /** Stores a fragment; returns the reassembled payload when complete, or a skip reason. */
  function addFragment(
    key: string,
    offset: number,
    more: boolean,
    data: Uint8Array,
    now: number,
    events?: PacketEvent[],
  ): Uint8Array | 'fragment-held' | 'fragment-dropped' {
    expire(now, events);
    const end = offset + data.length;
    if (end > MAX_REASSEMBLED_BYTES) {
      const p = pending.get(key);
      if (p) dropDatagram(key, p, 'too-large', events);
      else events?.push({ kind: 'fragments-dropped', reason: 'too-large', fragments: 1, bytes: data.length });
      return 'fragment-dropped';
    }
    let p = pending.get(key);
    if (p === undefined) {
      if (pending.size >= MAX_FRAGMENT_DATAGRAMS) {
        const oldest = pending.entries().next();
        if (!oldest.done) dropDatagram(oldest.value[0], oldest.value[1], 'table-full', events);
      }
      p = { fragments: [], bytes: 0, total: -1, firstSeenMs: now };
      pending.set(key, p);
    }
    for (const f of p.fragments) {
      const fEnd = f.offset + f.bytes.length;
      if (f.offset === offset && fEnd === end) return 'fragment-held'; // a duplicate
      if (offset < fEnd && f.offset < end) {
        // Overlapping fragments are refused whole (as RFC 5722 requires for IPv6): they are a
        // known way to make two readers see different payloads.
        dropDatagram(key, p, 'overlap', events);
        return 'fragment-dropped';
      }
    }
    if (p.fragments.length >= MAX_FRAGMENTS_PER_DATAGRAM) {
      dropDatagram(key, p, 'too-many-fragments', events);
      return 'fragment-dropped';
    }
    if (!more) {
      if (p.total !== -1 && p.total !== end) {
        dropDatagram(key, p, 'overlap', events);
        return 'fragment-dropped';
      }
      // A fragment held earlier may reach past the end the last fragment now declares.
      for (const f of p.fragments) {
        if (f.offset + f.bytes.length > end) {
          dropDatagram(key, p, 'overlap', events);
          return 'fragment-dropped';
        }
      }
      p.total = end;
    }
    if (p.total !== -1 && end > p.total) {
      dropDatagram(key, p, 'overlap', events);
      return 'fragment-dropped';
    }
    while (pendingBytes + data.length > MAX_FRAGMENT_BYTES_TOTAL) {
      const oldest = pending.entries().next();
      if (oldest.done) break;
      dropDatagram(oldest.value[0], oldest.value[1], 'memory', events);
      if (oldest.value[0] === key) return 'fragment-dropped';
    }
    // Copy: the frame is a view into a large read buffer that must not be kept alive.
    p.fragments.push({ offset, bytes: new Uint8Array(data) }); // a copy: `data` may be a Buffer view of the whole read chunk
    p.bytes += data.length;
    pendingBytes += data.length;
    if (p.total === -1 || p.bytes !== p.total) return 'fragment-held';
    // No overlaps and the byte count matches the total: the fragments cover [0, total) exactly.
    const out = new Uint8Array(p.total);
    for (const f of p.fragments) out.set(f.bytes, f.offset);
    pending.delete(key);
    pendingBytes -= p.bytes;
    events?.push({ kind: 'fragments-reassembled', fragments: p.fragments.length, bytes: p.total });
    return out;
  }

  function transport(
    ipVersion: 4 | 6,
    src: string,
    dst: string,
    protocol: number,
    b: Uint8Array,
    reassembled: boolean,
  ): PacketResult {
    if (protocol === 17) {
      if (b.length < 8) return { ok: false, reason: 'truncated' };
      let len = u16(b, 4);
      if (len === 0) len = b.length; // IPv6 jumbograms and offloaded captures leave it zero
      if (len < 8) return { ok: false, reason: 'malformed' };
      if (len > b.length) return { ok: false, reason: 'truncated' };
      return {
        ok: true,
        packet: {
          ipVersion,
          srcAddress: src,
          dstAddress: dst,
          srcPort: u16(b, 0),
          dstPort: u16(b, 2),
          protocol: 17,
          payload: b.subarray(8, len),
          reassembled,
        },
      };
    }
    if (protocol === 6) {
      if (b.length < 20) return { ok: false, reason: 'truncated' };
      const hl = ((b[12] ?? 0) >> 4) * 4;
      if (hl < 20) return { ok: false, reason: 'malformed' };
      if (hl > b.length) return { ok: false, reason: 'truncated' };
      return {
        ok: true,
        packet: {
          ipVersion,
          srcAddress: src,
          dstAddress: dst,
          srcPort: u16(b, 0),
          dstPort: u16(b, 2),
          protocol: 6,
          tcp: { seq: u32(b, 4), ack: u32(b, 8), flags: (b[13] ?? 0) | (((b[12] ?? 0) & 1) << 8) },
          payload: b.subarray(hl),
          reassembled,
        },
      };
    }
    return { ok: false, reason: 'not-udp-tcp' };
  }

  function ipv4(b: Uint8Array, off: number, now: number, events?: PacketEvent[]): PacketResult {
    const avail = b.length - off;
    if (avail < 20) return { ok: false, reason: 'truncated' };
    if ((b[off] ?? 0) >> 4 !== 4) return { ok: false, reason: 'malformed' };
    const ihl = ((b[off] ?? 0) & 0x0f) * 4;
    if (ihl < 20) return { ok: false, reason: 'malformed' };
    if (ihl > avail) return { ok: false, reason: 'truncated' };
    let total = u16(b, off + 2);
    if (total === 0) total = avail; // segmentation offload: the kernel captured before filling it in
    if (total < ihl) return { ok: false, reason: 'malformed' };
    if (total > avail) return { ok: false, reason: 'truncated' };
    const protocol = b[off + 9] ?? 0;
    const src = formatIPv4(b, off + 12);
    const dst = formatIPv4(b, off + 16);
    const frag = u16(b, off + 6);
    const more = (frag & 0x2000) !== 0;
    const fragOffset = (frag & 0x1fff) * 8;
    // Payload bounded by total length, which strips Ethernet padding.
    const payload = b.subarray(off + ihl, off + total);
    if (!more && fragOffset === 0) return transport(4, src, dst, protocol, payload, false);
    const key = `4/${src}/${dst}/${protocol}/${u16(b, off + 4)}`;
    const r = addFragment(key, fragOffset, more, payload, now, events);
    if (typeof r === 'string') return { ok: false, reason: r };
    return transport(4, src, dst, protocol, r, true);
  }

  /** Walks IPv6 extension headers from `pos`; returns the upper-layer protocol and its offset. */
  function walkExtensions(
    b: Uint8Array,
    pos: number,
    end: number,
    nh: number,
    allowFragment: boolean,
  ):
    | {
        nh: number;
        pos: number;
        frag?: { next: number; offset: number; more: boolean; id: number; pos: number };
      }
    | PacketSkipReason {
    for (let n = 0; ; n++) {
      switch (nh) {
        case 0: // hop-by-hop options
        case 43: // routing
        case 60: // destination options
        case 135: // mobility
        case 139: // HIP
        case 140: {
          // shim6
          if (n >= MAX_IPV6_EXTENSION_HEADERS) return 'too-many-extension-headers';
          if (end - pos < 8) return 'truncated';
          const len = ((b[pos + 1] ?? 0) + 1) * 8;
          if (len > end - pos) return 'truncated';
          nh = b[pos] ?? 0;
          pos += len;
          break;
        }
        case 51: {
          // authentication header: length in 4-byte units, minus 2
          if (n >= MAX_IPV6_EXTENSION_HEADERS) return 'too-many-extension-headers';
          if (end - pos < 8) return 'truncated';
          const len = ((b[pos + 1] ?? 0) + 2) * 4;
          if (len > end - pos) return 'truncated';
          nh = b[pos] ?? 0;
          pos += len;
          break;
        }
        case 44: {
          if (n >= MAX_IPV6_EXTENSION_HEADERS) return 'too-many-extension-headers';
          if (end - pos < 8) return 'truncated';
          const next = b[pos] ?? 0;
          const fo = u16(b, pos + 2);
          const offset = fo & 0xfff8;
          const more = (fo & 1) !== 0;
          if (offset === 0 && !more) {
            // An atomic fragment (RFC 6946): the whole datagram, processed as unfragmented.
            nh = next;
            pos += 8;
            break;
          }
          if (!allowFragment) return 'malformed';
          return { nh: 44, pos, frag: { next, offset, more, id: u32(b, pos + 4), pos: pos + 8 } };
        }
        default:
          return { nh, pos };
      }
    }
  }

  function ipv6(b: Uint8Array, off: number, now: number, events?: PacketEvent[]): PacketResult {
    const avail = b.length - off;
    if (avail < 40) return { ok: false, reason: 'truncated' };
    if ((b[off] ?? 0) >> 4 !== 6) return { ok: false, reason: 'malformed' };
    let plen = u16(b, off + 4);
    if (plen === 0) plen = avail - 40; // jumbogram or segmentation offload
    if (plen > avail - 40) return { ok: false, reason: 'truncated' };
    const end = off + 40 + plen;
    const src = formatIPv6(b, off + 8);
    const dst = formatIPv6(b, off + 24);
    const w = walkExtensions(b, off + 40, end, b[off + 6] ?? 0, true);
    if (typeof w === 'string') return { ok: false, reason: w };
    if (!w.frag) return transport(6, src, dst, w.nh, b.subarray(w.pos, end), false);
    const f = w.frag;
    const key = `6/${src}/${dst}/${f.id}`;
    const r = addFragment(key, f.offset, f.more, b.subarray(f.pos, end), now, events);
    if (typeof r === 'string') return { ok: false, reason: r };
    // The fragmentable part may start with more extension headers (e.g. destination options).
    const w2 = walkExtensions(r, 0, r.length, f.next, false);
    if (typeof w2 === 'string') return { ok: false, reason: w2 };
    return transport(6, src, dst, w2.nh, r.subarray(w2.pos), true);
  }

  return {
    decode(linkType, frame, timestampMs, events) {
      const start = networkStart(linkType, frame);
      if (typeof start === 'string') return { ok: false, reason: start };
      const version = start.version === 0 ? ipVersionAt(frame, start.offset) : start.version;
      if (version === 4) return ipv4(frame, start.offset, timestampMs, events);
      if (version === 6) return ipv6(frame, start.offset, timestampMs, events);
      return { ok: false, reason: frame.length <= start.offset ? 'truncated' : 'not-ip' };
    },
    flush(events) {
      for (const [key, p] of pending) dropDatagram(key, p, 'incomplete-at-end', events);
    },
    get pendingDatagrams() {
      return pending.size;
    },
    get pendingBytes() {
      return pendingBytes;
    },
  };
}
