/**
 * sFlow v5 datagram decoder (sFlow v5 specification, sflow.org, July 2004): flow samples and
 * expanded flow samples become `FlowRecord`s (or rows of a `FlowBatch` on the hot path), counter
 * samples and expanded counter samples become `CountersRecord`s.
 *
 * Pure: bytes + context + explicit sequence state in, records and events out; never throws. Every
 * length and count is checked against the bytes at hand and a limit of `limits.ts`. A sample whose
 * records do not fit is dropped whole (a `malformed` event) and decoding goes on with the next
 * sample, since the sample's own length still says where that is.
 *
 * Field names: IANA IPFIX information elements where one exists; otherwise `sflow` followed by the
 * specification's field name (`sflowSamplePool`, `sflowDrops`, `sflowAsPath`, ...).
 *
 * Exporter identity (DESIGN): the agent address from the datagram and the sub-agent id, as
 * `observation.exporter` and `observation.observationDomainId`; the datagram sequence number is
 * `observation.sequence`. sFlow carries no wall clock, so export time and flow times are the
 * reception time.
 */
import type { CountersRecord, Fields, FlowRecord, Observation } from '../../../common/schema/index.ts';
import type { BatchSink, DecodeSink } from '../types.ts';
import { ipv4String, stringAt } from '../values.ts';
import { PacketInfo, decodePacket, startFromSflowHeaderProtocol } from '../packet/decode.ts';
import { ipv6WordsString, macString, packetFields } from '../packet/fields.ts';
import { counterRecordFields } from './counters.ts';
import {
  SFLOW_MAX_AS_PATH_LENGTH,
  SFLOW_MAX_AS_PATH_SEGMENTS,
  SFLOW_MAX_COMMUNITIES,
  SFLOW_MAX_DATAGRAM_BYTES,
  SFLOW_MAX_HEADER_BYTES,
  SFLOW_MAX_RECORDS_PER_SAMPLE,
  SFLOW_MAX_SAMPLES,
  SFLOW_MAX_STRING_BYTES,
} from './limits.ts';
import type { SflowAgentState, SflowState, SflowStats } from './state.ts';
import { trackDatagram, trackSample } from './state.ts';

/** Where a datagram came from: the UDP source (used when the agent address is unknown) and when. */
export interface SflowContext {
  /** Source address of the datagram (canonical text). */
  exporter: string;
  /** Reception time, epoch ms. */
  receivedAt: number;
}

/** Sample formats (enterprise 0). */
const SAMPLE_FLOW = 1;
const SAMPLE_COUNTERS = 2;
const SAMPLE_FLOW_EXPANDED = 3;
const SAMPLE_COUNTERS_EXPANDED = 4;

/** Flow record formats (enterprise 0). */
const FLOW_RAW_HEADER = 1;
const FLOW_ETHERNET = 2;
const FLOW_IPV4 = 3;
const FLOW_IPV6 = 4;
const FLOW_EXT_SWITCH = 1001;
const FLOW_EXT_ROUTER = 1002;
const FLOW_EXT_GATEWAY = 1003;
const FLOW_EXT_USER = 1004;
const FLOW_EXT_URL = 1005;

/** Interface value meaning "unknown" in the ifIndex format of input/output. */
const IF_UNKNOWN = 0x3fffffff;

const PROTOCOL = 'sflow5';

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/**
 * Everything one flow sample says, as numbers and offsets into the datagram: filled by the parser,
 * read by the record or batch emitter. One instance is reused for every sample (the decoder is
 * synchronous and finishes a sample before the next).
 */
class FlowSample {
  seq = 0;
  sourceIdType = 0;
  sourceIdIndex = 0;
  rate = 0;
  pool = 0;
  drops = 0;
  inputFormat = 0;
  input = 0;
  outputFormat = 0;
  output = 0;

  hasHeader = false;
  headerProtocol = 0;
  frameLength = 0;
  stripped = 0;
  readonly pkt = new PacketInfo();

  hasEthernet = false;
  ethLength = 0;
  ethSrcHi = 0;
  ethSrcLo = 0;
  ethDstHi = 0;
  ethDstLo = 0;
  ethType = 0;

  /** Sampled IPv4 (4) or IPv6 (6) record seen, else 0. */
  ipVersion = 0;
  ipLength = 0;
  ipProtocol = 0;
  readonly ipSrc = new Uint32Array(4);
  readonly ipDst = new Uint32Array(4);
  ipSrcPort = 0;
  ipDstPort = 0;
  ipTcpFlags = 0;
  ipTos = 0;

  hasSwitch = false;
  srcVlan = 0;
  srcPriority = 0;
  dstVlan = 0;
  dstPriority = 0;

  /** Extended router: next hop version (4/6, 0 unknown). */
  hasRouter = false;
  nextHopVersion = 0;
  readonly nextHop = new Uint32Array(4);
  srcMask = 0;
  dstMask = 0;

  hasGateway = false;
  bgpNextHopVersion = 0;
  readonly bgpNextHop = new Uint32Array(4);
  routerAs = 0;
  srcAs = 0;
  srcPeerAs = 0;
  /** AS path: offset of the first segment, segments to read (bounded), AS count, first and last AS. */
  asPathOffset = 0;
  asPathSegments = 0;
  asPathLength = 0;
  firstAs = 0;
  lastAs = 0;
  communitiesOffset = 0;
  communities = 0;
  localPref = 0;

  hasUser = false;
  srcUserOffset = 0;
  srcUserLength = 0;
  dstUserOffset = 0;
  dstUserLength = 0;

  hasUrl = false;
  urlDirection = 0;
  urlOffset = 0;
  urlLength = 0;
  hostOffset = 0;
  hostLength = 0;

  reset(): void {
    this.hasHeader = false;
    this.hasEthernet = false;
    this.ipVersion = 0;
    this.hasSwitch = false;
    this.hasRouter = false;
    this.hasGateway = false;
    this.hasUser = false;
    this.hasUrl = false;
  }
}

const sample = new FlowSample();
/** Scratch for an IPv6 agent address being formatted. */
const agentWords = new Uint32Array(4);

/** Output of a datagram: records (object path) or batch rows (hot path). */
interface Target {
  sink: DecodeSink | undefined;
  batch: BatchSink | undefined;
  exporterIndex: number;
  /** Where malformed input is counted (the state's totals). */
  stats: SflowStats;
}

/** Per-datagram values shared by all its records. */
interface Datagram {
  ctx: SflowContext;
  observation: Observation;
  agent: SflowAgentState;
  recordIndex: number;
}

/**
 * Decodes one sFlow v5 datagram into `FlowRecord`s (flow samples) and `CountersRecord`s (counter
 * samples), both handed to `out.record`, with anomalies to `out.event`. Never throws.
 */
export function decodeSflowDatagram(
  bytes: Uint8Array,
  ctx: SflowContext,
  state: SflowState,
  out: DecodeSink,
): void {
  decode(bytes, ctx, state, { sink: out, batch: undefined, exporterIndex: 0, stats: state.stats });
}

/**
 * Hot-path variant: flow samples fill rows of `out.batch` (calling `out.flush()` whenever it is
 * full); counter records and events go to `sink` when one is given. Never throws.
 */
export function decodeSflowDatagramToBatch(
  bytes: Uint8Array,
  ctx: SflowContext,
  state: SflowState,
  out: BatchSink,
  sink?: DecodeSink,
): void {
  decode(bytes, ctx, state, { sink, batch: out, exporterIndex: 0, stats: state.stats });
}

/** True when `bytes` starts like an sFlow v5 datagram (32-bit version 5, known address type). */
export function looksLikeSflow5(bytes: Uint8Array): boolean {
  if (bytes.length < 28) return false;
  if (u32(bytes, 0) !== 5) return false;
  const t = u32(bytes, 4);
  return t === 1 || t === 2;
}

function malformed(t: Target, exporter: string, reason: string, offset: number): void {
  t.stats.malformed++;
  t.sink?.event?.({ kind: 'malformed', protocol: PROTOCOL, exporter, reason, offset });
}

function decode(b: Uint8Array, ctx: SflowContext, state: SflowState, t: Target): void {
  const end = b.length;
  if (end > SFLOW_MAX_DATAGRAM_BYTES)
    return malformed(t, ctx.exporter, 'datagram longer than 65535 bytes', 0);
  if (end < 8) return malformed(t, ctx.exporter, 'datagram shorter than its header', 0);
  const version = u32(b, 0);
  if (version !== 5) {
    t.sink?.event?.({ kind: 'unsupported-version', exporter: ctx.exporter, version });
    return;
  }
  const addrType = u32(b, 4);
  let off = 8;
  let exporter: string;
  if (addrType === 1) {
    if (end - off < 4) return malformed(t, ctx.exporter, 'truncated agent address', off);
    exporter = ipv4String(u32(b, off));
    off += 4;
  } else if (addrType === 2) {
    if (end - off < 16) return malformed(t, ctx.exporter, 'truncated agent address', off);
    for (let i = 0; i < 4; i++) agentWords[i] = u32(b, off + i * 4);
    exporter = ipv6WordsString(agentWords);
    off += 16;
  } else if (addrType === 0) {
    // The agent does not know its address: the datagram's source is the best identity left.
    exporter = ctx.exporter;
  } else {
    return malformed(t, ctx.exporter, 'unknown agent address type', 4);
  }
  if (end - off < 16) return malformed(t, exporter, 'truncated datagram header', off);
  const subAgentId = u32(b, off);
  const seq = u32(b, off + 4);
  const uptime = u32(b, off + 8);
  const count = u32(b, off + 12);
  off += 16;
  // Each sample needs at least its 8-byte tag and length.
  if (count > SFLOW_MAX_SAMPLES || count * 8 > end - off) {
    return malformed(t, exporter, 'sample count exceeds datagram or limit', off - 4);
  }
  const agent = trackDatagram(state, exporter, subAgentId, seq, uptime, t.sink);
  agent.lastSeen = ctx.receivedAt;
  const dg: Datagram = {
    ctx,
    observation: {
      exporter,
      observationDomainId: subAgentId,
      templateId: 0,
      sequence: seq,
      exportTime: ctx.receivedAt,
    },
    agent,
    recordIndex: 0,
  };
  if (t.batch) t.exporterIndex = t.batch.batch.exporterId(exporter);

  for (let i = 0; i < count; i++) {
    if (end - off < 8) return malformed(t, exporter, 'truncated sample header', off);
    const format = u32(b, off);
    const len = u32(b, off + 4);
    const start = off + 8;
    if (len > end - start) return malformed(t, exporter, 'sample length exceeds datagram', off + 4);
    off = start + len;
    // Enterprise formats (top 20 bits) other than sFlow's own are skipped by length.
    if (format >>> 12 !== 0) continue;
    switch (format) {
      case SAMPLE_FLOW:
      case SAMPLE_FLOW_EXPANDED:
        flowSample(b, start, start + len, format === SAMPLE_FLOW_EXPANDED, dg, state, t);
        break;
      case SAMPLE_COUNTERS:
      case SAMPLE_COUNTERS_EXPANDED:
        counterSample(b, start, start + len, format === SAMPLE_COUNTERS_EXPANDED, dg, state, t);
        break;
      default:
        break;
    }
  }
  if (off !== end) malformed(t, exporter, 'bytes after the last sample', off);
}

/** Parses a flow sample into `sample`; returns an error reason or undefined. */
function parseFlowSample(b: Uint8Array, off: number, end: number, expanded: boolean): string | undefined {
  const s = sample;
  s.reset();
  if (expanded) {
    if (end - off < 44) return 'truncated expanded flow sample';
    s.seq = u32(b, off);
    s.sourceIdType = u32(b, off + 4);
    s.sourceIdIndex = u32(b, off + 8);
    s.rate = u32(b, off + 12);
    s.pool = u32(b, off + 16);
    s.drops = u32(b, off + 20);
    s.inputFormat = u32(b, off + 24);
    s.input = u32(b, off + 28);
    s.outputFormat = u32(b, off + 32);
    s.output = u32(b, off + 36);
    off += 40;
  } else {
    if (end - off < 32) return 'truncated flow sample';
    s.seq = u32(b, off);
    const src = u32(b, off + 4);
    s.sourceIdType = src >>> 24;
    s.sourceIdIndex = src & 0xffffff;
    s.rate = u32(b, off + 8);
    s.pool = u32(b, off + 12);
    s.drops = u32(b, off + 16);
    const input = u32(b, off + 20);
    const output = u32(b, off + 24);
    s.inputFormat = input >>> 30;
    s.input = input & 0x3fffffff;
    s.outputFormat = output >>> 30;
    s.output = output & 0x3fffffff;
    off += 28;
  }
  const records = u32(b, off);
  off += 4;
  if (records > SFLOW_MAX_RECORDS_PER_SAMPLE || records * 8 > end - off)
    return 'flow record count exceeds sample or limit';
  for (let r = 0; r < records; r++) {
    if (end - off < 8) return 'truncated flow record header';
    const format = u32(b, off);
    const len = u32(b, off + 4);
    const p = off + 8;
    if (len > end - p) return 'flow record length exceeds sample';
    off = p + len;
    if (format >>> 12 !== 0) continue;
    const err = flowRecord(b, p, p + len, format);
    if (err !== undefined) return err;
  }
  return undefined;
}

/** IP version of the address last read by `readAddress` (0 unknown): saves an object per call. */
let addressVersion = 0;

/**
 * Reads an sFlow `address` (type, then 4 or 16 bytes) into `w` and its version into
 * `addressVersion`; returns the bytes used, or -1 when truncated or of an unknown type.
 */
function readAddress(b: Uint8Array, p: number, end: number, w: Uint32Array): number {
  if (end - p < 4) return -1;
  const type = u32(b, p);
  if (type === 1) {
    if (end - p < 8) return -1;
    w[0] = u32(b, p + 4);
    w[1] = w[2] = w[3] = 0;
    addressVersion = 4;
    return 8;
  }
  if (type === 2) {
    if (end - p < 20) return -1;
    for (let i = 0; i < 4; i++) w[i] = u32(b, p + 4 + i * 4);
    addressVersion = 6;
    return 20;
  }
  if (type === 0) {
    addressVersion = 0;
    return 4;
  }
  return -1;
}

/** Reads an XDR `string<>` at `p`: returns [offset, kept length, bytes used] or undefined. */
function readString(b: Uint8Array, p: number, end: number): [number, number, number] | undefined {
  if (end - p < 4) return undefined;
  const len = u32(b, p);
  // XDR pads to 4 bytes; `len` is checked first because the padding sum overflows 32-bit ints.
  if (len > end - p - 4) return undefined;
  const padded = (len + 3) & ~3;
  if (padded > end - p - 4) return undefined;
  return [p + 4, Math.min(len, SFLOW_MAX_STRING_BYTES), 4 + padded];
}

function flowRecord(b: Uint8Array, p: number, end: number, format: number): string | undefined {
  const s = sample;
  const len = end - p;
  switch (format) {
    case FLOW_RAW_HEADER: {
      if (len < 16) return 'truncated raw packet header record';
      const hp = u32(b, p);
      const hlen = u32(b, p + 12);
      if (hlen > SFLOW_MAX_HEADER_BYTES || hlen > len - 16)
        return 'sampled header length exceeds record or limit';
      s.hasHeader = true;
      s.headerProtocol = hp;
      s.frameLength = u32(b, p + 4);
      s.stripped = u32(b, p + 8);
      const startLayer = startFromSflowHeaderProtocol(hp);
      if (startLayer < 0) s.pkt.reset();
      else decodePacket(b, p + 16, p + 16 + hlen, startLayer, s.pkt);
      return undefined;
    }
    case FLOW_ETHERNET:
      if (len < 24) return 'truncated ethernet frame record';
      s.hasEthernet = true;
      s.ethLength = u32(b, p);
      // MAC addresses are 6 bytes padded to 8 (XDR opaque alignment).
      s.ethSrcHi = (b[p + 4]! << 8) | b[p + 5]!;
      s.ethSrcLo = u32(b, p + 6);
      s.ethDstHi = (b[p + 12]! << 8) | b[p + 13]!;
      s.ethDstLo = u32(b, p + 14);
      s.ethType = u32(b, p + 20);
      return undefined;
    case FLOW_IPV4:
      if (len < 32) return 'truncated ipv4 record';
      s.ipVersion = 4;
      s.ipLength = u32(b, p);
      s.ipProtocol = u32(b, p + 4);
      s.ipSrc[0] = u32(b, p + 8);
      s.ipDst[0] = u32(b, p + 12);
      s.ipSrcPort = u32(b, p + 16);
      s.ipDstPort = u32(b, p + 20);
      s.ipTcpFlags = u32(b, p + 24);
      s.ipTos = u32(b, p + 28);
      return undefined;
    case FLOW_IPV6:
      if (len < 56) return 'truncated ipv6 record';
      s.ipVersion = 6;
      s.ipLength = u32(b, p);
      s.ipProtocol = u32(b, p + 4);
      for (let i = 0; i < 4; i++) {
        s.ipSrc[i] = u32(b, p + 8 + i * 4);
        s.ipDst[i] = u32(b, p + 24 + i * 4);
      }
      s.ipSrcPort = u32(b, p + 40);
      s.ipDstPort = u32(b, p + 44);
      s.ipTcpFlags = u32(b, p + 48);
      s.ipTos = u32(b, p + 52);
      return undefined;
    case FLOW_EXT_SWITCH:
      if (len < 16) return 'truncated extended switch record';
      s.hasSwitch = true;
      s.srcVlan = u32(b, p);
      s.srcPriority = u32(b, p + 4);
      s.dstVlan = u32(b, p + 8);
      s.dstPriority = u32(b, p + 12);
      return undefined;
    case FLOW_EXT_ROUTER: {
      const used = readAddress(b, p, end, s.nextHop);
      if (used < 0 || end - p - used < 8) return 'truncated extended router record';
      s.hasRouter = true;
      s.nextHopVersion = addressVersion;
      s.srcMask = u32(b, p + used);
      s.dstMask = u32(b, p + used + 4);
      return undefined;
    }
    case FLOW_EXT_GATEWAY:
      return gateway(b, p, end);
    case FLOW_EXT_USER: {
      // charset (ignored: agents send UTF-8 or ASCII in practice), string, charset, string
      const src = readString(b, p + 4, end);
      if (src === undefined) return 'truncated extended user record';
      const q = p + 4 + src[2];
      const dst = readString(b, q + 4, end);
      if (dst === undefined) return 'truncated extended user record';
      s.hasUser = true;
      s.srcUserOffset = src[0];
      s.srcUserLength = src[1];
      s.dstUserOffset = dst[0];
      s.dstUserLength = dst[1];
      return undefined;
    }
    case FLOW_EXT_URL: {
      if (len < 4) return 'truncated extended url record';
      const url = readString(b, p + 4, end);
      if (url === undefined) return 'truncated extended url record';
      const host = readString(b, p + 4 + url[2], end);
      if (host === undefined) return 'truncated extended url record';
      s.hasUrl = true;
      s.urlDirection = u32(b, p);
      s.urlOffset = url[0];
      s.urlLength = url[1];
      s.hostOffset = host[0];
      s.hostLength = host[1];
      return undefined;
    }
    default:
      return undefined; // unknown record: skipped by its length
  }
}

function gateway(b: Uint8Array, p: number, end: number): string | undefined {
  const s = sample;
  const used = readAddress(b, p, end, s.bgpNextHop);
  if (used < 0) return 'truncated extended gateway record';
  s.bgpNextHopVersion = addressVersion;
  p += used;
  if (end - p < 16) return 'truncated extended gateway record';
  s.routerAs = u32(b, p);
  s.srcAs = u32(b, p + 4);
  s.srcPeerAs = u32(b, p + 8);
  const segments = u32(b, p + 12);
  p += 16;
  // Each segment needs at least its type and count; the whole path is walked to find its end,
  // bounded by the record's bytes, but only the first segments and AS numbers are kept.
  if (segments * 8 > end - p) return 'as path segment count exceeds record';
  s.asPathOffset = p;
  s.asPathSegments = Math.min(segments, SFLOW_MAX_AS_PATH_SEGMENTS);
  s.asPathLength = 0;
  s.firstAs = 0;
  s.lastAs = 0;
  for (let i = 0; i < segments; i++) {
    if (end - p < 8) return 'truncated as path segment';
    const n = u32(b, p + 4);
    if (n > (end - p - 8) / 4) return 'as path segment length exceeds record';
    if (n > 0) {
      if (s.asPathLength === 0) s.firstAs = u32(b, p + 8);
      s.lastAs = u32(b, p + 8 + (n - 1) * 4);
      s.asPathLength += n;
    }
    p += 8 + n * 4;
  }
  if (end - p < 4) return 'truncated communities';
  const communities = u32(b, p);
  if (communities > (end - p - 4) / 4) return 'community count exceeds record';
  s.communitiesOffset = p + 4;
  s.communities = Math.min(communities, SFLOW_MAX_COMMUNITIES);
  p += 4 + communities * 4;
  if (end - p < 4) return 'truncated local preference';
  s.localPref = u32(b, p);
  s.hasGateway = true;
  return undefined;
}

function flowSample(
  b: Uint8Array,
  off: number,
  end: number,
  expanded: boolean,
  dg: Datagram,
  state: SflowState,
  t: Target,
): void {
  const err = parseFlowSample(b, off, end, expanded);
  if (err !== undefined) return malformed(t, dg.observation.exporter, err, off);
  const s = sample;
  trackSample(state, dg.agent, s.sourceIdType, s.sourceIdIndex, false, s.seq, s.drops, t.sink);
  const index = dg.recordIndex++;
  dg.agent.records++;
  state.stats.flows++;
  if (t.batch) fillRow(t.batch, t.exporterIndex, dg, index);
  else t.sink?.record(flowRecordOf(b, dg, index));
}

/** The sampled frame's length: from the header record, else the ethernet or IP record. */
function octets(s: FlowSample): number {
  if (s.hasHeader) return s.frameLength;
  if (s.hasEthernet) return s.ethLength;
  if (s.ipVersion !== 0) return s.ipLength;
  return 0;
}

/** True when the sampled IPv4/IPv6 record supplies the IP fields (no IP in a decoded header). */
function useSampledIp(s: FlowSample): boolean {
  return s.ipVersion !== 0 && !(s.hasHeader && s.pkt.ipVersion !== 0);
}

function hasPorts(protocol: number): boolean {
  return protocol === 6 || protocol === 17 || protocol === 132 || protocol === 33 || protocol === 136;
}

function flowRecordOf(b: Uint8Array, dg: Datagram, recordIndex: number): FlowRecord {
  const s = sample;
  const f: Fields = {};
  if (s.hasHeader) packetFields(s.pkt, f);
  if (s.hasEthernet && !(s.hasHeader && s.pkt.hasEthernet)) {
    f.sourceMacAddress = macString(s.ethSrcHi, s.ethSrcLo);
    f.destinationMacAddress = macString(s.ethDstHi, s.ethDstLo);
    f.ethernetType = s.ethType;
  }
  if (useSampledIp(s)) {
    f.ipVersion = s.ipVersion;
    if (s.ipVersion === 4) {
      f.sourceIPv4Address = ipv4String(s.ipSrc[0]!);
      f.destinationIPv4Address = ipv4String(s.ipDst[0]!);
    } else {
      f.sourceIPv6Address = ipv6WordsString(s.ipSrc);
      f.destinationIPv6Address = ipv6WordsString(s.ipDst);
    }
    f.protocolIdentifier = s.ipProtocol;
    f.ipClassOfService = s.ipTos;
    f.ipTotalLength = s.ipLength;
    if (hasPorts(s.ipProtocol)) {
      f.sourceTransportPort = s.ipSrcPort;
      f.destinationTransportPort = s.ipDstPort;
    }
    if (s.ipProtocol === 6) f.tcpControlBits = s.ipTcpFlags;
  }
  f.octetDeltaCount = octets(s);
  f.packetDeltaCount = 1;
  if (s.inputFormat === 0 && s.input !== IF_UNKNOWN) f.ingressInterface = s.input;
  if (s.outputFormat === 0) {
    if (s.output !== IF_UNKNOWN) f.egressInterface = s.output;
  } else if (s.outputFormat === 1) {
    // Format 1: the packet was dropped; the value is the reason. IANA forwardingStatus 128 is
    // "dropped, unknown reason" (its reason codes do not match sFlow's, which are kept apart).
    f.forwardingStatus = 128;
    f.sflowDiscardReason = s.output;
  } else if (s.outputFormat === 2) {
    // Format 2: sent to several interfaces (value = how many, 0 unknown).
    f.sflowOutputInterfaces = s.output;
  }
  if (s.hasSwitch) {
    // The switch knows the VLANs even when the sampled header is untagged (access ports).
    f.vlanId = s.srcVlan;
    f.postVlanId = s.dstVlan;
    f.dot1qPriority = s.srcPriority;
    f.sflowDstPriority = s.dstPriority;
  }
  if (s.hasRouter) routerFields(s, f);
  if (s.hasGateway) gatewayFields(b, s, f);
  if (s.hasUser) {
    f.sflowSrcUser = stringAt(b, s.srcUserOffset, s.srcUserLength);
    f.sflowDstUser = stringAt(b, s.dstUserOffset, s.dstUserLength);
  }
  if (s.hasUrl) {
    f.httpRequestTarget = stringAt(b, s.urlOffset, s.urlLength);
    f.httpRequestHost = stringAt(b, s.hostOffset, s.hostLength);
    f.sflowUrlDirection = s.urlDirection;
  }
  f.flowStartMilliseconds = dg.ctx.receivedAt;
  f.flowEndMilliseconds = dg.ctx.receivedAt;
  f.sflowSourceIdType = s.sourceIdType;
  f.sflowSourceIdIndex = s.sourceIdIndex;
  f.sflowSampleSequence = s.seq;
  f.sflowSamplePool = s.pool;
  f.sflowDrops = s.drops;
  return {
    recordType: 'flow',
    protocol: PROTOCOL,
    observation: dg.observation,
    recordIndex,
    samplingInterval: s.rate > 0 ? s.rate : 1,
    fields: f,
  };
}

/** IP version of the flow for prefix-length names: the header's, else the sampled record's. */
function flowIpVersion(s: FlowSample): number {
  if (s.hasHeader && s.pkt.ipVersion !== 0) return s.pkt.ipVersion;
  return s.ipVersion;
}

function routerFields(s: FlowSample, f: Fields): void {
  if (s.nextHopVersion === 4) f.ipNextHopIPv4Address = ipv4String(s.nextHop[0]!);
  else if (s.nextHopVersion === 6) f.ipNextHopIPv6Address = ipv6WordsString(s.nextHop);
  const v = flowIpVersion(s) || s.nextHopVersion;
  if (v === 6) {
    f.sourceIPv6PrefixLength = s.srcMask;
    f.destinationIPv6PrefixLength = s.dstMask;
  } else {
    f.sourceIPv4PrefixLength = s.srcMask;
    f.destinationIPv4PrefixLength = s.dstMask;
  }
}

/** Destination AS: the path's last AS (the origin); an empty path means the router's own AS. */
function destinationAs(s: FlowSample): number {
  return s.asPathLength > 0 ? s.lastAs : s.routerAs;
}

function gatewayFields(b: Uint8Array, s: FlowSample, f: Fields): void {
  if (s.bgpNextHopVersion === 4) f.bgpNextHopIPv4Address = ipv4String(s.bgpNextHop[0]!);
  else if (s.bgpNextHopVersion === 6) f.bgpNextHopIPv6Address = ipv6WordsString(s.bgpNextHop);
  f.bgpSourceAsNumber = s.srcAs;
  f.bgpDestinationAsNumber = destinationAs(s);
  f.bgpPrevAdjacentAsNumber = s.srcPeerAs;
  if (s.asPathLength > 0) f.bgpNextAdjacentAsNumber = s.firstAs;
  const path: number[] = [];
  let p = s.asPathOffset;
  for (let i = 0; i < s.asPathSegments && path.length < SFLOW_MAX_AS_PATH_LENGTH; i++) {
    const n = u32(b, p + 4);
    for (let j = 0; j < n && path.length < SFLOW_MAX_AS_PATH_LENGTH; j++) path.push(u32(b, p + 8 + j * 4));
    p += 8 + n * 4;
  }
  f.sflowAsPath = path;
  if (s.communities > 0) {
    const c: number[] = new Array<number>(s.communities);
    for (let i = 0; i < s.communities; i++) c[i] = u32(b, s.communitiesOffset + i * 4);
    f.bgpDestinationCommunityList = c;
  }
  f.sflowLocalPref = s.localPref;
  f.sflowRouterAs = s.routerAs;
}

function fillRow(out: BatchSink, exporterIndex: number, dg: Datagram, recordIndex: number): void {
  const s = sample;
  if (out.batch.full) out.flush();
  const batch = out.batch;
  if (batch.full) return; // a sink that did not empty the batch: drop rather than overrun
  const i = batch.add();
  const a = i * 4;
  const pkt = s.pkt;
  if (s.hasHeader && pkt.ipVersion !== 0) {
    batch.ipVersion[i] = pkt.ipVersion;
    for (let k = 0; k < 4; k++) {
      batch.src[a + k] = pkt.src[k]!;
      batch.dst[a + k] = pkt.dst[k]!;
    }
    batch.proto[i] = pkt.protocol;
    if (pkt.hasPorts) {
      batch.srcPort[i] = pkt.srcPort;
      batch.dstPort[i] = pkt.dstPort;
    }
    batch.tcpFlags[i] = pkt.tcpFlags;
    batch.minTtl[i] = batch.maxTtl[i] = pkt.ttl;
    if (pkt.hasIcmp) batch.icmpTypeCode[i] = pkt.icmpType * 256 + pkt.icmpCode;
  } else if (s.ipVersion !== 0) {
    batch.ipVersion[i] = s.ipVersion;
    for (let k = 0; k < 4; k++) {
      batch.src[a + k] = s.ipSrc[k]!;
      batch.dst[a + k] = s.ipDst[k]!;
    }
    batch.proto[i] = s.ipProtocol;
    if (hasPorts(s.ipProtocol)) {
      batch.srcPort[i] = s.ipSrcPort;
      batch.dstPort[i] = s.ipDstPort;
    }
    if (s.ipProtocol === 6) batch.tcpFlags[i] = s.ipTcpFlags;
  }
  batch.octets[i] = octets(s);
  batch.packets[i] = 1;
  batch.start[i] = batch.end[i] = dg.ctx.receivedAt;
  if (s.inputFormat === 0 && s.input !== IF_UNKNOWN) batch.inIf[i] = s.input;
  if (s.outputFormat === 0 && s.output !== IF_UNKNOWN) batch.outIf[i] = s.output;
  if (s.hasGateway) {
    batch.srcAs[i] = s.srcAs;
    batch.dstAs[i] = destinationAs(s);
  }
  batch.samplingInterval[i] = s.rate > 0 ? s.rate : 1;
  batch.exporterIndex[i] = exporterIndex;
  batch.observationDomainId[i] = dg.observation.observationDomainId;
  batch.templateId[i] = 0;
  batch.sequence[i] = dg.observation.sequence;
  batch.recordIndex[i] = recordIndex;
}

function counterSample(
  b: Uint8Array,
  off: number,
  end: number,
  expanded: boolean,
  dg: Datagram,
  state: SflowState,
  t: Target,
): void {
  const exporter = dg.observation.exporter;
  let seq: number;
  let type: number;
  let index: number;
  if (expanded) {
    if (end - off < 16) return malformed(t, exporter, 'truncated expanded counter sample', off);
    seq = u32(b, off);
    type = u32(b, off + 4);
    index = u32(b, off + 8);
    off += 12;
  } else {
    if (end - off < 12) return malformed(t, exporter, 'truncated counter sample', off);
    seq = u32(b, off);
    const src = u32(b, off + 4);
    type = src >>> 24;
    index = src & 0xffffff;
    off += 8;
  }
  const records = u32(b, off);
  off += 4;
  if (records > SFLOW_MAX_RECORDS_PER_SAMPLE || records * 8 > end - off) {
    return malformed(t, exporter, 'counter record count exceeds sample or limit', off - 4);
  }
  const f: Fields = { sflowSourceIdType: type, sflowSourceIdIndex: index, sflowSampleSequence: seq };
  for (let r = 0; r < records; r++) {
    if (end - off < 8) return malformed(t, exporter, 'truncated counter record header', off);
    const format = u32(b, off);
    const len = u32(b, off + 4);
    const p = off + 8;
    if (len > end - p) return malformed(t, exporter, 'counter record length exceeds sample', off + 4);
    off = p + len;
    if (format >>> 12 !== 0) continue;
    if (counterRecordFields(b, p, len, format, f) === 'short') {
      return malformed(t, exporter, 'counter record shorter than its format', p);
    }
  }
  trackSample(state, dg.agent, type, index, true, seq, -1, t.sink);
  const recordIndex = dg.recordIndex++;
  dg.agent.records++;
  state.stats.counters++;
  if (t.sink === undefined) return;
  const rec: CountersRecord = {
    recordType: 'counters',
    protocol: PROTOCOL,
    observation: dg.observation,
    recordIndex,
    fields: f,
  };
  t.sink.record(rec);
}
