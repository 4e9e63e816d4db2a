/**
 * Vendor (enterprise-specific) IPFIX information elements, with the private enterprise numbers
 * and the names and types the vendors document. Where each list comes from, and how many
 * elements it holds, is recorded in README.md beside this file.
 *
 * Names are the vendor's documented names. Where a documented name would collide with an IANA
 * name or another vendor's name, the vendor's short name is prefixed (README lists the rule), so
 * that every name identifies exactly one (enterprise, id) and NDJSON keys never clash.
 */
import type { IeDataType, IeDef, IeSemantics } from './types.ts';

/** Private enterprise numbers of the vendors whose elements are known here. */
export const PEN = {
  cisco: 9,
  nokia: 637,
  juniper: 2636,
  netscaler: 5951,
  vmware: 6876,
  fortinet: 12356,
  paloAlto: 25461,
  ntop: 35632,
} as const;

/** Extra properties of an element definition, all optional. */
interface Extra {
  readonly semantics?: IeSemantics;
  readonly units?: string;
}

function el(enterprise: number, id: number, name: string, type: IeDataType, extra: Extra = {}): IeDef {
  return { enterprise, id, name, type, ...extra };
}

const ms = { units: 'milliseconds' } as const;
const us = { units: 'microseconds' } as const;
const idf = { semantics: 'identifier' } as const;
const dc = { semantics: 'deltaCounter' } as const;

/**
 * Cisco (PEN 9): AVC / Application Response Time metrics, NBAR application attributes
 * (category, sub-category, group, business relevance, HTTP host) and client/server keys.
 * NBAR application ids and names themselves travel in IANA applicationId (95) and
 * applicationName (96); ASA/NSEL firewall events are NetFlow v9 types and live in v9.ts.
 */
const CISCO: readonly IeDef[] = [
  el(9, 4315, 'tcpWindowSizeMin', 'unsigned32', { units: 'octets' }),
  el(9, 4316, 'tcpWindowSizeMax', 'unsigned32', { units: 'octets' }),
  el(9, 4318, 'tcpMaximumSegmentSize', 'unsigned16', { units: 'octets' }),
  el(9, 4324, 'tcpWindowSizeSum', 'unsigned64', { units: 'octets' }),
  el(9, 8232, 'classHierarchy', 'octetArray', idf),
  el(9, 8337, 'serverBytesNetwork', 'unsigned64', { units: 'octets' }),
  el(9, 8338, 'clientBytesNetwork', 'unsigned64', { units: 'octets' }),
  el(9, 9252, 'servicesWaasSegment', 'unsigned8', idf),
  el(9, 9253, 'servicesWaasPassThroughReason', 'unsigned8', idf),
  el(9, 9267, 'clientRetransBytes', 'unsigned32', { ...dc, units: 'octets' }),
  el(9, 9268, 'clientRetransPackets', 'unsigned32', { ...dc, units: 'packets' }),
  el(9, 9269, 'serverRetransBytes', 'unsigned32', { ...dc, units: 'octets' }),
  el(9, 9270, 'serverRetransPackets', 'unsigned32', { ...dc, units: 'packets' }),
  el(9, 9272, 'transactionCountDelta', 'unsigned32', dc),
  el(9, 9273, 'sumTransactionTime', 'unsigned32', ms),
  el(9, 9274, 'maxTransactionTime', 'unsigned32', ms),
  el(9, 9275, 'minTransactionTime', 'unsigned32', ms),
  el(9, 9292, 'numRespsCountDelta', 'unsigned32', dc),
  el(9, 9293, 'numResps1CountDelta', 'unsigned32', dc),
  el(9, 9294, 'numResps2CountDelta', 'unsigned32', dc),
  el(9, 9295, 'numResps3CountDelta', 'unsigned32', dc),
  el(9, 9296, 'numResps4CountDelta', 'unsigned32', dc),
  el(9, 9297, 'numResps5CountDelta', 'unsigned32', dc),
  el(9, 9298, 'numResps6CountDelta', 'unsigned32', dc),
  el(9, 9299, 'numResps7CountDelta', 'unsigned32', dc),
  el(9, 9300, 'numLateRespsCountDelta', 'unsigned32', dc),
  el(9, 9303, 'sumRespTime', 'unsigned32', ms),
  el(9, 9304, 'maxRespTime', 'unsigned32', ms),
  el(9, 9305, 'minRespTime', 'unsigned32', ms),
  el(9, 9306, 'sumServerRespTime', 'unsigned32', ms),
  el(9, 9307, 'maxServerRespTime', 'unsigned32', ms),
  el(9, 9308, 'minServerRespTime', 'unsigned32', ms),
  el(9, 9309, 'sumTotalRespTime', 'unsigned32', ms),
  el(9, 9310, 'maxTotalRespTime', 'unsigned32', ms),
  el(9, 9311, 'minTotalRespTime', 'unsigned32', ms),
  el(9, 9313, 'sumNwkTime', 'unsigned32', ms),
  el(9, 9314, 'maxNwkTime', 'unsigned32', ms),
  el(9, 9315, 'minNwkTime', 'unsigned32', ms),
  el(9, 9316, 'sumClientNwkTime', 'unsigned32', ms),
  el(9, 9317, 'maxClientNwkTime', 'unsigned32', ms),
  el(9, 9318, 'minClientNwkTime', 'unsigned32', ms),
  el(9, 9319, 'sumServerNwkTime', 'unsigned32', ms),
  el(9, 9320, 'maxServerNwkTime', 'unsigned32', ms),
  el(9, 9321, 'minServerNwkTime', 'unsigned32', ms),
  el(9, 9357, 'appHTTPUriStatistics', 'string'),
  el(9, 9360, 'policyQosQueueID', 'unsigned32', idf),
  el(9, 9361, 'policyQosQueueDrop', 'unsigned64', dc),
  el(9, 12232, 'appCategoryName', 'string'),
  el(9, 12233, 'appSubCategoryName', 'string'),
  el(9, 12234, 'appGroupName', 'string'),
  el(9, 12235, 'appHTTPHost', 'string'),
  el(9, 12236, 'clientIPv4Address', 'ipv4Address', idf),
  el(9, 12237, 'serverIPv4Address', 'ipv4Address', idf),
  el(9, 12238, 'clientIPv6Address', 'ipv6Address', idf),
  el(9, 12239, 'serverIPv6Address', 'ipv6Address', idf),
  el(9, 12240, 'clientTransportPort', 'unsigned16', idf),
  el(9, 12241, 'serverTransportPort', 'unsigned16', idf),
  el(9, 12242, 'ciscoConnectionId', 'unsigned32', idf),
  el(9, 12244, 'appBusiness', 'string'),
];

/** Nokia / Alcatel-Lucent (PEN 637): NAT logging elements of the 7750 SR (ISA/ESA). */
const NOKIA: readonly IeDef[] = [
  el(637, 91, 'aluInsideServiceID', 'unsigned16', idf),
  el(637, 92, 'aluOutsideServiceID', 'unsigned16', idf),
  el(637, 93, 'aluNatSubString', 'string'),
];

/**
 * Juniper (PEN 2636): the common-properties id of Junos inline monitoring, and the Junos
 * TDF/LRF logging dictionary elements. LRF names are the documented field names in lowerCamelCase
 * with a `juniper` prefix (several, e.g. "Flow ID" and "User Agent", collide with IANA names).
 */
const JUNIPER: readonly IeDef[] = [
  el(2636, 107, 'juniperFlowId', 'unsigned32', idf),
  el(2636, 137, 'juniperCommonPropertiesId', 'unsigned64', idf),
  el(2636, 152, 'juniperHttpUserAgent', 'string'),
  el(2636, 154, 'juniperHttpRequestContentLength', 'unsigned32', { units: 'octets' }),
  el(2636, 155, 'juniperHttpResponseCode', 'unsigned16', idf),
  el(2636, 156, 'juniperHttpLanguage', 'string'),
  el(2636, 157, 'juniperHttpHost', 'string'),
  el(2636, 158, 'juniperHttpLocation', 'string'),
  el(2636, 159, 'juniperHttpMethod', 'string'),
  el(2636, 160, 'juniperHttpReferer', 'string'),
  el(2636, 502, 'juniperTdfGatewayIPv4Address', 'ipv4Address'),
  el(2636, 503, 'juniperDpiEngineVersion', 'string'),
  el(2636, 876, 'juniperDnsResponseTime', 'dateTimeMilliseconds', ms),
];

/** Citrix NetScaler / ADC AppFlow (PEN 5951). */
const NETSCALER: readonly IeDef[] = [
  el(5951, 128, 'netscalerRoundTripTime', 'unsigned32', { semantics: 'quantity', ...ms }),
  el(5951, 129, 'netscalerTransactionId', 'unsigned32', idf),
  el(5951, 130, 'netscalerHttpReqUrl', 'string'),
  el(5951, 131, 'netscalerHttpReqCookie', 'string'),
  el(5951, 132, 'netscalerFlowFlags', 'unsigned64', { semantics: 'flags' }),
  el(5951, 133, 'netscalerConnectionId', 'unsigned32', idf),
  el(5951, 134, 'netscalerSyslogPriority', 'unsigned8', idf),
  el(5951, 135, 'netscalerSyslogMessage', 'string'),
  el(5951, 136, 'netscalerSyslogTimestamp', 'dateTimeMilliseconds', ms),
  el(5951, 140, 'netscalerHttpReqReferer', 'string'),
  el(5951, 141, 'netscalerHttpReqMethod', 'string'),
  el(5951, 142, 'netscalerHttpReqHost', 'string'),
  el(5951, 143, 'netscalerHttpReqUserAgent', 'string'),
  el(5951, 144, 'netscalerHttpRspStatus', 'unsigned16', idf),
  el(5951, 145, 'netscalerHttpRspLen', 'unsigned64', { semantics: 'quantity', units: 'octets' }),
  el(5951, 146, 'netscalerServerTTFB', 'unsigned64', { semantics: 'quantity', ...us }),
  el(5951, 147, 'netscalerServerTTLB', 'unsigned64', { semantics: 'quantity', ...us }),
  el(5951, 150, 'netscalerAppNameIncarnationNumber', 'unsigned32', idf),
  el(5951, 151, 'netscalerAppNameAppId', 'unsigned32', idf),
  el(5951, 152, 'netscalerAppName', 'string'),
  el(5951, 153, 'netscalerHttpReqRcvFB', 'dateTimeMicroseconds', us),
  el(5951, 156, 'netscalerHttpReqForwFB', 'dateTimeMicroseconds', us),
  el(5951, 157, 'netscalerHttpResRcvFB', 'dateTimeMicroseconds', us),
  el(5951, 158, 'netscalerHttpResForwFB', 'dateTimeMicroseconds', us),
  el(5951, 159, 'netscalerHttpReqRcvLB', 'dateTimeMicroseconds', us),
  el(5951, 160, 'netscalerHttpReqForwLB', 'dateTimeMicroseconds', us),
  el(5951, 161, 'netscalerMainPageId', 'unsigned32', idf),
  el(5951, 162, 'netscalerMainPageCoreId', 'unsigned32', idf),
  el(5951, 163, 'netscalerHttpClientInteractionStartTime', 'string'),
  el(5951, 164, 'netscalerHttpClientRenderEndTime', 'string'),
  el(5951, 165, 'netscalerHttpClientRenderStartTime', 'string'),
  el(5951, 167, 'netscalerAppTemplateName', 'string'),
  el(5951, 168, 'netscalerHttpClientInteractionEndTime', 'string'),
  el(5951, 169, 'netscalerHttpResRcvLB', 'dateTimeMicroseconds', us),
  el(5951, 170, 'netscalerHttpResForwLB', 'dateTimeMicroseconds', us),
  el(5951, 171, 'netscalerAppUnitNameAppId', 'unsigned32', idf),
  el(5951, 172, 'netscalerDbLoginFlags', 'unsigned32', { semantics: 'flags' }),
  el(5951, 173, 'netscalerDbReqType', 'unsigned8', idf),
  el(5951, 174, 'netscalerDbProtocolName', 'unsigned8', idf),
  el(5951, 175, 'netscalerDbUserName', 'string'),
  el(5951, 176, 'netscalerDbDatabaseName', 'string'),
  el(5951, 177, 'netscalerDbCltHostName', 'string'),
  el(5951, 178, 'netscalerDbReqString', 'string'),
  el(5951, 179, 'netscalerDbRespStatusString', 'string'),
  el(5951, 180, 'netscalerDbRespStatus', 'unsigned64'),
  el(5951, 181, 'netscalerDbRespLength', 'unsigned64', { units: 'octets' }),
  el(5951, 182, 'netscalerClientRTT', 'unsigned32'),
  el(5951, 183, 'netscalerHttpContentType', 'string'),
  el(5951, 185, 'netscalerHttpReqAuthorization', 'string'),
  el(5951, 186, 'netscalerHttpReqVia', 'string'),
  el(5951, 187, 'netscalerHttpResLocation', 'string'),
  el(5951, 188, 'netscalerHttpResSetCookie', 'string'),
  el(5951, 189, 'netscalerHttpResSetCookie2', 'string'),
  el(5951, 190, 'netscalerHttpReqXForwardedFor', 'string'),
  el(5951, 192, 'netscalerConnectionChainID', 'octetArray', idf),
  el(5951, 193, 'netscalerConnectionChainHopCount', 'unsigned8'),
  el(5951, 200, 'netscalerIcaSessionGuid', 'octetArray', idf),
  el(5951, 201, 'netscalerIcaClientVersion', 'string'),
  el(5951, 202, 'netscalerIcaClientType', 'unsigned16', idf),
  el(5951, 203, 'netscalerIcaClientIP', 'ipv4Address'),
  el(5951, 204, 'netscalerIcaClientHostName', 'string'),
  el(5951, 205, 'netscalerAaaUsername', 'string'),
  el(5951, 207, 'netscalerIcaDomainName', 'string'),
  el(5951, 208, 'netscalerIcaClientLauncher', 'unsigned16', idf),
  el(5951, 209, 'netscalerIcaSessionSetupTime', 'unsigned32'),
  el(5951, 210, 'netscalerIcaServerName', 'string'),
  el(5951, 214, 'netscalerIcaSessionReconnects', 'unsigned8'),
  el(5951, 215, 'netscalerIcaRTT', 'unsigned32'),
  el(5951, 216, 'netscalerIcaClientsideRXBytes', 'unsigned32', { units: 'octets' }),
  el(5951, 217, 'netscalerIcaClientsideTXBytes', 'unsigned32', { units: 'octets' }),
  el(5951, 219, 'netscalerIcaClientsidePacketsRetransmit', 'unsigned16', { units: 'packets' }),
  el(5951, 220, 'netscalerIcaServersidePacketsRetransmit', 'unsigned16', { units: 'packets' }),
  el(5951, 221, 'netscalerIcaClientsideRTT', 'unsigned32'),
  el(5951, 222, 'netscalerIcaServersideRTT', 'unsigned32'),
  el(5951, 223, 'netscalerIcaSessionUpdateBeginSec', 'unsigned32'),
  el(5951, 224, 'netscalerIcaSessionUpdateEndSec', 'unsigned32'),
  el(5951, 225, 'netscalerIcaChannelId1', 'unsigned32', idf),
  el(5951, 226, 'netscalerIcaChannelId1Bytes', 'unsigned32', { units: 'octets' }),
  el(5951, 227, 'netscalerIcaChannelId2', 'unsigned32', idf),
  el(5951, 228, 'netscalerIcaChannelId2Bytes', 'unsigned32', { units: 'octets' }),
  el(5951, 229, 'netscalerIcaChannelId3', 'unsigned32', idf),
  el(5951, 230, 'netscalerIcaChannelId3Bytes', 'unsigned32', { units: 'octets' }),
  el(5951, 231, 'netscalerIcaChannelId4', 'unsigned32', idf),
  el(5951, 232, 'netscalerIcaChannelId4Bytes', 'unsigned32', { units: 'octets' }),
  el(5951, 233, 'netscalerIcaChannelId5', 'unsigned32', idf),
  el(5951, 234, 'netscalerIcaChannelId5Bytes', 'unsigned32', { units: 'octets' }),
  el(5951, 235, 'netscalerIcaConnectionPriority', 'unsigned16'),
  el(5951, 236, 'netscalerApplicationStartupDuration', 'unsigned32'),
  el(5951, 237, 'netscalerIcaLaunchMechanism', 'unsigned16', idf),
  el(5951, 238, 'netscalerIcaApplicationName', 'string'),
  el(5951, 239, 'netscalerApplicationStartupTime', 'unsigned32'),
  el(5951, 240, 'netscalerIcaApplicationTerminationType', 'unsigned16', idf),
  el(5951, 241, 'netscalerIcaApplicationTerminationTime', 'unsigned32'),
  el(5951, 242, 'netscalerIcaSessionEndTime', 'unsigned32'),
  el(5951, 243, 'netscalerIcaClientsideJitter', 'unsigned32'),
  el(5951, 244, 'netscalerIcaServersideJitter', 'unsigned32'),
  el(5951, 245, 'netscalerIcaAppProcessID', 'unsigned32', idf),
  el(5951, 246, 'netscalerIcaAppModulePath', 'string'),
  el(5951, 247, 'netscalerIcaDeviceSerialNo', 'unsigned32', idf),
  el(5951, 248, 'netscalerMsiClientCookie', 'octetArray'),
  el(5951, 249, 'netscalerIcaFlags', 'unsigned64', { semantics: 'flags' }),
  el(5951, 250, 'netscalerIcaUsername', 'string'),
  el(5951, 251, 'netscalerLicenseType', 'unsigned8', idf),
  el(5951, 252, 'netscalerMaxLicenseCount', 'unsigned64'),
  el(5951, 253, 'netscalerCurrentLicenseConsumed', 'unsigned64'),
  el(5951, 254, 'netscalerIcaNetworkUpdateStartTime', 'unsigned32'),
  el(5951, 255, 'netscalerIcaNetworkUpdateEndTime', 'unsigned32'),
  el(5951, 256, 'netscalerIcaClientsideSRTT', 'unsigned32'),
  el(5951, 257, 'netscalerIcaServersideSRTT', 'unsigned32'),
  el(5951, 258, 'netscalerIcaClientsideDelay', 'unsigned32'),
  el(5951, 259, 'netscalerIcaServersideDelay', 'unsigned32'),
  el(5951, 260, 'netscalerIcaHostDelay', 'unsigned32'),
  el(5951, 261, 'netscalerIcaClientSideWindowSize', 'unsigned16'),
  el(5951, 262, 'netscalerIcaServerSideWindowSize', 'unsigned16'),
  el(5951, 263, 'netscalerIcaClientSideRTOCount', 'unsigned16'),
  el(5951, 264, 'netscalerIcaServerSideRTOCount', 'unsigned16'),
  el(5951, 265, 'netscalerIcaL7ClientLatency', 'unsigned32'),
  el(5951, 266, 'netscalerIcaL7ServerLatency', 'unsigned32'),
  el(5951, 267, 'netscalerHttpDomainName', 'string'),
  el(5951, 268, 'netscalerCacheRedirClientConnectionCoreID', 'unsigned32', idf),
  el(5951, 269, 'netscalerCacheRedirClientConnectionTransactionID', 'unsigned32', idf),
];

/** VMware vSphere Distributed Switch / NSX (PEN 6876): overlay tenant keys and port attributes. */
const VMWARE: readonly IeDef[] = [
  el(6876, 880, 'tenantProtocol', 'unsigned8', idf),
  el(6876, 881, 'tenantSourceIPv4', 'ipv4Address'),
  el(6876, 882, 'tenantDestIPv4', 'ipv4Address'),
  el(6876, 883, 'tenantSourceIPv6', 'ipv6Address'),
  el(6876, 884, 'tenantDestIPv6', 'ipv6Address'),
  el(6876, 886, 'tenantSourcePort', 'unsigned16', idf),
  el(6876, 887, 'tenantDestPort', 'unsigned16', idf),
  el(6876, 888, 'egressInterfaceAttr', 'unsigned16', idf),
  el(6876, 889, 'vxlanExportRole', 'unsigned8', idf),
  el(6876, 890, 'ingressInterfaceAttr', 'unsigned16', idf),
];

/**
 * Palo Alto Networks (PEN 25461). PAN-OS exports NetFlow v9 only; its two enterprise fields are
 * v9 field types above 32767 (so they cannot be IPFIX element ids) and are looked up by
 * `ieForV9`. They are listed here with the vendor's PEN for provenance.
 */
const PALO_ALTO: readonly IeDef[] = [
  el(25461, 56701, 'APPID', 'string'),
  el(25461, 56702, 'USERID', 'string'),
];

/** v9 field type of an ntop element: nProbe puts its elements above NTOP_BASE so they never collide with IANA ids. */
export const NTOP_V9_BASE = 57472;

/**
 * ntop nProbe (PEN 35632). In IPFIX the element id is N with PEN 35632; in NetFlow v9 the field
 * type is NTOP_V9_BASE + N. Names as nProbe documents them (its "%NAME" template keys).
 */
const NTOP_FIELDS: ReadonlyArray<readonly [number, string, IeDataType, Extra?]> = [
  [80, 'SRC_FRAGMENTS', 'unsigned16', { units: 'packets' }],
  [81, 'DST_FRAGMENTS', 'unsigned16', { units: 'packets' }],
  [82, 'SRC_TO_DST_MAX_THROUGHPUT', 'unsigned32'],
  [83, 'SRC_TO_DST_MIN_THROUGHPUT', 'unsigned32'],
  [84, 'SRC_TO_DST_AVG_THROUGHPUT', 'unsigned32'],
  [85, 'SRC_TO_SRC_MAX_THROUGHPUT', 'unsigned32'],
  [86, 'SRC_TO_SRC_MIN_THROUGHPUT', 'unsigned32'],
  [87, 'SRC_TO_SRC_AVG_THROUGHPUT', 'unsigned32'],
  [88, 'NUM_PKTS_UP_TO_128_BYTES', 'unsigned32', { units: 'packets' }],
  [89, 'NUM_PKTS_128_TO_256_BYTES', 'unsigned32', { units: 'packets' }],
  [90, 'NUM_PKTS_256_TO_512_BYTES', 'unsigned32', { units: 'packets' }],
  [91, 'NUM_PKTS_512_TO_1024_BYTES', 'unsigned32', { units: 'packets' }],
  [92, 'NUM_PKTS_1024_TO_1514_BYTES', 'unsigned32', { units: 'packets' }],
  [93, 'NUM_PKTS_OVER_1514_BYTES', 'unsigned32', { units: 'packets' }],
  [98, 'CUMULATIVE_ICMP_TYPE', 'unsigned16', idf],
  [101, 'SRC_IP_COUNTRY', 'string'],
  [102, 'SRC_IP_CITY', 'string'],
  [103, 'DST_IP_COUNTRY', 'string'],
  [104, 'DST_IP_CITY', 'string'],
  [105, 'FLOW_PROTO_PORT', 'unsigned16', idf],
  [106, 'UPSTREAM_TUNNEL_ID', 'unsigned32', idf],
  [107, 'LONGEST_FLOW_PKT', 'unsigned16', { units: 'octets' }],
  [108, 'SHORTEST_FLOW_PKT', 'unsigned16', { units: 'octets' }],
  [109, 'RETRANSMITTED_IN_PKTS', 'unsigned32', { units: 'packets' }],
  [110, 'RETRANSMITTED_OUT_PKTS', 'unsigned32', { units: 'packets' }],
  [111, 'OOORDER_IN_PKTS', 'unsigned32', { units: 'packets' }],
  [112, 'OOORDER_OUT_PKTS', 'unsigned32', { units: 'packets' }],
  [113, 'UNTUNNELED_PROTOCOL', 'unsigned8', idf],
  [114, 'UNTUNNELED_IPV4_SRC_ADDR', 'ipv4Address'],
  [115, 'UNTUNNELED_L4_SRC_PORT', 'unsigned16', idf],
  [116, 'UNTUNNELED_IPV4_DST_ADDR', 'ipv4Address'],
  [117, 'UNTUNNELED_L4_DST_PORT', 'unsigned16', idf],
  [118, 'L7_PROTO', 'unsigned16', idf],
  [119, 'L7_PROTO_NAME', 'string'],
  [120, 'DOWNSTREAM_TUNNEL_ID', 'unsigned32', idf],
  [121, 'FLOW_USER_NAME', 'string'],
  [122, 'FLOW_SERVER_NAME', 'string'],
  [123, 'CLIENT_NW_LATENCY_MS', 'unsigned32', ms],
  [124, 'SERVER_NW_LATENCY_MS', 'unsigned32', ms],
  [125, 'APPL_LATENCY_MS', 'unsigned32', ms],
  [126, 'PLUGIN_NAME', 'string'],
  [127, 'RETRANSMITTED_IN_BYTES', 'unsigned32', { units: 'octets' }],
  [128, 'RETRANSMITTED_OUT_BYTES', 'unsigned32', { units: 'octets' }],
  [130, 'SIP_CALL_ID', 'string'],
  [131, 'SIP_CALLING_PARTY', 'string'],
  [132, 'SIP_CALLED_PARTY', 'string'],
  [133, 'SIP_RTP_CODECS', 'string'],
  [143, 'SIP_RTP_IPV4_SRC_ADDR', 'ipv4Address'],
  [144, 'SIP_RTP_L4_SRC_PORT', 'unsigned16', idf],
  [145, 'SIP_RTP_IPV4_DST_ADDR', 'ipv4Address'],
  [146, 'SIP_RTP_L4_DST_PORT', 'unsigned16', idf],
  [147, 'SIP_RESPONSE_CODE', 'unsigned32', idf],
  [148, 'SIP_REASON_CAUSE', 'unsigned32', idf],
  [168, 'SRC_PROC_PID', 'unsigned32', idf],
  [169, 'SRC_PROC_NAME', 'string'],
  [180, 'HTTP_URL', 'string'],
  [181, 'HTTP_RET_CODE', 'unsigned16', idf],
  [182, 'HTTP_REFERER', 'string'],
  [183, 'HTTP_UA', 'string'],
  [184, 'HTTP_MIME', 'string'],
  [185, 'SMTP_MAIL_FROM', 'string'],
  [186, 'SMTP_RCPT_TO', 'string'],
  [187, 'HTTP_HOST', 'string'],
  [188, 'SSL_SERVER_NAME', 'string'],
  [189, 'BITTORRENT_HASH', 'string'],
  [195, 'MYSQL_SRV_VERSION', 'string'],
  [196, 'MYSQL_USERNAME', 'string'],
  [197, 'MYSQL_DB', 'string'],
  [198, 'MYSQL_QUERY', 'string'],
  [199, 'MYSQL_RESPONSE', 'unsigned16', idf],
  [200, 'ORACLE_USERNAME', 'string'],
  [201, 'ORACLE_QUERY', 'string'],
  [202, 'ORACLE_RSP_CODE', 'unsigned16', idf],
  [203, 'ORACLE_RSP_STRING', 'string'],
  [204, 'ORACLE_QUERY_DURATION', 'unsigned32', ms],
  [205, 'DNS_QUERY', 'string'],
  [206, 'DNS_QUERY_ID', 'unsigned16', idf],
  [207, 'DNS_QUERY_TYPE', 'unsigned8', idf],
  [208, 'DNS_RET_CODE', 'unsigned8', idf],
  [209, 'DNS_NUM_ANSWERS', 'unsigned8'],
  [210, 'POP_USER', 'string'],
  [242, 'RADIUS_USER_NAME', 'string'],
  [245, 'RADIUS_NAS_IP_ADDR', 'ipv4Address'],
  [249, 'RADIUS_FRAMED_IP_ADDR', 'ipv4Address'],
  [260, 'IMAP_LOGIN', 'string'],
  [352, 'DNS_TTL_ANSWER', 'unsigned32', { units: 'seconds' }],
  [353, 'DHCP_CLIENT_MAC', 'macAddress'],
  [354, 'DHCP_CLIENT_IP', 'ipv4Address'],
  [355, 'DHCP_CLIENT_NAME', 'string'],
  [356, 'FTP_LOGIN', 'string'],
  [357, 'FTP_PASSWORD', 'string'],
  [358, 'FTP_COMMAND', 'string'],
  [359, 'FTP_COMMAND_RET_CODE', 'unsigned16', idf],
  [360, 'HTTP_METHOD', 'string'],
  [361, 'HTTP_SITE', 'string'],
  [396, 'UNTUNNELED_IPV6_SRC_ADDR', 'ipv6Address'],
  [397, 'UNTUNNELED_IPV6_DST_ADDR', 'ipv6Address'],
  [398, 'DNS_RESPONSE', 'string'],
  [415, 'TCP_WIN_MIN_IN', 'unsigned16'],
  [416, 'TCP_WIN_MAX_IN', 'unsigned16'],
  [417, 'TCP_WIN_MSS_IN', 'unsigned16'],
  [418, 'TCP_WIN_SCALE_IN', 'unsigned8'],
  [419, 'TCP_WIN_MIN_OUT', 'unsigned16'],
  [420, 'TCP_WIN_MAX_OUT', 'unsigned16'],
  [421, 'TCP_WIN_MSS_OUT', 'unsigned16'],
  [422, 'TCP_WIN_SCALE_OUT', 'unsigned8'],
  [460, 'HTTP_X_FORWARDED_FOR', 'string'],
  [461, 'HTTP_VIA', 'string'],
  [471, 'NPROBE_IPV4_ADDRESS', 'ipv4Address'],
];

const NTOP: readonly IeDef[] = NTOP_FIELDS.map(([id, name, type, extra]) =>
  el(PEN.ntop, id, name, type, extra),
);

/**
 * Fortinet (PEN 12356): FortiOS NetFlow v9 / IPFIX templates carry only IANA / RFC 3954 field
 * types (application ids and names in 95/96/94/372), so there are no enterprise elements to list;
 * FortiGate exports are fully named through the IANA table.
 */
const FORTINET: readonly IeDef[] = [];

/** Vendor elements grouped by vendor, for documentation and tests. */
export const VENDOR_IES_BY_VENDOR: Readonly<Record<keyof typeof PEN, readonly IeDef[]>> = {
  cisco: CISCO,
  nokia: NOKIA,
  juniper: JUNIPER,
  netscaler: NETSCALER,
  vmware: VMWARE,
  fortinet: FORTINET,
  paloAlto: PALO_ALTO,
  ntop: NTOP,
};

/** All vendor IPFIX elements, keyed by (enterprise, id) in the registry. */
export const VENDOR_IES: readonly IeDef[] = Object.values(VENDOR_IES_BY_VENDOR).flat();
