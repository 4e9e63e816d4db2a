/**
 * Test helpers for the DNS-aware detectors (`dga`, `dns-tunnel`, `indicator`): scenario records
 * with their DNS events (decoded `DnsEvent`s as a resolver's dnstap would give them) as well as
 * flows, the background generator's benign DNS, and a runner that passes an indicator set.
 */
import { ManualClock } from '../common/clock.ts';
import type { IndicatorEntry } from '../common/indicators/index.ts';
import type { Evidence } from '../common/schema/evidence.ts';
import type { DecodedRecord, DnsEvent, Fields } from '../common/schema/record.ts';
import { Rng } from '../simulate/country/index.ts';
import {
  createScenario,
  generateIndicators,
  isScenarioName,
  SCENARIOS,
} from '../simulate/scenarios/index.ts';
import { BackgroundSource } from '../simulate/traffic/background.ts';
import type { GeneratedRecord, ScenarioParams, TruthLine } from '../simulate/traffic/types.ts';
import { resolveDetectConfig, type DetectConfigInput } from './config.ts';
import type { DetectionEngine } from './engine/engine.ts';
import { createDetectionEngine } from './registry.ts';
import { flowRecord, testWorld } from './testing.ts';

/** Start of generated scenarios (a weekday morning). */
export const SCENARIO_START = Date.parse('2026-05-11T09:00:00.000Z');

let seq = 0;

/** A DNS event as the resolver's dnstap exporter would report it. */
export function dnsEvent(fields: Fields, exporter = '127.0.0.3'): DnsEvent {
  return {
    recordType: 'dns',
    protocol: 'dnstap',
    observation: { exporter, observationDomainId: 0, templateId: 0, sequence: seq++, exportTime: 0 },
    recordIndex: 0,
    fields,
  };
}

function toDecoded(r: GeneratedRecord): DecodedRecord | undefined {
  if (r.kind === 'flow') return flowRecord(r.fields, `exporter-${r.providerId}`);
  if (r.kind === 'dns') return dnsEvent(r.fields, `dnstap-${r.providerId}`);
  return undefined;
}

/** Time-ordered records (flows and DNS events) and truth of a scenario; its indicator set too. */
export async function scenarioRecords(
  name: string,
  over: Partial<ScenarioParams> = {},
  seed = 7,
): Promise<{ records: DecodedRecord[]; truth: TruthLine[]; indicators: IndicatorEntry[] }> {
  const { table, model } = await testWorld();
  const indicators = generateIndicators(model, new Rng(seed));
  const inst = createScenario(
    name,
    { model, rng: new Rng(seed), indicators, table },
    {
      start: SCENARIO_START,
      durationMs: isScenarioName(name) ? SCENARIOS[name].defaultDurationMs : 60_000,
      intensity: 1,
      extra: {},
      ...over,
    },
  );
  const gen: GeneratedRecord[] = [];
  for (let t = SCENARIO_START - 1000; t < inst.end + 120_000; t += 10_000)
    inst.generate(t, t + 10_000, (r) => gen.push(r));
  gen.sort((a, b) => a.time - b.time);
  const records: DecodedRecord[] = [];
  for (const r of gen) {
    const d = toDecoded(r);
    if (d) records.push(d);
  }
  return { records, truth: inst.truth(), indicators };
}

/** Benign background records (`kind` flows or resolver DNS events) over `durationMs`. */
export async function backgroundRecords(
  kind: 'flow' | 'dns',
  density: number,
  durationMs: number,
  seed = 11,
  nxdomainRate?: number,
): Promise<DecodedRecord[]> {
  const { model } = await testWorld();
  const cfg: ConstructorParameters<typeof BackgroundSource>[2] = { density, kind };
  if (nxdomainRate !== undefined) cfg.nxdomainRate = nxdomainRate;
  const bg = new BackgroundSource(model, new Rng(seed), cfg);
  const gen: GeneratedRecord[] = [];
  for (let t = SCENARIO_START; t < SCENARIO_START + durationMs; t += 1000)
    bg.generate(t, t + 1000, (r) => gen.push(r));
  gen.sort((a, b) => a.time - b.time);
  const out: DecodedRecord[] = [];
  for (const r of gen) {
    const d = toDecoded(r);
    if (d) out.push(d);
  }
  return out;
}

/** Merges time-ordered record lists by event time. */
export function mergeByTime(...lists: DecodedRecord[][]): DecodedRecord[] {
  const timeOf = (r: DecodedRecord): number => {
    const f = r.fields;
    const v = r.recordType === 'dns' ? f.eventTime : (f.flowEndMilliseconds ?? f.flowStartMilliseconds);
    return typeof v === 'number' ? v : 0;
  };
  return lists.flat().sort((a, b) => timeOf(a) - timeOf(b));
}

/** Runs records (flows and DNS) through a fresh engine and returns the evidence. */
export function runRecords(
  records: readonly DecodedRecord[],
  config: DetectConfigInput = {},
  indicators?: readonly IndicatorEntry[],
): { evidence: Evidence[]; engine: DetectionEngine } {
  const evidence: Evidence[] = [];
  const deps: Parameters<typeof createDetectionEngine>[1] = {
    clock: new ManualClock(0),
    emit: (e) => evidence.push(e),
  };
  if (indicators) deps.indicators = indicators;
  const engine = createDetectionEngine(resolveDetectConfig(config), deps);
  for (const r of records) engine.pushRecord(r);
  engine.flush();
  return { evidence, engine };
}
