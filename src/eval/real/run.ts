/**
 * `runRealEvalSet`: builds the lab topology, runs the chosen scenarios one after another with
 * tcpdump on the victim's veth, writes one pcap per scenario plus `labels.json`, and removes every
 * namespace, veth and process it made — also on failure, timeout or abort.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { RealEvalAbortedError, RealEvalError } from './errors.ts';
import type { LabelsFile, RealLabel } from './labels.ts';
import { LABELS_VERSION } from './labels.ts';
import type { Topology } from './netns.ts';
import { createTopology, destroyTopology, planTopology, sweepStaleNamespaces } from './netns.ts';
import { ProcessGroups } from './proc.ts';
import type { RealScenarioName, ScenarioContext } from './scenarios.ts';
import { REAL_SCENARIOS, SCENARIOS } from './scenarios.ts';
import type { ToolName } from './tools.ts';
import { isRoot, missingTools, packageVersion, requireTool, TOOL_PACKAGES } from './tools.ts';

/** Time after an attack ends before tcpdump is stopped, so late replies are in the capture. */
export const SETTLE_MS = 1000;
/** Time limit of a tcpdump process (longer than any scenario's). */
const TCPDUMP_TIMEOUT_MS = 10 * 60_000;

/** A step of the run, for a progress line. */
export interface RealEvalProgress {
  phase: 'setup' | 'scenario-start' | 'scenario-end' | 'cleanup';
  scenario?: RealScenarioName;
  message: string;
}

/** Options of {@link runRealEvalSet}. */
export interface RealEvalOptions {
  /** Directory for the captures and `labels.json` (created if absent). */
  outDir: string;
  /** Scenarios to run, in order; default all of `REAL_SCENARIOS`. */
  scenarios?: readonly RealScenarioName[];
  /** Smaller counts and fewer beacon periods (the test's short version). */
  quick?: boolean;
  onProgress?: (p: RealEvalProgress) => void;
  /** Aborting stops the current tool and cleans up; the promise rejects with `RealEvalAbortedError`. */
  signal?: AbortSignal;
}

/** What {@link runRealEvalSet} produced. */
export interface RealEvalResult {
  labels: LabelsFile;
  /** Absolute path of `labels.json`. */
  labelsPath: string;
  /** Wall time of the whole run including setup and cleanup. */
  durationMs: number;
}

/** Every tool the given scenarios need, besides `ip` and `tcpdump`. */
export function toolsFor(scenarios: readonly RealScenarioName[]): ToolName[] {
  const set = new Set<ToolName>(['ip', 'tcpdump']);
  for (const s of scenarios) for (const t of SCENARIOS[s].tools) set.add(t);
  return [...set];
}

/**
 * Checks that the run can happen here: root, and every tool installed. Returns the reason when it
 * cannot (for a test's skip message), undefined when it can.
 */
export function realEvalUnavailable(
  scenarios: readonly RealScenarioName[] = REAL_SCENARIOS,
): string | undefined {
  if (!isRoot()) return 'the real evaluation set needs root (network namespaces, raw sockets, tcpdump)';
  const missing = missingTools(toolsFor(scenarios));
  if (missing.length > 0)
    return `missing tools: ${missing.join(', ')} (apt-get install ${[...new Set(missing.map((t) => TOOL_PACKAGES[t]))].join(' ')})`;
  return undefined;
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new RealEvalAbortedError();
}

/** Runs the real evaluation set; see the module comment. */
export async function runRealEvalSet(opts: RealEvalOptions): Promise<RealEvalResult> {
  const began = Date.now();
  const scenarios = [...(opts.scenarios ?? REAL_SCENARIOS)];
  const progress = opts.onProgress ?? (() => undefined);
  const signal = opts.signal;
  checkAborted(signal);
  if (!isRoot()) throw new RealEvalError('the real evaluation set needs root');
  for (const t of toolsFor(scenarios)) requireTool(t);

  const outDir = resolve(opts.outDir);
  mkdirSync(outDir, { recursive: true });
  const procs = new ProcessGroups();
  const onAbort = (): void => void procs.stopAll();
  signal?.addEventListener('abort', onAbort);
  const topo = planTopology();
  const workDir = mkdtempSync(join(tmpdir(), 'acd-real-eval-'));
  const captures: RealLabel[] = [];
  try {
    const swept = await sweepStaleNamespaces();
    if (swept.length > 0)
      progress({ phase: 'setup', message: `removed stale namespaces ${swept.join(', ')}` });
    progress({ phase: 'setup', message: `namespaces ${topo.attackerNs}, ${topo.victimNs}` });
    await createTopology(topo);
    // sshd refuses to start without its privilege-separation directory.
    if (scenarios.includes('brute-force-ssh')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    for (const name of scenarios) {
      checkAborted(signal);
      const scenario = SCENARIOS[name];
      progress({ phase: 'scenario-start', scenario: name, message: scenario.describe(opts.quick === true) });
      const scenarioDir = join(workDir, name);
      mkdirSync(scenarioDir);
      const ctx = context(topo, procs, scenarioDir, opts.quick === true);
      await scenario.prepare?.(ctx);
      checkAborted(signal);
      const file = `${name}.pcap`;
      const tcpdump = procs.start(
        'ip',
        [
          'netns',
          'exec',
          topo.victimNs,
          requireTool('tcpdump'),
          '-i',
          topo.victimIf,
          '-n',
          '--immediate-mode',
          '-U',
          '-Z',
          'root',
          '-w',
          join(outDir, file),
          'ip',
        ],
        { timeoutMs: TCPDUMP_TIMEOUT_MS },
      );
      await tcpdump.waitFor(/listening on/, 10_000);
      const start = new Date();
      let command: string[];
      try {
        command = await scenario.attack(ctx);
      } catch (err) {
        checkAborted(signal);
        throw err;
      }
      const end = new Date();
      await delay(SETTLE_MS);
      const dump = await tcpdump.stop('SIGINT');
      const packets = Number(/(\d+) packets? captured/.exec(dump.stderr)?.[1] ?? Number.NaN);
      // Servers of this scenario go before the next one starts (ports, and a clean capture).
      await procs.stopAll();
      checkAborted(signal);
      const roles = scenario.roles(topo);
      captures.push({
        file,
        scenario: name,
        tool: scenario.tool,
        toolVersion: packageVersion(TOOL_PACKAGES[scenario.tool]),
        command,
        ...roles,
        start: start.toISOString(),
        end: end.toISOString(),
        packets: Number.isFinite(packets) ? packets : -1,
        ...(scenario.periodMs ? { periodMs: scenario.periodMs(opts.quick === true) } : {}),
      });
      progress({
        phase: 'scenario-end',
        scenario: name,
        message: `${file}: ${packets} packets in ${((end.getTime() - start.getTime()) / 1000).toFixed(1)} s`,
      });
    }
    const labels: LabelsFile = {
      version: LABELS_VERSION,
      generator: 'acd real evaluation set (src/eval/real)',
      createdAt: new Date().toISOString(),
      topology: {
        attacker: topo.attacker,
        victim: topo.victim,
        sweepPrefix: topo.sweepPrefix,
        capturedOn: 'victim veth',
      },
      captureTools: { tcpdump: packageVersion('tcpdump'), iproute2: packageVersion('iproute2') },
      captures,
    };
    const labelsPath = join(outDir, 'labels.json');
    writeFileSync(labelsPath, JSON.stringify(labels, null, 2) + '\n');
    return { labels, labelsPath, durationMs: Date.now() - began };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    progress({ phase: 'cleanup', message: 'stopping processes, removing namespaces' });
    await procs.stopAll();
    await destroyTopology(topo);
    rmSync(workDir, { recursive: true, force: true });
  }
}

function context(topo: Topology, procs: ProcessGroups, workDir: string, quick: boolean): ScenarioContext {
  const argv = (ns: string, tool: ToolName, args: readonly string[]): string[] => [
    'netns',
    'exec',
    ns,
    requireTool(tool),
    ...args,
  ];
  return {
    topo,
    procs,
    workDir,
    quick,
    startIn: (ns, tool, args, timeoutMs) =>
      procs.start('ip', argv(ns, tool, args), { timeoutMs, cwd: workDir }),
    runIn: async (ns, tool, args, timeoutMs, okCodes) => {
      await procs.run('ip', argv(ns, tool, args), {
        timeoutMs,
        cwd: workDir,
        ...(okCodes ? { okCodes } : {}),
      });
    },
    sleep: (ms) => delay(ms),
  };
}
