import { Option, type Command } from 'commander';
import { AcdError, UsageError } from '../../common/errors.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import type { InputKind } from '../../collect/offline.ts';
import { DROP_REASONS, type FeedStatus, type SelectionStats } from '../../select/index.ts';
import type { CliContext } from '../context.ts';
import { loadAcdConfig, type AcdConfig } from '../config.ts';
import { createEdge, type EdgeStats } from '../edge/edge.ts';
import { runOfflineSelection } from '../edge/offline.ts';
import { loadEdgePrefixTable } from '../edge/prefixes.ts';
import { demoSetup, setupFromConfig, type SelectionSetup } from '../edge/selection.ts';
import { humanCount, RateMeter, StatusLine } from '../status.ts';

/** How often the live status line is recomputed. */
export const EDGE_STATUS_MS = 1000;

/** Some input files could not be read (exit 1 after the others were processed). */
class UnreadableInputError extends AcdError {
  constructor(files: string[]) {
    super('ERR_FILES_UNREADABLE', `could not read: ${files.join(', ')}`);
  }
}

interface EdgeCliOptions {
  config?: string;
  input?: string[];
  out?: string;
  inputKind: InputKind;
  keys?: string;
}

/** `in 1200, selected 300, dropped 900 (domestic-domestic 800, direction-mismatch 100)`. */
export function selectionSummary(s: SelectionStats): string {
  const dropped = DROP_REASONS.reduce((n, r) => n + s.dropped[r], 0);
  const reasons = DROP_REASONS.filter((r) => s.dropped[r] > 0)
    .map((r) => `${r} ${s.dropped[r]}`)
    .join(', ');
  return `in ${s.in}, selected ${s.selected}, dropped ${dropped}${reasons ? ` (${reasons})` : ''}`;
}

function feedLine(f: FeedStatus): string {
  return `feed ${f.feedId} (${f.channel}): ${f.state}${f.code ? ` ${f.code}` : ''}`;
}

/** The live status line: rates, drops, spool and bus. Numbers only (R-SEL-1). */
export function edgeStatusText(s: EdgeStats, rates: { in: number; selected: number }): string {
  return (
    `${humanCount(rates.in)} records/s in, ${humanCount(rates.selected)}/s selected, ` +
    `${humanCount(s.in)} in, ${humanCount(s.selected)} selected, ${humanCount(s.dropped)} dropped, ` +
    `${humanCount(s.collector.dropped ?? 0)} queue drops, spool ${s.spoolPending} batches` +
    `${s.spoolFull ? ' FULL' : ''}, ${humanCount(s.acks)} acks, bus ${s.busConnected ? 'up' : 'DOWN'}, ` +
    `${s.activeFeeds} feeds active`
  );
}

/** Registers `acd edge`: lawful selection at the provider edge, live or over files. */
export function registerEdge(program: Command, ctx: CliContext): void {
  program
    .command('edge')
    .description(
      'the provider edge: collect flow exports and DNS events, select what the law allows (feeds with ' +
        'signed approvals, border filter, allow-listed fields, selectors, pseudonymisation, provenance) ' +
        'and hand it to the national centre over NATS JetStream with an encrypted spool; or run the same ' +
        'selection over files (--input) and write the selected records as NDJSON',
    )
    .option(
      '-c, --config <file>',
      'edge configuration (sections collect, select, edge); see examples/edge.yaml',
    )
    .option('-i, --input <files...>', 'select offline from these files (anything acd decode reads)')
    .option('-o, --out <file>', 'with --input: where the selected records go (NDJSON)')
    .option(
      '--keys <dir>',
      'with --input: pseudonymise with the key store in DIR (created if absent, mode 0700/0600) instead of\n' +
        'a key held in memory only, so that pseudonyms are stable across runs',
    )
    .addOption(
      new Option(
        '--input-kind <kind>',
        'with --input: read captures as flow exports, as traffic, or by content',
      )
        .choices(['auto', 'export', 'traffic'])
        .default('auto'),
    )
    .addHelpText(
      'after',
      `
Live (--config without --input): listens as collect.listen says, selects with the feeds of the
select section (each verified against its signed approval or agreement; demonstration documents are
refused unless select.mode is demo or eval), pseudonymises with the key store in edge.keyStore.dir
(created on first run, mode 0700/0600), and publishes batches of selected records on
<prefix>.sel.<provider>.<partition> through the encrypted spool in edge.spool.dir. Per-batch
selection statistics go to <prefix>.stat.<provider>; signed revocations arrive on the control
subjects or as files in edge.revocationsDir and stop their feeds. A status line shows records/s in,
selected/s, drops, spool depth and bus acknowledgements. SIGTERM/SIGINT: stop listening, select what
was queued, send the last batches, wait up to edge.drainTimeout for acknowledgements, flush the
spool (what is unacknowledged is replayed at the next start), print a summary, exit 0.

Offline (--input FILE... --out FILE): the same selection over files, written as NDJSON with the
provenance of each record (recordId, approvalId, selectorIds, tableVersion, parameterVersion,
keyEpoch, retainUntil), endpoint country and ASN, pseudonymised domestic addresses (from a key
held in memory only, or the key store given with --keys). Without --config: the demonstration feed set (Japan domestic, every channel,
selectors that keep all traffic each channel allows), and a notice on stderr. A summary of the
selection (in, selected, dropped by reason, per feed) goes to stderr.

Examples:
  acd edge --input export.pcap --out selected.ndjson
  acd edge --input a.pcap b.raw --out selected.ndjson --config /etc/acd/edge.yaml
  acd edge --config examples/edge-demo.yaml
  acd edge --config /etc/acd/edge.yaml`,
    )
    .action(async (opts: EdgeCliOptions) => {
      if (opts.input !== undefined) {
        if (opts.out === undefined)
          throw new UsageError('edge: --input needs --out FILE for the selected records');
        await runOffline(ctx, opts, opts.input, opts.out);
        return;
      }
      if (opts.out !== undefined) throw new UsageError('edge: --out is for offline selection with --input');
      if (opts.keys !== undefined)
        throw new UsageError('edge: --keys is for offline selection; a running edge uses edge.keyStore.dir');
      if (opts.config === undefined)
        throw new UsageError(
          'edge: a running edge needs --config FILE (or --input FILE... --out FILE offline)',
        );
      await runLive(ctx, loadAcdConfig({ file: opts.config }));
    });
}

async function runOffline(
  ctx: CliContext,
  opts: EdgeCliOptions,
  files: string[],
  out: string,
): Promise<void> {
  let config: AcdConfig;
  let setup: SelectionSetup;
  if (opts.config === undefined) {
    config = loadAcdConfig({ env: {} });
    setup = demoSetup('JP');
    ctx.stderr.write(
      'acd edge: no --config: using the DEMONSTRATION feed set (DESIGN section 5): Japan domestic, every channel,\n' +
        'acd edge:   demonstration approvals that keep all traffic each channel allows; a running edge refuses them\n' +
        'acd edge:   outside demo/eval mode. Pseudonyms come from a key held in memory only.\n',
    );
  } else {
    config = loadAcdConfig({ file: opts.config });
    setup = await setupFromConfig(config);
    if (setup.demo)
      ctx.stderr.write(
        `acd edge: ${config.select.mode} mode without feeds: using the demonstration feed set\n`,
      );
  }
  const t = await loadEdgePrefixTable(config.edge);
  if (t.note) ctx.stderr.write(`acd edge: ${t.note}\n`);
  const result = await runOfflineSelection({
    files,
    out,
    inputKind: opts.inputKind,
    setup,
    table: t.table,
    collect: config.collect,
    clock: ctx.clock,
    logger: ctx.logger,
    ...(opts.keys !== undefined ? { keysDir: opts.keys } : {}),
  });
  const failed: string[] = [];
  for (const f of result.files) {
    if (f.error !== undefined) failed.push(f.path);
    ctx.stderr.write(
      `acd edge: ${f.path}: ${f.kind ?? 'unknown'}${f.error !== undefined ? `: error: ${f.error}` : `: ${f.records} records`}\n`,
    );
  }
  for (const f of result.feeds) ctx.stderr.write(`acd edge: ${feedLine(f)}\n`);
  const s = result.stats;
  for (const f of s.feeds)
    if (f.in > 0)
      ctx.stderr.write(
        `acd edge:   ${f.feedId}: ${selectionSummary({ ...s, in: f.in, selected: f.selected, dropped: f.dropped })}\n`,
      );
  ctx.stderr.write(
    `acd edge: ${selectionSummary(s)}${result.notSelectable ? `; ${result.notSelectable} options/counters records not selectable` : ''}; ` +
      `table ${t.table.tableVersion}; wrote ${result.written} records to ${out}\n`,
  );
  ctx.stderr.write(
    `acd edge: summary ${JSON.stringify({
      in: s.in,
      selected: s.selected,
      dropped: s.dropped,
      errors: s.errors,
      notSelectable: result.notSelectable,
      written: result.written,
      tableVersion: t.table.tableVersion,
      demo: setup.demo,
    })}\n`,
  );
  if (failed.length > 0) throw new UnreadableInputError(failed);
}

async function runLive(ctx: CliContext, config: AcdConfig): Promise<void> {
  if (config.collect.listen.length === 0)
    throw new UsageError('edge: collect.listen is empty: the edge needs at least one listener');
  const setup = await setupFromConfig(config);
  if (setup.demo)
    ctx.stderr.write(
      `acd edge: ${config.select.mode} mode without feeds: using the DEMONSTRATION feed set (never in production)\n`,
    );
  const t = await loadEdgePrefixTable(config.edge);
  if (t.note) ctx.stderr.write(`acd edge: ${t.note}\n`);
  const metrics = new MetricsRegistry();
  const edge = createEdge(
    { clock: ctx.clock, logger: ctx.logger, metrics },
    { edge: config.edge, collect: config.collect, setup, table: t.table, tableSource: t.source },
  );
  await edge.start();
  for (const f of edge.feeds()) ctx.stderr.write(`acd edge: ${feedLine(f)}\n`);
  for (const a of edge.addresses()) ctx.stderr.write(`acd edge: listening on ${a.url}\n`);
  ctx.stderr.write(
    `acd edge: provider ${config.edge.providerId}, table ${t.table.tableVersion}, bus ${config.edge.bus.type} ${config.edge.bus.type === 'jetstream' ? config.edge.bus.servers.join(',') : ''}\n`,
  );
  const status = new StatusLine({
    stream: ctx.stderr,
    interactive: ctx.interactive,
    clock: ctx.clock,
    prefix: 'acd edge: ',
  });
  const meter = new RateMeter<'in' | 'selected'>(ctx.clock);
  meter.sample({ in: 0, selected: 0 });
  const timer = setInterval(() => {
    const s = edge.stats();
    status.update(edgeStatusText(s, meter.sample({ in: s.in, selected: s.selected })));
  }, EDGE_STATUS_MS);
  if (!ctx.signal.aborted)
    await new Promise<void>((resolve) =>
      ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
  clearInterval(timer);
  status.done();
  ctx.stderr.write(
    'acd edge: stopping (selecting what was queued, sending the last batches, flushing the spool)\n',
  );
  await edge.stop();
  const s = edge.stats();
  ctx.stderr.write(
    `acd edge: summary ${JSON.stringify({
      in: s.in,
      selected: s.selected,
      dropped: s.droppedByReason,
      spoolFullDropped: s.spoolFullDropped,
      batches: s.batches,
      acks: s.acks,
      spoolPending: s.spoolPending,
      statsPublished: s.statsPublished,
      revocationsApplied: s.revocationsApplied,
      queueDropped: s.collector.dropped,
      sequenceLost: s.collector.sequenceLost,
    })}\n`,
  );
}
