/**
 * Mnemonics of the IANA "Domain Name System (DNS) Parameters" registry for the numbers that appear
 * in events: resource record types, response codes (RCODE, including the EDNS extended ones) and
 * opcodes. Numbers without a registered mnemonic print in the RFC 3597 style (`TYPE65280`).
 */

/** Resource record (and query) types by number. */
export const DNS_TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  NULL: 10,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  LOC: 29,
  SRV: 33,
  NAPTR: 35,
  CERT: 37,
  DNAME: 39,
  OPT: 41,
  DS: 43,
  SSHFP: 44,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  NSEC3: 50,
  NSEC3PARAM: 51,
  TLSA: 52,
  CDS: 59,
  CDNSKEY: 60,
  SVCB: 64,
  HTTPS: 65,
  SPF: 99,
  TKEY: 249,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
  URI: 256,
  CAA: 257,
} as const;

const TYPE_NAMES = new Map<number, string>(Object.entries(DNS_TYPE).map(([k, v]) => [v, k]));

/** The mnemonic of a record type (`A`, `AAAA`, …), or `TYPE<n>` when none is registered here. */
export function dnsTypeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `TYPE${type}`;
}

/** Response codes (RFC 1035, 2136, 6891, 8945, 7873), 12 bits once EDNS extends them. */
const RCODE_NAMES: readonly string[] = [
  'NOERROR',
  'FORMERR',
  'SERVFAIL',
  'NXDOMAIN',
  'NOTIMP',
  'REFUSED',
  'YXDOMAIN',
  'YXRRSET',
  'NXRRSET',
  'NOTAUTH',
  'NOTZONE',
  'DSOTYPENI',
];
const EXTENDED_RCODE_NAMES = new Map<number, string>([
  [16, 'BADVERS'],
  [17, 'BADKEY'],
  [18, 'BADTIME'],
  [19, 'BADMODE'],
  [20, 'BADNAME'],
  [21, 'BADALG'],
  [22, 'BADTRUNC'],
  [23, 'BADCOOKIE'],
]);

/** The mnemonic of a response code (`NXDOMAIN`), or `RCODE<n>` when none is registered. */
export function dnsRcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? EXTENDED_RCODE_NAMES.get(rcode) ?? `RCODE${rcode}`;
}

const OPCODE_NAMES: readonly string[] = ['QUERY', 'IQUERY', 'STATUS', 'OPCODE3', 'NOTIFY', 'UPDATE', 'DSO'];

/** The mnemonic of an opcode (`QUERY`, `NOTIFY`, `UPDATE`), or `OPCODE<n>`. */
export function dnsOpcodeName(opcode: number): string {
  return OPCODE_NAMES[opcode] ?? `OPCODE${opcode}`;
}
