/**
 * The demo's scenario schedule (issue 7: "scenarios injected on a schedule so that within two
 * minutes every detector has fired at least once"). One cycle per hour of event time; at the
 * demo's default speed ({@link DEMO_SPEED}×) a cycle takes 80 s of wall time. Offsets are chosen
 * so that each detector's evidence falls inside the first cycle: the slow ones from the start
 * (long-connection needs one hour of event time by its default `minDurationMs`, which is what
 * sets the speed), DNS and quick attacks (scans, floods) in the first minutes.
 */
import type { ScenarioRequest } from '../../simulate/traffic/index.ts';

/** Event time of one cycle. */
export const CYCLE_MS = 3_600_000;

/**
 * The demo's default speed: one hour of event time (the long-connection default) in 80 s, so that
 * every detector has fired within two minutes of start, start-up and detection lag included.
 */
export const DEMO_SPEED = 45;

/**
 * Cycles scheduled by default. The generator builds every scheduled scenario before it sends
 * anything (about 1 s per cycle per worker on a loaded 2-core machine), so a long schedule delays
 * the first record: four cycles (five minutes of wall time at the default speed) start in seconds;
 * after them the background traffic continues.
 */
export const DEMO_CYCLES = 4;

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
  // Longer than the detector's one hour: the connection must still be open when it crosses it.
  ['long-connection', 0.5 * MIN, 70 * MIN, 1, {}],
  ['exfiltration', 1 * MIN, 50 * MIN, 1, {}],
  ['dga', 1 * MIN, 10 * MIN, 1, {}],
  ['dns-tunnel', 1.5 * MIN, 10 * MIN, 1, {}],
  ['scan-horizontal', 2 * MIN, 5 * MIN, 1, {}],
  ['mirai-scan', 3 * MIN, 5 * MIN, 1, {}],
  ['brute-force-ssh', 4 * MIN, 10 * MIN, 1, {}],
  // Floods are short: the detector needs seconds, and every record of a scenario is built before
  // the generator sends anything (a two-minute flood took seconds to build and burst the sockets).
  ['ddos-flood', 6 * MIN, 1 * MIN, 0.5, {}],
  ['ioc-contact', 12 * MIN, 15 * MIN, 1, {}],
  ['scan-vertical', 20 * MIN, 4 * MIN, 1, {}],
  ['brute-force-rdp', 25 * MIN, 10 * MIN, 1, {}],
  ['ddos-reflection', 30 * MIN, 1.5 * MIN, 0.5, {}],
  ['campaign', 35 * MIN, 24 * MIN, 1, {}],
];

/** Scenarios whose DNS goes through the provider's resolver only (dnstap, no flows). */
const DNS_ONLY = new Set<ScenarioRequest['name']>(['dga', 'dns-tunnel']);
/** Scenarios that also resolve names (dnstap events besides their flows). */
const DNS_TOO = new Set<ScenarioRequest['name']>(['c2-beacon', 'ioc-contact', 'campaign']);

/**
 * The part of a schedule one generator worker needs: flows for `ipfix`, DNS events for `dnstap`.
 * Each worker builds its scenarios before it sends, so skipping those that produce nothing in its
 * format shortens the start.
 */
export function scheduleFor(format: 'ipfix' | 'dnstap', all: readonly ScenarioRequest[]): ScenarioRequest[] {
  return all.filter((s) =>
    format === 'dnstap' ? DNS_ONLY.has(s.name) || DNS_TOO.has(s.name) : !DNS_ONLY.has(s.name),
  );
}

/** Options of {@link demoSchedule}. */
export interface DemoScheduleOptions {
  /**
   * Infected DNS clients (`dga`, `dns-tunnel`). The demonstration selection takes DNS events only
   * through operator telemetry, i.e. for clients inside an operator's ranges under an active
   * agreement; a random subscriber's queries are (rightly) not selected, and the DNS detectors
   * would never see them.
   */
  dnsClients?: readonly string[];
}

/** The scenarios of `cycles` cycles starting at event time `startMs`. */
export function demoSchedule(
  startMs: number,
  cycles: number,
  o: DemoScheduleOptions = {},
): ScenarioRequest[] {
  const out: ScenarioRequest[] = [];
  const clients = o.dnsClients ?? [];
  let k = 0;
  for (let c = 0; c < cycles; c++)
    for (const [name, offset, durationMs, intensity, extra] of CYCLE) {
      const r: ScenarioRequest = {
        name,
        start: startMs + c * CYCLE_MS + offset,
        durationMs,
        intensity,
        extra: { ...extra },
      };
      if ((name === 'dga' || name === 'dns-tunnel') && clients.length > 0)
        r.sources = [clients[k++ % clients.length]!];
      out.push(r);
    }
  return out;
}
