/**
 * `DetectBatch`: the one internal flow view every detector reads, a columnar batch like
 * `FlowBatch` (integer addresses, numeric counters, no per-record objects) plus what detection
 * needs on top: event time, partition, counters already scaled by the sampling interval, endpoint
 * ASNs and the legal channel when the edge provided them, and a `skip` mark set by the engine for
 * late and duplicate rows. Adapters (adapt.ts) fill it from `FlowBatch`es (column copies), from
 * `SelectedRecord`s and from plain decoded `FlowRecord`s.
 */
import { LEGAL_CHANNELS, type LegalChannel } from '../../common/schema/legal.ts';

/** Why the engine skips a row (0 = processed). */
export const SKIP = { none: 0, late: 1, duplicate: 2, invalid: 3 } as const;

/** Channel code of a legal channel (0 = unknown: plain decoded records without an edge). */
export function channelCode(c: LegalChannel | undefined): number {
  return c === undefined ? 0 : LEGAL_CHANNELS.indexOf(c) + 1;
}

/** Code of `agreement-foreign-to-domestic`: the destination is a consenting operator's range. */
export const CHANNEL_AGREEMENT = channelCode('agreement-foreign-to-domestic');

/** Columnar flows for detection; allocated once, refilled by the adapters. */
export class DetectBatch {
  readonly capacity: number;
  length = 0;
  /** 4 or 6 (0: no address; such rows are marked invalid). */
  readonly ipVersion: Uint8Array;
  /** `FlowBatch` address layout: four words per row, IPv4 in word 0. */
  readonly src: Uint32Array;
  readonly dst: Uint32Array;
  readonly srcPort: Uint16Array;
  readonly dstPort: Uint16Array;
  readonly proto: Uint8Array;
  readonly tcpFlags: Uint16Array;
  /** Octets and packets scaled by the sampling interval (estimates of what crossed the link). */
  readonly octets: Float64Array;
  readonly packets: Float64Array;
  /** Reverse-direction packets (RFC 5103 biflows; 0 when unidirectional). */
  readonly revPackets: Float64Array;
  readonly start: Float64Array;
  readonly end: Float64Array;
  /** Event time: the flow's end (when its exporter reports it), else its start. */
  readonly time: Float64Array;
  readonly minTtl: Uint8Array;
  /** ICMP type·256 + code. */
  readonly icmpTypeCode: Uint16Array;
  readonly samplingInterval: Uint32Array;
  /** Engine partition (exporter/edge) id. */
  readonly partition: Uint16Array;
  readonly srcAsn: Uint32Array;
  readonly dstAsn: Uint32Array;
  /** `channelCode()` of the row's legal channel. */
  readonly channel: Uint8Array;
  /** `SKIP` code set by the engine. */
  readonly skip: Uint8Array;
  /** Record-id parts for rows without a string id. */
  readonly observationDomainId: Uint32Array;
  readonly sequence: Float64Array;
  readonly recordIndex: Uint32Array;
  /** String record ids (`SelectedRecord.recordId`) where the input had them. */
  readonly ids: (string | undefined)[];
  /** Partition names by id (set by the engine; used to build record ids). */
  partitionNames: (id: number) => string = () => '';

  constructor(capacity = 4096) {
    const c = Math.max(1, capacity | 0);
    this.capacity = c;
    this.ipVersion = new Uint8Array(c);
    this.src = new Uint32Array(c * 4);
    this.dst = new Uint32Array(c * 4);
    this.srcPort = new Uint16Array(c);
    this.dstPort = new Uint16Array(c);
    this.proto = new Uint8Array(c);
    this.tcpFlags = new Uint16Array(c);
    this.octets = new Float64Array(c);
    this.packets = new Float64Array(c);
    this.revPackets = new Float64Array(c);
    this.start = new Float64Array(c);
    this.end = new Float64Array(c);
    this.time = new Float64Array(c);
    this.minTtl = new Uint8Array(c);
    this.icmpTypeCode = new Uint16Array(c);
    this.samplingInterval = new Uint32Array(c);
    this.partition = new Uint16Array(c);
    this.srcAsn = new Uint32Array(c);
    this.dstAsn = new Uint32Array(c);
    this.channel = new Uint8Array(c);
    this.skip = new Uint8Array(c);
    this.observationDomainId = new Uint32Array(c);
    this.sequence = new Float64Array(c);
    this.recordIndex = new Uint32Array(c);
    this.ids = new Array<string | undefined>(c).fill(undefined);
  }

  /** True when no more rows fit. */
  get full(): boolean {
    return this.length >= this.capacity;
  }

  /** Empties the batch. */
  clear(): void {
    this.length = 0;
  }

  /**
   * The record id of row `i`: the input's `recordId` when it had one, else
   * partition/observationDomain/sequence/recordIndex (the decoder's record identity).
   * Allocates a string: call it only for the few rows kept as evidence samples.
   */
  recordId(i: number): string {
    return (
      this.ids[i] ??
      `${this.partitionNames(this.partition[i]!)}/${this.observationDomainId[i]}/${this.sequence[i]}/${this.recordIndex[i]}`
    );
  }
}
