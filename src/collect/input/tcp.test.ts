import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../common/clock.ts';
import { silentLogger } from '../../common/logging.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import type { RawDatagram } from '../../common/schema/index.ts';
import { encodeIpfixMessage } from '../../simulate/encode/index.ts';
import { createCollectMetrics, type CollectMetrics } from '../metrics.ts';
import { createIpfixFramer } from './framing.ts';
import { parseListenUrl, type TcpListenSpec } from './listen-url.ts';
import { DatagramQueue } from './queue.ts';
import { createTcpListener, type TcpListener, type TcpListenerOptions } from './tcp.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function tcpSpec(url: string): TcpListenSpec {
  const s = parseListenUrl(url);
  if (s.kind !== 'tcp') throw new Error('not tcp');
  return s;
}

/** An IPFIX message whose sequence number identifies it (an empty data-less message is valid). */
function message(seq: number, padTo = 0): Uint8Array {
  const sets = padTo > 0 ? [{ kind: 'raw' as const, setId: 0xffff, body: new Uint8Array(padTo) }] : [];
  return encodeIpfixMessage({ observationDomainId: 1, sequence: seq, exportTime: 1_700_000_000_000, sets });
}

function seqOf(d: RawDatagram): number {
  return new DataView(d.bytes.buffer, d.bytes.byteOffset, d.bytes.byteLength).getUint32(8);
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function connect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  const s = net.connect({ port, host });
  s.on('error', () => {});
  await new Promise<void>((r) => s.once('connect', () => r()));
  cleanup.push(() => void s.destroy());
  return s;
}

/** Writes `bytes` in pieces cut at the given odd offsets, letting each piece leave separately. */
async function writeSplit(s: net.Socket, bytes: Uint8Array, step: number): Promise<void> {
  for (let i = 0; i < bytes.length; i += step) {
    s.write(bytes.subarray(i, Math.min(bytes.length, i + step)));
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function startListener(
  queueCapacity: number,
  opts: Partial<TcpListenerOptions> = {},
): Promise<{ listener: TcpListener; got: RawDatagram[]; metrics: CollectMetrics; queue: DatagramQueue }> {
  const metrics = createCollectMetrics(new MetricsRegistry());
  const got: RawDatagram[] = [];
  const queue = new DatagramQueue(metrics, { capacity: queueCapacity, batchSize: 8 }, (d) => got.push(d));
  const listener = createTcpListener(
    { clock: systemClock, logger: silentLogger, metrics },
    tcpSpec('tcp://127.0.0.1:0'),
    queue,
    { maxConnections: 16, idleTimeoutMs: 0, createFramer: () => createIpfixFramer(), ...opts },
  );
  await listener.start();
  cleanup.push(() => listener.stop());
  return { listener, got, metrics, queue };
}

describe('ipfix-over-tcp listener', () => {
  it('reassembles messages split at odd offsets from several concurrent exporters', async () => {
    const { listener, got, metrics } = await startListener(1024);
    const port = listener.address().port;
    const exporters = 4;
    const perExporter = 30;
    const socks = await Promise.all([...Array(exporters).keys()].map(() => connect(port)));
    await Promise.all(
      socks.map((s, e) => {
        const stream = Buffer.concat(
          [...Array(perExporter).keys()].map((i) => message(e * 1000 + i, (i * 7) % 50)),
        );
        return writeSplit(s, stream, 13 + 2 * e); // 13, 15, 17, 19: never on a message boundary
      }),
    );
    await until(() => got.length === exporters * perExporter);
    const byPort = new Map<number, number[]>();
    for (const d of got) {
      expect(d.transport).toBe('tcp');
      expect(d.exporter.address).toBe('127.0.0.1');
      byPort.set(d.exporter.port, [...(byPort.get(d.exporter.port) ?? []), seqOf(d)]);
    }
    expect(byPort.size).toBe(exporters);
    for (const seqs of byPort.values()) {
      const base = seqs[0]!;
      expect(seqs).toEqual([...Array(perExporter).keys()].map((i) => base + i)); // in order
    }
    expect(metrics.tcpAccepted.value).toBe(exporters);
    expect(listener.connections()).toBe(exporters);
  });

  it('closes only the connection whose stream is corrupt', async () => {
    const { listener, got, metrics } = await startListener(1024);
    const port = listener.address().port;
    const good = await connect(port);
    const bad = await connect(port);
    const badClosed = new Promise<void>((r) => bad.once('close', () => r()));
    bad.write(message(1));
    bad.write(Buffer.from([0, 9, 0, 20, ...new Array<number>(16).fill(0)])); // NetFlow v9 on an IPFIX stream
    await badClosed;
    good.write(message(2));
    await until(() => got.length === 2);
    expect(got.map(seqOf).sort()).toEqual([1, 2]);
    expect(metrics.tcpCorrupt.value).toBe(1);
    expect(listener.connections()).toBe(1);
  });

  it('refuses connections beyond the limit and closes idle ones', async () => {
    const { listener, metrics } = await startListener(64, { maxConnections: 2, idleTimeoutMs: 300 });
    const port = listener.address().port;
    await connect(port);
    await connect(port);
    const third = await connect(port);
    await new Promise<void>((r) => third.once('close', () => r()));
    expect(metrics.tcpRejected.value).toBe(1);
    await until(() => metrics.tcpIdleClosed.value === 2);
    expect(listener.connections()).toBe(0);
  });

  it('pauses the socket when the queue is full and loses nothing', async () => {
    const { listener, got, metrics, queue } = await startListener(16);
    let hold = true;
    queue.holdWhile(() => !hold);
    const s = await connect(listener.address().port);
    const n = 200;
    s.write(Buffer.concat([...Array(n).keys()].map((i) => message(i, 100))));
    await until(() => metrics.tcpPaused.value > 0);
    expect(queue.depth).toBeLessThanOrEqual(16);
    hold = false;
    queue.resume();
    await until(() => got.length === n);
    expect(got.map(seqOf)).toEqual([...Array(n).keys()]);
    expect(metrics.queueDropped.value).toBe(0);
  });

  it('hands held messages to the final drain when stopped while paused', async () => {
    const { listener, got, metrics, queue } = await startListener(16);
    queue.holdWhile(() => false);
    const s = await connect(listener.address().port);
    const n = 40;
    s.write(Buffer.concat([...Array(n).keys()].map((i) => message(i))));
    await until(() => metrics.tcpMessages.value === n);
    await listener.stop();
    queue.drainAll();
    expect(got.map(seqOf)).toEqual([...Array(n).keys()]);
  });
});
