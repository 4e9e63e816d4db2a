import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { UsageError } from '../../common/errors.ts';
import { loadPrefixTable } from '../../common/prefixes/index.ts';
import { SCENARIO_NAMES, parseScenarioList, type ScenarioName } from '../../simulate/traffic/index.ts';
import type { CliContext } from '../context.ts';
import { loadAcdConfig } from '../config.ts';
import type { EvalRun } from '../eval/run.ts';
import { totals, type ScoreRow } from '../eval/score.ts';

interface EvalCliOptions {
  scenario: string;
  seed: string;
  heldOut: string;
  real: boolean;
  format: 'table' | 'json';
  rate: string;
  wall: string;
  duration?: string;
  config?: string;
  captures?: string;
}

/** Held-out seeds by default: never used while tuning detectors. */
const DEFAULT_HELD_OUT = '1001';

function pct(x: number | null): string {
  return x === null ? '   -  ' : `${(x * 100).toFixed(1).padStart(5)}%`;
}

function ttd(ms: number | null): string {
  if (ms === null) return '-';
  return ms < 60_000 ? `${Math.round(ms / 1000)}s` : `${(ms / 60_000).toFixed(1)}m`;
}

function tableFor(title: string, runs: readonly EvalRun[]): string {
  const rows = runs.flatMap((r) => r.rows);
  const lines = [
    title,
    'scenario          detector         alerts   TP  precision  expected found  recall  time-to-detect',
  ];
  for (const r of rows)
    lines.push(
      `${r.scenario.padEnd(17)} ${r.detector.padEnd(15)} ${String(r.alerts).padStart(7)} ${String(r.truePositives).padStart(4)}  ${pct(r.precision)}   ${String(r.expected).padStart(8)} ${String(r.found).padStart(5)}  ${pct(r.recall)}  ${ttd(r.timeToDetectMs)}`,
    );
  const t = totals(rows);
  lines.push(`overall: alert precision ${pct(t.precision)}, recall ${pct(t.recall)}`);
  return lines.join('\n') + '\n';
}

function runJson(r: EvalRun): Record<string, unknown> {
  return {
    scenario: r.scenario,
    seed: r.seed,
    speed: r.speed,
    eventSeconds: r.eventMs / 1000,
    wallSeconds: Math.round(r.wallMs) / 1000,
    records: r.records,
    lost: r.lost,
    late: r.late,
    undelivered: r.undelivered,
    rows: r.rows,
  };
}

/** `acd eval [--scenario NAME|all] [--seed N] [--real] [--format table|json]` (issue 6). */
export function registerEval(program: Command, ctx: CliContext): void {
  program
    .command('eval')
    .description(
      'measure detection: generated scenarios through the real path (UDP → decode → select → bus → detect → ' +
        'correlate) scored against their ground truth (precision, recall, time to detect)',
    )
    .option(
      '--scenario <names>',
      `scenario names separated by commas, or all (${SCENARIO_NAMES.join(', ')})`,
      'all',
    )
    .option('--seed <n>', 'seed of the tuning set (country, background, scenario parameters)', '1')
    .option(
      '--held-out <seeds>',
      'held-out seeds, reported separately (comma-separated; "none" for none)',
      DEFAULT_HELD_OUT,
    )
    .option(
      '--real',
      'score acd analyze --lab on the real evaluation set (captures of real tools in network namespaces)',
      false,
    )
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option(
      '--captures <dir>',
      'with --real: score existing captures (labels.json) instead of running the tools',
    )
    .option('--rate <flows/s>', 'background flow records per second of wall time', '3000')
    .option('--wall <seconds>', 'wall time per scenario run (event time is compressed into it)', '20')
    .option('--duration <d>', 'event-time duration of every scenario (default: each scenario’s own)')
    .option('--config <file>', 'configuration file (detect.*, correlate.* settings)')
    .addHelpText(
      'after',
      `
Each scenario runs on its own, with the background traffic and its benign look-alikes on: the
generator's exporters send IPFIX over UDP and dnstap over TCP to one edge per simulated provider,
the edges select and pseudonymise with the demonstration feed set (eval mode), the centre detects
and correlates. An alert is a true positive when its detector is expected by a truth line, its
subject is among that line's attackers or victims (after the same pseudonymisation) and its time
overlaps the line's; precision counts every alert of the run. Scenario parameters (start, intensity)
are drawn from the seed; the held-out seeds are reported separately.

Examples:
  acd eval                                   every scenario, seed 1 and held-out seed 1001
  acd eval --scenario scan-horizontal,ddos-flood --held-out none --format json
  acd eval --real                            the real-tool captures (needs root and the Debian tools)`,
    )
    .action(async (opts: EvalCliOptions) => {
      const scenarios: ScenarioName[] =
        opts.scenario === 'all'
          ? [...SCENARIO_NAMES]
          : (() => {
              try {
                return parseScenarioList(opts.scenario);
              } catch (err) {
                throw new UsageError(`eval: ${(err as Error).message}`, { cause: err });
              }
            })();
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new UsageError('eval: --seed must be an integer ≥ 0');
      const heldOut =
        opts.heldOut === 'none' || opts.heldOut === ''
          ? []
          : opts.heldOut.split(',').map((s) => {
              const n = Number(s);
              if (!Number.isInteger(n) || n < 0) throw new UsageError(`eval: bad held-out seed ${s}`);
              return n;
            });
      const rate = Number(opts.rate);
      const wall = Number(opts.wall);
      if (!(rate > 0 && rate <= 200_000)) throw new UsageError('eval: --rate must be in (0, 200000]');
      if (!(wall >= 2 && wall <= 3600)) throw new UsageError('eval: --wall must be 2..3600 seconds');
      const config = loadAcdConfig(opts.config === undefined ? {} : { file: opts.config });
      if (opts.real) {
        const { runRealEval } = await import('../eval/real.ts');
        await runRealEval(ctx, {
          format: opts.format,
          config,
          ...(opts.captures !== undefined ? { captures: opts.captures } : {}),
        });
        return;
      }
      let durationMs: number | undefined;
      if (opts.duration !== undefined) {
        const { parseDurationText } = await import('../../simulate/traffic/index.ts');
        durationMs = parseDurationText(opts.duration);
        if (durationMs === undefined || durationMs <= 0)
          throw new UsageError('eval: --duration must be like 10m');
      }
      const cacheDir = join('data', 'cache');
      const { table } = await loadPrefixTable({ cacheDir });
      const { runEval } = await import('../eval/run.ts');
      const common = {
        scenarios,
        table,
        detect: config.detect,
        correlate: config.correlate,
        rate,
        wallSecondsPerRun: wall,
        ...(durationMs !== undefined ? { durationMs } : {}),
        slackMs: 2 * 60_000,
        cacheDir,
        clock: ctx.clock,
        logger: ctx.logger,
        signal: ctx.signal,
        onProgress: (t: string) => ctx.stderr.write(`acd eval: ${t}\n`),
      };
      const tuning = await runEval({ ...common, seed });
      const held: EvalRun[] = [];
      for (const s of heldOut) held.push(...(await runEval({ ...common, seed: s })));
      const all: ScoreRow[] = tuning.flatMap((r) => r.rows);
      if (opts.format === 'json') {
        ctx.stdout.write(
          JSON.stringify(
            {
              seed,
              heldOutSeeds: heldOut,
              tuning: { runs: tuning.map(runJson), totals: totals(all) },
              heldOut: { runs: held.map(runJson), totals: totals(held.flatMap((r) => r.rows)) },
            },
            null,
            2,
          ) + '\n',
        );
      } else {
        ctx.stdout.write(tableFor(`tuning seed ${seed}`, tuning));
        if (held.length > 0) ctx.stdout.write('\n' + tableFor(`held-out seeds ${heldOut.join(', ')}`, held));
      }
    });
}
