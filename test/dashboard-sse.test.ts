/**
 * The dashboard's server-sent-events parser (dashboard/src/sse.ts): the stream is untrusted input,
 * so besides the examples of the specification, properties over arbitrary text and arbitrary
 * chunkings: it never throws, never keeps more than its limits, and chunking does not change
 * the events.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createSseParser } from '../dashboard/src/sse.ts';
import type { SseEvent } from '../dashboard/src/sse.ts';

function parseAll(chunks: string[], limits?: { maxLineChars: number; maxEventChars: number }): SseEvent[] {
  const p = createSseParser(limits);
  return chunks.flatMap((c) => p.push(c));
}

/** Splits `text` at the given cut points. */
function chunk(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let last = 0;
  for (const p of points) {
    out.push(text.slice(last, p));
    last = p;
  }
  out.push(text.slice(last));
  return out;
}

describe('dashboard SSE parser', () => {
  it('reads the events the API sends: id, event type and JSON data', () => {
    const events = parseAll([
      'id: 7\nevent: stats\ndata: {"records":1}\n\n',
      ': heartbeat\n\nid: 8\nevent: alert\ndata: {"id":"a"}\n\n',
    ]);
    expect(events).toEqual([
      { type: 'stats', data: '{"records":1}', lastEventId: '7' },
      { type: 'alert', data: '{"id":"a"}', lastEventId: '8' },
    ]);
  });

  it('joins data lines, defaults the type to message, and accepts CR, LF and CRLF line ends', () => {
    expect(parseAll(['data: a\r\ndata:b\rdata: c\n\r\n'])).toEqual([
      { type: 'message', data: 'a\nb\nc', lastEventId: '' },
    ]);
  });

  it('keeps a CRLF split across two chunks as one line end', () => {
    expect(parseAll(['data: x\r', '', '\n\r', '\n'])).toEqual([
      { type: 'message', data: 'x', lastEventId: '' },
    ]);
  });

  it('does not dispatch an event without data and reads retry', () => {
    const p = createSseParser();
    expect(p.push('event: alert\nretry: 1500\n\n')).toEqual([]);
    expect(p.retryMs).toBe(1500);
  });

  it('drops an over-long line and its event instead of buffering it', () => {
    const p = createSseParser({ maxLineChars: 16, maxEventChars: 64 });
    const events = [...p.push(`data: ${'x'.repeat(40)}`), ...p.push('\n\n'), ...p.push('data: ok\n\n')];
    expect(events).toEqual([{ type: 'message', data: 'ok', lastEventId: '' }]);
    expect(p.dropped).toBe(2);
  });

  it('property: any text in any chunking gives the same events as in one piece, within the limits', () => {
    const limits = { maxLineChars: 64, maxEventChars: 256 };
    const line = fc.oneof(
      fc.constantFrom('', ':c', 'event: alert', 'id: 5', 'retry: 10', 'data: {}'),
      fc.string({ maxLength: 80 }),
      fc.string({ maxLength: 20 }).map((s) => `data: ${s}`),
    );
    const text = fc
      .tuple(
        fc.array(line, { maxLength: 30 }),
        fc.array(fc.constantFrom('\n', '\r', '\r\n'), { minLength: 1, maxLength: 30 }),
      )
      .map(([lines, ends]) => lines.map((l, i) => l + (ends[i % ends.length] ?? '\n')).join(''));
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 10 }), (t, cuts) => {
        const whole = parseAll([t], limits);
        const pieces = parseAll(chunk(t, cuts), limits);
        expect(pieces).toEqual(whole);
        for (const e of whole) expect(e.data.length).toBeLessThanOrEqual(limits.maxEventChars);
      }),
      { numRuns: 300 },
    );
  });
});
