/**
 * sFlow v5 datagram builder for tests and benchmarks, written from the sFlow v5 specification's
 * XDR definitions (sflow.org/sflow_version_5.txt). Not used by the decoder. Lengths are computed
 * from the content unless a test overrides them to build broken datagrams.
 */
import { ipv4Bytes, ipv6Bytes, macBytes } from '../packet/testing.ts';

/** Minimal XDR writer (big-endian 32-bit words, opaque data padded to 4 bytes). */
export class XdrWriter {
  private readonly out: number[] = [];

  /** Appends an unsigned 32-bit integer. */
  u32(v: number): this {
    this.out.push((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
    return this;
  }
  /** Appends an unsigned 64-bit integer. */
  u64(v: number | bigint): this {
    const x = BigInt(v);
    return this.u32(Number(x >> 32n)).u32(Number(x & 0xffffffffn));
  }
  /** Appends bytes as they are (no length, no padding). */
  raw(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.out.push(b[i]! & 255);
    return this;
  }
  /** Appends a fixed-length opaque, padded to 4 bytes. */
  fixed(b: ArrayLike<number>): this {
    this.raw(b);
    while (this.out.length % 4 !== 0) this.out.push(0);
    return this;
  }
  /** Appends a variable-length opaque (length, bytes, padding). */
  opaque(b: ArrayLike<number>): this {
    return this.u32(b.length).fixed(b);
  }
  /** Appends a variable-length string (UTF-8). */
  string(s: string): this {
    return this.opaque(new TextEncoder().encode(s));
  }
  /** Appends an sFlow `address`: type 1 + 4 bytes, type 2 + 16 bytes, or type 0 for ''. */
  address(a: string): this {
    if (a === '') return this.u32(0);
    if (a.includes(':')) return this.u32(2).raw(ipv6Bytes(a));
    return this.u32(1).raw(ipv4Bytes(a));
  }
  /** The bytes written so far. */
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

/** A flow record of a flow sample. */
export type FlowRecordSpec =
  | { kind: 'header'; protocol: number; frameLength: number; stripped?: number; header: Uint8Array }
  | { kind: 'ethernet'; length: number; src: string; dst: string; type: number }
  | {
      kind: 'ipv4' | 'ipv6';
      length: number;
      protocol: number;
      src: string;
      dst: string;
      srcPort: number;
      dstPort: number;
      tcpFlags: number;
      tos: number;
    }
  | { kind: 'switch'; srcVlan: number; srcPriority: number; dstVlan: number; dstPriority: number }
  | { kind: 'router'; nextHop: string; srcMask: number; dstMask: number }
  | {
      kind: 'gateway';
      nextHop: string;
      as: number;
      srcAs: number;
      srcPeerAs: number;
      path: { type: 1 | 2; asns: number[] }[];
      communities: number[];
      localPref: number;
    }
  | { kind: 'user'; srcCharset?: number; srcUser: string; dstCharset?: number; dstUser: string }
  | { kind: 'url'; direction: number; url: string; host: string }
  /** Any record as bytes: unknown formats, enterprise formats, broken records. */
  | { kind: 'raw'; format: number; data: Uint8Array; length?: number };

/** A counter record of a counter sample. */
export type CounterRecordSpec =
  | { kind: 'generic'; values: GenericCounters }
  | { kind: 'ethernet'; values: number[] }
  | {
      kind: 'vlan';
      vlanId: number;
      octets: number | bigint;
      ucast: number;
      multicast: number;
      broadcast: number;
      discards: number;
    }
  | {
      kind: 'processor';
      cpu5s: number;
      cpu1m: number;
      cpu5m: number;
      totalMemory: number | bigint;
      freeMemory: number | bigint;
    }
  | { kind: 'raw'; format: number; data: Uint8Array; length?: number };

/** The generic interface counters record, field by field (sFlow v5 `if_counters`). */
export interface GenericCounters {
  ifIndex: number;
  ifType: number;
  ifSpeed: number | bigint;
  ifDirection: number;
  ifStatus: number;
  ifInOctets: number | bigint;
  ifInUcastPkts: number;
  ifInMulticastPkts: number;
  ifInBroadcastPkts: number;
  ifInDiscards: number;
  ifInErrors: number;
  ifInUnknownProtos: number;
  ifOutOctets: number | bigint;
  ifOutUcastPkts: number;
  ifOutMulticastPkts: number;
  ifOutBroadcastPkts: number;
  ifOutDiscards: number;
  ifOutErrors: number;
  ifPromiscuousMode: number;
}

/** A sample of a datagram. */
export type SampleSpec =
  | {
      kind: 'flow';
      expanded?: boolean;
      seq: number;
      sourceIdType: number;
      sourceIdIndex: number;
      rate: number;
      pool: number;
      drops: number;
      /** Interface values; formats default to 0 (ifIndex). */
      input: number;
      output: number;
      inputFormat?: number;
      outputFormat?: number;
      records: FlowRecordSpec[];
    }
  | {
      kind: 'counters';
      expanded?: boolean;
      seq: number;
      sourceIdType: number;
      sourceIdIndex: number;
      records: CounterRecordSpec[];
    }
  | { kind: 'raw'; format: number; data: Uint8Array; length?: number };

/** A whole datagram. */
export interface DatagramSpec {
  /** Agent address (IPv4 or IPv6 text; '' for the unknown address type). */
  agent: string;
  subAgentId: number;
  sequence: number;
  uptime: number;
  samples: SampleSpec[];
  /** Overrides the sample count written in the header. */
  sampleCount?: number;
}

function tagged(w: XdrWriter, format: number, body: Uint8Array, length?: number): void {
  w.u32(format)
    .u32(length ?? body.length)
    .raw(body);
}

function flowRecord(w: XdrWriter, r: FlowRecordSpec): void {
  const b = new XdrWriter();
  let format: number;
  switch (r.kind) {
    case 'header':
      format = 1;
      b.u32(r.protocol)
        .u32(r.frameLength)
        .u32(r.stripped ?? 4)
        .opaque(r.header);
      break;
    case 'ethernet':
      format = 2;
      b.u32(r.length).fixed(macBytes(r.src)).fixed(macBytes(r.dst)).u32(r.type);
      break;
    case 'ipv4':
    case 'ipv6':
      format = r.kind === 'ipv4' ? 3 : 4;
      b.u32(r.length).u32(r.protocol);
      b.raw(r.kind === 'ipv4' ? ipv4Bytes(r.src) : ipv6Bytes(r.src));
      b.raw(r.kind === 'ipv4' ? ipv4Bytes(r.dst) : ipv6Bytes(r.dst));
      b.u32(r.srcPort).u32(r.dstPort).u32(r.tcpFlags).u32(r.tos);
      break;
    case 'switch':
      format = 1001;
      b.u32(r.srcVlan).u32(r.srcPriority).u32(r.dstVlan).u32(r.dstPriority);
      break;
    case 'router':
      format = 1002;
      b.address(r.nextHop).u32(r.srcMask).u32(r.dstMask);
      break;
    case 'gateway':
      format = 1003;
      b.address(r.nextHop).u32(r.as).u32(r.srcAs).u32(r.srcPeerAs).u32(r.path.length);
      for (const seg of r.path) {
        b.u32(seg.type).u32(seg.asns.length);
        for (const a of seg.asns) b.u32(a);
      }
      b.u32(r.communities.length);
      for (const c of r.communities) b.u32(c);
      b.u32(r.localPref);
      break;
    case 'user':
      format = 1004;
      b.u32(r.srcCharset ?? 106)
        .string(r.srcUser)
        .u32(r.dstCharset ?? 106)
        .string(r.dstUser);
      break;
    case 'url':
      format = 1005;
      b.u32(r.direction).string(r.url).string(r.host);
      break;
    case 'raw':
      tagged(w, r.format, r.data, r.length);
      return;
  }
  tagged(w, format, b.bytes());
}

function counterRecord(w: XdrWriter, r: CounterRecordSpec): void {
  const b = new XdrWriter();
  let format: number;
  switch (r.kind) {
    case 'generic': {
      format = 1;
      const v = r.values;
      b.u32(v.ifIndex).u32(v.ifType).u64(v.ifSpeed).u32(v.ifDirection).u32(v.ifStatus).u64(v.ifInOctets);
      b.u32(v.ifInUcastPkts).u32(v.ifInMulticastPkts).u32(v.ifInBroadcastPkts).u32(v.ifInDiscards);
      b.u32(v.ifInErrors).u32(v.ifInUnknownProtos).u64(v.ifOutOctets).u32(v.ifOutUcastPkts);
      b.u32(v.ifOutMulticastPkts).u32(v.ifOutBroadcastPkts).u32(v.ifOutDiscards).u32(v.ifOutErrors);
      b.u32(v.ifPromiscuousMode);
      break;
    }
    case 'ethernet':
      format = 2;
      for (let i = 0; i < 13; i++) b.u32(r.values[i] ?? 0);
      break;
    case 'vlan':
      format = 5;
      b.u32(r.vlanId).u64(r.octets).u32(r.ucast).u32(r.multicast).u32(r.broadcast).u32(r.discards);
      break;
    case 'processor':
      format = 1001;
      b.u32(r.cpu5s >>> 0)
        .u32(r.cpu1m >>> 0)
        .u32(r.cpu5m >>> 0)
        .u64(r.totalMemory)
        .u64(r.freeMemory);
      break;
    case 'raw':
      tagged(w, r.format, r.data, r.length);
      return;
  }
  tagged(w, format, b.bytes());
}

function sampleBody(s: Exclude<SampleSpec, { kind: 'raw' }>): Uint8Array {
  const b = new XdrWriter();
  if (s.kind === 'flow') {
    b.u32(s.seq);
    if (s.expanded) b.u32(s.sourceIdType).u32(s.sourceIdIndex);
    else b.u32(((s.sourceIdType << 24) | (s.sourceIdIndex & 0xffffff)) >>> 0);
    b.u32(s.rate).u32(s.pool).u32(s.drops);
    if (s.expanded)
      b.u32(s.inputFormat ?? 0)
        .u32(s.input)
        .u32(s.outputFormat ?? 0)
        .u32(s.output);
    else {
      b.u32((((s.inputFormat ?? 0) << 30) | (s.input & 0x3fffffff)) >>> 0);
      b.u32((((s.outputFormat ?? 0) << 30) | (s.output & 0x3fffffff)) >>> 0);
    }
    b.u32(s.records.length);
    for (const r of s.records) flowRecord(b, r);
  } else {
    b.u32(s.seq);
    if (s.expanded) b.u32(s.sourceIdType).u32(s.sourceIdIndex);
    else b.u32(((s.sourceIdType << 24) | (s.sourceIdIndex & 0xffffff)) >>> 0);
    b.u32(s.records.length);
    for (const r of s.records) counterRecord(b, r);
  }
  return b.bytes();
}

/** Builds an sFlow v5 datagram from `spec`. */
export function buildSflowDatagram(spec: DatagramSpec): Uint8Array {
  const w = new XdrWriter();
  w.u32(5).address(spec.agent).u32(spec.subAgentId).u32(spec.sequence).u32(spec.uptime);
  w.u32(spec.sampleCount ?? spec.samples.length);
  for (const s of spec.samples) {
    if (s.kind === 'raw') {
      tagged(w, s.format, s.data, s.length);
      continue;
    }
    const format = s.kind === 'flow' ? (s.expanded ? 3 : 1) : s.expanded ? 4 : 2;
    tagged(w, format, sampleBody(s));
  }
  return w.bytes();
}
