import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONTROL,
  createFrameStreamReader,
  createFrameStreamReceiver,
  encodeControlFrame,
  encodeDataFrame,
  type Frame,
} from './frame-stream.ts';
import { FrameStreamError } from './errors.ts';
import { DEFAULT_MAX_FRAME_BYTES, DNSTAP_CONTENT_TYPE, MAX_CONTROL_FRAME_BYTES } from './limits.ts';
import { looksLikeDnstapStream } from './sniff.ts';

/** Frame Streams file written by fstrm_capture from unbound 1.17.1 (testdata/README.md). */
const fixture = new Uint8Array(readFileSync(new URL('./testdata/unbound-1.17.1.fstrm', import.meta.url)));

function readAll(
  chunks: Uint8Array[],
  maxFrameBytes?: number,
): { frames: Frame[]; error: FrameStreamError | undefined } {
  const r = createFrameStreamReader(maxFrameBytes === undefined ? {} : { maxFrameBytes });
  const frames: Frame[] = [];
  for (const c of chunks) frames.push(...r.push(c));
  return { frames, error: r.error };
}

function split(b: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(b.subarray(prev, p));
    prev = p;
  }
  out.push(b.subarray(prev));
  return out;
}

describe('frame streams reader', () => {
  it('reads the unbound capture: START, 48 data frames, STOP', () => {
    const { frames, error } = readAll([fixture]);
    expect(error).toBeUndefined();
    expect(frames).toHaveLength(50);
    expect(frames[0]).toEqual({ kind: 'control', type: CONTROL.START, contentTypes: [DNSTAP_CONTENT_TYPE] });
    expect(frames[49]).toEqual({ kind: 'control', type: CONTROL.STOP, contentTypes: [] });
    expect(frames.slice(1, 49).every((f) => f.kind === 'data')).toBe(true);
  });

  it('gives the same frames whatever the chunking (one byte at a time too)', () => {
    const whole = readAll([fixture]).frames;
    const bytewise = readAll(Array.from(fixture, (x) => Uint8Array.of(x))).frames;
    expect(bytewise).toEqual(whole);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 30 }), (cuts) => {
        expect(readAll(split(fixture, cuts)).frames).toEqual(whole);
      }),
      { numRuns: 40 },
    );
  });

  it('refuses a data frame above the limit before buffering it', () => {
    const r = createFrameStreamReader({ maxFrameBytes: 100 });
    expect(r.push(Uint8Array.of(0, 0, 0, 101))).toEqual([]);
    expect(r.error).toBeInstanceOf(FrameStreamError);
    expect(r.error?.reason).toBe('frame-too-long');
    expect(r.push(encodeDataFrame(new Uint8Array(5)))).toEqual([]);
  });

  it('refuses control frames of impossible lengths and unknown types', () => {
    expect(readAll([Uint8Array.of(0, 0, 0, 0, 0, 0, 2, 1)]).error?.reason).toBe('bad-control-length');
    expect(readAll([Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 2)]).error?.reason).toBe('bad-control-length');
    expect(readAll([Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 9)]).error?.reason).toBe(
      'bad-control-type',
    );
    expect(
      readAll([Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 12, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 9)]).error?.reason,
    ).toBe('bad-control-field');
  });

  it('round-trips encoded control and data frames', () => {
    const bytes = [
      encodeControlFrame(CONTROL.READY, [DNSTAP_CONTENT_TYPE, 'protobuf:other']),
      encodeDataFrame(Uint8Array.of(1, 2, 3)),
      encodeControlFrame(CONTROL.FINISH),
    ];
    expect(readAll(bytes).frames).toEqual([
      { kind: 'control', type: CONTROL.READY, contentTypes: [DNSTAP_CONTENT_TYPE, 'protobuf:other'] },
      { kind: 'data', bytes: Uint8Array.of(1, 2, 3) },
      { kind: 'control', type: CONTROL.FINISH, contentTypes: [] },
    ]);
  });

  it('recognises dnstap files by their first bytes', () => {
    expect(looksLikeDnstapStream(fixture.subarray(0, 64))).toBe(true);
    expect(looksLikeDnstapStream(encodeControlFrame(CONTROL.START, ['protobuf:other']))).toBe(false);
    expect(looksLikeDnstapStream(encodeControlFrame(CONTROL.START))).toBe(true);
    expect(looksLikeDnstapStream(Uint8Array.of(0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))).toBe(false);
  });
});

describe('frame streams receiver', () => {
  it('performs the bidirectional handshake: READY -> ACCEPT, START, data, STOP -> FINISH', () => {
    const r = createFrameStreamReceiver({ bidirectional: true });
    const a = r.push(encodeControlFrame(CONTROL.READY, ['protobuf:other', DNSTAP_CONTENT_TYPE]));
    expect(a.replies).toEqual([encodeControlFrame(CONTROL.ACCEPT, [DNSTAP_CONTENT_TYPE])]);
    expect(r.state).toBe('await-start');
    const b = r.push(
      new Uint8Array([
        ...encodeControlFrame(CONTROL.START, [DNSTAP_CONTENT_TYPE]),
        ...encodeDataFrame(Uint8Array.of(7)),
        ...encodeDataFrame(Uint8Array.of(8, 9)),
      ]),
    );
    expect(b).toEqual({ data: [Uint8Array.of(7), Uint8Array.of(8, 9)], replies: [] });
    const c = r.push(encodeControlFrame(CONTROL.STOP));
    expect(c.replies).toEqual([encodeControlFrame(CONTROL.FINISH)]);
    expect(r.state).toBe('finished');
    expect(r.dataFrames).toBe(2);
    expect(r.controlFrames).toBe(3);
  });

  it('refuses a READY without the dnstap content type', () => {
    const r = createFrameStreamReceiver({ bidirectional: true });
    expect(r.push(encodeControlFrame(CONTROL.READY, ['protobuf:other'])).replies).toEqual([]);
    expect(r.state).toBe('failed');
    expect(r.error?.reason).toBe('content-type-mismatch');
  });

  it('refuses data before START and handshake frames out of order', () => {
    const uni = createFrameStreamReceiver({ bidirectional: false });
    uni.push(encodeDataFrame(Uint8Array.of(1)));
    expect(uni.error?.reason).toBe('unexpected-data');
    const bi = createFrameStreamReceiver({ bidirectional: true });
    bi.push(encodeControlFrame(CONTROL.START, [DNSTAP_CONTENT_TYPE]));
    expect(bi.error?.reason).toBe('unexpected-control');
  });

  it('reads a file (unidirectional) without replying', () => {
    const r = createFrameStreamReceiver({ bidirectional: false });
    const out = r.push(fixture);
    expect(out.replies).toEqual([]);
    expect(out.data).toHaveLength(48);
    expect(r.state).toBe('finished');
  });
});

describe('frame streams properties', () => {
  it('never throws, never buffers more than one frame, on random and mutated streams', () => {
    const maxFrameBytes = 1024;
    const check = (chunks: Uint8Array[]): void => {
      const r = createFrameStreamReader({ maxFrameBytes });
      const rx = createFrameStreamReceiver({ bidirectional: true, maxFrameBytes });
      for (const c of chunks) {
        for (const f of r.push(c)) {
          if (f.kind === 'data') expect(f.bytes.length).toBeLessThanOrEqual(maxFrameBytes);
        }
        rx.push(c);
        expect(r.buffered).toBeLessThanOrEqual(maxFrameBytes + 8 + c.length);
        expect(r.buffered).toBeLessThanOrEqual(Math.max(maxFrameBytes, MAX_CONTROL_FRAME_BYTES) + 8);
      }
      if (r.error) expect(r.error).toBeInstanceOf(FrameStreamError);
      if (rx.error) expect(rx.error).toBeInstanceOf(FrameStreamError);
    };
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 10 }), check), {
      numRuns: 1000,
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (edits, cuts) => {
          const b = Uint8Array.from(fixture);
          for (const [p, v] of edits) b[p % b.length] = v;
          check(split(b, cuts));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('uses a default frame limit large enough for two maximal DNS messages', () => {
    expect(DEFAULT_MAX_FRAME_BYTES).toBeGreaterThan(2 * 65_535 + 1024);
  });
});
