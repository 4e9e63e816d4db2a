import dgram from 'node:dgram';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../common/clock.ts';
import { InputError } from '../../common/errors.ts';
import { silentLogger } from '../../common/logging.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import type { RawDatagram } from '../../common/schema/index.ts';
import { createCollectMetrics } from '../metrics.ts';
import { parseListenUrl, type UdpListenSpec } from './listen-url.ts';
import { createUdpListener, RMEM_MAX_SYSCTL, type UdpListener } from './udp.ts';

const started: UdpListener[] = [];
afterEach(async () => {
  for (const l of started.splice(0)) await l.stop();
});

function udpSpec(url: string): UdpListenSpec {
  const s = parseListenUrl(url);
  if (s.kind !== 'udp') throw new Error('not udp');
  return s;
}

async function send(family: 4 | 6, host: string, port: number, payloads: Uint8Array[]): Promise<void> {
  const s = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
  for (const p of payloads) await new Promise<void>((r, j) => s.send(p, port, host, (e) => (e ? j(e) : r())));
  s.close();
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Both readers pass the same tests; the native one where `npm install` builds it (Linux). */
const readers = process.platform === 'linux' ? (['native', 'dgram'] as const) : (['dgram'] as const);

describe.each(readers)('udp listener (%s reader)', (reader) => {
  it('binds port 0 on IPv4 and IPv6 and hands datagrams on untouched, with the exporter address', async () => {
    const metrics = createCollectMetrics(new MetricsRegistry());
    const got: RawDatagram[] = [];
    const deps = { clock: systemClock, logger: silentLogger, metrics };
    const v4 = createUdpListener(deps, udpSpec('udp://127.0.0.1:0'), (d) => got.push(d) > 0, { reader });
    const v6 = createUdpListener(deps, udpSpec('udp://[::1]:0'), (d) => got.push(d) > 0, { reader });
    started.push(v4, v6);
    await v4.start();
    await v6.start();
    expect(v4.reader).toBe(reader);
    expect(v4.address().port).toBeGreaterThan(0);
    expect(v6.url()).toMatch(/^udp:\/\/\[::1\]:\d+$/);
    await send(4, '127.0.0.1', v4.address().port, [new Uint8Array([1, 2, 3])]);
    await send(6, '::1', v6.address().port, [new Uint8Array([4, 5])]);
    await until(() => got.length === 2);
    const byTransport = got.sort((a, b) => a.bytes.length - b.bytes.length);
    expect(byTransport[0]).toMatchObject({ transport: 'udp', exporter: { address: '::1' } });
    expect([...byTransport[0]!.bytes]).toEqual([4, 5]);
    expect(byTransport[1]!.exporter.address).toBe('127.0.0.1');
    expect(metrics.udpDatagrams.value).toBe(2);
    expect(metrics.udpBytes.value).toBe(5);
  });

  it('refuses to share a port (reuseAddr off) with a typed error', async () => {
    const metrics = createCollectMetrics(new MetricsRegistry());
    const deps = { clock: systemClock, logger: silentLogger, metrics };
    const a = createUdpListener(deps, udpSpec('udp://127.0.0.1:0'), () => true, { reader });
    started.push(a);
    await a.start();
    const b = createUdpListener(deps, udpSpec(`udp://127.0.0.1:${a.address().port}`), () => true, {
      reader,
    });
    await expect(b.start()).rejects.toBeInstanceOf(InputError);
  });

  it('warns naming net.core.rmem_max when the kernel caps the receive buffer', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(c: Buffer, _e, cb): void {
          lines.push(c.toString());
          cb();
        },
      }),
    );
    const metrics = createCollectMetrics(new MetricsRegistry());
    const l = createUdpListener(
      { clock: systemClock, logger, metrics },
      udpSpec('udp://127.0.0.1:0'),
      () => true,
      {
        recvBufferSize: 1 << 30,
        reader,
      },
    );
    started.push(l);
    await l.start();
    expect(l.recvBufferSize()).toBeLessThan(1 << 30);
    await until(() => lines.length > 0);
    const entry = JSON.parse(lines[0]!) as { sysctl: string; msg: string; rmemMax: number };
    expect(entry.sysctl).toBe(RMEM_MAX_SYSCTL);
    expect(entry.msg).toContain('net.core.rmem_max');
  });

  it('does not warn when the requested buffer is granted', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(c: Buffer, _e, cb): void {
          lines.push(c.toString());
          cb();
        },
      }),
    );
    const metrics = createCollectMetrics(new MetricsRegistry());
    const l = createUdpListener(
      { clock: systemClock, logger, metrics },
      udpSpec('udp://127.0.0.1:0'),
      () => true,
      {
        recvBufferSize: 65536,
        reader,
      },
    );
    started.push(l);
    await l.start();
    expect(l.recvBufferSize()).toBe(65536);
    expect(lines).toEqual([]);
  });
});
