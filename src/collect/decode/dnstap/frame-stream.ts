import { FrameStreamError } from './errors.ts';
import {
  DEFAULT_MAX_FRAME_BYTES,
  DNSTAP_CONTENT_TYPE,
  MAX_CONTENT_TYPE_BYTES,
  MAX_CONTROL_FRAME_BYTES,
  MIN_CONTROL_FRAME_BYTES,
} from './limits.ts';

/**
 * Frame Streams (fstrm), the transport of dnstap. A stream is a sequence of frames, each a
 * big-endian 32-bit length and that many octets. A length of zero is an escape: a control frame
 * follows, as a 32-bit length, a 32-bit control type and fields (32-bit type, 32-bit length,
 * value); the only field type is CONTENT_TYPE. Files are unidirectional (START, data, STOP);
 * sockets do a bidirectional handshake (sender READY, receiver ACCEPT, sender START, data, sender
 * STOP, receiver FINISH).
 */

/** Control frame types. */
export const CONTROL = { ACCEPT: 1, START: 2, STOP: 3, READY: 4, FINISH: 5 } as const;

/** The one control field type: a content type the sender offers or the receiver accepts. */
export const CONTROL_FIELD_CONTENT_TYPE = 1;

const CONTROL_NAMES: readonly string[] = ['', 'ACCEPT', 'START', 'STOP', 'READY', 'FINISH'];

/** Name of a control type, for messages. */
export function controlName(type: number): string {
  return CONTROL_NAMES[type] ?? `CONTROL${type}`;
}

/** One frame read from a stream. Data payloads are views of the pushed bytes, never copied twice. */
export type Frame =
  { kind: 'data'; bytes: Uint8Array } | { kind: 'control'; type: number; contentTypes: string[] };

/** Options of a Frame Streams reader. */
export interface FrameStreamReaderOptions {
  /** Largest data frame accepted (default DEFAULT_MAX_FRAME_BYTES); bounds the buffered bytes. */
  maxFrameBytes?: number;
}

/**
 * A streaming Frame Streams reader: push chunks as they arrive, get whole frames back. It holds at
 * most one incomplete frame (so at most `maxFrameBytes` + 8 octets). Once the stream breaks the
 * format, `error` is set and every later push returns nothing.
 */
export interface FrameStreamReader {
  push(chunk: Uint8Array): Frame[];
  /** Set at the first framing error. */
  readonly error: FrameStreamError | undefined;
  /** Octets held for an incomplete frame. */
  readonly buffered: number;
  /** Octets consumed so far (frames returned). */
  readonly offset: number;
}

/** Creates a Frame Streams reader (see `FrameStreamReader`). */
export function createFrameStreamReader(opts: FrameStreamReaderOptions = {}): FrameStreamReader {
  const maxFrame = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  let pending: Uint8Array = new Uint8Array(0);
  let consumed = 0;
  let error: FrameStreamError | undefined;

  return {
    get error() {
      return error;
    },
    get buffered() {
      return pending.length;
    },
    get offset() {
      return consumed;
    },
    push(chunk: Uint8Array): Frame[] {
      if (error) return [];
      let buf: Uint8Array;
      if (pending.length === 0) buf = chunk;
      else {
        buf = new Uint8Array(pending.length + chunk.length);
        buf.set(pending, 0);
        buf.set(chunk, pending.length);
      }
      const out: Frame[] = [];
      let pos = 0;
      // Each iteration consumes one whole frame (>= 4 octets) or stops: bounded by the chunk size.
      while (buf.length - pos >= 4) {
        const len = u32(buf, pos);
        if (len !== 0) {
          if (len > maxFrame) {
            error = new FrameStreamError(
              'frame-too-long',
              `data frame of ${len} bytes exceeds ${maxFrame}`,
              consumed,
            );
            break;
          }
          if (buf.length - pos < 4 + len) break;
          out.push({ kind: 'data', bytes: buf.subarray(pos + 4, pos + 4 + len) });
          pos += 4 + len;
          consumed += 4 + len;
          continue;
        }
        if (buf.length - pos < 8) break;
        const clen = u32(buf, pos + 4);
        if (clen < MIN_CONTROL_FRAME_BYTES || clen > MAX_CONTROL_FRAME_BYTES) {
          error = new FrameStreamError('bad-control-length', `control frame of ${clen} bytes`, consumed);
          break;
        }
        if (buf.length - pos < 8 + clen) break;
        const parsed = parseControl(buf, pos + 8, pos + 8 + clen, consumed);
        if (parsed instanceof FrameStreamError) {
          error = parsed;
          break;
        }
        out.push(parsed);
        pos += 8 + clen;
        consumed += 8 + clen;
      }
      if (error) {
        pending = new Uint8Array(0);
        return out;
      }
      // Copy the leftover so the caller's chunk is not kept alive (and frames already returned
      // stay valid: the chunk itself is never modified).
      pending = pos === buf.length ? new Uint8Array(0) : buf.slice(pos);
      return out;
    },
  };
}

function parseControl(b: Uint8Array, start: number, end: number, offset: number): Frame | FrameStreamError {
  const type = u32(b, start);
  if (type < CONTROL.ACCEPT || type > CONTROL.FINISH) {
    return new FrameStreamError('bad-control-type', `control type ${type}`, offset);
  }
  const contentTypes: string[] = [];
  let p = start + 4;
  // Each field consumes >= 8 octets of a control frame of at most MAX_CONTROL_FRAME_BYTES.
  while (p < end) {
    if (end - p < 8)
      return new FrameStreamError('bad-control-field', 'control field header cut short', offset);
    const ftype = u32(b, p);
    const flen = u32(b, p + 4);
    if (flen > end - p - 8)
      return new FrameStreamError('bad-control-field', 'control field runs past the frame', offset);
    if (ftype === CONTROL_FIELD_CONTENT_TYPE) {
      if (flen > MAX_CONTENT_TYPE_BYTES) {
        return new FrameStreamError('content-type-too-long', `content type of ${flen} bytes`, offset);
      }
      contentTypes.push(latin1(b, p + 8, p + 8 + flen));
    }
    p += 8 + flen;
  }
  return { kind: 'control', type, contentTypes };
}

function latin1(b: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i++) out += String.fromCharCode(b[i]!);
  return out;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** Encodes a control frame (escape, length, type, content-type fields). */
export function encodeControlFrame(type: number, contentTypes: readonly string[] = []): Uint8Array {
  const encoded = contentTypes.map((c) => Uint8Array.from(c, (ch) => ch.charCodeAt(0) & 0xff));
  const clen = 4 + encoded.reduce((n, c) => n + 8 + c.length, 0);
  const out = new Uint8Array(8 + clen);
  putU32(out, 0, 0);
  putU32(out, 4, clen);
  putU32(out, 8, type);
  let p = 12;
  for (const c of encoded) {
    putU32(out, p, CONTROL_FIELD_CONTENT_TYPE);
    putU32(out, p + 4, c.length);
    out.set(c, p + 8);
    p += 8 + c.length;
  }
  return out;
}

/** Encodes a data frame (length, payload). */
export function encodeDataFrame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  putU32(out, 0, payload.length);
  out.set(payload, 4);
  return out;
}

/** Options of a Frame Streams receiver. */
export interface FrameStreamReceiverOptions {
  /** Bidirectional (socket: READY/ACCEPT then START) or unidirectional (file: START). */
  bidirectional: boolean;
  /** Content type required of the sender (default `protobuf:dnstap.Dnstap`). */
  contentType?: string;
  maxFrameBytes?: number;
}

/** What one push into a receiver produced. */
export interface FrameStreamPushResult {
  /** Data frame payloads, in order. */
  data: Uint8Array[];
  /** Control frames to write back to the sender (ACCEPT, FINISH), in order. */
  replies: Uint8Array[];
}

/** Where a receiver is in the Frame Streams protocol. */
export type FrameStreamState = 'await-ready' | 'await-start' | 'streaming' | 'finished' | 'failed';

/**
 * The receiving end of the Frame Streams protocol, pure (bytes in, frames and replies out; the
 * caller does the I/O). Checks the handshake order and the content type; any violation sets
 * `error` and the state `failed`, after which nothing more is returned.
 */
export interface FrameStreamReceiver {
  push(chunk: Uint8Array): FrameStreamPushResult;
  readonly state: FrameStreamState;
  readonly error: FrameStreamError | undefined;
  /** Data frames returned so far. */
  readonly dataFrames: number;
  /** Control frames read so far. */
  readonly controlFrames: number;
  /** Octets held for an incomplete frame. */
  readonly buffered: number;
}

/** Creates a Frame Streams receiver (see `FrameStreamReceiver`). */
export function createFrameStreamReceiver(opts: FrameStreamReceiverOptions): FrameStreamReceiver {
  const contentType = opts.contentType ?? DNSTAP_CONTENT_TYPE;
  const reader = createFrameStreamReader(
    opts.maxFrameBytes === undefined ? {} : { maxFrameBytes: opts.maxFrameBytes },
  );
  let state: FrameStreamState = opts.bidirectional ? 'await-ready' : 'await-start';
  let error: FrameStreamError | undefined;
  let dataFrames = 0;
  let controlFrames = 0;

  const failWith = (e: FrameStreamError): void => {
    error = e;
    state = 'failed';
  };

  return {
    get state() {
      return state;
    },
    get error() {
      return error;
    },
    get dataFrames() {
      return dataFrames;
    },
    get controlFrames() {
      return controlFrames;
    },
    get buffered() {
      return reader.buffered;
    },
    push(chunk: Uint8Array): FrameStreamPushResult {
      const res: FrameStreamPushResult = { data: [], replies: [] };
      if (state === 'failed' || state === 'finished') return res;
      const bail = (e: FrameStreamError): FrameStreamPushResult => {
        failWith(e);
        return res;
      };
      const frames = reader.push(chunk);
      for (const f of frames) {
        if (f.kind === 'data') {
          if (state !== 'streaming') {
            return bail(
              new FrameStreamError('unexpected-data', `data frame in state ${state}`, reader.offset),
            );
          }
          dataFrames++;
          res.data.push(f.bytes);
          continue;
        }
        controlFrames++;
        const unexpected = (): FrameStreamError =>
          new FrameStreamError(
            'unexpected-control',
            `${controlName(f.type)} in state ${state}`,
            reader.offset,
          );
        switch (f.type) {
          case CONTROL.READY:
            if (state !== 'await-ready') return bail(unexpected());
            if (!f.contentTypes.includes(contentType)) {
              return bail(
                new FrameStreamError(
                  'content-type-mismatch',
                  'READY does not offer our content type',
                  reader.offset,
                ),
              );
            }
            res.replies.push(encodeControlFrame(CONTROL.ACCEPT, [contentType]));
            state = 'await-start';
            break;
          case CONTROL.START:
            if (state !== 'await-start') return bail(unexpected());
            // START names at most one content type; a START without one is accepted (fstrm allows it).
            if (f.contentTypes.length > 0 && !f.contentTypes.includes(contentType)) {
              return bail(
                new FrameStreamError(
                  'content-type-mismatch',
                  'START names another content type',
                  reader.offset,
                ),
              );
            }
            state = 'streaming';
            break;
          case CONTROL.STOP:
            if (state !== 'streaming') return bail(unexpected());
            if (opts.bidirectional) res.replies.push(encodeControlFrame(CONTROL.FINISH));
            state = 'finished';
            return res;
          default:
            // ACCEPT and FINISH travel from receiver to sender only.
            return bail(unexpected());
        }
      }
      if (reader.error) failWith(reader.error);
      return res;
    },
  };
}
