/**
 * NetFlow v5: a 24-byte header and fixed 48-byte records, with IANA names for every field. The
 * record decoders are hand-written (the layout never changes) and take the session's per-set
 * `RecordContext` like the compiled template decoders do.
 */
import type { FlowBatch, FlowRecord } from '../../common/schema/index.ts';
import type { RecordContext } from './template.ts';
import { ipv4At } from './values.ts';

/** v5 header length. */
export const NETFLOW5_HEADER_LENGTH = 24;
/** v5 record length. */
export const NETFLOW5_RECORD_LENGTH = 48;

/** The parts of a v5 header the session needs. */
export interface Netflow5Header {
  count: number;
  sysUptime: number;
  /** Export time, epoch ms (seconds + nanoseconds, truncated to ms). */
  exportMs: number;
  sequence: number;
  engineType: number;
  engineId: number;
  /** Sampling interval from the low 14 bits of the sampling field; 0 = not given. */
  samplingInterval: number;
}

/** Reads a v5 header; the caller has checked that 24 bytes are there. */
export function readNetflow5Header(b: Uint8Array): Netflow5Header {
  const u32 = (o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  return {
    count: (b[2]! << 8) | b[3]!,
    sysUptime: u32(4),
    exportMs: u32(8) * 1000 + Math.floor(u32(12) / 1e6),
    sequence: u32(16),
    engineType: b[20]!,
    engineId: b[21]!,
    samplingInterval: ((b[22]! << 8) | b[23]!) & 0x3fff,
  };
}

/** Decodes the 48-byte record at `o` into a full flow record. */
export function netflow5Record(
  b: Uint8Array,
  o: number,
  X: RecordContext,
  engineType: number,
  engineId: number,
): FlowRecord {
  const first = ((b[o + 24]! << 24) | (b[o + 25]! << 16) | (b[o + 26]! << 8) | b[o + 27]!) >>> 0;
  const last = ((b[o + 28]! << 24) | (b[o + 29]! << 16) | (b[o + 30]! << 8) | b[o + 31]!) >>> 0;
  return {
    recordType: 'flow',
    protocol: 'netflow5',
    observation: X.obs,
    recordIndex: X.recordIndex++,
    samplingInterval: X.rate,
    fields: {
      sourceIPv4Address: ipv4At(b, o),
      destinationIPv4Address: ipv4At(b, o + 4),
      ipNextHopIPv4Address: ipv4At(b, o + 8),
      ingressInterface: (b[o + 12]! << 8) | b[o + 13]!,
      egressInterface: (b[o + 14]! << 8) | b[o + 15]!,
      packetDeltaCount: ((b[o + 16]! << 24) | (b[o + 17]! << 16) | (b[o + 18]! << 8) | b[o + 19]!) >>> 0,
      octetDeltaCount: ((b[o + 20]! << 24) | (b[o + 21]! << 16) | (b[o + 22]! << 8) | b[o + 23]!) >>> 0,
      flowStartSysUpTime: first,
      flowEndSysUpTime: last,
      sourceTransportPort: (b[o + 32]! << 8) | b[o + 33]!,
      destinationTransportPort: (b[o + 34]! << 8) | b[o + 35]!,
      tcpControlBits: b[o + 37]!,
      protocolIdentifier: b[o + 38]!,
      ipClassOfService: b[o + 39]!,
      bgpSourceAsNumber: (b[o + 40]! << 8) | b[o + 41]!,
      bgpDestinationAsNumber: (b[o + 42]! << 8) | b[o + 43]!,
      sourceIPv4PrefixLength: b[o + 44]!,
      destinationIPv4PrefixLength: b[o + 45]!,
      engineType,
      engineId,
      // Absolute times: the uptime difference is taken as signed 32 bits so the counter may wrap.
      flowStartMilliseconds: X.exportMs - ((X.sysUptime - first) | 0),
      flowEndMilliseconds: X.exportMs - ((X.sysUptime - last) | 0),
    },
  };
}

/**
 * Decodes `count` records starting at `o` into the batch. Returns 0 when done, 1 when the batch
 * filled up (flush, then call again from `X.next`).
 */
export function netflow5Batch(b: Uint8Array, o: number, end: number, B: FlowBatch, X: RecordContext): number {
  while (o + NETFLOW5_RECORD_LENGTH <= end) {
    if (B.length >= B.capacity) {
      X.next = o;
      return 1;
    }
    const i = B.add();
    B.ipVersion[i] = 4;
    B.src[i * 4] = (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
    B.dst[i * 4] = (b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!;
    B.inIf[i] = (b[o + 12]! << 8) | b[o + 13]!;
    B.outIf[i] = (b[o + 14]! << 8) | b[o + 15]!;
    B.packets[i] = ((b[o + 16]! << 24) | (b[o + 17]! << 16) | (b[o + 18]! << 8) | b[o + 19]!) >>> 0;
    B.octets[i] = ((b[o + 20]! << 24) | (b[o + 21]! << 16) | (b[o + 22]! << 8) | b[o + 23]!) >>> 0;
    const first = (b[o + 24]! << 24) | (b[o + 25]! << 16) | (b[o + 26]! << 8) | b[o + 27]!;
    const last = (b[o + 28]! << 24) | (b[o + 29]! << 16) | (b[o + 30]! << 8) | b[o + 31]!;
    B.start[i] = X.exportMs - ((X.sysUptime - first) | 0);
    B.end[i] = X.exportMs - ((X.sysUptime - last) | 0);
    B.srcPort[i] = (b[o + 32]! << 8) | b[o + 33]!;
    B.dstPort[i] = (b[o + 34]! << 8) | b[o + 35]!;
    B.tcpFlags[i] = b[o + 37]!;
    B.proto[i] = b[o + 38]!;
    B.srcAs[i] = (b[o + 40]! << 8) | b[o + 41]!;
    B.dstAs[i] = (b[o + 42]! << 8) | b[o + 43]!;
    B.samplingInterval[i] = X.rate;
    B.exporterIndex[i] = X.exporterIndex;
    B.observationDomainId[i] = X.domainId;
    B.templateId[i] = 0;
    B.sequence[i] = X.sequence;
    B.recordIndex[i] = X.recordIndex++;
    o += NETFLOW5_RECORD_LENGTH;
  }
  X.next = o;
  return 0;
}
