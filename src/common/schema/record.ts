/**
 * The external (object) shape of decoded records: IANA IPFIX information-element names for every
 * field (DESIGN section 2). The hot path uses the columnar `FlowBatch` instead (batch.ts).
 */

/** The protocol a record was decoded from. */
export type RecordProtocol =
  'netflow5' | 'netflow9' | 'ipfix' | 'sflow5' | 'dnstap' | 'zeek' | 'argus' | 'nfdump' | 'pcap';

/** The kind of a decoded record. */
export type RecordType = 'flow' | 'options' | 'dns' | 'counters';

/**
 * A field value. Addresses are canonical strings, MAC addresses lower-case colon-separated,
 * counters numbers up to 2^53-1 and decimal strings beyond (DESIGN section 7), octet arrays
 * lower-case hex strings, timestamps epoch milliseconds (numbers; ISO strings only on output),
 * structured data (RFC 6313) arrays of values or of field objects.
 */
export type FieldValue = number | string | boolean | FieldValue[] | { [name: string]: FieldValue };

/** Fields keyed by IANA (or documented vendor) information-element name. */
export type Fields = Record<string, FieldValue>;

/** Where a record was observed: shared by all records of one set, so it costs one object per set. */
export interface Observation {
  /** Exporter identity: source address for live input and captures, `file` for raw export files. */
  readonly exporter: string;
  /** IPFIX observation domain id / NetFlow v9 source id / sFlow sub-agent; 0 for NetFlow v5. */
  readonly observationDomainId: number;
  /** Template the record was decoded with (256+ for v9/IPFIX, 0 for fixed formats). */
  readonly templateId: number;
  /** Export sequence number of the message the record came in (the protocol's own meaning). */
  readonly sequence: number;
  /** Export time of the message (epoch ms) from its header. */
  readonly exportTime: number;
}

/** One normalised flow (DESIGN section 2, `FlowRecord`). */
export interface FlowRecord {
  readonly recordType: 'flow';
  readonly protocol: RecordProtocol;
  readonly observation: Observation;
  /** Index of the record within its message; with `observation` it makes the record id. */
  readonly recordIndex: number;
  /**
   * Effective sampling interval (1 = unsampled): from the v5 header, v9/IPFIX options data per
   * sampler/selector id, the sFlow rate, or a per-exporter override. Counters stay as exported;
   * `scaled()` gives estimates.
   */
  samplingInterval: number;
  readonly fields: Fields;
}

/** An options data record (v9/IPFIX): scope fields identify what the option values describe. */
export interface OptionsRecord {
  readonly recordType: 'options';
  readonly protocol: RecordProtocol;
  readonly observation: Observation;
  readonly recordIndex: number;
  readonly scope: Fields;
  readonly fields: Fields;
}

/** A counter sample (sFlow) or similar interface statistics. */
export interface CountersRecord {
  readonly recordType: 'counters';
  readonly protocol: RecordProtocol;
  readonly observation: Observation;
  readonly recordIndex: number;
  readonly fields: Fields;
}

/** A DNS message's metadata (DESIGN section 2, `DnsEvent`). */
export interface DnsEvent {
  readonly recordType: 'dns';
  readonly protocol: RecordProtocol;
  readonly observation: Observation;
  readonly recordIndex: number;
  readonly fields: Fields;
}

/** Anything a decoder can produce. */
export type DecodedRecord = FlowRecord | OptionsRecord | CountersRecord | DnsEvent;

/** Counters scaled by the sampling interval: estimates of what really crossed the exporter. */
export function scaled(r: FlowRecord): { octets: number; packets: number; flows: number } {
  const s = r.samplingInterval > 0 ? r.samplingInterval : 1;
  const f = r.fields;
  const octets = typeof f.octetDeltaCount === 'number' ? f.octetDeltaCount : 0;
  const packets = typeof f.packetDeltaCount === 'number' ? f.packetDeltaCount : 0;
  return { octets: octets * s, packets: packets * s, flows: s };
}
