/**
 * `acd eval` smoke run (issue 6: "`npm test` runs a short smoke version"), in process through
 * `main` with the real clock: two quick scenarios through the real path (exporters over UDP/TCP →
 * one edge per provider → memory bus → centre), five seconds of wall time each, no held-out seed.
 * The JSON output has the documented shape, and both scenarios are found (recall 1) — the
 * precision target is measured by the full run (BENCHMARKS.md), not here.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { systemClock } from '../src/common/clock.ts';
import { createLogger } from '../src/common/logging.ts';
import { capture } from './helpers/cli.ts';

const SCENARIOS = ['brute-force-rdp', 'dns-tunnel'];

interface Row {
  scenario: string;
  detector: string;
  alerts: number;
  truePositives: number;
  precision: number;
  expected: number;
  found: number;
  recall: number | null;
  timeToDetectMs: number | null;
}

interface Run {
  scenario: string;
  seed: number;
  speed: number;
  eventSeconds: number;
  wallSeconds: number;
  records: number;
  lost: number;
  rows: Row[];
}

interface Output {
  seed: number;
  heldOutSeeds: number[];
  tuning: { runs: Run[]; totals: { precision: number; recall: number | null } };
  heldOut: { runs: Run[]; totals: { precision: number; recall: number | null } };
}

describe('acd eval (smoke)', () => {
  it('scores two quick scenarios through the real path as JSON, with recall 1', async () => {
    const out = capture();
    const err = capture();
    const code = await main(
      ['eval', '--scenario', SCENARIOS.join(','), '--held-out', 'none', '--wall', '5', '--format', 'json'],
      {
        stdout: out.stream,
        stderr: err.stream,
        clock: systemClock,
        logger: createLogger({ level: 'silent' }),
        interactive: false,
        signal: new AbortController().signal,
      },
    );
    expect(code, err.text()).toBe(0);
    const result = JSON.parse(out.text()) as Output;
    expect(result.seed).toBe(1);
    expect(result.heldOutSeeds).toEqual([]);
    expect(result.heldOut.runs).toEqual([]);
    expect(result.tuning.runs.map((r) => r.scenario)).toEqual(SCENARIOS);
    for (const run of result.tuning.runs) {
      expect(run.seed).toBe(1);
      expect(run.speed).toBeGreaterThanOrEqual(1);
      expect(run.eventSeconds).toBeGreaterThan(0);
      expect(run.records).toBeGreaterThan(0);
      expect(run.rows.length).toBeGreaterThan(0);
      for (const r of run.rows) {
        expect(r.scenario).toBe(run.scenario);
        expect(r.truePositives).toBeLessThanOrEqual(r.alerts);
        expect(r.precision).toBeGreaterThanOrEqual(0);
        expect(r.precision).toBeLessThanOrEqual(1);
        expect(r.found).toBeLessThanOrEqual(r.expected);
      }
      const expected = run.rows.filter((r) => r.expected > 0);
      expect(expected.length, run.scenario).toBeGreaterThan(0);
      for (const r of expected) expect(r.recall, `${run.scenario}/${r.detector}`).toBe(1);
    }
    expect(result.tuning.totals.recall).toBe(1);
  }, 90_000);
});
