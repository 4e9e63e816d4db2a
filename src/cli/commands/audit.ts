import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError, UsageError } from '../../common/errors.ts';
import {
  AuditChainBrokenError,
  AuditExportError,
  buildExport,
  createAuditLog,
  MAX_EXPORT_BYTES,
  readAllAudit,
  readCheckpointFile,
  verifyChain,
  verifyExport,
  type AuditInput,
  type ChainVerdict,
} from '../../oversee/audit/index.ts';
import { KeyStore, parsePublicKeys, type PublicKeyInfo } from '../../oversee/keys/index.ts';
import { createStore } from '../../store/index.ts';
import type { Store } from '../../store/types.ts';
import type { CliContext } from '../context.ts';

/** The checkpoint file under a data directory. */
export function checkpointFileOf(dataDir: string): string {
  return join(dataDir, 'audit', 'checkpoints.ndjson');
}

/** How the CLI appears in the audit log when it opens the store itself (centre stopped). */
export const LOCAL_ADMIN = {
  actor: 'local-admin',
  role: 'administrator',
  purpose: 'administration',
} as const;

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** Parses `--from`/`--to`: a date (UTC midnight; for `--to`, the end of that day) or an ISO time. */
export function parseDateOption(name: string, s: string, endOfDay: boolean): number {
  const t = Date.parse(DATE_ONLY.test(s) ? `${s}T00:00:00Z` : s);
  if (!Number.isFinite(t)) throw new UsageError(`${name}: not a date or ISO time: ${s}`);
  return DATE_ONLY.test(s) && endOfDay ? t + 86_400_000 : t;
}

interface CommonOptions {
  data: string;
  keysDir?: string;
}

/**
 * Opens the DuckDB store under `dataDir` directly (the centre must be stopped: one writer), runs
 * `f`, closes it. The CLI commands that work on the store (audit, retention, report) use it.
 */
export async function withStore<T>(dataDir: string, f: (store: Store) => Promise<T>): Promise<T> {
  const store = createStore({ type: 'duckdb', path: join(dataDir, 'acd.duckdb') });
  await store.open();
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}

/**
 * Appends `entries` to the store's audit chain (their actor, role and purpose as given; use
 * {@link LOCAL_ADMIN} for a CLI command acting on the store), then pins them with a checkpoint.
 */
export async function appendAudit(
  ctx: CliContext,
  store: Store,
  keys: KeyStore,
  dataDir: string,
  entries: readonly AuditInput[],
): Promise<void> {
  const log = createAuditLog({
    store,
    clock: ctx.clock,
    keys,
    checkpointFile: checkpointFileOf(dataDir),
    logger: ctx.logger,
  });
  await log.start();
  try {
    for (const e of entries) await log.append(e);
  } finally {
    await log.stop();
  }
}

/** Appends one entry as the local administrator, then pins it with a checkpoint. */
function auditSelf(
  ctx: CliContext,
  store: Store,
  keys: KeyStore,
  dataDir: string,
  action: string,
  detail: Record<string, unknown>,
): Promise<void> {
  return appendAudit(ctx, store, keys, dataDir, [{ ...LOCAL_ADMIN, action, objectIds: [], detail }]);
}

function report(ctx: CliContext, v: ChainVerdict, what: string): void {
  if (!v.ok) throw new AuditChainBrokenError(v.problem);
  ctx.stdout.write(
    `intact: ${what}: ${v.entries} entries` +
      (v.firstSeq === undefined ? '' : ` (seq ${v.firstSeq}..${v.lastSeq})`) +
      `, ${v.checkpoints} signed checkpoints, last pinned seq ${v.lastCheckpointSeq ?? 'none'}\n`,
  );
  if (v.uncovered > 0)
    ctx.stderr.write(
      `acd audit: warning: ${v.uncovered} entries after the last checkpoint are not pinned yet (a cut among them would not show)\n`,
    );
}

/** `acd audit export`, `acd audit verify`. */
export function registerAudit(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('audit')
    .description('the tamper-evident audit log: export it with its signed checkpoints, verify it')
    .addHelpText(
      'after',
      `
Examples:
  acd audit export --from 2026-01-01 --to 2026-03-31 --out audit-q1.ndjson
  acd audit verify audit-q1.ndjson --keys public-keys.json     offline, on an inspector's machine
  acd audit verify                                             the local store against its checkpoints`,
    );
  cmd
    .command('export')
    .description(
      'write the entries of a period with their chain links, plus the signed checkpoints that pin both\n' +
        'ends, as NDJSON (header, checkpoint and entry lines; see docs/oversight.md). Opens the store under\n' +
        '--data directly (the centre must be stopped) and records the export as the local administrator.',
    )
    .option('--from <date>', 'first day or ISO time (UTC) of the period (default: the beginning)')
    .option('--to <date>', 'last day (inclusive) or ISO time (exclusive) of the period (default: now)')
    .requiredOption('-o, --out <file>', 'export file to write')
    .option('--data <dir>', 'data directory (store, audit/checkpoints.ndjson)', './data')
    .option('--keys-dir <dir>', 'key store with the audit key (default DATA/keys)')
    .action(async (opts: CommonOptions & { from?: string; to?: string; out: string }) => {
      const from = opts.from === undefined ? undefined : parseDateOption('--from', opts.from, false);
      const to = opts.to === undefined ? undefined : parseDateOption('--to', opts.to, true);
      if (from !== undefined && to !== undefined && from >= to)
        throw new UsageError('--from must be before --to');
      const keys = new KeyStore(opts.keysDir ?? join(opts.data, 'keys'), ctx.clock);
      const key = await keys.signingKey('audit');
      const x = await withStore(opts.data, async (store) => {
        await auditSelf(ctx, store, keys, opts.data, 'audit.export', {
          from: opts.from ?? null,
          to: opts.to ?? null,
        });
        return buildExport(store, checkpointFileOf(opts.data), {
          ...(from === undefined ? {} : { from }),
          ...(to === undefined ? {} : { to }),
          exportedBy: LOCAL_ADMIN.actor,
          key,
          now: ctx.clock.now(),
        });
      });
      const tmp = `${opts.out}.tmp-${process.pid}`;
      await writeFile(tmp, `${x.lines.join('\n')}\n`);
      await rename(tmp, opts.out);
      ctx.stderr.write(
        `acd audit: ${x.inPeriod} entries in the period; seq ${x.header.firstSeq}..${x.header.lastSeq} with ` +
          `${x.header.checkpointSeqs.length} checkpoints written to ${opts.out}\n`,
      );
    });
  cmd
    .command('verify')
    .argument('[file]', 'an export to verify offline; without it, the local store and its checkpoint file')
    .description(
      'check the hash chain and the signed checkpoints; exit 0 when intact, 1 naming the first bad line\n' +
        '(line number and entry id) when a line was altered, removed, reordered or the tail was cut',
    )
    .option('--keys <file>', 'public keys file (acd keys export-public); default: the local key store')
    .option('--data <dir>', 'data directory (without FILE)', './data')
    .option('--keys-dir <dir>', 'key store (default DATA/keys)')
    .action(async (file: string | undefined, opts: CommonOptions & { keys?: string }) => {
      const keysDir = opts.keysDir ?? join(opts.data, 'keys');
      let pub: PublicKeyInfo[];
      if (opts.keys !== undefined) {
        let text: string;
        try {
          text = await readFile(opts.keys, 'utf8');
        } catch (err) {
          throw new InputError(opts.keys, 'cannot read the public keys', { cause: err });
        }
        pub = parsePublicKeys(text);
      } else pub = await new KeyStore(keysDir, ctx.clock).publicKeys();
      if (file !== undefined) {
        let text: string;
        try {
          if ((await stat(file)).size > MAX_EXPORT_BYTES)
            throw new AuditExportError(`${file} is too large to verify`);
          text = await readFile(file, 'utf8');
        } catch (err) {
          if (err instanceof AuditExportError) throw err;
          throw new InputError(file, 'cannot read', { cause: err });
        }
        report(ctx, verifyExport(text, pub), file);
        return;
      }
      const keys = new KeyStore(keysDir, ctx.clock);
      const v = await withStore(opts.data, async (store) => {
        const entries = (await readAllAudit(store)).map((e) => ({ line: e.seq, value: e }));
        const verdict = verifyChain(entries, await readCheckpointFile(checkpointFileOf(opts.data)), pub, {
          firstSeq: 1,
        });
        await auditSelf(ctx, store, keys, opts.data, 'audit.verify', {
          ok: verdict.ok,
          ...(verdict.ok ? {} : { kind: verdict.problem.kind, line: verdict.problem.line }),
        });
        return verdict;
      });
      report(ctx, v, `${opts.data} (store positions and ${checkpointFileOf(opts.data)} lines)`);
    });
}
