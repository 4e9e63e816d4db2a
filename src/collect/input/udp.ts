import dgram from 'node:dgram';
import type { Clock } from '../../common/clock.ts';
import { InputError, LifecycleError } from '../../common/errors.ts';
import type { Lifecycle } from '../../common/lifecycle.ts';
import type { Logger } from '../../common/logging.ts';
import type { Endpoint, RawDatagram } from '../../common/schema/index.ts';
import type { CollectMetrics } from '../metrics.ts';
import { formatListenUrl, type UdpListenSpec } from './listen-url.ts';
import { checkRecvBufferRequest, KERNEL_REPORT_FACTOR, warnIfRecvBufferCapped } from './udp-buffer.ts';
import {
  createNativeUdpListener,
  DEFAULT_RING_BYTES,
  loadNativeUdpReader,
  type DownstreamRoom,
  type NativeUdpAddonLoad,
} from './udp-native.ts';

export { MAX_RECV_BUFFER_BYTES, RMEM_MAX_SYSCTL } from './udp-buffer.ts';

/**
 * Which implementation reads a UDP socket: `native` (the `recvmmsg` thread of `udp-native.ts`,
 * Linux, built by `npm install`), `dgram` (Node's own sockets) or `auto` (native when the addon
 * loads, else `dgram` with one warning).
 */
export type UdpReaderKind = 'auto' | 'native' | 'dgram';

/** What a UDP listener needs from its surroundings. */
export interface UdpListenerDeps {
  clock: Clock;
  logger: Logger;
  metrics: CollectMetrics;
}

/** Where datagrams go: the bounded queue (`DatagramQueue.push`), which drops when full. */
export type DatagramPush = (d: RawDatagram) => boolean;

/** Options of one UDP listener. */
export interface UdpListenerOptions {
  /** SO_RCVBUF to request (bytes); absent keeps the system default (`net.core.rmem_default`). */
  recvBufferSize?: number;
  /** The reader (default `auto`). */
  reader?: UdpReaderKind;
  /** Native reader: ring size in bytes (default `DEFAULT_RING_BYTES`). */
  ringBytes?: number;
  /**
   * Native reader: room downstream (the queue), so that a backlog waits in the ring rather than
   * in the queue. Absent: unlimited.
   */
  room?: DownstreamRoom;
  /** The native addon (default: `loadNativeUdpReader()`, the one `npm install` built). */
  addon?: NativeUdpAddonLoad;
}

/** A bound UDP socket feeding the queue. */
export interface UdpListener extends Lifecycle {
  /** The bound address and port (the real port when the spec said 0); only after `start()`. */
  address(): Endpoint;
  /** The bound address as a URL, e.g. `udp://127.0.0.1:40123`. */
  url(): string;
  /** The usable receive buffer the kernel granted (bytes); after `start()`. */
  recvBufferSize(): number;
  /** The implementation reading the socket. */
  readonly reader: 'native' | 'dgram';
}

/** Loggers that were already told that the native reader is unavailable (one line each). */
const toldFallback = new WeakSet<Logger>();

/**
 * Creates a UDP listener for one address with the reader `opts.reader` asks for. `auto` takes the
 * native reader when its addon loads and otherwise Node's `dgram`, saying so in one warning line
 * per logger; `native` fails at `start()` (an `InputError` saying why) when the addon is
 * unavailable. Both hand on the same `RawDatagram`s and count the same metrics.
 */
export function createUdpListener(
  deps: UdpListenerDeps,
  spec: UdpListenSpec,
  push: DatagramPush,
  opts: UdpListenerOptions = {},
): UdpListener {
  const kind = opts.reader ?? 'auto';
  if (kind !== 'dgram') {
    const load = opts.addon ?? loadNativeUdpReader();
    if (load.ok || kind === 'native') {
      return createNativeUdpListener(
        deps,
        spec,
        push,
        {
          ringBytes: opts.ringBytes ?? DEFAULT_RING_BYTES,
          ...(opts.recvBufferSize !== undefined ? { recvBufferSize: opts.recvBufferSize } : {}),
          ...(opts.room ? { room: opts.room } : {}),
        },
        load,
      );
    }
    if (!toldFallback.has(deps.logger)) {
      toldFallback.add(deps.logger);
      deps.logger.warn(
        { reason: load.reason },
        'native udp reader unavailable; using node dgram sockets (more loss when the event loop pauses)',
      );
    }
  }
  return createDgramUdpListener(deps, spec, push, opts);
}

/**
 * Creates a UDP listener read by Node's `dgram`. The receive callback only wraps the datagram in a
 * `RawDatagram` and pushes it; parsing happens when the queue is drained (CONVENTIONS
 * anti-patterns). IPv6 sockets are IPv6-only so that `udp://0.0.0.0:P` and `udp://[::]:P` can be
 * listened on side by side and IPv4 exporters never show up as `::ffff:` mapped addresses.
 */
function createDgramUdpListener(
  deps: UdpListenerDeps,
  spec: UdpListenSpec,
  push: DatagramPush,
  opts: UdpListenerOptions,
): UdpListener {
  const { clock, logger, metrics } = deps;
  let socket: dgram.Socket | undefined;
  let bound: Endpoint | undefined;
  let granted = 0;
  let stopped = false;

  const onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    metrics.udpDatagrams.inc();
    metrics.udpBytes.inc(msg.length);
    push({
      receivedAt: clock.now(),
      exporter: { address: rinfo.address, port: rinfo.port },
      transport: 'udp',
      bytes: msg,
    });
  };

  return {
    reader: 'dgram',

    async start(): Promise<void> {
      if (socket) throw new LifecycleError(`udp listener ${spec.url} already started`);
      const requested = opts.recvBufferSize;
      checkRecvBufferRequest(spec.url, requested);
      const s = dgram.createSocket({
        type: spec.family === 6 ? 'udp6' : 'udp4',
        reuseAddr: false,
        ipv6Only: spec.family === 6,
        ...(requested !== undefined ? { recvBufferSize: requested } : {}),
      });
      socket = s;
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => {
          s.close();
          reject(new InputError(spec.url, `cannot listen: ${err.message}`, { cause: err }));
        };
        s.once('error', onError);
        s.bind({ address: spec.host, port: spec.port, exclusive: true }, () => {
          s.removeListener('error', onError);
          resolve();
        });
      });
      s.on('error', (err) => {
        // After binding, errors (e.g. ICMP-induced on some systems) do not stop the listener.
        metrics.udpErrors.inc();
        logger.warn({ listen: spec.url, err: err.message }, 'udp socket error');
      });
      s.on('message', onMessage);
      const a = s.address();
      bound = { address: a.address, port: a.port };
      granted = s.getRecvBufferSize();
      if (requested !== undefined) await warnIfRecvBufferCapped(logger, spec.url, requested, granted);
    },

    async stop(): Promise<void> {
      if (!socket || stopped) return;
      stopped = true;
      const s = socket;
      s.removeListener('message', onMessage);
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },

    address(): Endpoint {
      if (!bound) throw new LifecycleError(`udp listener ${spec.url} is not started`);
      return bound;
    },

    url(): string {
      const a = this.address();
      return formatListenUrl('udp', a.address, a.port);
    },

    recvBufferSize(): number {
      return granted / KERNEL_REPORT_FACTOR;
    },
  };
}
