/**
 * The demo's scenario schedule (issue 7: "scenarios injected on a schedule so that within two
 * minutes every detector has fired at least once"). One cycle per hour of event time; at the
 * demo's default speed (30×) a cycle takes two minutes of wall time. Offsets are chosen so that
 * each detector's evidence falls inside the first cycle: quick attacks (scans, floods) early,
 * slow ones (beacon, exfiltration, long connection) from the start of the cycle.
 */
import type { ScenarioRequest } from '../../simulate/traffic/index.ts';

/** Event time of one cycle. */
export const CYCLE_MS = 3_600_000;

const MIN = 60_000;

/** One cycle's scenarios: [name, start offset, duration, intensity, extra]. */
const CYCLE: readonly [
  ScenarioRequest['name'],
  number,
  number,
  number,
  Record<string, string | number | boolean>,
][] = [
  ['c2-beacon', 0.5 * MIN, 55 * MIN, 1, { period: '30s' }],
  ['long-connection', 0.5 * MIN, 58 * MIN, 1, {}],
  ['exfiltration', 1 * MIN, 50 * MIN, 1, {}],
  ['scan-horizontal', 2 * MIN, 5 * MIN, 1, {}],
  ['mirai-scan', 3 * MIN, 5 * MIN, 1, {}],
  ['brute-force-ssh', 4 * MIN, 10 * MIN, 1, {}],
  ['ddos-flood', 6 * MIN, 2 * MIN, 0.5, {}],
  ['dga', 8 * MIN, 10 * MIN, 1, {}],
  ['dns-tunnel', 10 * MIN, 10 * MIN, 1, {}],
  ['ioc-contact', 12 * MIN, 15 * MIN, 1, {}],
  ['scan-vertical', 20 * MIN, 4 * MIN, 1, {}],
  ['brute-force-rdp', 25 * MIN, 10 * MIN, 1, {}],
  ['ddos-reflection', 30 * MIN, 3 * MIN, 0.5, {}],
  ['campaign', 35 * MIN, 24 * MIN, 1, {}],
];

/** The scenarios of `cycles` cycles starting at event time `startMs`. */
export function demoSchedule(startMs: number, cycles: number): ScenarioRequest[] {
  const out: ScenarioRequest[] = [];
  for (let c = 0; c < cycles; c++)
    for (const [name, offset, durationMs, intensity, extra] of CYCLE)
      out.push({ name, start: startMs + c * CYCLE_MS + offset, durationMs, intensity, extra: { ...extra } });
  return out;
}
