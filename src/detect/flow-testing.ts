/**
 * Test helper for the flow-behaviour detectors (`beacon`, `long-connection`, `exfiltration`): a
 * generator scenario mixed into the generator's background traffic (with its benign look-alikes),
 * as decoded records (flows and DNS events) in event-time order.
 */
import type { DecodedRecord, DnsEvent } from '../common/schema/record.ts';
import { Rng } from '../simulate/country/index.ts';
import { createScenario, generateIndicators } from '../simulate/scenarios/index.ts';
import { BackgroundSource, type LookalikeParams } from '../simulate/traffic/background.ts';
import type { GeneratedRecord, TruthLine } from '../simulate/traffic/types.ts';
import { flowRecord, testWorld } from './testing.ts';

let seq = 0;

/** A generated record as a decoder would report it. */
export function decoded(r: GeneratedRecord): DecodedRecord {
  if (r.kind === 'flow') return flowRecord(r.fields, `exporter-${r.providerId}`);
  const e: DnsEvent = {
    recordType: 'dns',
    protocol: 'dnstap',
    observation: {
      exporter: `resolver-${r.providerId}`,
      observationDomainId: 0,
      templateId: 0,
      sequence: seq++,
      exportTime: 0,
    },
    recordIndex: 0,
    fields: r.fields,
  };
  return e;
}

/** Options of `mixedRecords`. */
export interface MixOptions {
  /** Scenario name (omit: background only). */
  scenario?: string;
  extra?: Record<string, string | number | boolean>;
  start: number;
  durationMs: number;
  /** Background flow records per second (0: none). */
  density: number;
  lookalikes?: Partial<LookalikeParams>;
  seed?: number;
}

/** Scenario and background records (time-ordered) and the scenario's truth. */
export async function mixedRecords(o: MixOptions): Promise<{ records: DecodedRecord[]; truth: TruthLine[] }> {
  const { table, model } = await testWorld();
  const seed = o.seed ?? 7;
  const gen: GeneratedRecord[] = [];
  const end = o.start + o.durationMs;
  let truth: TruthLine[] = [];
  if (o.scenario !== undefined) {
    const inst = createScenario(
      o.scenario,
      { model, rng: new Rng(seed), indicators: generateIndicators(model, new Rng(seed)), table },
      { start: o.start, durationMs: o.durationMs, intensity: 1, extra: o.extra ?? {} },
    );
    for (let t = o.start - 1000; t < inst.end + 120_000; t += 60_000)
      inst.generate(t, t + 60_000, (r) => gen.push(r));
    truth = inst.truth();
  }
  if (o.density > 0) {
    const bg = new BackgroundSource(model, new Rng(seed + 1), {
      density: o.density,
      kind: 'flow',
      lookalikes: o.lookalikes,
    });
    for (let t = o.start; t < end; t += 60_000) bg.generate(t, Math.min(end, t + 60_000), (r) => gen.push(r));
  }
  gen.sort((a, b) => a.time - b.time);
  return { records: gen.map(decoded), truth };
}
