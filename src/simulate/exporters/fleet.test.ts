import { describe, expect, it } from 'vitest';
import type { DnsEvent, FlowRecord, Fields } from '../../common/schema/index.ts';
import { collectingSink, datagram, testSession } from '../../collect/decode/testing.ts';
import { createSflowState, decodeSflowDatagram } from '../../collect/decode/sflow/index.ts';
import { decodeDnstapFrame } from '../../collect/decode/dnstap/index.ts';
import { createExporterFleet } from './fleet.ts';
import { memoryOutput, testFlows } from './testing.ts';
import type { ExporterConfig, ExporterFormat } from './types.ts';

const START = Date.UTC(2026, 0, 1, 12);

function fleetOf(format: ExporterFormat, extra: Partial<ExporterConfig> = {}, n = 2) {
  const out = memoryOutput();
  const exporters: ExporterConfig[] = Array.from({ length: n }, (_, i) => ({
    id: `ex-${i}`,
    address: `127.0.0.${10 + i}`,
    format,
    observationDomainId: 100 + i,
    samplingInterval: 1,
    ...extra,
  }));
  const fleet = createExporterFleet({ exporters, seed: 42, output: out });
  return { fleet, out };
}

function run(format: ExporterFormat, flows: Fields[], extra: Partial<ExporterConfig> = {}) {
  const { fleet, out } = fleetOf(format, extra);
  flows.forEach((f, i) => fleet.submit(i % 2, f, START + i));
  fleet.flushAll(START + flows.length);
  const { session } = testSession();
  const sink = collectingSink();
  for (const m of out.messages) session.decode(datagram(m.bytes, m.exporter.address, m.timeMs), sink);
  const flowsOut = sink.records.filter((r): r is FlowRecord => r.recordType === 'flow');
  return { fleet, out, sink, flowsOut };
}

function totals(rs: readonly { fields: Fields }[]): { packets: number; octets: number } {
  let packets = 0;
  let octets = 0;
  for (const r of rs) {
    packets += Number(r.fields.packetDeltaCount);
    octets += Number(r.fields.octetDeltaCount);
  }
  return { packets, octets };
}

describe('exporter fleet', () => {
  for (const format of ['ipfix', 'netflow9', 'netflow5'] as const) {
    it(`${format}: every flow decodes with acd's decoder, totals and times intact, no sequence loss`, () => {
      const flows = testFlows(2000, { ipv6Share: format === 'netflow5' ? 0 : 0.2 });
      const { flowsOut, sink, out, fleet } = run(format, flows);
      expect(flowsOut).toHaveLength(flows.length);
      expect(totals(flowsOut)).toEqual(totals(flows.map((fields) => ({ fields }))));
      expect(sink.events.filter((e) => e.kind === 'sequence-gap' || e.kind === 'template-missing')).toEqual(
        [],
      );
      expect(sink.events.filter((e) => e.kind === 'malformed')).toEqual([]);
      // Datagrams fit a 1500-byte MTU.
      expect(Math.max(...out.messages.map((m) => m.bytes.length))).toBeLessThanOrEqual(1472);
      const first = flowsOut[0]!.fields;
      expect(first.flowEndMilliseconds).toBe(flows[0]!.flowEndMilliseconds);
      expect(first.flowStartMilliseconds).toBe(flows[0]!.flowStartMilliseconds);
      expect(first.sourceIPv4Address ?? first.sourceIPv6Address).toBe(
        flows[0]!.sourceIPv4Address ?? flows[0]!.sourceIPv6Address,
      );
      expect(new Set(flowsOut.map((r) => r.observation.exporter))).toEqual(
        new Set(['127.0.0.10', '127.0.0.11']),
      );
      expect(fleet.stats().exported).toBe(flows.length);
    });
  }

  it('netflow5: IPv6 flows are counted as unexportable', () => {
    const flows = testFlows(200, { ipv6Share: 0.5 });
    const { flowsOut, fleet } = run('netflow5', flows);
    const v6 = flows.filter((f) => f.sourceIPv6Address !== undefined).length;
    expect(fleet.stats().unexportable).toBe(v6);
    expect(flowsOut).toHaveLength(flows.length - v6);
  });

  for (const format of ['ipfix', 'netflow9', 'netflow5'] as const) {
    it(`${format}: sampled 1-in-100, records carry the interval and scaled totals estimate the truth`, () => {
      const flows = testFlows(20_000, { seed: 3 });
      const { flowsOut, fleet } = run(format, flows, { samplingInterval: 100 });
      expect(flowsOut.length).toBeGreaterThan(0);
      expect(flowsOut.every((r) => r.samplingInterval === 100)).toBe(true);
      const truth = totals(flows.map((fields) => ({ fields })));
      const seen = totals(flowsOut);
      // P/N packets on average: the scaled estimate is within a few per cent of the truth.
      expect(Math.abs((seen.packets * 100) / truth.packets - 1)).toBeLessThan(0.05);
      expect(fleet.stats().sampledOut + flowsOut.length).toBe(flows.length);
      if (format !== 'netflow5') {
        const withSampler = flowsOut.filter((r) => r.fields.samplerId === 1 || r.fields.selectorId === 1);
        expect(withSampler).toHaveLength(flowsOut.length);
      }
    });
  }

  it('is deterministic for a seed', () => {
    const flows = testFlows(500);
    const a = run('ipfix', flows, { samplingInterval: 10 });
    const b = run('ipfix', flows, { samplingInterval: 10 });
    expect(a.out.messages.map((m) => Buffer.from(m.bytes).toString('hex'))).toEqual(
      b.out.messages.map((m) => Buffer.from(m.bytes).toString('hex')),
    );
  });

  it('refreshes templates every N messages and every T seconds', () => {
    const { fleet, out } = fleetOf('ipfix', { templateRefreshMessages: 5, templateRefreshSeconds: 0 }, 1);
    for (const f of testFlows(24 * 20)) fleet.submit(0, f, START);
    fleet.flushAll(START);
    const withTemplate = out.messages.map((m) => (m.bytes[16]! << 8) | m.bytes[17]!).map((id) => id === 2);
    expect(withTemplate.slice(0, 11)).toEqual([
      true,
      false,
      false,
      false,
      false,
      true,
      false,
      false,
      false,
      false,
      true,
    ]);

    const t = fleetOf('netflow9', { templateRefreshMessages: 0, templateRefreshSeconds: 10 }, 1);
    testFlows(30).forEach((f, i) => {
      t.fleet.submit(0, f, START + i * 1000);
      t.fleet.flushAll(START + i * 1000);
    });
    const v9 = t.out.messages.map((m) => ((m.bytes[20]! << 8) | m.bytes[21]!) === 0);
    expect(v9.filter(Boolean)).toHaveLength(3);
    expect(v9[0]).toBe(true);
    expect(v9[10]).toBe(true);
  });

  it('netflow9 headers carry sysUptime relative to the boot time', () => {
    const boot = START - 5000;
    const { flowsOut, out } = run('netflow9', testFlows(10), { bootTimeMs: boot });
    const m = out.messages[0]!;
    const dv = new DataView(m.bytes.buffer, m.bytes.byteOffset);
    expect(dv.getUint32(4)).toBe(Math.floor(m.timeMs / 1000) * 1000 - boot);
    expect(flowsOut[0]!.fields.flowEndMilliseconds).toBe(testFlows(10)[0]!.flowEndMilliseconds);
  });

  it('sflow5: flow samples and counter samples decode with the sFlow decoder', () => {
    const flows = testFlows(3000, { ipv6Share: 0.2, stepMs: 20 });
    const { fleet, out } = fleetOf('sflow5', { samplingInterval: 10 });
    flows.forEach((f, i) => fleet.submit(i % 2, f, START + i * 20));
    fleet.flushAll(START + flows.length * 20);
    const state = createSflowState();
    const sink = collectingSink();
    for (const m of out.messages)
      decodeSflowDatagram(m.bytes, { exporter: m.exporter.address, receivedAt: m.timeMs }, state, sink);
    expect(sink.events.filter((e) => e.kind !== 'sampling-drops')).toEqual([]);
    const samples = sink.records.filter((r): r is FlowRecord => r.recordType === 'flow');
    expect(samples).toHaveLength(fleet.stats().exported);
    const truth = totals(flows.map((fields) => ({ fields })));
    expect(Math.abs((samples.length * 10) / truth.packets - 1)).toBeLessThan(0.05);
    expect(samples.every((r) => r.samplingInterval === 10)).toBe(true);
    expect(sink.records.some((r) => r.recordType === 'counters')).toBe(true);
    const s = samples.find((r) => r.fields.protocolIdentifier === 6)!;
    expect(s.fields.destinationTransportPort).toBe(443);
    expect(s.fields.tcpControlBits).toBe(0x1b);
  });

  it('dnstap: DNS records become dnstap payloads the dnstap decoder reads back', () => {
    const { fleet, out } = fleetOf('dnstap', {}, 1);
    const q: Fields = {
      dnsMessageType: 'CLIENT_RESPONSE',
      sourceIPv4Address: '10.1.2.3',
      destinationIPv4Address: '10.0.0.53',
      sourceTransportPort: 53000,
      destinationTransportPort: 53,
      dnsQueryTime: START,
      dnsResponseTime: START + 12,
      dnsId: 4242,
      dnsQueryName: 'www.example.jp',
      dnsQueryType: 1,
      dnsResponseCode: 0,
      dnsAnswers: [{ name: 'www.example.jp', type: 1, ttl: 300, data: '192.0.2.80' }],
    };
    fleet.submit(0, q, START + 12);
    fleet.submit(0, { flowEndMilliseconds: START }, START + 12);
    const r = decodeDnstapFrame(out.messages[0]!.bytes, { exporter: 'file', sequence: 0 });
    const ev = r.event as DnsEvent;
    expect(r.events).toEqual([]);
    expect(ev.fields).toMatchObject({ ...q, eventTime: START + 12, dnsResponseCodeName: 'NOERROR' });
    expect(fleet.stats().unexportable).toBe(1);
  });
});
