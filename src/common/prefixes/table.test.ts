import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePrefix, wordsToBigInt, bigIntToWords } from './address.ts';
import { AsnTableBuilder, CountryTableBuilder } from './build.ts';
import { SPECIAL_IPV4, SPECIAL_IPV6, SPECIAL_REASONS } from './special.ts';
import { RangeIndex4 } from './search.ts';
import { PrefixTable } from './table.ts';
import { CLASS_UNKNOWN, SPECIAL_BASE } from './types.ts';

interface Row {
  start: bigint;
  end: bigint;
  cc: string;
}

const CCS = ['JP', 'US', 'CN', 'DE'];
const V = { source: 'test', version: '1' };

/**
 * The reference semantics, as a linear scan: special space wins (the most specific special prefix),
 * then among rows containing the address the one starting last wins (ties: ending first, then
 * the later row); nothing → unknown.
 */
function naive(rows: readonly Row[], specials: typeof SPECIAL_IPV4, a: bigint): string {
  let best: { len: number; reason: string } | undefined;
  for (const s of specials) {
    const p = parsePrefix(s.prefix);
    if (p.first <= a && a <= p.last && (!best || p.length >= best.len))
      best = { len: p.length, reason: s.reason };
  }
  if (best) return `special:${best.reason}`;
  let win: Row | undefined;
  for (const r of rows) {
    if (r.start > a || a > r.end) continue;
    if (!win || r.start > win.start || (r.start === win.start && r.end <= win.end)) win = r;
  }
  return win ? win.cc : 'unknown';
}

function label(t: PrefixTable, code: number): string {
  const d = t.describe(code);
  return d.kind === 'country' ? d.country : d.kind === 'special' ? `special:${d.reason}` : 'unknown';
}

function build(rows4: Row[], rows6: Row[]): PrefixTable {
  const cb = new CountryTableBuilder();
  for (const r of rows4) cb.add4(Number(r.start), Number(r.end), r.cc);
  for (const r of rows6) cb.add6(r.start, r.end, r.cc);
  return new PrefixTable(cb.build(V), new AsnTableBuilder().build(V));
}

/** Rows clustered in a small window so that they nest and overlap often. */
function rowsArb(base: bigint, span: number, maxLen: number): fc.Arbitrary<Row[]> {
  return fc
    .array(
      fc.record({ off: fc.nat({ max: span }), len: fc.nat({ max: maxLen }), cc: fc.constantFrom(...CCS) }),
      { maxLength: 40 },
    )
    .map((xs) =>
      xs.map((x) => ({ start: base + BigInt(x.off), end: base + BigInt(x.off + x.len), cc: x.cc })),
    );
}

describe('prefix table lookups', () => {
  it('IPv4 agrees with a linear scan on random tables (incl. special space)', () => {
    // Windows that straddle special prefixes (10/8 edge, 192.0.2/24, 255.255.255.255) and plain space.
    const bases = [0x09ffff00n, 0xc0000180n, 0xffffff00n, 0x01000000n, 0x0n];
    fc.assert(
      fc.property(
        fc.constantFrom(...bases),
        rowsArb(0n, 500, 200),
        fc.array(fc.nat({ max: 700 }), { maxLength: 60 }),
        (base, rel, offs) => {
          const rows = rel
            .map((r) => ({ ...r, start: r.start + base, end: r.end + base }))
            .filter((r) => r.end <= 0xffffffffn);
          const t = build(rows, []);
          const check = (a: bigint): void => {
            if (a >= 0n && a <= 0xffffffffn)
              expect(label(t, t.classify4(Number(a)))).toBe(naive(rows, SPECIAL_IPV4, a));
          };
          for (const o of offs) check(base + BigInt(o));
          for (const r of rows) for (const a of [r.start, r.end, r.start - 1n, r.end + 1n]) check(a);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('IPv6 agrees with a linear scan on random tables (word boundaries, specials)', () => {
    // Windows across a 32-bit word carry, a search-bucket boundary, and next to 2001:db8::/32.
    const bases = [
      0x24000000_00000000_ffffffff_ffffff00n,
      0x24000fff_ffffffff_ffffffff_ffffff00n, // crosses a /20 search-bucket boundary
      0x20010db7_ffffffff_ffffffff_ffffff00n,
      0x2a00_0000_0000_0000_0000_0000_0000_0000n,
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...bases),
        rowsArb(0n, 600, 300),
        fc.array(fc.nat({ max: 1000 }), { maxLength: 50 }),
        (base, rel, offs) => {
          const rows = rel.map((r) => ({ ...r, start: r.start + base, end: r.end + base }));
          const t = build([], rows);
          const w = [0, 0, 0, 0];
          const check = (a: bigint): void => {
            bigIntToWords(a, w);
            expect(label(t, t.classify6(w[0]!, w[1]!, w[2]!, w[3]!))).toBe(naive(rows, SPECIAL_IPV6, a));
          };
          for (const o of offs) check(base + BigInt(o));
          for (const r of rows) for (const a of [r.start, r.end, r.start - 1n, r.end + 1n]) check(a);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('ASN lookups agree with a linear scan (most specific row wins)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            off: fc.nat({ max: 300 }),
            len: fc.nat({ max: 120 }),
            asn: fc.integer({ min: 1, max: 5 }),
          }),
          { maxLength: 30 },
        ),
        fc.array(fc.nat({ max: 450 }), { maxLength: 40 }),
        (xs, offs) => {
          const ab = new AsnTableBuilder();
          const base = 0x2a000000;
          for (const x of xs) ab.add4(base + x.off, base + x.off + x.len, x.asn, `org ${x.asn}`);
          const t = new PrefixTable(new CountryTableBuilder().build(V), ab.build(V));
          for (const o of offs) {
            let win: (typeof xs)[number] | undefined;
            for (const x of xs) {
              if (x.off > o || o > x.off + x.len) continue;
              if (!win || x.off > win.off || (x.off === win.off && x.len <= win.len)) win = x;
            }
            expect(t.asn4(base + o)).toBe(win ? win.asn : 0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('classifies special space with its reason and counts special and unknown as domestic', () => {
    const cb = new CountryTableBuilder();
    cb.add4(0x01000000, 0x010000ff, 'AU'); // 1.0.0.0/24
    cb.add4(0x99800000, 0x99bfffff, 'JP'); // 153.128.0.0/10
    cb.add6(0x24000000n << 96n, (0x24000001n << 96n) - 1n, 'JP');
    const t = new PrefixTable(cb.build(V), new AsnTableBuilder().build(V));
    expect(t.classifyEndpoint('10.1.2.3')).toEqual({ kind: 'special', reason: 'private' });
    expect(t.classifyEndpoint('100.64.1.1')).toEqual({ kind: 'special', reason: 'shared-address-space' });
    expect(t.classifyEndpoint('224.0.0.251')).toEqual({ kind: 'special', reason: 'multicast' });
    expect(t.classifyEndpoint('fd00::1')).toEqual({ kind: 'special', reason: 'unique-local' });
    expect(t.classifyEndpoint('fe80::1')).toEqual({ kind: 'special', reason: 'link-local' });
    expect(t.classifyEndpoint('ff02::1')).toEqual({ kind: 'special', reason: 'multicast' });
    expect(t.classifyEndpoint('64:ff9b:1::1')).toEqual({
      kind: 'special',
      reason: 'ipv4-ipv6-translation-local',
    });
    expect(t.classifyEndpoint('1.0.0.1')).toEqual({ kind: 'country', country: 'AU' });
    // Embedded IPv4 decides for mapped, NAT64 and 6to4 addresses.
    expect(t.classifyEndpoint('::ffff:1.0.0.1')).toEqual({ kind: 'country', country: 'AU' });
    expect(t.classifyEndpoint('::ffff:10.0.0.1')).toEqual({ kind: 'special', reason: 'private' });
    expect(t.classifyEndpoint('64:ff9b::1.0.0.9')).toEqual({ kind: 'country', country: 'AU' });
    expect(t.classifyEndpoint('2002:0100:0001::1')).toEqual({ kind: 'country', country: 'AU' });
    expect(t.classifyEndpoint('5.5.5.5')).toEqual({ kind: 'unknown' });
    expect(t.classifyEndpoint('2400::1')).toEqual({ kind: 'country', country: 'JP' });
    expect(t.isDomestic('153.128.0.1', 'JP')).toBe(true);
    expect(t.isDomestic('10.0.0.1', 'JP')).toBe(true);
    expect(t.isDomestic('5.5.5.5', 'JP')).toBe(true);
    expect(t.isDomestic('1.0.0.1', 'JP')).toBe(false);
    expect(t.isDomestic('1.0.0.1', 'AU')).toBe(true);
    // A country absent from the table: only special and unknown space is domestic.
    expect(t.isDomestic('153.128.0.1', 'KR')).toBe(false);
    expect(t.isDomestic('192.168.1.1', 'KR')).toBe(true);
  });

  it('classifies FlowBatch-layout words without strings', () => {
    const cb = new CountryTableBuilder();
    cb.add4(0x01000000, 0x010000ff, 'AU');
    const t = new PrefixTable(cb.build(V), new AsnTableBuilder().build(V));
    const words = new Uint32Array([0x01000001, 0, 0, 0, 0xfe800000, 0, 0, 1]);
    expect(t.countryOf(t.classifyAt(4, words, 0))).toBe('AU');
    expect(PrefixTable.specialReasonOf(t.classifyAt(6, words, 4))).toBe('link-local');
    expect(t.classifyAt(0, words, 0)).toBe(CLASS_UNKNOWN);
  });

  it('stamps a table version naming both sources', () => {
    const t = new PrefixTable(
      new CountryTableBuilder().build({ source: '@ip-location-db/geo-whois-asn-country', version: '2.3.1' }),
      new AsnTableBuilder().build({ source: '@ip-location-db/asn', version: '2.3.2' }),
    );
    expect(t.tableVersion).toBe('geo-whois-asn-country@2.3.1+asn@2.3.2');
  });

  it('keeps special reason codes in range of the reason list', () => {
    expect(SPECIAL_BASE + SPECIAL_REASONS.length).toBeLessThan(CLASS_UNKNOWN);
    expect(wordsToBigInt(1, 2, 3, 4)).toBe((1n << 96n) | (2n << 64n) | (3n << 32n) | 4n);
  });
});

describe('merged IPv4 country + ASN index (PairIndex4)', () => {
  it('agrees with separate range searches of both tables, at every boundary and at random', () => {
    // Rows scattered over a /12 so that lookups hit uniform /16s, small split /16s and busy
    // /16s with a second level; country and ASN rows are unrelated, as in the registry data.
    const row = fc.record({
      off: fc.nat({ max: 0xfffff }),
      len: fc.oneof(fc.nat({ max: 300 }), fc.nat({ max: 0x3ffff })),
      v: fc.integer({ min: 1, max: 4 }),
    });
    fc.assert(
      fc.property(
        fc.array(row, { maxLength: 60 }),
        fc.array(row, { maxLength: 60 }),
        fc.array(fc.nat({ max: 0xfffff }), { maxLength: 80 }),
        (crows, arows, probes) => {
          const base = 0x5a000000;
          const cb = new CountryTableBuilder();
          for (const x of crows)
            cb.add4(base + x.off, Math.min(base + x.off + x.len, 0x5affffff), CCS[x.v - 1]!);
          const ab = new AsnTableBuilder();
          for (const x of arows)
            ab.add4(base + x.off, Math.min(base + x.off + x.len, 0x5affffff), x.v, `org ${x.v}`);
          const country = cb.build(V);
          const asn = ab.build(V);
          const t = new PrefixTable(country, asn);
          const c4 = new RangeIndex4(country.v4Starts, country.v4Ends);
          const a4 = new RangeIndex4(asn.v4Starts, asn.v4Ends);
          const check = (a: number): void => {
            if (a < 0 || a > 0xffffffff) return;
            const ci = c4.find(a);
            const ai = a4.find(a);
            const cls = ci < 0 ? CLASS_UNKNOWN : country.v4Values[ci]!;
            const as = ai < 0 ? 0 : asn.v4Asn[ai]!;
            const p = t.pair4(a);
            expect(t.pairClass(p)).toBe(cls);
            expect(t.pairAsn(p)).toBe(as);
            expect(t.classify4(a)).toBe(cls);
            expect(t.asn4(a)).toBe(as);
          };
          for (const tbl of [country, asn])
            for (let i = 0; i < tbl.v4Starts.length; i++)
              for (const a of [tbl.v4Starts[i]!, tbl.v4Ends[i]!]) for (const d of [-1, 0, 1]) check(a + d);
          for (const o of probes) check(base + o);
          check(0);
          check(0xffffffff);
          // The batch form (FlowBatch layout, stride 4) gives the same pair ids.
          const words = new Uint32Array(probes.length * 4);
          probes.forEach((o, i) => (words[i * 4] = base + o));
          const many = new Uint32Array(probes.length);
          t.pair4Many(words, 4, probes.length, many);
          probes.forEach((o, i) => expect(many[i]).toBe(t.pair4(base + o)));
        },
      ),
      { numRuns: 50 },
    );
  });
});
