import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { registerConfig } from './config.ts';

/** Registers every `acd` sub-command. Each lives in its own file in this folder. */
export function registerCommands(program: Command, ctx: CliContext): void {
  registerConfig(program, ctx);
}
