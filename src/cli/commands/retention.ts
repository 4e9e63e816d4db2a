import { join } from 'node:path';
import type { Command } from 'commander';
import { loadLegalParameters } from '../../common/legal/index.ts';
import type { AuditInput } from '../../oversee/audit/index.ts';
import { KeyStore, parsePublicKeys, type PublicKeyInfo } from '../../oversee/keys/index.ts';
import {
  CertificateInvalidError,
  certificateFileOf,
  certificateJson,
  createRetentionJob,
  readCertificateFile,
  verifyCertificate,
  type RetentionJob,
} from '../../oversee/retention/index.ts';
import type { DeletionCertificateBody } from '../../common/schema/case.ts';
import type { Store } from '../../store/types.ts';
import { InputError } from '../../common/errors.ts';
import { readFile } from 'node:fs/promises';
import type { CliContext } from '../context.ts';
import { appendAudit, LOCAL_ADMIN, withStore } from './audit.ts';

interface Options {
  data: string;
  keys?: string;
  legalParameters?: string;
}

/**
 * Opens the DuckDB store under `--data` (the centre must be stopped), builds the job on the
 * system's (injected) clock and the local audit key, runs `f`, then writes the audit entries `f`
 * produced as the local administrator, pinned by a checkpoint.
 */
async function withJob<T>(
  ctx: CliContext,
  opts: Options,
  f: (job: RetentionJob, store: Store, audit: (i: AuditInput) => void) => Promise<T>,
): Promise<T> {
  const keys = new KeyStore(opts.keys ?? join(opts.data, 'keys'), ctx.clock);
  const legal = await loadLegalParameters(opts.legalParameters);
  return withStore(opts.data, async (store) => {
    const entries: AuditInput[] = [];
    const job = createRetentionJob({
      store,
      clock: ctx.clock,
      legal,
      signer: { key: () => keys.signingKey('audit') },
      dataDir: opts.data,
      audit: (i) => entries.push(i),
      logger: ctx.logger,
    });
    const v = await f(job, store, (i) => entries.push(i));
    await appendAudit(ctx, store, keys, opts.data, entries);
    return v;
  });
}

function common(c: Command): Command {
  return c
    .option('--data <dir>', 'data directory (acd.duckdb, retention/, audit/)', './data')
    .option('--keys <dir>', 'key store with the audit key (default DATA/keys)')
    .option(
      '--legal-parameters <file>',
      'legal-parameter override file (JSON or YAML) added to the shipped table',
    );
}

/** `acd retention run|status|verify-certificates`. */
export function registerRetention(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('retention')
    .description('the retention job: delete what is past its deadline with a signed deletion certificate')
    .addHelpText(
      'after',
      `
These commands open the store under --data directly (stop the centre first) and are audited as the
local administrator. Data is kept past its deadline only by an approved retention-extension case:
there is no option to hold or skip anything.

Examples:
  acd retention status --data ./data                 deadlines, holds, last certificate (JSON)
  acd retention run --data ./data                    delete now; prints the certificate (JSON)
  acd retention verify-certificates --data ./data    the certificate file against the store and keys
  acd retention verify-certificates certs.ndjson --public-keys public-keys.json   offline`,
    );

  common(cmd.command('run'))
    .description('run the retention job once: prints the signed certificate, or {"deleted":false}')
    .action(async (opts: Options) => {
      const r = await withJob(ctx, opts, (job) => job.run(LOCAL_ADMIN));
      if (r.certificate === null) {
        ctx.stdout.write(`${JSON.stringify({ deleted: false })}\n`);
        ctx.stderr.write('acd retention: nothing was due; no certificate issued\n');
        return;
      }
      ctx.stdout.write(`${JSON.stringify(r.certificate)}\n`);
      ctx.stderr.write(
        `acd retention: deleted ${r.deleted} rows/items (${Object.entries(r.certificate.counts)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}); remaining ${r.result.remainingRows}; certificate ${r.certificate.id}\n`,
      );
    });

  common(cmd.command('status'))
    .description('print the retention status as JSON: partitions and deadlines, holds, last certificate')
    .action(async (opts: Options) => {
      const s = await withJob(ctx, opts, async (job, _store, audit) => {
        const st = await job.status();
        audit({ ...LOCAL_ADMIN, action: 'retention.status', objectIds: [], detail: {} });
        return st;
      });
      ctx.stdout.write(
        `${JSON.stringify(
          {
            ...s,
            now: new Date(s.now).toISOString(),
            derivedBefore: new Date(s.derivedBefore).toISOString(),
            partitions: s.partitions.map((p) => ({ ...p, expiresAt: new Date(p.expiresAt).toISOString() })),
            holds: s.holds.map((h) => ({ ...h, validUntil: new Date(h.validUntil).toISOString() })),
            lastCertificate: s.lastCertificate === null ? null : certificateJson(s.lastCertificate),
          },
          null,
          2,
        )}\n`,
      );
    });

  common(cmd.command('verify-certificates'))
    .argument(
      '[file]',
      'a certificate file to verify offline; without it, DATA/retention/certificates.ndjson and the store',
    )
    .option('--public-keys <file>', 'public keys file (acd keys export-public); default: the local key store')
    .description(
      'check every certificate (format, audit key valid at the run, Ed25519 signature); without FILE also\n' +
        'that the file and the stored certificates are the same. Exit 0 when all verify, 1 naming the first bad line',
    )
    .action(async (file: string | undefined, opts: Options & { publicKeys?: string }) => {
      let pub: PublicKeyInfo[];
      if (opts.publicKeys !== undefined) {
        let text: string;
        try {
          text = await readFile(opts.publicKeys, 'utf8');
        } catch (err) {
          throw new InputError(opts.publicKeys, 'cannot read the public keys', { cause: err });
        }
        pub = parsePublicKeys(text);
      } else pub = await new KeyStore(opts.keys ?? join(opts.data, 'keys'), ctx.clock).publicKeys();
      const path = file ?? certificateFileOf(opts.data);
      const lines = await readCertificateFile(path);
      const ids = new Map<string, DeletionCertificateBody>();
      for (const l of lines) {
        const v = verifyCertificate(l.value, pub);
        if (!v.ok) throw new CertificateInvalidError(l.line, `${path}: line ${l.line}: ${v.reason}`);
        ids.set(v.certificate.id, v.certificate);
      }
      if (file === undefined) {
        await withJob(ctx, opts, async (_job, store, audit) => {
          let cursor: string | undefined;
          let stored = 0;
          for (;;) {
            const page = await store.listCases({
              kind: 'deletion-certificate',
              limit: 1000,
              ...(cursor !== undefined ? { cursor } : {}),
            });
            for (const c of page.items) {
              stored++;
              const inFile = ids.get(c.id);
              if (inFile === undefined || JSON.stringify(inFile) !== JSON.stringify(c.body))
                throw new CertificateInvalidError(
                  0,
                  `stored certificate ${c.id} is missing from or differs in ${path}`,
                );
            }
            if (page.next === null) break;
            cursor = page.next;
          }
          if (stored !== ids.size)
            throw new CertificateInvalidError(
              0,
              `${path} holds ${ids.size} certificates, the store ${stored}`,
            );
          audit({
            ...LOCAL_ADMIN,
            action: 'retention.verify',
            objectIds: [],
            detail: { certificates: stored },
          });
        });
      }
      ctx.stdout.write(`intact: ${path}: ${lines.length} certificates verify\n`);
    });
}
