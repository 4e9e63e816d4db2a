import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.ts';
import {
  DEFAULT_KEYS_DIR,
  KEY_PURPOSES,
  KeyStore,
  type KeyInfo,
  type KeyPurpose,
} from '../../oversee/keys/index.ts';
import type { CliContext } from '../context.ts';

function keyLine(k: KeyInfo): string {
  return `${k.keyId}\t${k.purpose}\t${k.status}\t${k.validFrom}\t${k.validUntil}\t${k.signer}`;
}

/**
 * `acd keys init|list|rotate|add-signer|retire-signer|export-public`: the local store of commission
 * and audit keys and of the personal re-identification keys.
 */
export function registerKeys(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('keys')
    .description(
      'the local key store: commission signing keys (approvals, revocations), the centre audit key\n' +
        '(audit-log checkpoints) and personal re-identification keys (one per authorised person),\n' +
        'Ed25519; private keys in files of mode 0600 in a directory of mode 0700',
    )
    .addHelpText(
      'after',
      `
Examples:
  acd keys init                          create ./data/keys with a commission and an audit key
  acd keys list --dir /var/lib/acd/keys
  acd keys rotate audit                  retire the audit key (its public part is kept) and make a new one
  acd keys add-signer alice              a re-identification key for user alice (export-public afterwards)
  acd keys retire-signer alice           alice may no longer sign re-identification requests
  acd keys export-public --out keys.json the public keys for inspectors and edges`,
    );
  const dirOpt = [
    '--dir <dir>',
    `key store directory (default ${DEFAULT_KEYS_DIR})`,
    DEFAULT_KEYS_DIR,
  ] as const;
  cmd
    .command('init')
    .description('create the key store and an active key for every purpose that has none (idempotent)')
    .option(...dirOpt)
    .action(async (opts: { dir: string }) => {
      const ks = new KeyStore(opts.dir, ctx.clock);
      const created = await ks.init();
      for (const k of created) ctx.stdout.write(`${keyLine(k)}\n`);
      ctx.stderr.write(
        `acd keys: ${created.length === 0 ? 'nothing to do, every purpose has an active key' : `${created.length} key(s) created`} in ${opts.dir}\n`,
      );
    });
  cmd
    .command('list')
    .description(
      'every key, active and retired (tab-separated: key id, purpose, status, valid from, valid until, signer)',
    )
    .option(...dirOpt)
    .option('--json', 'print JSON instead')
    .action(async (opts: { dir: string; json?: boolean }) => {
      const keys = await new KeyStore(opts.dir, ctx.clock).list();
      if (opts.json) ctx.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
      else for (const k of keys) ctx.stdout.write(`${keyLine(k)}\n`);
    });
  cmd
    .command('rotate')
    .argument('<purpose>', `which key: ${KEY_PURPOSES.join(' or ')}`)
    .description(
      'retire the active key of PURPOSE (its validity ends now, its private key is destroyed, its public\n' +
        'key stays listed so that what it signed still verifies) and create its successor, valid from now.\n' +
        'Export the public keys afterwards and distribute them (edges, inspectors).',
    )
    .option(...dirOpt)
    .action(async (purpose: string, opts: { dir: string }) => {
      if (!KEY_PURPOSES.includes(purpose as KeyPurpose))
        throw new UsageError(`keys rotate: purpose must be ${KEY_PURPOSES.join(' or ')}`);
      const { retired, created } = await new KeyStore(opts.dir, ctx.clock).rotate(purpose as KeyPurpose);
      ctx.stdout.write(`${keyLine(created)}\n`);
      ctx.stderr.write(
        `acd keys: ${purpose} key ${created.keyId} active${retired ? `; ${retired.keyId} retired` : ''}\n`,
      );
    });
  cmd
    .command('add-signer')
    .argument('<user>', 'the user id (acd users) who will sign re-identification requests')
    .description(
      'create the personal re-identification key of USER (scope reidentification, signer = USER):\n' +
        'a request is sent to an edge only when two distinct people holding such keys signed it.\n' +
        'Export the public keys afterwards so that the edges trust the new key.',
    )
    .option(...dirOpt)
    .action(async (user: string, opts: { dir: string }) => {
      const created = await new KeyStore(opts.dir, ctx.clock).addSigner(user);
      ctx.stdout.write(`${keyLine(created)}\n`);
      ctx.stderr.write(`acd keys: re-identification key ${created.keyId} of ${user} active\n`);
    });
  cmd
    .command('retire-signer')
    .argument('<user>', 'the user id whose re-identification key ends now')
    .description(
      "retire USER's re-identification key: its validity ends now, its private key is destroyed,\n" +
        'its public key stays listed so that requests it signed still verify',
    )
    .option(...dirOpt)
    .action(async (user: string, opts: { dir: string }) => {
      const retired = await new KeyStore(opts.dir, ctx.clock).retireSigner(user);
      ctx.stdout.write(`${keyLine(retired)}\n`);
      ctx.stderr.write(`acd keys: re-identification key ${retired.keyId} of ${user} retired\n`);
    });
  cmd
    .command('export-public')
    .description(
      'write the public keys (key id, purpose, signer, validity, status) as JSON (acd.public-keys/1)',
    )
    .option(...dirOpt)
    .requiredOption('-o, --out <file>', 'where to write (- for stdout)')
    .action(async (opts: { dir: string; out: string }) => {
      const file = await new KeyStore(opts.dir, ctx.clock).exportPublic();
      const text = `${JSON.stringify(file, null, 2)}\n`;
      if (opts.out === '-') ctx.stdout.write(text);
      else {
        await writeFile(opts.out, text);
        ctx.stderr.write(`acd keys: ${file.keys.length} public key(s) written to ${opts.out}\n`);
      }
    });
}
