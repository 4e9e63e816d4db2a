import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AddressError } from './errors.ts';
import { formatIpv4, formatIpv6, parseAddress, parseIpv4, parsePrefix, tryParseAddress } from './address.ts';

describe('address text', () => {
  it('parses and formats IPv4', () => {
    expect(parseIpv4('192.0.2.1')).toBe(0xc0000201);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1..2.3', '', 'a.b.c.d'])
      expect(parseIpv4(bad)).toBeUndefined();
    expect(formatIpv4(0xc0000201)).toBe('192.0.2.1');
  });

  it('parses IPv6 forms and formats them per RFC 5952', () => {
    const cases: [string, string][] = [
      ['2001:DB8:0:0:0:0:2:1', '2001:db8::2:1'],
      ['2001:db8::1', '2001:db8::1'],
      ['::', '::'],
      ['::1', '::1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
      ['fe80::', 'fe80::'],
    ];
    for (const [input, want] of cases) expect(formatAddress(parseAddress(input))).toBe(want);
    for (const bad of [
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '12345::',
      '::g',
      'fe80::1%eth0',
      '1:2:3:4:5:6:7',
      ':1::',
      '1::2:',
    ])
      expect(tryParseAddress(bad)).toBeUndefined();
    expect(() => parseAddress('nope')).toThrow(AddressError);
  });

  it('round-trips any four words through text', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 0xffffffff }), { minLength: 4, maxLength: 4 }), ([a, b, c, d]) => {
        const text = formatIpv6(a!, b!, c!, d!);
        expect(isIPv6(text)).toBe(true);
        expect(parseAddress(text)).toEqual({ version: 6, w0: a, w1: b, w2: c, w3: d });
      }),
    );
  });

  it('never throws on random text when trying to parse', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 50 }), (s) => {
        const a = tryParseAddress(s);
        if (a && a.version === 6) expect(isIPv6(s)).toBe(true);
      }),
    );
  });

  it('parses prefixes and refuses host bits', () => {
    expect(parsePrefix('10.0.0.0/8')).toEqual({
      version: 4,
      length: 8,
      first: 0x0a000000n,
      last: 0x0affffffn,
    });
    expect(parsePrefix('2001:db8::/32').last).toBe(0x20010db8ffffffffffffffffffffffffn);
    expect(() => parsePrefix('10.0.0.1/8')).toThrow(AddressError);
    expect(() => parsePrefix('10.0.0.0/33')).toThrow(AddressError);
  });
});

function formatAddress(a: ReturnType<typeof parseAddress>): string {
  return a.version === 4 ? formatIpv4(a.w0) : formatIpv6(a.w0, a.w1, a.w2, a.w3);
}
