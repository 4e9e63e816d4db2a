/**
 * The output edge of the packet decoder: turns a filled {@link PacketInfo} into IANA-named record
 * fields (strings are made here and only here).
 */
import type { Fields } from '../../../common/schema/index.ts';
import { ipv4String, ipv6At } from '../values.ts';
import type { PacketInfo } from './decode.ts';

/** Two lower-case hex digits per byte value. */
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** IANA names of the MPLS label stack sections, top first (elements 70-79). */
const MPLS_SECTION_NAMES: readonly string[] = [
  'mplsTopLabelStackSection',
  'mplsLabelStackSection2',
  'mplsLabelStackSection3',
  'mplsLabelStackSection4',
  'mplsLabelStackSection5',
  'mplsLabelStackSection6',
  'mplsLabelStackSection7',
  'mplsLabelStackSection8',
  'mplsLabelStackSection9',
  'mplsLabelStackSection10',
];

/** Lower-case colon-separated MAC address from its first two bytes and last four bytes. */
export function macString(hi: number, lo: number): string {
  return (
    HEX2[(hi >>> 8) & 255]! +
    ':' +
    HEX2[hi & 255]! +
    ':' +
    HEX2[(lo >>> 24) & 255]! +
    ':' +
    HEX2[(lo >>> 16) & 255]! +
    ':' +
    HEX2[(lo >>> 8) & 255]! +
    ':' +
    HEX2[lo & 255]!
  );
}

/** Scratch for IPv6 formatting: the words are laid out as bytes, then formatted (RFC 5952). */
const v6scratch = new Uint8Array(16);

/** RFC 5952 text of an IPv6 address held as four big-endian 32-bit words. */
export function ipv6WordsString(w: Uint32Array, at = 0): string {
  for (let i = 0; i < 4; i++) {
    const x = w[at + i]!;
    v6scratch[i * 4] = x >>> 24;
    v6scratch[i * 4 + 1] = (x >>> 16) & 255;
    v6scratch[i * 4 + 2] = (x >>> 8) & 255;
    v6scratch[i * 4 + 3] = x & 255;
  }
  return ipv6At(v6scratch, 0);
}

/**
 * MPLS label stack section as IANA defines it: the label, traffic class and bottom-of-stack bit
 * (the first three bytes of the entry, TTL excluded) as an octet array (lower-case hex).
 */
export function mplsSectionString(entry: number): string {
  return HEX2[(entry >>> 24) & 255]! + HEX2[(entry >>> 16) & 255]! + HEX2[(entry >>> 8) & 255]!;
}

/**
 * Adds the IANA fields of a decoded header to `f`: sourceMacAddress, destinationMacAddress,
 * ethernetType, vlanId/dot1qPriority (outer tag), dot1qCustomerVlanId/dot1qCustomerPriority (inner
 * tag), mplsTopLabelStackSection.., ipVersion, source/destinationIPv4Address or IPv6 variants,
 * protocolIdentifier, ipClassOfService, ipTTL, ipTotalLength, flowLabelIPv6, fragment fields (only
 * for fragments, fragmentFlags always for IPv4), ports, tcpControlBits, tcpSequenceNumber and
 * icmpTypeCodeIPv4/IPv6. Fields not reached are left out.
 */
export function packetFields(info: PacketInfo, f: Fields): void {
  if (info.hasEthernet) {
    f.sourceMacAddress = macString(info.srcMacHi, info.srcMacLo);
    f.destinationMacAddress = macString(info.dstMacHi, info.dstMacLo);
    if (info.etherType !== 0) f.ethernetType = info.etherType;
  }
  if (info.vlanCount > 0) {
    f.vlanId = info.vlanIds[0]!;
    f.dot1qPriority = info.vlanPriorities[0]!;
    if (info.vlanCount > 1) {
      f.dot1qCustomerVlanId = info.vlanIds[1]!;
      f.dot1qCustomerPriority = info.vlanPriorities[1]!;
    }
  }
  for (let i = 0; i < info.mplsCount; i++)
    f[MPLS_SECTION_NAMES[i]!] = mplsSectionString(info.mplsEntries[i]!);
  if (info.ipVersion === 0) return;
  f.ipVersion = info.ipVersion;
  if (info.ipVersion === 4) {
    f.sourceIPv4Address = ipv4String(info.src[0]!);
    f.destinationIPv4Address = ipv4String(info.dst[0]!);
    f.fragmentFlags = info.fragmentFlags;
  } else {
    f.sourceIPv6Address = ipv6WordsString(info.src);
    f.destinationIPv6Address = ipv6WordsString(info.dst);
    f.flowLabelIPv6 = info.flowLabel;
    if (info.isFragment) f.fragmentFlags = info.fragmentFlags;
  }
  f.protocolIdentifier = info.protocol;
  f.ipClassOfService = info.tos;
  f.ipTTL = info.ttl;
  f.ipTotalLength = info.ipTotalLength;
  if (info.isFragment) {
    f.fragmentIdentification = info.fragmentId;
    f.fragmentOffset = info.fragmentOffset;
  }
  if (info.hasPorts) {
    f.sourceTransportPort = info.srcPort;
    f.destinationTransportPort = info.dstPort;
  }
  if (info.hasTcpFlags) f.tcpControlBits = info.tcpFlags;
  if (info.hasTcpSequence) f.tcpSequenceNumber = info.tcpSequence;
  if (info.hasIcmp) {
    f[info.ipVersion === 4 ? 'icmpTypeCodeIPv4' : 'icmpTypeCodeIPv6'] = info.icmpType * 256 + info.icmpCode;
  }
}
