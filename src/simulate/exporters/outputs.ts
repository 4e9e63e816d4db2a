/**
 * Where the fleet's messages go: `udp://HOST:PORT` (one socket per exporter, bound to its own
 * loopback source address and connected to the collector, so collectors see distinct exporters),
 * `tcp://HOST:PORT` (IPFIX over TCP or dnstap Frame Streams, one connection per exporter from its
 * own source address, reconnecting with exponential backoff), or a file (one pcap capture of all
 * exporters' datagrams in time order for flow formats; a Frame Streams file for dnstap).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createWriteStream, type WriteStream } from 'node:fs';
import { connect as netConnect, type Socket as TcpSocket } from 'node:net';
import { PcapWriter } from '../encode/pcap-writer.ts';
import {
  connectFrameStreamSender,
  frameStreamData,
  frameStreamFileStart,
  frameStreamFileStop,
} from '../encode/framestream.ts';
import { ExporterConfigError, ExporterOutputError } from './errors.ts';
import type { ExportedMessage, ExporterConfig, ExporterFormat } from './types.ts';

/** Counters of an output. */
export interface OutputStats {
  /** Messages handed to the operating system (or file). */
  sent: number;
  /** Messages dropped (no connection, send error). */
  dropped: number;
  errors: number;
  /** Connections (re)established (TCP). */
  connects: number;
}

/** A destination for the fleet's messages. */
export interface FleetOutput {
  readonly stats: OutputStats;
  /** Binds / connects / opens; `onSession(i)` is called whenever exporter i starts a new transport session. */
  open(exporters: readonly ExporterConfig[], onSession: (index: number) => void): Promise<void>;
  /** Sends one message; never throws for transient failures (they are counted). */
  write(m: ExportedMessage): void;
  /** True while the producer should wait (socket queues or file buffer full). */
  congested(): boolean;
  /** Resolves when the output can take more. */
  drain(): Promise<void>;
  /** Flushes and closes everything. */
  close(): Promise<void>;
}

/** A parsed `--to` / `--out` target. */
export type OutputTarget =
  | { kind: 'udp'; host: string; port: number; routes?: Routes }
  | { kind: 'tcp'; host: string; port: number; routes?: Routes }
  | { kind: 'file'; path: string };

/** Standard collector ports, used as the destination written into pcap files. */
export const DEFAULT_PORTS: Record<ExporterFormat, number> = {
  ipfix: 4739,
  netflow9: 2055,
  netflow5: 2055,
  sflow5: 6343,
  dnstap: 6000,
};

/**
 * Per-provider destinations (the embedded demo: one edge per provider). Keys are provider ids;
 * an exporter whose id starts with `<provider id>-` (as the country model names them) sends
 * there; the others send to the target's own host and port.
 */
export type Routes = Record<string, { host: string; port: number }>;

/** The destination of exporter `ex` under `routes`. */
export function routeFor(
  ex: { id: string },
  host: string,
  port: number,
  routes: Routes | undefined,
): { host: string; port: number } {
  if (routes) for (const [k, v] of Object.entries(routes)) if (ex.id.startsWith(`${k}-`)) return v;
  return { host, port };
}

/** Parses `udp://HOST:PORT`, `tcp://HOST:PORT` or a file path. Throws `ExporterConfigError`. */
export function parseOutputTarget(s: string): OutputTarget {
  const m = /^(udp|tcp):\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/.exec(s);
  if (m) {
    const port = Number(m[3]);
    if (port < 1 || port > 65535) throw new ExporterConfigError(`port out of range in ${s}`);
    return { kind: m[1] as 'udp' | 'tcp', host: m[2]!.replace(/^\[|\]$/g, ''), port };
  }
  if (/^[a-z]+:\/\//i.test(s))
    throw new ExporterConfigError(`unsupported target ${s} (udp://HOST:PORT, tcp://HOST:PORT or a file)`);
  return { kind: 'file', path: s };
}

function zeroStats(): OutputStats {
  return { sent: 0, dropped: 0, errors: 0, connects: 0 };
}

// ---- UDP ----------------------------------------------------------------------------------------

/** Datagrams in flight (sent but not yet completed by the OS) above which the producer waits. */
const UDP_MAX_IN_FLIGHT = 512;

/** UDP output: one socket per exporter, bound to its address, connected to the collector. */
export function createUdpOutput(host: string, port: number, routes?: Routes): FleetOutput {
  const stats = zeroStats();
  const sockets: UdpSocket[] = [];
  let inFlight = 0;
  let waiters: (() => void)[] = [];
  // One shared callback: no closure per datagram on the hot path.
  const done = (err: Error | null): void => {
    inFlight--;
    if (err) {
      stats.errors++;
      stats.dropped++;
      stats.sent--;
    }
    if (inFlight <= UDP_MAX_IN_FLIGHT / 2 && waiters.length > 0) {
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    }
  };
  return {
    stats,
    async open(exporters) {
      for (const ex of exporters) {
        const s = createSocket({
          type: ex.address.includes(':') ? 'udp6' : 'udp4',
          sendBufferSize: 4 * 1024 * 1024,
        });
        s.on('error', () => stats.errors++);
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.bind({ port: 0, address: ex.address, exclusive: true }, () => {
            s.off('error', reject);
            resolve();
          });
        }).catch((e: unknown) => {
          throw new ExporterOutputError(`cannot bind exporter ${ex.id} to ${ex.address}`, { cause: e });
        });
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          const to = routeFor(ex, host, port, routes);
          s.connect(to.port, to.host, () => {
            s.off('error', reject);
            resolve();
          });
        }).catch((e: unknown) => {
          const to = routeFor(ex, host, port, routes);
          throw new ExporterOutputError(`cannot connect exporter ${ex.id} to ${to.host}:${to.port}`, {
            cause: e,
          });
        });
        sockets.push(s);
      }
    },
    write(m) {
      const s = sockets[m.exporterIndex];
      if (!s) {
        stats.dropped++;
        return;
      }
      inFlight++;
      stats.sent++;
      s.send(m.bytes, done);
    },
    congested: () => inFlight >= UDP_MAX_IN_FLIGHT,
    drain: () =>
      inFlight < UDP_MAX_IN_FLIGHT ? Promise.resolve() : new Promise<void>((r) => waiters.push(r)),
    async close() {
      while (inFlight > 0) await new Promise<void>((r) => waiters.push(r));
      await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
      sockets.length = 0;
    },
  };
}

// ---- TCP ----------------------------------------------------------------------------------------

/** Reconnect backoff: first delay, cap, and factor. */
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 5000;
/** Bytes buffered in a TCP socket above which the producer waits. */
const TCP_HIGH_WATER = 1024 * 1024;

interface Channel {
  write(bytes: Uint8Array): void;
  buffered(): number;
  close(): Promise<void>;
}

/**
 * One reconnecting connection per exporter. `dial` opens a channel and resolves once it is usable
 * (after the Frame Streams handshake for dnstap); `onClosed` is wired by the dialer. While an
 * exporter has no connection its messages are dropped and counted: on reconnect it starts a new
 * session (templates first), and sequence numbers show the loss to the collector.
 */
function createReconnectingOutput(
  dial: (ex: ExporterConfig, onClosed: () => void) => Promise<Channel>,
): FleetOutput {
  const stats = zeroStats();
  interface Conn {
    ex: ExporterConfig;
    channel: Channel | undefined;
    backoff: number;
    timer: NodeJS.Timeout | undefined;
  }
  const conns: Conn[] = [];
  let closing = false;
  let session: (i: number) => void = () => {};

  const attempt = async (i: number): Promise<void> => {
    const c = conns[i]!;
    if (closing) return;
    try {
      const ch = await dial(c.ex, () => {
        if (c.channel === ch) c.channel = undefined;
        schedule(i);
      });
      if (closing) {
        await ch.close();
        return;
      }
      c.channel = ch;
      c.backoff = BACKOFF_FIRST_MS;
      stats.connects++;
      session(i);
    } catch {
      stats.errors++;
      schedule(i);
    }
  };
  const schedule = (i: number): void => {
    const c = conns[i]!;
    if (closing || c.timer) return;
    const delay = c.backoff;
    c.backoff = Math.min(BACKOFF_MAX_MS, c.backoff * 2);
    c.timer = setTimeout(() => {
      c.timer = undefined;
      void attempt(i);
    }, delay);
  };

  return {
    stats,
    async open(exporters, onSession) {
      session = onSession;
      for (const ex of exporters)
        conns.push({ ex, channel: undefined, backoff: BACKOFF_FIRST_MS, timer: undefined });
      // The first attempts run together; exporters that fail keep retrying in the background.
      await Promise.all(conns.map((_, i) => attempt(i)));
    },
    write(m) {
      const c = conns[m.exporterIndex];
      if (!c?.channel) {
        stats.dropped++;
        return;
      }
      try {
        c.channel.write(m.bytes);
        stats.sent++;
      } catch {
        stats.errors++;
        stats.dropped++;
      }
    },
    congested: () => conns.some((c) => c.channel !== undefined && c.channel.buffered() > TCP_HIGH_WATER),
    async drain() {
      while (conns.some((c) => c.channel !== undefined && c.channel.buffered() > TCP_HIGH_WATER))
        await new Promise((r) => setTimeout(r, 2));
    },
    async close() {
      closing = true;
      for (const c of conns) if (c.timer) clearTimeout(c.timer);
      await Promise.all(conns.map(async (c) => c.channel?.close().catch(() => stats.errors++)));
      conns.length = 0;
    },
  };
}

/** IPFIX over TCP (RFC 7011 section 10.4): messages back to back on one connection per exporter. */
export function createTcpOutput(host: string, port: number, routes?: Routes): FleetOutput {
  return createReconnectingOutput(
    (ex, onClosed) =>
      new Promise<Channel>((resolve, reject) => {
        const s: TcpSocket = netConnect({ ...routeFor(ex, host, port, routes), localAddress: ex.address });
        s.setNoDelay(false);
        const fail = (e: Error): void => {
          s.destroy();
          reject(e);
        };
        s.once('error', fail);
        s.once('connect', () => {
          s.off('error', fail);
          s.on('error', () => {});
          s.once('close', onClosed);
          resolve({
            write: (b) => void s.write(b),
            buffered: () => s.writableLength,
            close: () =>
              new Promise<void>((r) => {
                s.off('close', onClosed);
                s.end(() => r());
                setTimeout(() => {
                  s.destroy();
                  r();
                }, 1000).unref();
              }),
          });
        });
      }),
  );
}

/** dnstap over TCP: one bidirectional Frame Streams connection per exporter. */
export function createFrameStreamTcpOutput(host: string, port: number, routes?: Routes): FleetOutput {
  return createReconnectingOutput(async (ex, onClosed) => {
    const sender = await connectFrameStreamSender({
      ...routeFor(ex, host, port, routes),
      localAddress: ex.address,
    });
    let closed = false;
    return {
      write(b) {
        try {
          sender.send(b);
        } catch (e) {
          if (!closed) {
            closed = true;
            onClosed();
          }
          throw e;
        }
      },
      buffered: () => 0,
      close: () => sender.close(),
    };
  });
}

// ---- files --------------------------------------------------------------------------------------

function fileStream(path: string): Promise<WriteStream> {
  return new Promise<WriteStream>((resolve, reject) => {
    const s = createWriteStream(path);
    s.once('error', (e) => reject(new ExporterOutputError(`cannot write ${path}`, { cause: e })));
    s.once('open', () => resolve(s));
  });
}

function streamOutput(
  path: string,
  head: () => Uint8Array,
  frame: (m: ExportedMessage) => Uint8Array,
  tail: () => Uint8Array | undefined,
): FleetOutput {
  const stats = zeroStats();
  let stream: WriteStream | undefined;
  let full = false;
  let failure: Error | undefined;
  return {
    stats,
    async open() {
      stream = await fileStream(path);
      stream.on('error', (e) => {
        failure = e;
        stats.errors++;
      });
      stream.write(head());
    },
    write(m) {
      if (!stream || failure) {
        stats.dropped++;
        return;
      }
      if (!stream.write(frame(m))) full = true;
      stats.sent++;
    },
    congested: () => full,
    drain: () =>
      !full || !stream
        ? Promise.resolve()
        : new Promise<void>((r) =>
            stream!.once('drain', () => {
              full = false;
              r();
            }),
          ),
    async close() {
      if (!stream) return;
      const t = tail();
      const s = stream;
      stream = undefined;
      await new Promise<void>((resolve, reject) => {
        if (t) s.write(t);
        s.end((err?: Error | null) => (err ? reject(err) : resolve()));
      });
      if (failure) throw new ExporterOutputError(`writing ${path} failed`, { cause: failure });
    },
  };
}

/**
 * One pcap capture of every exporter's datagrams, in the order (and with the export times) they
 * were produced; source = exporter address and a fixed per-exporter port, destination = the
 * collector address/port given (default 127.0.0.1 and the format's standard port).
 */
export function createPcapFileOutput(
  path: string,
  opts: { collector?: string; port?: number; linkType?: 'ethernet' | 'raw' } = {},
): FleetOutput {
  const w = new PcapWriter({ linkType: opts.linkType ?? 'ethernet' });
  const collector = opts.collector ?? '127.0.0.1';
  return streamOutput(
    path,
    () => w.header(),
    (m) =>
      w.packet({
        timeMs: m.timeMs,
        src: m.exporter.address,
        srcPort: 40000 + (m.exporterIndex % 20000),
        dst: m.exporter.address.includes(':') && !collector.includes(':') ? '::1' : collector,
        dstPort: opts.port ?? DEFAULT_PORTS[m.exporter.format],
        payload: m.bytes,
      }),
    () => undefined,
  );
}

/** A unidirectional Frame Streams file of dnstap payloads (START, data frames, STOP). */
export function createFrameStreamFileOutput(path: string): FleetOutput {
  return streamOutput(
    path,
    () => frameStreamFileStart(),
    (m) => frameStreamData(m.bytes),
    () => frameStreamFileStop(),
  );
}

/** Picks the output for a target and format; throws `ExporterConfigError` for impossible pairs. */
export function createOutput(target: OutputTarget, format: ExporterFormat): FleetOutput {
  switch (target.kind) {
    case 'udp':
      if (format === 'dnstap')
        throw new ExporterConfigError('dnstap is sent over tcp:// (Frame Streams) or to a file');
      return createUdpOutput(target.host, target.port, target.routes);
    case 'tcp':
      if (format === 'dnstap') return createFrameStreamTcpOutput(target.host, target.port, target.routes);
      if (format !== 'ipfix')
        throw new ExporterConfigError(`${format} is not sent over TCP (only IPFIX and dnstap)`);
      return createTcpOutput(target.host, target.port, target.routes);
    case 'file':
      return format === 'dnstap'
        ? createFrameStreamFileOutput(target.path)
        : createPcapFileOutput(target.path);
  }
}
