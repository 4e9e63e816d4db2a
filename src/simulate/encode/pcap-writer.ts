/**
 * Classic pcap writer (the libpcap file format, as documented by tcpdump.org and the IETF pcap
 * draft) for UDP datagrams: each record is an Ethernet frame (LINKTYPE_ETHERNET) or a bare IP
 * packet (LINKTYPE_RAW) with correct IPv4/IPv6 and UDP headers, so a capture of what the simulated
 * exporters sent opens in tshark and acd's own pcap reader.
 */
import { EncodeError } from './errors.ts';
import { addressBytes } from './sflow.ts';

/** pcap link types written here. */
export const LINKTYPE = { ETHERNET: 1, RAW: 101 } as const;

/** Snapshot length written in the header: whole datagrams are always kept. */
const SNAPLEN = 262_144;
/** Largest UDP payload one IPv4 packet can carry (65535 - 20 - 8). */
const MAX_UDP_PAYLOAD = 65_507;

/** One UDP datagram to write. */
export interface PcapDatagram {
  /** Capture time, epoch milliseconds (microseconds kept from the fraction). */
  timeMs: number;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  payload: Uint8Array;
}

/** Options of a pcap writer. */
export interface PcapWriterOptions {
  linkType?: 'ethernet' | 'raw';
}

function u16be(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

function sum16(b: Uint8Array, from: number, to: number, acc = 0): number {
  for (let i = from; i + 1 < to; i += 2) acc += (b[i]! << 8) | b[i + 1]!;
  if ((to - from) % 2 === 1) acc += b[to - 1]! << 8;
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 65536);
  return acc;
}

/**
 * Produces the bytes of a pcap file: `header()` once, then `packet()` per datagram, in time
 * order. Little-endian headers with microsecond timestamps (magic 0xa1b2c3d4), which every reader
 * understands.
 */
export class PcapWriter {
  /** The link type number written in the header. */
  readonly linkType: number;
  /** Packets written so far. */
  packets = 0;
  private ipId = 0;

  constructor(opts: PcapWriterOptions = {}) {
    this.linkType = opts.linkType === 'raw' ? LINKTYPE.RAW : LINKTYPE.ETHERNET;
  }

  /** The 24-byte global header. */
  header(): Uint8Array {
    const b = new Uint8Array(24);
    const v = new DataView(b.buffer);
    v.setUint32(0, 0xa1b2c3d4, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setUint32(16, SNAPLEN, true);
    v.setUint32(20, this.linkType, true);
    return b;
  }

  /** One record: 16-byte record header, then the frame. */
  packet(d: PcapDatagram): Uint8Array {
    if (d.payload.length > MAX_UDP_PAYLOAD) throw new EncodeError('udp payload too large for one packet');
    const src = addressBytes(d.src);
    const dst = addressBytes(d.dst);
    if (src.length !== dst.length) throw new EncodeError('source and destination of different families');
    const v6 = src.length === 16;
    const l2 = this.linkType === LINKTYPE.ETHERNET ? 14 : 0;
    const ipHdr = v6 ? 40 : 20;
    const udpLen = 8 + d.payload.length;
    const frame = l2 + ipHdr + udpLen;
    const b = new Uint8Array(16 + frame);
    const v = new DataView(b.buffer);
    const sec = Math.floor(d.timeMs / 1000);
    v.setUint32(0, sec, true);
    v.setUint32(4, Math.min(999_999, Math.round((d.timeMs - sec * 1000) * 1000)), true);
    v.setUint32(8, frame, true);
    v.setUint32(12, frame, true);
    let o = 16;
    if (l2) {
      // Locally administered MACs derived from the addresses' last bytes: stable per host.
      b.set([0x02, 0, 0, 0, dst[dst.length - 2]!, dst[dst.length - 1]!], o);
      b.set([0x02, 0, 0, 0, src[src.length - 2]!, src[src.length - 1]!], o + 6);
      u16be(b, o + 12, v6 ? 0x86dd : 0x0800);
      o += 14;
    }
    const ip = o;
    if (v6) {
      b[ip] = 0x60;
      u16be(b, ip + 4, udpLen);
      b[ip + 6] = 17;
      b[ip + 7] = 64;
      b.set(src, ip + 8);
      b.set(dst, ip + 24);
    } else {
      b[ip] = 0x45;
      u16be(b, ip + 2, ipHdr + udpLen);
      u16be(b, ip + 4, this.ipId);
      this.ipId = (this.ipId + 1) & 0xffff;
      b[ip + 8] = 64;
      b[ip + 9] = 17;
      b.set(src, ip + 12);
      b.set(dst, ip + 16);
      u16be(b, ip + 10, ~fold(sum16(b, ip, ip + 20)) & 0xffff);
    }
    const u = ip + ipHdr;
    u16be(b, u, d.srcPort);
    u16be(b, u + 2, d.dstPort);
    u16be(b, u + 4, udpLen);
    b.set(d.payload, u + 8);
    if (v6) {
      // The UDP checksum is mandatory over IPv6 (RFC 8200 section 8.1); over IPv4 zero means none.
      let acc = sum16(src, 0, 16) + sum16(dst, 0, 16) + udpLen + 17;
      acc = sum16(b, u, u + udpLen, acc);
      const c = ~fold(acc) & 0xffff;
      u16be(b, u + 6, c === 0 ? 0xffff : c);
    }
    this.packets++;
    return b;
  }
}

/** A whole pcap file image of the datagrams (in the given order). */
export function encodePcap(datagrams: readonly PcapDatagram[], opts: PcapWriterOptions = {}): Uint8Array {
  const w = new PcapWriter(opts);
  const parts = [w.header(), ...datagrams.map((d) => w.packet(d))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
