/**
 * Frame builder for tests and benchmarks, written from the protocol specifications (IEEE 802.3,
 * 802.1Q, RFC 3032 MPLS, RFC 791 IPv4, RFC 8200 IPv6, RFC 9293 TCP, RFC 768 UDP, RFC 792/4443
 * ICMP). Not used by the decoders. Checksums are left zero: decoders never verify them.
 */

/** What to put in a frame; omitted layers are left out. */
export interface FrameSpec {
  /** Ethernet header (omit for a frame that starts at MPLS or IP). */
  ethernet?: { src: string; dst: string };
  /** 802.1Q tags, outermost first: TPID (default 0x8100), VLAN id, priority. */
  vlans?: { id: number; priority?: number; tpid?: number }[];
  /** MPLS label stack, top first (bottom-of-stack set on the last). */
  mpls?: { label: number; tc?: number; ttl?: number }[];
  ip?: Ipv4Spec | Ipv6Spec;
  /** EtherType when there is no `ip` (e.g. 0x0806 ARP); followed by `payload`. */
  etherType?: number;
  /** Bytes after the transport header (or after the link layer when there is no IP). */
  payload?: Uint8Array;
}

/** IPv4 header and what it carries. */
export interface Ipv4Spec {
  version: 4;
  src: string;
  dst: string;
  protocol?: number;
  tos?: number;
  ttl?: number;
  id?: number;
  /** IPv4 flags (DF 0x2, MF 0x1) and fragment offset in 8-octet units. */
  flags?: number;
  fragmentOffset?: number;
  /** Options bytes (multiple of 4). */
  options?: Uint8Array;
  transport?: TransportSpec;
}

/** IPv6 header and what it carries. */
export interface Ipv6Spec {
  version: 6;
  src: string;
  dst: string;
  nextHeader?: number;
  trafficClass?: number;
  flowLabel?: number;
  hopLimit?: number;
  /** Extension headers in order: generic ones (hop-by-hop 0, routing 43, destination 60) or fragment 44. */
  extensions?: (
    { type: 0 | 43 | 60; length?: number } | { type: 44; offset: number; more: boolean; id: number }
  )[];
  transport?: TransportSpec;
}

/** Transport header. */
export type TransportSpec =
  | {
      kind: 'tcp';
      srcPort: number;
      dstPort: number;
      seq?: number;
      ack?: number;
      flags?: number;
      window?: number;
    }
  | { kind: 'udp'; srcPort: number; dstPort: number }
  | { kind: 'icmp'; type: number; code: number };

/** Bytes of an IPv4 address in dotted-quad form. */
export function ipv4Bytes(s: string): number[] {
  const parts = s.split('.').map((x) => Number(x));
  if (parts.length !== 4 || parts.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) {
    throw new RangeError(`not an IPv4 address: ${s}`);
  }
  return parts;
}

/** Bytes of an IPv6 address (any RFC 4291 text form without embedded IPv4). */
export function ipv6Bytes(s: string): number[] {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups =
    tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) throw new RangeError(`not an IPv6 address: ${s}`);
  const out: number[] = [];
  for (const g of groups) {
    const v = parseInt(g, 16);
    out.push(v >> 8, v & 255);
  }
  return out;
}

/** Bytes of a colon-separated MAC address. */
export function macBytes(s: string): number[] {
  return s.split(':').map((x) => parseInt(x, 16));
}

function push16(o: number[], v: number): void {
  o.push((v >>> 8) & 255, v & 255);
}
function push32(o: number[], v: number): void {
  o.push((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
}

function transportBytes(t: TransportSpec | undefined, payload: number[]): number[] {
  const o: number[] = [];
  if (t === undefined) return payload;
  switch (t.kind) {
    case 'tcp':
      push16(o, t.srcPort);
      push16(o, t.dstPort);
      push32(o, t.seq ?? 0);
      push32(o, t.ack ?? 0);
      o.push(0x50 | (((t.flags ?? 0) >> 8) & 0x0f), (t.flags ?? 0) & 255);
      push16(o, t.window ?? 65535);
      push32(o, 0); // checksum, urgent pointer
      break;
    case 'udp':
      push16(o, t.srcPort);
      push16(o, t.dstPort);
      push16(o, 8 + payload.length);
      push16(o, 0);
      break;
    case 'icmp':
      o.push(t.type, t.code, 0, 0, 0, 0, 0, 0);
      break;
  }
  return [...o, ...payload];
}

function protocolOf(t: TransportSpec | undefined, fallback: number, v6: boolean): number {
  if (t === undefined) return fallback;
  if (t.kind === 'tcp') return 6;
  if (t.kind === 'udp') return 17;
  return v6 ? 58 : 1;
}

/** Builds a frame from `spec`. */
export function buildFrame(spec: FrameSpec): Uint8Array {
  const o: number[] = [];
  const payload = spec.payload ? Array.from(spec.payload) : [];
  let ipBytes: number[] = [];
  if (spec.ip?.version === 4) {
    const ip = spec.ip;
    const body = transportBytes(ip.transport, payload);
    const opts = ip.options ? Array.from(ip.options) : [];
    const ihl = 5 + opts.length / 4;
    ipBytes.push(0x40 | ihl, ip.tos ?? 0);
    push16(ipBytes, ihl * 4 + body.length);
    push16(ipBytes, ip.id ?? 0);
    push16(ipBytes, ((ip.flags ?? 0) << 13) | (ip.fragmentOffset ?? 0));
    ipBytes.push(ip.ttl ?? 64, protocolOf(ip.transport, ip.protocol ?? 0, false));
    push16(ipBytes, 0);
    ipBytes.push(...ipv4Bytes(ip.src), ...ipv4Bytes(ip.dst), ...opts, ...body);
  } else if (spec.ip?.version === 6) {
    const ip = spec.ip;
    let body = transportBytes(ip.transport, payload);
    let next = protocolOf(ip.transport, ip.nextHeader ?? 59, true);
    const exts = [...(ip.extensions ?? [])].reverse();
    for (const e of exts) {
      const h: number[] = [];
      if (e.type === 44) {
        h.push(next, 0);
        push16(h, (e.offset << 3) | (e.more ? 1 : 0));
        push32(h, e.id);
      } else {
        const units = e.length ?? 0;
        h.push(next, units, ...new Array<number>(6 + units * 8).fill(0));
        // PadN option filling the header keeps it valid.
        h[2] = 1;
        h[3] = 4 + units * 8;
      }
      body = [...h, ...body];
      next = e.type;
    }
    push32(ipBytes, 0x60000000 | ((ip.trafficClass ?? 0) << 20) | (ip.flowLabel ?? 0));
    push16(ipBytes, body.length);
    ipBytes.push(next, ip.hopLimit ?? 64, ...ipv6Bytes(ip.src), ...ipv6Bytes(ip.dst), ...body);
  } else {
    ipBytes = payload;
  }
  if (spec.ethernet) {
    o.push(...macBytes(spec.ethernet.dst), ...macBytes(spec.ethernet.src));
    for (const v of spec.vlans ?? []) {
      push16(o, v.tpid ?? 0x8100);
      push16(o, ((v.priority ?? 0) << 13) | v.id);
    }
    const type = spec.mpls?.length
      ? 0x8847
      : spec.ip?.version === 4
        ? 0x0800
        : spec.ip?.version === 6
          ? 0x86dd
          : (spec.etherType ?? 0x0806);
    push16(o, type);
  }
  const labels = spec.mpls ?? [];
  labels.forEach((l, i) => {
    const bos = i === labels.length - 1 ? 1 : 0;
    push32(o, ((l.label << 12) | ((l.tc ?? 0) << 9) | (bos << 8) | (l.ttl ?? 64)) >>> 0);
  });
  o.push(...ipBytes);
  return Uint8Array.from(o);
}
