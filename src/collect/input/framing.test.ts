import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IpfixFramingError } from './errors.ts';
import { ByteQueue, createIpfixFramer } from './framing.ts';
import { MAX_IPFIX_MESSAGE_BYTES, MIN_IPFIX_MESSAGE_BYTES } from './limits.ts';
import { be16, concat, ipfixMessage } from './testdata/build.ts';

const m1 = ipfixMessage(1, 20);
const m2 = ipfixMessage(2, 300, 0xcd);
const m3 = ipfixMessage(3, 0);
const stream = concat(m1, m2, m3);

function frame(chunks: Uint8Array[]) {
  const f = createIpfixFramer();
  const out: Uint8Array[] = [];
  for (const c of chunks) out.push(...f.push(c));
  return { f, out };
}

describe('ByteQueue', () => {
  it('returns views within a chunk and copies once across chunks', () => {
    const a = Uint8Array.of(1, 2, 3);
    const q = new ByteQueue();
    q.push(a);
    q.push(Uint8Array.of(4, 5));
    const v = q.peek(2)!;
    expect(v.buffer).toBe(a.buffer);
    expect([...q.take(4)!]).toEqual([1, 2, 3, 4]);
    expect(q.length).toBe(1);
    expect(q.peek(2)).toBeUndefined();
    expect(q.skip(10)).toBe(1);
  });
});

describe('IPFIX-over-TCP framer', () => {
  it('splits messages back to back in one chunk without copying', () => {
    const { out } = frame([stream]);
    expect(out.map((m) => m.length)).toEqual([m1.length, m2.length, m3.length]);
    expect(out[1]!.buffer).toBe(stream.buffer);
  });

  it('reassembles messages split across chunks at any point', () => {
    for (let cut = 1; cut < stream.length; cut += 7) {
      const { out } = frame([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(out.map((m) => [...m])).toEqual([[...m1], [...m2], [...m3]]);
    }
    const bytewise = frame([...stream].map((b) => Uint8Array.of(b)));
    expect(bytewise.out).toHaveLength(3);
  });

  it('enters a typed error state on a bad version, short or long length', () => {
    const cases: [Uint8Array, string][] = [
      [concat(be16(9), be16(16), new Uint8Array(12)), 'bad-version'],
      [concat(be16(10), be16(15), new Uint8Array(12)), 'too-short'],
    ];
    for (const [bytes, reason] of cases) {
      const { f, out } = frame([m1, bytes, m2]);
      expect(out).toHaveLength(1);
      expect(f.error).toBeInstanceOf(IpfixFramingError);
      expect(f.error?.reason).toBe(reason);
      expect(f.error?.offset).toBe(m1.length);
      expect(f.push(m2)).toEqual([]);
    }
    const small = createIpfixFramer({ maxMessageBytes: 100 });
    expect(small.push(m2)).toEqual([]);
    expect(small.error?.reason).toBe('too-long');
  });

  it('resynchronises on the next plausible header when asked', () => {
    const f = createIpfixFramer({ syncOnStart: true });
    const out = f.push(concat(Uint8Array.of(1, 2, 3, 0, 10), m2.subarray(0, 10)));
    expect(out).toHaveLength(0);
    expect(f.push(concat(m2.subarray(10), m3)).map((m) => m.length)).toEqual([m2.length, m3.length]);
    expect(f.skippedBytes).toBe(5);
  });

  it('never throws, never loops and never exceeds the message limit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 80 }), fc.constantFrom(m1, m2, m3)), { maxLength: 12 }),
        fc.boolean(),
        (chunks, sync) => {
          const f = createIpfixFramer({ syncOnStart: sync });
          let total = 0;
          for (const c of chunks) {
            for (const m of f.push(c)) {
              expect(m.length).toBeGreaterThanOrEqual(MIN_IPFIX_MESSAGE_BYTES);
              expect(m.length).toBeLessThanOrEqual(MAX_IPFIX_MESSAGE_BYTES);
              expect(((m[0] ?? 0) << 8) | (m[1] ?? 0)).toBe(10);
              total += m.length;
            }
            if (f.error) expect(f.error).toBeInstanceOf(IpfixFramingError);
          }
          expect(total + f.buffered).toBeLessThanOrEqual(chunks.reduce((a, c) => a + c.length, 0));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
