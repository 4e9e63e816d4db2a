import { describe, expect, it } from 'vitest';
import { producerOf, RecordDeduper } from './dedup.ts';
import { sampleRecords } from './testing.ts';

describe('record de-duplication', () => {
  it('removes committed ids and repeats inside a batch, per producer and partition', () => {
    const d = new RecordDeduper({ capacityPerKey: 100, maxKeys: 10 });
    const r = sampleRecords('prov-a', 10);
    expect(d.filter('prov-a.e1.1', 0, r)).toHaveLength(10);
    // Not committed yet (handler failed): still fresh.
    expect(d.filter('prov-a.e1.1', 0, r)).toHaveLength(10);
    d.commit('prov-a.e1.1', 0, r);
    expect(
      d.filter('prov-a.e1.2', 0, [...r.slice(8), ...sampleRecords('prov-a', 2, 10)]).map((x) => x.recordId),
    ).toEqual(sampleRecords('prov-a', 2, 10).map((x) => x.recordId));
    expect(d.filter('prov-a.e1.3', 0, [r[0]!, r[0]!])).toHaveLength(0);
    expect(d.filter('prov-a.e2.1', 0, r)).toHaveLength(10); // another edge instance
    expect(producerOf('prov-a.e1.42')).toBe('prov-a.e1');
  });

  it('forgets beyond its capacity (bounded memory)', () => {
    const d = new RecordDeduper({ capacityPerKey: 5, maxKeys: 2 });
    const r = sampleRecords('prov-a', 10);
    d.commit('prov-a.e1.1', 0, r);
    expect(d.filter('prov-a.e1.2', 0, r.slice(0, 5))).toHaveLength(5);
    expect(d.filter('prov-a.e1.2', 0, r.slice(5))).toHaveLength(0);
    d.commit('prov-b.e1.1', 0, r);
    d.commit('prov-c.e1.1', 0, r);
    expect(d.filter('prov-a.e1.2', 0, r.slice(5))).toHaveLength(5);
  });
});
