/**
 * Contracts between the traffic generator's parts (issue 4): background traffic and attack
 * scenarios both produce `GeneratedRecord`s for a slice of event time; the engine merges them in
 * time order and routes each to the exporters of the provider whose network carries it.
 */
import type { IndicatorEntry } from '../../common/indicators/index.ts';
import type { PrefixTable } from '../../common/prefixes/index.ts';
import type { Fields } from '../../common/schema/index.ts';
import type { CountryModel, Rng } from '../country/index.ts';

import type { DetectorName, LegalChannel } from '../../common/schema/index.ts';

export type { DetectorName, LegalChannel };

/** One generated observation, before any encoding. */
export interface GeneratedRecord {
  kind: 'flow' | 'dns';
  /**
   * Event time in epoch ms: a flow's `flowEndMilliseconds` (when an exporter would export it) or a
   * DNS event's time. The engine emits records in this order.
   */
  time: number;
  /**
   * Provider whose network carries the traffic (its exporters report the flow); for DNS events,
   * the provider whose resolver (dnstap) observes it. Flows crossing two domestic providers are
   * reported by the first (the source's).
   */
  providerId: string;
  /**
   * IANA-named fields as acd's decoders print them (src/common/schema/record.ts): flows carry
   * addresses, ports, protocolIdentifier, tcpControlBits, octetDeltaCount, packetDeltaCount,
   * flowStartMilliseconds, flowEndMilliseconds and optionally minimumTTL/maximumTTL, reverse
   * counters; DNS events carry the dnstap field names (dnsQueryName, dnsQueryType, dnsResponseCode,
   * dnsAnswers, …, see src/collect/decode/dnstap/event.ts).
   */
  fields: Fields;
  /** `background`, `lookalike:<name>` or the scenario name: for tests and statistics only, never encoded. */
  label: string;
}

/** One line of the ground-truth file (raw addresses, ISO times): one per scenario part and channel. */
export interface TruthLine {
  scenario: ScenarioName;
  /** What this part is, e.g. `scan`, `c2`, `reflection`, `stage-1-recon`. */
  kind: string;
  attackers: string[];
  victims: string[];
  /** ISO 8601 UTC with milliseconds. */
  start: string;
  end: string;
  /** The legal channel through which this part is visible to the centre. */
  channel: LegalChannel;
  expectedDetectors: DetectorName[];
}

/** Fixed scenario names (issue 4). */
export const SCENARIO_NAMES = [
  'mirai-scan',
  'scan-horizontal',
  'scan-vertical',
  'c2-beacon',
  'ddos-reflection',
  'ddos-flood',
  'brute-force-ssh',
  'brute-force-rdp',
  'dga',
  'dns-tunnel',
  'exfiltration',
  'long-connection',
  'ioc-contact',
  'campaign',
] as const;

/** One of `SCENARIO_NAMES`. */
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** A documented scenario parameter, for `acd generate --list` and docs. */
export interface ParamDoc {
  name: string;
  /** Default value as shown to people (`60s`, `500`, `"https"`). */
  default: string | number | boolean;
  description: string;
}

/** Common parameters: every scenario takes these (plus its own). */
export interface ScenarioParams {
  /** Event time the scenario starts (epoch ms). */
  start: number;
  durationMs: number;
  /** Scales the scenario's own rate (1 = documented default). */
  intensity: number;
  /** Explicit attacker addresses; default: chosen from the model with the scenario's rng. */
  sources?: string[];
  /** Explicit victim/target addresses; default: chosen from the model. */
  targets?: string[];
  /** Scenario-specific parameters (documented in its `params`). */
  extra: Record<string, string | number | boolean>;
}

/** An indicator (address, CIDR or domain) as the indicator file holds it (src/common/indicators/). */
export type { IndicatorEntry };

/** What a scenario or the background generator may use. */
export interface GeneratorContext {
  model: CountryModel;
  /** Deterministic randomness; each source gets its own stream derived from the run seed. */
  rng: Rng;
  /** Indicators for `ioc-contact` (from `--indicators FILE`, or generated). */
  indicators: IndicatorEntry[];
  /**
   * The prefix table the model was built from (optional). With it, scenarios classify explicit
   * `sources`/`targets` outside the model and draw random scan targets from the whole address
   * space; without it they stay inside the model's own providers and foreign hosts.
   */
  table?: PrefixTable;
}

/** Something that produces records for slices of event time. */
export interface RecordSource {
  /**
   * Appends the records whose `time` lies in [from, to) (any order; the engine sorts). Called with
   * consecutive, non-overlapping slices.
   */
  generate(from: number, to: number, out: (r: GeneratedRecord) => void): void;
}

/** A running scenario: a record source plus its ground truth. */
export interface ScenarioInstance extends RecordSource {
  readonly name: ScenarioName;
  /** Event time after which it produces nothing. */
  readonly end: number;
  /** Ground truth, one line per part and channel (known up front: deterministic). */
  truth(): TruthLine[];
}

/** A scenario definition in the registry. */
export interface ScenarioDef {
  readonly name: ScenarioName;
  readonly description: string;
  /** Default duration and the scenario-specific parameters with defaults. */
  readonly defaultDurationMs: number;
  readonly params: readonly ParamDoc[];
  create(ctx: GeneratorContext, params: ScenarioParams): ScenarioInstance;
}
