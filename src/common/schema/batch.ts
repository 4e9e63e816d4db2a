/**
 * The hot-path representation of flows (DESIGN section 2): a columnar batch of typed arrays with
 * integer addresses and numeric counters. Columns cover the allow-listed fields of R-SEL-2, which
 * is everything selection and detection read; strings are made only at the output.
 *
 * A batch is allocated once and reused: `clear()` resets `length`, decoders append rows with
 * `add()`, which returns the row index to fill. Columns that a template does not carry stay 0
 * (addresses: ipVersion 0 = absent).
 */
export class FlowBatch {
  readonly capacity: number;
  length = 0;

  /** 4 or 6 per row (0 when the record carried no address). */
  readonly ipVersion: Uint8Array;
  /** Source address: IPv4 in word 0; IPv6 as four big-endian 32-bit words. */
  readonly src: Uint32Array;
  /** Destination address, same layout as `src`. */
  readonly dst: Uint32Array;
  readonly srcPort: Uint16Array;
  readonly dstPort: Uint16Array;
  /** protocolIdentifier */
  readonly proto: Uint8Array;
  /** tcpControlBits (16 bits in IPFIX). */
  readonly tcpFlags: Uint16Array;
  /** octetDeltaCount as exported (not scaled). */
  readonly octets: Float64Array;
  /** packetDeltaCount as exported (not scaled). */
  readonly packets: Float64Array;
  /** RFC 5103 reverse counters for bidirectional flows. */
  readonly revOctets: Float64Array;
  readonly revPackets: Float64Array;
  /** Flow start/end, epoch milliseconds. */
  readonly start: Float64Array;
  readonly end: Float64Array;
  readonly minTtl: Uint8Array;
  readonly maxTtl: Uint8Array;
  readonly inIf: Uint32Array;
  readonly outIf: Uint32Array;
  readonly srcAs: Uint32Array;
  readonly dstAs: Uint32Array;
  /** ICMP type * 256 + code (icmpTypeCodeIPv4/IPv6). */
  readonly icmpTypeCode: Uint16Array;
  readonly samplingInterval: Uint32Array;
  /** Index into `exporters` (the exporter identity strings seen by this batch). */
  readonly exporterIndex: Uint16Array;
  readonly observationDomainId: Uint32Array;
  readonly templateId: Uint16Array;
  /** Export sequence number of the message and the record's index in it: the record id parts. */
  readonly sequence: Float64Array;
  readonly recordIndex: Uint32Array;
  /** Exporter identities referenced by `exporterIndex`. */
  readonly exporters: string[] = [];
  private readonly exporterIds = new Map<string, number>();

  constructor(capacity = 4096) {
    this.capacity = capacity;
    this.ipVersion = new Uint8Array(capacity);
    this.src = new Uint32Array(capacity * 4);
    this.dst = new Uint32Array(capacity * 4);
    this.srcPort = new Uint16Array(capacity);
    this.dstPort = new Uint16Array(capacity);
    this.proto = new Uint8Array(capacity);
    this.tcpFlags = new Uint16Array(capacity);
    this.octets = new Float64Array(capacity);
    this.packets = new Float64Array(capacity);
    this.revOctets = new Float64Array(capacity);
    this.revPackets = new Float64Array(capacity);
    this.start = new Float64Array(capacity);
    this.end = new Float64Array(capacity);
    this.minTtl = new Uint8Array(capacity);
    this.maxTtl = new Uint8Array(capacity);
    this.inIf = new Uint32Array(capacity);
    this.outIf = new Uint32Array(capacity);
    this.srcAs = new Uint32Array(capacity);
    this.dstAs = new Uint32Array(capacity);
    this.icmpTypeCode = new Uint16Array(capacity);
    this.samplingInterval = new Uint32Array(capacity);
    this.exporterIndex = new Uint16Array(capacity);
    this.observationDomainId = new Uint32Array(capacity);
    this.templateId = new Uint16Array(capacity);
    this.sequence = new Float64Array(capacity);
    this.recordIndex = new Uint32Array(capacity);
  }

  /** True when no more rows fit. */
  get full(): boolean {
    return this.length >= this.capacity;
  }

  /** Empties the batch, keeping the exporter table. Columns are zeroed lazily by `add()`. */
  clear(): void {
    this.length = 0;
  }

  /** Index of an exporter identity in `exporters`, adding it on first use. */
  exporterId(exporter: string): number {
    let id = this.exporterIds.get(exporter);
    if (id === undefined) {
      id = this.exporters.length;
      this.exporters.push(exporter);
      this.exporterIds.set(exporter, id);
    }
    return id;
  }

  /**
   * Appends a zeroed row and returns its index; the caller must check `full` first. Zeroing here
   * keeps rows independent of what a previous use of the batch left behind.
   */
  add(): number {
    const i = this.length++;
    this.ipVersion[i] = 0;
    const a = i * 4;
    this.src[a] = this.src[a + 1] = this.src[a + 2] = this.src[a + 3] = 0;
    this.dst[a] = this.dst[a + 1] = this.dst[a + 2] = this.dst[a + 3] = 0;
    this.srcPort[i] = this.dstPort[i] = 0;
    this.proto[i] = 0;
    this.tcpFlags[i] = 0;
    this.octets[i] = this.packets[i] = this.revOctets[i] = this.revPackets[i] = 0;
    this.start[i] = this.end[i] = 0;
    this.minTtl[i] = this.maxTtl[i] = 0;
    this.inIf[i] = this.outIf[i] = 0;
    this.srcAs[i] = this.dstAs[i] = 0;
    this.icmpTypeCode[i] = 0;
    this.samplingInterval[i] = 1;
    this.exporterIndex[i] = 0;
    this.observationDomainId[i] = 0;
    this.templateId[i] = 0;
    this.sequence[i] = 0;
    this.recordIndex[i] = 0;
    return i;
  }
}
