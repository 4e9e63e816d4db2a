/**
 * Produces the real evaluation set: captures of real Debian tools in throwaway network namespaces,
 * with labels.json (docs/eval-real.md). Needs root.
 *
 * Run: node --import tsx scripts/real-eval-captures.ts [--out DIR] [--scenario NAME]... [--quick] [--install]
 *   --out DIR        where the captures and labels.json go (default data/real-eval)
 *   --scenario NAME  one of the scenarios (repeatable; default all)
 *   --quick          smaller counts, fewer beacon periods
 *   --install        apt-get install the Debian packages of missing tools first
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { REAL_SCENARIOS, realEvalUnavailable, runRealEvalSet, toolsFor } from '../src/eval/real/index.ts';
import type { RealScenarioName } from '../src/eval/real/index.ts';
import { missingTools, packagesFor } from '../src/eval/real/tools.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'data/real-eval' },
    scenario: { type: 'string', multiple: true },
    quick: { type: 'boolean', default: false },
    install: { type: 'boolean', default: false },
  },
});

const isScenario = (s: string): s is RealScenarioName => (REAL_SCENARIOS as readonly string[]).includes(s);
const requested = values.scenario ?? [...REAL_SCENARIOS];
const bad = requested.filter((s) => !isScenario(s));
if (bad.length > 0) {
  process.stderr.write(`unknown scenario ${bad.join(', ')}; known: ${REAL_SCENARIOS.join(', ')}\n`);
  process.exit(2);
}
const scenarios = requested.filter(isScenario);

if (values.install) {
  const missing = missingTools(toolsFor(scenarios));
  if (missing.length > 0) {
    const pkgs = packagesFor(missing);
    process.stderr.write(`installing ${pkgs.join(' ')}\n`);
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', ...pkgs], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
}
const why = realEvalUnavailable(scenarios);
if (why !== undefined) {
  process.stderr.write(`${why}\n`);
  process.exit(1);
}

const abort = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => abort.abort());

try {
  const r = await runRealEvalSet({
    outDir: values.out,
    scenarios,
    quick: values.quick,
    signal: abort.signal,
    onProgress: (p) =>
      process.stderr.write(`${p.phase}${p.scenario ? ` ${p.scenario}` : ''}: ${p.message}\n`),
  });
  process.stderr.write(
    `wrote ${r.labelsPath} (${r.labels.captures.length} captures) in ${(r.durationMs / 1000).toFixed(1)} s\n`,
  );
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
