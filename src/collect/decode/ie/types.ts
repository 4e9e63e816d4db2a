/** Abstract data types of IPFIX information elements (RFC 7011 section 6.1, RFC 6313). */
export type IeDataType =
  | 'octetArray'
  | 'unsigned8'
  | 'unsigned16'
  | 'unsigned32'
  | 'unsigned64'
  /** Flag sets of draft-ietf-opsawg-ipfix-tcpo-v6eh (tcpOptionsFull, ...): up to 32 octets, reduced-size. */
  | 'unsigned256'
  | 'signed8'
  | 'signed16'
  | 'signed32'
  | 'signed64'
  | 'float32'
  | 'float64'
  | 'boolean'
  | 'macAddress'
  | 'string'
  | 'dateTimeSeconds'
  | 'dateTimeMilliseconds'
  | 'dateTimeMicroseconds'
  | 'dateTimeNanoseconds'
  | 'ipv4Address'
  | 'ipv6Address'
  | 'basicList'
  | 'subTemplateList'
  | 'subTemplateMultiList';

/** Data type semantics (RFC 7011 section 3.2 / IANA "IPFIX Information Element Semantics"). */
export type IeSemantics =
  | 'default'
  | 'quantity'
  | 'totalCounter'
  | 'deltaCounter'
  | 'identifier'
  | 'flags'
  | 'list'
  | 'snmpCounter'
  | 'snmpGauge';

/** One information element: IANA (enterprise 0) or a vendor's (private enterprise number). */
export interface IeDef {
  /** 0 for IANA elements; otherwise the vendor's private enterprise number. */
  readonly enterprise: number;
  readonly id: number;
  /** IANA name, or the vendor's documented name for vendor elements. */
  readonly name: string;
  readonly type: IeDataType;
  readonly semantics?: IeSemantics;
  readonly units?: string;
  /** Whether RFC 5103 allows a reverse counterpart (enterprise 29305, same id, name `reverse…`). */
  readonly reversible?: boolean;
  /** True when the registry marks the element deprecated; decoders still meet such elements. */
  readonly deprecated?: boolean;
}
