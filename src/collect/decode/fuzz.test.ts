/**
 * Property tests (CONVENTIONS habit 10): random and mutated messages never make the session throw,
 * never hang, never exceed the named limits, and keep its counters consistent.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlowBatch, type DecodedRecord } from '../../common/schema/index.ts';
import {
  encodeIpfixMessage,
  encodeNetflow5Message,
  encodeNetflow9Message,
  type EncodeTemplate,
} from '../../simulate/encode/index.ts';
import {
  MAX_FIELDS_PER_TEMPLATE,
  MAX_RECORDS_PER_SET,
  MAX_SETS_PER_MESSAGE,
  NETFLOW5_MAX_RECORDS,
} from './limits.ts';
import { MALFORMED_REASONS } from './metrics.ts';
import { collectingSink, datagram, testSession } from './testing.ts';

const T = Date.UTC(2026, 0, 1);
const FLOW: EncodeTemplate = {
  templateId: 256,
  fields: [
    'sourceIPv4Address',
    'destinationIPv6Address',
    'sourceTransportPort',
    'octetDeltaCount',
    'flowStartSysUpTime',
    'applicationName',
    { name: 'basicList', list: { kind: 'basicList', element: 'interfaceName' } },
  ],
};
const OPTS: EncodeTemplate = { templateId: 257, scopeCount: 1, fields: ['selectorId', 'samplingInterval'] };
const V9: EncodeTemplate = {
  templateId: 300,
  fields: ['sourceIPv4Address', { name: 'packetDeltaCount', length: 4 }, 'flowEndSysUpTime', 'samplerId'],
};
const V9OPT: EncodeTemplate = {
  templateId: 301,
  scopeCount: 1,
  fields: [{ name: 'scopeSystem' }, 'samplerId', 'samplingInterval'],
};

const seeds: Uint8Array[] = [
  encodeIpfixMessage({
    observationDomainId: 1,
    sequence: 5,
    exportTime: T,
    sets: [
      { kind: 'template', templates: [FLOW] },
      { kind: 'options-template', templates: [OPTS] },
      { kind: 'data', template: OPTS, records: [{ selectorId: 3, samplingInterval: 10 }] },
      {
        kind: 'data',
        template: FLOW,
        records: [
          {
            sourceIPv4Address: '10.0.0.1',
            destinationIPv6Address: '2001:db8::1',
            applicationName: 'x',
            basicList: ['a'],
          },
          { sourceIPv4Address: '10.0.0.2', applicationName: 'y'.repeat(300), basicList: [] },
        ],
      },
      { kind: 'withdrawal', templateIds: [999] },
    ],
  }),
  encodeNetflow9Message({
    sourceId: 3,
    sequence: 9,
    exportTime: T,
    sysUptime: 1000,
    sets: [
      { kind: 'template', templates: [V9] },
      { kind: 'options-template', templates: [V9OPT] },
      { kind: 'data', template: V9OPT, records: [{ scopeSystem: 1, samplerId: 2, samplingInterval: 100 }] },
      { kind: 'data', template: V9, records: [{ sourceIPv4Address: '10.1.1.1', samplerId: 2 }, {}] },
    ],
  }),
  encodeNetflow5Message({
    sequence: 1,
    exportTime: T,
    sysUptime: 100,
    samplingInterval: 10,
    engineType: 0,
    engineId: 1,
    records: [{ sourceIPv4Address: '10.0.0.1' }, {}],
  }),
];

/** A seed message with some bytes overwritten, truncated or extended. */
const mutated = fc
  .tuple(
    fc.constantFrom(...seeds),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    fc.option(fc.nat(), { nil: undefined }),
    fc.uint8Array({ maxLength: 16 }),
  )
  .map(([seed, edits, cut, tail]) => {
    const b = new Uint8Array([...seed, ...tail]);
    for (const [pos, v] of edits) b[pos % b.length] = v;
    return cut === undefined ? b : b.subarray(0, cut % (b.length + 1));
  });

/** Random bytes behind a valid-looking version number, so that they reach the set parsers. */
const randomish = fc
  .tuple(fc.constantFrom(5, 9, 10, 7), fc.uint8Array({ maxLength: 512 }))
  .map(([v, rest]) => new Uint8Array([0, v, ...rest]));

function checkRecord(r: DecodedRecord): void {
  expect(Object.keys(r.fields).length).toBeLessThanOrEqual(MAX_FIELDS_PER_TEMPLATE + 2);
  expect(r.recordIndex).toBeGreaterThanOrEqual(0);
  if (r.recordType === 'flow') expect(r.samplingInterval).toBeGreaterThan(0);
}

describe('decoder session properties', () => {
  it('never throws on random or mutated input, in order, into records or batches', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(mutated, randomish), { minLength: 1, maxLength: 12 }), (messages) => {
        const { session, metrics } = testSession({ pendingMaxSets: 4 });
        const sink = collectingSink();
        const batch = new FlowBatch(16);
        let rows = 0;
        const out = {
          batch,
          flush: () => {
            rows += batch.length;
            batch.clear();
          },
        };
        messages.forEach((m, i) => {
          // Seeds first so that later mutants meet known templates.
          session.decode(datagram(seeds[i % seeds.length]!), sink);
          if (i % 2 === 0) session.decode(datagram(m), sink);
          else session.decodeToBatch(datagram(m), out, sink);
        });
        session.tick(T + 10 * 60_000, sink);
        out.flush();
        sink.records.forEach(checkRecord);
        for (const e of sink.events) {
          // NetFlow/IPFIX reasons are a closed set (metric labels); sFlow's are descriptive text
          // counted under the single `sflow` reason.
          if (e.kind === 'malformed' && e.protocol !== 'sflow5')
            expect(MALFORMED_REASONS).toContain(e.reason);
          if (e.kind === 'malformed' && e.protocol === 'sflow5') expect(e.reason.length).toBeGreaterThan(0);
        }
        // Counters agree with what came out.
        const snap = metrics.snapshot();
        const counted = Object.entries(snap)
          .filter(([k]) => k.startsWith('decode_records{'))
          .reduce((s, [, v]) => s + v, 0);
        expect(counted).toBe(sink.records.length + rows);
        const malformed = Object.entries(snap)
          .filter(([k]) => k.startsWith('decode_malformed{'))
          .reduce((s, [, v]) => s + v, 0);
        expect(malformed).toBe(sink.events.filter((e) => e.kind === 'malformed').length);
        const held = session.exporters().reduce((s, x) => s + x.templates, 0);
        expect(snap.decode_templates_held).toBe(held);
      }),
      { numRuns: 400 },
    );
  });

  it('stops at the named limits', () => {
    const { session, metrics } = testSession();
    const sink = collectingSink();
    // MAX_SETS_PER_MESSAGE + 10 empty sets.
    const sets = Array.from({ length: MAX_SETS_PER_MESSAGE + 10 }, () => ({
      kind: 'raw' as const,
      setId: 2,
      body: new Uint8Array(0),
    }));
    session.decode(
      datagram(encodeIpfixMessage({ observationDomainId: 0, sequence: 0, exportTime: T, sets })),
      sink,
    );
    expect(metrics.snapshot()['decode_malformed{reason="too-many-sets"}']).toBe(1);
    // A template with MAX_FIELDS_PER_TEMPLATE + 1 fields.
    const big: EncodeTemplate = {
      templateId: 256,
      fields: Array.from({ length: MAX_FIELDS_PER_TEMPLATE + 1 }, () => 'protocolIdentifier'),
    };
    session.decode(
      datagram(
        encodeIpfixMessage({
          observationDomainId: 0,
          sequence: 0,
          exportTime: T,
          sets: [{ kind: 'template', templates: [big] }],
        }),
      ),
      sink,
    );
    expect(metrics.snapshot()['decode_malformed{reason="template-too-many-fields"}']).toBe(1);
    // More than MAX_RECORDS_PER_SET one-byte records in one set.
    const tiny: EncodeTemplate = { templateId: 258, fields: ['protocolIdentifier'] };
    session.decode(
      datagram(
        encodeIpfixMessage({
          observationDomainId: 0,
          sequence: 0,
          exportTime: T,
          sets: [{ kind: 'template', templates: [tiny] }],
        }),
      ),
      sink,
    );
    const body = new Uint8Array(MAX_RECORDS_PER_SET + 100);
    session.decode(
      datagram(
        encodeIpfixMessage({
          observationDomainId: 0,
          sequence: 0,
          exportTime: T,
          sets: [{ kind: 'raw', setId: 258, body }],
        }),
      ),
      sink,
    );
    expect(sink.records).toHaveLength(MAX_RECORDS_PER_SET);
    expect(metrics.snapshot()['decode_malformed{reason="too-many-records"}']).toBe(1);
    // A v5 header claiming more records than allowed.
    const v5 = new Uint8Array(24);
    v5[1] = 5;
    v5[2] = (NETFLOW5_MAX_RECORDS + 1) >> 8;
    v5[3] = (NETFLOW5_MAX_RECORDS + 1) & 255;
    session.decode(datagram(v5), sink);
    expect(metrics.snapshot()['decode_malformed{reason="v5-count"}']).toBe(1);
  });

  it('bounds list nesting', () => {
    // A subTemplateList whose template refers to itself, nested far deeper than allowed.
    const { session, metrics } = testSession();
    const sink = collectingSink();
    const self: EncodeTemplate = { templateId: 600, fields: [{ name: 'subTemplateList' }] };
    session.decode(
      datagram(
        encodeIpfixMessage({
          observationDomainId: 0,
          sequence: 0,
          exportTime: T,
          sets: [{ kind: 'template', templates: [self] }],
        }),
      ),
      sink,
    );
    // Build nested content by hand: each level = varlen prefix, semantic, template id 600, inner.
    let inner = new Uint8Array(0);
    for (let d = 0; d < 20; d++) {
      const content = new Uint8Array([0xff, 0x02, 0x58, ...inner]);
      inner =
        content.length < 255
          ? new Uint8Array([content.length, ...content])
          : new Uint8Array([255, content.length >> 8, content.length & 255, ...content]);
    }
    session.decode(
      datagram(
        encodeIpfixMessage({
          observationDomainId: 0,
          sequence: 0,
          exportTime: T,
          sets: [{ kind: 'raw', setId: 600, body: inner }],
        }),
      ),
      sink,
    );
    expect(metrics.snapshot()['decode_malformed{reason="list-too-deep"}']).toBe(1);
  });
});
