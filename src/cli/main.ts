import { Command, CommanderError } from 'commander';
import { AcdError, UsageError } from '../common/errors.ts';
import { systemClock } from '../common/clock.ts';
import { createLogger } from '../common/logging.ts';
import type { CliContext } from './context.ts';
import { registerCommands } from './commands/index.ts';

/** Exit codes of DESIGN section 7. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * Runs the `acd` command line and returns the exit code. Commands throw `UsageError` for usage
 * problems (exit 2) and other errors for runtime failures (exit 1).
 */
export async function main(argv: string[], overrides: Partial<CliContext> = {}): Promise<number> {
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  if (!overrides.signal) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  const stderr = overrides.stderr ?? process.stderr;
  if (!overrides.stdout) {
    // A closed pipe (`acd decode x | head`) ends the command quietly, as Unix tools do.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
    });
  }
  const ctx: CliContext = {
    stdout: overrides.stdout ?? process.stdout,
    stderr,
    clock: overrides.clock ?? systemClock,
    logger: overrides.logger ?? createLogger(),
    interactive: overrides.interactive ?? Boolean(process.stderr.isTTY),
    signal: overrides.signal ?? abort.signal,
  };
  const program = new Command('acd')
    .description(
      'acd: active cyber defence. Collects flow and DNS metadata, selects it lawfully at the provider ' +
        'edge, detects threats, and runs the national centre under independent oversight.',
    )
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage and examples)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => stderr.write(s),
    });
  program.addHelpText(
    'after',
    `
Examples:
  acd decode capture.pcap                 decode NetFlow/IPFIX/sFlow exports (or traffic) to NDJSON
  acd collect --listen udp://0.0.0.0:2055 live collection with a status line
  acd generate --scenario ddos-flood --duration 60s --to udp://127.0.0.1:2055
                                          synthetic exports with labelled attacks
  acd edge --input export.pcap --out selected.ndjson
                                          lawful selection offline (demonstration feed set)
  acd config check acd.yaml               validate a configuration file
  acd <command> --help                    details and examples for one command`,
  );
  registerCommands(program, ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0)
        return EXIT_OK;
      return EXIT_USAGE;
    }
    if (err instanceof UsageError) {
      stderr.write(`acd: ${err.message}\n`);
      return EXIT_USAGE;
    }
    const code = err instanceof AcdError ? ` [${err.code}]` : '';
    stderr.write(`acd: ${err instanceof Error ? err.message : String(err)}${code}\n`);
    return EXIT_FAILURE;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
