import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { UsageError } from '../../common/errors.ts';
import { parseDuration } from '../../common/config.ts';
import type { CliContext } from '../context.ts';
import type { DetectConfig } from '../../detect/index.ts';
import { loadAcdConfig } from '../config.ts';
import { humanCount, StatusLine } from '../status.ts';
import { DEMO_CYCLES, DEMO_SPEED } from '../demo/schedule.ts';

interface DemoCliOptions {
  port: string;
  host: string;
  data: string;
  fresh: boolean;
  rate: string;
  speed: string;
  seed: string;
  duration?: string;
  dns: boolean;
  config?: string;
}

/** `detect.longConnection.minDurationMs` of the demo unless a configuration file sets detection. */
export const DEMO_LONG_CONNECTION_MS = 30 * 60_000;

/**
 * The demo's detection settings: the configuration's, except that without a configuration file a
 * connection counts as long after 30 minutes of event time instead of an hour, so that the
 * long-connection scenario shows within the demo's first two minutes (event time runs 45× faster).
 */
export function demoDetect(detect: DetectConfig, fromFile: boolean): DetectConfig {
  if (fromFile) return detect;
  return { ...detect, longConnection: { ...detect.longConnection, minDurationMs: DEMO_LONG_CONNECTION_MS } };
}

/** Where `npm run build` puts the dashboard (dashboard/dist at the package root). */
export function dashboardDist(): string | undefined {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const dir = join(root, 'dashboard', 'dist');
  return existsSync(join(dir, 'index.html')) ? dir : undefined;
}

function positive(name: string, text: string, max: number): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > max)
    throw new UsageError(`demo: ${name} must be a number in (0, ${max}], got ${text}`);
  return n;
}

/**
 * `acd demo`: what `npm start` runs — the embedded national centre with three simulated
 * providers' edges fed over real UDP, detection, correlation, DuckDB under ./data, and the
 * dashboard.
 */
export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description(
      'run the national-centre demo: simulated providers export over UDP to their edges, the centre detects ' +
        'and correlates, the dashboard shows it live',
    )
    .option('--port <port>', 'dashboard and API port', '8080')
    .option('--host <address>', 'address to listen on (plain HTTP only on loopback)', '127.0.0.1')
    .option('--data <dir>', 'data directory (store, edge keys and spools, caches)', './data')
    .option(
      '--fresh',
      'start over: delete the store, the edges’ state, the audit checkpoints and deletion certificates under --data first (keys and users stay)',
      false,
    )
    .addOption(
      new Option('--rate <flows/s>', 'generated flow records per second of wall time').default('2000'),
    )
    .addOption(
      new Option('--speed <n>', 'event time runs n times faster than wall time').default(String(DEMO_SPEED)),
    )
    .option('--seed <n>', 'seed of the synthetic country and its traffic', '1')
    .option('--duration <d>', 'stop after this long (e.g. 2m); default: until Ctrl-C')
    .option('--no-dns', 'no dnstap from the providers’ resolvers (flows only)')
    .option('--config <file>', 'configuration file (detect.*, correlate.*, serve.* settings)')
    .addHelpText(
      'after',
      `
The demo builds a synthetic country from the packaged registry data (providers, exporters on
127.0.0.x, subscribers, critical-infrastructure operators) and runs, in one process: the traffic
generator in worker threads (IPFIX over UDP and dnstap over TCP, from each exporter's own loopback
address), one edge per provider (collect, select with the demonstration feed set, pseudonymise,
spool), the memory bus, the centre (detection, correlation, DuckDB under --data) and the API with
the dashboard. Attack scenarios are injected on a schedule of one cycle per hour of event time
(80 s at the default speed; the first ${DEMO_CYCLES} hours are scheduled, background traffic goes on after
them), so within two minutes every detector has fired. Without --config a connection counts as
long after 30 minutes of event time (detect.longConnection.minDurationMs; the default is an hour).

The dashboard is at http://127.0.0.1:8080 (--port to change). Scripts use the analyst token in
ACD_DEMO_TOKEN (default purpose monitoring); without it the demo prints a generated token.
Ctrl-C stops cleanly; ./data is resumed on the next start unless --fresh.

Examples:
  npm start                               the same as acd demo
  acd demo --port 9090 --fresh            start over on another port
  ACD_DEMO_TOKEN=$(openssl rand -hex 24) acd demo --duration 5m
  curl -H "Authorization: Bearer $ACD_DEMO_TOKEN" http://127.0.0.1:8080/api/incidents?limit=5`,
    )
    .action(async (opts: DemoCliOptions) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`demo: --port must be a port number, got ${opts.port}`);
      const rate = positive('--rate', opts.rate, 1_000_000);
      const speed = positive('--speed', opts.speed, 10_000);
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`demo: --seed must be an integer ≥ 0`);
      const durationMs = opts.duration === undefined ? undefined : parseDuration(opts.duration);
      if (opts.duration !== undefined && durationMs === undefined)
        throw new UsageError(`demo: --duration must be a duration such as 30s or 5m, got ${opts.duration}`);
      const config = loadAcdConfig(opts.config === undefined ? {} : { file: opts.config });
      const { runDemo } = await import('../demo/run.ts');
      const status = new StatusLine({
        stream: ctx.stderr,
        interactive: ctx.interactive,
        clock: ctx.clock,
        prefix: 'acd demo: ',
      });
      let lastPrint = 0;
      const result = await runDemo({
        dataDir: opts.data,
        fresh: opts.fresh,
        rate,
        speed,
        seed,
        ...(durationMs !== undefined ? { durationMs } : {}),
        dns: opts.dns,
        serve: { ...config.serve, host: opts.host, port },
        audit: config.audit,
        retention: config.retention,
        reidentification: config.reidentification,
        detect: demoDetect(config.detect, opts.config !== undefined),
        correlate: config.correlate,
        cycles: DEMO_CYCLES,
        ...(dashboardDist() !== undefined ? { dashboardDir: dashboardDist()! } : {}),
        clock: ctx.clock,
        logger: ctx.logger,
        signal: ctx.signal,
        onReady: (info) => {
          ctx.stderr.write(
            `acd demo: providers ${info.providers.join(', ')}; event time runs ${speed}× faster than wall time\n` +
              `acd demo: dashboard ${info.url}/  (Ctrl-C stops)\n` +
              (info.tokenGenerated
                ? `acd demo: analyst token (set ACD_DEMO_TOKEN to choose one): ${info.token}\n` +
                  `acd demo: open ${info.url}/#token=${info.token}\n`
                : `acd demo: analyst token from ACD_DEMO_TOKEN\n`) +
              info.roleTokens
                .map((t) =>
                  t.generated
                    ? `acd demo: ${t.role} token (${t.user}; set ${t.variable} to choose one): ${t.token}\n`
                    : `acd demo: ${t.role} token from ${t.variable}\n`,
                )
                .join(''),
          );
        },
        onStatus: (s) => {
          const text =
            `${humanCount(s.recordsPerSecond)} rec/s, ${humanCount(s.records)} records, ` +
            `${s.alerts} alerts, ${s.incidents} incidents; detectors ${s.detectors.length}/9` +
            (s.eventTime !== null
              ? `; event time ${new Date(s.eventTime).toISOString().slice(0, 19)}Z`
              : '') +
            (s.lagMs !== null && s.lagMs > 60_000
              ? ` (detection ${Math.round(s.lagMs / 60_000)} min behind)`
              : '') +
            (s.lost > 0 ? `; ${humanCount(s.lost)} lost` : '');
          if (ctx.interactive) status.update(text);
          else if (s.elapsedMs - lastPrint >= 10_000) {
            lastPrint = s.elapsedMs;
            ctx.stderr.write(`acd demo: ${text}\n`);
          }
        },
      });
      status.done();
      ctx.stderr.write(
        `acd demo: stopped (${result.reason}): ${result.records} records, ${result.alerts} alerts, ` +
          `${result.incidents} incidents; detectors fired: ${result.detectors.join(', ') || 'none'}` +
          (result.lost > 0 ? `; ${result.lost} lost` : '') +
          '\n',
      );
    });
}
