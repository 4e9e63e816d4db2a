import { dirname, join } from 'node:path';
import { ACCESS_FILE_NAME, AccessRegistry, combineTokenAuth } from '../../oversee/access/index.ts';
import { mkdir } from 'node:fs/promises';
import type { Command } from 'commander';
import { MetricsRegistry } from '../../common/metrics.ts';
import { readIndicatorFile, type IndicatorEntry } from '../../common/indicators/index.ts';
import { readOperatorsFile, type OperatorsFile } from '../../common/operators/index.ts';
import { createMemoryBus, type Bus } from '../../transport/index.ts';
import { createStore } from '../../store/index.ts';
import { createEventHub, createServer, createTokenAuth, demoTokenEntry } from '../../serve/index.ts';
import { startOversight, type Oversight } from '../centre/oversight.ts';
import { loadLegalParameters } from '../../common/legal/index.ts';
import type { TokenEntry } from '../../serve/auth.ts';
import type { CliContext } from '../context.ts';
import { createEdgeBus } from '../edge/edge.ts';
import { createCentre } from '../centre/centre.ts';
import { loadCentreConfig, readTokensFile, type CentreConfig } from '../centre/config.ts';
import { humanCount, RateMeter, StatusLine } from '../status.ts';
import { dashboardDist } from './demo.ts';

interface CentreCliOptions {
  config?: string;
}

/** The centre's status line: numbers only. */
export function centreStatusText(
  s: { records: number; stored: number; alerts: number; incidents: number; storeErrors: number },
  rate: number,
  watermark: number | null,
): string {
  return (
    `${humanCount(rate)} records/s, ${humanCount(s.records)} records, ${humanCount(s.records - s.stored)} awaiting the store, ` +
    `${s.alerts} alerts, ${s.incidents} incidents` +
    (watermark !== null ? `, event time ${new Date(watermark).toISOString().slice(0, 19)}Z` : '') +
    (s.storeErrors > 0 ? `, ${s.storeErrors} store errors` : '')
  );
}

async function centreBus(config: CentreConfig, ctx: CliContext, metrics: MetricsRegistry): Promise<Bus> {
  if (config.bus.type === 'memory') {
    ctx.stderr.write('acd centre: bus.type memory: nothing outside this process can publish to it\n');
    return createMemoryBus({ clock: ctx.clock, logger: ctx.logger, metrics });
  }
  // The edge's bus factory with the centre's identity (the bus section is the edge's).
  return createEdgeBus(
    { bus: config.bus, providerId: 'centre', instanceId: config.centre.consumer } as Parameters<
      typeof createEdgeBus
    >[0],
    { clock: ctx.clock, logger: ctx.logger, metrics },
  );
}

/**
 * `acd centre`: the national centre as its own process — bus consumer → detection →
 * correlation → store, the operators registry, and the API with the dashboard.
 */
export function registerCentre(program: Command, ctx: CliContext): void {
  program
    .command('centre')
    .description(
      'run the national centre: consume selected records from the bus (JetStream), detect, correlate ' +
        'into incidents, store (DuckDB), and serve the API and the dashboard',
    )
    .option(
      '-c, --config <file>',
      'centre configuration (sections bus, store, serve, detect, correlate, centre)',
    )
    .addHelpText(
      'after',
      `
The centre subscribes to <prefix>.sel.> as the durable consumer centre.consumer (centre.ingest.parallel
subscribers, so that several batches share one store append; each batch is acknowledged after the
append that holds it), runs every detector and the correlation, stores records, evidence, alerts and
incidents (store.path; one writer: CLI reports use this API while the centre runs), and serves the API
and the dashboard (serve.host/serve.port; HTTPS with serve.tlsCert/serve.tlsKey). Tokens come from
centre.tokensFile; without one, the analyst token in ACD_DEMO_TOKEN or a generated one (printed).
SIGINT/SIGTERM: stop consuming, append and acknowledge what is in flight, flush detection and
correlation, close the store; exit 0.

Examples:
  acd centre --config /etc/acd/centre.yaml
  ACD_BUS__TYPE=memory acd centre          a centre with nothing to consume (API and dashboard only)`,
    )
    .action(async (opts: CentreCliOptions) => {
      const config = loadCentreConfig(opts.config === undefined ? {} : { file: opts.config });
      await runCentre(ctx, config);
    });
}

async function runCentre(ctx: CliContext, config: CentreConfig): Promise<void> {
  const metrics = new MetricsRegistry();
  const c = config.centre;
  const operators: OperatorsFile | undefined =
    c.operatorsFile !== '' ? await readOperatorsFile(c.operatorsFile) : undefined;
  const indicators: IndicatorEntry[] | undefined =
    c.indicatorsFile !== '' ? await readIndicatorFile(c.indicatorsFile) : undefined;
  let tokens: TokenEntry[];
  let generated: string | undefined;
  if (c.tokensFile !== '') tokens = await readTokensFile(c.tokensFile);
  else {
    const t = demoTokenEntry();
    tokens = [t.entry];
    if (t.generated) generated = t.entry.token;
  }
  if (config.store.type === 'duckdb') await mkdir(dirname(config.store.path), { recursive: true });
  const bus = await centreBus(config, ctx, metrics);
  const store = createStore(config.store, { metrics, logger: ctx.logger });
  const events = createEventHub(config.serve.sse.ringSize, ctx.clock);
  await bus.start();
  let centre: ReturnType<typeof createCentre> | undefined;
  let server: ReturnType<typeof createServer> | undefined;
  let oversight: Oversight | undefined;
  const dataDir = config.store.type === 'duckdb' ? dirname(config.store.path) : 'data';
  const status = new StatusLine({
    stream: ctx.stderr,
    interactive: ctx.interactive,
    clock: ctx.clock,
    prefix: 'acd centre: ',
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await store.open();
    // The oversight services (issue 8): audit log with signed checkpoints (keys under
    // <data>/keys, checkpoints in <data>/audit), audited actions, the oversight routes.
    oversight = await startOversight({
      store,
      bus,
      clock: ctx.clock,
      logger: ctx.logger,
      dataDir,
      events,
      metrics,
      legal: await loadLegalParameters(c.legalParametersFile === '' ? undefined : c.legalParametersFile),
      audit: config.audit,
      retention: { intervalMs: c.retentionInterval },
      reidentification: config.reidentification,
    });
    centre = createCentre(
      { clock: ctx.clock, logger: ctx.logger, metrics, bus, store, events },
      {
        detect: config.detect,
        correlate: config.correlate,
        ...(operators ? { operators } : {}),
        ...(indicators ? { indicators } : {}),
        evidenceRetentionMs: c.evidenceRetention,
        consumer: c.consumer,
        ingest: {
          parallel: c.ingest.parallel,
          appendIntervalMs: c.ingest.appendInterval,
          appendMaxRecords: c.ingest.appendMaxRecords,
        },
      },
    );
    await centre.start();
    const dist = dashboardDist();
    // Users and tokens of `acd users` (access.json beside the store) besides the tokens file.
    const users = AccessRegistry.open(join(dataDir, ACCESS_FILE_NAME), { clock: ctx.clock });
    server = createServer(
      {
        store,
        live: centre.live,
        actions: oversight.actions(centre.actions),
        events,
        metrics,
        auth: combineTokenAuth(createTokenAuth(tokens), users),
        users,
        audit: (req) => oversight?.onRequest(req),
        plugins: oversight.plugins,
        clock: ctx.clock,
        logger: ctx.logger,
        ...(dist !== undefined ? { dashboardDir: dist } : {}),
      },
      config.serve,
    );
    await server.start();
    const url = server.address()?.url ?? '';
    ctx.stderr.write(
      `acd centre: bus ${config.bus.type}${config.bus.type === 'jetstream' ? ` ${config.bus.servers.join(',')}` : ''}, ` +
        `consumer ${c.consumer}, store ${config.store.type}${config.store.type === 'duckdb' ? ` ${config.store.path}` : ''}\n` +
        `acd centre: API and dashboard ${url}/\n` +
        (generated !== undefined
          ? `acd centre: analyst token (set ACD_DEMO_TOKEN or centre.tokensFile): ${generated}\n`
          : ''),
    );
    const meter = new RateMeter<'records'>(ctx.clock);
    meter.sample({ records: 0 });
    const running = centre;
    timer = setInterval(() => {
      const s = running.stats();
      status.update(centreStatusText(s, meter.sample({ records: s.records }).records, s.watermark));
    }, c.statusInterval);
    if (!ctx.signal.aborted)
      await new Promise<void>((resolve) =>
        ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
  } finally {
    clearInterval(timer);
    status.done();
    await centre?.stop();
    await server?.stop();
    await oversight?.stop();
    await bus.stop();
    await store.close();
  }
  const s = centre.stats();
  ctx.stderr.write(
    `acd centre: summary ${JSON.stringify({
      records: s.records,
      stored: s.stored,
      appends: s.appends,
      duplicates: s.duplicates,
      evidence: s.evidence,
      alerts: s.alerts,
      incidents: s.incidents,
      storeErrors: s.storeErrors,
    })}\n`,
  );
}
