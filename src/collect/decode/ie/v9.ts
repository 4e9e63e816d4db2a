/**
 * NetFlow v9 field types (RFC 3954 section 8 and the vendor types real devices send), mapped to
 * information elements. IANA reserved ids 0-127 for NetFlow v9 compatibility, so an RFC 3954 type
 * and the IANA element with the same number mean the same thing; Cisco's later v9 types (128 and
 * up, e.g. the ASA's 225-233 and 323) are IANA ids as well. What needs a table is:
 *  - v9 types whose v9 encoding is wider than the IANA type (see V9_TYPE_OVERRIDES);
 *  - vendor types above 32767 (Cisco ASA/NSEL, TrustSec, Palo Alto, ntop nProbe), which IPFIX
 *    could never carry as plain ids. Where such a type has an IANA equivalent (the ASA 8.4
 *    "_84" NAT and event types) it maps to the IANA element so records use IANA names.
 * The RFC 3954 type names are kept as `v9Name` for documentation and debugging.
 */
import type { IeDataType, IeDef } from './types.ts';
import { IANA_IES } from './iana.ts';
import { NTOP_V9_BASE, PEN, VENDOR_IES_BY_VENDOR } from './vendors.ts';

/** One NetFlow v9 field type and what it decodes as. */
export interface V9Field {
  /** The v9 field type number as it appears in templates. */
  readonly type: number;
  /** The name the vendor (or RFC 3954) documents for the type. */
  readonly v9Name: string;
  /** The element records carry: an IANA element where one exists, else the vendor's. */
  readonly ie: IeDef;
}

const ianaById = new Map<number, IeDef>(IANA_IES.map((d) => [d.id, d]));

function iana(id: number): IeDef {
  const d = ianaById.get(id);
  // The table below only names ids that exist in the generated IANA table; the registry test
  // checks this, so a miss here is a programming error in this file, not bad input.
  if (!d) throw new Error(`v9 table names IANA element ${id}, which the IANA table lacks`);
  return d;
}

/** RFC 3954 section 8 names of the v9 types that share their number with an IANA element. */
export const RFC3954_NAMES: Readonly<Record<number, string>> = {
  1: 'IN_BYTES',
  2: 'IN_PKTS',
  3: 'FLOWS',
  4: 'PROTOCOL',
  5: 'SRC_TOS',
  6: 'TCP_FLAGS',
  7: 'L4_SRC_PORT',
  8: 'IPV4_SRC_ADDR',
  9: 'SRC_MASK',
  10: 'INPUT_SNMP',
  11: 'L4_DST_PORT',
  12: 'IPV4_DST_ADDR',
  13: 'DST_MASK',
  14: 'OUTPUT_SNMP',
  15: 'IPV4_NEXT_HOP',
  16: 'SRC_AS',
  17: 'DST_AS',
  18: 'BGP_IPV4_NEXT_HOP',
  19: 'MUL_DST_PKTS',
  20: 'MUL_DST_BYTES',
  21: 'LAST_SWITCHED',
  22: 'FIRST_SWITCHED',
  23: 'OUT_BYTES',
  24: 'OUT_PKTS',
  27: 'IPV6_SRC_ADDR',
  28: 'IPV6_DST_ADDR',
  29: 'IPV6_SRC_MASK',
  30: 'IPV6_DST_MASK',
  31: 'IPV6_FLOW_LABEL',
  32: 'ICMP_TYPE',
  33: 'MUL_IGMP_TYPE',
  34: 'SAMPLING_INTERVAL',
  35: 'SAMPLING_ALGORITHM',
  36: 'FLOW_ACTIVE_TIMEOUT',
  37: 'FLOW_INACTIVE_TIMEOUT',
  38: 'ENGINE_TYPE',
  39: 'ENGINE_ID',
  40: 'TOTAL_BYTES_EXP',
  41: 'TOTAL_PKTS_EXP',
  42: 'TOTAL_FLOWS_EXP',
  46: 'MPLS_TOP_LABEL_TYPE',
  47: 'MPLS_TOP_LABEL_IP_ADDR',
  48: 'FLOW_SAMPLER_ID',
  49: 'FLOW_SAMPLER_MODE',
  50: 'FLOW_SAMPLER_RANDOM_INTERVAL',
  55: 'DST_TOS',
  56: 'SRC_MAC',
  57: 'DST_MAC',
  58: 'SRC_VLAN',
  59: 'DST_VLAN',
  60: 'IP_PROTOCOL_VERSION',
  61: 'DIRECTION',
  62: 'IPV6_NEXT_HOP',
  63: 'BGP_IPV6_NEXT_HOP',
  64: 'IPV6_OPTION_HEADERS',
  70: 'MPLS_LABEL_1',
  71: 'MPLS_LABEL_2',
  72: 'MPLS_LABEL_3',
  73: 'MPLS_LABEL_4',
  74: 'MPLS_LABEL_5',
  75: 'MPLS_LABEL_6',
  76: 'MPLS_LABEL_7',
  77: 'MPLS_LABEL_8',
  78: 'MPLS_LABEL_9',
  79: 'MPLS_LABEL_10',
};

/**
 * v9 types whose v9 encoding does not fit the IANA element's type. FLOW_SAMPLER_ID (48) is one
 * octet in RFC 3954 but Cisco exporters send two or four (RFC 3954 errata), while IANA samplerId
 * is unsigned8; it is widened so such values are not rejected as malformed.
 */
export const V9_TYPE_OVERRIDES: Readonly<Record<number, IeDataType>> = {
  48: 'unsigned32',
};

function vendorDef(enterprise: number, type: number, name: string, dataType: IeDataType): IeDef {
  return { enterprise, id: type, name, type: dataType };
}

/** Vendor v9 field types (Cisco ASA/NSEL, Cisco TrustSec, Palo Alto PAN-OS, ntop nProbe). */
export const V9_VENDOR_FIELDS: readonly V9Field[] = [
  // Cisco ASA NetFlow Security Event Logging (NSEL). Types that equal IANA ids (148 NF_F_CONN_ID,
  // 152 NF_F_FLOW_CREATE_TIME_MSEC, 176-179 ICMP, 225-228 NF_F_XLATE_*, 231/232 NF_F_*_DELTA_BYTES,
  // 233 NF_F_FW_EVENT, 281/282 IPv6 XLATE, 323 NF_F_EVENT_TIME_MSEC) resolve through IANA directly.
  {
    type: 33000,
    v9Name: 'NF_F_INGRESS_ACL_ID',
    ie: vendorDef(PEN.cisco, 33000, 'NF_F_INGRESS_ACL_ID', 'octetArray'),
  },
  {
    type: 33001,
    v9Name: 'NF_F_EGRESS_ACL_ID',
    ie: vendorDef(PEN.cisco, 33001, 'NF_F_EGRESS_ACL_ID', 'octetArray'),
  },
  {
    type: 33002,
    v9Name: 'NF_F_FW_EXT_EVENT',
    ie: vendorDef(PEN.cisco, 33002, 'NF_F_FW_EXT_EVENT', 'unsigned16'),
  },
  { type: 40000, v9Name: 'NF_F_USERNAME', ie: vendorDef(PEN.cisco, 40000, 'NF_F_USERNAME', 'string') },
  // ASA 8.4 used private numbers for fields IANA later assigned; they carry the same values.
  { type: 40001, v9Name: 'NF_F_XLATE_SRC_ADDR_84', ie: iana(225) },
  { type: 40002, v9Name: 'NF_F_XLATE_DST_ADDR_84', ie: iana(226) },
  { type: 40003, v9Name: 'NF_F_XLATE_SRC_PORT_84', ie: iana(227) },
  { type: 40004, v9Name: 'NF_F_XLATE_DST_PORT_84', ie: iana(228) },
  { type: 40005, v9Name: 'NF_F_FW_EVENT_84', ie: iana(233) },
  // Cisco TrustSec security group tags.
  { type: 34000, v9Name: 'SGT_SOURCE_TAG', ie: vendorDef(PEN.cisco, 34000, 'SGT_SOURCE_TAG', 'unsigned16') },
  {
    type: 34001,
    v9Name: 'SGT_DESTINATION_TAG',
    ie: vendorDef(PEN.cisco, 34001, 'SGT_DESTINATION_TAG', 'unsigned16'),
  },
  { type: 34002, v9Name: 'SGT_SOURCE_NAME', ie: vendorDef(PEN.cisco, 34002, 'SGT_SOURCE_NAME', 'string') },
  {
    type: 34003,
    v9Name: 'SGT_DESTINATION_NAME',
    ie: vendorDef(PEN.cisco, 34003, 'SGT_DESTINATION_NAME', 'string'),
  },
  // Palo Alto PAN-OS: application (App-ID) and user (User-ID) names.
  ...VENDOR_IES_BY_VENDOR.paloAlto.map((d) => ({ type: d.id, v9Name: d.name, ie: d })),
  // ntop nProbe: NTOP_V9_BASE + the element's IPFIX id.
  ...VENDOR_IES_BY_VENDOR.ntop.map((d) => ({ type: NTOP_V9_BASE + d.id, v9Name: d.name, ie: d })),
];

const vendorByType = new Map<number, IeDef>(V9_VENDOR_FIELDS.map((f) => [f.type, f.ie]));
const overridden = new Map<number, IeDef>(
  Object.entries(V9_TYPE_OVERRIDES).map(([t, type]) => [Number(t), { ...iana(Number(t)), type }]),
);

/**
 * The element a v9 field type decodes as, or undefined when neither IANA nor a known vendor
 * defines it (the caller synthesises `ie<type>`).
 */
export function lookupV9(type: number): IeDef | undefined {
  return overridden.get(type) ?? vendorByType.get(type) ?? (type < 32768 ? ianaById.get(type) : undefined);
}
