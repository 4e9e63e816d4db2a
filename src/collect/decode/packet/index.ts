/**
 * Public surface of the raw packet header decoder (sFlow sampled headers, capture frames).
 */
export {
  decodePacket,
  PacketInfo,
  PacketStart,
  PacketStatus,
  FRAGMENT_DF,
  FRAGMENT_MF,
  startFromLinkType,
  startFromSflowHeaderProtocol,
} from './decode.ts';
export type { PacketStatusCode } from './decode.ts';
export { packetFields, macString, ipv6WordsString, mplsSectionString } from './fields.ts';
export { MAX_IPV6_EXTENSION_HEADERS, MAX_MPLS_LABELS, MAX_VLAN_TAGS } from './limits.ts';
