import fc from 'fast-check';
import { Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch, MAX_BATCH_RECORDS } from './codec.ts';
import { BatchDecodeError, BatchTooLargeError } from './errors.ts';
import { sampleRecords } from './testing.ts';

describe('batch codec', () => {
  it('round-trips records, including large counters, nested values and unicode', () => {
    const records = sampleRecords('prov-a', 50);
    records[3]!.fields.octetDeltaCount = 2 ** 53 - 1;
    records[4]!.fields.postOctetDeltaCount = '18446744073709551615';
    records[5]!.fields.subTemplateList = [
      { a: 1, b: 'x' },
      { a: -2.5, b: 'ÿ日本' },
    ];
    records[6]!.fields.flag = true;
    records[7]!.provenance = { ...records[7]!.provenance, feedId: 'feed-2', selectorIds: ['s1', 's2'] };
    const enc = encodeBatch('prov-a', 2, 'prov-a.e1.9', records, 1234);
    const dec = decodeBatch(enc.bytes);
    expect(dec).toEqual({
      batchId: 'prov-a.e1.9',
      providerId: 'prov-a',
      partition: 2,
      createdAt: 1234,
      records,
    });
    expect(enc.recordCount).toBe(50);
  });

  it('makes each message decodable on its own (no structures shared across messages)', () => {
    const a = encodeBatch('prov-a', 0, 'prov-a.e1.1', sampleRecords('prov-a', 5), 1);
    const b = encodeBatch('prov-a', 0, 'prov-a.e1.2', sampleRecords('prov-a', 5, 5), 1);
    // Decoding b first with a fresh decoder must work.
    expect(decodeBatch(b.bytes).records).toHaveLength(5);
    expect(decodeBatch(a.bytes).records).toHaveLength(5);
    expect(new Unpackr({ useRecords: true, sequential: true }).unpack(b.bytes.subarray(4))).toBeInstanceOf(
      Array,
    );
  });

  it('stays compact: well under 200 bytes per typical flow record', () => {
    const enc = encodeBatch('prov-a', 0, 'prov-a.e1.1', sampleRecords('prov-a', 1000), 1);
    expect(enc.bytes.length / 1000).toBeLessThan(200);
  });

  it('refuses batches beyond the limits with a typed error', () => {
    expect(() => encodeBatch('prov-a', 0, 'x', sampleRecords('prov-a', MAX_BATCH_RECORDS + 1), 1)).toThrow(
      BatchTooLargeError,
    );
    expect(() => encodeBatch('prov-a', 0, 'x', sampleRecords('prov-a', 100), 1, 1000)).toThrow(
      BatchTooLargeError,
    );
  });

  it('rejects arbitrary bytes with BatchDecodeError only', () => {
    const good = encodeBatch('prov-a', 0, 'prov-a.e1.1', sampleRecords('prov-a', 3), 1).bytes;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(), fc.boolean(), (junk, cut, keepHeader) => {
        const bytes = keepHeader ? new Uint8Array([...good.subarray(0, 4), ...junk]) : junk;
        const mutated = new Uint8Array(good);
        mutated[cut % good.length] = (mutated[cut % good.length]! + 1 + (junk[0] ?? 0)) & 0xff;
        for (const b of [bytes, mutated, good.subarray(0, cut % good.length)]) {
          try {
            const d = decodeBatch(b);
            expect(Array.isArray(d.records)).toBe(true);
          } catch (err) {
            expect(err).toBeInstanceOf(BatchDecodeError);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
