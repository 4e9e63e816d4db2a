import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlowBatch, type Fields, type FlowRecord } from '../../common/schema/index.ts';
import {
  encodeIpfixMessage,
  encodeNetflow9Message,
  type EncodeTemplate,
} from '../../simulate/encode/index.ts';
import { ieByName } from './ie/registry.ts';
import { BATCH_COLUMNS, buildShape, decodeGeneric, RecordContext } from './template.ts';
import { collectingSink, datagram, testSession } from './testing.ts';
import { ipv4String, ipv6FromWords } from './values.ts';

const T = Date.UTC(2026, 0, 1);

/** Elements the batch maps, with the lengths an exporter may send them in. */
const CANDIDATES: [string, number[]][] = [
  ['sourceIPv4Address', [4]],
  ['destinationIPv4Address', [4]],
  ['sourceIPv6Address', [16]],
  ['sourceTransportPort', [2]],
  ['destinationTransportPort', [2]],
  ['protocolIdentifier', [1]],
  ['tcpControlBits', [1, 2]],
  ['octetDeltaCount', [4, 8]],
  ['packetDeltaCount', [2, 4, 8]],
  ['reverseOctetDeltaCount', [8]],
  ['flowStartMilliseconds', [8]],
  ['flowEndSeconds', [4]],
  ['ingressInterface', [2, 4]],
  ['egressInterface', [4]],
  ['minimumTTL', [1]],
  ['maximumTTL', [1]],
  ['bgpSourceAsNumber', [2, 4]],
  ['icmpTypeCodeIPv4', [2]],
  ['applicationName', [65535, 8]],
  ['samplingInterval', [4]],
];

const templateArb = fc
  .subarray(CANDIDATES, { minLength: 1 })
  .chain((cs) =>
    fc.tuple(
      fc.shuffledSubarray(cs, { minLength: cs.length }),
      fc.array(fc.nat(), { minLength: cs.length, maxLength: cs.length }),
    ),
  )
  .map(([cs, picks]): EncodeTemplate => ({
    templateId: 256,
    fields: cs.map(([name, lens], i) => ({ name, length: lens[picks[i]! % lens.length]! })),
  }));

function valueFor(name: string, length: number, r: () => number): Fields[string] {
  const def = ieByName(name)!;
  const n = (bits: number): number => Math.floor(r() * 2 ** Math.min(bits, 48));
  switch (def.type) {
    case 'ipv4Address':
      return ipv4String(n(32));
    case 'ipv6Address':
      return ipv6FromWords(n(32), n(32), n(32), n(32));
    case 'string':
      return 'app' + n(8);
    case 'dateTimeMilliseconds':
      return T + n(20);
    case 'dateTimeSeconds':
      return T + n(20) * 1000;
    default:
      return name === 'samplingInterval' ? 1 + n(10) : n(length * 8);
  }
}

describe('compiled templates', () => {
  it('decode full records exactly as the interpreter, and batch rows matching them', () => {
    fc.assert(
      fc.property(templateArb, fc.integer({ min: 1, max: 12 }), fc.integer(), (t, count, seed) => {
        let s = seed >>> 0;
        const r = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
        const recs = Array.from({ length: count }, () =>
          Object.fromEntries(
            t.fields.map((f) => {
              const spec = f as { name: string; length: number };
              return [spec.name, valueFor(spec.name, spec.length, r)];
            }),
          ),
        );
        const bytes = encodeIpfixMessage({
          observationDomainId: 1,
          sequence: 0,
          exportTime: T,
          sets: [
            { kind: 'template', templates: [t] },
            { kind: 'data', template: t, records: recs },
          ],
        });
        const { session } = testSession();
        const sink = collectingSink();
        session.decode(datagram(bytes), sink);
        const got = sink.records as FlowRecord[];
        expect(got.map((x) => x.fields)).toEqual(recs);

        // The interpreter agrees (it is what options records and lists use).
        const shape = buildShape(
          'ipfix',
          0,
          t.fields.map((f) => {
            const d = ieByName((f as { name: string }).name)!;
            return { id: d.id, enterprise: d.enterprise, length: (f as { length: number }).length };
          }),
        );
        const X = new RecordContext();
        const dataStart =
          bytes.length -
          (bytes.length -
            16 -
            (4 +
              4 +
              t.fields.length * 4 +
              t.fields.filter((f) => ieByName((f as { name: string }).name)!.enterprise !== 0).length * 4)) +
          4;
        let o = dataStart;
        for (const rec of recs) {
          const fields: Fields = {};
          expect(decodeGeneric(shape, bytes, o, bytes.length, X, null, fields)).toBe(true);
          expect(fields).toEqual(rec);
          o = X.next;
        }

        // Batch rows carry the same values.
        const batch = new FlowBatch(5);
        const rows: FlowBatch[] = [];
        const out = {
          batch,
          flush: () => {
            const copy = new FlowBatch(5);
            for (const c of BATCH_COLUMNS) (copy[c] as { set(a: ArrayLike<number>): void }).set(batch[c]);
            copy.length = batch.length;
            rows.push(copy);
            batch.clear();
          },
        };
        session.decodeToBatch(
          datagram(
            encodeIpfixMessage({
              observationDomainId: 1,
              sequence: count,
              exportTime: T,
              sets: [{ kind: 'data', template: t, records: recs }],
            }),
          ),
          out,
        );
        out.flush();
        let k = 0;
        for (const b of rows) {
          for (let i = 0; i < b.length; i++, k++) {
            const f = got[k]!.fields;
            const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
            expect(b.srcPort[i]).toBe(num(f.sourceTransportPort));
            expect(b.octets[i]).toBe(num(f.octetDeltaCount));
            expect(b.packets[i]).toBe(num(f.packetDeltaCount));
            expect(b.revOctets[i]).toBe(num(f.reverseOctetDeltaCount));
            expect(b.inIf[i]).toBe(num(f.ingressInterface));
            expect(b.srcAs[i]).toBe(num(f.bgpSourceAsNumber));
            expect(b.icmpTypeCode[i]).toBe(num(f.icmpTypeCodeIPv4));
            expect(b.start[i]).toBe(num(f.flowStartMilliseconds));
            expect(b.end[i]).toBe(num(f.flowEndSeconds));
            expect(b.samplingInterval[i]).toBe(num(f.samplingInterval) || 1);
            expect(b.recordIndex[i]).toBe(k);
            expect(b.templateId[i]).toBe(256);
            if (typeof f.sourceIPv6Address === 'string') {
              expect(b.ipVersion[i]).toBe(6);
              expect(
                ipv6FromWords(b.src[i * 4]!, b.src[i * 4 + 1]!, b.src[i * 4 + 2]!, b.src[i * 4 + 3]!),
              ).toBe(f.sourceIPv6Address);
            } else if (typeof f.sourceIPv4Address === 'string') {
              expect(b.ipVersion[i]).toBe(4);
              expect(ipv4String(b.src[i * 4]!)).toBe(f.sourceIPv4Address);
            }
          }
        }
        expect(k).toBe(count);
      }),
      { numRuns: 150 },
    );
  });

  it('write every per-row column of FlowBatch', () => {
    const batch = new FlowBatch(1);
    const columns = Object.entries(batch)
      .filter(([, v]) => ArrayBuffer.isView(v))
      .map(([k]) => k)
      .sort();
    expect([...BATCH_COLUMNS].sort()).toEqual(columns);
  });

  it('overwrite stale batch rows completely', () => {
    const t: EncodeTemplate = { templateId: 256, fields: ['sourceTransportPort'] };
    const { session } = testSession();
    const batch = new FlowBatch(4);
    for (const c of BATCH_COLUMNS) (batch[c] as { fill(v: number): void }).fill(7);
    session.decode(
      datagram(
        encodeIpfixMessage({
          observationDomainId: 0,
          sequence: 0,
          exportTime: T,
          sets: [{ kind: 'template', templates: [t] }],
        }),
      ),
      collectingSink(),
    );
    session.decodeToBatch(
      datagram(
        encodeIpfixMessage({
          observationDomainId: 0,
          sequence: 0,
          exportTime: T,
          sets: [{ kind: 'data', template: t, records: [{ sourceTransportPort: 80 }] }],
        }),
      ),
      { batch, flush: () => batch.clear() },
    );
    const fresh = new FlowBatch(4);
    fresh.add();
    fresh.srcPort[0] = 80;
    fresh.templateId[0] = 256;
    for (const c of BATCH_COLUMNS) {
      const width = c === 'src' || c === 'dst' ? 4 : 1;
      expect([c, Array.from(batch[c].subarray(0, width))]).toEqual([
        c,
        Array.from(fresh[c].subarray(0, width)),
      ]);
    }
  });

  it('derive absolute times from sysUptime in NetFlow v9 across the uptime wrap', () => {
    const t: EncodeTemplate = { templateId: 256, fields: ['flowStartSysUpTime', 'flowEndSysUpTime'] };
    const { session } = testSession();
    const sink = collectingSink();
    session.decode(
      datagram(
        encodeNetflow9Message({
          sourceId: 0,
          sequence: 0,
          exportTime: T,
          sysUptime: 1000, // wrapped: the flow started before the wrap
          sets: [
            { kind: 'template', templates: [t] },
            {
              kind: 'data',
              template: t,
              records: [{ flowStartSysUpTime: 4294967296 - 1000, flowEndSysUpTime: 500 }],
            },
          ],
        }),
      ),
      sink,
    );
    expect((sink.records[0] as FlowRecord).fields).toMatchObject({
      flowStartMilliseconds: T - 2000,
      flowEndMilliseconds: T - 500,
    });
  });
});
