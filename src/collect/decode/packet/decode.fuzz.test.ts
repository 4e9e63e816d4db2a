import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Fields } from '../../../common/schema/index.ts';
import { createCaptureReader } from '../../input/pcap.ts';
import { PacketInfo, PacketStart, PacketStatus, decodePacket } from './decode.ts';
import { packetFields } from './fields.ts';
import { MAX_IPV6_EXTENSION_HEADERS, MAX_MPLS_LABELS, MAX_VLAN_TAGS } from './limits.ts';

const STARTS = Object.values(PacketStart);
const STATUSES: number[] = Object.values(PacketStatus);
const real = createCaptureReader()
  .push(readFileSync(new URL('./testdata/frames.pcap', import.meta.url)))
  .packets.map((p) => p.data);

/** Checks the decoder's invariants for one input; returns nothing, throws on a violation. */
function check(b: Uint8Array, off: number, end: number, start: number): void {
  const info = new PacketInfo();
  const status = decodePacket(b, off, end, start, info);
  expect(STATUSES).toContain(status);
  const stop = Math.min(end, b.length);
  expect(info.vlanCount).toBeLessThanOrEqual(MAX_VLAN_TAGS);
  expect(info.mplsCount).toBeLessThanOrEqual(MAX_MPLS_LABELS);
  expect(info.ipv6ExtensionHeaders).toBeLessThanOrEqual(MAX_IPV6_EXTENSION_HEADERS);
  for (const o of [info.ipOffset, info.transportOffset, info.payloadOffset]) {
    if (o !== -1) {
      expect(o).toBeGreaterThanOrEqual(off);
      expect(o).toBeLessThanOrEqual(stop);
    }
  }
  if (info.payloadOffset !== -1) expect(info.payloadEnd).toBeLessThanOrEqual(stop);
  const f: Fields = {};
  packetFields(info, f);
  for (const v of Object.values(f)) expect(['number', 'string']).toContain(typeof v);
}

describe('packet header decoder (properties)', () => {
  it('never throws and stays inside its window on random bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.nat(220),
        fc.nat(220),
        fc.constantFrom(...STARTS, 2, 999),
        (b, off, end, start) => check(b, off, end, start),
      ),
      { numRuns: 3000 },
    );
  });

  it('never throws on mutated real frames', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...real),
        fc.array(fc.tuple(fc.nat(200), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(300),
        (frame, edits, cut) => {
          const b = frame.slice(0, Math.max(0, frame.length - (cut % (frame.length + 1))));
          for (const [at, v] of edits) if (b.length > 0) b[at % b.length] = v;
          check(b, 0, b.length, PacketStart.ETHERNET);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('stays bounded on frames made only of VLAN tags, MPLS labels or extension headers', () => {
    const vlan = new Uint8Array(14 + 4 * 64);
    for (let i = 12; i + 4 <= vlan.length; i += 4) vlan.set([0x81, 0x00, 0x00, 0x01], i);
    check(vlan, 0, vlan.length, PacketStart.ETHERNET);
    const mpls = new Uint8Array(4 * 64); // no bottom-of-stack bit anywhere
    check(mpls, 0, mpls.length, PacketStart.MPLS);
    const v6 = new Uint8Array(40 + 8 * 64);
    v6[0] = 0x60;
    v6[6] = 60;
    for (let i = 40; i < v6.length; i += 8) v6[i] = 60; // destination options forever
    check(v6, 0, v6.length, PacketStart.IPV6);
  });
});
