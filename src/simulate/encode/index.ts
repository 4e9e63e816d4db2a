/**
 * Minimal NetFlow v5/v9 and IPFIX encoders for tests, benchmarks and the built-in demo sender.
 * Values are given as the decoder prints them (IANA names, addresses as strings, counters as
 * numbers), so encode -> decode round trips compare whole records.
 */
export { encodeIpfixMessage, type IpfixMessageInput } from './ipfix.ts';
export { encodeNetflow9Message, type Netflow9MessageInput } from './netflow9.ts';
export { encodeNetflow5Message, NETFLOW5_LAYOUT, type Netflow5MessageInput } from './netflow5.ts';
export type { EncodeSet, EncodeTemplate, EncodeFieldSpec, EncodeListSpec } from './types.ts';
export { EncodeError } from './errors.ts';
export { parseIpv6 } from './fields.ts';
