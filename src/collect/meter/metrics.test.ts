import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../common/metrics.ts';
import { buildFrame } from '../decode/packet/testing.ts';
import { createFlowMeter, FlowMeterMetrics } from './index.ts';

describe('flow meter metrics', () => {
  it('adds the change of the meter stats at every update', () => {
    const registry = new MetricsRegistry();
    const metrics = new FlowMeterMetrics(registry);
    const m = createFlowMeter({}, { record: () => undefined });
    const frame = buildFrame({
      ip: {
        version: 4,
        src: '10.0.0.1',
        dst: '10.0.0.2',
        transport: { kind: 'udp', srcPort: 1, dstPort: 2 },
      },
    });
    m.packet(1000, 101, frame);
    m.packet(1001, 147, frame);
    metrics.update(m.stats);
    expect(registry.snapshot()).toMatchObject({
      meter_packets: 2,
      meter_packets_metered: 1,
      'meter_packets_skipped{reason="unsupported-link-type"}': 1,
      meter_flows_active: 1,
    });
    m.flush();
    metrics.update(m.stats);
    metrics.update(m.stats);
    expect(registry.snapshot()).toMatchObject({
      meter_packets: 2,
      'meter_flow_records{reason="end"}': 1,
      meter_flows_active: 0,
    });
  });
});
