import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import net from 'node:net';
import { InputError, LifecycleError } from '../../common/errors.ts';
import type { Lifecycle } from '../../common/lifecycle.ts';
import type { Logger } from '../../common/logging.ts';
import type { DnsEvent } from '../../common/schema/index.ts';
import type { DecodeEvent } from '../decode/types.ts';
import {
  createFrameStreamReceiver,
  decodeDnstapFrame,
  DEFAULT_DNSTAP_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_DNSTAP_IDLE_TIMEOUT_MS,
  DEFAULT_DNSTAP_MAX_CONNECTIONS,
  DEFAULT_MAX_FRAME_BYTES,
  DNSTAP_FILE_CHUNK_BYTES,
  type FrameStreamError,
  type FrameStreamState,
} from '../decode/dnstap/index.ts';

/**
 * dnstap inputs for `acd collect` and `acd decode`: a unix-socket or TCP listener that performs
 * the bidirectional Frame Streams handshake with each sender (resolvers such as unbound, knot,
 * BIND, PowerDNS), and a file reader for Frame Streams files (`dnstap -w`, `fstrm_capture -w`).
 * Decoding happens in the pure `decode/dnstap` code; this file only does I/O and counting.
 */

/** Where a dnstap listener listens. */
export type DnstapListenSpec = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** Counters of a dnstap input (everything that moves gets a counter). */
export interface DnstapCounters {
  /** Connections accepted / refused at the limit / closed for any reason. */
  connectionsAccepted: number;
  connectionsRejected: number;
  connectionsClosed: number;
  /** Connections closed because the stream broke Frame Streams (framing or handshake). */
  connectionsCorrupt: number;
  /** Connections closed because the handshake did not complete in time, or idle. */
  connectionsTimedOut: number;
  /** Bytes read. */
  bytes: number;
  /** Data frames read. */
  frames: number;
  /** DnsEvents produced. */
  events: number;
  /** Frames that were not usable dnstap messages, plus DNS messages that could not be read fully. */
  malformed: number;
}

/** Settings of a dnstap listener (defaults in decode/dnstap/limits.ts). */
export interface DnstapListenerOptions {
  maxConnections?: number;
  maxFrameBytes?: number;
  handshakeTimeoutMs?: number;
  /** Connections silent for this long after the handshake are closed (0 = never). */
  idleTimeoutMs?: number;
}

/** What a dnstap listener needs from its surroundings. */
export interface DnstapListenerDeps {
  logger: Logger;
  /** Receives each event, synchronously, in the order of each connection's frames. */
  onEvent: (e: DnsEvent) => void;
  /** Receives anomalies (malformed frames or DNS messages), for counters. */
  onDecodeEvent?: (e: DecodeEvent) => void;
  options?: DnstapListenerOptions;
}

/** A running (or startable) dnstap listener. */
export interface DnstapListener extends Lifecycle {
  readonly counters: DnstapCounters;
  /** Open sender connections. */
  readonly connections: number;
  /** After start: the socket path, or `host:port` with the real port (for port 0). */
  address(): string;
  /** After start: the bound TCP port (0 for unix sockets). */
  port(): number;
}

function newCounters(): DnstapCounters {
  return {
    connectionsAccepted: 0,
    connectionsRejected: 0,
    connectionsClosed: 0,
    connectionsCorrupt: 0,
    connectionsTimedOut: 0,
    bytes: 0,
    frames: 0,
    events: 0,
    malformed: 0,
  };
}

/** IPv4-mapped IPv6 peer addresses (a dual-stack listener) are reported as plain IPv4. */
function peerAddress(s: net.Socket): string {
  const a = s.remoteAddress ?? 'unknown';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/**
 * Creates a dnstap listener: inert until `start()` (CONVENTIONS habit 1). Each connection gets its
 * own Frame Streams receiver (bounded to one frame buffered); READY is answered with ACCEPT, STOP
 * with FINISH, after which the connection is closed. A stream that breaks the protocol is closed
 * and counted; other senders are unaffected.
 */
export function createDnstapListener(spec: DnstapListenSpec, deps: DnstapListenerDeps): DnstapListener {
  const opts = deps.options ?? {};
  const maxConnections = opts.maxConnections ?? DEFAULT_DNSTAP_MAX_CONNECTIONS;
  const maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const handshakeTimeoutMs = opts.handshakeTimeoutMs ?? DEFAULT_DNSTAP_HANDSHAKE_TIMEOUT_MS;
  const idleTimeoutMs = opts.idleTimeoutMs ?? DEFAULT_DNSTAP_IDLE_TIMEOUT_MS;
  const counters = newCounters();
  const sockets = new Set<net.Socket>();
  const log = deps.logger;
  let server: net.Server | undefined;
  let state: 'new' | 'running' | 'stopped' = 'new';
  // One sequence across the listener's life: exporter + sequence stays unique when a sender
  // reconnects (the record id must never repeat, DESIGN section 6).
  let sequence = 0;

  const reportDecode = (e: DecodeEvent): void => {
    counters.malformed++;
    deps.onDecodeEvent?.(e);
  };

  const onConnection = (socket: net.Socket): void => {
    if (sockets.size >= maxConnections) {
      counters.connectionsRejected++;
      socket.destroy();
      return;
    }
    counters.connectionsAccepted++;
    sockets.add(socket);
    const exporter = spec.kind === 'unix' ? `unix:${spec.path}` : peerAddress(socket);
    const receiver = createFrameStreamReceiver({ bidirectional: true, maxFrameBytes });
    if (spec.kind === 'tcp') socket.setKeepAlive(true, 60_000);
    const handshakeTimer =
      handshakeTimeoutMs > 0
        ? setTimeout(() => {
            if (receiver.state === 'await-ready' || receiver.state === 'await-start') {
              counters.connectionsTimedOut++;
              log.warn({ exporter }, 'dnstap sender did not complete the handshake in time');
              socket.destroy();
            }
          }, handshakeTimeoutMs)
        : undefined;
    handshakeTimer?.unref();

    socket.on('data', (chunk: Buffer) => {
      counters.bytes += chunk.length;
      const before = receiver.state;
      const r = receiver.push(chunk);
      // Read again after the push: the state moves with the frames just read.
      const after: FrameStreamState = receiver.state;
      for (const reply of r.replies) socket.write(reply);
      for (const frame of r.data) {
        counters.frames++;
        const d = decodeDnstapFrame(frame, { exporter, sequence: sequence++ });
        for (const e of d.events) reportDecode(e);
        if (d.event) {
          counters.events++;
          deps.onEvent(d.event);
        }
      }
      if (before !== 'streaming' && after === 'streaming') {
        if (handshakeTimer) clearTimeout(handshakeTimer);
        if (idleTimeoutMs > 0) socket.setTimeout(idleTimeoutMs);
      }
      if (after === 'finished') {
        socket.end();
      } else if (receiver.error) {
        corrupt(exporter, receiver.error);
        socket.destroy();
      }
    });
    socket.on('timeout', () => {
      counters.connectionsTimedOut++;
      socket.destroy();
    });
    socket.on('error', (err) => {
      log.debug({ exporter, err: err.message }, 'dnstap connection error');
    });
    socket.on('close', () => {
      if (handshakeTimer) clearTimeout(handshakeTimer);
      sockets.delete(socket);
      counters.connectionsClosed++;
    });
  };

  const corrupt = (exporter: string, err: FrameStreamError): void => {
    counters.connectionsCorrupt++;
    reportDecode({ kind: 'malformed', protocol: 'fstrm', exporter, reason: err.reason, offset: err.offset });
    log.warn({ exporter, code: err.code, reason: err.reason }, 'dnstap stream broke frame streams; closing');
  };

  const where = (): string =>
    spec.kind === 'unix' ? `dnstap+unix:${spec.path}` : `dnstap+tcp://${spec.host}:${spec.port}`;

  return {
    counters,
    get connections() {
      return sockets.size;
    },
    address(): string {
      const a = server?.address();
      if (a && typeof a === 'object')
        return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
      return typeof a === 'string' ? a : '';
    },
    port(): number {
      const a = server?.address();
      return a && typeof a === 'object' ? a.port : 0;
    },
    async start(): Promise<void> {
      if (state !== 'new') throw new LifecycleError('dnstap listener started twice');
      state = 'running';
      const srv = net.createServer(onConnection);
      server = srv;
      if (spec.kind === 'unix') removeStaleSocket(spec.path);
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void =>
          reject(new InputError(where(), `cannot listen: ${err.message}`, { cause: err }));
        srv.once('error', onError);
        const done = (): void => {
          srv.off('error', onError);
          srv.on('error', (err) => log.error({ err: err.message, listen: where() }, 'dnstap listener error'));
          resolve();
        };
        if (spec.kind === 'unix') srv.listen(spec.path, done);
        else srv.listen(spec.port, spec.host, done);
      });
      log.info({ listen: where(), address: this.address() }, 'dnstap listener started');
    },
    async stop(): Promise<void> {
      if (state !== 'running') {
        state = 'stopped';
        return;
      }
      state = 'stopped';
      const srv = server;
      for (const s of sockets) s.destroy();
      if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
      if (spec.kind === 'unix') removeStaleSocket(spec.path);
    },
  };
}

/**
 * Removes a socket file left by an earlier run (a listener cannot bind over it). Only sockets are
 * removed: a regular file at that path is an operator mistake and `listen` reports it.
 */
function removeStaleSocket(path: string): void {
  try {
    if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Best effort: listen() reports whatever is still in the way.
  }
}

/** Options of the dnstap file reader. */
export interface ReadDnstapFileOptions {
  maxFrameBytes?: number;
  /** Bytes per read (default DNSTAP_FILE_CHUNK_BYTES). */
  chunkBytes?: number;
  /** Receives anomalies: malformed frames or DNS messages, a broken or unfinished stream. */
  onDecodeEvent?: (e: DecodeEvent) => void;
  /** Filled in while reading; `error` is set if the stream broke Frame Streams. */
  counters?: DnstapFileCounters;
}

/** Counters of one file read. */
export interface DnstapFileCounters {
  bytes: number;
  frames: number;
  events: number;
  malformed: number;
  /** Set when the file is not a valid Frame Streams stream from some offset on (reading stopped). */
  error?: FrameStreamError;
  /** False when the file ended without STOP (a capture cut short: everything before is used). */
  complete?: boolean;
}

/**
 * Reads a dnstap Frame Streams file (unidirectional: START, data frames, STOP) in chunks, yielding
 * one `DnsEvent` per usable frame. The exporter is `file`; the sequence is the frame's position
 * in the file. A file that breaks the format stops there (counted, `counters.error` set, an event
 * reported), since Frame Streams has no markers to resynchronise on. Only a file that cannot be
 * opened or read throws (`InputError`).
 */
export async function* readDnstapFile(
  path: string,
  opts: ReadDnstapFileOptions = {},
): AsyncGenerator<DnsEvent> {
  const counters: DnstapFileCounters = opts.counters ?? { bytes: 0, frames: 0, events: 0, malformed: 0 };
  const report = (e: DecodeEvent): void => {
    counters.malformed++;
    opts.onDecodeEvent?.(e);
  };
  const receiver = createFrameStreamReceiver({
    bidirectional: false,
    maxFrameBytes: opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
  });
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new InputError(path, `cannot open: ${(err as Error).message}`, { cause: err });
  }
  try {
    const chunkBytes = opts.chunkBytes ?? DNSTAP_FILE_CHUNK_BYTES;
    let sequence = 0;
    for (;;) {
      // A fresh buffer per read: frames handed out are views into it and must stay valid.
      const buf = new Uint8Array(chunkBytes);
      let n: number;
      try {
        ({ bytesRead: n } = await fh.read(buf, 0, chunkBytes, null));
      } catch (err) {
        throw new InputError(path, `cannot read: ${(err as Error).message}`, { cause: err });
      }
      if (n === 0) break;
      counters.bytes += n;
      const r = receiver.push(buf.subarray(0, n));
      for (const frame of r.data) {
        counters.frames++;
        const d = decodeDnstapFrame(frame, { exporter: 'file', sequence: sequence++ });
        for (const e of d.events) report(e);
        if (d.event) {
          counters.events++;
          yield d.event;
        }
      }
      if (receiver.error || receiver.state === 'finished') break;
    }
    if (receiver.error) {
      counters.error = receiver.error;
      report({
        kind: 'malformed',
        protocol: 'fstrm',
        exporter: 'file',
        reason: receiver.error.reason,
        offset: receiver.error.offset,
      });
    }
    counters.complete = receiver.state === 'finished';
    if (!counters.complete && !receiver.error) {
      report({
        kind: 'malformed',
        protocol: 'fstrm',
        exporter: 'file',
        reason: 'truncated',
        offset: counters.bytes,
      });
    }
  } finally {
    await fh.close();
  }
}
