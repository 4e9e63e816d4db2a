import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../common/metrics.ts';
import { runStoreContract } from '../contract.ts';
import { flowRecord, T0 } from '../testing.ts';
import { MemoryStore } from './store.ts';

runStoreContract('memory', () => {
  const store = new MemoryStore();
  return Promise.resolve({ store, dispose: () => store.close() });
});

describe('memory store', () => {
  it('evicts the oldest appended records beyond its cap and counts them', async () => {
    const metrics = new MetricsRegistry();
    const s = new MemoryStore({ maxRecords: 10, metrics });
    await s.open();
    for (let i = 0; i < 3; i++)
      await s.appendRecords(
        Array.from({ length: 5 }, (_, k) => flowRecord({ t: T0 + i * 5 + k, index: i * 5 + k })),
      );
    const p = await s.queryRecords({ from: T0, to: T0 + 100, limit: 100 });
    expect(p.items.map((r) => r.fields.flowEndMilliseconds)).toEqual(
      Array.from({ length: 10 }, (_, k) => T0 + 14 - k),
    );
    expect((await s.stats()).records).toBe(10);
    expect(metrics.snapshot()['store_evicted{store="memory"}']).toBe(5);
    expect(metrics.snapshot()['store_records_appended{store="memory"}']).toBe(15);
    await s.close();
  });
});
