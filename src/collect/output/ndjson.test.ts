import { Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecodedRecord, FieldValue, FlowRecord, OptionsRecord } from '../../common/schema/index.ts';
import { formatNdjson, isoOrNumber, NdjsonWriter, toNdjsonObject } from './ndjson.ts';

const observation = {
  exporter: '192.0.2.1',
  observationDomainId: 7,
  templateId: 256,
  sequence: 42,
  exportTime: Date.UTC(2026, 0, 2, 3, 4, 5),
};

const flow: FlowRecord = {
  recordType: 'flow',
  protocol: 'ipfix',
  observation,
  recordIndex: 0,
  samplingInterval: 100,
  fields: {
    sourceIPv4Address: '10.0.0.1',
    destinationTransportPort: 443,
    octetDeltaCount: 1500,
    flowStartMilliseconds: Date.UTC(2026, 0, 2, 3, 4, 0, 123),
    flowEndMilliseconds: Date.UTC(2026, 0, 2, 3, 4, 1, 456) + 0.789,
    samplingInterval: 5, // as exported; the effective interval wins at the top level
    subTemplateList: [{ flowStartSeconds: Date.UTC(2026, 0, 1), octetDeltaCount: 1 }],
  },
};

const opts: OptionsRecord = {
  recordType: 'options',
  protocol: 'netflow9',
  observation,
  recordIndex: 1,
  scope: { meteringProcessId: 1 },
  fields: { samplingInterval: 1000, samplerId: 3 },
};

describe('ndjson formatter', () => {
  it('flattens the observation and prints IANA names with ISO 8601 millisecond timestamps', () => {
    expect(toNdjsonObject(flow)).toEqual({
      recordType: 'flow',
      protocol: 'ipfix',
      exporter: '192.0.2.1',
      observationDomainId: 7,
      templateId: 256,
      sequence: 42,
      exportTime: '2026-01-02T03:04:05.000Z',
      samplingInterval: 100,
      sourceIPv4Address: '10.0.0.1',
      destinationTransportPort: 443,
      octetDeltaCount: 1500,
      flowStartMilliseconds: '2026-01-02T03:04:00.123Z',
      flowEndMilliseconds: '2026-01-02T03:04:01.456Z',
      subTemplateList: [{ flowStartSeconds: '2026-01-01T00:00:00.000Z', octetDeltaCount: 1 }],
    });
  });

  it('prints options scope fields under scope and keeps exported option values', () => {
    const o = toNdjsonObject(opts);
    expect(o.scope).toEqual({ meteringProcessId: 1 });
    expect(o.samplingInterval).toBe(1000);
    expect(o.recordType).toBe('options');
  });

  it('writes one JSON object per line', () => {
    const line = formatNdjson(flow);
    expect(line.includes('\n')).toBe(false);
    expect(JSON.parse(line)).toEqual(toNdjsonObject(flow));
  });

  it('leaves timestamps a Date cannot represent as numbers instead of throwing', () => {
    expect(isoOrNumber(1e20)).toBe(1e20);
    expect(isoOrNumber(Number.NaN)).toBeNaN();
    expect(isoOrNumber(0)).toBe('1970-01-01T00:00:00.000Z');
  });
});

/** A writable that completes no write until `release()`, then accepts everything. */
class SlowSink extends Writable {
  chunks: string[] = [];
  private blocked = true;
  private pending: (() => void) | undefined;
  constructor() {
    super({ highWaterMark: 16 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(chunk.toString());
    if (this.blocked) this.pending = cb;
    else cb();
  }
  release(): void {
    this.blocked = false;
    const cb = this.pending;
    this.pending = undefined;
    cb?.();
  }
  block(): void {
    this.blocked = true;
  }
}

describe('ndjson writer', () => {
  it('buffers into chunks, reports back-pressure until drain, and flushes on close', async () => {
    const sink = new SlowSink();
    let written = 0;
    const w = new NdjsonWriter(sink, { chunkBytes: 1000, onWritten: (n) => (written += n) });
    w.write(flow);
    expect(sink.chunks).toHaveLength(0); // below the chunk size: still buffered
    for (let i = 0; i < 5; i++) w.write(flow);
    expect(sink.chunks.length).toBeGreaterThan(0);
    expect(w.backpressured).toBe(true);
    let drained = false;
    w.onDrain(() => (drained = true));
    sink.release();
    await new Promise((r) => setImmediate(r));
    expect(drained).toBe(true);
    expect(w.backpressured).toBe(false);
    w.write(opts);
    const closing = w.close();
    await new Promise((r) => setImmediate(r));
    sink.release();
    await closing;
    expect(written).toBe(7);
    const lines = sink.chunks.join('').trimEnd().split('\n');
    expect(lines).toHaveLength(7);
    expect(JSON.parse(lines[6]!)).toMatchObject({ recordType: 'options' });
  });

  it('reports a failing stream from flush instead of crashing', async () => {
    const bad = new Writable({
      write(_c, _e, cb): void {
        cb(new Error('disk full'));
      },
    });
    const w = new NdjsonWriter(bad);
    w.write(flow);
    await expect(w.flush()).rejects.toThrow('disk full');
    w.write(flow); // discarded, no throw
  });
});

describe('ndjson fast formatter', () => {
  const value: fc.Arbitrary<FieldValue> = fc.letrec<{ v: FieldValue }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.double(),
      fc.integer({ min: -1e16, max: 1e16 }),
      fc.constantFrom(0, -1, 8.64e15, -8.64e15, 8.64e15 + 1, -62_167_219_200_001, 253_402_300_800_000),
      fc.string({ unit: 'binary' }),
      fc.boolean(),
      fc.array(tie('v'), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom('flowStartSeconds', 'octetDeltaCount', 'x'), tie('v'), { maxKeys: 3 }),
    ),
  })).v;
  const names = fc.constantFrom(
    'flowStartMilliseconds',
    'flowEndSeconds',
    'sourceIPv4Address',
    'samplingInterval',
    'scope',
    'exporter',
    'sequence',
    'recordType',
    'e9id1',
    'a"b\\\\c',
  );
  const record: fc.Arbitrary<DecodedRecord> = fc
    .record({
      recordType: fc.constantFrom('flow', 'options', 'dns', 'counters'),
      exportTime: fc.oneof(fc.double(), fc.integer({ min: -1e15, max: 1e15 })),
      sequence: fc.nat(),
      fields: fc.dictionary(names, value, { maxKeys: 8 }),
      scope: fc.dictionary(names, value, { maxKeys: 2 }),
      samplingInterval: fc.nat(),
    })
    .map((x) => {
      const base = {
        protocol: 'ipfix' as const,
        observation: { ...observation, sequence: x.sequence, exportTime: x.exportTime },
        recordIndex: 0,
        fields: x.fields,
      };
      if (x.recordType === 'flow')
        return { ...base, recordType: 'flow', samplingInterval: x.samplingInterval };
      if (x.recordType === 'options') return { ...base, recordType: 'options', scope: x.scope };
      return { ...base, recordType: x.recordType };
    });

  it('prints exactly what JSON.stringify(toNdjsonObject(r)) prints, for any record', () => {
    fc.assert(
      fc.property(record, (r) => {
        expect(formatNdjson(r)).toBe(JSON.stringify(toNdjsonObject(r)));
      }),
      { numRuns: 500 },
    );
  });
});
