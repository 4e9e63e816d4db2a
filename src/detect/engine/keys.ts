/**
 * Host keys from batch rows, and their text form for evidence subjects. A host key is five words:
 * word 0 = IP version, plus a flag when an IPv6 address was reduced to its /64 (hosts of one
 * subscriber share a /64 and rotate the lower 64 bits, RFC 8981, so a /64 is the stable "host"
 * for source-keyed detectors); words 1–4 = the address.
 */
import { formatIpv4, formatIpv6 } from '../../common/prefixes/address.ts';
import { hashWords } from './hash.ts';

/** Words of a host key. */
export const HOST_KEY_WORDS = 5;

/** Flag in word 0: the key is an IPv6 /64. */
const GROUPED_64 = 0x100;

/**
 * Writes the host key of the address at `words[off..off+4)` (version `v`) into `key` at `at`.
 * With `group64`, IPv6 addresses keep only their first 64 bits.
 */
export function hostKey(
  words: Uint32Array,
  off: number,
  v: number,
  group64: boolean,
  key: Uint32Array,
  at = 0,
): void {
  if (v === 4) {
    key[at] = 4;
    key[at + 1] = words[off]!;
    key[at + 2] = key[at + 3] = key[at + 4] = 0;
    return;
  }
  key[at + 1] = words[off]!;
  key[at + 2] = words[off + 1]!;
  if (group64) {
    key[at] = 6 | GROUPED_64;
    key[at + 3] = key[at + 4] = 0;
  } else {
    key[at] = 6;
    key[at + 3] = words[off + 2]!;
    key[at + 4] = words[off + 3]!;
  }
}

/** Text form of a host key: canonical address, `prefix::/64` for grouped IPv6. */
export function formatHostKey(key: Uint32Array, at = 0): string {
  const v = key[at]!;
  if ((v & 0xff) === 4) return formatIpv4(key[at + 1]!);
  const text = formatIpv6(key[at + 1]!, key[at + 2]!, key[at + 3]!, key[at + 4]!);
  return v & GROUPED_64 ? `${text}/64` : text;
}

/** Text form of the address at `words[off..off+4)`. */
export function formatAddressAt(words: Uint32Array, off: number, v: number): string {
  return v === 4
    ? formatIpv4(words[off]!)
    : formatIpv6(words[off]!, words[off + 1]!, words[off + 2]!, words[off + 3]!);
}

const scratch = new Uint32Array(HOST_KEY_WORDS * 2);

/**
 * Routing hash of a row for a partition key (DESIGN section 1: `acd.sel.<key>.<partition>`):
 * equal keys always hash alike, so every record a detector needs for one key reaches one worker.
 */
export function partitionHash(
  key: 'source' | 'destination' | 'pair',
  src: Uint32Array,
  dst: Uint32Array,
  row: number,
  v: number,
  group64: boolean,
): number {
  const off = row * 4;
  if (key === 'source') hostKey(src, off, v, group64, scratch);
  else if (key === 'destination') hostKey(dst, off, v, group64, scratch);
  else {
    hostKey(src, off, v, group64, scratch);
    hostKey(dst, off, v, group64, scratch, HOST_KEY_WORDS);
    return hashWords(scratch, 0, HOST_KEY_WORDS * 2);
  }
  return hashWords(scratch, 0, HOST_KEY_WORDS);
}
