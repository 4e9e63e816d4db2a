import { writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { AcdError, UsageError } from '../../common/errors.ts';
import { loadPrefixTable } from '../../common/prefixes/index.ts';
import { buildCountryModel, Rng, writeOperatorsFile } from '../../simulate/country/index.ts';
import {
  EXPORTER_FORMATS,
  parseOutputTarget,
  type ExporterFormat,
  type OutputTarget,
} from '../../simulate/exporters/index.ts';
import { generateIndicators, readIndicatorFile, writeIndicatorFile } from '../../simulate/scenarios/index.ts';
import {
  DIURNAL_PROFILES,
  SCENARIO_NAMES,
  SCENARIO_REGISTRY,
  TrafficConfigError,
  applyScenarioParams,
  findScannerHosts,
  parseDurationText,
  parseScenarioList,
  runLive,
  runToFile,
  type EngineOptions,
  type IndicatorEntry,
  type RunProgress,
  type RunResult,
  type ScenarioRequest,
  type TruthLine,
} from '../../simulate/traffic/index.ts';
import type { CliContext } from '../context.ts';
import { humanCount, StatusLine } from '../status.ts';

/** Options of `acd generate` as commander parses them. */
interface GenerateOptions {
  scenario?: string;
  param?: string[];
  seed?: string;
  start?: string;
  speed?: string;
  rate?: string;
  duration?: string;
  count?: string;
  sampling?: string;
  format: string;
  to?: string;
  out?: string;
  truth?: string;
  operatorsOut?: string;
  indicators?: string;
  background: boolean;
  diurnal: string;
  list?: boolean;
  json?: boolean;
}

/** Default flow records per wall second. */
export const DEFAULT_RATE = 1000;
/** Largest accepted `--rate` and `--speed`. */
const MAX_RATE = 10_000_000;
const MAX_SPEED = 1_000_000;

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** The common parameters every scenario takes, for `--list`. */
const COMMON_PARAMS = [
  {
    name: 'start',
    default: 'random, 5–25 % into the run',
    description: 'event time the scenario starts (ISO time or +DURATION after --start)',
  },
  {
    name: 'duration',
    default: 'the scenario default, at most 70 % of the run',
    description: 'how long it lasts',
  },
  { name: 'intensity', default: 1, description: "scales the scenario's own rates" },
  { name: 'sources', default: 'chosen from the model', description: 'attacker addresses (separated by ;)' },
  {
    name: 'targets',
    default: 'chosen from the model',
    description: 'victim/target addresses (separated by ;)',
  },
];

/** The scenario list as `--list --json` prints it. */
export function scenarioListJson(): unknown[] {
  return SCENARIO_NAMES.map((n) => {
    const d = SCENARIO_REGISTRY[n];
    return {
      name: n,
      description: d.description,
      defaultDuration: formatDuration(d.defaultDurationMs),
      defaultDurationMs: d.defaultDurationMs,
      params: d.params.map((p) => ({ name: p.name, default: p.default, description: p.description })),
      common: COMMON_PARAMS,
    };
  });
}

function scenarioListText(): string {
  const lines: string[] = [];
  for (const n of SCENARIO_NAMES) {
    const d = SCENARIO_REGISTRY[n];
    lines.push(`${n}  (default duration ${formatDuration(d.defaultDurationMs)})`);
    lines.push(`    ${d.description}`);
    for (const p of d.params) lines.push(`    ${p.name} = ${String(p.default)}  ${p.description}`);
    lines.push('');
  }
  lines.push('Every scenario also takes: ' + COMMON_PARAMS.map((p) => p.name).join(', ') + '.');
  lines.push('Set parameters with --param NAME.KEY=VALUE, e.g. --param c2-beacon.period=30s.');
  return lines.join('\n') + '\n';
}

function int(flag: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(`generate: ${flag} must be an integer in ${min}..${max}, got ${v}`);
  return n;
}

function num(flag: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`generate: ${flag} must be a number in ${min}..${max}, got ${v}`);
  return n;
}

/** The checked plan of a run. */
interface Plan {
  format: ExporterFormat;
  target: OutputTarget;
  seed: number;
  startMs: number;
  speed: number;
  rate: number;
  durationMs?: number;
  count?: number;
  sampling?: number;
  scenarios: ScenarioRequest[];
}

function plan(ctx: CliContext, o: GenerateOptions): Plan {
  if (!(EXPORTER_FORMATS as readonly string[]).includes(o.format))
    throw new UsageError(`generate: --format must be one of ${EXPORTER_FORMATS.join(', ')}, got ${o.format}`);
  const format = o.format as ExporterFormat;
  if ((o.to === undefined) === (o.out === undefined))
    throw new UsageError(
      'generate: give exactly one of --to udp://HOST:PORT | tcp://HOST:PORT and --out FILE',
    );
  let target: OutputTarget;
  try {
    target = parseOutputTarget(o.to ?? o.out!);
  } catch (err) {
    throw new UsageError(`generate: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (o.to !== undefined && target.kind === 'file')
    throw new UsageError(
      `generate: --to takes udp://HOST:PORT or tcp://HOST:PORT, got ${o.to}; use --out for files`,
    );
  if (o.out !== undefined && target.kind !== 'file')
    throw new UsageError(`generate: --out takes a file path; use --to for ${o.out}`);
  if (target.kind === 'udp' && format === 'dnstap')
    throw new UsageError('generate: dnstap is sent over tcp:// (Frame Streams) or written with --out');
  if (target.kind === 'tcp' && format !== 'ipfix' && format !== 'dnstap')
    throw new UsageError(`generate: ${format} has no TCP transport (only ipfix and dnstap); use udp://`);
  const seed = o.seed === undefined ? 1 : int('--seed', o.seed, 0, 0xffffffff);
  let startMs: number;
  if (o.start === undefined) startMs = Math.floor(ctx.clock.now() / 1000) * 1000;
  else {
    startMs = /^\d{4}-\d{2}-\d{2}/.test(o.start) ? Date.parse(o.start) : NaN;
    if (!Number.isFinite(startMs))
      throw new UsageError(
        `generate: --start must be an ISO time such as 2026-04-01T12:00:00Z, got ${o.start}`,
      );
  }
  const speed = o.speed === undefined ? 1 : num('--speed', o.speed, 1e-3, MAX_SPEED);
  if (speed <= 0) throw new UsageError('generate: --speed must be above 0');
  const rate = o.rate === undefined ? DEFAULT_RATE : num('--rate', o.rate, 0, MAX_RATE);
  if (o.duration !== undefined && o.count !== undefined)
    throw new UsageError('generate: give --duration or --count, not both');
  let durationMs: number | undefined;
  if (o.duration !== undefined) {
    durationMs = parseDurationText(o.duration);
    if (durationMs === undefined || durationMs <= 0)
      throw new UsageError(
        `generate: --duration must be a duration such as 60s, 5m or 2h, got ${o.duration}`,
      );
  }
  const count = o.count === undefined ? undefined : int('--count', o.count, 1, Number.MAX_SAFE_INTEGER);
  let sampling: number | undefined;
  if (o.sampling !== undefined)
    sampling = int('--sampling', o.sampling, 1, format === 'netflow5' ? 16383 : 65535);
  if (!DIURNAL_PROFILES[o.diurnal])
    throw new UsageError(
      `generate: --diurnal must be one of ${Object.keys(DIURNAL_PROFILES).join(', ')}, got ${o.diurnal}`,
    );
  let scenarios: ScenarioRequest[] = [];
  try {
    if (o.scenario !== undefined) scenarios = parseScenarioList(o.scenario).map((name) => ({ name }));
    applyScenarioParams(scenarios, o.param ?? [], startMs);
  } catch (err) {
    if (err instanceof TrafficConfigError) throw new UsageError(`generate: ${err.message}`);
    throw err;
  }
  if (!o.background && scenarios.length === 0)
    throw new UsageError('generate: --no-background without --scenario generates nothing');
  if (rate === 0 && scenarios.length === 0)
    throw new UsageError('generate: --rate 0 without --scenario generates nothing');
  return {
    format,
    target,
    seed,
    startMs,
    speed,
    rate,
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(count !== undefined ? { count } : {}),
    ...(sampling !== undefined ? { sampling } : {}),
    scenarios,
  };
}

/** Where the generated indicator file goes when none is given: beside the truth file. */
export function indicatorPathFor(truthPath: string): string {
  return truthPath.replace(/\.ndjson$|\.jsonl$|\.json$/i, '') + '.indicators.csv';
}

/** A truth line with its keys in the documented order. */
function truthJson(t: TruthLine): string {
  return JSON.stringify({
    scenario: t.scenario,
    kind: t.kind,
    attackers: t.attackers,
    victims: t.victims,
    start: t.start,
    end: t.end,
    channel: t.channel,
    expectedDetectors: t.expectedDetectors,
  });
}

function progressText(p: RunProgress): string {
  const when = new Date(p.eventTimeMs).toISOString().replace('.000Z', 'Z');
  if (p.phase === 'pre-encoding')
    return `pre-encoding: ${humanCount(p.buffered)} records ready (${humanCount(p.rate)}/s)`;
  return (
    `${humanCount(p.recentRate)} records/s, ${humanCount(p.records)} records, ${humanCount(p.messages)} messages, ` +
    `event time ${when}` +
    (p.phase === 'sending' ? `, ${humanCount(p.buffered)} buffered` : '')
  );
}

/** Registers `acd generate`: the synthetic country's traffic as real exports. */
export function registerGenerate(program: Command, ctx: CliContext): void {
  program
    .command('generate')
    .description(
      'generate traffic of a synthetic country (background with a daily cycle and benign look-alikes, plus ' +
        'labelled attack scenarios) and emit it as real IPFIX, NetFlow v9/v5, sFlow v5 or dnstap exports over ' +
        'UDP/TCP or into a file, with a ground-truth file',
    )
    .option('--scenario <names>', `comma-separated scenarios (see --list): ${SCENARIO_NAMES.join(', ')}`)
    .addOption(
      new Option(
        '--param <NAME.KEY=VALUE>',
        'scenario parameter, repeatable (e.g. c2-beacon.period=30s)',
      ).argParser(collect),
    )
    .option('--seed <n>', 'random seed of the country, background and scenarios (default 1)')
    .option('--start <iso-time>', 'event time of the start (default: now); with --seed it fixes the output')
    .option('--speed <n>', 'event time runs N times faster than wall time (default 1)')
    .option(
      '--rate <flows/s>',
      `flow records (DNS messages for dnstap) per second of wall time (default ${DEFAULT_RATE})`,
    )
    .option(
      '--duration <d>',
      'stop after this much wall time at --speed (event time covered: d × speed), e.g. 60s',
    )
    .option(
      '--count <n>',
      'stop after exactly N exported records (flows, sFlow samples or DNS messages), all exporters',
    )
    .option(
      '--sampling <n>',
      "1-in-N packet sampling on every exporter (default: each exporter's own rate in the model)",
    )
    .addOption(
      new Option('--format <format>', 'export format').choices([...EXPORTER_FORMATS]).default('ipfix'),
    )
    .option(
      '--to <url>',
      'send live: udp://HOST:PORT (ipfix, netflow9, netflow5, sflow5) or tcp://HOST:PORT (ipfix, dnstap)',
    )
    .option(
      '--out <file>',
      'write a file: pcap for flow formats, Frame Streams for dnstap (as fast as possible)',
    )
    .option('--truth <file.ndjson>', 'write the ground truth (one line per scenario part and channel)')
    .option(
      '--operators-out <file.json>',
      'write the operators file of the synthetic country (docs/simulate.md)',
    )
    .option(
      '--indicators <file>',
      'indicator file for ioc-contact (CSV value,type,valid_until,source,confidence); default: generated, and written beside --truth',
    )
    .option('--no-background', 'scenarios only, no background traffic')
    .addOption(
      new Option('--diurnal <profile>', 'daily cycle of the background: jst (default) or flat').default(
        'jst',
      ),
    )
    .option('--list', 'print every scenario with its parameters and defaults, then exit')
    .option('--json', 'with --list: JSON for scripts')
    .addHelpText(
      'after',
      `
The synthetic country is built from the packaged registry data (providers, exporters on 127.0.0.x,
subscribers, critical-infrastructure operators); each provider's exporters send from their own
loopback address. Event time starts at --start and runs --speed times faster than wall time; live
output is paced by event time, file output is written as fast as possible. The background's mean
density is --rate / --speed records per event second, shaped by the daily cycle (--diurnal jst:
trough 04:00-05:00 JST, peak around 21:00; --diurnal flat for a constant rate); scenarios add their
own records. Without --duration or --count the run goes on until Ctrl-C. Same --seed and --start
give byte-identical --out files. A progress line is shown on a terminal; a JSON summary ends the run.

Examples:
  acd generate --list
  acd generate --to udp://127.0.0.1:2055 --rate 5000
  acd generate --scenario mirai-scan,c2-beacon --seed 7 --start 2026-04-01T12:00:00Z \\
      --speed 60 --duration 60s --out run.pcap --truth run.truth.ndjson --operators-out operators.json
  acd generate --format netflow9 --to udp://127.0.0.1:2055 --rate 200000 --diurnal flat --sampling 1
  acd generate --format dnstap --scenario dga --count 10000 --out dns.fstrm --truth dga.ndjson
  acd generate --scenario c2-beacon --param c2-beacon.period=30s --param c2-beacon.start=+2m \\
      --no-background --speed 10 --to tcp://127.0.0.1:4739
  acd generate --scenario ioc-contact --indicators iocs.csv --count 50000 --out ioc.pcap --truth ioc.ndjson`,
    )
    .action(async (opts: GenerateOptions) => {
      await runGenerate(ctx, opts);
    });
}

async function runGenerate(ctx: CliContext, o: GenerateOptions): Promise<void> {
  if (o.list) {
    ctx.stdout.write(o.json ? JSON.stringify(scenarioListJson(), null, 2) + '\n' : scenarioListText());
    return;
  }
  if (o.json) throw new UsageError('generate: --json goes with --list');
  const p = plan(ctx, o);
  const { table } = await loadPrefixTable();
  const model = buildCountryModel(table, { seed: p.seed });
  const root = new Rng(p.seed);
  let indicators: IndicatorEntry[];
  if (o.indicators !== undefined) {
    try {
      indicators = await readIndicatorFile(o.indicators);
    } catch (err) {
      if (err instanceof AcdError && err.code !== 'ERR_INPUT')
        throw new UsageError(`generate: ${err.message}`, { cause: err });
      throw err;
    }
  } else {
    indicators = generateIndicators(model, root.fork('indicators'));
    if (o.truth !== undefined) await writeIndicatorFile(indicatorPathFor(o.truth), indicators);
  }
  if (o.operatorsOut !== undefined) await writeOperatorsFile(o.operatorsOut, model);
  const engine: EngineOptions = {
    model,
    table,
    seed: p.seed,
    startMs: p.startMs,
    format: p.format,
    transport: p.target.kind,
    rate: p.rate,
    speed: p.speed,
    background: o.background,
    diurnal: DIURNAL_PROFILES[o.diurnal]!,
    scenarios: p.scenarios,
    registry: SCENARIO_REGISTRY,
    indicators,
    scanners: findScannerHosts(table, model.domesticCountry, root.fork('scanners'), 6),
    ...(p.sampling !== undefined ? { sampling: p.sampling } : {}),
    ...(p.count !== undefined ? { count: p.count } : {}),
    ...(p.durationMs !== undefined ? { endMs: p.startMs + p.durationMs * p.speed } : {}),
  };
  const status = new StatusLine({
    stream: ctx.stderr,
    interactive: ctx.interactive,
    clock: ctx.clock,
    prefix: 'acd generate: ',
  });
  let truthWrite: Promise<void> = Promise.resolve();
  const common = {
    engine,
    target: p.target,
    signal: ctx.signal,
    onProgress: (pr: RunProgress) => {
      if (ctx.interactive) status.update(progressText(pr));
    },
    onReady: ({ truth }: { truth: readonly TruthLine[] }) => {
      if (o.truth !== undefined)
        truthWrite = writeFile(o.truth, truth.map((t) => truthJson(t) + '\n').join(''));
    },
  };
  let result: RunResult;
  try {
    result =
      p.target.kind === 'file' ? await runToFile(common) : await runLive({ ...common, expectedRate: p.rate });
  } catch (err) {
    if (err instanceof TrafficConfigError) throw new UsageError(`generate: ${err.message}`, { cause: err });
    throw err;
  } finally {
    status.done();
  }
  await truthWrite;
  const e = result.engine;
  const summary = {
    reason: result.reason,
    format: p.format,
    records: result.records,
    messages: result.messages,
    bytes: result.bytes,
    exporters: result.exporters.length,
    truthLines: result.truth.length,
    seconds: Math.round(result.elapsedMs) / 1000,
    recordsPerSecond: Math.round(result.rate),
    preEncodeSeconds: Math.round(result.preEncodeMs) / 1000,
    starved: result.starved,
    eventStart: new Date(p.startMs).toISOString(),
    eventEnd: new Date(e.eventTimeMs).toISOString(),
    generated: e.generated,
    sampledOut: e.sampledOut,
    unexportable: e.unexportable + e.unroutable,
    dropped: result.output.dropped,
    labels: e.labels,
  };
  ctx.stderr.write(`acd generate: summary ${JSON.stringify(summary)}\n`);
}
