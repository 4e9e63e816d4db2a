/**
 * Byte builders for the input tests: link, IP, UDP/TCP headers, pcap and pcapng files, and
 * minimal NetFlow v5/v9 and IPFIX messages. Synthetic fixtures are built from the format
 * specifications (pcap draft, pcapng draft, RFC 791/8200/768/793, RFC 3954, RFC 7011).
 */

export function concat(...parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function be16(v: number): Uint8Array {
  return Uint8Array.of((v >> 8) & 0xff, v & 0xff);
}
export function be32(v: number): Uint8Array {
  return Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}
function num(v: number, bytes: 2 | 4, le: boolean): Uint8Array {
  const b = new Uint8Array(bytes);
  const dv = new DataView(b.buffer);
  if (bytes === 2) dv.setUint16(0, v, le);
  else dv.setUint32(0, v >>> 0, le);
  return b;
}

export function ipv4Bytes(a: string): Uint8Array {
  return Uint8Array.from(a.split('.').map(Number));
}
export function ipv6Bytes(a: string): Uint8Array {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':').filter((x) => x !== '') : [];
  const t = tail !== undefined ? tail.split(':').filter((x) => x !== '') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return concat(...groups.map((g) => be16(parseInt(g, 16))));
}

export interface Ipv4Opts {
  id?: number;
  moreFragments?: boolean;
  fragmentOffset?: number; // bytes, multiple of 8
  options?: Uint8Array;
  totalLength?: number;
}
export function ipv4(src: string, dst: string, proto: number, payload: Uint8Array, o: Ipv4Opts = {}): Uint8Array {
  const opts = o.options ?? new Uint8Array(0);
  const ihl = 20 + opts.length;
  const frag = (o.moreFragments ? 0x2000 : 0) | ((o.fragmentOffset ?? 0) / 8);
  return concat(
    Uint8Array.of(0x40 | (ihl / 4), 0),
    be16(o.totalLength ?? ihl + payload.length),
    be16(o.id ?? 1),
    be16(frag),
    Uint8Array.of(64, proto),
    be16(0),
    ipv4Bytes(src),
    ipv4Bytes(dst),
    opts,
    payload,
  );
}

export function ipv6(src: string, dst: string, nextHeader: number, payload: Uint8Array): Uint8Array {
  return concat(
    Uint8Array.of(0x60, 0, 0, 0),
    be16(payload.length),
    Uint8Array.of(nextHeader, 64),
    ipv6Bytes(src),
    ipv6Bytes(dst),
    payload,
  );
}

/** A generic 8-byte IPv6 extension header (hop-by-hop, routing, destination options). */
export function ext(nextHeader: number): Uint8Array {
  return Uint8Array.of(nextHeader, 0, 1, 4, 0, 0, 0, 0);
}
export function fragHeader(nextHeader: number, offset: number, more: boolean, id: number): Uint8Array {
  return concat(Uint8Array.of(nextHeader, 0), be16(offset | (more ? 1 : 0)), be32(id));
}

export function udp(srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  return concat(be16(srcPort), be16(dstPort), be16(8 + payload.length), be16(0), payload);
}

export function tcp(
  srcPort: number,
  dstPort: number,
  seq: number,
  flags: number,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  return concat(
    be16(srcPort),
    be16(dstPort),
    be32(seq),
    be32(0),
    Uint8Array.of(0x50, flags),
    be16(65535),
    be16(0),
    be16(0),
    payload,
  );
}

export function ether(type: number, payload: Uint8Array): Uint8Array {
  return etherVlan(type, payload, []);
}
/** Ethernet with VLAN tags: tags are [tpid, tci] pairs written before the ethertype. */
export function etherVlan(type: number, payload: Uint8Array, tags: [number, number][]): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2])];
  for (const [tpid, tci] of tags) parts.push(be16(tpid), be16(tci));
  parts.push(be16(type), payload);
  return concat(...parts);
}
export function sll(type: number, payload: Uint8Array): Uint8Array {
  return concat(be16(0), be16(1), be16(6), new Uint8Array(8), be16(type), payload);
}
export function sll2(type: number, payload: Uint8Array): Uint8Array {
  return concat(be16(type), be16(0), be32(3), be16(1), Uint8Array.of(0, 6), new Uint8Array(8), payload);
}
export function nullLink(af: number, payload: Uint8Array, le: boolean): Uint8Array {
  return concat(num(af, 4, le), payload);
}

export interface PcapPacket {
  sec: number;
  frac: number;
  data: Uint8Array;
  orig?: number;
}
export function pcapFile(linkType: number, packets: PcapPacket[], le = true, nanos = false): Uint8Array {
  const magic = nanos ? 0xa1b23c4d : 0xa1b2c3d4;
  const parts = [
    num(magic, 4, le),
    num(2, 2, le),
    num(4, 2, le),
    num(0, 4, le),
    num(0, 4, le),
    num(262144, 4, le),
    num(linkType, 4, le),
  ];
  for (const p of packets) {
    parts.push(num(p.sec, 4, le), num(p.frac, 4, le), num(p.data.length, 4, le), num(p.orig ?? p.data.length, 4, le), p.data);
  }
  return concat(...parts);
}

function pad4(b: Uint8Array): Uint8Array {
  const n = (4 - (b.length % 4)) % 4;
  return n ? concat(b, new Uint8Array(n)) : b;
}
export function block(type: number, body: Uint8Array, le: boolean): Uint8Array {
  const b = pad4(body);
  const len = 12 + b.length;
  return concat(num(type, 4, le), num(len, 4, le), b, num(len, 4, le));
}
export function shb(le: boolean, major = 1): Uint8Array {
  return block(
    0x0a0d0d0a,
    concat(num(0x1a2b3c4d, 4, le), num(major, 2, le), num(0, 2, le), new Uint8Array(8).fill(0xff)),
    le,
  );
}
export function option(code: number, value: Uint8Array, le: boolean): Uint8Array {
  return concat(num(code, 2, le), num(value.length, 2, le), pad4(value));
}
export function idb(linkType: number, le: boolean, tsresol?: number, snaplen = 0, tsoffsetSec?: number): Uint8Array {
  const opts: Uint8Array[] = [];
  if (tsresol !== undefined) opts.push(option(9, Uint8Array.of(tsresol), le));
  if (tsoffsetSec !== undefined) {
    const v = new Uint8Array(8);
    new DataView(v.buffer).setBigInt64(0, BigInt(tsoffsetSec), le);
    opts.push(option(14, v, le));
  }
  if (opts.length) opts.push(option(0, new Uint8Array(0), le));
  return block(1, concat(num(linkType, 2, le), num(0, 2, le), num(snaplen, 4, le), ...opts), le);
}
export function epb(ifId: number, ts: bigint, data: Uint8Array, le: boolean, orig?: number): Uint8Array {
  const hi = Number(ts >> 32n);
  const lo = Number(ts & 0xffffffffn);
  return block(
    6,
    concat(num(ifId, 4, le), num(hi, 4, le), num(lo, 4, le), num(data.length, 4, le), num(orig ?? data.length, 4, le), data),
    le,
  );
}
export function spb(data: Uint8Array, le: boolean): Uint8Array {
  return block(3, concat(num(data.length, 4, le), data), le);
}
export function pb(ifId: number, ts: bigint, data: Uint8Array, le: boolean): Uint8Array {
  const hi = Number(ts >> 32n);
  const lo = Number(ts & 0xffffffffn);
  return block(
    2,
    concat(num(ifId, 2, le), num(0, 2, le), num(hi, 4, le), num(lo, 4, le), num(data.length, 4, le), num(data.length, 4, le), data),
    le,
  );
}

/** An IPFIX message with one data set (set id 256) of `dataBytes` bytes of `fill`. */
export function ipfixMessage(seq: number, dataBytes: number, fill = 0xab, domain = 1): Uint8Array {
  const set = concat(be16(256), be16(4 + dataBytes), new Uint8Array(dataBytes).fill(fill));
  return concat(be16(10), be16(16 + set.length), be32(1_700_000_000), be32(seq), be32(domain), set);
}
/** A NetFlow v9 packet with a template flowset and a data flowset of `dataBytes`. */
export function v9Message(seq: number, dataBytes: number): Uint8Array {
  const tmpl = concat(be16(0), be16(12), be16(256), be16(1), be16(8), be16(4));
  const data = concat(be16(256), be16(4 + dataBytes), new Uint8Array(dataBytes).fill(0x11));
  return concat(be16(9), be16(1 + dataBytes / 4), be32(1000), be32(1_700_000_000), be32(seq), be32(7), tmpl, data);
}
/** A NetFlow v5 packet with `count` zeroed records. */
export function v5Message(count: number, seq = 0): Uint8Array {
  return concat(
    be16(5),
    be16(count),
    be32(1000),
    be32(1_700_000_000),
    be32(500),
    be32(seq),
    Uint8Array.of(0, 0),
    be16(0),
    new Uint8Array(48 * count),
  );
}
