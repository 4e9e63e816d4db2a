import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.ts';
import { parseDuration } from '../../common/config.ts';
import { isoTime } from '../../common/clock.ts';
import { ACCESS_FILE_NAME, AccessRegistry, MAX_TOKEN_LIFETIME_MS } from '../../oversee/access/index.ts';
import { ROLES, isPurpose, isRole, type Purpose } from '../../serve/index.ts';
import type { CliContext } from '../context.ts';

/** Default token life of `acd users token create`. */
export const DEFAULT_TOKEN_LIFETIME = '90d';

interface DataOptions {
  data: string;
}

function registry(ctx: CliContext, data: string): AccessRegistry {
  return AccessRegistry.open(join(data, ACCESS_FILE_NAME), { clock: ctx.clock });
}

function purposesOf(text: string | undefined): Purpose[] | undefined {
  if (text === undefined) return undefined;
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const p of list)
    if (!isPurpose(p)) throw new UsageError(`users: unknown purpose ${JSON.stringify(p)}`);
  return list as Purpose[];
}

function purposeOf(text: string | undefined): Purpose | undefined {
  if (text === undefined) return undefined;
  if (!isPurpose(text)) throw new UsageError(`users: unknown purpose ${JSON.stringify(text)}`);
  return text;
}

/** The password from `--password-file` (its first line): never from the command line, where `ps` would show it. */
async function passwordFrom(file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined;
  const text = await readFile(file, 'utf8').catch((err: unknown) => {
    throw new UsageError(`users: cannot read --password-file ${file} (${(err as Error).message})`);
  });
  return text.split(/\r?\n/)[0] ?? '';
}

/**
 * `acd users add|list|revoke|passwd` and `acd users token create|revoke`: the user and token
 * registry of the centre (`<data>/access.json`). A running centre picks changes up within a second.
 */
export function registerUsers(program: Command, ctx: CliContext): void {
  const dataOpt = ['--data <dir>', 'data directory holding access.json', './data'] as const;
  const cmd = program
    .command('users')
    .description('users and API tokens of the centre: roles, organisations, purposes, revocation')
    .addHelpText(
      'after',
      `
Roles: ${ROLES.join(', ')}.
Purposes: monitoring, incident-handling, investigation, oversight, administration (each role may
act only for some of them; see docs/oversight.md).

Examples:
  acd users add alice --role analyst --name "Alice A." --password-file ./alice.pw
  acd users add op-grid --role operator --organisation op-0001
  acd users token create op-grid --expires 30d --label "ticket bridge"
  acd users token revoke tok-0123456789abcdef
  acd users revoke alice
  acd users list`,
    );

  cmd
    .command('add')
    .argument('<id>', 'user id (lower-case letters, digits, . _ -)')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--name <name>', 'display name (default: the id)')
    .option('--organisation <id>', 'operator id (operator) or agency (partner); required for those roles')
    .option('--purposes <list>', 'comma-separated purposes (default: every purpose of the role)')
    .option('--default-purpose <purpose>', 'purpose used when a request names none (default: the first)')
    .option(
      '--password-file <file>',
      'file whose first line is the password (≥ 12 characters); omit for token-only users',
    )
    .option(...dataOpt)
    .description('add a user (ids are never reused)')
    .action(
      async (
        id: string,
        opts: DataOptions & {
          role: string;
          name?: string;
          organisation?: string;
          purposes?: string;
          defaultPurpose?: string;
          passwordFile?: string;
        },
      ) => {
        if (!isRole(opts.role)) throw new UsageError(`users add: unknown role ${JSON.stringify(opts.role)}`);
        const password = await passwordFrom(opts.passwordFile);
        const purposes = purposesOf(opts.purposes);
        const defaultPurpose = purposeOf(opts.defaultPurpose);
        const u = await registry(ctx, opts.data).addUser({
          id,
          role: opts.role,
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          ...(opts.organisation !== undefined ? { organisation: opts.organisation } : {}),
          ...(purposes !== undefined ? { purposes } : {}),
          ...(defaultPurpose !== undefined ? { defaultPurpose } : {}),
          ...(password !== undefined ? { password } : {}),
        });
        ctx.stderr.write(
          `acd users: added ${u.id} (${u.role}${u.organisation !== undefined ? ` of ${u.organisation}` : ''}; ` +
            `purposes ${u.purposes.join(', ')}; ${u.password ? 'password set' : 'tokens only'})\n`,
        );
      },
    );

  cmd
    .command('passwd')
    .argument('<id>', 'user id')
    .requiredOption('--password-file <file>', 'file whose first line is the new password')
    .option(...dataOpt)
    .description('set or replace a user’s password')
    .action(async (id: string, opts: DataOptions & { passwordFile: string }) => {
      const password = (await passwordFrom(opts.passwordFile)) ?? '';
      await registry(ctx, opts.data).setPassword(id, password);
      ctx.stderr.write(`acd users: password of ${id} set\n`);
    });

  cmd
    .command('list')
    .option(...dataOpt)
    .option('--json', 'print JSON (users and tokens, no secrets)')
    .description('list users and their tokens (never hashes or tokens)')
    .action((opts: DataOptions & { json?: boolean }) => {
      const reg = registry(ctx, opts.data);
      const users = reg.listUsers();
      const tokens = reg.listTokens();
      if (opts.json === true) {
        ctx.stdout.write(`${JSON.stringify({ users, tokens }, null, 2)}\n`);
        return;
      }
      for (const u of users) {
        const state = u.revokedAt !== undefined ? `revoked ${isoTime(u.revokedAt)}` : 'active';
        ctx.stdout.write(
          `${u.id}\t${u.role}\t${u.organisation ?? '-'}\t${u.purposes.join(',')}\t${state}\t${u.name}\n`,
        );
        for (const t of tokens.filter((x) => x.user === u.id))
          ctx.stdout.write(
            `  ${t.id}\t${t.purposes.join(',')}\texpires ${isoTime(t.expiresAt)}\t` +
              `${t.revoked ? 'revoked' : t.active ? 'active' : 'inactive'}${t.label !== undefined ? `\t${t.label}` : ''}\n`,
          );
      }
    });

  cmd
    .command('revoke')
    .argument('<id>', 'user id')
    .option(...dataOpt)
    .description('revoke a user: password login and every token stop working')
    .action(async (id: string, opts: DataOptions) => {
      await registry(ctx, opts.data).revokeUser(id);
      ctx.stderr.write(`acd users: revoked ${id} and its tokens\n`);
    });

  const token = cmd.command('token').description('API tokens of a user');
  token
    .command('create')
    .argument('<user>', 'user id')
    .option('--purposes <list>', 'comma-separated purposes (default: the user’s)')
    .option('--default-purpose <purpose>', 'purpose used when a request names none')
    .option('--expires <duration>', `lifetime (e.g. 30d, 12h; at most 366d)`, DEFAULT_TOKEN_LIFETIME)
    .option('--label <text>', 'what the token is for')
    .option(...dataOpt)
    .description('create a token; prints it once on stdout (only its SHA-256 digest is kept)')
    .action(
      async (
        user: string,
        opts: DataOptions & { purposes?: string; defaultPurpose?: string; expires: string; label?: string },
      ) => {
        const lifetimeMs = parseDuration(opts.expires);
        if (lifetimeMs === undefined || lifetimeMs <= 0 || lifetimeMs > MAX_TOKEN_LIFETIME_MS)
          throw new UsageError(`users token create: --expires ${opts.expires}: a duration up to 366d`);
        const purposes = purposesOf(opts.purposes);
        const defaultPurpose = purposeOf(opts.defaultPurpose);
        const { token: text, summary } = await registry(ctx, opts.data).createToken({
          user,
          lifetimeMs,
          ...(purposes !== undefined ? { purposes } : {}),
          ...(defaultPurpose !== undefined ? { defaultPurpose } : {}),
          ...(opts.label !== undefined ? { label: opts.label } : {}),
        });
        ctx.stderr.write(
          `acd users: token ${summary.id} for ${summary.user} (${summary.role}; ${summary.purposes.join(', ')}), ` +
            `expires ${isoTime(summary.expiresAt)}; it is shown once:\n`,
        );
        ctx.stdout.write(`${text}\n`);
      },
    );
  token
    .command('revoke')
    .argument('<id>', 'token id (tok-…, from acd users list)')
    .option(...dataOpt)
    .description('revoke a token')
    .action(async (id: string, opts: DataOptions) => {
      await registry(ctx, opts.data).revokeToken(id);
      ctx.stderr.write(`acd users: revoked token ${id}\n`);
    });
}
