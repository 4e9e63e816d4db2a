/**
 * Adapters from the platform's record shapes to the detection view (`DetectBatch`). The columnar
 * path (`appendFlowBatch`) copies typed-array columns row by row without allocating; the object
 * paths (`appendFlowRecord`, `appendSelectedRecord`) parse address strings once per record and
 * serve offline analysis, tests and inputs that arrive as objects. DNS events are not flows: they
 * become a `DnsRow` object (DNS rates are orders of magnitude below flow rates).
 */
import { parseIpv4, parseIpv6Into } from '../../common/prefixes/address.ts';
import type { FlowBatch } from '../../common/schema/batch.ts';
import type { DnsEvent, Fields, FlowRecord } from '../../common/schema/record.ts';
import type { EndpointInfo, SelectedRecord } from '../../common/schema/selected.ts';
import { channelCode, SKIP, type DetectBatch } from './batch.ts';

/** A DNS event as DNS detectors see it. */
export interface DnsRow {
  /** Event time (epoch ms). */
  time: number;
  partition: number;
  recordId: string;
  /** The querying client (address string as in the input; pseudonym when selected). */
  client: string;
  /** The resolver that answered. */
  server: string;
  /** The dnstap decoder's fields (`dnsQueryName`, `dnsQueryType`, `dnsResponseCode`, …). */
  fields: Fields;
  /** Endpoint information when the record came through an edge. */
  clientInfo?: EndpointInfo;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** First usable time among the given millisecond/second fields. */
function timeOf(f: Fields, ms: string, s: string, us: string): number {
  const a = f[ms];
  if (typeof a === 'number' && Number.isFinite(a)) return a;
  const b = f[s];
  if (typeof b === 'number' && Number.isFinite(b)) return b * 1000;
  const c = f[us];
  if (typeof c === 'number' && Number.isFinite(c)) return c / 1000;
  return 0;
}

/** Parses an address string into `words[off..off+4)`; returns its version or 0. */
function parseInto(v: unknown, words: Uint32Array, off: number): number {
  if (typeof v !== 'string') return 0;
  const a4 = parseIpv4(v);
  if (a4 !== undefined) {
    words[off] = a4;
    words[off + 1] = words[off + 2] = words[off + 3] = 0;
    return 4;
  }
  return parseIpv6Into(v, words.subarray(off, off + 4)) ? 6 : 0;
}

/** Event time of a row: the end when known, else the start. */
function eventTime(start: number, end: number): number {
  return end > 0 ? end : start;
}

/** Fills row `i` from IANA-named flow fields; marks it invalid when it carries no addresses. */
function fillFromFields(out: DetectBatch, i: number, f: Fields, sampling: number): void {
  const a = i * 4;
  const vs = parseInto(f.sourceIPv4Address ?? f.sourceIPv6Address, out.src, a);
  const vd = parseInto(f.destinationIPv4Address ?? f.destinationIPv6Address, out.dst, a);
  out.ipVersion[i] = vs === vd ? vs : 0;
  const s = sampling >= 1 && Number.isFinite(sampling) ? Math.min(sampling, 0xffffffff) : 1;
  out.samplingInterval[i] = s;
  out.srcPort[i] = num(f.sourceTransportPort);
  out.dstPort[i] = num(f.destinationTransportPort);
  out.proto[i] = num(f.protocolIdentifier);
  out.tcpFlags[i] = num(f.tcpControlBits);
  out.octets[i] = Math.max(0, num(f.octetDeltaCount ?? f.octetTotalCount)) * s;
  out.packets[i] = Math.max(0, num(f.packetDeltaCount ?? f.packetTotalCount)) * s;
  out.revPackets[i] = Math.max(0, num(f.reversePacketDeltaCount ?? f.reversePacketTotalCount)) * s;
  const start = timeOf(f, 'flowStartMilliseconds', 'flowStartSeconds', 'flowStartMicroseconds');
  const end = timeOf(f, 'flowEndMilliseconds', 'flowEndSeconds', 'flowEndMicroseconds');
  out.start[i] = start;
  out.end[i] = end;
  out.time[i] = eventTime(start, end);
  out.minTtl[i] = num(f.minimumTTL ?? f.ipTTL);
  out.icmpTypeCode[i] = num(f.icmpTypeCodeIPv4 ?? f.icmpTypeCodeIPv6 ?? f.icmpTypeCode);
  out.srcAsn[i] = num(f.bgpSourceAsNumber);
  out.dstAsn[i] = num(f.bgpDestinationAsNumber);
  out.channel[i] = 0;
  out.skip[i] = out.ipVersion[i] === 0 ? SKIP.invalid : SKIP.none;
  out.ids[i] = undefined;
}

/** Appends a decoded flow record; false when the batch is full. */
export function appendFlowRecord(out: DetectBatch, r: FlowRecord, partition: number): boolean {
  if (out.full) return false;
  const i = out.length++;
  fillFromFields(out, i, r.fields, r.samplingInterval);
  out.partition[i] = partition;
  out.observationDomainId[i] = r.observation.observationDomainId >>> 0;
  out.sequence[i] = r.observation.sequence;
  out.recordIndex[i] = r.recordIndex >>> 0;
  return true;
}

/** Appends a selected flow (country/ASN and channel from the edge); false when full. */
export function appendSelectedRecord(out: DetectBatch, r: SelectedRecord, partition: number): boolean {
  if (out.full) return false;
  const i = out.length++;
  fillFromFields(out, i, r.fields, num(r.fields.samplingInterval) || 1);
  out.partition[i] = partition;
  if (r.source.asn) out.srcAsn[i] = r.source.asn >>> 0;
  if (r.destination.asn) out.dstAsn[i] = r.destination.asn >>> 0;
  out.channel[i] = channelCode(r.provenance.channel);
  out.ids[i] = r.recordId;
  return true;
}

/**
 * Appends rows `[from, fb.length)` of a decoder batch (as many as fit) and returns the index of
 * the first row not copied. `partitionOf[exporterIndex]` maps the batch's exporters to engine
 * partitions.
 */
export function appendFlowBatch(
  out: DetectBatch,
  fb: FlowBatch,
  from: number,
  partitionOf: ArrayLike<number>,
): number {
  let j = from;
  for (; j < fb.length && out.length < out.capacity; j++) {
    const i = out.length++;
    const a = i * 4;
    const b = j * 4;
    out.ipVersion[i] = fb.ipVersion[j]!;
    out.src[a] = fb.src[b]!;
    out.src[a + 1] = fb.src[b + 1]!;
    out.src[a + 2] = fb.src[b + 2]!;
    out.src[a + 3] = fb.src[b + 3]!;
    out.dst[a] = fb.dst[b]!;
    out.dst[a + 1] = fb.dst[b + 1]!;
    out.dst[a + 2] = fb.dst[b + 2]!;
    out.dst[a + 3] = fb.dst[b + 3]!;
    out.srcPort[i] = fb.srcPort[j]!;
    out.dstPort[i] = fb.dstPort[j]!;
    out.proto[i] = fb.proto[j]!;
    out.tcpFlags[i] = fb.tcpFlags[j]!;
    const s = fb.samplingInterval[j]! || 1;
    out.samplingInterval[i] = s;
    out.octets[i] = fb.octets[j]! * s;
    out.packets[i] = fb.packets[j]! * s;
    out.revPackets[i] = fb.revPackets[j]! * s;
    const st = fb.start[j]!;
    const en = fb.end[j]!;
    out.start[i] = st;
    out.end[i] = en;
    out.time[i] = en > 0 ? en : st;
    out.minTtl[i] = fb.minTtl[j]!;
    out.icmpTypeCode[i] = fb.icmpTypeCode[j]!;
    out.partition[i] = partitionOf[fb.exporterIndex[j]!] ?? 0;
    out.srcAsn[i] = fb.srcAs[j]!;
    out.dstAsn[i] = fb.dstAs[j]!;
    out.channel[i] = 0;
    out.skip[i] = fb.ipVersion[j] === 4 || fb.ipVersion[j] === 6 ? SKIP.none : SKIP.invalid;
    out.observationDomainId[i] = fb.observationDomainId[j]!;
    out.sequence[i] = fb.sequence[j]!;
    out.recordIndex[i] = fb.recordIndex[j]!;
    out.ids[i] = undefined;
  }
  return j;
}

/** Text of an address field, '' when absent. */
function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** A DNS event (decoded or selected) as a `DnsRow`. */
export function toDnsRow(r: DnsEvent | SelectedRecord, partition: number, recordId: string): DnsRow {
  const f = r.fields;
  const row: DnsRow = {
    time: num(f.eventTime) || num(f.dnsResponseTime) || num(f.dnsQueryTime),
    partition,
    recordId,
    client: str(f.sourceIPv4Address ?? f.sourceIPv6Address),
    server: str(f.destinationIPv4Address ?? f.destinationIPv6Address),
    fields: f,
  };
  if ('source' in r) row.clientInfo = r.source;
  return row;
}
