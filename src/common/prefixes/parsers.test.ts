import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AsnTableBuilder, CountryTableBuilder } from './build.ts';
import { deserializeTables, serializeTables } from './cache.ts';
import { parseAsnCsv, parseCountryCsv } from './csv.ts';
import { parseDelegated } from './delegated.ts';
import { PrefixParseError, PrefixSourceError } from './errors.ts';
import { PrefixTable } from './table.ts';

const V = { source: 'test', version: '1' };

/** Fails on anything but a typed parse error. */
function typedOnly(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof PrefixParseError)) throw err;
    expect(err.line).toBeGreaterThanOrEqual(1);
  }
}

/** Random text that looks enough like the formats to reach deep branches. */
const lineish = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        ',',
        '|',
        '"',
        '""',
        '\n',
        '\r\n',
        '#',
        '*',
        'JP',
        'ZZ',
        'ipv4',
        'ipv6',
        'asn',
        'apnic',
        'allocated',
        'available',
        'summary',
        '2.3',
        '::',
        '.',
        '1.0.16.0',
        '2001:200::',
        '256',
        '4294967295',
        '4294967296',
        '340282366920938463463374607431768211456',
        '32',
        '129',
      ),
      fc.string({ maxLength: 6 }),
      fc.nat().map(String),
    ),
    { maxLength: 40 },
  )
  .map((xs) => xs.join(''));

describe('ip-location-db CSV parser', () => {
  it('reads country rows of both families', () => {
    const cb = new CountryTableBuilder();
    parseCountryCsv('16777216,16777471,AU\r\n16777472,16778239,CN\n', 'c4', 4, cb);
    parseCountryCsv(
      '42540528726795050063891204319802818560,42540528806023212578155541913346768895,JP\n',
      'c6',
      6,
      cb,
    );
    const t = new PrefixTable(cb.build(V), new AsnTableBuilder().build(V));
    expect(t.classifyEndpoint('1.0.0.1')).toEqual({ kind: 'country', country: 'AU' });
    expect(t.classifyEndpoint('1.0.1.1')).toEqual({ kind: 'country', country: 'CN' });
    expect(t.classifyEndpoint('2001:200::1')).toEqual({ kind: 'country', country: 'JP' });
  });

  it('reads ASN rows with RFC 4180 quoted organisation names', () => {
    const ab = new AsnTableBuilder();
    parseAsnCsv(
      '16777216,16777471,13335,"Cloudflare, Inc."\n35309568,35313663,201907,"LLC ""SPUTNIK"""\n',
      'a4',
      4,
      ab,
    );
    const t = new PrefixTable(new CountryTableBuilder().build(V), ab.build(V));
    expect(t.lookupAsn('1.0.0.7')).toEqual({ asn: 13335, org: 'Cloudflare, Inc.' });
    expect(t.lookupAsn('2.26.200.1')).toEqual({ asn: 201907, org: 'LLC "SPUTNIK"' });
    expect(t.lookupAsn('9.9.9.9')).toBeUndefined();
  });

  it('names the line of a malformed row', () => {
    const cb = new CountryTableBuilder();
    const err = (() => {
      try {
        parseCountryCsv('1,2,JP\n5,4,JP\n', 'f.csv', 4, cb);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(PrefixParseError);
    expect((err as PrefixParseError).line).toBe(2);
    expect(() => parseCountryCsv('1,4294967296,JP', 'f', 4, cb)).toThrow(PrefixParseError);
    expect(() => parseCountryCsv('1,2,jp', 'f', 4, cb)).toThrow(PrefixParseError);
    expect(() => parseAsnCsv('1,2,3,"unterminated', 'f', 4, new AsnTableBuilder())).toThrow(PrefixParseError);
  });

  it('throws only typed errors on random input', () => {
    fc.assert(
      fc.property(lineish, fc.constantFrom(4 as const, 6 as const), (text, v) => {
        typedOnly(() => parseCountryCsv(text, 'r', v, new CountryTableBuilder()));
        typedOnly(() => parseAsnCsv(text, 'r', v, new AsnTableBuilder()));
      }),
      { numRuns: 2000 },
    );
  });
});

/**
 * A sample in the RIR statistics exchange format, written from the format's documentation
 * (header, summaries, allocated/assigned/available/reserved records, an extended opaque id).
 */
const DELEGATED_SAMPLE = `# comment lines start with a hash
2.3|apnic|20250101|7|19830613|20241231|+1000
apnic|*|asn|*|1|summary
apnic|*|ipv4|*|4|summary
apnic|*|ipv6|*|2|summary
apnic|JP|asn|2500|1|19910101|allocated|A91A7381
apnic|JP|ipv4|1.0.16.0|4096|20110412|allocated|A92E1062
apnic|AU|ipv4|1.0.0.0|256|20110811|assigned|A91872ED
apnic|CN|ipv4|1.0.1.0|768|20110414|allocated|A92E1062
apnic||ipv4|1.0.32.0|100|00000000|available
apnic|JP|ipv6|2001:200::|35|19990813|allocated|A91A7381
apnic|ZZ|ipv6|2001:200:e000::|35|00000000|reserved|
`;

describe('RIR delegated stats parser', () => {
  it('builds a country table from the documented format', () => {
    const r = parseDelegated(DELEGATED_SAMPLE, { source: 'sample' });
    expect(r.registries).toEqual(['apnic']);
    expect(r.rows).toBe(4);
    expect(r.skipped).toBe(3);
    expect(r.table.version).toEqual({ source: 'delegated-apnic-extended', version: '20250101' });
    const t = new PrefixTable(r.table, new AsnTableBuilder().build(V));
    expect(t.classifyEndpoint('1.0.0.255')).toEqual({ kind: 'country', country: 'AU' });
    expect(t.classifyEndpoint('1.0.3.255')).toEqual({ kind: 'country', country: 'CN' });
    expect(t.classifyEndpoint('1.0.4.0')).toEqual({ kind: 'unknown' });
    // 4096 addresses from 1.0.16.0: the last is 1.0.31.255, not a power-of-two boundary check.
    expect(t.classifyEndpoint('1.0.31.255')).toEqual({ kind: 'country', country: 'JP' });
    expect(t.classifyEndpoint('1.0.32.1')).toEqual({ kind: 'unknown' });
    expect(t.classifyEndpoint('2001:200:1fff::1')).toEqual({ kind: 'country', country: 'JP' });
    expect(t.classifyEndpoint('2001:200:e000::1')).toEqual({ kind: 'unknown' });
    expect(t.tableVersion).toBe('delegated-apnic-extended@20250101+test@1');
  });

  it('names the line of a malformed record', () => {
    try {
      parseDelegated('2|ripencc|1|1|1|1|+0\nripencc|DE|ipv4|1.2.3.4|0|20200101|allocated\n');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PrefixParseError);
      expect((e as PrefixParseError).line).toBe(2);
    }
    expect(() => parseDelegated('apnic|JP|ipv6|2001:200::1|32|1|allocated\n', { version: 'x' })).toThrow(
      PrefixParseError,
    );
    expect(() => parseDelegated('apnic|JP|ipv4|1.0.0.0|256|1|allocated\n')).toThrow(PrefixParseError);
  });

  it('throws only typed errors on random input', () => {
    fc.assert(
      fc.property(lineish, (text) => typedOnly(() => parseDelegated(text))),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(lineish, (text) => typedOnly(() => parseDelegated(`2|arin|1|1|1|1|+0\n${text}`))),
      { numRuns: 2000 },
    );
  });
});

describe('binary cache form', () => {
  function sampleTables(): ReturnType<typeof deserializeTables> {
    const cb = new CountryTableBuilder();
    cb.add4(16777216, 16777471, 'AU');
    cb.add6(1n << 125n, (1n << 125n) + 1000n, 'JP');
    const ab = new AsnTableBuilder();
    ab.add4(16777216, 16777471, 13335, 'Cloudflare, Inc.');
    ab.add6(1n << 125n, (1n << 125n) + 1000n, 2500, 'WIDE');
    return { country: cb.build(V), asn: ab.build({ source: 'a', version: '2' }) };
  }

  it('round-trips both tables exactly', () => {
    const { country, asn } = sampleTables();
    const back = deserializeTables(serializeTables(country, asn));
    expect(back.country).toEqual(country);
    expect(back.asn).toEqual(asn);
  });

  it('refuses damaged bytes with a typed error only', () => {
    const { country, asn } = sampleTables();
    const bytes = serializeTables(country, asn);
    fc.assert(
      fc.property(
        fc.nat({ max: bytes.length - 1 }),
        fc.nat({ max: 255 }),
        fc.nat({ max: bytes.length }),
        (pos, val, cut) => {
          const b = bytes.slice(0, cut);
          if (pos < b.length) b[pos] = val;
          try {
            deserializeTables(b);
          } catch (e) {
            expect(e).toBeInstanceOf(PrefixSourceError);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
