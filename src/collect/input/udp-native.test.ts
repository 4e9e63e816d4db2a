import dgram from 'node:dgram';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../common/clock.ts';
import { InputError } from '../../common/errors.ts';
import { silentLogger, type Logger } from '../../common/logging.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import type { RawDatagram } from '../../common/schema/index.ts';
import { createCollectMetrics, type CollectMetrics } from '../metrics.ts';
import { parseListenUrl, type UdpListenSpec } from './listen-url.ts';
import { createUdpListener, type UdpListener } from './udp.ts';
import {
  createNativeUdpListener,
  loadNativeUdpReader,
  MAX_QUEUED_FROM_RING,
  MIN_RING_BYTES,
  RING_HEADER_BYTES,
  type DownstreamRoom,
} from './udp-native.ts';

/*
 * The native reader is what `npm install` builds on Linux: these tests require it there (a missing
 * build is a failure, not a skip), and only the fallback tests run elsewhere.
 */
const load = loadNativeUdpReader();
const onLinux = process.platform === 'linux';

const started: UdpListener[] = [];
const sockets: dgram.Socket[] = [];
afterEach(async () => {
  for (const l of started.splice(0)) await l.stop();
  for (const s of sockets.splice(0)) s.close();
});

function udpSpec(url: string): UdpListenSpec {
  const s = parseListenUrl(url);
  if (s.kind !== 'udp') throw new Error('not udp');
  return s;
}

/** A bound sender socket (so its source port is known). */
async function sender(family: 4 | 6): Promise<dgram.Socket> {
  const s = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
  sockets.push(s);
  await new Promise<void>((r) => s.bind(0, family === 6 ? '::1' : '127.0.0.1', () => r()));
  return s;
}

async function send(s: dgram.Socket, host: string, port: number, payloads: Uint8Array[]): Promise<void> {
  for (const p of payloads) await new Promise<void>((r, j) => s.send(p, port, host, (e) => (e ? j(e) : r())));
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Waits until `cond` has held on several polls in a row (counters have stopped moving). */
async function settled(cond: () => boolean): Promise<void> {
  for (let held = 0; held < 8;) {
    await until(cond);
    held++;
    await new Promise((r) => setTimeout(r, 10));
    if (!cond()) held = 0;
  }
}

/** A payload carrying its sequence number in the first 4 bytes, then a pattern derived from it. */
function payload(seq: number, len: number): Uint8Array {
  const b = new Uint8Array(Math.max(4, len));
  new DataView(b.buffer).setUint32(0, seq);
  for (let i = 4; i < b.length; i++) b[i] = (seq + i) & 0xff;
  return b;
}

/** A queue stand-in whose room the test controls. */
class Room implements DownstreamRoom {
  free = 0;
  depth = 0;
  private waiters: (() => void)[] = [];
  whenSpace(cb: () => void): void {
    this.waiters.push(cb);
  }
  open(n: number): void {
    this.free = n;
    const w = this.waiters.splice(0);
    for (const cb of w) cb();
  }
}

function nativeListener(
  metrics: CollectMetrics,
  url: string,
  push: (d: RawDatagram) => boolean,
  extra: { ringBytes?: number; room?: DownstreamRoom; clock?: ManualClock; recvBufferSize?: number } = {},
): UdpListener {
  if (!load.ok) throw new Error(`native udp reader not built: ${load.reason}`);
  const l = createNativeUdpListener(
    { clock: extra.clock ?? systemClock, logger: silentLogger, metrics },
    udpSpec(url),
    push,
    {
      ringBytes: extra.ringBytes ?? 4 * MIN_RING_BYTES,
      ...(extra.room ? { room: extra.room } : {}),
      ...(extra.recvBufferSize ? { recvBufferSize: extra.recvBufferSize } : {}),
    },
    load,
  );
  started.push(l);
  return l;
}

describe.runIf(onLinux)('native udp reader', () => {
  it('is built by npm install and loads', () => {
    expect(load).toMatchObject({ ok: true });
  });

  it('receives over IPv4 and IPv6 with the source address and port, and counts', async () => {
    const metrics = createCollectMetrics(new MetricsRegistry());
    const clock = new ManualClock(1_800_000_000_000);
    const got: RawDatagram[] = [];
    const v4 = nativeListener(metrics, 'udp://127.0.0.1:0', (d) => got.push(d) > 0, { clock });
    const v6 = nativeListener(metrics, 'udp://[::1]:0', (d) => got.push(d) > 0, { clock });
    await v4.start();
    await v6.start();
    expect(v4.reader).toBe('native');
    expect(v4.address().port).toBeGreaterThan(0);
    expect(v6.url()).toMatch(/^udp:\/\/\[::1\]:\d+$/);
    const s4 = await sender(4);
    const s6 = await sender(6);
    await send(s4, '127.0.0.1', v4.address().port, [new Uint8Array([1, 2, 3])]);
    await send(s6, '::1', v6.address().port, [new Uint8Array([4, 5])]);
    await until(() => got.length === 2);
    const [a, b] = got.sort((x, y) => x.bytes.length - y.bytes.length);
    expect(a).toMatchObject({ transport: 'udp', exporter: { address: '::1', port: s6.address().port } });
    expect([...a!.bytes]).toEqual([4, 5]);
    expect(b).toMatchObject({ exporter: { address: '127.0.0.1', port: s4.address().port } });
    expect([...b!.bytes]).toEqual([1, 2, 3]);
    // Receive times are on the injected clock: now minus the time spent in the ring.
    for (const d of got) {
      expect(d.receivedAt).toBeLessThanOrEqual(clock.now());
      expect(d.receivedAt).toBeGreaterThan(clock.now() - 60_000);
    }
    expect(metrics.udpDatagrams.value).toBe(2);
    expect(metrics.udpBytes.value).toBe(5);
    expect(metrics.queueDropped.value).toBe(0);
  });

  it('refuses a port already in use with a typed error', async () => {
    const metrics = createCollectMetrics(new MetricsRegistry());
    const a = nativeListener(metrics, 'udp://127.0.0.1:0', () => true);
    await a.start();
    const b = nativeListener(metrics, `udp://127.0.0.1:${a.address().port}`, () => true);
    await expect(b.start()).rejects.toBeInstanceOf(InputError);
  });

  it('drops and counts when its ring is full, and hands on what it held once there is room', async () => {
    const metrics = createCollectMetrics(new MetricsRegistry());
    const room = new Room();
    const got: number[] = [];
    const l = nativeListener(
      metrics,
      'udp://127.0.0.1:0',
      (d) => got.push(new DataView(d.bytes.buffer, d.bytes.byteOffset).getUint32(0)) > 0,
      { ringBytes: MIN_RING_BYTES, room },
    );
    await l.start();
    const s = await sender(4);
    // 1,000 datagrams of 4,000 bytes: about 4 MiB for a 1 MiB ring that nothing empties.
    const n = 1000;
    for (let i = 0; i < n; i += 50)
      await send(
        s,
        '127.0.0.1',
        l.address().port,
        Array.from({ length: 50 }, (_, k) => payload(i + k, 4000)),
      );
    await until(() => metrics.queueDropped.value > 0);
    expect(got).toEqual([]);
    const held = Math.floor(MIN_RING_BYTES / (4000 + RING_HEADER_BYTES));
    room.open(1_000_000);
    await until(() => got.length > 0);
    await until(() => got.length + metrics.queueDropped.value === metrics.udpDatagrams.value);
    expect(got.length).toBeLessThanOrEqual(held);
    expect(got.length).toBeGreaterThan(held / 2);
    // What was kept comes out in order.
    expect(got).toEqual([...got].sort((x, y) => x - y));
    expect(metrics.udpDatagrams.value).toBeLessThanOrEqual(n);
  });

  it('moves no more than the room downstream allows and resumes when it grows', async () => {
    const metrics = createCollectMetrics(new MetricsRegistry());
    const room = new Room();
    room.free = 10;
    const got: number[] = [];
    const l = nativeListener(
      metrics,
      'udp://127.0.0.1:0',
      (d) => {
        room.free--;
        return got.push(d.bytes[3]!) > 0;
      },
      { room },
    );
    await l.start();
    const s = await sender(4);
    await send(
      s,
      '127.0.0.1',
      l.address().port,
      Array.from({ length: 30 }, (_, i) => payload(i, 100)),
    );
    await until(() => metrics.udpDatagrams.value === 30 && got.length === 10);
    room.open(100);
    await until(() => got.length === 30);
    expect(got).toEqual([...Array(30).keys()]);
    expect(metrics.queueDropped.value).toBe(0);
  });

  it('keeps a backlog in the ring while the queue already holds MAX_QUEUED_FROM_RING', async () => {
    const metrics = createCollectMetrics(new MetricsRegistry());
    const room = new Room();
    room.free = 1_000_000;
    room.depth = MAX_QUEUED_FROM_RING - 5;
    const got: RawDatagram[] = [];
    const l = nativeListener(
      metrics,
      'udp://127.0.0.1:0',
      (d) => {
        room.depth++;
        return got.push(d) > 0;
      },
      { room },
    );
    await l.start();
    const s = await sender(4);
    await send(
      s,
      '127.0.0.1',
      l.address().port,
      Array.from({ length: 20 }, (_, i) => payload(i, 50)),
    );
    await until(() => metrics.udpDatagrams.value === 20 && got.length === 5);
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toHaveLength(5);
    room.depth = 0;
    room.open(1_000_000);
    await until(() => got.length === 20);
  });

  it('hands on what the ring holds at stop, then closes the socket (the port is free again)', async () => {
    const metrics = createCollectMetrics(new MetricsRegistry());
    const room = new Room();
    const got: RawDatagram[] = [];
    const l = nativeListener(metrics, 'udp://127.0.0.1:0', (d) => got.push(d) > 0, { room });
    await l.start();
    const port = l.address().port;
    const s = await sender(4);
    await send(s, '127.0.0.1', port, [payload(1, 10), payload(2, 10)]);
    await until(() => metrics.udpDatagrams.value === 2);
    expect(got).toHaveLength(0);
    await l.stop();
    expect(got).toHaveLength(2);
    await l.stop(); // idempotent
    const again = dgram.createSocket('udp4');
    sockets.push(again);
    await new Promise<void>((r, j) => {
      again.once('error', j);
      again.bind(port, '127.0.0.1', () => r());
    });
  });

  it('hands on every datagram intact and in order, or counts it as dropped (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 4, max: 9000 }), { minLength: 1, maxLength: 600, size: 'max' }),
        fc.integer({ min: 0, max: 50 }),
        async (lengths, initialRoom) => {
          const metrics = createCollectMetrics(new MetricsRegistry());
          const room = new Room();
          room.free = initialRoom;
          const got: RawDatagram[] = [];
          const l = nativeListener(
            metrics,
            'udp://127.0.0.1:0',
            (d) => {
              room.free = Math.max(0, room.free - 1);
              return got.push(d) > 0;
            },
            // A large socket buffer, so that the ring rather than the kernel is what overflows.
            { ringBytes: MIN_RING_BYTES, room, recvBufferSize: 4 << 20 },
          );
          await l.start();
          const s = await sender(4);
          await send(
            s,
            '127.0.0.1',
            l.address().port,
            lengths.map((len, i) => payload(i, len)),
          );
          room.open(1_000_000);
          // The kernel may drop under load: wait until what was read is accounted for and no
          // more comes in.
          await until(() => metrics.udpDatagrams.value > 0);
          await settled(() => got.length + metrics.queueDropped.value === metrics.udpDatagrams.value);
          let last = -1;
          for (const d of got) {
            const seq = new DataView(d.bytes.buffer, d.bytes.byteOffset).getUint32(0);
            expect(seq).toBeGreaterThan(last);
            last = seq;
            expect(Buffer.from(d.bytes).equals(Buffer.from(payload(seq, lengths[seq]!)))).toBe(true);
          }
          if (metrics.queueDropped.value === 0)
            expect(metrics.udpBytes.value).toBe(got.reduce((n, d) => n + d.bytes.length, 0));
          await l.stop();
          started.splice(started.indexOf(l), 1);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('udp reader selection', () => {
  function capture(): { lines: { msg: string; reason?: string }[]; logger: Logger } {
    const lines: { msg: string; reason?: string }[] = [];
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(c: Buffer, _e, cb): void {
          lines.push(JSON.parse(c.toString()) as { msg: string; reason?: string });
          cb();
        },
      }),
    );
    return { lines, logger };
  }

  it('says why the addon cannot be used instead of throwing', () => {
    const r = loadNativeUdpReader('/nonexistent/acd_udp_reader.node');
    expect(r.ok).toBe(false);
  });

  it('falls back to dgram with one warning line when the addon is unavailable (auto)', async () => {
    const { lines, logger } = capture();
    const metrics = createCollectMetrics(new MetricsRegistry());
    const got: RawDatagram[] = [];
    const addon = { ok: false, reason: 'not built' } as const;
    const deps = { clock: systemClock, logger, metrics };
    const a = createUdpListener(deps, udpSpec('udp://127.0.0.1:0'), (d) => got.push(d) > 0, { addon });
    const b = createUdpListener(deps, udpSpec('udp://[::1]:0'), (d) => got.push(d) > 0, { addon });
    started.push(a, b);
    await a.start();
    await b.start();
    expect([a.reader, b.reader]).toEqual(['dgram', 'dgram']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reason: 'not built' });
    const s = await sender(4);
    await send(s, '127.0.0.1', a.address().port, [new Uint8Array([9])]);
    await until(() => got.length === 1);
    expect(got[0]!.exporter).toEqual({ address: '127.0.0.1', port: s.address().port });
    expect(metrics.udpDatagrams.value).toBe(1);
  });

  it('fails to start with a typed error when native is required but unavailable', async () => {
    const metrics = createCollectMetrics(new MetricsRegistry());
    const l = createUdpListener(
      { clock: systemClock, logger: silentLogger, metrics },
      udpSpec('udp://127.0.0.1:0'),
      () => true,
      { reader: 'native', addon: { ok: false, reason: 'not built' } },
    );
    await expect(l.start()).rejects.toBeInstanceOf(InputError);
  });

  it('uses dgram when asked, and native by default where it is built', () => {
    const metrics = createCollectMetrics(new MetricsRegistry());
    const deps = { clock: systemClock, logger: silentLogger, metrics };
    const spec = udpSpec('udp://127.0.0.1:0');
    expect(createUdpListener(deps, spec, () => true, { reader: 'dgram' }).reader).toBe('dgram');
    expect(createUdpListener(deps, spec, () => true).reader).toBe(onLinux ? 'native' : 'dgram');
  });
});
