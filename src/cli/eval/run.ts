/**
 * `acd eval` (issue 6): generated scenarios through the real path — generator exporters over UDP
 * (IPFIX) and TCP (dnstap) → one edge per provider (decode → select → pseudonymise → spool) →
 * memory bus → centre (detect → correlate) — with accelerated event time, scored against the
 * ground truth (score.ts).
 *
 * Each scenario runs on its own, with the background (and its benign look-alikes) on, so every
 * alert of the run counts towards that scenario's precision. Its parameters (start offset,
 * intensity) are drawn from the seed; its event time is compressed into about `wallSecondsPerRun`
 * seconds of wall time (speed = duration ÷ that, at least 1). The truth's addresses are mapped
 * through each provider edge's pseudonymisation key (domestic space only, as the edge does) so that
 * alerts and truth are compared as the centre sees them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../common/clock.ts';
import type { Logger } from '../../common/logging.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import type { PrefixTable } from '../../common/prefixes/index.ts';
import type { Alert } from '../../common/schema/alert.ts';
import type { DetectConfig } from '../../detect/index.ts';
import type { CorrelateConfig } from '../../correlate/index.ts';
import { KeyStore } from '../../select/pseudonymise/index.ts';
import { buildCountryModel, Rng, type CountryModel } from '../../simulate/country/index.ts';
import { generateIndicators } from '../../simulate/scenarios/index.ts';
import {
  DIURNAL_PROFILES,
  findScannerHosts,
  runLive,
  SCENARIO_REGISTRY,
  type EngineOptions,
  type ScenarioName,
  type TruthLine,
} from '../../simulate/traffic/index.ts';
import { createStore } from '../../store/index.ts';
import { createMemoryBus } from '../../transport/index.ts';
import { createCentre, type Centre } from '../centre/centre.ts';
import { edgeRoutes, startEmbeddedEdges, stopEmbeddedEdges } from '../embedded/edges.ts';
import { scoreRun, type ScoreRow, type ScoredTruth } from './score.ts';

/** Options of an evaluation. */
export interface EvalOptions {
  scenarios: readonly ScenarioName[];
  seed: number;
  table: PrefixTable;
  detect: DetectConfig;
  correlate: CorrelateConfig;
  /** Background flow records per second of wall time. */
  rate: number;
  /** Target wall time of one scenario run (s). */
  wallSecondsPerRun: number;
  /** Event-time duration of each scenario (ms); default: the scenario's own default. */
  durationMs?: number;
  /** Slack of the overlap test (ms of event time). */
  slackMs: number;
  cacheDir: string;
  clock: Clock;
  logger: Logger;
  signal?: AbortSignal;
  onProgress?: (text: string) => void;
}

/** One scenario run's outcome. */
export interface EvalRun {
  scenario: ScenarioName;
  seed: number;
  speed: number;
  eventMs: number;
  wallMs: number;
  records: number;
  lost: number;
  /** Records the detection engine dropped as late (older than its watermark). */
  late: number;
  /** Records the edges selected that the centre had not received when it was stopped. */
  undelivered: number;
  rows: ScoreRow[];
  alerts: Alert[];
  /** The truth as scored (addresses as the centre sees them): for reading false positives. */
  truth: ScoredTruth[];
  /** The run's metrics at its end (edges, centre, correlation): for reading a miss. */
  metrics: Record<string, number>;
}

const MIN = 60_000;

/** Event-time start of every run: a weekday morning (the diurnal curve is awake). */
const EVAL_START = Date.parse('2026-05-11T09:00:00Z');

/** Maps truth addresses to what the centre sees: the address itself or a provider's pseudonym. */
export function truthMapper(
  table: PrefixTable,
  country: string,
  keys: readonly { pseudonymiseAddress(text: string): string }[],
): (address: string) => string[] {
  return (address) => {
    if (!table.isDomestic(address, country)) return [address];
    const out = new Set<string>();
    for (const k of keys) out.add(k.pseudonymiseAddress(address));
    return [...out];
  };
}

function scoredTruth(lines: readonly TruthLine[], map: (a: string) => string[]): ScoredTruth[] {
  return lines.map((l) => ({
    scenario: l.scenario,
    kind: l.kind,
    attackers: l.attackers.flatMap(map),
    victims: l.victims.flatMap(map),
    start: Date.parse(l.start),
    end: Date.parse(l.end),
    expectedDetectors: l.expectedDetectors,
  }));
}

/**
 * Wall-clock delay between partitions (exporters, edges) the eval tolerates before records count as
 * late. The generator, the edges and the centre share the machine's cores: on a loaded machine a
 * process can stall for seconds (measured: 44,000 late records and a missed DDoS with load 15 on two
 * cores at a 2-s tolerance; none with the machine idle). The eval measures detection, not the
 * machine, so it tolerates 10 s (still bounded by the engine's 600-s event-time maximum).
 */
export const EVAL_WALL_LATENESS_MS = 10_000;

/**
 * Detection settings for event time running `speed` times faster than wall time. Lateness is a
 * wall-clock notion (exporter caches, batching at the edge, the bus, scheduling): the engine's
 * tolerance of `allowedLatenessMs` of event time covers only `allowedLatenessMs / speed` of wall
 * delay, so a 100-ms edge batch would arrive "late" at 700×. The eval keeps a wall tolerance of at
 * least {@link EVAL_WALL_LATENESS_MS} by scaling the event-time lateness with the speed (idle
 * timeouts are wall time already). Time to detect is scored on evidence windows, so this does not
 * inflate it.
 */
export function acceleratedDetect(detect: DetectConfig, speed: number): DetectConfig {
  const wall = Math.max(detect.engine.allowedLatenessMs, EVAL_WALL_LATENESS_MS);
  const allowedLatenessMs = Math.min(600_000, Math.max(detect.engine.allowedLatenessMs, wall * speed));
  return { ...detect, engine: { ...detect.engine, allowedLatenessMs } };
}

/** Longest wait for the centre to catch up with what the edges published, without progress. */
const DRAIN_STALL_MS = 15_000;

/**
 * Waits until the centre has received `selected` records (received + duplicates dropped), or made
 * no progress for {@link DRAIN_STALL_MS}; returns how many it had not received.
 */
async function drainCentre(centre: Centre, selected: number): Promise<number> {
  const seen = (): number => centre.stats().records + centre.stats().duplicates;
  let last = seen();
  let lastProgress = Date.now();
  while (seen() < selected && Date.now() - lastProgress < DRAIN_STALL_MS) {
    await new Promise((r) => setTimeout(r, 50));
    const now = seen();
    if (now > last) {
      last = now;
      lastProgress = Date.now();
    }
  }
  await new Promise((r) => setTimeout(r, 100));
  return Math.max(0, selected - seen());
}

/** Runs one scenario through the real path and scores it. */
async function runOne(
  o: EvalOptions,
  model: CountryModel,
  scenario: ScenarioName,
  seed: number,
): Promise<EvalRun> {
  const rng = new Rng(seed).fork(`eval:${scenario}`);
  const durationMs = o.durationMs ?? SCENARIO_REGISTRY[scenario].defaultDurationMs;
  const offset = Math.round((1 + rng.float() * 2) * MIN);
  const intensity = Math.round((0.8 + rng.float() * 0.4) * 100) / 100;
  // The run covers the scenario plus room before it (baselines) and after it (windows close).
  const eventMs = offset + durationMs + 3 * MIN;
  const speed = Math.max(1, Math.round(eventMs / (o.wallSecondsPerRun * 1000)));
  const dir = await mkdtemp(join(tmpdir(), `acd-eval-${scenario}-`));
  const metrics = new MetricsRegistry();
  const bus = createMemoryBus({ clock: o.clock });
  const store = createStore({ type: 'memory' }, { metrics });
  const indicators = generateIndicators(model, new Rng(seed).fork('indicators'));
  const centre = createCentre(
    { clock: o.clock, logger: o.logger, metrics, bus, store },
    {
      detect: acceleratedDetect(o.detect, speed),
      correlate: o.correlate,
      indicators,
      evidenceRetentionMs: 86_400_000,
      consumer: 'centre',
    },
  );
  const started = o.clock.monotonic();
  let truth: TruthLine[] = [];
  let records = 0;
  let lost = 0;
  let late = 0;
  let undelivered = 0;
  const providerIds = model.providers.map((p) => p.id);
  await bus.start();
  await store.open();
  await centre.start();
  const edges = await startEmbeddedEdges({
    providerIds,
    bus,
    table: o.table,
    dataDir: dir,
    mode: 'eval',
    clock: o.clock,
    logger: o.logger,
    metrics,
    batchMaxAgeMs: 100,
  });
  try {
    const engine = (format: 'ipfix' | 'dnstap'): EngineOptions => ({
      model,
      table: o.table,
      seed,
      startMs: EVAL_START,
      format,
      transport: format === 'dnstap' ? 'tcp' : 'udp',
      rate: format === 'dnstap' ? Math.max(20, Math.round(o.rate / 4)) : o.rate,
      speed,
      sampling: 1,
      background: true,
      diurnal: DIURNAL_PROFILES.flat!,
      scenarios: [{ name: scenario, start: EVAL_START + offset, durationMs, intensity }],
      registry: SCENARIO_REGISTRY,
      indicators,
      scanners: findScannerHosts(o.table, model.domesticCountry, new Rng(seed).fork('scanners'), 6),
      endMs: EVAL_START + eventMs,
    });
    const [flows] = await Promise.all([
      runLive({
        engine: engine('ipfix'),
        target: {
          kind: 'udp',
          host: '127.0.0.1',
          port: edges[0]!.udp.port,
          routes: edgeRoutes(edges, 'udp'),
        },
        expectedRate: o.rate,
        tableCacheDir: o.cacheDir,
        onReady: (info) => {
          truth = [...info.truth];
        },
        ...(o.signal ? { signal: o.signal } : {}),
      }),
      runLive({
        engine: engine('dnstap'),
        target: {
          kind: 'tcp',
          host: '127.0.0.1',
          port: edges[0]!.dnstap.port,
          routes: edgeRoutes(edges, 'dnstap'),
        },
        expectedRate: o.rate / 4,
        tableCacheDir: o.cacheDir,
        ...(o.signal ? { signal: o.signal } : {}),
      }),
    ]);
    records = flows.records;
  } finally {
    for (const e of edges) lost += e.edge.stats().collector.sequenceLost;
    await stopEmbeddedEdges(edges);
    // The edges drained their spools onto the bus; on a loaded machine the centre can be seconds
    // behind, and stopping it now would score a run whose last records were never seen.
    const selected = edges.reduce((n, e) => n + e.edge.stats().selected, 0);
    undelivered = await drainCentre(centre, selected);
    await centre.stop();
    late = centre.stats().late;
  }
  const keys: KeyStore[] = [];
  for (const id of providerIds) {
    const ks = new KeyStore(
      {
        dir: join(dir, 'edges', id, 'keys'),
        epochLifetimeMs: 365 * 86_400_000,
        retentionMs: 730 * 86_400_000,
      },
      o.clock,
    );
    await ks.load();
    keys.push(ks);
  }
  const map = truthMapper(
    o.table,
    model.domesticCountry,
    keys.map((k) => k.current().cryptoPan),
  );
  const scored = scoredTruth(truth, map);
  for (const k of keys) k.close();
  await bus.stop();
  await store.close();
  await rm(dir, { recursive: true, force: true });
  const { alerts } = centre.snapshot();
  return {
    scenario,
    seed,
    speed,
    eventMs,
    wallMs: o.clock.monotonic() - started,
    records,
    lost,
    late,
    undelivered,
    rows: scoreRun(scenario, scored, alerts, o.slackMs),
    alerts,
    truth: scored,
    metrics: metrics.snapshot(),
  };
}

/** Runs every scenario for one seed. */
export async function runEval(o: EvalOptions): Promise<EvalRun[]> {
  const model = buildCountryModel(o.table, { seed: o.seed });
  const out: EvalRun[] = [];
  for (const s of o.scenarios) {
    if (o.signal?.aborted) break;
    o.onProgress?.(`seed ${o.seed}: ${s} …`);
    out.push(await runOne(o, model, s, o.seed));
  }
  return out;
}
