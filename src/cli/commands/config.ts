import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { parse } from 'yaml';
import { dumpConfig, envName, leafPaths } from '../../common/config.ts';
import type { CliContext } from '../context.ts';
import { AcdConfigSchema, loadAcdConfig } from '../config.ts';
import { CentreConfigSchema, loadCentreConfig } from '../centre/config.ts';

/** Which schema a file is for: `acd centre` has its own file (bus, centre, …). */
type ConfigKind = 'acd' | 'centre';

/** `centre` when the file has a top-level `centre` or `bus` section, else `acd`. */
function kindOf(file: string | undefined, asked: ConfigKind | 'auto'): ConfigKind {
  if (asked !== 'auto') return asked;
  if (file === undefined) return 'acd';
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch {
    return 'acd'; // the loader reports the unreadable or malformed file with its own error
  }
  return typeof doc === 'object' && doc !== null && ('centre' in doc || 'bus' in doc) ? 'centre' : 'acd';
}

function load(kind: ConfigKind, file: string | undefined): unknown {
  const source = file === undefined ? {} : { file };
  return kind === 'centre' ? loadCentreConfig(source) : loadAcdConfig(source);
}

const forOption = (): Option =>
  new Option(
    '--for <component>',
    'which file: auto (centre when it has a centre or bus section), acd, centre',
  )
    .choices(['auto', 'acd', 'centre'])
    .default('auto');

/** `acd config check FILE`, `acd config dump [FILE]`, `acd config env`. */
export function registerConfig(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('config')
    .description('check and print configuration (YAML file + ACD_… environment overrides)')
    .addHelpText(
      'after',
      `
Examples:
  acd config check acd.yaml        validate; names the bad key and why (exit 1 when invalid)
  acd config check centre.yaml     the same for an acd centre file (recognised by its centre/bus sections)
  acd config dump                  print the effective configuration (defaults + environment)
  acd config dump acd.yaml         the same with a file applied
  acd config dump --for centre     the effective configuration of acd centre
  acd config env                   list every environment variable that overrides a key`,
    );
  cmd
    .command('check')
    .argument('<file>', 'YAML configuration file')
    .description('validate a configuration file (with environment overrides applied)')
    .addOption(forOption())
    .action((file: string, opts: { for: ConfigKind | 'auto' }) => {
      const kind = kindOf(file, opts.for);
      load(kind, file);
      ctx.stdout.write(`${file}: ok${kind === 'centre' ? ' (acd centre file)' : ''}\n`);
    });
  cmd
    .command('dump')
    .argument('[file]', 'YAML configuration file')
    .description('print the effective configuration as YAML (durations in milliseconds)')
    .addOption(forOption())
    .action((file: string | undefined, opts: { for: ConfigKind | 'auto' }) => {
      ctx.stdout.write(dumpConfig(load(kindOf(file, opts.for), file)));
    });
  cmd
    .command('env')
    .description('list the environment variables that override configuration keys')
    .addOption(forOption())
    .action((opts: { for: ConfigKind | 'auto' }) => {
      const schema = opts.for === 'centre' ? CentreConfigSchema : AcdConfigSchema;
      for (const p of leafPaths(schema)) ctx.stdout.write(`${envName(p)}\t${p.join('.')}\n`);
    });
}
