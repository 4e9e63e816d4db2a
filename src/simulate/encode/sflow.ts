/**
 * sFlow version 5 datagram encoder (sFlow v5 specification, sflow.org, July 2004): flow samples
 * carrying a raw packet header record (a synthesised Ethernet + IPv4/IPv6 + TCP/UDP/ICMP header,
 * no payload) plus extended switch and extended router data, and counter samples carrying generic
 * interface counters. XDR throughout: big-endian 32-bit words, opaque data padded to 4 bytes.
 */
import type { Fields, FieldValue } from '../../common/schema/index.ts';
import { EncodeError } from './errors.ts';
import { parseIpv6 } from './fields.ts';
import { ByteWriter } from './writer.ts';

/** sFlow `header_protocol` value for Ethernet frames (ETHERNET-ISO88023). */
export const SFLOW_HEADER_PROTOCOL_ETHERNET = 1;
/** Bytes of an Ethernet header without VLAN tag. */
const ETH_HEADER = 14;
/** Bytes of the Ethernet frame check sequence, counted in `frame_length` and reported as stripped. */
const ETH_FCS = 4;
/** Largest sampled header a device usually sends (the common default of 128 bytes). */
export const SFLOW_DEFAULT_HEADER_BYTES = 128;
/** The `ifIndex` value meaning "interface unknown" in sFlow's input/output fields. */
export const SFLOW_IF_UNKNOWN = 0x3fffffff;

/** The packet a flow sample describes: enough to synthesise its headers. */
export interface SflowPacket {
  /** Source / destination IP address, IPv4 or IPv6 text (both of the same family). */
  src: string;
  dst: string;
  /** IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, others get no transport header). */
  protocol: number;
  srcPort?: number;
  dstPort?: number;
  /** TCP flags (low 8 bits used). */
  tcpFlags?: number;
  /** ICMP type and code (for protocol 1 / 58). */
  icmpType?: number;
  icmpCode?: number;
  /** IPv4 TOS / IPv6 traffic class. */
  tos?: number;
  /** IPv4 TTL / IPv6 hop limit (default 64). */
  ttl?: number;
  /** IP total length in bytes (IP header included); at least the headers' size. */
  ipLength: number;
  /** Source and destination MAC addresses (`aa:bb:...`); defaults are locally administered. */
  srcMac?: string;
  dstMac?: string;
  /** 802.1Q VLAN id to tag the frame with (omitted: untagged). */
  vlan?: number;
  /** IPv4 identification / IPv6 flow label (defaults 0). */
  ipId?: number;
}

/** Extended switch data (format 1001). */
export interface SflowExtendedSwitch {
  srcVlan: number;
  srcPriority: number;
  dstVlan: number;
  dstPriority: number;
}

/** Extended router data (format 1002). */
export interface SflowExtendedRouter {
  /** Next hop address (IPv4 or IPv6 text). */
  nextHop: string;
  srcMaskLen: number;
  dstMaskLen: number;
}

/** A flow sample (format 1): one sampled packet. */
export interface SflowFlowSample {
  kind: 'flow';
  /** Per-data-source flow sample sequence number. */
  sequence: number;
  /** Data source: type (0 = ifIndex) and index. */
  sourceIdType: number;
  sourceIdIndex: number;
  /** 1-in-N sampling rate. */
  samplingRate: number;
  /** Packets that could have been sampled (total packets seen by the data source). */
  samplePool: number;
  /** Samples lost for lack of resources. */
  drops: number;
  /** Input / output ifIndex (SFLOW_IF_UNKNOWN when unknown). */
  input: number;
  output: number;
  packet: SflowPacket;
  /** Bytes of the sampled header to include at most (default 128). */
  maxHeaderBytes?: number;
  switch?: SflowExtendedSwitch;
  router?: SflowExtendedRouter;
}

/** Generic interface counters (counter record format 1), named after IF-MIB objects. */
export interface SflowGenericCounters {
  ifIndex: number;
  ifType: number;
  ifSpeed: number;
  /** 0 unknown, 1 full-duplex, 2 half-duplex, 3 in, 4 out. */
  ifDirection: number;
  /** Bit 0 admin up, bit 1 operationally up. */
  ifStatus: number;
  ifInOctets: number;
  ifInUcastPkts: number;
  ifInMulticastPkts: number;
  ifInBroadcastPkts: number;
  ifInDiscards: number;
  ifInErrors: number;
  ifInUnknownProtos: number;
  ifOutOctets: number;
  ifOutUcastPkts: number;
  ifOutMulticastPkts: number;
  ifOutBroadcastPkts: number;
  ifOutDiscards: number;
  ifOutErrors: number;
  ifPromiscuousMode: number;
}

/** A counter sample (format 2). */
export interface SflowCounterSample {
  kind: 'counters';
  sequence: number;
  sourceIdType: number;
  sourceIdIndex: number;
  generic: SflowGenericCounters;
}

/** One sample of a datagram. */
export type SflowSample = SflowFlowSample | SflowCounterSample;

/** What `encodeSflowDatagram` needs. */
export interface SflowDatagramInput {
  /** The agent's address (IPv4 or IPv6 text): the exporter identity collectors use. */
  agentAddress: string;
  subAgentId: number;
  /** Datagram sequence number (per agent and sub-agent, incremented per datagram). */
  sequence: number;
  /** Milliseconds since the agent booted (wraps at 2^32). */
  uptimeMs: number;
  samples: SflowSample[];
}

/** Parses dotted-quad IPv4 text into `out` at `at`; returns false when it is not one. */
export function writeIpv4Text(s: string, out: Uint8Array, at: number): boolean {
  let part = 0;
  let digits = 0;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || n === 3) return false;
      out[at + n++] = part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return false;
    } else return false;
  }
  if (digits === 0 || n !== 3) return false;
  out[at + 3] = part;
  return true;
}

/** Address bytes (4 or 16) of IPv4/IPv6 text; throws `EncodeError` for anything else. */
export function addressBytes(s: string): Uint8Array {
  if (s.includes(':')) return parseIpv6(s);
  const b = new Uint8Array(4);
  if (!writeIpv4Text(s, b, 0)) throw new EncodeError(`bad IPv4 address ${s}`);
  return b;
}

function macBytes(s: string | undefined, fallback: number): Uint8Array {
  const b = new Uint8Array(6);
  if (s === undefined) {
    // Locally administered unicast (02:...), so synthetic frames never claim a vendor's OUI.
    b.set([0x02, 0x00, 0x5e, 0x10, (fallback >> 8) & 0xff, fallback & 0xff]);
    return b;
  }
  const parts = s.split(/[:-]/);
  if (parts.length !== 6) throw new EncodeError(`bad MAC address ${s}`);
  for (let i = 0; i < 6; i++) {
    const v = Number.parseInt(parts[i]!, 16);
    if (!(v >= 0 && v <= 255)) throw new EncodeError(`bad MAC address ${s}`);
    b[i] = v;
  }
  return b;
}

/** RFC 1071 Internet checksum of `b[from, to)`. */
function inetChecksum(b: Uint8Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i + 1 < to; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if ((to - from) % 2 === 1) sum += b[to - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Bytes of the IP header plus transport header for a packet (what the IP length must cover). */
export function minimumIpLength(p: Pick<SflowPacket, 'src' | 'protocol'>): number {
  const ip = p.src.includes(':') ? 40 : 20;
  return ip + transportHeaderBytes(p.protocol);
}

function transportHeaderBytes(protocol: number): number {
  if (protocol === 6) return 20;
  if (protocol === 17) return 8;
  if (protocol === 1 || protocol === 58) return 8;
  return 0;
}

/**
 * Synthesises the headers of a packet: Ethernet (with an 802.1Q tag when `vlan` is set), IPv4 (with
 * a correct header checksum) or IPv6, then a TCP, UDP or ICMP header; no payload, since sampled
 * headers of a simulated flow have none to show (and payload is stripped downstream anyway). The
 * IP length fields carry `ipLength`, so the header says how big the real packet was.
 */
export function synthesizePacketHeader(p: SflowPacket): Uint8Array {
  const v6 = p.src.includes(':');
  const src = addressBytes(p.src);
  const dst = addressBytes(p.dst);
  if (src.length !== dst.length) throw new EncodeError('source and destination of different families');
  const tag = p.vlan !== undefined ? 4 : 0;
  const ipHdr = v6 ? 40 : 20;
  const l4 = transportHeaderBytes(p.protocol);
  const ipLength = Math.max(p.ipLength, ipHdr + l4);
  const b = new Uint8Array(ETH_HEADER + tag + ipHdr + l4);
  b.set(macBytes(p.dstMac, 1), 0);
  b.set(macBytes(p.srcMac, 2), 6);
  let o = 12;
  if (tag) {
    b[o] = 0x81;
    b[o + 1] = 0x00;
    b[o + 2] = (p.vlan! >> 8) & 0x0f;
    b[o + 3] = p.vlan! & 0xff;
    o += 4;
  }
  b[o] = v6 ? 0x86 : 0x08;
  b[o + 1] = v6 ? 0xdd : 0x00;
  o += 2;
  const ip = o;
  const tos = (p.tos ?? 0) & 0xff;
  const ttl = p.ttl ?? 64;
  if (v6) {
    const label = (p.ipId ?? 0) & 0xfffff;
    b[ip] = 0x60 | (tos >> 4);
    b[ip + 1] = ((tos & 0x0f) << 4) | (label >> 16);
    b[ip + 2] = (label >> 8) & 0xff;
    b[ip + 3] = label & 0xff;
    const payload = Math.min(0xffff, ipLength - 40);
    b[ip + 4] = payload >> 8;
    b[ip + 5] = payload & 0xff;
    b[ip + 6] = p.protocol;
    b[ip + 7] = ttl;
    b.set(src, ip + 8);
    b.set(dst, ip + 24);
  } else {
    const total = Math.min(0xffff, ipLength);
    b[ip] = 0x45;
    b[ip + 1] = tos;
    b[ip + 2] = total >> 8;
    b[ip + 3] = total & 0xff;
    b[ip + 4] = ((p.ipId ?? 0) >> 8) & 0xff;
    b[ip + 5] = (p.ipId ?? 0) & 0xff;
    b[ip + 6] = 0x40; // don't fragment, as most TCP stacks set it
    b[ip + 8] = ttl;
    b[ip + 9] = p.protocol;
    b.set(src, ip + 12);
    b.set(dst, ip + 16);
    const sum = inetChecksum(b, ip, ip + 20);
    b[ip + 10] = sum >> 8;
    b[ip + 11] = sum & 0xff;
  }
  const t = ip + ipHdr;
  const sp = (p.srcPort ?? 0) & 0xffff;
  const dp = (p.dstPort ?? 0) & 0xffff;
  if (p.protocol === 6) {
    b[t] = sp >> 8;
    b[t + 1] = sp & 0xff;
    b[t + 2] = dp >> 8;
    b[t + 3] = dp & 0xff;
    b[t + 12] = 0x50; // data offset 5 words, no options
    b[t + 13] = (p.tcpFlags ?? 0) & 0xff;
    b[t + 14] = 0xff; // window 65535
    b[t + 15] = 0xff;
  } else if (p.protocol === 17) {
    b[t] = sp >> 8;
    b[t + 1] = sp & 0xff;
    b[t + 2] = dp >> 8;
    b[t + 3] = dp & 0xff;
    const udpLen = Math.min(0xffff, ipLength - ipHdr);
    b[t + 4] = udpLen >> 8;
    b[t + 5] = udpLen & 0xff;
  } else if (p.protocol === 1 || p.protocol === 58) {
    b[t] = p.icmpType ?? 8;
    b[t + 1] = p.icmpCode ?? 0;
  }
  return b;
}

function writeAddress(w: ByteWriter, text: string): void {
  const a = addressBytes(text);
  w.u32(a.length === 4 ? 1 : 2).bytes(a);
}

function writeFlowSample(w: ByteWriter, s: SflowFlowSample): void {
  w.u32(s.sequence)
    .u32(((s.sourceIdType & 0xff) << 24) | (s.sourceIdIndex & 0xffffff))
    .u32(s.samplingRate)
    .u32(s.samplePool)
    .u32(s.drops)
    .u32(s.input & 0x3fffffff)
    .u32(s.output & 0x3fffffff);
  const records = 1 + (s.switch ? 1 : 0) + (s.router ? 1 : 0);
  w.u32(records);
  // Raw packet header record: what was captured of the frame, cut to the header budget.
  const full = synthesizePacketHeader(s.packet);
  const max = s.maxHeaderBytes ?? SFLOW_DEFAULT_HEADER_BYTES;
  const header = full.length > max ? full.subarray(0, max) : full;
  const tag = s.packet.vlan !== undefined ? 4 : 0;
  const ipLength = Math.max(s.packet.ipLength, minimumIpLength(s.packet));
  const frameLength = ETH_HEADER + tag + ipLength + ETH_FCS;
  const pad = (4 - (header.length % 4)) % 4;
  w.u32(1)
    .u32(16 + header.length + pad)
    .u32(SFLOW_HEADER_PROTOCOL_ETHERNET)
    .u32(frameLength)
    .u32(ETH_FCS)
    .u32(header.length)
    .bytes(header)
    .zeros(pad);
  if (s.switch) {
    w.u32(1001)
      .u32(16)
      .u32(s.switch.srcVlan)
      .u32(s.switch.srcPriority)
      .u32(s.switch.dstVlan)
      .u32(s.switch.dstPriority);
  }
  if (s.router) {
    const a = addressBytes(s.router.nextHop);
    w.u32(1002)
      .u32(4 + a.length + 8)
      .u32(a.length === 4 ? 1 : 2)
      .bytes(a)
      .u32(s.router.srcMaskLen)
      .u32(s.router.dstMaskLen);
  }
}

function u64(w: ByteWriter, v: number): void {
  const hi = Math.floor(v / 4294967296);
  w.u32(hi).u32(v - hi * 4294967296);
}

function writeCounterSample(w: ByteWriter, s: SflowCounterSample): void {
  const g = s.generic;
  w.u32(s.sequence)
    .u32(((s.sourceIdType & 0xff) << 24) | (s.sourceIdIndex & 0xffffff))
    .u32(1) // one record: generic interface counters
    .u32(1)
    .u32(88)
    .u32(g.ifIndex)
    .u32(g.ifType);
  u64(w, g.ifSpeed);
  w.u32(g.ifDirection).u32(g.ifStatus);
  u64(w, g.ifInOctets);
  w.u32(g.ifInUcastPkts)
    .u32(g.ifInMulticastPkts)
    .u32(g.ifInBroadcastPkts)
    .u32(g.ifInDiscards)
    .u32(g.ifInErrors)
    .u32(g.ifInUnknownProtos);
  u64(w, g.ifOutOctets);
  w.u32(g.ifOutUcastPkts)
    .u32(g.ifOutMulticastPkts)
    .u32(g.ifOutBroadcastPkts)
    .u32(g.ifOutDiscards)
    .u32(g.ifOutErrors)
    .u32(g.ifPromiscuousMode);
}

/** Encodes one sFlow v5 datagram. Throws `EncodeError` for addresses it cannot encode. */
export function encodeSflowDatagram(d: SflowDatagramInput): Uint8Array {
  const w = new ByteWriter();
  w.u32(5);
  writeAddress(w, d.agentAddress);
  w.u32(d.subAgentId).u32(d.sequence).u32(d.uptimeMs).u32(d.samples.length);
  for (const s of d.samples) {
    const start = w.length;
    w.u32(s.kind === 'flow' ? 1 : 2).u32(0);
    if (s.kind === 'flow') writeFlowSample(w, s);
    else writeCounterSample(w, s);
    const len = w.length - start - 8;
    w.patch16(start + 4, 0);
    w.patch16(start + 6, len);
    if (len > 0xffff) throw new EncodeError('sflow sample longer than 65535 bytes');
  }
  return w.finish();
}

/** Encoded size of a flow sample (with its 8-byte sample header), for MTU budgeting. */
export function sflowFlowSampleBytes(s: SflowFlowSample): number {
  const tag = s.packet.vlan !== undefined ? 4 : 0;
  const header = Math.min(
    ETH_HEADER + tag + minimumIpLength(s.packet),
    s.maxHeaderBytes ?? SFLOW_DEFAULT_HEADER_BYTES,
  );
  let n = 8 + 32 + 8 + 16 + ((header + 3) & ~3);
  if (s.switch) n += 8 + 16;
  if (s.router) n += 8 + 4 + (s.router.nextHop.includes(':') ? 16 : 4) + 8;
  return n;
}

/** Encoded size of a counter sample with generic counters (with its sample header). */
export const SFLOW_COUNTER_SAMPLE_BYTES = 8 + 12 + 8 + 88;

/** Bytes of the datagram header for an agent address of the given family. */
export function sflowDatagramHeaderBytes(agentAddress: string): number {
  return agentAddress.includes(':') ? 8 + 16 + 16 : 8 + 4 + 16;
}

function num(v: FieldValue | undefined, d = 0): number {
  return typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : d;
}

/**
 * The packet an sFlow agent would sample from a flow given as IANA-named fields: addresses,
 * protocol, ports, TCP flags, TOS, TTL (`minimumTTL`), ICMP type/code, VLAN, MACs, and an IP length
 * equal to the flow's mean packet size (`octetDeltaCount / packetDeltaCount`, at least the size of
 * the headers). Returns undefined when the fields name no addresses.
 */
export function sflowPacketFromFields(f: Fields): SflowPacket | undefined {
  const src = f.sourceIPv4Address ?? f.sourceIPv6Address;
  const dst = f.destinationIPv4Address ?? f.destinationIPv6Address;
  if (typeof src !== 'string' || typeof dst !== 'string') return undefined;
  const protocol = num(f.protocolIdentifier);
  const packets = Math.max(1, num(f.packetDeltaCount, 1));
  const octets = num(f.octetDeltaCount);
  const p: SflowPacket = {
    src,
    dst,
    protocol,
    ipLength: Math.max(minimumIpLength({ src, protocol }), Math.round(octets / packets)),
  };
  if (f.sourceTransportPort !== undefined) p.srcPort = num(f.sourceTransportPort);
  if (f.destinationTransportPort !== undefined) p.dstPort = num(f.destinationTransportPort);
  if (f.tcpControlBits !== undefined) p.tcpFlags = num(f.tcpControlBits) & 0xff;
  if (f.ipClassOfService !== undefined) p.tos = num(f.ipClassOfService);
  const ttl = f.minimumTTL ?? f.ipTTL;
  if (ttl !== undefined) p.ttl = num(ttl);
  const icmp = f.icmpTypeCodeIPv4 ?? f.icmpTypeCodeIPv6;
  if (icmp !== undefined) {
    p.icmpType = num(icmp) >> 8;
    p.icmpCode = num(icmp) & 0xff;
  }
  if (f.vlanId !== undefined && num(f.vlanId) > 0) p.vlan = num(f.vlanId);
  if (typeof f.sourceMacAddress === 'string') p.srcMac = f.sourceMacAddress;
  if (typeof f.destinationMacAddress === 'string') p.dstMac = f.destinationMacAddress;
  return p;
}
