/**
 * The output allow-list of R-SEL-2 and the schema check of selected records. Only the fields
 * named here ever leave the edge; every other field of a decoded record (reverse-DNS names,
 * payload or header bytes, MAC addresses, VLANs, next hops, BGP data, interface names, user names,
 * URLs, vendor fields, …) is dropped by construction, because selection copies fields by this list
 * instead of deleting known-bad ones. The schema check then rejects any record with a field
 * outside the list, a wrongly typed value or a missing provenance member.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { LEGAL_CHANNELS } from '../common/schema/legal.ts';
import type { SelectedRecord } from '../common/schema/selected.ts';

/**
 * Endpoint address fields. Never copied as they are: the engine writes them from the classified
 * (and, for domestic space, pseudonymised) endpoint.
 */
export const ADDRESS_FIELDS = [
  'sourceIPv4Address',
  'destinationIPv4Address',
  'sourceIPv6Address',
  'destinationIPv6Address',
] as const;

/** Flow fields kept as they are (R-SEL-2), IANA names. */
export const FLOW_FIELDS = [
  // ports and protocol
  'sourceTransportPort',
  'destinationTransportPort',
  'protocolIdentifier',
  // ICMP type/code: the port of ICMP (NetFlow v5 even carries it in the destination port)
  'icmpTypeCodeIPv4',
  'icmpTypeIPv4',
  'icmpCodeIPv4',
  'icmpTypeCodeIPv6',
  'icmpTypeIPv6',
  'icmpCodeIPv6',
  // times (all absolute epoch ms after decoding)
  'flowStartMilliseconds',
  'flowEndMilliseconds',
  'flowStartSeconds',
  'flowEndSeconds',
  'flowStartMicroseconds',
  'flowEndMicroseconds',
  'flowStartNanoseconds',
  'flowEndNanoseconds',
  'flowDurationMilliseconds',
  // byte/packet counts and their reverse counterparts (RFC 5103)
  'octetDeltaCount',
  'packetDeltaCount',
  'octetTotalCount',
  'packetTotalCount',
  'reverseOctetDeltaCount',
  'reversePacketDeltaCount',
  'reverseOctetTotalCount',
  'reversePacketTotalCount',
  // TCP flags and TTL range
  'tcpControlBits',
  'reverseTcpControlBits',
  'minimumTTL',
  'maximumTTL',
  'reverseMinimumTTL',
  'reverseMaximumTTL',
  // sampling, exporter and interface ids
  'samplingInterval',
  'observationDomainId',
  'ingressInterface',
  'egressInterface',
] as const;

/**
 * DNS fields kept (R-SEL-2: query name/type/rcode/answers), plus what says which of the two
 * messages of a transaction the event is (`dnsIsResponse`, dnstap's `dnsMessageType`) and its
 * times. Names go through `dns.ts` first (reverse-lookup names and e-mail-like names are
 * pseudonymised, PTR targets, i.e. reverse-DNS names, removed).
 */
export const DNS_FIELDS = [
  'sourceTransportPort',
  'destinationTransportPort',
  'protocolIdentifier',
  'eventTime',
  'dnsQueryTime',
  'dnsResponseTime',
  'dnsIsResponse',
  'dnsMessageType',
  'dnsQueryName',
  'dnsQueryType',
  'dnsQueryTypeName',
  'dnsResponseCode',
  'dnsResponseCodeName',
  'dnsAnswers',
] as const;

/** Every field name a selected record may carry. */
export const ALLOWED_FIELDS: ReadonlySet<string> = new Set<string>([
  ...ADDRESS_FIELDS,
  ...FLOW_FIELDS,
  ...DNS_FIELDS,
]);
/** Flow fields copied by value. */
export const FLOW_COPY: ReadonlySet<string> = new Set<string>(FLOW_FIELDS);
/** DNS fields copied (names transformed). */
export const DNS_COPY: ReadonlySet<string> = new Set<string>(DNS_FIELDS);

const Count = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]{16,20}$' })]);
const Num = Type.Number({ minimum: 0 });
const U8 = Type.Integer({ minimum: 0, maximum: 255 });
const U16 = Type.Integer({ minimum: 0, maximum: 0xffff });
const U32 = Type.Integer({ minimum: 0, maximum: 0xffffffff });
const V4 = Type.String({ pattern: '^[0-9]{1,3}(\\.[0-9]{1,3}){3}$' });
const V6 = Type.String({ pattern: '^[0-9a-f:.]{2,45}$' });
const Name = Type.String({ maxLength: 1100 });

const fieldTypes: Record<string, TSchema> = {
  sourceIPv4Address: V4,
  destinationIPv4Address: V4,
  sourceIPv6Address: V6,
  destinationIPv6Address: V6,
  sourceTransportPort: U16,
  destinationTransportPort: U16,
  protocolIdentifier: U8,
  icmpTypeCodeIPv4: U16,
  icmpTypeIPv4: U8,
  icmpCodeIPv4: U8,
  icmpTypeCodeIPv6: U16,
  icmpTypeIPv6: U8,
  icmpCodeIPv6: U8,
  flowStartMilliseconds: Num,
  flowEndMilliseconds: Num,
  flowStartSeconds: Num,
  flowEndSeconds: Num,
  flowStartMicroseconds: Num,
  flowEndMicroseconds: Num,
  flowStartNanoseconds: Num,
  flowEndNanoseconds: Num,
  flowDurationMilliseconds: Num,
  octetDeltaCount: Count,
  packetDeltaCount: Count,
  octetTotalCount: Count,
  packetTotalCount: Count,
  reverseOctetDeltaCount: Count,
  reversePacketDeltaCount: Count,
  reverseOctetTotalCount: Count,
  reversePacketTotalCount: Count,
  tcpControlBits: U16,
  reverseTcpControlBits: U16,
  minimumTTL: U8,
  maximumTTL: U8,
  reverseMinimumTTL: U8,
  reverseMaximumTTL: U8,
  samplingInterval: Type.Number({ minimum: 0 }),
  observationDomainId: U32,
  ingressInterface: U32,
  egressInterface: U32,
  eventTime: Num,
  dnsQueryTime: Num,
  dnsResponseTime: Num,
  dnsIsResponse: Type.Boolean(),
  dnsMessageType: Type.String({ pattern: '^[A-Z0-9_]{1,40}$' }),
  dnsQueryName: Name,
  dnsQueryType: U16,
  dnsQueryTypeName: Type.String({ pattern: '^[A-Z0-9-]{1,20}$' }),
  dnsResponseCode: Type.Integer({ minimum: 0, maximum: 4095 }),
  dnsResponseCodeName: Type.String({ pattern: '^[A-Za-z0-9-]{1,20}$' }),
  dnsAnswers: Type.Array(
    Type.Object(
      { name: Name, type: U16, ttl: U32, data: Type.Optional(Name) },
      { additionalProperties: false },
    ),
    { maxItems: 64 },
  ),
};

/** Schema of the allow-listed `fields` of a selected record: extra fields are rejected. */
export const SelectedFieldsSchema = Type.Object(
  Object.fromEntries([...ALLOWED_FIELDS].map((k) => [k, Type.Optional(fieldTypes[k]!)])),
  { additionalProperties: false },
);

const Endpoint = Type.Object(
  {
    country: Type.String({ pattern: '^[A-Z]{2}$' }),
    asn: U32,
    pseudonymised: Type.Boolean(),
  },
  { additionalProperties: false },
);

/** Schema of a whole selected record (DESIGN section 2, `SelectedRecord`). */
export const SelectedRecordSchema = Type.Object(
  {
    recordId: Type.String({ minLength: 1, maxLength: 300 }),
    recordType: Type.Union([Type.Literal('flow'), Type.Literal('dns')]),
    protocol: Type.String({ pattern: '^[a-z0-9]{1,16}$' }),
    fields: SelectedFieldsSchema,
    source: Endpoint,
    destination: Endpoint,
    provenance: Type.Object(
      {
        providerId: Type.String({ minLength: 1, maxLength: 128 }),
        feedId: Type.String({ minLength: 1, maxLength: 128 }),
        channel: Type.Union(LEGAL_CHANNELS.map((c) => Type.Literal(c))),
        approvalId: Type.String({ minLength: 1, maxLength: 128 }),
        selectorIds: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1 }),
        tableVersion: Type.String({ minLength: 1 }),
        parameterVersion: Type.String({ minLength: 1 }),
        keyEpoch: Type.Integer({ minimum: 1 }),
        selectedAt: Num,
        retainUntil: Num,
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
/** The checked shape. */
export type CheckedSelectedRecord = Static<typeof SelectedRecordSchema>;

const compiled = TypeCompiler.Compile(SelectedRecordSchema);

/** True when `r` is a complete selected record with allow-listed fields only (R-SEL-2). */
export function isValidSelectedRecord(r: unknown): r is SelectedRecord {
  return compiled.Check(r);
}

/**
 * The JSON pointer of the first problem of `r` (e.g. `/fields/sourceMacAddress`), or undefined
 * when it passes. Values are never included: they may be raw data.
 */
export function selectedRecordProblem(r: unknown): string | undefined {
  const first = compiled.Errors(r).First();
  return first ? first.path || '/' : undefined;
}
