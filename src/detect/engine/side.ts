/**
 * Which end of a flow row is the "internal" one (the domestic host, the client of a session):
 * detectors keyed by an internal host (`beacon`, `exfiltration`, `long-connection`) need it to
 * count a connection once (routers export one record per direction) and to name the subject.
 *
 * Rules, first match wins (documented in src/detect/README.md):
 * 1. The legal channel of a selected record: `specified-domestic-to-foreign` → the source is
 *    domestic; `*-foreign-to-domestic` → the destination is.
 * 2. Special-purpose space (RFC 1918, RFC 6598 shared, loopback, link-local; IPv6 ULA, link-local,
 *    loopback) on exactly one side → that side (lab captures, enterprise exporters).
 * 3. The session's client: the side with the higher (ephemeral) port.
 * 4. Equal ports (IPsec NAT-T 4500↔4500, NTP 123↔123): the numerically lower address, so both
 *    directions of one connection agree.
 */
import { channelCode, type DetectBatch } from './batch.ts';

const DOMESTIC_TO_FOREIGN = channelCode('specified-domestic-to-foreign');
const AGREEMENT_TO_DOMESTIC = channelCode('agreement-foreign-to-domestic');
const FOREIGN_TO_DOMESTIC = channelCode('specified-foreign-to-domestic');

/** True when the address at `words[off..off+4)` (version `v`) is special-purpose space. */
export function isSpecialAddress(words: Uint32Array, off: number, v: number): boolean {
  const w = words[off]!;
  if (v === 4) {
    const a = w >>> 24;
    const b = (w >>> 16) & 0xff;
    return (
      a === 10 ||
      a === 127 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  const top = w >>> 16;
  if ((top & 0xfe00) === 0xfc00 || (top & 0xffc0) === 0xfe80) return true;
  return w === 0 && words[off + 1] === 0 && words[off + 2] === 0 && words[off + 3] === 1;
}

/** True when row `i`'s source is its internal end (see the module comment). */
export function sourceIsInternal(b: DetectBatch, i: number): boolean {
  const ch = b.channel[i]!;
  if (ch === DOMESTIC_TO_FOREIGN) return true;
  if (ch === AGREEMENT_TO_DOMESTIC || ch === FOREIGN_TO_DOMESTIC) return false;
  const v = b.ipVersion[i]!;
  const off = i * 4;
  const s = isSpecialAddress(b.src, off, v);
  if (s !== isSpecialAddress(b.dst, off, v)) return s;
  const sp = b.srcPort[i]!;
  const dp = b.dstPort[i]!;
  if (sp !== dp) return sp > dp;
  for (let k = 0; k < 4; k++) {
    const x = b.src[off + k]!;
    const y = b.dst[off + k]!;
    if (x !== y) return x < y;
  }
  return true;
}
