/**
 * The shared behaviour every `Bus` implementation must have (CONVENTIONS habit 11). Each test gets
 * a fresh fixture (JetStream: its own subject prefix and streams) and disposes of it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Bus, ControlMessage, DeliveredBatch, DeliveredControl, StatsMessage } from './bus.ts';
import { BusPublishError, BusUnavailableError } from './errors.ts';
import { sampleRecords } from './testing.ts';

/** A bus for one test: created stopped; `dispose()` stops it and removes what it created. */
export interface BusFixture {
  bus: Bus;
  dispose(): Promise<void>;
}

/** Waits until `cond()` holds, polling; throws after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function ctl(id: string, kind: ControlMessage['kind'] = 'approval', correlationId?: string): ControlMessage {
  return {
    messageId: id,
    kind,
    from: 'centre',
    issuedAt: 1_767_225_600_000,
    ...(correlationId ? { correlationId } : {}),
    contentType: 'application/acd-approval+json',
    payload: new Uint8Array([0, 1, 2, 250, 251, 252, ...Buffer.from(`{"id":"${id}"}`)]),
  };
}

/**
 * Runs the bus contract. `makeBus` must configure a short redelivery delay (≤ 200 ms) so the
 * redelivery tests finish quickly; `skip` (a reason) skips the suite with that message.
 */
export function runBusContract(name: string, makeBus: () => Promise<BusFixture>, skip?: string): void {
  const d = skip ? describe.skip : describe;
  d(`bus contract: ${name}`, () => {
    const fixtures: BusFixture[] = [];
    afterEach(async () => {
      for (const f of fixtures.splice(0)) await f.dispose();
    });
    async function started(): Promise<Bus> {
      const f = await makeBus();
      fixtures.push(f);
      await f.bus.start();
      return f.bus;
    }

    it('refuses publishes before start with a typed error', async () => {
      const f = await makeBus();
      fixtures.push(f);
      await expect(
        f.bus.publishBatch('prov-a', 0, { batchId: 'prov-a.e1.1', records: sampleRecords('prov-a', 1) }),
      ).rejects.toBeInstanceOf(Error);
      await expect(
        f.bus.publishBatch('prov-a', 0, { batchId: 'prov-a.e1.1', records: [] }).catch((e: unknown) => {
          throw e instanceof BusUnavailableError || e instanceof BusPublishError ? new Error('typed') : e;
        }),
      ).rejects.toThrow('typed');
    });

    it('delivers a published batch with every record intact', async () => {
      const bus = await started();
      const records = sampleRecords('prov-a', 1000);
      const ack = await bus.publishBatch('prov-a', 3, { batchId: 'prov-a.e1.1', records });
      expect(ack.duplicate).toBe(false);
      const got: DeliveredBatch[] = [];
      const sub = await bus.subscribe('centre', (b) => {
        got.push(b);
        return Promise.resolve();
      });
      await until(() => got.length === 1);
      await sub.stop();
      const b = got[0]!;
      expect(b.batchId).toBe('prov-a.e1.1');
      expect(b.providerId).toBe('prov-a');
      expect(b.partition).toBe(3);
      expect(b.deliveryCount).toBe(1);
      expect(b.records).toEqual(records);
    });

    it('does not deliver an acknowledged batch again to the same durable consumer', async () => {
      const bus = await started();
      await bus.publishBatch('prov-a', 0, { batchId: 'prov-a.e1.1', records: sampleRecords('prov-a', 5) });
      let n = 0;
      let sub = await bus.subscribe('centre', () => {
        n++;
        return Promise.resolve();
      });
      await until(() => n === 1);
      await sub.stop();
      await bus.publishBatch('prov-a', 0, { batchId: 'prov-a.e1.2', records: sampleRecords('prov-a', 5, 5) });
      const later: string[] = [];
      sub = await bus.subscribe('centre', (b) => {
        later.push(b.batchId);
        return Promise.resolve();
      });
      await until(() => later.length === 1);
      await new Promise((r) => setTimeout(r, 300));
      await sub.stop();
      expect(later).toEqual(['prov-a.e1.2']);
    });

    it('redelivers a batch whose handler failed, with all its records', async () => {
      const bus = await started();
      const records = sampleRecords('prov-a', 20);
      await bus.publishBatch('prov-a', 0, { batchId: 'prov-a.e1.1', records });
      const deliveries: DeliveredBatch[] = [];
      const sub = await bus.subscribe('centre', (b) => {
        deliveries.push(b);
        return deliveries.length === 1 ? Promise.reject(new Error('store down')) : Promise.resolve();
      });
      await until(() => deliveries.length === 2);
      await new Promise((r) => setTimeout(r, 300));
      await sub.stop();
      expect(deliveries).toHaveLength(2);
      expect(deliveries[1]!.deliveryCount).toBe(2);
      expect(deliveries[1]!.records).toEqual(records);
    });

    it('drops a replayed batch id inside the duplicate window', async () => {
      const bus = await started();
      const records = sampleRecords('prov-a', 10);
      const first = await bus.publishBatch('prov-a', 0, { batchId: 'prov-a.e1.7', records });
      const again = await bus.publishBatch('prov-a', 0, { batchId: 'prov-a.e1.7', records });
      expect(first.duplicate).toBe(false);
      expect(again.duplicate).toBe(true);
      expect(again.sequence).toBe(first.sequence);
      const got: string[] = [];
      const sub = await bus.subscribe(
        'centre',
        (b) => {
          got.push(b.batchId);
          return Promise.resolve();
        },
        { dedup: false },
      );
      await until(() => got.length >= 1);
      await new Promise((r) => setTimeout(r, 300));
      await sub.stop();
      expect(got).toEqual(['prov-a.e1.7']);
    });

    it('removes records already handled when a batch comes again under a new id', async () => {
      const bus = await started();
      const records = sampleRecords('prov-a', 10);
      await bus.publishBatch('prov-a', 0, { batchId: 'prov-a.e1.1', records });
      // Same records again (e.g. re-read after a crash) under another batch id: the bus cannot
      // see it; the centre's record-id de-duplication does.
      await bus.publishBatch('prov-a', 0, {
        batchId: 'prov-a.e1.2',
        records: [...records.slice(5), ...sampleRecords('prov-a', 3, 10)],
      });
      const got: DeliveredBatch[] = [];
      const sub = await bus.subscribe('centre', (b) => {
        got.push(b);
        return Promise.resolve();
      });
      await until(() => got.length === 2);
      await sub.stop();
      expect(got[1]!.records.map((r) => r.recordId)).toEqual(
        sampleRecords('prov-a', 3, 10).map((r) => r.recordId),
      );
      expect(got[1]!.duplicatesDropped).toBe(5);
    });

    it('keeps publish order within a partition and filters by partition', async () => {
      const bus = await started();
      for (let i = 0; i < 30; i++)
        await bus.publishBatch('prov-a', i % 2, {
          batchId: `prov-a.e1.${i}`,
          records: sampleRecords('prov-a', 2, i * 2),
        });
      const all: DeliveredBatch[] = [];
      const only1: DeliveredBatch[] = [];
      const s1 = await bus.subscribe('centre-all', (b) => {
        all.push(b);
        return Promise.resolve();
      });
      const s2 = await bus.subscribe(
        'centre-p1',
        (b) => {
          only1.push(b);
          return Promise.resolve();
        },
        { partition: 1 },
      );
      await until(() => all.length === 30 && only1.length === 15);
      await Promise.all([s1.stop(), s2.stop()]);
      for (const p of [0, 1]) {
        const seen = all.filter((b) => b.partition === p).map((b) => Number(b.batchId.split('.')[2]));
        expect(seen).toEqual([...seen].sort((a, b) => a - b));
        expect(seen).toHaveLength(15);
      }
      expect(only1.every((b) => b.partition === 1)).toBe(true);
      expect(only1.map((b) => b.batchId)).toEqual(all.filter((b) => b.partition === 1).map((b) => b.batchId));
    });

    it('carries control messages to the addressed edge, to all edges, and answers back', async () => {
      const bus = await started();
      // Published before anyone listens: control is durable, a late edge still gets it.
      await bus.publishControl('prov-a', ctl('m1'));
      await bus.publishControl('all', ctl('m2', 'revocation'));
      await bus.publishControl('prov-b', ctl('m3'));
      const a: DeliveredControl[] = [];
      const b: DeliveredControl[] = [];
      const answers: DeliveredControl[] = [];
      const sa = await bus.subscribeControl('prov-a', (m) => {
        a.push(m);
        return Promise.resolve();
      });
      const sb = await bus.subscribeControl('prov-b', (m) => {
        b.push(m);
        return Promise.resolve();
      });
      const sc = await bus.subscribeControlAnswers('centre', (m) => {
        answers.push(m);
        return Promise.resolve();
      });
      await until(() => a.length === 2 && b.length === 2);
      await bus.publishControlAnswer('prov-a', { ...ctl('r1', 'reident-answer', 'm1'), from: 'prov-a' });
      await until(() => answers.length === 1);
      await Promise.all([sa.stop(), sb.stop(), sc.stop()]);
      expect(a.map((m) => m.messageId).sort()).toEqual(['m1', 'm2']);
      expect(b.map((m) => m.messageId).sort()).toEqual(['m2', 'm3']);
      const m1 = a.find((m) => m.messageId === 'm1')!;
      expect(m1.target).toBe('prov-a');
      expect([...m1.payload]).toEqual([...ctl('m1').payload]);
      expect(a.find((m) => m.messageId === 'm2')!.target).toBe('all');
      expect(answers[0]).toMatchObject({
        messageId: 'r1',
        kind: 'reident-answer',
        correlationId: 'm1',
        from: 'prov-a',
        target: 'prov-a',
      });
    });

    it('redelivers a control message whose handler failed', async () => {
      const bus = await started();
      await bus.publishControl('prov-a', ctl('m1', 'revocation'));
      const seen: number[] = [];
      const s = await bus.subscribeControl('prov-a', (m) => {
        seen.push(m.deliveryCount);
        return seen.length === 1 ? Promise.reject(new Error('not yet')) : Promise.resolve();
      });
      await until(() => seen.length === 2);
      await s.stop();
      expect(seen).toEqual([1, 2]);
    });

    it('carries statistics from edges to the centre', async () => {
      const bus = await started();
      const msg: StatsMessage = {
        kind: 'selection',
        providerId: 'prov-a',
        at: 1_767_225_600_000,
        batchId: 'prov-a.e1.1',
        body: { in: 1000, selected: 120, dropped: { domesticToDomestic: 800, channel: 80 } },
      };
      await bus.publishStats('prov-a', msg);
      await bus.publishStats('prov-b', {
        kind: 'health',
        providerId: 'prov-b',
        at: 1,
        body: { exporters: [{ address: '192.0.2.1', silentMs: 0 }] },
      });
      const got: StatsMessage[] = [];
      const s = await bus.subscribeStats('centre', (m) => {
        got.push(m);
        return Promise.resolve();
      });
      await until(() => got.length === 2);
      await s.stop();
      expect(got[0]).toEqual(msg);
      expect(got[1]!.kind).toBe('health');
    });

    it('keeps working across stop and start, delivering what was published before', async () => {
      const bus = await started();
      await bus.publishBatch('prov-a', 0, { batchId: 'prov-a.e1.1', records: sampleRecords('prov-a', 3) });
      await bus.stop();
      await bus.start();
      await bus.publishBatch('prov-a', 0, { batchId: 'prov-a.e1.2', records: sampleRecords('prov-a', 3, 3) });
      const got: string[] = [];
      const s = await bus.subscribe('centre', (b) => {
        got.push(b.batchId);
        return Promise.resolve();
      });
      await until(() => got.length === 2);
      await s.stop();
      expect(got).toEqual(['prov-a.e1.1', 'prov-a.e1.2']);
    });

    it('loses nothing across a consumer restart', async () => {
      const bus = await started();
      const total = 60;
      for (let i = 0; i < total; i++)
        await bus.publishBatch('prov-a', 0, {
          batchId: `prov-a.e1.${i}`,
          records: sampleRecords('prov-a', 10, i * 10),
        });
      const counts = new Map<string, number>();
      const handler = async (b: DeliveredBatch): Promise<void> => {
        await new Promise((r) => setTimeout(r, 2));
        for (const r of b.records) counts.set(r.recordId, (counts.get(r.recordId) ?? 0) + 1);
      };
      let s = await bus.subscribe('centre', handler);
      await until(() => counts.size >= 100);
      await s.stop();
      expect(counts.size).toBeLessThan(total * 10);
      s = await bus.subscribe('centre', handler);
      await until(() => counts.size === total * 10, 20_000, 'all records');
      await new Promise((r) => setTimeout(r, 200));
      await s.stop();
      // At-least-once across a restart: every record arrived; the durable consumer's state (and
      // the stop that lets the running handler finish) means none arrived twice here.
      expect([...counts.values()].every((c) => c === 1)).toBe(true);
    });
  });
}
