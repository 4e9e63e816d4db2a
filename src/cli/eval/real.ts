/**
 * `acd eval --real` (issue 6, "a real evaluation set"): real Debian tools (nmap, hydra, hping3,
 * iodine, curl) run in network namespaces made for the run (src/eval/real), tcpdump captures each
 * attack, labels come from construction, and `acd analyze --lab` (the same analysis path) is
 * scored on every capture: an alert is a true positive when its detector is expected for the
 * capture and its subject is one of the label's subjects (DESIGN section 6); precision counts every
 * alert of the capture.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AcdError } from '../../common/errors.ts';
import type { Alert } from '../../common/schema/alert.ts';
import { createCorrelator } from '../../correlate/index.ts';
import {
  realEvalUnavailable,
  runRealEvalSet,
  type LabelsFile,
  type RealLabel,
} from '../../eval/real/index.ts';
import type { AcdConfig } from '../config.ts';
import type { CliContext } from '../context.ts';
import { runAnalysis } from '../analyze/run.ts';
import { scoreRun, totals, type ScoreRow } from './score.ts';

/** The real set cannot run here (no root, missing tools). */
export class RealEvalUnavailableError extends AcdError {
  constructor(reason: string) {
    super('ERR_REAL_EVAL_UNAVAILABLE', `eval --real: ${reason}`);
  }
}

/** Options of the real evaluation. */
export interface RealEvalCliOptions {
  format: 'table' | 'json';
  config: AcdConfig;
  /** A directory with `labels.json` from an earlier run (scripts/real-eval-captures.ts): no tools run. */
  captures?: string;
  quick?: boolean;
}

/** One capture's analysis and score. */
export interface RealEvalCapture {
  label: RealLabel;
  alerts: Alert[];
  rows: ScoreRow[];
}

/**
 * Time to detect in periods of a periodic scenario (the beacon: issue 6 wants it found within 20
 * of its periods): event time from the label's start to the end of the first true positive's first
 * evidence window, over the nominal period. Undefined when the label has no period or nothing was
 * found.
 */
export function periodsToDetect(label: RealLabel, row: ScoreRow): number | undefined {
  if (label.periodMs === undefined || !(label.periodMs > 0) || row.timeToDetectMs === null) return undefined;
  return row.timeToDetectMs / label.periodMs;
}

function formatTtd(label: RealLabel, row: ScoreRow): string {
  if (row.timeToDetectMs === null) return '-';
  const s = `${(row.timeToDetectMs / 1000).toFixed(1)} s`;
  const p = periodsToDetect(label, row);
  return p === undefined ? s : `${s} (${p.toFixed(1)} periods)`;
}

/** Analyses one capture the way `acd analyze --lab` does and scores it against its label. */
export async function scoreCapture(
  ctx: Pick<CliContext, 'clock' | 'logger'>,
  config: AcdConfig,
  dir: string,
  label: RealLabel,
): Promise<RealEvalCapture> {
  const result = await runAnalysis({
    files: [join(dir, label.file)],
    inputKind: 'auto',
    lab: true,
    detect: config.detect,
    collect: config.collect,
    clock: ctx.clock,
    logger: ctx.logger,
  });
  const correlator = createCorrelator(config.correlate, { clock: ctx.clock });
  for (const e of result.evidence) correlator.push(e);
  correlator.flush();
  const { alerts } = correlator.snapshot();
  const truth = [
    {
      scenario: label.scenario,
      kind: label.scenario,
      attackers: label.subjects,
      victims: [],
      start: Date.parse(label.start),
      end: Date.parse(label.end),
      expectedDetectors: label.expectedDetectors,
    },
  ];
  return { label, alerts, rows: scoreRun(label.scenario, truth, alerts, 60_000) };
}

/** Runs (or reads) the real set, analyses and scores every capture, prints the result. */
export async function runRealEval(ctx: CliContext, o: RealEvalCliOptions): Promise<RealEvalCapture[]> {
  let dir: string;
  let labels: LabelsFile;
  let temp: string | undefined;
  if (o.captures !== undefined) {
    dir = o.captures;
    labels = JSON.parse(await readFile(join(dir, 'labels.json'), 'utf8')) as LabelsFile;
  } else {
    const why = realEvalUnavailable();
    if (why !== undefined) throw new RealEvalUnavailableError(why);
    temp = await mkdtemp(join(tmpdir(), 'acd-eval-real-'));
    ctx.stderr.write(
      'acd eval: running the real tools in network namespaces (about 6–7 minutes; the beacon alone takes 5)…\n',
    );
    const r = await runRealEvalSet({
      outDir: temp,
      ...(o.quick ? { quick: true } : {}),
      signal: ctx.signal,
      onProgress: (p) => ctx.stderr.write(`acd eval: ${JSON.stringify(p)}\n`),
    });
    labels = r.labels;
    dir = dirname(r.labelsPath);
  }
  const out: RealEvalCapture[] = [];
  try {
    for (const label of labels.captures) out.push(await scoreCapture(ctx, o.config, dir, label));
  } finally {
    if (temp !== undefined) await rm(temp, { recursive: true, force: true });
  }
  const rows = out.flatMap((c) => c.rows);
  if (o.format === 'json') {
    ctx.stdout.write(
      JSON.stringify(
        {
          captures: out.map((c) => ({
            scenario: c.label.scenario,
            tool: `${c.label.tool} ${c.label.toolVersion}`,
            packets: c.label.packets,
            ...(c.label.periodMs !== undefined ? { periodMs: c.label.periodMs } : {}),
            rows: c.rows.map((r) => {
              const p = periodsToDetect(c.label, r);
              return p === undefined ? r : { ...r, periodsToDetect: Math.round(p * 10) / 10 };
            }),
          })),
          totals: totals(rows),
        },
        null,
        2,
      ) + '\n',
    );
  } else {
    const lines = [
      'real set: capture         tool              detector        alerts  TP  precision  recall  time to detect',
    ];
    for (const c of out)
      for (const r of c.rows)
        lines.push(
          `${c.label.scenario.padEnd(26)} ${c.label.tool.padEnd(17)} ${r.detector.padEnd(15)} ${String(r.alerts).padStart(6)} ${String(r.truePositives).padStart(3)}  ${(r.precision * 100).toFixed(1).padStart(8)}%  ${r.recall === null ? '     -' : `${(r.recall * 100).toFixed(1).padStart(6)}%`}  ${formatTtd(c.label, r)}`,
        );
    const t = totals(rows);
    lines.push(
      `overall: alert precision ${(t.precision * 100).toFixed(1)}%, recall ${t.recall === null ? '-' : `${(t.recall * 100).toFixed(1)}%`}`,
    );
    ctx.stdout.write(lines.join('\n') + '\n');
  }
  return out;
}
