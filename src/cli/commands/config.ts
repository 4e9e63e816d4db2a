import type { Command } from 'commander';
import { dumpConfig, envName, leafPaths } from '../../common/config.ts';
import type { CliContext } from '../context.ts';
import { AcdConfigSchema, loadAcdConfig } from '../config.ts';

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
  acd config dump                  print the effective configuration (defaults + environment)
  acd config dump acd.yaml         the same with a file applied
  acd config env                   list every environment variable that overrides a key`,
    );
  cmd
    .command('check')
    .argument('<file>', 'YAML configuration file')
    .description('validate a configuration file (with environment overrides applied)')
    .action((file: string) => {
      loadAcdConfig({ file });
      ctx.stdout.write(`${file}: ok\n`);
    });
  cmd
    .command('dump')
    .argument('[file]', 'YAML configuration file')
    .description('print the effective configuration as YAML (durations in milliseconds)')
    .action((file: string | undefined) => {
      ctx.stdout.write(dumpConfig(loadAcdConfig(file === undefined ? {} : { file })));
    });
  cmd
    .command('env')
    .description('list the environment variables that override configuration keys')
    .action(() => {
      for (const p of leafPaths(AcdConfigSchema)) ctx.stdout.write(`${envName(p)}\t${p.join('.')}\n`);
    });
}
