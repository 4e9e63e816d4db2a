/**
 * Special-purpose address space (RFC 6890 and the IANA IPv4/IPv6 Special-Purpose Address
 * Registries, the IPv6 Address Space registry, RFC 5771 multicast). Such space belongs to no
 * country: the prefix table marks it `special` with a reason, overriding whatever a registry
 * export says about it, and the edge counts it as domestic (DESIGN section 6).
 *
 * Globally reachable special entries (AS112, AMT, PCP/TURN anycast) are deliberately absent: they
 * are ordinary routed space and the registry table classifies them.
 *
 * Three IPv6 blocks carry an IPv4 address whose country is what matters at a border and are
 * classified by the embedded IPv4 address instead (see `classify6` in table.ts):
 * `::ffff:0:0/96` (IPv4-mapped, RFC 4291), `64:ff9b::/96` (NAT64 well-known prefix, RFC 6052:
 * the flow leaves the provider as IPv4 to that address) and `2002::/16` (6to4, RFC 3056: the
 * embedded address is the site's IPv4 tunnel end point).
 */

/**
 * Reasons for `special`, in a fixed order: the index is stored in binary caches, so append only
 * (and bump `CACHE_FORMAT` in cache.ts if an entry ever changes meaning).
 */
export const SPECIAL_REASONS = [
  'this-network',
  'private',
  'shared-address-space',
  'loopback',
  'link-local',
  'ietf-protocol-assignments',
  'documentation',
  '6to4-relay-anycast',
  'benchmarking',
  'multicast',
  'reserved',
  'limited-broadcast',
  'unspecified',
  'ipv4-mapped',
  'ipv4-ipv6-translation-local',
  'discard-only',
  'teredo',
  'orchid',
  'srv6-sid',
  'unique-local',
  'site-local',
] as const;

/** Why an address is special-purpose. */
export type SpecialReason = (typeof SPECIAL_REASONS)[number];

/** One special-purpose prefix and its reason. */
export interface SpecialPrefix {
  prefix: string;
  reason: SpecialReason;
}

/** IPv4 special-purpose prefixes (nested entries win over the ones containing them). */
export const SPECIAL_IPV4: readonly SpecialPrefix[] = [
  { prefix: '0.0.0.0/8', reason: 'this-network' }, // RFC 791
  { prefix: '10.0.0.0/8', reason: 'private' }, // RFC 1918
  { prefix: '100.64.0.0/10', reason: 'shared-address-space' }, // RFC 6598 (CGNAT)
  { prefix: '127.0.0.0/8', reason: 'loopback' }, // RFC 1122
  { prefix: '169.254.0.0/16', reason: 'link-local' }, // RFC 3927
  { prefix: '172.16.0.0/12', reason: 'private' }, // RFC 1918
  { prefix: '192.0.0.0/24', reason: 'ietf-protocol-assignments' }, // RFC 6890
  { prefix: '192.0.2.0/24', reason: 'documentation' }, // RFC 5737 TEST-NET-1
  { prefix: '192.88.99.0/24', reason: '6to4-relay-anycast' }, // RFC 7526 (deprecated)
  { prefix: '192.168.0.0/16', reason: 'private' }, // RFC 1918
  { prefix: '198.18.0.0/15', reason: 'benchmarking' }, // RFC 2544
  { prefix: '198.51.100.0/24', reason: 'documentation' }, // RFC 5737 TEST-NET-2
  { prefix: '203.0.113.0/24', reason: 'documentation' }, // RFC 5737 TEST-NET-3
  { prefix: '224.0.0.0/4', reason: 'multicast' }, // RFC 5771
  { prefix: '240.0.0.0/4', reason: 'reserved' }, // RFC 1112
  { prefix: '255.255.255.255/32', reason: 'limited-broadcast' }, // RFC 919
];

/** IPv6 special-purpose prefixes (nested entries win over the ones containing them). */
export const SPECIAL_IPV6: readonly SpecialPrefix[] = [
  // Outside 2000::/3 everything is reserved by the IETF (IPv6 Address Space registry) ...
  { prefix: '::/3', reason: 'reserved' },
  { prefix: '4000::/2', reason: 'reserved' },
  { prefix: '8000::/1', reason: 'reserved' },
  // ... except these assignments inside the reserved blocks.
  { prefix: '::/128', reason: 'unspecified' }, // RFC 4291
  { prefix: '::1/128', reason: 'loopback' }, // RFC 4291
  // Kept as a fallback only: classify6 looks at the embedded IPv4 before the table.
  { prefix: '::ffff:0:0/96', reason: 'ipv4-mapped' }, // RFC 4291
  { prefix: '64:ff9b:1::/48', reason: 'ipv4-ipv6-translation-local' }, // RFC 8215
  { prefix: '100::/64', reason: 'discard-only' }, // RFC 6666
  { prefix: '5f00::/16', reason: 'srv6-sid' }, // RFC 9602
  { prefix: 'fc00::/7', reason: 'unique-local' }, // RFC 4193
  { prefix: 'fe80::/10', reason: 'link-local' }, // RFC 4291
  { prefix: 'fec0::/10', reason: 'site-local' }, // RFC 3879 (deprecated)
  { prefix: 'ff00::/8', reason: 'multicast' }, // RFC 4291
  // Inside 2000::/3.
  { prefix: '2001::/32', reason: 'teredo' }, // RFC 4380
  { prefix: '2001:2::/48', reason: 'benchmarking' }, // RFC 5180
  { prefix: '2001:10::/28', reason: 'orchid' }, // RFC 4843 (deprecated)
  { prefix: '2001:20::/28', reason: 'orchid' }, // RFC 7343 ORCHIDv2
  { prefix: '2001:db8::/32', reason: 'documentation' }, // RFC 3849
  { prefix: '3fff::/20', reason: 'documentation' }, // RFC 9637
];
