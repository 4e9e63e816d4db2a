import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../common/metrics.ts';
import type { RawDatagram } from '../../common/schema/index.ts';
import { createCollectMetrics } from '../metrics.ts';
import { DatagramQueue, MIN_QUEUE_CAPACITY } from './queue.ts';

function dg(i: number): RawDatagram {
  return {
    receivedAt: i,
    exporter: { address: '192.0.2.1', port: 1000 },
    transport: 'udp',
    bytes: new Uint8Array([i & 0xff]),
  };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('datagram queue', () => {
  it('drains in order, in batches, off the push call', async () => {
    const m = createCollectMetrics(new MetricsRegistry());
    const seen: number[] = [];
    const q = new DatagramQueue(m, { capacity: 64, batchSize: 10 }, (d) => seen.push(d.receivedAt));
    for (let i = 0; i < 25; i++) expect(q.push(dg(i))).toBe(true);
    expect(seen).toEqual([]); // nothing is decoded inside the push (the socket callback)
    await turn();
    expect(seen).toHaveLength(10);
    await turn();
    await turn();
    expect(seen).toEqual([...Array(25).keys()]);
    expect(m.queueEnqueued.value).toBe(25);
    expect(m.queueDrained.value).toBe(25);
    expect(m.queueDepth.value).toBe(0);
  });

  it('drops and counts when full instead of growing', async () => {
    const m = createCollectMetrics(new MetricsRegistry());
    let handled = 0;
    const q = new DatagramQueue(m, { capacity: MIN_QUEUE_CAPACITY, batchSize: 100 }, () => handled++);
    let accepted = 0;
    for (let i = 0; i < MIN_QUEUE_CAPACITY + 5; i++) if (q.push(dg(i))) accepted++;
    expect(accepted).toBe(MIN_QUEUE_CAPACITY);
    expect(m.queueDropped.value).toBe(5);
    expect(q.depth).toBe(MIN_QUEUE_CAPACITY);
    await turn();
    expect(handled).toBe(MIN_QUEUE_CAPACITY);
  });

  it('offer refuses without counting a drop, and whenSpace wakes the waiter at half depth', async () => {
    const m = createCollectMetrics(new MetricsRegistry());
    const q = new DatagramQueue(m, { capacity: 16, batchSize: 4 }, () => {});
    for (let i = 0; i < 16; i++) q.offer(dg(i));
    expect(q.offer(dg(99))).toBe(false);
    expect(m.queueDropped.value).toBe(0);
    let woke = -1;
    q.whenSpace(() => (woke = q.depth));
    await turn();
    expect(woke).toBe(-1); // 12 left: above half
    await turn();
    expect(woke).toBe(8);
  });

  it('holds draining while the predicate says so, and resumes', async () => {
    const m = createCollectMetrics(new MetricsRegistry());
    let handled = 0;
    let hold = true;
    const q = new DatagramQueue(m, { capacity: 16, batchSize: 16 }, () => handled++);
    q.holdWhile(() => !hold);
    q.push(dg(1));
    await turn();
    expect(handled).toBe(0);
    hold = false;
    q.resume();
    await turn();
    expect(handled).toBe(1);
  });

  it('drainAll decodes everything, including what waiters hand over, and survives a throwing handler', () => {
    const m = createCollectMetrics(new MetricsRegistry());
    const errors: unknown[] = [];
    let handled = 0;
    const q = new DatagramQueue(
      m,
      { capacity: 16, batchSize: 1 },
      (d) => {
        handled++;
        if (d.receivedAt === 3) throw new Error('boom');
      },
      (e) => errors.push(e),
    );
    for (let i = 0; i < 16; i++) q.offer(dg(i));
    const held = [dg(100), dg(101)];
    q.whenSpace(() => {
      for (const d of held) q.offer(d);
    });
    expect(q.drainAll()).toBe(18);
    expect(handled).toBe(18);
    expect(errors).toHaveLength(1);
    q.close();
    expect(q.push(dg(5))).toBe(false);
  });
});
