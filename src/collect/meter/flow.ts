/**
 * One metered flow and the intrusive lists that order flows for expiry. A flow is a plain object
 * with numeric fields only (addresses as 32-bit words, as in `PacketInfo` and `FlowBatch`);
 * strings are made once, when the record is exported (`flowFields`).
 */
import type { Fields } from '../../common/schema/index.ts';
import { ipv4String, ipv6FromWords } from '../decode/values.ts';

/** Why a flow record was exported; the counters of `FlowMeterStats.flowsExpired` use these names. */
export type FlowEndReason = 'idle' | 'active' | 'fin' | 'rst' | 'evicted' | 'end';

/** IANA `flowEndReason` values (RFC 5102 / IANA registry "flowEndReason"). */
export const FLOW_END_REASON_CODE: Readonly<Record<FlowEndReason, number>> = {
  idle: 1,
  active: 2,
  fin: 3,
  rst: 3,
  end: 4,
  evicted: 5,
};

/** Counters of one direction of a flow. */
export class DirectionCounters {
  packets = 0;
  octets = 0;
  /** TCP flags OR-ed over the direction's packets (IANA tcpControlBits). */
  flags = 0;
  minTtl = 255;
  maxTtl = 0;
  reset(): void {
    this.packets = 0;
    this.octets = 0;
    this.flags = 0;
    this.minTtl = 255;
    this.maxTtl = 0;
  }
}

/** Identity of a flow: what the meter's key is made of, with the first packet's orientation. */
export interface FlowIdentity {
  interfaceId: number;
  ipVersion: 4 | 6;
  protocol: number;
  /** Outer and inner VLAN id, -1 when untagged. */
  vlan: number;
  innerVlan: number;
  /** Source address words (IPv4: `s0` only, the others 0; IPv6: four big-endian words). */
  s0: number;
  s1: number;
  s2: number;
  s3: number;
  d0: number;
  d1: number;
  d2: number;
  d3: number;
  srcPort: number;
  dstPort: number;
  /** Key part for ICMP: 0x10000 + request type for echo-like exchanges, type * 256 + code else, -1 for other protocols. */
  icmpKey: number;
}

/** A flow in the meter's table. */
export class Flow {
  /** Hash of the key (the same for both directions), and the next flow in its hash chain. */
  readonly hash: number;
  hashNext: Flow | undefined = undefined;
  /** Creation order, for exporting open flows oldest first at the end of input. */
  readonly serial: number;
  readonly interfaceId: number;
  readonly ipVersion: 4 | 6;
  readonly protocol: number;
  readonly vlan: number;
  readonly innerVlan: number;
  /** Source = the sender of the flow's first packet; addresses as 32-bit words. */
  readonly s0: number;
  readonly s1: number;
  readonly s2: number;
  readonly s3: number;
  readonly d0: number;
  readonly d1: number;
  readonly d2: number;
  readonly d3: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly icmpKey: number;
  /** True when the protocol has ports (TCP, UDP, UDP-Lite, SCTP, DCCP). */
  readonly hasPorts: boolean;
  /** ICMP type * 256 + code of the first packet, -1 for other protocols. */
  readonly icmpTypeCode: number;
  /** The first packet was a TCP SYN without ACK: the source is known to be the initiator. */
  readonly initiatorKnown: boolean;

  readonly fwd = new DirectionCounters();
  readonly rev = new DirectionCounters();
  /** IP TOS/traffic class of the first forward packet, -1 before one. */
  tos = -1;
  /** Capture times (ms, may have a fraction) of the first and last packets of the record. */
  first = 0;
  last = 0;
  /** Meter clock when the record's first packet came (for the active timeout). */
  startedAt = 0;
  /** Meter clock of the last packet (for idle timeouts). */
  touchedAt = 0;
  finFwd = false;
  finRev = false;
  /** Set once the TCP flow ended (both FINs or an RST): `fin` or `rst`. */
  ended: 'fin' | 'rst' | undefined = undefined;

  /** Idle list this flow is in (index into the meter's lists), and its links there. */
  list = -1;
  prev: Flow | undefined = undefined;
  next: Flow | undefined = undefined;
  /** Links in the active-timeout list (ordered by `startedAt`); `inActive` tells membership. */
  inActive = false;
  aprev: Flow | undefined = undefined;
  anext: Flow | undefined = undefined;

  constructor(
    hash: number,
    serial: number,
    id: FlowIdentity,
    hasPorts: boolean,
    icmpTypeCode: number,
    initiatorKnown: boolean,
  ) {
    this.hash = hash;
    this.serial = serial;
    this.interfaceId = id.interfaceId;
    this.ipVersion = id.ipVersion;
    this.protocol = id.protocol;
    this.vlan = id.vlan;
    this.innerVlan = id.innerVlan;
    this.s0 = id.s0;
    this.s1 = id.s1;
    this.s2 = id.s2;
    this.s3 = id.s3;
    this.d0 = id.d0;
    this.d1 = id.d1;
    this.d2 = id.d2;
    this.d3 = id.d3;
    this.srcPort = id.srcPort;
    this.dstPort = id.dstPort;
    this.icmpKey = id.icmpKey;
    this.hasPorts = hasPorts;
    this.icmpTypeCode = icmpTypeCode;
    this.initiatorKnown = initiatorKnown;
  }

  /**
   * Whether a packet with identity `p` belongs to this flow: 1 in the forward direction, -1 in
   * the reverse direction, 0 when it is another flow. Same endpoints both ways (a host talking to
   * itself on one port) count as forward.
   */
  direction(p: FlowIdentity): number {
    if (
      p.protocol !== this.protocol ||
      p.icmpKey !== this.icmpKey ||
      p.vlan !== this.vlan ||
      p.innerVlan !== this.innerVlan ||
      p.interfaceId !== this.interfaceId ||
      p.ipVersion !== this.ipVersion
    ) {
      return 0;
    }
    if (
      p.s0 === this.s0 &&
      p.d0 === this.d0 &&
      p.srcPort === this.srcPort &&
      p.dstPort === this.dstPort &&
      p.s1 === this.s1 &&
      p.s2 === this.s2 &&
      p.s3 === this.s3 &&
      p.d1 === this.d1 &&
      p.d2 === this.d2 &&
      p.d3 === this.d3
    ) {
      return 1;
    }
    if (
      p.s0 === this.d0 &&
      p.d0 === this.s0 &&
      p.srcPort === this.dstPort &&
      p.dstPort === this.srcPort &&
      p.s1 === this.d1 &&
      p.s2 === this.d2 &&
      p.s3 === this.d3 &&
      p.d1 === this.s1 &&
      p.d2 === this.s2 &&
      p.d3 === this.s3
    ) {
      return -1;
    }
    return 0;
  }

  /** Packets in the current record, both directions. */
  get packets(): number {
    return this.fwd.packets + this.rev.packets;
  }

  /** Clears the counters after an active-timeout export; orientation and TCP state stay. */
  resetCounters(): void {
    this.fwd.reset();
    this.rev.reset();
    this.tos = -1;
  }
}

/** One round of MurmurHash3's 32-bit mixing (public-domain algorithm), kept in int32. */
function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/**
 * Hash of a flow identity, the same for both directions (the two endpoint hashes are added, which
 * commutes), folded to 30 bits so that V8 keeps it a small integer in the table's Map.
 */
export function flowHash(p: FlowIdentity): number {
  const a = mix(mix(mix(mix(mix(0x5bd1e995, p.s0), p.s1), p.s2), p.s3), p.srcPort);
  const b = mix(mix(mix(mix(mix(0x5bd1e995, p.d0), p.d1), p.d2), p.d3), p.dstPort);
  let h = mix(
    mix(mix(mix((a + b) | 0, p.interfaceId), (p.vlan << 16) ^ p.innerVlan), (p.ipVersion << 8) | p.protocol),
    p.icmpKey,
  );
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x3fffffff;
}

/** A doubly linked list of flows through `prev`/`next`, oldest `touchedAt` first. */
export class IdleList {
  head: Flow | undefined = undefined;
  tail: Flow | undefined = undefined;
  size = 0;
  constructor(
    readonly index: number,
    /** Idle timeout of every flow in the list (ms). */
    public timeoutMs: number,
  ) {}

  push(f: Flow): void {
    f.list = this.index;
    f.prev = this.tail;
    f.next = undefined;
    if (this.tail) this.tail.next = f;
    else this.head = f;
    this.tail = f;
    this.size++;
  }

  remove(f: Flow): void {
    if (f.prev) f.prev.next = f.next;
    else this.head = f.next;
    if (f.next) f.next.prev = f.prev;
    else this.tail = f.prev;
    f.prev = f.next = undefined;
    f.list = -1;
    this.size--;
  }

  /** Moves `f` (a member) to the tail: it was just touched. */
  touch(f: Flow): void {
    if (this.tail === f) return;
    this.remove(f);
    this.push(f);
  }
}

/** A doubly linked list of flows through `aprev`/`anext`, oldest `startedAt` first. */
export class ActiveList {
  head: Flow | undefined = undefined;
  tail: Flow | undefined = undefined;

  push(f: Flow): void {
    f.inActive = true;
    f.aprev = this.tail;
    f.anext = undefined;
    if (this.tail) this.tail.anext = f;
    else this.head = f;
    this.tail = f;
  }

  remove(f: Flow): void {
    if (!f.inActive) return;
    if (f.aprev) f.aprev.anext = f.anext;
    else this.head = f.anext;
    if (f.anext) f.anext.aprev = f.aprev;
    else this.tail = f.aprev;
    f.aprev = f.anext = undefined;
    f.inActive = false;
  }
}

/**
 * The IANA fields of a flow record (see the field list in meter.ts). Counters of both directions
 * (RFC 5103 reverse elements for the direction from destination to source).
 */
export function flowFields(f: Flow, reason: FlowEndReason): Fields {
  const out: Fields = {};
  out.ipVersion = f.ipVersion;
  if (f.ipVersion === 4) {
    out.sourceIPv4Address = ipv4String(f.s0);
    out.destinationIPv4Address = ipv4String(f.d0);
  } else {
    out.sourceIPv6Address = ipv6FromWords(f.s0, f.s1, f.s2, f.s3);
    out.destinationIPv6Address = ipv6FromWords(f.d0, f.d1, f.d2, f.d3);
  }
  out.protocolIdentifier = f.protocol;
  if (f.hasPorts) {
    out.sourceTransportPort = f.srcPort;
    out.destinationTransportPort = f.dstPort;
  }
  if (f.icmpTypeCode >= 0) out[f.ipVersion === 4 ? 'icmpTypeCodeIPv4' : 'icmpTypeCodeIPv6'] = f.icmpTypeCode;
  if (f.vlan >= 0) out.vlanId = f.vlan;
  if (f.innerVlan >= 0) out.dot1qCustomerVlanId = f.innerVlan;
  if (f.tos >= 0) out.ipClassOfService = f.tos;
  out.flowStartMilliseconds = Math.floor(f.first);
  out.flowEndMilliseconds = Math.floor(f.last);
  out.packetDeltaCount = f.fwd.packets;
  out.octetDeltaCount = f.fwd.octets;
  out.reversePacketDeltaCount = f.rev.packets;
  out.reverseOctetDeltaCount = f.rev.octets;
  if (f.protocol === 6) {
    out.tcpControlBits = f.fwd.flags;
    out.reverseTcpControlBits = f.rev.flags;
  }
  if (f.fwd.packets > 0) {
    out.minimumTTL = f.fwd.minTtl;
    out.maximumTTL = f.fwd.maxTtl;
  }
  if (f.rev.packets > 0) {
    out.reverseMinimumTTL = f.rev.minTtl;
    out.reverseMaximumTTL = f.rev.maxTtl;
  }
  // RFC 5103 section 5.3: 1 = the source is the initiator (seen sending the SYN), 0 = arbitrary
  // (the first packet's sender, which is usually but not provably the initiator).
  out.biflowDirection = f.initiatorKnown ? 1 : 0;
  out.flowEndReason = FLOW_END_REASON_CODE[reason];
  return out;
}
