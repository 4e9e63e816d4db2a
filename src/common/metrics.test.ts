import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from './metrics.ts';

describe('metrics registry', () => {
  it('counts with and without labels and renders Prometheus text with the acd_ prefix', () => {
    const m = new MetricsRegistry();
    const c = m.counter('decode_records', 'records decoded');
    const v9 = c.labels({ protocol: 'netflow9' });
    v9.inc();
    v9.inc(2);
    expect(m.counter('decode_records', 'records decoded')).toBe(c);
    m.gauge('queue_depth', 'datagrams queued', () => 7);
    const text = m.renderPrometheus();
    expect(text).toContain('# TYPE acd_decode_records_total counter');
    expect(text).toContain('acd_decode_records_total{protocol="netflow9"} 3');
    expect(text).toContain('acd_queue_depth 7');
    expect(m.snapshot()['decode_records{protocol="netflow9"}']).toBe(3);
  });
});
