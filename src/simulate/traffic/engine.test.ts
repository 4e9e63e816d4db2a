/**
 * The generation engine: exact `count` per format (sampling included), determinism, routing,
 * scenario timing against the ground truth, and the worker batch format.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPrefixTable, type PrefixTable } from '../../common/prefixes/index.ts';
import { buildCountryModel, type CountryModel } from '../country/index.ts';
import { EXPORTER_FORMATS, type ExportedMessage } from '../exporters/index.ts';
import { BatchReader, BatchWriter } from './batch.ts';
import { createTrafficEngine, type EngineOptions } from './engine.ts';
import { TrafficConfigError } from './errors.ts';
import { SCENARIO_REGISTRY } from './registry.ts';
import type { GeneratedRecord, ScenarioName } from './types.ts';

let table: PrefixTable;
let model: CountryModel;
const START = Date.UTC(2026, 3, 1, 3, 0, 0);

beforeAll(async () => {
  table = (await loadPrefixTable()).table;
  model = buildCountryModel(table, { seed: 1 });
});

function runAll(o: Omit<EngineOptions, 'model'>): {
  messages: ExportedMessage[];
  engine: ReturnType<typeof createTrafficEngine>;
} {
  const messages: ExportedMessage[] = [];
  const engine = createTrafficEngine({ model, ...o }, (m) => messages.push({ ...m, bytes: m.bytes.slice() }));
  while (engine.step());
  return { messages, engine };
}

describe('traffic engine', () => {
  for (const format of EXPORTER_FORMATS) {
    it(`exports exactly --count ${format} records, with the model's sampling rates`, () => {
      const count = format === 'dnstap' ? 1500 : 4000;
      const { messages, engine } = runAll({ seed: 2, startMs: START, format, rate: 5000, count });
      const records = messages.reduce((n, m) => n + m.records, 0);
      expect(records).toBe(count);
      expect(engine.stats().exported).toBe(count);
      expect(engine.done).toBe(true);
      // Messages come out in event-time order across the fleet (a file holds them in order).
      for (let i = 1; i < messages.length; i++)
        expect(messages[i]!.timeMs).toBeGreaterThanOrEqual(messages[i - 1]!.timeMs);
    });
  }

  it('is byte-for-byte deterministic for the same seed and start', () => {
    const digest = (seed: number, start: number): string => {
      const h = createHash('sha256');
      for (const m of runAll({ seed, startMs: start, format: 'ipfix', rate: 3000, count: 3000 }).messages)
        h.update(m.bytes);
      return h.digest('hex');
    };
    expect(digest(4, START)).toBe(digest(4, START));
    expect(digest(5, START)).not.toBe(digest(4, START));
    expect(digest(4, START + 1000)).not.toBe(digest(4, START));
  });

  it("routes each provider's records to its own exporters only", () => {
    const seen: { r: GeneratedRecord; ok: boolean }[] = [];
    const { messages, engine } = runAll({
      seed: 3,
      startMs: START,
      format: 'netflow9',
      rate: 2000,
      sampling: 1,
      count: 2000,
      observe: (r, ok) => seen.push({ r, ok }),
    });
    const providerOf = new Map(engine.exporters.map((e) => [e.address, e.id.replace(/-exporter-\d+$/, '')]));
    expect(new Set(messages.map((m) => m.exporter.address)).size).toBe(engine.exporters.length);
    for (const m of messages) expect(providerOf.get(m.exporter.address)).toBeDefined();
    expect(seen.filter((s) => s.ok).length).toBe(2000);
  });

  it('stops at the event end given by --duration × --speed', () => {
    const end = START + 120_000;
    const { messages, engine } = runAll({
      seed: 1,
      startMs: START,
      format: 'ipfix',
      rate: 500,
      speed: 2,
      endMs: end,
    });
    expect(engine.stats().eventTimeMs).toBe(end);
    for (const m of messages) expect(m.timeMs).toBeLessThanOrEqual(end);
    // rate / speed = 250 records per event second, over 120 s, through the diurnal factor (~0.4–1.6).
    const generated = engine.stats().generated;
    expect(generated).toBeGreaterThan(250 * 120 * 0.3);
    expect(generated).toBeLessThan(250 * 120 * 2);
  });

  it('refuses bad parameters with TrafficConfigError', () => {
    expect(() =>
      createTrafficEngine({ model, seed: 1, startMs: START, format: 'ipfix', rate: -1 }, () => {}),
    ).toThrow(TrafficConfigError);
    expect(() =>
      createTrafficEngine({ model, seed: 1, startMs: START, format: 'ipfix', rate: 1, count: 0 }, () => {}),
    ).toThrow(TrafficConfigError);
    expect(() =>
      createTrafficEngine(
        { model, seed: 1, startMs: START, format: 'ipfix', rate: 1, scenarios: [{ name: 'dga' }] },
        () => {},
      ),
    ).toThrow(TrafficConfigError);
  });
});

describe('scenario timing against the ground truth', () => {
  const names: ScenarioName[] = [
    'scan-horizontal',
    'c2-beacon',
    'brute-force-ssh',
    'ddos-flood',
    'exfiltration',
  ];
  it('puts every scenario record inside its truth window (tolerance 2 s) and fills the window', () => {
    const byLabel = new Map<string, number[]>();
    const { engine } = runAll({
      seed: 11,
      startMs: START,
      format: 'ipfix',
      rate: 200,
      sampling: 1,
      endMs: START + 20 * 60_000,
      scenarios: names.map((name) => ({ name })),
      registry: SCENARIO_REGISTRY,
      table,
      observe: (r) => {
        if (r.label.startsWith('background') || r.label.startsWith('lookalike:')) return;
        const l = byLabel.get(r.label) ?? [];
        l.push(r.time);
        byLabel.set(r.label, l);
      },
    });
    const tol = 2000;
    for (const name of names) {
      const lines = engine.truth.filter((t) => t.scenario === name);
      expect(lines.length, name).toBeGreaterThan(0);
      const start = Math.min(...lines.map((t) => Date.parse(t.start)));
      const end = Math.max(...lines.map((t) => Date.parse(t.end)));
      const times = [...byLabel]
        .filter(([l]) => l === name || l.startsWith(`${name}:`))
        .flatMap(([, t]) => t);
      expect(times.length, name).toBeGreaterThan(0);
      const first = Math.min(...times);
      const last = Math.max(...times);
      expect(first, name).toBeGreaterThanOrEqual(start - tol);
      expect(last, name).toBeLessThanOrEqual(end + tol);
      // The records span most of the declared window (5 % or 90 s of slack at each end: slow
      // scenarios such as exfiltration export one record a minute).
      const slack = Math.max(90_000, 0.05 * (end - start));
      expect(first - start, name).toBeLessThanOrEqual(slack);
      expect(end - last, name).toBeLessThanOrEqual(slack);
      // And the window lies inside the run.
      expect(start).toBeGreaterThanOrEqual(START);
      expect(end).toBeLessThanOrEqual(START + 20 * 60_000);
    }
  });
});

describe('worker batches', () => {
  it('carry messages unchanged and in order', () => {
    const w = new BatchWriter(1024);
    const msgs = [1, 2, 3].map((i) => ({
      i,
      bytes: Uint8Array.from({ length: 100 * i }, (_, k) => (k * i) & 255),
    }));
    for (const m of msgs) w.add(m.i, m.i * 10, START + m.i, m.bytes);
    expect(w.wouldOverflow(600)).toBe(true);
    const b = w.take();
    const r = new BatchReader(b.buffer, b.size);
    for (const m of msgs) {
      expect(r.peekTime()).toBe(START + m.i);
      const e = r.next();
      expect(e.exporterIndex).toBe(m.i);
      expect(e.records).toBe(m.i * 10);
      expect([...e.bytes]).toEqual([...m.bytes]);
    }
    expect(r.done).toBe(true);
  });
});
