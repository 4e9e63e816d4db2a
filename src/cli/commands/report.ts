import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { AcdError, InputError, UsageError } from '../../common/errors.ts';
import { loadLegalParameters } from '../../common/legal/index.ts';
import { KeyStore } from '../../oversee/keys/index.ts';
import {
  buildTransparencyReport,
  parseReportPeriod,
  renderReport,
  ReportPeriodError,
  REPORT_FORMATS,
  TRANSPARENCY_REPORT_PATH,
  type ReportFormat,
} from '../../oversee/report/index.ts';
import type { CliContext } from '../context.ts';
import { appendAudit, LOCAL_ADMIN, withStore } from './audit.ts';

/** Environment variable with the bearer token for `--api`. */
export const TOKEN_ENV = 'ACD_TOKEN';

/** Largest report accepted from a centre (a report is a few kilobytes). */
const MAX_API_REPORT_BYTES = 16 * 1024 * 1024;

interface TransparencyOptions {
  from: string;
  to: string;
  format: string;
  out?: string;
  data: string;
  keysDir?: string;
  legalParameters?: string;
  api?: string;
}

/** A centre that answered the report request with an error. */
export class ReportApiError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_REPORT_API', message, options);
  }
}

function isFormat(s: string): s is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(s);
}

/** Builds the report from the store under `dataDir` (centre stopped), audited as the local administrator. */
async function localReport(
  ctx: CliContext,
  opts: TransparencyOptions,
  period: { from: number; to: number },
  format: ReportFormat,
): Promise<string> {
  const legal = await loadLegalParameters(opts.legalParameters);
  const keys = new KeyStore(opts.keysDir ?? join(opts.data, 'keys'), ctx.clock);
  return withStore(opts.data, async (store) => {
    await appendAudit(ctx, store, keys, opts.data, [
      {
        ...LOCAL_ADMIN,
        action: 'report.transparency',
        objectIds: [],
        detail: { from: opts.from, to: opts.to, format },
      },
    ]);
    const report = await buildTransparencyReport(store, { ...period, legal, clock: ctx.clock });
    return renderReport(report, format);
  });
}

/** Asks a running centre (`GET /api/reports/transparency`) with the token of `ACD_TOKEN`. */
async function apiReport(api: string, opts: TransparencyOptions, format: ReportFormat): Promise<string> {
  const token = process.env[TOKEN_ENV];
  if (token === undefined || token.length === 0)
    throw new UsageError(`--api needs a bearer token in the ${TOKEN_ENV} environment variable`);
  let url: URL;
  try {
    url = new URL(TRANSPARENCY_REPORT_PATH, api);
  } catch (err) {
    throw new UsageError(`--api: not a URL: ${api}`, { cause: err });
  }
  url.search = new URLSearchParams({ from: opts.from, to: opts.to, format }).toString();
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  } catch (err) {
    throw new InputError(url.origin, 'cannot reach the centre', { cause: err });
  }
  const text = await res.text();
  if (text.length > MAX_API_REPORT_BYTES) throw new ReportApiError('the centre answered a too large report');
  if (!res.ok) {
    let detail = res.statusText;
    try {
      const p = JSON.parse(text) as unknown;
      if (typeof p === 'object' && p !== null && 'detail' in p && typeof p.detail === 'string')
        detail = p.detail;
    } catch {
      // Not a problem document: the status text says enough.
    }
    throw new ReportApiError(`the centre answered ${res.status}: ${detail}`);
  }
  return text;
}

/** `acd report transparency`. */
export function registerReport(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('report')
    .description('oversight reports')
    .addHelpText(
      'after',
      `
Examples:
  acd report transparency --from 2026-01-01 --to 2026-12-31 --format md --out report-2026.md
  acd report transparency --from 2026-04-01 --to 2026-06-30 --format html --out q2.html
  ACD_TOKEN=… acd report transparency --from 2026-01-01 --to 2026-01-31 --api https://centre:8443`,
    );
  cmd
    .command('transparency')
    .description(
      'the transparency report of a period (R-OVS-7): approval cases per kind, inspections, commission\n' +
        'communications, measures, re-identifications, retention and service statistics; figures no\n' +
        'feature produces yet read "not available". Opens the store under --data directly (the centre\n' +
        'must be stopped) and records the report as the local administrator, or asks a running centre\n' +
        `with --api URL (token in ${TOKEN_ENV}).`,
    )
    .requiredOption('--from <date>', 'first day (UTC) or ISO time of the period')
    .requiredOption('--to <date>', 'last day (inclusive) or ISO time (exclusive) of the period')
    .option('--format <format>', `output format: ${REPORT_FORMATS.join(', ')}`, 'md')
    .option('-o, --out <file>', 'write the report to this file (default: stdout)')
    .option('--data <dir>', 'data directory (store, audit/checkpoints.ndjson)', './data')
    .option('--keys-dir <dir>', 'key store with the audit key (default DATA/keys)')
    .option('--legal-parameters <file>', 'legal-parameter override file (JSON or YAML)')
    .option('--api <url>', `ask a running centre instead of opening the store (token in ${TOKEN_ENV})`)
    .action(async (opts: TransparencyOptions) => {
      if (!isFormat(opts.format))
        throw new UsageError(`--format: one of ${REPORT_FORMATS.join(', ')}, not ${opts.format}`);
      const format = opts.format;
      let period: { from: number; to: number };
      try {
        period = parseReportPeriod(opts.from, opts.to);
      } catch (err) {
        if (err instanceof ReportPeriodError) throw new UsageError(`--${err.message}`);
        throw err;
      }
      let text: string;
      try {
        text =
          opts.api !== undefined
            ? await apiReport(opts.api, opts, format)
            : await localReport(ctx, opts, period, format);
      } catch (err) {
        if (err instanceof ReportPeriodError) throw new UsageError(err.message);
        throw err;
      }
      if (opts.out === undefined) {
        ctx.stdout.write(text);
        return;
      }
      const tmp = `${opts.out}.tmp-${process.pid}`;
      await writeFile(tmp, text);
      await rename(tmp, opts.out);
      ctx.stderr.write(`acd report: transparency report ${opts.from} … ${opts.to} written to ${opts.out}\n`);
    });
}
