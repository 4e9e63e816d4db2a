/**
 * Decoder of a raw packet header: the first bytes of a frame as sFlow samples it, or a frame read
 * from a capture. It walks Ethernet (802.3 with LLC/SNAP, 802.1Q/802.1ad/QinQ tags, PPPoE session,
 * MPLS label stacks), IPv4 (options skipped, fragments) and IPv6 (extension headers, fragment
 * header), down to TCP, UDP, SCTP/DCCP/UDP-Lite ports, ICMP and ICMPv6.
 *
 * It is allocation-free: the caller owns one {@link PacketInfo} and passes it to every call, the
 * decoder resets and fills it with numbers (addresses as 32-bit words, MAC addresses as two
 * numbers). Strings are made only by `packetFields` at the output. Payload bytes beyond the
 * transport header are never read; their offset is reported so that a flow meter can hand a DNS
 * payload to its own parser.
 *
 * A header cut short (sFlow keeps 128 bytes by default) is normal: the decoder fills in everything
 * it reached and returns `TRUNCATED`.
 */
import { MAX_IPV6_EXTENSION_HEADERS, MAX_MPLS_LABELS, MAX_VLAN_TAGS } from './limits.ts';

/**
 * Where decoding starts. The values below 256 are the sFlow `header_protocol` numbers (sFlow v5
 * section "Packet Header"); the others are capture link layers the flow meter needs.
 */
export const PacketStart = {
  /** sFlow 1 (ethernet-ISO88023), LINKTYPE_ETHERNET. */
  ETHERNET: 1,
  /** sFlow 11: the header starts with an IPv4 header. */
  IPV4: 11,
  /** sFlow 12: the header starts with an IPv6 header. */
  IPV6: 12,
  /** sFlow 13: the header starts with an MPLS label stack. */
  MPLS: 13,
  /** Raw IP, version told by the first nibble (LINKTYPE_RAW). */
  IP: 0x100,
  /** Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 16-byte header). */
  LINUX_SLL: 0x101,
  /** Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 20-byte header). */
  LINUX_SLL2: 0x102,
  /** BSD loopback (LINKTYPE_NULL / LINKTYPE_LOOP): a 4-byte address family in either byte order. */
  BSD_LOOPBACK: 0x103,
} as const;

/** Outcome of {@link decodePacket}; the fields reached are filled in whatever the outcome. */
export const PacketStatus = {
  /** Decoded down to the transport header (or to IP when the protocol has none we read). */
  OK: 0,
  /** The bytes ended before the headers did (the usual case for sampled headers). */
  TRUNCATED: 1,
  /** A link layer that carries something other than IPv4/IPv6 (ARP, LLDP, ...). */
  NOT_IP: 2,
  /** A start layer, MPLS payload or IP version this decoder does not follow. */
  UNSUPPORTED: 3,
  /** A header contradicts itself (IPv4 header length below 20, version mismatch, ...). */
  MALFORMED: 4,
  /** More VLAN tags, MPLS labels or IPv6 extension headers than the limits allow. */
  TOO_DEEP: 5,
} as const;

/** Values of {@link PacketStatus}. */
export type PacketStatusCode = (typeof PacketStatus)[keyof typeof PacketStatus];

/** IANA fragmentFlags bits (RFC 5102 numbering: bit 0 is the most significant). */
export const FRAGMENT_DF = 0x40;
/** More-fragments flag in IANA fragmentFlags. */
export const FRAGMENT_MF = 0x20;

/**
 * The decoded header, reused across calls (reset by every {@link decodePacket}). Numbers only:
 * `-1` offsets and `false` flags mean "not reached".
 */
export class PacketInfo {
  /** Outcome of the last decode. */
  status: PacketStatusCode = PacketStatus.OK;

  /** True when an Ethernet header was decoded (MAC addresses are valid). */
  hasEthernet = false;
  /** Source MAC: first two bytes in `srcMacHi`, last four in `srcMacLo` (unsigned). */
  srcMacHi = 0;
  srcMacLo = 0;
  dstMacHi = 0;
  dstMacLo = 0;
  /** Last EtherType seen after tags (0 when none, e.g. plain 802.3 with LLC). */
  etherType = 0;
  /** VLAN tags seen, outermost first (at most MAX_VLAN_TAGS). */
  vlanCount = 0;
  readonly vlanIds = new Uint16Array(MAX_VLAN_TAGS);
  /** 802.1p priority code point of each tag. */
  readonly vlanPriorities = new Uint8Array(MAX_VLAN_TAGS);
  /** MPLS label stack entries (32 bits each: label, TC, S, TTL), top first. */
  mplsCount = 0;
  readonly mplsEntries = new Uint32Array(MAX_MPLS_LABELS);

  /** 4 or 6 once an IP header was reached, else 0. */
  ipVersion = 0;
  /** Offset of the IP header in the buffer. */
  ipOffset = -1;
  /** Source address: IPv4 in word 0, IPv6 as four big-endian words (FlowBatch layout). */
  readonly src = new Uint32Array(4);
  readonly dst = new Uint32Array(4);
  /** Upper-layer protocol (after IPv6 extension headers); the last header reached if cut short. */
  protocol = 0;
  /** IPv4 TOS byte / IPv6 traffic class. */
  tos = 0;
  /** IPv4 TTL / IPv6 hop limit. */
  ttl = 0;
  /** IPv6 flow label. */
  flowLabel = 0;
  /** IPv4 header length in bytes (IPv6: 40). */
  ipHeaderLength = 0;
  /** IPv4 total length / IPv6 payload length + 40, as declared by the header. */
  ipTotalLength = 0;
  /** True for any fragment (more-fragments set or non-zero offset). */
  isFragment = false;
  /** IPv4 identification (16 bits) or IPv6 fragment header identification (32 bits). */
  fragmentId = 0;
  /** Fragment offset field in 8-octet units. */
  fragmentOffset = 0;
  /** IANA fragmentFlags: FRAGMENT_DF | FRAGMENT_MF. */
  fragmentFlags = 0;
  /** IPv6 extension headers walked. */
  ipv6ExtensionHeaders = 0;

  /** Offset of the transport header, -1 when not reached (or a non-first fragment). */
  transportOffset = -1;
  /** True once both ports were read. */
  hasPorts = false;
  srcPort = 0;
  dstPort = 0;
  /** True once the TCP flags byte was read. */
  hasTcpFlags = false;
  /** IANA tcpControlBits (FIN 0x01 ... CWR 0x80, NS 0x100). */
  tcpFlags = 0;
  hasTcpSequence = false;
  tcpSequence = 0;
  tcpAcknowledgement = 0;
  tcpWindow = 0;
  /** UDP length field (0 when not read). */
  udpLength = 0;
  /** True once an ICMP/ICMPv6 type and code were read. */
  hasIcmp = false;
  icmpType = 0;
  icmpCode = 0;
  /**
   * Offset of the transport payload (after the full TCP/UDP header), -1 when not reached; the
   * payload is never read here. `payloadEnd` is where it ends within the bytes at hand.
   */
  payloadOffset = -1;
  payloadEnd = -1;

  /** Clears everything (called by decodePacket; the arrays keep their storage). */
  reset(): void {
    this.status = PacketStatus.OK;
    this.hasEthernet = false;
    this.srcMacHi = this.srcMacLo = this.dstMacHi = this.dstMacLo = 0;
    this.etherType = 0;
    this.vlanCount = 0;
    this.mplsCount = 0;
    this.ipVersion = 0;
    this.ipOffset = -1;
    this.src[0] = this.src[1] = this.src[2] = this.src[3] = 0;
    this.dst[0] = this.dst[1] = this.dst[2] = this.dst[3] = 0;
    this.protocol = 0;
    this.tos = 0;
    this.ttl = 0;
    this.flowLabel = 0;
    this.ipHeaderLength = 0;
    this.ipTotalLength = 0;
    this.isFragment = false;
    this.fragmentId = 0;
    this.fragmentOffset = 0;
    this.fragmentFlags = 0;
    this.ipv6ExtensionHeaders = 0;
    this.transportOffset = -1;
    this.hasPorts = false;
    this.srcPort = this.dstPort = 0;
    this.hasTcpFlags = false;
    this.tcpFlags = 0;
    this.hasTcpSequence = false;
    this.tcpSequence = this.tcpAcknowledgement = this.tcpWindow = 0;
    this.udpLength = 0;
    this.hasIcmp = false;
    this.icmpType = this.icmpCode = 0;
    this.payloadOffset = -1;
    this.payloadEnd = -1;
  }
}

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_8021Q = 0x8100;
const ETH_8021AD = 0x88a8;
/** Pre-standard QinQ outer tag types still seen on older provider gear. */
const ETH_QINQ_OLD1 = 0x9100;
const ETH_QINQ_OLD2 = 0x9200;
const ETH_MPLS_UC = 0x8847;
const ETH_MPLS_MC = 0x8848;
const ETH_PPPOE_SESSION = 0x8864;
const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;
/** BSD address families for IPv6 in loopback headers (Linux, FreeBSD, OpenBSD, Darwin, Windows). */
const AF_INET = 2;

const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_DCCP = 33;
const PROTO_ICMPV6 = 58;
const PROTO_SCTP = 132;
const PROTO_UDPLITE = 136;

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/**
 * Decodes the header bytes `b[off..end)` starting at layer `start` (a {@link PacketStart} value)
 * into `info` (reset first) and returns the status, also left in `info.status`. Never throws;
 * never reads outside `[off, min(end, b.length))`.
 */
export function decodePacket(
  b: Uint8Array,
  off: number,
  end: number,
  start: number,
  info: PacketInfo,
): PacketStatusCode {
  info.reset();
  const stop = Math.min(end, b.length);
  const s = off < 0 || off > stop ? PacketStatus.TRUNCATED : decodeFrom(b, off, stop, start, info);
  info.status = s;
  return s;
}

function decodeFrom(
  b: Uint8Array,
  off: number,
  end: number,
  start: number,
  info: PacketInfo,
): PacketStatusCode {
  switch (start) {
    case PacketStart.ETHERNET:
      return ethernet(b, off, end, info);
    case PacketStart.IPV4:
      return ipv4(b, off, end, info);
    case PacketStart.IPV6:
      return ipv6(b, off, end, info);
    case PacketStart.MPLS:
      return mpls(b, off, end, info);
    case PacketStart.IP:
      return ipByNibble(b, off, end, info);
    case PacketStart.LINUX_SLL:
      if (end - off < 16) return PacketStatus.TRUNCATED;
      return etherType(b, u16(b, off + 14), off + 16, end, info);
    case PacketStart.LINUX_SLL2:
      if (end - off < 20) return PacketStatus.TRUNCATED;
      return etherType(b, u16(b, off), off + 20, end, info);
    case PacketStart.BSD_LOOPBACK: {
      if (end - off < 4) return PacketStatus.TRUNCATED;
      // The family is in the writer's byte order (DLT_NULL) or big-endian (DLT_LOOP): take
      // whichever reading is small. Every IPv6 family value (10, 23, 24, 28, 30) goes by nibble.
      let af = u32(b, off);
      if (af > 0xffff) af = (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
      if (af === AF_INET) return ipv4(b, off + 4, end, info);
      if (af === 10 || af === 23 || af === 24 || af === 28 || af === 30) return ipv6(b, off + 4, end, info);
      return PacketStatus.NOT_IP;
    }
    default:
      return PacketStatus.UNSUPPORTED;
  }
}

function ethernet(b: Uint8Array, off: number, end: number, info: PacketInfo): PacketStatusCode {
  if (end - off < 14) return PacketStatus.TRUNCATED;
  info.hasEthernet = true;
  info.dstMacHi = u16(b, off);
  info.dstMacLo = u32(b, off + 2);
  info.srcMacHi = u16(b, off + 6);
  info.srcMacLo = u32(b, off + 8);
  let type = u16(b, off + 12);
  let pos = off + 14;
  if (type < 0x0600) {
    // IEEE 802.3 length field: only LLC/SNAP (AA AA 03, OUI, EtherType) carries an EtherType.
    if (end - pos < 8) return PacketStatus.TRUNCATED;
    if (b[pos] !== 0xaa || b[pos + 1] !== 0xaa || b[pos + 2] !== 0x03) return PacketStatus.NOT_IP;
    type = u16(b, pos + 6);
    pos += 8;
  }
  return etherType(b, type, pos, end, info);
}

/** Follows an EtherType at `pos`: VLAN tags, PPPoE, MPLS, then IPv4/IPv6. */
function etherType(
  b: Uint8Array,
  type: number,
  pos: number,
  end: number,
  info: PacketInfo,
): PacketStatusCode {
  let pppoe = false;
  for (;;) {
    info.etherType = type;
    switch (type) {
      case ETH_IPV4:
        return ipv4(b, pos, end, info);
      case ETH_IPV6:
        return ipv6(b, pos, end, info);
      case ETH_8021Q:
      case ETH_8021AD:
      case ETH_QINQ_OLD1:
      case ETH_QINQ_OLD2: {
        if (info.vlanCount >= MAX_VLAN_TAGS) return PacketStatus.TOO_DEEP;
        if (end - pos < 4) return PacketStatus.TRUNCATED;
        const tci = u16(b, pos);
        info.vlanIds[info.vlanCount] = tci & 0x0fff;
        info.vlanPriorities[info.vlanCount] = tci >> 13;
        info.vlanCount++;
        type = u16(b, pos + 2);
        pos += 4;
        break;
      }
      case ETH_MPLS_UC:
      case ETH_MPLS_MC:
        return mpls(b, pos, end, info);
      case ETH_PPPOE_SESSION: {
        // One PPPoE session header (6 bytes) and the PPP protocol field; PPPoE is not nested.
        if (pppoe) return PacketStatus.UNSUPPORTED;
        pppoe = true;
        if (end - pos < 8) return PacketStatus.TRUNCATED;
        const ppp = u16(b, pos + 6);
        pos += 8;
        if (ppp === PPP_IPV4) type = ETH_IPV4;
        else if (ppp === PPP_IPV6) type = ETH_IPV6;
        else return PacketStatus.NOT_IP;
        break;
      }
      default:
        return PacketStatus.NOT_IP;
    }
  }
}

function mpls(b: Uint8Array, pos: number, end: number, info: PacketInfo): PacketStatusCode {
  for (;;) {
    if (info.mplsCount >= MAX_MPLS_LABELS) return PacketStatus.TOO_DEEP;
    if (end - pos < 4) return PacketStatus.TRUNCATED;
    const entry = u32(b, pos);
    info.mplsEntries[info.mplsCount++] = entry;
    pos += 4;
    if ((entry & 0x100) !== 0) break; // bottom of stack
  }
  // MPLS does not say what it carries; IP is recognised by its version nibble (RFC 4928 avoids
  // 4 and 6 as the first nibble of pseudowire control words for this reason).
  return ipByNibble(b, pos, end, info);
}

function ipByNibble(b: Uint8Array, pos: number, end: number, info: PacketInfo): PacketStatusCode {
  if (end - pos < 1) return PacketStatus.TRUNCATED;
  const v = b[pos]! >> 4;
  if (v === 4) return ipv4(b, pos, end, info);
  if (v === 6) return ipv6(b, pos, end, info);
  return PacketStatus.UNSUPPORTED;
}

function ipv4(b: Uint8Array, pos: number, end: number, info: PacketInfo): PacketStatusCode {
  if (end - pos < 20) return PacketStatus.TRUNCATED;
  const vihl = b[pos]!;
  if (vihl >> 4 !== 4) return PacketStatus.MALFORMED;
  info.ipVersion = 4;
  info.ipOffset = pos;
  info.tos = b[pos + 1]!;
  const total = u16(b, pos + 2);
  info.ipTotalLength = total;
  info.fragmentId = u16(b, pos + 4);
  const frag = u16(b, pos + 6);
  info.fragmentOffset = frag & 0x1fff;
  // IPv4 flags sit in the top three bits of the 16-bit word; IANA puts them in the top three
  // bits of one byte, hence the shift by 8.
  info.fragmentFlags = (frag >> 8) & 0xe0;
  info.isFragment = (frag & 0x3fff) !== 0;
  info.ttl = b[pos + 8]!;
  info.protocol = b[pos + 9]!;
  info.src[0] = u32(b, pos + 12);
  info.dst[0] = u32(b, pos + 16);
  const ihl = (vihl & 0x0f) * 4;
  info.ipHeaderLength = ihl;
  if (ihl < 20) return PacketStatus.MALFORMED;
  // Total length 0 is what TCP segmentation offload leaves in locally captured packets.
  if (total !== 0 && total < ihl) return PacketStatus.MALFORMED;
  if (info.fragmentOffset !== 0) return PacketStatus.OK; // no transport header in this fragment
  if (end - pos < ihl) return PacketStatus.TRUNCATED;
  const ipEnd = total === 0 ? end : Math.min(end, pos + total);
  return transport(b, pos + ihl, ipEnd, info);
}

function ipv6(b: Uint8Array, pos: number, end: number, info: PacketInfo): PacketStatusCode {
  if (end - pos < 40) return PacketStatus.TRUNCATED;
  const w0 = u32(b, pos);
  if (w0 >>> 28 !== 6) return PacketStatus.MALFORMED;
  info.ipVersion = 6;
  info.ipOffset = pos;
  info.tos = (w0 >>> 20) & 0xff;
  info.flowLabel = w0 & 0xfffff;
  const plen = u16(b, pos + 4);
  info.ipTotalLength = plen + 40;
  info.ipHeaderLength = 40;
  let nh = b[pos + 6]!;
  info.protocol = nh;
  info.ttl = b[pos + 7]!;
  for (let i = 0; i < 4; i++) {
    info.src[i] = u32(b, pos + 8 + i * 4);
    info.dst[i] = u32(b, pos + 24 + i * 4);
  }
  // Payload length 0 means a jumbogram or an offloaded capture: the bytes at hand bound it.
  const ipEnd = plen === 0 ? end : Math.min(end, pos + 40 + plen);
  let p = pos + 40;
  for (;;) {
    switch (nh) {
      case 0: // hop-by-hop options
      case 43: // routing
      case 60: // destination options
      case 135: // mobility
      case 139: // HIP
      case 140: // shim6
      case 51: {
        // authentication header: its length is in 4-byte units minus 2, the others' in 8-byte units minus 1
        if (info.ipv6ExtensionHeaders >= MAX_IPV6_EXTENSION_HEADERS) return PacketStatus.TOO_DEEP;
        if (ipEnd - p < 8) return PacketStatus.TRUNCATED;
        const len = nh === 51 ? (b[p + 1]! + 2) * 4 : (b[p + 1]! + 1) * 8;
        info.ipv6ExtensionHeaders++;
        nh = b[p]!;
        info.protocol = nh;
        p += len;
        break;
      }
      case 44: {
        if (info.ipv6ExtensionHeaders >= MAX_IPV6_EXTENSION_HEADERS) return PacketStatus.TOO_DEEP;
        if (ipEnd - p < 8) return PacketStatus.TRUNCATED;
        info.ipv6ExtensionHeaders++;
        nh = b[p]!;
        info.protocol = nh;
        const fo = u16(b, p + 2);
        info.fragmentOffset = fo >> 3;
        info.fragmentFlags = (fo & 1) !== 0 ? FRAGMENT_MF : 0;
        info.fragmentId = u32(b, p + 4);
        // An atomic fragment (RFC 6946: offset 0, no more fragments) is a whole datagram.
        info.isFragment = (fo & 0xfff9) !== 0;
        p += 8;
        if (info.fragmentOffset !== 0) return PacketStatus.OK;
        break;
      }
      default:
        if (p > ipEnd) return PacketStatus.TRUNCATED;
        return transport(b, p, ipEnd, info);
    }
  }
}

function transport(b: Uint8Array, p: number, end: number, info: PacketInfo): PacketStatusCode {
  const proto = info.protocol;
  const avail = end - p;
  switch (proto) {
    case PROTO_TCP: {
      info.transportOffset = p;
      if (avail < 4) return PacketStatus.TRUNCATED;
      info.hasPorts = true;
      info.srcPort = u16(b, p);
      info.dstPort = u16(b, p + 2);
      if (avail < 12) return PacketStatus.TRUNCATED;
      info.hasTcpSequence = true;
      info.tcpSequence = u32(b, p + 4);
      info.tcpAcknowledgement = u32(b, p + 8);
      if (avail < 14) return PacketStatus.TRUNCATED;
      info.hasTcpFlags = true;
      // The 12 bits after the data offset: reserved bits, NS, then CWR..FIN (IANA tcpControlBits).
      info.tcpFlags = ((b[p + 12]! & 0x0f) << 8) | b[p + 13]!;
      if (avail < 20) return PacketStatus.TRUNCATED;
      info.tcpWindow = u16(b, p + 14);
      const hl = (b[p + 12]! >> 4) * 4;
      if (hl < 20) return PacketStatus.MALFORMED;
      if (avail < hl) return PacketStatus.TRUNCATED;
      info.payloadOffset = p + hl;
      info.payloadEnd = end;
      return PacketStatus.OK;
    }
    case PROTO_UDP:
    case PROTO_UDPLITE: {
      info.transportOffset = p;
      if (avail < 4) return PacketStatus.TRUNCATED;
      info.hasPorts = true;
      info.srcPort = u16(b, p);
      info.dstPort = u16(b, p + 2);
      if (avail < 8) return PacketStatus.TRUNCATED;
      const len = u16(b, p + 4);
      info.udpLength = len;
      info.payloadOffset = p + 8;
      // UDP-Lite's field is a checksum coverage, not a length; a UDP length of 0 is a jumbogram.
      info.payloadEnd = proto === PROTO_UDP && len >= 8 ? Math.min(end, p + len) : end;
      return PacketStatus.OK;
    }
    case PROTO_SCTP:
    case PROTO_DCCP:
      info.transportOffset = p;
      if (avail < 4) return PacketStatus.TRUNCATED;
      info.hasPorts = true;
      info.srcPort = u16(b, p);
      info.dstPort = u16(b, p + 2);
      return PacketStatus.OK;
    case PROTO_ICMP:
    case PROTO_ICMPV6:
      info.transportOffset = p;
      if (avail < 2) return PacketStatus.TRUNCATED;
      info.hasIcmp = true;
      info.icmpType = b[p]!;
      info.icmpCode = b[p + 1]!;
      return PacketStatus.OK;
    default:
      return PacketStatus.OK;
  }
}

/** Maps an sFlow `header_protocol` to a {@link PacketStart}, or -1 when not decoded here. */
export function startFromSflowHeaderProtocol(headerProtocol: number): number {
  switch (headerProtocol) {
    case PacketStart.ETHERNET:
    case PacketStart.IPV4:
    case PacketStart.IPV6:
    case PacketStart.MPLS:
      return headerProtocol;
    default:
      return -1;
  }
}

/** Maps a pcap LINKTYPE_ value to a {@link PacketStart}, or -1 when not decoded here. */
export function startFromLinkType(linkType: number): number {
  switch (linkType) {
    case 1:
      return PacketStart.ETHERNET;
    case 0:
    case 108:
      return PacketStart.BSD_LOOPBACK;
    case 12:
    case 14:
    case 101:
      return PacketStart.IP;
    case 113:
      return PacketStart.LINUX_SLL;
    case 276:
      return PacketStart.LINUX_SLL2;
    case 228:
      return PacketStart.IPV4;
    case 229:
      return PacketStart.IPV6;
    default:
      return -1;
  }
}
