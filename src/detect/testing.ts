/**
 * Test helpers (used by the detector tests and bench:detect): scenario records converted to
 * decoded `FlowRecord`s as an exporter of the carrying provider would report them, and a runner
 * that pushes records through an engine with the given detectors and collects evidence.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../common/clock.ts';
import { loadPrefixTable, type PrefixTable } from '../common/prefixes/index.ts';
import type { Evidence } from '../common/schema/evidence.ts';
import type { FlowRecord } from '../common/schema/record.ts';
import { buildCountryModel, Rng, type CountryModel } from '../simulate/country/index.ts';
import {
  createScenario,
  generateIndicators,
  isScenarioName,
  SCENARIOS,
} from '../simulate/scenarios/index.ts';
import type { ScenarioParams, TruthLine } from '../simulate/traffic/types.ts';
import { resolveDetectConfig, type DetectConfigInput } from './config.ts';
import { createDetectionEngine } from './registry.ts';
import type { DetectionEngine } from './engine/engine.ts';

/** Same cache directory as the country model tests: a cache only saves time. */
const CACHE = join(tmpdir(), 'acd-test-prefix-cache');

let world: Promise<{ table: PrefixTable; model: CountryModel }> | undefined;

/** The prefix table and the seed-42 country model, loaded once per process. */
export function testWorld(): Promise<{ table: PrefixTable; model: CountryModel }> {
  world ??= loadPrefixTable({ cacheDir: CACHE }).then(({ table }) => ({
    table,
    model: buildCountryModel(table, { seed: 42 }),
  }));
  return world;
}

let seq = 0;

/** A flow record as exporter `exporter` would report it. */
export function flowRecord(
  fields: FlowRecord['fields'],
  exporter = '127.0.0.2',
  samplingInterval = 1,
): FlowRecord {
  return {
    recordType: 'flow',
    protocol: 'ipfix',
    observation: { exporter, observationDomainId: 1, templateId: 256, sequence: seq++, exportTime: 0 },
    recordIndex: 0,
    samplingInterval,
    fields,
  };
}

/** Records (time-ordered FlowRecords) and truth of a scenario with default parameters. */
export async function scenarioFlows(
  name: string,
  over: Partial<ScenarioParams> = {},
  seed = 7,
): Promise<{ records: FlowRecord[]; truth: TruthLine[] }> {
  const { table, model } = await testWorld();
  const start = Date.parse('2026-05-11T09:00:00.000Z');
  const inst = createScenario(
    name,
    { model, rng: new Rng(seed), indicators: generateIndicators(model, new Rng(seed)), table },
    {
      start,
      durationMs: isScenarioName(name) ? SCENARIOS[name].defaultDurationMs : 60_000,
      intensity: 1,
      extra: {},
      ...over,
    },
  );
  const gen: { time: number; fields: FlowRecord['fields']; providerId: string }[] = [];
  for (let t = start - 1000; t < inst.end + 120_000; t += 10_000)
    inst.generate(t, t + 10_000, (r) => {
      if (r.kind === 'flow') gen.push(r);
    });
  gen.sort((a, b) => a.time - b.time);
  return { records: gen.map((r) => flowRecord(r.fields, `exporter-${r.providerId}`)), truth: inst.truth() };
}

/** Runs records through a fresh engine (manual clock at the records' time) and returns evidence. */
export function runDetection(
  records: readonly FlowRecord[],
  config: DetectConfigInput = {},
): { evidence: Evidence[]; engine: DetectionEngine } {
  const evidence: Evidence[] = [];
  const clock = new ManualClock(0);
  const engine = createDetectionEngine(resolveDetectConfig(config), { clock, emit: (e) => evidence.push(e) });
  for (const r of records) engine.pushFlowRecord(r);
  engine.flush();
  return { evidence, engine };
}

/** Attackers/victims of the truth lines that expect `detector`. */
export function truthOf(
  truth: readonly TruthLine[],
  detector: string,
): { attackers: Set<string>; victims: Set<string> } {
  const attackers = new Set<string>();
  const victims = new Set<string>();
  for (const l of truth)
    if ((l.expectedDetectors as string[]).includes(detector)) {
      for (const a of l.attackers) attackers.add(a);
      for (const v of l.victims) victims.add(v);
    }
  return { attackers, victims };
}
