/**
 * The templates the simulated exporters use: one for IPv4 and one for IPv6 flows per format, plus
 * the sampling options template, shaped like those of common routers (5-tuple, counters, times,
 * interfaces, TCP flags, TOS, next hop, AS numbers, prefix lengths, TTL, ICMP, sampler reference).
 */
import type { EncodeFieldSpec, EncodeTemplate } from '../encode/types.ts';

/** Template ids (256 and up are data templates in both v9 and IPFIX). */
export const TEMPLATE_ID = { ipv4: 256, ipv6: 257, samplingOptions: 258 } as const;

const COMMON_TAIL: EncodeFieldSpec[] = [
  'protocolIdentifier',
  'tcpControlBits',
  'ipClassOfService',
  'sourceTransportPort',
  'destinationTransportPort',
  { name: 'ingressInterface', length: 4 },
  { name: 'egressInterface', length: 4 },
  { name: 'bgpSourceAsNumber', length: 4 },
  { name: 'bgpDestinationAsNumber', length: 4 },
  'minimumTTL',
  'maximumTTL',
];

/** IPFIX data template fields (absolute millisecond times, 64-bit counters, selectorId). */
export function ipfixFlowFields(v6: boolean): EncodeFieldSpec[] {
  return [
    v6 ? 'sourceIPv6Address' : 'sourceIPv4Address',
    v6 ? 'destinationIPv6Address' : 'destinationIPv4Address',
    v6 ? 'ipNextHopIPv6Address' : 'ipNextHopIPv4Address',
    v6 ? 'sourceIPv6PrefixLength' : 'sourceIPv4PrefixLength',
    v6 ? 'destinationIPv6PrefixLength' : 'destinationIPv4PrefixLength',
    'octetDeltaCount',
    'packetDeltaCount',
    'flowStartMilliseconds',
    'flowEndMilliseconds',
    ...COMMON_TAIL,
    v6 ? 'icmpTypeCodeIPv6' : 'icmpTypeCodeIPv4',
    'flowEndReason',
    { name: 'selectorId', length: 2 },
  ];
}

/** NetFlow v9 data template fields (sysUptime-relative times, 32-bit counters, samplerId). */
export function netflow9FlowFields(v6: boolean): EncodeFieldSpec[] {
  return [
    v6 ? 'sourceIPv6Address' : 'sourceIPv4Address',
    v6 ? 'destinationIPv6Address' : 'destinationIPv4Address',
    v6 ? 'ipNextHopIPv6Address' : 'ipNextHopIPv4Address',
    v6 ? 'sourceIPv6PrefixLength' : 'sourceIPv4PrefixLength',
    v6 ? 'destinationIPv6PrefixLength' : 'destinationIPv4PrefixLength',
    { name: 'octetDeltaCount', length: 4 },
    { name: 'packetDeltaCount', length: 4 },
    'flowStartSysUpTime',
    'flowEndSysUpTime',
    ...COMMON_TAIL,
    v6 ? 'icmpTypeCodeIPv6' : 'icmpTypeCodeIPv4',
    'samplerId',
  ];
}

/**
 * IPFIX sampling options (RFC 5476 PSAMP elements): scope selectorId; the selection is random
 * n-out-of-N (selectorAlgorithm 3) with samplingSize 1 and samplingPopulation N, and the older
 * samplingInterval N for collectors that only know that element.
 */
export const IPFIX_SAMPLING_OPTIONS: EncodeTemplate = {
  templateId: TEMPLATE_ID.samplingOptions,
  scopeCount: 1,
  fields: [
    { name: 'selectorId', length: 2 },
    'selectorAlgorithm',
    'samplingSize',
    'samplingPopulation',
    'samplingInterval',
  ],
};

/**
 * NetFlow v9 sampler options as Cisco routers send them: scope system, then samplerId,
 * samplerMode (2 = random) and samplerRandomInterval N.
 */
export const NETFLOW9_SAMPLING_OPTIONS: EncodeTemplate = {
  templateId: TEMPLATE_ID.samplingOptions,
  scopeCount: 1,
  fields: [{ name: 'scopeSystem', length: 4 }, 'samplerId', 'samplerMode', 'samplerRandomInterval'],
};
