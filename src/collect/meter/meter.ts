/**
 * The flow meter: turns the packets of a traffic capture (in capture order) into bidirectional
 * flow records, in the spirit of softflowd, nProbe and Zeek's conn.log, and the DNS messages among
 * them into `DnsEvent`s. Pure apart from its own state: packets in, records out through a sink; no
 * I/O, no wall clock (all timeouts run on capture time), never throws on packet bytes.
 *
 * Rules (also in README.md beside this file):
 *
 * - **Key.** Interface id, outer and inner VLAN id, IP version, IP protocol, both addresses and
 *   both ports (TCP, UDP, UDP-Lite, SCTP, DCCP). ICMP/ICMPv6 echo-like exchanges (echo, timestamp,
 *   address mask; ICMPv6 echo) are keyed by their identifier, so a request and its reply are one
 *   flow; other ICMP messages by type and code. Protocols without ports use port 0.
 * - **Direction.** A flow is bidirectional: the sender of its first packet is the source, and the
 *   other direction is counted in the RFC 5103 reverse elements (`reversePacketDeltaCount`,
 *   `reverseOctetDeltaCount`, `reverseTcpControlBits`, `reverseMinimumTTL`, ...). `biflowDirection`
 *   is 1 (initiator) when that first packet was a TCP SYN without ACK, else 0 (arbitrary).
 * - **Octets** are IP-layer bytes (IPv4 total length, IPv6 payload length + 40), as in NetFlow;
 *   a snapshot length cutting the capture does not reduce them.
 * - **Timeouts** run on capture time: the meter's clock is the latest packet timestamp seen, so a
 *   packet slightly out of order neither expires nor revives anything. Before each packet is
 *   counted, every flow that has been idle for longer than its idle timeout is exported
 *   (`flowEndReason` 1): 15 s by default, 5 s for ICMP and for UDP flows with a DNS port (one
 *   exchange; see limits.ts). A flow whose first packet is older than the active timeout (60 s) is
 *   exported (`flowEndReason` 2) and goes on as a new record with the same orientation and TCP
 *   state.
 * - **TCP end.** After both FINs, or an RST, a flow waits for a grace period (2 s after its last
 *   packet, for the final ACK and retransmissions) and is then exported with `flowEndReason` 3. A
 *   SYN without ACK during the grace period ends the old flow at once and starts a new one (the
 *   5-tuple was reused).
 * - **Fragments.** Every fragment is counted once. Non-first fragments carry no ports: they are
 *   counted in the flow of their first fragment, found through a small table of fragment ids
 *   (bounded: MAX_FRAGMENT_TRACK, FRAGMENT_TRACK_TIMEOUT_MS); one whose first fragment was not
 *   seen goes to a flow with ports 0, as softflowd does. UDP fragments to or from a DNS port are
 *   also reassembled (bounded, by the capture input's packet decoder) for their DNS message.
 * - **Bounded state.** At most `maxFlows` flows; a new flow beyond it first exports the flow
 *   closest to its idle expiry (`flowEndReason` 5, counted as `evicted`).
 * - **End of input.** `flush()` exports every open flow (`flowEndReason` 4, or 3 for TCP flows
 *   already ended by FIN/RST).
 * - **Not metered** (counted instead): frames of other link types or non-IP payloads, frames cut
 *   before a whole IP header, IPv4 headers that contradict themselves, IPv6 extension chains
 *   beyond the decoder's limit. Every other packet is in exactly one flow record.
 *
 * Records: `FlowRecord` with `protocol: 'pcap'`, `samplingInterval` 1, observation exporter
 * `capture` (option `exporter`), observation domain = the capture's interface id, sequence = the
 * meter's export counter (shared by flow records and DNS events, so that exporter + domain +
 * sequence is unique and the same when the capture is metered again), recordIndex 0, exportTime =
 * the meter's clock at export.
 *
 * DNS: UDP datagrams and TCP segments with a DNS port on either side are parsed by the shared DNS
 * parser (`decodeDnsMessageToFields`) into `DnsEvent`s with the dnstap field names: source = the
 * client (the querier), destination = the server, their ports, `protocolIdentifier`,
 * `dnsTransport` (`udp`/`tcp`), `eventTime` = the packet's capture time, plus `vlanId` when tagged.
 * A TCP segment is parsed only when it holds whole length-prefixed messages (RFC 1035 section
 * 4.2.2) and nothing else; segments of a longer message are counted, not reassembled. Bytes that
 * do not even hold a DNS header give no event (counted as malformed). Payload bytes are never kept
 * beyond the parsed metadata.
 */
import type { DnsEvent, Fields, FlowRecord, Observation } from '../../common/schema/index.ts';
import { decodeDnsMessageToFields } from '../decode/dns/index.ts';
import {
  decodePacket,
  ipv6WordsString,
  PacketInfo,
  PacketStatus,
  startFromLinkType,
} from '../decode/packet/index.ts';
import type { DecodeSink } from '../decode/types.ts';
import { ipv4String } from '../decode/values.ts';
import { createPacketDecoder, type PacketDecoder } from '../input/packet.ts';
import { resolveFlowMeterOptions, type FlowMeterOptions, type ResolvedFlowMeterOptions } from './config.ts';
import {
  ActiveList,
  Flow,
  flowFields,
  flowHash,
  IdleList,
  type FlowEndReason,
  type FlowIdentity,
} from './flow.ts';
import { FRAGMENT_TRACK_TIMEOUT_MS, MAX_DNS_MESSAGES_PER_SEGMENT, MAX_FRAGMENT_TRACK } from './limits.ts';

/** Counters of a flow meter, updated in place (pass your own object to watch progress). */
export interface FlowMeterStats {
  /** Frames given to `packet()`. */
  packets: number;
  /** Frames metered: each is in exactly one flow record (the sum of records' packets). */
  ipPackets: number;
  /** IP-layer octets metered. */
  ipOctets: number;
  /** Frames of a link type the decoder does not follow. */
  unsupportedLinkType: number;
  /** Frames carrying something other than IPv4/IPv6 (ARP, LLDP, non-IP MPLS payloads, ...). */
  nonIp: number;
  /** Frames cut before a whole IP header: not metered. */
  truncated: number;
  /** Metered frames whose transport header was cut (metered with what was reached). */
  truncatedTransport: number;
  /** Frames whose IP header contradicts itself: not metered. */
  malformed: number;
  /** Frames beyond the decoder's VLAN/MPLS/IPv6-extension limits: not metered. */
  tooDeep: number;
  /** Metered IP fragments, and those of them whose first fragment was not seen (ports 0). */
  fragments: number;
  fragmentsUnattributed: number;
  /** Flows created (table entries). */
  flowsCreated: number;
  /** Flow records exported, per reason. */
  flowsExpired: Record<FlowEndReason, number>;
  /** Flow records exported (the sum of `flowsExpired`). */
  flowRecords: number;
  /** Flows currently in the table, and the most there ever were. */
  activeFlows: number;
  maxActiveFlows: number;
  /** DNS messages parsed, of which malformed or cut short (`dnsMalformed` field set). */
  dnsMessages: number;
  dnsMalformed: number;
  /** TCP segments on a DNS port holding a partial message (not reassembled, no event). */
  dnsTcpSkipped: number;
}

/** A fresh, zeroed {@link FlowMeterStats}. */
export function newFlowMeterStats(): FlowMeterStats {
  return {
    packets: 0,
    ipPackets: 0,
    ipOctets: 0,
    unsupportedLinkType: 0,
    nonIp: 0,
    truncated: 0,
    truncatedTransport: 0,
    malformed: 0,
    tooDeep: 0,
    fragments: 0,
    fragmentsUnattributed: 0,
    flowsCreated: 0,
    flowsExpired: { idle: 0, active: 0, fin: 0, rst: 0, evicted: 0, end: 0 },
    flowRecords: 0,
    activeFlows: 0,
    maxActiveFlows: 0,
    dnsMessages: 0,
    dnsMalformed: 0,
    dnsTcpSkipped: 0,
  };
}

/** A flow meter; see {@link createFlowMeter}. */
export interface FlowMeter {
  /**
   * Meters one captured frame: capture time (epoch ms, may have a fraction), LINKTYPE_ value of
   * its interface, the frame's bytes (not kept), and the capture's interface id (pcapng; 0).
   * Never throws on the bytes.
   */
  packet(timestampMs: number, linkType: number, bytes: Uint8Array, interfaceId?: number): void;
  /** End of input: exports every open flow. The meter can be used again afterwards. */
  flush(): void;
  /** Counters (the object passed in the options, or the meter's own). */
  readonly stats: FlowMeterStats;
  /** The options in force. */
  readonly options: ResolvedFlowMeterOptions;
}

/** Options of {@link createFlowMeter}: the meter options plus a stats object to update. */
export interface CreateFlowMeterOptions extends FlowMeterOptions {
  /** Counters updated in place (default: a fresh object, see `FlowMeter.stats`). */
  stats?: FlowMeterStats;
}

const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;
const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

/** Idle lists: one per timeout, so each list is ordered by expiry and scanned from its head. */
const LIST_GENERAL = 0;
const LIST_SHORT = 1;
const LIST_TCP_ENDED = 2;

/** ICMP request type of an echo-like exchange for either of its types, else -1. */
function icmpRequestType(version: 4 | 6, type: number): number {
  if (version === 6) return type === 128 || type === 129 ? 128 : -1;
  switch (type) {
    case 8:
    case 0:
      return 8; // echo
    case 13:
    case 14:
      return 13; // timestamp
    case 15:
    case 16:
      return 15; // information
    case 17:
    case 18:
      return 17; // address mask
    default:
      return -1;
  }
}

function protocolHasPorts(p: number): boolean {
  return p === 6 || p === 17 || p === 136 || p === 132 || p === 33;
}

/** What the first fragment of a datagram told about its flow, for the later fragments. */
interface FragmentEntry {
  srcPort: number;
  dstPort: number;
  icmpKey: number;
  icmpTypeCode: number;
  seenAt: number;
}

/**
 * Creates a flow meter writing flow records and DNS events to `out.record`, and anomalies
 * (malformed DNS messages and IP headers) to `out.event`. Throws `ConfigError` for invalid
 * options; nothing else throws.
 */
export function createFlowMeter(options: CreateFlowMeterOptions, out: DecodeSink): FlowMeter {
  const opts = resolveFlowMeterOptions(options);
  const stats = options.stats ?? newFlowMeterStats();
  const info = new PacketInfo();
  // Flows by key hash; flows whose hashes collide are chained through `hashNext`.
  const table = new Map<number, Flow>();
  let tableSize = 0;
  let serial = 0;
  // The identity of the packet being metered, reused for every packet.
  const pid: FlowIdentity = {
    interfaceId: 0,
    ipVersion: 4,
    protocol: 0,
    vlan: -1,
    innerVlan: -1,
    s0: 0,
    s1: 0,
    s2: 0,
    s3: 0,
    d0: 0,
    d1: 0,
    d2: 0,
    d3: 0,
    srcPort: 0,
    dstPort: 0,
    icmpKey: -1,
  };
  const lists = [
    new IdleList(LIST_GENERAL, opts.idleTimeoutMs),
    new IdleList(LIST_SHORT, opts.shortIdleTimeoutMs),
    new IdleList(LIST_TCP_ENDED, opts.tcpEndGraceMs),
  ];
  const active = new ActiveList();
  const fragments = new Map<string, FragmentEntry>();
  let reassembler: PacketDecoder | undefined;
  let clock = -Infinity;
  let sequence = 0;

  function observation(interfaceId: number): Observation {
    return {
      exporter: opts.exporter,
      observationDomainId: interfaceId,
      templateId: 0,
      sequence: sequence++,
      exportTime: Number.isFinite(clock) ? Math.floor(clock) : 0,
    };
  }

  function emit(f: Flow, reason: FlowEndReason): void {
    const r: FlowRecord = {
      recordType: 'flow',
      protocol: 'pcap',
      observation: observation(f.interfaceId),
      recordIndex: 0,
      samplingInterval: 1,
      fields: flowFields(f, reason),
    };
    stats.flowsExpired[reason]++;
    stats.flowRecords++;
    out.record(r);
  }

  function unlink(f: Flow): void {
    let h = table.get(f.hash);
    if (h === f) {
      if (f.hashNext) table.set(f.hash, f.hashNext);
      else table.delete(f.hash);
    } else {
      while (h !== undefined && h.hashNext !== f) h = h.hashNext;
      if (h !== undefined) h.hashNext = f.hashNext;
    }
    f.hashNext = undefined;
    tableSize--;
  }

  /** Removes a flow from the table, exporting it unless it is an empty continuation. */
  function expireFlow(f: Flow, reason: FlowEndReason): void {
    unlink(f);
    const l = lists[f.list];
    if (l) l.remove(f);
    active.remove(f);
    stats.activeFlows = tableSize;
    if (f.packets > 0) emit(f, reason);
  }

  function expire(now: number): void {
    for (const l of lists) {
      for (let h = l.head; h !== undefined && now - h.touchedAt > l.timeoutMs; h = l.head) {
        expireFlow(h, l.index === LIST_TCP_ENDED ? (h.ended ?? 'idle') : 'idle');
      }
    }
    for (let h = active.head; h !== undefined && now - h.startedAt > opts.activeTimeoutMs; h = active.head) {
      // The flow goes on: export what it has so far and count on from zero.
      active.remove(h);
      if (h.packets > 0) emit(h, 'active');
      h.resetCounters();
    }
  }

  /** Exports the flow closest to its idle expiry to make room for a new one. */
  function evict(): void {
    let victim: Flow | undefined;
    let deadline = Infinity;
    for (const l of lists) {
      const h = l.head;
      if (h !== undefined && h.touchedAt + l.timeoutMs < deadline) {
        deadline = h.touchedAt + l.timeoutMs;
        victim = h;
      }
    }
    if (victim) expireFlow(victim, 'evicted');
  }

  function fragmentKey(interfaceId: number, vlan: number, inner: number): string {
    const s = info.src;
    const d = info.dst;
    return info.ipVersion === 4
      ? `${interfaceId}|${vlan}|${inner}|4|${info.protocol}|${info.fragmentId}|${s[0]}|${d[0]}`
      : `${interfaceId}|${vlan}|${inner}|6|${info.protocol}|${info.fragmentId}|${s[0]},${s[1]},${s[2]},${s[3]}|${d[0]},${d[1]},${d[2]},${d[3]}`;
  }

  function trackFragment(key: string, e: FragmentEntry): void {
    for (const [k, old] of fragments) {
      if (fragments.size < MAX_FRAGMENT_TRACK && clock - old.seenAt <= FRAGMENT_TRACK_TIMEOUT_MS) break;
      fragments.delete(k);
    }
    fragments.delete(key);
    fragments.set(key, e);
  }

  /** Octets of the packet at the IP layer (see the rules above for offloaded captures). */
  function ipOctets(bytes: Uint8Array): number {
    const off = info.ipOffset;
    const captured = bytes.length - off;
    if (info.ipVersion === 4) return info.ipTotalLength === 0 ? captured : info.ipTotalLength;
    // IPv6 payload length 0: a jumbogram or a segmentation-offloaded capture, unless the packet
    // really has no payload (next header 59).
    if (info.ipTotalLength === 40 && info.protocol !== 59 && captured > 40) return captured;
    return info.ipTotalLength;
  }

  function packet(timestampMs: number, linkType: number, bytes: Uint8Array, interfaceId = 0): void {
    stats.packets++;
    const ts = Number.isFinite(timestampMs) ? timestampMs : Number.isFinite(clock) ? clock : 0;
    if (ts > clock || !Number.isFinite(clock)) {
      clock = Number.isFinite(clock) ? Math.max(clock, ts) : ts;
      expire(clock);
    }
    const start = startFromLinkType(linkType);
    if (start < 0) {
      stats.unsupportedLinkType++;
      return;
    }
    const status = decodePacket(bytes, 0, bytes.length, start, info);
    if (info.ipVersion === 0) {
      if (status === PacketStatus.TRUNCATED) stats.truncated++;
      else if (status === PacketStatus.MALFORMED) stats.malformed++;
      else if (status === PacketStatus.TOO_DEEP) stats.tooDeep++;
      else stats.nonIp++;
      return;
    }
    if (status === PacketStatus.MALFORMED) {
      stats.malformed++;
      out.event?.({
        kind: 'malformed',
        protocol: 'ip',
        exporter: opts.exporter,
        reason: 'ip-header',
        offset: info.ipOffset,
      });
      return;
    }
    if (status === PacketStatus.TOO_DEEP) {
      stats.tooDeep++;
      return;
    }
    if (status === PacketStatus.TRUNCATED) stats.truncatedTransport++;
    const version = info.ipVersion as 4 | 6;
    const protocol = info.protocol;
    const vlan = info.vlanCount > 0 ? info.vlanIds[0]! : -1;
    const inner = info.vlanCount > 1 ? info.vlanIds[1]! : -1;

    let srcPort = 0;
    let dstPort = 0;
    let icmpKey = -1;
    let icmpTypeCode = -1;
    if (info.hasPorts) {
      srcPort = info.srcPort;
      dstPort = info.dstPort;
    } else if (info.hasIcmp) {
      icmpTypeCode = info.icmpType * 256 + info.icmpCode;
      const req = icmpRequestType(version, info.icmpType);
      if (req >= 0) {
        icmpKey = 0x10000 + req;
        const o = info.transportOffset + 4;
        const id = o + 2 <= bytes.length ? (bytes[o]! << 8) | bytes[o + 1]! : 0;
        srcPort = dstPort = id;
      } else icmpKey = icmpTypeCode;
    }
    if (info.isFragment) {
      stats.fragments++;
      const fk = fragmentKey(interfaceId, vlan, inner);
      if (info.fragmentOffset === 0) {
        trackFragment(fk, { srcPort, dstPort, icmpKey, icmpTypeCode, seenAt: clock });
      } else {
        const e = fragments.get(fk);
        if (e !== undefined) {
          ({ srcPort, dstPort, icmpKey, icmpTypeCode } = e);
          // The last fragment (more-fragments clear) closes the datagram.
          if ((info.fragmentFlags & 0x20) === 0) fragments.delete(fk);
        } else stats.fragmentsUnattributed++;
      }
    }
    if (protocol !== PROTO_ICMP && protocol !== PROTO_ICMPV6) icmpTypeCode = -1;

    account(ts, bytes, interfaceId, version, protocol, vlan, inner, srcPort, dstPort, icmpKey, icmpTypeCode);

    if (opts.dnsEvents && (protocol === PROTO_UDP || protocol === PROTO_TCP)) {
      if (info.isFragment) {
        if (protocol === PROTO_UDP) reassembledDns(ts, linkType, bytes, interfaceId, vlan);
      } else if (
        info.hasPorts &&
        (opts.dnsPorts.has(srcPort) || opts.dnsPorts.has(dstPort)) &&
        info.payloadOffset >= 0 &&
        info.payloadEnd > info.payloadOffset
      ) {
        const payload = bytes.subarray(info.payloadOffset, info.payloadEnd);
        const src = version === 4 ? ipv4String(info.src[0]!) : ipv6WordsString(info.src);
        const dst = version === 4 ? ipv4String(info.dst[0]!) : ipv6WordsString(info.dst);
        if (protocol === PROTO_UDP)
          dnsMessage(ts, version, src, dst, srcPort, dstPort, PROTO_UDP, vlan, interfaceId, payload);
        else tcpDns(ts, version, src, dst, srcPort, dstPort, vlan, interfaceId, payload);
      }
    }
  }

  /** Counts the decoded packet (in `info`) in its flow, creating the flow when needed. */
  function account(
    ts: number,
    bytes: Uint8Array,
    interfaceId: number,
    version: 4 | 6,
    protocol: number,
    vlan: number,
    inner: number,
    srcPort: number,
    dstPort: number,
    icmpKey: number,
    icmpTypeCode: number,
  ): void {
    const s = info.src;
    const d = info.dst;
    pid.interfaceId = interfaceId;
    pid.ipVersion = version;
    pid.protocol = protocol;
    pid.vlan = vlan;
    pid.innerVlan = inner;
    pid.s0 = s[0]!;
    pid.d0 = d[0]!;
    if (version === 6) {
      pid.s1 = s[1]!;
      pid.s2 = s[2]!;
      pid.s3 = s[3]!;
      pid.d1 = d[1]!;
      pid.d2 = d[2]!;
      pid.d3 = d[3]!;
    } else {
      pid.s1 = pid.s2 = pid.s3 = pid.d1 = pid.d2 = pid.d3 = 0;
    }
    pid.srcPort = srcPort;
    pid.dstPort = dstPort;
    pid.icmpKey = icmpKey;
    const hash = flowHash(pid);
    let f = table.get(hash);
    let dirn = 0;
    while (f !== undefined && (dirn = f.direction(pid)) === 0) f = f.hashNext;
    const tcpFlags = protocol === PROTO_TCP && info.hasTcpFlags ? info.tcpFlags : 0;
    if (f !== undefined && f.ended !== undefined && (tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      // A new connection on the 5-tuple of one that just ended.
      expireFlow(f, f.ended);
      f = undefined;
    }
    if (f === undefined) {
      if (tableSize >= opts.maxFlows) evict();
      f = new Flow(
        hash,
        serial++,
        pid,
        protocolHasPorts(protocol),
        icmpTypeCode,
        (tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN,
      );
      f.hashNext = table.get(hash);
      table.set(hash, f);
      tableSize++;
      dirn = 1;
      const short =
        protocol === PROTO_ICMP ||
        protocol === PROTO_ICMPV6 ||
        (protocol === PROTO_UDP && (opts.dnsPorts.has(srcPort) || opts.dnsPorts.has(dstPort)));
      lists[short ? LIST_SHORT : LIST_GENERAL]!.push(f);
      stats.flowsCreated++;
      stats.activeFlows = tableSize;
      if (tableSize > stats.maxActiveFlows) stats.maxActiveFlows = tableSize;
    } else {
      lists[f.list]!.touch(f);
    }
    if (f.packets === 0) {
      // First packet of the flow, or of its next record after an active-timeout export.
      f.first = f.last = ts;
      f.startedAt = clock;
      active.push(f);
    } else {
      if (ts < f.first) f.first = ts;
      if (ts > f.last) f.last = ts;
    }
    f.touchedAt = clock;
    const forward = dirn > 0;
    const dir = forward ? f.fwd : f.rev;
    const octets = ipOctets(bytes);
    dir.packets++;
    dir.octets += octets;
    dir.flags |= tcpFlags;
    const ttl = info.ttl;
    if (ttl < dir.minTtl) dir.minTtl = ttl;
    if (ttl > dir.maxTtl) dir.maxTtl = ttl;
    if (forward && f.tos < 0) f.tos = info.tos;
    stats.ipPackets++;
    stats.ipOctets += octets;

    if (protocol === PROTO_TCP && f.ended === undefined && tcpFlags !== 0) {
      if ((tcpFlags & TCP_RST) !== 0) f.ended = 'rst';
      else if ((tcpFlags & TCP_FIN) !== 0) {
        if (forward) f.finFwd = true;
        else f.finRev = true;
        if (f.finFwd && f.finRev) f.ended = 'fin';
      }
      if (f.ended !== undefined) {
        lists[f.list]!.remove(f);
        lists[LIST_TCP_ENDED]!.push(f);
      }
    }
  }

  function reassembledDns(
    ts: number,
    linkType: number,
    bytes: Uint8Array,
    interfaceId: number,
    vlan: number,
  ): void {
    reassembler ??= createPacketDecoder();
    const r = reassembler.decode(linkType, bytes, ts);
    if (!r.ok || r.packet.protocol !== PROTO_UDP) return;
    const p = r.packet;
    if (!opts.dnsPorts.has(p.srcPort) && !opts.dnsPorts.has(p.dstPort)) return;
    dnsMessage(
      ts,
      p.ipVersion,
      p.srcAddress,
      p.dstAddress,
      p.srcPort,
      p.dstPort,
      PROTO_UDP,
      vlan,
      interfaceId,
      p.payload,
    );
  }

  function tcpDns(
    ts: number,
    version: 4 | 6,
    src: string,
    dst: string,
    srcPort: number,
    dstPort: number,
    vlan: number,
    interfaceId: number,
    payload: Uint8Array,
  ): void {
    // Only a segment made of whole length-prefixed messages is parsed: a segment in the middle
    // of a long message would otherwise be read as garbage messages.
    let o = 0;
    let n = 0;
    while (o + 2 <= payload.length && n < MAX_DNS_MESSAGES_PER_SEGMENT) {
      const len = (payload[o]! << 8) | payload[o + 1]!;
      if (len === 0 || o + 2 + len > payload.length) break;
      o += 2 + len;
      n++;
    }
    if (o !== payload.length || n === 0) {
      stats.dnsTcpSkipped++;
      return;
    }
    for (let p = 0; p < payload.length;) {
      const len = (payload[p]! << 8) | payload[p + 1]!;
      dnsMessage(
        ts,
        version,
        src,
        dst,
        srcPort,
        dstPort,
        PROTO_TCP,
        vlan,
        interfaceId,
        payload.subarray(p + 2, p + 2 + len),
      );
      p += 2 + len;
    }
  }

  function dnsMessage(
    ts: number,
    version: 4 | 6,
    src: string,
    dst: string,
    srcPort: number,
    dstPort: number,
    protocol: 6 | 17,
    vlan: number,
    interfaceId: number,
    msg: Uint8Array,
  ): void {
    stats.dnsMessages++;
    const dns: Fields = {};
    const r = decodeDnsMessageToFields(msg, dns);
    if (r.error) {
      stats.dnsMalformed++;
      out.event?.({
        kind: 'malformed',
        protocol: 'dns',
        exporter: opts.exporter,
        reason: r.error.reason,
        offset: r.error.offset,
      });
    }
    if (r.message === undefined) return;
    // The server is the side on a DNS port; between two DNS ports the QR bit tells.
    const srcServer = opts.dnsPorts.has(srcPort);
    const dstServer = opts.dnsPorts.has(dstPort);
    const fromServer = srcServer !== dstServer ? srcServer : r.message.header.qr;
    const fields: Fields = {};
    const fam = version === 4 ? 'IPv4' : 'IPv6';
    fields[`source${fam}Address`] = fromServer ? dst : src;
    fields[`destination${fam}Address`] = fromServer ? src : dst;
    fields.sourceTransportPort = fromServer ? dstPort : srcPort;
    fields.destinationTransportPort = fromServer ? srcPort : dstPort;
    fields.protocolIdentifier = protocol;
    fields.dnsTransport = protocol === PROTO_UDP ? 'udp' : 'tcp';
    if (vlan >= 0) fields.vlanId = vlan;
    fields.eventTime = Math.floor(ts);
    Object.assign(fields, dns);
    const e: DnsEvent = {
      recordType: 'dns',
      protocol: 'pcap',
      observation: observation(interfaceId),
      recordIndex: 0,
      fields,
    };
    out.record(e);
  }

  return {
    packet(timestampMs, linkType, bytes, interfaceId = 0) {
      packet(timestampMs, linkType, bytes, interfaceId);
    },
    flush() {
      // Oldest first, each with its own end reason.
      const open: Flow[] = [];
      for (const l of lists) for (let f = l.head; f !== undefined; f = f.next) open.push(f);
      open.sort((a, b) => a.serial - b.serial);
      for (const f of open) expireFlow(f, f.ended ?? 'end');
      fragments.clear();
      reassembler?.flush();
      reassembler = undefined;
    },
    get stats() {
      return stats;
    },
    get options() {
      return opts;
    },
  };
}
