import { Option, type Command } from 'commander';
import { AcdError, UsageError } from '../../common/errors.ts';
import { readIndicatorFile, type IndicatorEntry } from '../../common/indicators/index.ts';
import { readOperatorsFile, type OperatorsFile } from '../../common/operators/index.ts';
import type { Alert, Incident } from '../../common/schema/alert.ts';
import type { InputKind } from '../../collect/offline.ts';
import { alertToJson, createCorrelator, incidentToJson } from '../../correlate/index.ts';
import type { CliContext } from '../context.ts';
import { loadAcdConfig } from '../config.ts';
import { loadEdgePrefixTable } from '../edge/prefixes.ts';
import { demoSetup } from '../edge/selection.ts';

interface AnalyzeCliOptions {
  lab: boolean;
  indicators?: string;
  operators?: string;
  format: 'ndjson' | 'table';
  since?: string;
  until?: string;
  inputKind: InputKind;
  config?: string;
  evidence: boolean;
}

/** A file could not be read (exit 1: runtime failure). */
class UnreadableFilesError extends AcdError {
  constructor(files: string[]) {
    super('ERR_FILES_UNREADABLE', `could not read: ${files.join(', ')}`);
  }
}

function parseTime(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = Date.parse(text);
  if (!Number.isFinite(t)) throw new UsageError(`analyze: ${name} must be an ISO 8601 time, got ${text}`);
  return t;
}

const SEVERITY_RANK = { low: 0, medium: 1, high: 2, critical: 3 } as const;

function iso(t: number): string {
  return new Date(t).toISOString();
}

/** Table output for people: incidents, then their alerts, most severe first. */
function table(alerts: readonly Alert[], incidents: readonly Incident[]): string {
  const lines: string[] = [];
  const byId = new Map(alerts.map((a) => [a.id, a]));
  const sorted = [...incidents].sort(
    (a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || b.score - a.score,
  );
  lines.push(`${incidents.length} incident(s), ${alerts.length} alert(s)`);
  for (const i of sorted) {
    lines.push('');
    lines.push(
      `${i.severity.toUpperCase().padEnd(8)} ${i.score.toFixed(2)}  ${i.id}  ${iso(i.firstSeen)} → ${iso(i.lastSeen)}`,
    );
    lines.push(`         ${i.summary}`);
    for (const id of i.alerts) {
      const a = byId.get(id);
      if (!a) continue;
      const cps =
        a.counterparts.length > 0
          ? ` → ${a.counterparts.slice(0, 3).join(', ')}${a.counterparts.length > 3 ? ', …' : ''}`
          : '';
      lines.push(
        `         - ${a.detector.padEnd(15)} ${a.severity.padEnd(8)} ${a.score.toFixed(2)}  ${a.subject}${cps}${a.suppressedBy ? '  (suppressed)' : ''}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * `acd analyze [--lab] [--indicators FILE] [--operators FILE] [--format ndjson|table]
 * [--since ISO --until ISO] FILE...` (issue 6 contract).
 */
export function registerAnalyze(program: Command, ctx: CliContext): void {
  program
    .command('analyze')
    .description(
      'detect threats offline in anything acd decode reads (flow exports, captures, dnstap, text logs); ' +
        'several files are one dataset',
    )
    .argument('<files...>', 'captures, raw export files, dnstap files, Zeek/Argus/nfdump text')
    .option(
      '--lab',
      'lab captures: no selection and no pseudonymisation, subjects exactly as in the input',
      false,
    )
    .option(
      '--indicators <file>',
      'indicators: one value per line, or CSV value,type,valid_until,source,confidence',
    )
    .option('--operators <file>', 'critical-infrastructure operators file (sectors, ranges, agreements)')
    .addOption(
      new Option('--format <format>', 'output format').choices(['ndjson', 'table']).default('ndjson'),
    )
    .option('--since <iso>', 'only records with event time at or after this')
    .option('--until <iso>', 'only records with event time before this')
    .addOption(
      new Option('--input-kind <kind>', 'read captures as flow exports, as traffic, or decide by content')
        .choices(['auto', 'export', 'traffic'])
        .default('auto'),
    )
    .option('--evidence', 'ndjson: include each alert’s evidence chain', false)
    .option('--config <file>', 'configuration file (detect.*, correlate.*, collect.* settings)')
    .addHelpText(
      'after',
      `
Output (ndjson): one object per alert — type "alert", detector, subject (an address), counterparts[],
severity (low|medium|high|critical), score (0..1), firstSeen, lastSeen, summary, plus id, operators,
sectors, evidenceCount, incidentId — then one per incident — type "incident", id, severity, score,
detectors[], subjects[], alerts[] (alert ids), firstSeen, lastSeen, summary, plus state, campaign,
counterparts, operators, sectors. Times ISO 8601 UTC. A summary goes to stderr. Exit 0 when the
analysis completed, whether or not anything was found; 1 when a file could not be read.

Without --lab the records pass the demonstration feed set's selection first (DESIGN section 5: Japan
domestic, every channel, pseudonyms from a key held in memory only), as a centre would see them; with
--lab (private or foreign-only lab captures) nothing is selected away or pseudonymised.

Examples:
  acd analyze --lab --format table nmap-scan.pcap
  acd analyze --indicators iocs.csv --operators operators.json run.pcap dns.fstrm
  acd analyze --since 2026-05-11T09:00:00Z --until 2026-05-11T10:00:00Z conn.log | jq 'select(.type=="incident")'`,
    )
    .action(async (files: string[], opts: AnalyzeCliOptions) => {
      const since = parseTime('--since', opts.since);
      const until = parseTime('--until', opts.until);
      if (since !== undefined && until !== undefined && until <= since)
        throw new UsageError('analyze: --until must be after --since');
      const config = loadAcdConfig(opts.config === undefined ? { env: process.env } : { file: opts.config });
      let indicators: IndicatorEntry[] | undefined;
      let operators: OperatorsFile | undefined;
      try {
        if (opts.indicators !== undefined) indicators = await readIndicatorFile(opts.indicators);
        if (opts.operators !== undefined) operators = await readOperatorsFile(opts.operators);
      } catch (err) {
        throw new UsageError(`analyze: ${(err as Error).message}`, { cause: err });
      }
      const { runAnalysis } = await import('../analyze/run.ts');
      let selection = {};
      if (!opts.lab) {
        const setup = demoSetup(config.select.domesticCountry, 'analyze', 'demo');
        if (operators) setup.operators = operators;
        const t = await loadEdgePrefixTable(config.edge);
        if (t.note) ctx.stderr.write(`acd analyze: ${t.note}\n`);
        selection = { setup, table: t.table };
        ctx.stderr.write(
          `acd analyze: no --lab: records pass the DEMONSTRATION feed set's selection (${config.select.domesticCountry} domestic); ` +
            'pseudonyms from a key held in memory only\n',
        );
      }
      const result = await runAnalysis({
        files,
        inputKind: opts.inputKind,
        lab: opts.lab,
        ...(since !== undefined ? { since } : {}),
        ...(until !== undefined ? { until } : {}),
        detect: config.detect,
        collect: config.collect,
        ...(indicators ? { indicators } : {}),
        ...(operators ? { operators } : {}),
        ...selection,
        clock: ctx.clock,
        logger: ctx.logger,
      });
      const correlator = createCorrelator(config.correlate, {
        clock: ctx.clock,
        ...(operators ? { operators } : {}),
      });
      for (const e of result.evidence) correlator.push(e);
      correlator.flush();
      const { alerts, incidents } = correlator.snapshot();
      if (opts.format === 'table') ctx.stdout.write(table(alerts, incidents));
      else {
        const lines: string[] = [];
        for (const a of alerts) lines.push(JSON.stringify(alertToJson(a, { evidence: opts.evidence })));
        for (const i of incidents) lines.push(JSON.stringify(incidentToJson(i)));
        if (lines.length > 0) ctx.stdout.write(lines.join('\n') + '\n');
      }
      const failed = result.files.filter((f) => f.error !== undefined);
      for (const f of result.files)
        ctx.stderr.write(
          `acd analyze: ${f.path}: ${f.kind ?? 'unknown'}${f.error !== undefined ? `: error: ${f.error}` : `: ${f.records} records`}\n`,
        );
      const d = result.detection;
      ctx.stderr.write(
        `acd analyze: ${result.records} records analysed` +
          (result.selection
            ? ` (${result.selection.selected} of ${result.selection.in} selected)`
            : ' (lab: no selection)') +
          (result.outOfRange > 0 ? `, ${result.outOfRange} outside --since/--until` : '') +
          `; ${d.late} late, ${d.duplicates} duplicates, ${d.invalid} invalid; ` +
          `${result.evidence.length} evidence → ${alerts.length} alerts, ${incidents.length} incidents\n`,
      );
      if (failed.length > 0) throw new UnreadableFilesError(failed.map((f) => f.path));
    });
}
