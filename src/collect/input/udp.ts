import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
import type { Clock } from '../../common/clock.ts';
import { InputError, LifecycleError } from '../../common/errors.ts';
import type { Lifecycle } from '../../common/lifecycle.ts';
import type { Logger } from '../../common/logging.ts';
import type { Endpoint, RawDatagram } from '../../common/schema/index.ts';
import type { CollectMetrics } from '../metrics.ts';
import { formatListenUrl, type UdpListenSpec } from './listen-url.ts';

/** Where the kernel's ceiling on socket receive buffers is configured (Linux). */
export const RMEM_MAX_SYSCTL = 'net.core.rmem_max';
const RMEM_MAX_PATH = '/proc/sys/net/core/rmem_max';

/**
 * Largest receive buffer we ask for. The kernel caps requests at `net.core.rmem_max` anyway; this
 * bound only keeps a typo from asking for gigabytes where the sysctl is generous.
 */
export const MAX_RECV_BUFFER_BYTES = 1 << 30;

/** Factor between the SO_RCVBUF requested and what the kernel reports when it honours it. */
const KERNEL_REPORT_FACTOR = process.platform === 'linux' ? 2 : 1;

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
}

/** A bound UDP socket feeding the queue. */
export interface UdpListener extends Lifecycle {
  /** The bound address and port (the real port when the spec said 0); only after `start()`. */
  address(): Endpoint;
  /** The bound address as a URL, e.g. `udp://127.0.0.1:40123`. */
  url(): string;
  /** The usable receive buffer the kernel granted (bytes); after `start()`. */
  recvBufferSize(): number;
}

/**
 * Creates a UDP listener for one address. The receive callback only wraps the datagram in a
 * `RawDatagram` and pushes it; parsing happens when the queue is drained (CONVENTIONS
 * anti-patterns). IPv6 sockets are IPv6-only so that `udp://0.0.0.0:P` and `udp://[::]:P` can be
 * listened on side by side and IPv4 exporters never show up as `::ffff:` mapped addresses.
 */
export function createUdpListener(
  deps: UdpListenerDeps,
  spec: UdpListenSpec,
  push: DatagramPush,
  opts: UdpListenerOptions = {},
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

  async function warnIfCapped(requested: number): Promise<void> {
    // Linux doubles the value it grants (half is bookkeeping overhead) and reports the doubled
    // figure, so a request was honoured there only when the report reaches twice the request.
    if (granted >= requested * KERNEL_REPORT_FACTOR) return;
    let rmemMax: number | undefined;
    try {
      rmemMax = Number((await readFile(RMEM_MAX_PATH, 'utf8')).trim());
    } catch {
      rmemMax = undefined;
    }
    logger.warn(
      {
        listen: spec.url,
        requested,
        granted: granted / KERNEL_REPORT_FACTOR,
        rmemMax,
        sysctl: RMEM_MAX_SYSCTL,
      },
      `udp receive buffer capped by the kernel: raise it with sysctl -w ${RMEM_MAX_SYSCTL}=${requested}`,
    );
  }

  return {
    async start(): Promise<void> {
      if (socket) throw new LifecycleError(`udp listener ${spec.url} already started`);
      const requested = opts.recvBufferSize;
      if (requested !== undefined && (!(requested > 0) || requested > MAX_RECV_BUFFER_BYTES))
        throw new InputError(spec.url, `receive buffer ${requested} is outside 1..${MAX_RECV_BUFFER_BYTES}`);
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
      if (requested !== undefined) await warnIfCapped(requested);
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
