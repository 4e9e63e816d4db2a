/**
 * Named limits of the packet header decoder (CONVENTIONS habit 3). Every header walked is bounded by
 * one of these as well as by the bytes at hand, so a crafted frame cannot make the decoder loop.
 */

/**
 * 802.1Q / 802.1ad tags followed in one frame. Provider networks use two (QinQ), some three; more
 * is either a loop in a lab or an attempt to make the decoder walk the whole frame four bytes at a
 * time. Only the first two are reported (as vlanId and dot1qCustomerVlanId).
 */
export const MAX_VLAN_TAGS = 4;

/**
 * MPLS label stack entries popped before giving up. Real stacks hold 1-5 labels (transport, VPN,
 * entropy, segment routing); IANA names ten stack sections (mplsTopLabelStackSection and
 * mplsLabelStackSection2..10), so ten is both the reporting limit and the walking limit.
 */
export const MAX_MPLS_LABELS = 10;

/**
 * IPv6 extension headers walked before the upper-layer header. RFC 8200 recommends at most one of
 * each kind (about six); chains longer than this are an evasion technique, not traffic.
 */
export const MAX_IPV6_EXTENSION_HEADERS = 8;
