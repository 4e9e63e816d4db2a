import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { registerAnalyze } from './analyze.ts';
import { registerCollect } from './collect.ts';
import { registerConfig } from './config.ts';
import { registerDecode } from './decode.ts';
import { registerDemo } from './demo.ts';
import { registerEdge } from './edge.ts';
import { registerEval } from './eval.ts';
import { registerGenerate } from './generate.ts';
import { registerPrefixes } from './prefixes.ts';

/** Registers every `acd` sub-command. Each lives in its own file in this folder. */
export function registerCommands(program: Command, ctx: CliContext): void {
  registerConfig(program, ctx);
  registerDecode(program, ctx);
  registerCollect(program, ctx);
  registerDemo(program, ctx);
  registerEdge(program, ctx);
  registerPrefixes(program, ctx);
  registerGenerate(program, ctx);
  registerAnalyze(program, ctx);
  registerEval(program, ctx);
}
