import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIpv6 } from '../../simulate/encode/index.ts';
import {
  hexAt,
  ipv4At,
  ipv4String,
  ipv6At,
  ipv6FromWords,
  macAt,
  ntpAt,
  signedAt,
  stringAt,
  unsignedAt,
} from './values.ts';

/** RFC 5952 written the plain way, as the reference for the table-driven formatter. */
function referenceIpv6(b: Uint8Array): string {
  const g = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff)
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

describe('value formatting', () => {
  it('formats IPv6 per RFC 5952', () => {
    const cases: [string, string][] = [
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // leftmost of equal runs
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // longest run
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // no single-group compression
      ['2001:0db8:00aa:0000:0000:0000:0000:0001', '2001:db8:aa::1'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['fe80::', 'fe80::'],
    ];
    for (const [input, want] of cases) expect(ipv6At(parseIpv6(input), 0)).toBe(want);
  });

  it('formats every IPv6 address as the plain RFC 5952 reference does', () => {
    // Groups drawn mostly from 0 so that zero runs of every length and position occur.
    const group = fc.oneof(
      fc.constant(0),
      fc.constant(0),
      fc.constant(0xffff),
      fc.integer({ min: 0, max: 0xffff }),
    );
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
        const b = new Uint8Array(16);
        groups.forEach((x, i) => {
          b[2 * i] = x >>> 8;
          b[2 * i + 1] = x & 255;
        });
        const want = referenceIpv6(b);
        expect(ipv6At(b, 0)).toBe(want);
        const w = (i: number): number => ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0;
        expect(ipv6FromWords(w(0), w(1), w(2), w(3))).toBe(want);
      }),
      { numRuns: 5000 },
    );
  });

  it('formats every IPv4 address as dotted quad', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => {
        const want = `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
        expect(ipv4String(v)).toBe(want);
        expect(ipv4At(new Uint8Array([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]), 0)).toBe(want);
      }),
    );
  });

  it('formats IPv4, MAC, hex and strings', () => {
    const b = new Uint8Array([192, 0, 2, 255, 0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc]);
    expect(ipv4At(b, 0)).toBe('192.0.2.255');
    expect(macAt(b, 4)).toBe('00:1b:21:aa:bb:cc');
    expect(hexAt(b, 0, 3)).toBe('c00002');
    expect(stringAt(new TextEncoder().encode('héllo\0\0'), 0, 8)).toBe('héllo');
    expect(stringAt(new Uint8Array([0x61, 0x62, 0, 0]), 0, 4)).toBe('ab');
  });

  it('reads integers of any reduced size, large ones as decimal strings', () => {
    expect(unsignedAt(new Uint8Array([1, 0, 0]), 0, 3)).toBe(65536);
    expect(unsignedAt(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 0, 8)).toBe(
      '18446744073709551615',
    );
    expect(unsignedAt(new Uint8Array([0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 0, 8)).toBe(2 ** 53 - 1);
    expect(signedAt(new Uint8Array([0xff, 0xfe]), 0, 2)).toBe(-2);
    expect(signedAt(new Uint8Array([0x80, 0, 0, 0, 0, 0, 0, 0]), 0, 8)).toBe('-9223372036854775808');
  });

  it('reads NTP timestamps as epoch milliseconds', () => {
    // 2026-01-01T00:00:00.5Z in NTP era 0.
    const secs = Date.UTC(2026, 0, 1) / 1000 + 2208988800;
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, secs);
    new DataView(b.buffer).setUint32(4, 2 ** 31);
    expect(ntpAt(b, 0)).toBe(Date.UTC(2026, 0, 1) + 500);
  });
});
