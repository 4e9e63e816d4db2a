/**
 * Public surface of the DNS message parser (RFC 1035 + EDNS0): used by the dnstap decoder and by
 * the traffic-capture flow meter.
 */
export { parseDnsMessage } from './parse.ts';
export type {
  DnsEdns,
  DnsHeader,
  DnsMessage,
  DnsParseResult,
  DnsQuestion,
  DnsResourceRecord,
} from './parse.ts';
export { decodeDnsMessageToFields, messageToFields } from './fields.ts';
export { DnsParseError, type DnsMalformedReason } from './errors.ts';
export { DNS_TYPE, dnsOpcodeName, dnsRcodeName, dnsTypeName } from './names.ts';
export * from './limits.ts';
