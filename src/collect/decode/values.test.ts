import { describe, expect, it } from 'vitest';
import { parseIpv6 } from '../../simulate/encode/index.ts';
import { hexAt, ipv4At, ipv6At, macAt, ntpAt, signedAt, stringAt, unsignedAt } from './values.ts';

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
