import net from 'node:net';
import type { Clock } from '../../common/clock.ts';
import { errorCode, InputError, LifecycleError } from '../../common/errors.ts';
import type { Lifecycle } from '../../common/lifecycle.ts';
import type { Logger } from '../../common/logging.ts';
import type { Endpoint, RawDatagram } from '../../common/schema/index.ts';
import { LogLimiter, type CollectMetrics } from '../metrics.ts';
import { formatListenUrl, type TcpListenSpec } from './listen-url.ts';

/**
 * Splits a byte stream into messages. One framer per connection: it holds the bytes of a message
 * split across segments until the rest arrives, and sets `error` (a typed error) once the stream
 * can no longer be framed. `createIpfixFramer()` of `framing.ts` implements it for RFC 7011
 * section 10.4; a framer that throws instead is treated the same way.
 */
export interface MessageFramer {
  push(chunk: Uint8Array): Uint8Array[];
  readonly error?: Error | undefined;
}

/** The part of `DatagramQueue` a TCP listener uses: it offers and waits, it never drops. */
export interface BackpressureQueue {
  /** Adds a message if there is room (no drop is counted when there is not). */
  offer(d: RawDatagram): boolean;
  /** Calls back once when the queue has drained to half. */
  whenSpace(cb: () => void): void;
  readonly free: number;
  readonly limit: number;
}

/**
 * Default limit on concurrent exporter connections: generous for a provider's routers, but each
 * connection holds a framer buffer (up to one 64 KiB message), so it caps that memory too.
 */
export const DEFAULT_TCP_MAX_CONNECTIONS = 1024;
/**
 * Default idle timeout: IPFIX exporters refresh templates and send data continuously, so a
 * connection silent for 15 minutes is presumed dead (half-open after a router reload).
 */
export const DEFAULT_TCP_IDLE_TIMEOUT_MS = 15 * 60_000;
/**
 * Share of the queue kept free for UDP: a TCP connection is paused once fewer slots than this are
 * left, so a fast TCP exporter cannot crowd out UDP exporters (which cannot be paused, only dropped).
 */
const UDP_HEADROOM_SHARE = 0.25;

/** Options of an IPFIX-over-TCP listener. */
export interface TcpListenerOptions {
  /** Connections open at once; further ones are closed at accept and counted. */
  maxConnections: number;
  /** Connections without data for this long are closed (ms; 0 disables). */
  idleTimeoutMs: number;
  /** Makes a fresh framer for each connection. */
  createFramer: () => MessageFramer;
}

/** What a TCP listener needs from its surroundings. */
export interface TcpListenerDeps {
  clock: Clock;
  logger: Logger;
  metrics: CollectMetrics;
}

/** A listening TCP server feeding the queue. */
export interface TcpListener extends Lifecycle {
  /** The bound address and port; only after `start()`. */
  address(): Endpoint;
  /** The bound address as a URL, e.g. `tcp://127.0.0.1:4739`. */
  url(): string;
  /** Connections open now. */
  connections(): number;
}

/** One exporter's connection: its framer and the messages waiting for queue space. */
interface Connection {
  readonly socket: net.Socket;
  readonly exporter: Endpoint;
  readonly framer: MessageFramer;
  /** Messages framed but not yet accepted by the queue (at most one chunk's worth). */
  pending: RawDatagram[];
  paused: boolean;
  closed: boolean;
}

/** `::ffff:192.0.2.1` -> `192.0.2.1`, so an exporter has one identity whatever socket it used. */
function canonicalPeer(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  return address;
}

/**
 * Creates an IPFIX-over-TCP listener (RFC 7011 section 10.4). Each connection gets its own framer;
 * a corrupt stream closes only that connection (counted, warned) and the others carry on. When
 * the queue is nearly full the socket is paused, so TCP's own flow control slows the exporter
 * down instead of losing data, and it is resumed once the queue has drained.
 */
export function createTcpListener(
  deps: TcpListenerDeps,
  spec: TcpListenSpec,
  queue: BackpressureQueue,
  opts: TcpListenerOptions,
): TcpListener {
  const { clock, logger, metrics } = deps;
  const conns = new Set<Connection>();
  const corruptLog = new LogLimiter(() => clock.monotonic());
  let server: net.Server | undefined;
  let bound: Endpoint | undefined;
  let stopping = false;
  const headroom = Math.ceil(queue.limit * UDP_HEADROOM_SHARE);

  function close(c: Connection): void {
    if (c.closed) return;
    c.closed = true;
    conns.delete(c);
    metrics.tcpClosed.inc();
    metrics.tcpConnections.set(conns.size);
    c.socket.destroy();
  }

  /** Moves held messages into the queue; resumes the socket once all are in and there is room. */
  function flush(c: Connection): void {
    let i = 0;
    while (i < c.pending.length && queue.offer(c.pending[i]!)) i++;
    c.pending = i === c.pending.length ? [] : c.pending.slice(i);
    if (c.pending.length > 0 || (queue.free < headroom && !stopping && !c.closed)) {
      queue.whenSpace(() => flush(c));
      return;
    }
    if (c.paused && !c.closed && !stopping) {
      c.paused = false;
      c.socket.resume();
    }
  }

  /** Offers framed messages to the queue, holding (in order) those it has no room for. */
  function enqueue(c: Connection, messages: Uint8Array[]): void {
    if (messages.length === 0) return;
    metrics.tcpMessages.inc(messages.length);
    const receivedAt = clock.now();
    for (const bytes of messages) {
      const d: RawDatagram = { receivedAt, exporter: c.exporter, transport: 'tcp', bytes };
      if (c.pending.length > 0 || !queue.offer(d)) c.pending.push(d);
    }
  }

  function onData(c: Connection, chunk: Buffer): void {
    metrics.tcpBytes.inc(chunk.length);
    let messages: Uint8Array[];
    let failure: unknown;
    try {
      messages = c.framer.push(chunk);
      failure = c.framer.error;
    } catch (err) {
      messages = [];
      failure = err;
    }
    // Messages framed before the corruption are complete and valid: decode them, then close.
    if (failure !== undefined) {
      enqueue(c, messages);
      metrics.tcpCorrupt.inc();
      if (corruptLog.allow())
        logger.warn(
          {
            listen: spec.url,
            exporter: c.exporter.address,
            code: errorCode(failure),
            suppressed: corruptLog.takeSuppressed(),
          },
          'closing tcp connection: stream cannot be framed',
        );
      close(c);
      if (c.pending.length > 0 && !c.paused) queue.whenSpace(() => flush(c));
      return;
    }
    enqueue(c, messages);
    if (!c.paused && (c.pending.length > 0 || queue.free < headroom)) {
      c.paused = true;
      c.socket.pause();
      metrics.tcpPaused.inc();
      queue.whenSpace(() => flush(c));
    }
  }

  function onConnection(socket: net.Socket): void {
    if (stopping || conns.size >= opts.maxConnections) {
      metrics.tcpRejected.inc();
      socket.destroy();
      return;
    }
    const c: Connection = {
      socket,
      exporter: { address: canonicalPeer(socket.remoteAddress), port: socket.remotePort ?? 0 },
      framer: opts.createFramer(),
      pending: [],
      paused: false,
      closed: false,
    };
    conns.add(c);
    metrics.tcpAccepted.inc();
    metrics.tcpConnections.set(conns.size);
    socket.setNoDelay(true);
    if (opts.idleTimeoutMs > 0) {
      socket.setTimeout(opts.idleTimeoutMs, () => {
        metrics.tcpIdleClosed.inc();
        logger.info({ listen: spec.url, exporter: c.exporter.address }, 'closing idle tcp connection');
        close(c);
      });
    }
    socket.on('data', (chunk: Buffer) => onData(c, chunk));
    socket.on('error', (err) => {
      logger.debug({ listen: spec.url, exporter: c.exporter.address, err: err.message }, 'tcp error');
    });
    socket.on('close', () => close(c));
    socket.on('end', () => close(c));
  }

  return {
    async start(): Promise<void> {
      if (server) throw new LifecycleError(`tcp listener ${spec.url} already started`);
      const s = net.createServer({ noDelay: true }, onConnection);
      server = s;
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => {
          reject(new InputError(spec.url, `cannot listen: ${err.message}`, { cause: err }));
        };
        s.once('error', onError);
        s.listen({ host: spec.host, port: spec.port, ipv6Only: spec.family === 6, exclusive: true }, () => {
          s.removeListener('error', onError);
          resolve();
        });
      });
      s.on('error', (err) => logger.warn({ listen: spec.url, err: err.message }, 'tcp server error'));
      const a = s.address();
      if (a === null || typeof a === 'string') throw new InputError(spec.url, 'no bound address');
      bound = { address: a.address, port: a.port };
    },

    /**
     * Stops accepting and closes every connection. Messages already framed but held back by
     * back-pressure stay registered with the queue, so the collector's final drain decodes them.
     */
    async stop(): Promise<void> {
      if (!server || stopping) return;
      stopping = true;
      const s = server;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      for (const c of [...conns]) {
        const held = c.pending;
        close(c);
        c.pending = held;
      }
      await closed;
    },

    address(): Endpoint {
      if (!bound) throw new LifecycleError(`tcp listener ${spec.url} is not started`);
      return bound;
    },

    url(): string {
      const a = this.address();
      return formatListenUrl('tcp', a.address, a.port);
    },

    connections(): number {
      return conns.size;
    },
  };
}
