import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { registerAnalyze } from './analyze.ts';
import { registerAudit } from './audit.ts';
import { registerCases } from './cases.ts';
import { registerCentre } from './centre.ts';
import { registerCollect } from './collect.ts';
import { registerConfig } from './config.ts';
import { registerDecode } from './decode.ts';
import { registerDemo } from './demo.ts';
import { registerEdge } from './edge.ts';
import { registerEval } from './eval.ts';
import { registerGenerate } from './generate.ts';
import { registerKeys } from './keys.ts';
import { registerPrefixes } from './prefixes.ts';
import { registerReidentify } from './reidentify.ts';
import { registerRetention } from './retention.ts';
import { registerReport } from './report.ts';
import { registerUsers } from './users.ts';

/** Registers every `acd` sub-command. Each lives in its own file in this folder. */
export function registerCommands(program: Command, ctx: CliContext): void {
  registerConfig(program, ctx);
  registerDecode(program, ctx);
  registerCollect(program, ctx);
  registerDemo(program, ctx);
  registerCentre(program, ctx);
  registerEdge(program, ctx);
  registerPrefixes(program, ctx);
  registerGenerate(program, ctx);
  registerAnalyze(program, ctx);
  registerEval(program, ctx);
  registerKeys(program, ctx);
  registerAudit(program, ctx);
  registerRetention(program, ctx);
  registerUsers(program, ctx);
  registerCases(program, ctx);
  registerReport(program, ctx);
  registerReidentify(program, ctx);
}
