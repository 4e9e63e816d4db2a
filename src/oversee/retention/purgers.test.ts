import { createServer as createHttpServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.ts';
import { createWebhookSender } from '../../correlate/export/index.ts';
import { resolveWebhookConfig } from '../../correlate/config.ts';
import { createEventHub } from '../../serve/events.ts';

describe('retention purgers of caches and export queues', () => {
  it('the SSE replay ring drops events published before the cutoff and keeps the order of the rest', () => {
    const clock = new ManualClock(1000);
    const hub = createEventHub(4, clock);
    hub.publish('alert', { n: 1 });
    clock.advance(10);
    hub.publish('alert', { n: 2 });
    hub.publish('stats', { n: 0 }, { retain: false });
    clock.advance(10);
    hub.publish('incident', { n: 3 });
    expect(hub.purgeBefore(1010)).toBe(1);
    expect(hub.since(0).map((e) => e.seq)).toEqual([2, 4]);
    expect(hub.purgeBefore(1010)).toBe(0);
    // the ring keeps working after a purge (wrap-around included)
    for (let i = 0; i < 5; i++) hub.publish('alert', { i });
    expect(hub.since(0).map((e) => e.seq)).toEqual([6, 7, 8, 9]);
    clock.advance(1);
    expect(hub.purgeBefore(clock.now())).toBe(4);
    expect(hub.since(0)).toEqual([]);
    hub.publish('alert', { last: true });
    expect(hub.since(0).map((e) => e.seq)).toEqual([10]);
  });

  let receiver: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
    receiver = undefined;
  });

  it('the webhook retry queue drops bodies queued before the cutoff', async () => {
    // a receiver that always answers 503: bodies stay queued for retries
    receiver = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.statusCode = 503;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver?.listen(0, '127.0.0.1', () => r()));
    const addr = receiver.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    const clock = new ManualClock(5000);
    const sender = createWebhookSender(
      resolveWebhookConfig({
        url: `http://127.0.0.1:${port}/`,
        maxAttempts: 100,
        backoffBaseMs: 60_000,
        backoffMaxMs: 60_000,
      }),
      { clock },
    );
    sender.send({ n: 1 });
    clock.advance(100);
    sender.send({ n: 2 });
    sender.send({ n: 3 });
    expect(sender.queued).toBe(3);
    expect(sender.purgeBefore(5100)).toBe(1);
    expect(sender.queued).toBe(2);
    expect(sender.purgeBefore(5101)).toBe(2);
    expect(sender.queued).toBe(0);
    await sender.stop(10);
  });
});
