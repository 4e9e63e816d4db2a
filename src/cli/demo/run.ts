/**
 * `acd demo` (what `npm start` runs; issue 7 "The main job"): the embedded national-centre
 * deployment on one machine.
 *
 *   generator (worker threads) ──UDP IPFIX / TCP dnstap──▶ one edge per simulated provider
 *   (collect → select → spool) ──memory bus──▶ centre (detect → correlate → DuckDB under ./data)
 *   ──▶ API + dashboard on http://127.0.0.1:8080
 *
 * Selection runs the demonstration feed set in `demo` mode (DESIGN section 5). The synthetic
 * country is built from the packaged registry data with a fixed seed, so the operators file and
 * the providers are the same on every start; `./data` is resumed (store, edges' keys and spools)
 * unless `--fresh`.
 */
import { mkdir, rm } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import type { Clock } from '../../common/clock.ts';
import { AcdError } from '../../common/errors.ts';
import type { Logger } from '../../common/logging.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import { readOperatorsFile } from '../../common/operators/index.ts';
import { formatIpv4, loadPrefixTable, parsePrefix } from '../../common/prefixes/index.ts';
import type { IndicatorEntry } from '../../common/indicators/index.ts';
import {
  buildCountryModel,
  Rng,
  writeOperatorsFile,
  type CountryModel,
} from '../../simulate/country/index.ts';
import { generateIndicators, writeIndicatorFile } from '../../simulate/scenarios/index.ts';
import {
  DIURNAL_PROFILES,
  findScannerHosts,
  runLive,
  SCENARIO_REGISTRY,
  type EngineOptions,
  type RunResult,
} from '../../simulate/traffic/index.ts';
import { createMemoryBus } from '../../transport/index.ts';
import { createStore } from '../../store/index.ts';
import {
  createServer,
  createEventHub,
  createTokenAuth,
  demoRoleTokenEntries,
  demoTokenEntry,
} from '../../serve/index.ts';
import { loadLegalParameters } from '../../common/legal/index.ts';
import { ACCESS_FILE_NAME, AccessRegistry, combineTokenAuth } from '../../oversee/access/index.ts';
import type { AuditConfigInput } from '../../oversee/audit/index.ts';
import type { ReidentifyConfigInput } from '../../oversee/reidentify/index.ts';
import type { RetentionConfigInput } from '../../oversee/retention/index.ts';
import type { ServeConfig } from '../../serve/config.ts';
import type { DetectConfig } from '../../detect/index.ts';
import type { CorrelateConfig } from '../../correlate/index.ts';
import { createCentre, type Centre } from '../centre/centre.ts';
import { startOversight, type Oversight } from '../centre/oversight.ts';
import { seedDemoCases } from './oversight-seed.ts';
import { edgeRoutes, startEmbeddedEdges, stopEmbeddedEdges, type EmbeddedEdge } from '../embedded/edges.ts';
import { demoSchedule, scheduleFor } from './schedule.ts';

/** Options of the demo. */
export interface DemoOptions {
  dataDir: string;
  fresh: boolean;
  /** Generated flow records per wall second (background density = rate / speed per event second). */
  rate: number;
  /** Event time runs this many times faster than wall time. */
  speed: number;
  seed: number;
  /** Event time of the start (epoch ms); default: now. */
  startMs?: number;
  /** Stop after this much wall time; undefined = until the signal. */
  durationMs?: number;
  /** Also send DNS (dnstap) from the providers' resolvers. */
  dns: boolean;
  serve: ServeConfig;
  /** Audit log settings (checkpoint interval…). */
  audit?: AuditConfigInput;
  retention?: RetentionConfigInput;
  reidentification?: ReidentifyConfigInput;
  detect: DetectConfig;
  correlate: CorrelateConfig;
  /** Scenario cycles scheduled (one per hour of event time). */
  cycles: number;
  dashboardDir?: string;
  clock: Clock;
  logger: Logger;
  signal: AbortSignal;
  /** Called once everything runs: the dashboard URL and token. */
  onReady?: (info: {
    url: string;
    token: string;
    tokenGenerated: boolean;
    providers: string[];
    /** The demo's supervisor and inspector (oversight workflows). */
    roleTokens: { user: string; role: string; token: string; generated: boolean; variable: string }[];
  }) => void;
  /** About once a second while running. */
  onStatus?: (s: DemoStatus) => void;
}

/** The live summary line's figures. */
export interface DemoStatus {
  elapsedMs: number;
  eventTime: number | null;
  /** How far detection's watermark trails the generator's event time (ms of event time). */
  lagMs: number | null;
  recordsPerSecond: number;
  records: number;
  alerts: number;
  incidents: number;
  detectors: string[];
  /** Records lost on the way: exporter sequence gaps, collector queue drops, spool-full drops. */
  lost: number;
}

/** What a finished demo did. */
export interface DemoResult {
  reason: 'signal' | 'duration' | 'generator-ended';
  records: number;
  alerts: number;
  incidents: number;
  detectors: string[];
  /** Records lost on the way (as in {@link DemoStatus}). */
  lost: number;
}

/**
 * Watermark idle timeout in the demo (wall ms). Event time runs ~45× faster than wall time, so
 * the engine's default (30 s of wall time, over 20 minutes of event time) would hold every
 * detector that far behind whenever one exporter pauses.
 */
const DEMO_IDLE_TIMEOUT_MS = 3000;

/**
 * The generator's send-ahead buffer per worker. The default (hundreds of MB) lets a worker that is
 * slower than 1.25× the rate (a loaded machine) pre-encode for a long time before the first
 * record is sent; a few MB is seconds of traffic at the demo's rates.
 */
const DEMO_MAX_AHEAD_BYTES = 4 * 1024 * 1024;

/** Evidence is kept for 30 days in the demo (the legal table decides for records). */
const EVIDENCE_RETENTION_MS = 30 * 86_400_000;

/**
 * Two hosts inside the first operator whose agreement is active on the day of `atMs`: the demo's
 * infected DNS clients, whose queries to their provider's resolver the operator-telemetry feed
 * selects (see `DemoScheduleOptions.dnsClients`).
 */
export function demoDnsClients(model: CountryModel, atMs: number): string[] {
  const day = new Date(atMs).toISOString().slice(0, 10);
  for (const op of model.operators) {
    const a = op.agreement;
    if (a.status !== 'active') continue;
    if (
      (a.validFrom !== undefined && day < a.validFrom) ||
      (a.validUntil !== undefined && day > a.validUntil)
    )
      continue;
    for (const r of op.ranges) {
      const p = parsePrefix(r.prefix);
      if (p.version !== 4 || p.last - p.first < 16n) continue;
      return [formatIpv4(Number(p.first + 10n)), formatIpv4(Number(p.first + 11n))];
    }
  }
  return [];
}

/** The dashboard's port is taken (another demo, or another server). */
export class PortInUseError extends AcdError {
  constructor(
    readonly host: string,
    readonly port: number,
    options?: ErrorOptions,
  ) {
    super(
      'ERR_PORT_IN_USE',
      `demo: port ${port} on ${host} is already in use (another acd demo?); stop it or choose another with --port`,
      options,
    );
  }
}

function isAddrInUse(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EADDRINUSE';
}

/** Fails fast, before minutes of start-up work, when the dashboard's port is taken. */
async function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createNetServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err) =>
      reject(isAddrInUse(err) ? new PortInUseError(host, port, { cause: err }) : err),
    );
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** Where records were lost, per kind (numbers only). */
function lossBreakdown(edges: readonly EmbeddedEdge[]): Record<string, number> {
  const out = { sequenceLost: 0, queueDropped: 0, spoolFullDropped: 0 };
  for (const e of edges) {
    const s = e.edge.stats();
    out.sequenceLost += s.collector.sequenceLost;
    out.queueDropped += s.collector.dropped;
    out.spoolFullDropped += s.spoolFullDropped;
  }
  return out;
}

/** Runs the demo until the signal, the duration or the end of the schedule. */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  await checkPortFree(o.serve.host, o.serve.port);
  if (o.fresh) {
    await rm(join(o.dataDir, 'acd.duckdb'), { force: true });
    await rm(join(o.dataDir, 'acd.duckdb.wal'), { force: true });
    await rm(join(o.dataDir, 'edges'), { recursive: true, force: true });
    // The audit chain and the deletion certificates live in the store that was just removed: their
    // signed checkpoints and certificate file go with it, or verification would report the new
    // chain as tampered. Keys and users (access.json) stay.
    await rm(join(o.dataDir, 'audit'), { recursive: true, force: true });
    await rm(join(o.dataDir, 'retention'), { recursive: true, force: true });
  }
  await mkdir(o.dataDir, { recursive: true });
  const metrics = new MetricsRegistry();
  const { table } = await loadPrefixTable({ cacheDir: join(o.dataDir, 'cache') });
  const model = buildCountryModel(table, { seed: o.seed });
  const operatorsPath = join(o.dataDir, 'operators.json');
  await writeOperatorsFile(operatorsPath, model);
  const operators = await readOperatorsFile(operatorsPath);
  const root = new Rng(o.seed);
  const indicators: IndicatorEntry[] = generateIndicators(model, root.fork('indicators'));
  await writeIndicatorFile(join(o.dataDir, 'indicators.csv'), indicators);

  const bus = createMemoryBus({ clock: o.clock });
  const store = createStore({ type: 'duckdb', path: join(o.dataDir, 'acd.duckdb') }, { metrics });
  const events = createEventHub(o.serve.sse.ringSize, o.clock);
  const token = demoTokenEntry();
  const roleTokens = demoRoleTokenEntries();
  const providerIds = model.providers.map((p) => p.id);
  const providerNames = Object.fromEntries(model.providers.map((p) => [p.id, p.name]));

  let edges: EmbeddedEdge[] = [];
  let centre: Centre | undefined;
  let server: ReturnType<typeof createServer> | undefined;
  let oversight: Oversight | undefined;
  const gen = new AbortController();
  const abortGen = (): void => gen.abort();
  o.signal.addEventListener('abort', abortGen, { once: true });
  const startedAt = o.clock.monotonic();
  let reason: DemoResult['reason'] = 'signal';
  const lostNow = (): number => {
    let n = 0;
    for (const e of edges) {
      const es = e.edge.stats();
      n += es.collector.sequenceLost + es.collector.dropped + es.spoolFullDropped;
    }
    return n;
  };
  let statusTimer: NodeJS.Timeout | undefined;
  let durationTimer: NodeJS.Timeout | undefined;
  try {
    await bus.start();
    await store.open();
    // The oversight services (issue 8): the tamper-evident audit log with signed checkpoints, and
    // the oversight modules' routes.
    oversight = await startOversight({
      store,
      bus,
      clock: o.clock,
      logger: o.logger,
      dataDir: o.dataDir,
      events,
      metrics,
      legal: await loadLegalParameters(),
      demo: true,
      ...(o.audit !== undefined ? { audit: o.audit } : {}),
      ...(o.retention !== undefined ? { retention: o.retention } : {}),
      ...(o.reidentification !== undefined ? { reidentification: o.reidentification } : {}),
    });
    await seedDemoCases(store, oversight.cases, indicators, o.clock.now());
    centre = createCentre(
      { clock: o.clock, logger: o.logger, metrics, bus, store, events },
      {
        detect: {
          ...o.detect,
          engine: {
            ...o.detect.engine,
            idleTimeoutMs: Math.min(o.detect.engine.idleTimeoutMs, DEMO_IDLE_TIMEOUT_MS),
          },
        },
        correlate: o.correlate,
        operators,
        indicators,
        providerNames,
        evidenceRetentionMs: EVIDENCE_RETENTION_MS,
        consumer: 'centre',
      },
    );
    await centre.start();
    // Users and tokens of `acd users` (<data>/access.json) besides the demo token.
    const users = AccessRegistry.open(join(o.dataDir, ACCESS_FILE_NAME), { clock: o.clock });
    server = createServer(
      {
        store,
        live: centre.live,
        actions: oversight.actions(centre.actions),
        events,
        metrics,
        auth: combineTokenAuth(createTokenAuth([token.entry, ...roleTokens.map((t) => t.entry)]), users),
        audit: (req) => oversight?.onRequest(req),
        plugins: oversight.plugins,
        users,
        clock: o.clock,
        logger: o.logger,
        ...(o.dashboardDir !== undefined ? { dashboardDir: o.dashboardDir } : {}),
      },
      o.serve,
    );
    try {
      await server.start();
    } catch (err) {
      // Taken between the check and now.
      if (isAddrInUse(err)) throw new PortInUseError(o.serve.host, o.serve.port, { cause: err });
      throw err;
    }
    edges = await startEmbeddedEdges({
      providerIds,
      bus,
      table,
      dataDir: o.dataDir,
      mode: 'demo',
      operators,
      clock: o.clock,
      logger: o.logger,
      metrics,
    });
    const url = server.address()?.url ?? `http://${o.serve.host}:${o.serve.port}`;
    o.onReady?.({
      url,
      token: token.entry.token,
      tokenGenerated: token.generated,
      providers: providerIds,
      roleTokens: roleTokens.map((t) => ({
        user: t.entry.user,
        role: t.entry.role,
        token: t.entry.token,
        generated: t.generated,
        variable: t.variable,
      })),
    });

    const startMs = o.startMs ?? o.clock.now();
    /** Wall time (monotonic) when the first generator worker was ready: event time starts there. */
    let generatorAt: number | undefined;
    const generatorReady = (): void => {
      if (generatorAt !== undefined) return;
      generatorAt = o.clock.monotonic();
      o.logger.info({ afterMs: Math.round(generatorAt - startedAt) }, 'demo: generator ready');
    };
    const schedule = demoSchedule(startMs, o.cycles, { dnsClients: demoDnsClients(model, startMs) });
    const engine = (format: 'ipfix' | 'dnstap'): EngineOptions => ({
      model,
      table,
      seed: o.seed,
      startMs,
      format,
      transport: format === 'dnstap' ? 'tcp' : 'udp',
      rate: format === 'dnstap' ? Math.max(50, Math.round(o.rate / 4)) : o.rate,
      speed: o.speed,
      sampling: 1,
      background: true,
      diurnal: DIURNAL_PROFILES.jst!,
      scenarios: scheduleFor(format, schedule),
      registry: SCENARIO_REGISTRY,
      indicators,
      scanners: findScannerHosts(table, model.domesticCountry, root.fork('scanners'), 6),
    });
    const runs: Promise<RunResult>[] = [
      runLive({
        engine: engine('ipfix'),
        target: {
          kind: 'udp',
          host: '127.0.0.1',
          port: edges[0]!.udp.port,
          routes: edgeRoutes(edges, 'udp'),
        },
        signal: gen.signal,
        expectedRate: o.rate,
        maxAheadBytes: DEMO_MAX_AHEAD_BYTES,
        onReady: generatorReady,
        tableCacheDir: join(o.dataDir, 'cache'),
      }),
    ];
    if (o.dns)
      runs.push(
        runLive({
          engine: engine('dnstap'),
          target: {
            kind: 'tcp',
            host: '127.0.0.1',
            port: edges[0]!.dnstap.port,
            routes: edgeRoutes(edges, 'dnstap'),
          },
          signal: gen.signal,
          expectedRate: o.rate / 4,
          maxAheadBytes: DEMO_MAX_AHEAD_BYTES,
          onReady: generatorReady,
          tableCacheDir: join(o.dataDir, 'cache'),
        }),
      );
    if (o.durationMs !== undefined)
      durationTimer = setTimeout(() => {
        reason = 'duration';
        gen.abort();
      }, o.durationMs);
    statusTimer = setInterval(() => {
      if (!centre || !o.onStatus) return;
      const ov = centre.overview();
      const s = centre.stats();
      const lost = lostNow();
      const elapsedMs = o.clock.monotonic() - startedAt;
      o.onStatus({
        elapsedMs,
        eventTime: s.watermark,
        lagMs:
          s.watermark === null || generatorAt === undefined
            ? null
            : Math.max(0, startMs + (o.clock.monotonic() - generatorAt) * o.speed - s.watermark),
        recordsPerSecond: ov.totals.recordsPerSecond,
        records: s.records,
        alerts: s.alerts,
        incidents: s.incidents,
        detectors: ov.detectors.filter((d) => d.alerts > 0).map((d) => d.name),
        lost,
      });
    }, 1000);
    const results = await Promise.all(runs);
    if (reason === 'signal' && !o.signal.aborted && results.every((r) => r.reason === 'complete'))
      reason = 'generator-ended';
  } finally {
    clearInterval(statusTimer);
    clearTimeout(durationTimer);
    o.signal.removeEventListener('abort', abortGen);
    gen.abort();
    await stopEmbeddedEdges(edges);
    // Let the centre take what the edges drained onto the bus before it stops.
    await new Promise((r) => setTimeout(r, 300));
    await centre?.stop();
    await server?.stop();
    await oversight?.stop();
    await bus.stop();
    await store.close();
  }
  const s = centre.stats();
  const ov = centre.overview();
  o.logger.info({ loss: lossBreakdown(edges), stored: s.stored, appends: s.appends }, 'demo: stopped');
  return {
    reason,
    records: s.records,
    alerts: s.alerts,
    incidents: s.incidents,
    detectors: ov.detectors.filter((d) => d.alerts > 0).map((d) => d.name),
    lost: lostNow(),
  };
}
