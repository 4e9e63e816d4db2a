import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AcdError } from '../common/errors.ts';
import { PrefixTable, tryParseAddress, formatAddress } from '../common/prefixes/index.ts';
import type { DecodedRecord, FieldValue, Fields } from '../common/schema/record.ts';
import type { SelectedRecord } from '../common/schema/selected.ts';
import { isValidSelectedRecord } from './allowlist.ts';
import { demoSelectionConfig } from './demo.ts';
import { batchOf, dnsOf, recordOf, T_EVENT, testEngine, type TestFlow } from './testing.ts';

const V4 = [
  '133.2.3.4',
  '133.1.0.9',
  '133.200.1.1',
  '8.8.4.4',
  '8.1.2.3',
  '5.6.7.8',
  '10.0.0.1',
  '100.64.1.1',
  '192.168.1.1',
  '200.1.2.3',
  '127.0.0.1',
  '0.0.0.0',
  '255.255.255.255',
];
const V6 = [
  '2001:200:5::1',
  '2001:200:1::53',
  '2600:1::1',
  '2a00:1::2',
  'fe80::1',
  '::ffff:133.2.3.4',
  '::ffff:8.8.8.8',
  '64:ff9b::808:808',
  '2002:8502:0304::1',
  '::1',
  'fc00::9',
];

const addr4 = fc.oneof(
  fc.constantFrom(...V4),
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.')),
);
const addr6 = fc.oneof(
  fc.constantFrom(...V6),
  fc
    .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
    .map((g) => formatAddress(tryParseAddress(g.map((x) => x.toString(16)).join(':'))!)),
);

const flowArb: fc.Arbitrary<TestFlow> = fc
  .record({
    v6: fc.boolean(),
    a: fc.nat(1000),
    proto: fc.constantFrom(6, 17, 1, 58, 47),
    sport: fc.nat(0xffff),
    dport: fc.oneof(fc.constantFrom(23, 2323, 53, 443), fc.nat(0xffff)),
    flags: fc.nat(0xff),
    dt: fc.integer({ min: -400 * 86_400_000, max: 400 * 86_400_000 }),
    exporter: fc.constantFrom('192.0.2.10', '192.0.2.11', '2001:db8::1'),
    seq: fc.nat(),
  })
  .chain((x) =>
    fc.tuple(x.v6 ? addr6 : addr4, x.v6 ? addr6 : addr4).map(([src, dst]) => ({
      src,
      dst,
      proto: x.proto,
      sport: x.sport,
      dport: x.dport,
      flags: x.flags,
      end: T_EVENT + x.dt,
      start: T_EVENT + x.dt - 1000,
      exporter: x.exporter,
      seq: x.seq,
    })),
  );

const junkValue: fc.Arbitrary<FieldValue> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 3 }),
  fc.constant([{ name: '4.3.2.133.in-addr.arpa', type: 12, ttl: 1, data: 'host.example.jp' }] as FieldValue),
);

const junkFields: fc.Arbitrary<Fields> = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      'sourceIPv4Address',
      'destinationIPv6Address',
      'sourceMacAddress',
      'dnsQueryName',
      'dnsAnswers',
      'protocolIdentifier',
      'tcpControlBits',
      'octetDeltaCount',
      'eventTime',
      'flowEndMilliseconds',
      'sourceTransportPort',
      'userName',
      'samplingInterval',
    ),
    fc.string({ maxLength: 12 }),
  ),
  junkValue,
  { maxKeys: 8 },
);

interface Item {
  rec: DecodedRecord;
  raw: string[];
}

const optionsRecord = (fields: Fields): DecodedRecord => ({
  recordType: 'options',
  protocol: 'ipfix',
  observation: { exporter: 'x', observationDomainId: 0, templateId: 0, sequence: 0, exportTime: 0 },
  recordIndex: 0,
  scope: {},
  fields,
});

const recordArb: fc.Arbitrary<Item> = fc.oneof<fc.Arbitrary<Item>[]>(
  flowArb.chain((f) => junkFields.map((extra) => ({ rec: recordOf(f, extra), raw: [f.src, f.dst] }))),
  fc
    .tuple(
      addr4,
      addr4,
      fc.oneof(
        fc.constantFrom(
          '4.3.2.133.in-addr.arpa',
          'a@b.jp',
          'x.evil.example',
          '9.1.133.in-addr.arpa',
          'f.f.ip6.arpa',
        ),
        fc.string({ maxLength: 30 }),
      ),
      addr4,
    )
    .map(([c, s, q, data]) => ({
      rec: dnsOf(c, s, {
        dnsQueryName: q,
        dnsAnswers: [
          { name: q, type: 1, ttl: 5, data },
          { name: q, type: 12, ttl: 5, data: 'rdns.example.jp' },
        ],
      }),
      raw: [c, s, data],
    })),
  junkFields.map((fields) => ({
    rec: optionsRecord(fields),
    raw: [],
  })),
  junkFields.map((fields) => ({
    rec: { ...recordOf({ src: '8.8.8.8', dst: '133.2.3.4' }), fields },
    raw: [],
  })),
);

function engines(): ReturnType<typeof testEngine>[] {
  const demo = demoSelectionConfig('JP');
  return [
    testEngine(),
    testEngine({ feeds: demo.config.feeds, documents: demo.documents, config: { mode: 'demo' } }),
  ];
}

/** Every address-valued output must be foreign in clear, or a pseudonym different from every raw domestic input. */
function checkNoRawDomestic(
  recs: readonly SelectedRecord[],
  table: PrefixTable,
  rawDomestic: ReadonlySet<string>,
  pseudonymOf?: (a: string) => string,
): void {
  // Crypto-PAn can map an input to itself or to another input of the same run (by construction;
  // see docs/edge.md): such an output is the legitimate pseudonym, not a leak.
  const legitimate = new Set(pseudonymOf ? [...rawDomestic].map(pseudonymOf) : []);
  const dom = table.countryClass('JP');
  const isDomestic = (a: string): boolean => {
    const p = tryParseAddress(a);
    return p !== undefined && PrefixTable.isDomesticClass(table.classifyParsed(p), dom);
  };
  for (const r of recs) {
    expect(isValidSelectedRecord(r)).toBe(true);
    const f = r.fields;
    const pairs: [FieldValue | undefined, boolean][] = [
      [f.sourceIPv4Address ?? f.sourceIPv6Address, r.source.pseudonymised],
      [f.destinationIPv4Address ?? f.destinationIPv6Address, r.destination.pseudonymised],
    ];
    for (const [a, pseudo] of pairs) {
      expect(typeof a).toBe('string');
      if (!pseudo) expect(isDomestic(a as string)).toBe(false);
      else expect(rawDomestic.has(a as string) && !legitimate.has(a as string)).toBe(false);
    }
    for (const ans of (f.dnsAnswers as { data?: string; type: number }[] | undefined) ?? []) {
      expect(ans.type === 12 && ans.data !== undefined).toBe(false);
      if (ans.data !== undefined && tryParseAddress(ans.data))
        expect(rawDomestic.has(ans.data) && !legitimate.has(ans.data)).toBe(false);
    }
  }
}

function canonicalDomestic(raws: string[], table: PrefixTable): Set<string> {
  const dom = table.countryClass('JP');
  const out = new Set<string>();
  for (const a of raws) {
    const p = tryParseAddress(a);
    if (p && PrefixTable.isDomesticClass(table.classifyParsed(p), dom)) out.add(formatAddress(p));
  }
  return out;
}

describe('selection properties', () => {
  it('batch path: never throws, selected records pass the schema check and never carry a raw domestic address', () => {
    const es = engines();
    let total = 0;
    fc.assert(
      fc.property(fc.array(flowArb, { minLength: 1, maxLength: 60 }), (flows) => {
        for (const e of es) {
          const { selected, stats } = e.engine.selectBatch(batchOf(flows));
          total += stats.selected;
          const dropped = Object.values(stats.dropped).reduce((a, b) => a + b, 0);
          expect(stats.in).toBe(flows.length);
          expect(stats.selected + dropped).toBe(stats.in);
          expect(stats.errors).toBe(0);
          checkNoRawDomestic(
            selected.toRecords(),
            e.table,
            canonicalDomestic(
              flows.flatMap((f) => [f.src, f.dst]),
              e.table,
            ),
            (a) => e.keys.key.cryptoPan.pseudonymiseAddress(a),
          );
        }
      }),
      { numRuns: 150 },
    );
    expect(total).toBeGreaterThan(100);
  });

  it('object path: random records never throw untyped, and the same invariants hold', () => {
    const es = engines();
    let total = 0;
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 30 }), (items) => {
        for (const e of es) {
          let res;
          try {
            res = e.engine.selectRecords(items.map((x) => x.rec));
          } catch (err) {
            expect(err).toBeInstanceOf(AcdError);
            continue;
          }
          expect(res.stats.errors).toBe(0);
          total += res.records.length;
          expect(res.stats.in).toBe(items.length);
          checkNoRawDomestic(
            res.records,
            e.table,
            canonicalDomestic(
              items.flatMap((x) => x.raw),
              e.table,
            ),
            (a) => e.keys.key.cryptoPan.pseudonymiseAddress(a),
          );
        }
      }),
      { numRuns: 150 },
    );
    expect(total).toBeGreaterThan(50);
  });
});
