/**
 * Frame Streams writer (the framing dnstap uses; fstrm's CONTROL.md): the unidirectional form for
 * files (START with the content type, data frames, STOP) and the bidirectional sender handshake
 * over a stream socket (READY -> ACCEPT -> START ... STOP -> FINISH).
 */
import { connect, type Socket } from 'node:net';
import { AcdError } from '../../common/errors.ts';
import { EncodeError } from './errors.ts';

/** Content type of dnstap payloads. */
export const DNSTAP_CONTENT_TYPE = 'protobuf:dnstap.Dnstap';

/** Control frame types. */
export const FSTRM_CONTROL = { ACCEPT: 1, START: 2, STOP: 3, READY: 4, FINISH: 5 } as const;
/** Control field type carrying a content type. */
const FIELD_CONTENT_TYPE = 1;
/** Largest control frame accepted from a receiver (fstrm's own limit is 512 bytes). */
const MAX_CONTROL_FRAME_BYTES = 512;

/** A Frame Streams sender failed (handshake refused, content type not accepted, socket error). */
export class FrameStreamSendError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_FRAME_STREAM_SEND', message, options);
  }
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function get32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** A control frame: escape (0), frame length, control type, then content-type fields. */
export function frameStreamControl(type: number, contentTypes: readonly string[] = []): Uint8Array {
  const ct = contentTypes.map((c) => new TextEncoder().encode(c));
  const len = 4 + ct.reduce((n, c) => n + 8 + c.length, 0);
  const b = new Uint8Array(8 + len);
  put32(b, 4, len);
  put32(b, 8, type);
  let o = 12;
  for (const c of ct) {
    put32(b, o, FIELD_CONTENT_TYPE);
    put32(b, o + 4, c.length);
    b.set(c, o + 8);
    o += 8 + c.length;
  }
  return b;
}

/**
 * A data frame: 32-bit big-endian length, then the payload. An empty payload cannot be framed
 * (length 0 is the escape that starts a control frame), so it is refused.
 */
export function frameStreamData(payload: Uint8Array): Uint8Array {
  if (payload.length === 0) throw new EncodeError('frame streams cannot carry an empty data frame');
  const b = new Uint8Array(4 + payload.length);
  put32(b, 0, payload.length);
  b.set(payload, 4);
  return b;
}

/** The bytes a unidirectional stream (a file) starts with: START naming the content type. */
export function frameStreamFileStart(contentType = DNSTAP_CONTENT_TYPE): Uint8Array {
  return frameStreamControl(FSTRM_CONTROL.START, [contentType]);
}

/** The bytes a unidirectional stream ends with: STOP. */
export function frameStreamFileStop(): Uint8Array {
  return frameStreamControl(FSTRM_CONTROL.STOP);
}

/** A whole Frame Streams file image of the payloads (tests, small outputs). */
export function encodeFrameStreamFile(
  payloads: readonly Uint8Array[],
  contentType = DNSTAP_CONTENT_TYPE,
): Uint8Array {
  const parts = [frameStreamFileStart(contentType), ...payloads.map(frameStreamData), frameStreamFileStop()];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A connected bidirectional Frame Streams sender. */
export interface FrameStreamSender {
  /** Sends one data frame; false when the socket buffer is full (wait for `drain()`). */
  send(payload: Uint8Array): boolean;
  /** Resolves when the socket's buffer has drained. */
  drain(): Promise<void>;
  /** Sends STOP, waits for FINISH (bounded by `finishTimeoutMs`), closes the socket. */
  close(): Promise<void>;
}

/** Where to connect: TCP host/port or a unix socket path. */
export type FrameStreamTarget = { host: string; port: number; localAddress?: string } | { path: string };

/** Options of `connectFrameStreamSender`. */
export interface FrameStreamSenderOptions {
  contentType?: string;
  /** How long to wait for ACCEPT and FINISH (ms). */
  timeoutMs?: number;
}

/** Parses control frames off a byte stream (the receiver only ever sends control frames). */
class ControlReader {
  private buf = new Uint8Array(0);
  push(chunk: Uint8Array): { type: number; contentTypes: string[] }[] | Error {
    const next = new Uint8Array(this.buf.length + chunk.length);
    next.set(this.buf);
    next.set(chunk, this.buf.length);
    this.buf = next;
    const out: { type: number; contentTypes: string[] }[] = [];
    while (this.buf.length >= 8) {
      if (get32(this.buf, 0) !== 0) return new Error('receiver sent a data frame');
      const len = get32(this.buf, 4);
      if (len < 4 || len > MAX_CONTROL_FRAME_BYTES) return new Error(`bad control frame length ${len}`);
      if (this.buf.length < 8 + len) break;
      const type = get32(this.buf, 8);
      const contentTypes: string[] = [];
      let o = 12;
      while (o + 8 <= 8 + len) {
        const ft = get32(this.buf, o);
        const fl = get32(this.buf, o + 4);
        if (o + 8 + fl > 8 + len) return new Error('control field exceeds frame');
        if (ft === FIELD_CONTENT_TYPE)
          contentTypes.push(new TextDecoder().decode(this.buf.subarray(o + 8, o + 8 + fl)));
        o += 8 + fl;
      }
      out.push({ type, contentTypes });
      this.buf = this.buf.slice(8 + len);
    }
    return out;
  }
}

/**
 * Connects to a Frame Streams receiver and runs the bidirectional handshake: READY (offering the
 * content type) -> ACCEPT (must name it) -> START. Rejects with `FrameStreamSendError` when the
 * receiver refuses or does not answer within the timeout.
 */
export async function connectFrameStreamSender(
  target: FrameStreamTarget,
  opts: FrameStreamSenderOptions = {},
): Promise<FrameStreamSender> {
  const contentType = opts.contentType ?? DNSTAP_CONTENT_TYPE;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const socket: Socket =
    'path' in target
      ? connect({ path: target.path })
      : connect({
          host: target.host,
          port: target.port,
          ...(target.localAddress !== undefined ? { localAddress: target.localAddress } : {}),
        });
  socket.setNoDelay(true);
  const reader = new ControlReader();
  let waiter: { type: number; resolve: (ct: string[]) => void; reject: (e: Error) => void } | undefined;
  let failure: Error | undefined;
  const fail = (e: Error): void => {
    failure ??= e;
    waiter?.reject(e);
    waiter = undefined;
  };
  socket.on('data', (chunk: Buffer) => {
    const frames = reader.push(chunk);
    if (frames instanceof Error) {
      fail(new FrameStreamSendError(frames.message));
      socket.destroy();
      return;
    }
    for (const f of frames) {
      if (waiter && f.type === waiter.type) {
        const w = waiter;
        waiter = undefined;
        w.resolve(f.contentTypes);
      }
    }
  });
  socket.on('error', (e) =>
    fail(new FrameStreamSendError(`frame stream socket: ${e.message}`, { cause: e })),
  );
  socket.on('close', () => fail(new FrameStreamSendError('frame stream receiver closed the connection')));
  const expect = (type: number): Promise<string[]> =>
    new Promise<string[]>((resolve, reject) => {
      if (failure) return reject(failure);
      const timer = setTimeout(() => {
        waiter = undefined;
        reject(
          new FrameStreamSendError(`no ${type === FSTRM_CONTROL.ACCEPT ? 'ACCEPT' : 'FINISH'} from receiver`),
        );
      }, timeoutMs);
      waiter = {
        type,
        resolve: (ct) => {
          clearTimeout(timer);
          resolve(ct);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  }).catch((e: unknown) => {
    throw new FrameStreamSendError('cannot connect to frame stream receiver', { cause: e });
  });
  const accepted = expect(FSTRM_CONTROL.ACCEPT);
  socket.write(frameStreamControl(FSTRM_CONTROL.READY, [contentType]));
  const types = await accepted;
  if (types.length > 0 && !types.includes(contentType)) {
    socket.destroy();
    throw new FrameStreamSendError(`receiver does not accept ${contentType}`);
  }
  socket.write(frameStreamControl(FSTRM_CONTROL.START, [contentType]));
  return {
    send(payload) {
      if (failure) throw failure;
      return socket.write(frameStreamData(payload));
    },
    drain() {
      return socket.writableNeedDrain
        ? new Promise<void>((r) => socket.once('drain', () => r()))
        : Promise.resolve();
    },
    async close() {
      if (failure || socket.destroyed) {
        socket.destroy();
        return;
      }
      const finished = expect(FSTRM_CONTROL.FINISH);
      socket.write(frameStreamControl(FSTRM_CONTROL.STOP));
      try {
        await finished;
      } finally {
        socket.removeAllListeners('close');
        socket.end();
        socket.destroy();
      }
    },
  };
}
