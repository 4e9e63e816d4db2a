import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_IPFIX_MESSAGE_BYTES, MAX_NETFLOW9_MESSAGE_BYTES } from './limits.ts';
import { createRawExportSplitter, type RawFileOutput } from './rawfile.ts';
import { be16, concat, ipfixMessage, v5Message, v9Message } from './testdata/build.ts';

function split(bytes: Uint8Array, chunk = bytes.length || 1): RawFileOutput {
  const s = createRawExportSplitter();
  const all: RawFileOutput = { messages: [], events: [] };
  for (let i = 0; i < bytes.length; i += chunk) {
    const o = s.push(bytes.subarray(i, i + chunk));
    all.messages.push(...o.messages);
    all.events.push(...o.events);
  }
  const e = s.end();
  all.messages.push(...e.messages);
  all.events.push(...e.events);
  return all;
}

const a = ipfixMessage(1, 40);
const b = v9Message(2, 16);
const c = v5Message(3);
const d = v9Message(3, 400);
const file = concat(a, b, c, d, b, a);

describe('raw export file splitter', () => {
  it('splits IPFIX, NetFlow v9 and v5 messages back to back', () => {
    const r = split(file);
    expect(r.messages.map((m) => [m.protocol, m.bytes.length])).toEqual([
      ['ipfix', a.length],
      ['netflow9', b.length],
      ['netflow5', c.length],
      ['netflow9', d.length],
      ['netflow9', b.length],
      ['ipfix', a.length],
    ]);
    expect(r.messages[3]!.offset).toBe(a.length + b.length + c.length);
    expect(r.events).toEqual([]);
  });

  it('gives the same result whatever the chunking', () => {
    const whole = split(file).messages.map((m) => [...m.bytes]);
    for (const chunk of [1, 2, 5, 19, 64])
      expect(split(file, chunk).messages.map((m) => [...m.bytes])).toEqual(whole);
  });

  it('skips garbage between messages with one event per run and resynchronises', () => {
    const junk = Uint8Array.from({ length: 37 }, (_, i) => 0xe0 + (i % 16));
    const r = split(concat(a, junk, c, junk, b));
    expect(r.messages.map((m) => m.protocol)).toEqual(['ipfix', 'netflow5', 'netflow9']);
    expect(r.events).toEqual([
      { kind: 'garbage', offset: a.length, bytes: junk.length },
      { kind: 'garbage', offset: a.length + junk.length + c.length, bytes: junk.length },
    ]);
  });

  it('reports a truncated last message', () => {
    const r = split(concat(a, c.subarray(0, 100)));
    expect(r.messages).toHaveLength(1);
    expect(r.events).toEqual([
      { kind: 'truncated-message', offset: a.length, bytes: 100, protocol: 'netflow5' },
    ]);
    const r9 = split(concat(b, d.subarray(0, 60)));
    expect(r9.events).toEqual([
      { kind: 'truncated-message', offset: b.length, bytes: 60, protocol: 'netflow9' },
    ]);
  });

  it('does not take an IPFIX header whose sets do not tile the message', () => {
    const bad = a.slice();
    bad.set(be16(5), 16); // set id 5 is reserved
    const r = split(concat(bad, c));
    expect(r.messages.map((m) => m.protocol)).toEqual(['netflow5']);
    expect(r.events[0]).toMatchObject({ kind: 'garbage', offset: 0 });
  });

  it('cuts a NetFlow v9 flowset walk at the message size limit', () => {
    const fs = concat(be16(256), be16(4000), new Uint8Array(3996));
    const huge = concat(v9Message(1, 0).subarray(0, 20), ...Array.from({ length: 17 }, () => fs));
    const r = split(huge);
    const cutAt = 20 + 16 * 4000;
    expect(cutAt).toBeLessThanOrEqual(MAX_NETFLOW9_MESSAGE_BYTES);
    expect(r.messages.map((m) => m.bytes.length)).toEqual([cutAt]);
    expect(r.events).toEqual([
      { kind: 'netflow9-cut', offset: 0, bytes: cutAt },
      { kind: 'garbage', offset: cutAt, bytes: 4000 },
    ]);
  });

  it('never throws, never loops, and accounts for every byte within the limits', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 60 }), fc.constantFrom(a, b, c, d)), { maxLength: 10 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 5 }),
        fc.integer({ min: 1, max: 300 }),
        (parts, muts, chunk) => {
          const bytes = concat(...parts);
          for (const [i, v] of muts) if (bytes.length) bytes[i % bytes.length] = v;
          const r = split(bytes, chunk);
          let accounted = 0;
          for (const m of r.messages) {
            expect(m.bytes.length).toBeLessThanOrEqual(
              Math.max(MAX_IPFIX_MESSAGE_BYTES, MAX_NETFLOW9_MESSAGE_BYTES),
            );
            accounted += m.bytes.length;
          }
          for (const e of r.events) if (e.kind !== 'netflow9-cut') accounted += e.bytes;
          expect(accounted).toBe(bytes.length);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
