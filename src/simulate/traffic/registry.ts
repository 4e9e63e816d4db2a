/**
 * The scenario registry as the generator uses it, and parsing of scenario selections
 * (`--scenario a,b`, `--param NAME.KEY=VALUE`).
 */
import { SCENARIOS } from '../scenarios/index.ts';
import type { ScenarioRequest } from './engine.ts';
import { TrafficConfigError } from './errors.ts';
import { SCENARIO_NAMES, type ScenarioDef, type ScenarioName } from './types.ts';

/** Every scenario by name (src/simulate/scenarios). */
export const SCENARIO_REGISTRY: Readonly<Record<ScenarioName, ScenarioDef>> = SCENARIOS;

/** Parses `--scenario a,b,c`, checking each name against the fixed list. */
export function parseScenarioList(text: string): ScenarioName[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new TrafficConfigError('scenario', 'no scenario named');
  for (const n of names)
    if (!(SCENARIO_NAMES as readonly string[]).includes(n))
      throw new TrafficConfigError(
        'scenario',
        `unknown scenario ${n} (one of: ${SCENARIO_NAMES.join(', ')})`,
      );
  return names as ScenarioName[];
}

/** Parses a duration: `500ms`, `30s`, `5m`, `2h`, `1d`, or a number of seconds. */
export function parseDurationText(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 's'] ?? 1000;
  return Number(m[1]) * unit;
}

/**
 * Applies `--param NAME.KEY=VALUE` settings to scenario requests. Common keys: `start` (ISO time,
 * or `+DURATION` after the run's start), `duration`, `intensity`, `sources` and `targets`
 * (addresses separated by `;` or spaces); any other key is a scenario-specific parameter, checked
 * by the scenario itself against its documented list.
 */
export function applyScenarioParams(
  requests: ScenarioRequest[],
  settings: readonly string[],
  runStart: number,
): void {
  for (const s of settings) {
    const m = /^([a-z0-9-]+)\.([A-Za-z][A-Za-z0-9_-]*)=(.*)$/.exec(s);
    if (!m) throw new TrafficConfigError('param', `expected NAME.KEY=VALUE, got ${s}`);
    const [, name, key, value] = m as unknown as [string, string, string, string];
    const targets = requests.filter((r) => r.name === name);
    if (targets.length === 0)
      throw new TrafficConfigError('param', `${name} is not among the --scenario names`);
    for (const r of targets) {
      switch (key) {
        case 'start': {
          const rel = value.startsWith('+') ? parseDurationText(value.slice(1)) : undefined;
          const abs = rel === undefined ? Date.parse(value) : runStart + rel;
          if (!Number.isFinite(abs))
            throw new TrafficConfigError(`param ${name}.start`, 'expected an ISO time or +DURATION');
          r.start = abs;
          break;
        }
        case 'duration': {
          const d = parseDurationText(value);
          if (d === undefined || d <= 0)
            throw new TrafficConfigError(`param ${name}.duration`, 'expected a duration such as 90s');
          r.durationMs = d;
          break;
        }
        case 'intensity': {
          const n = Number(value);
          if (!(n > 0) || !Number.isFinite(n))
            throw new TrafficConfigError(`param ${name}.intensity`, 'expected a positive number');
          r.intensity = n;
          break;
        }
        case 'sources':
        case 'targets':
          r[key] = value.split(/[;\s]+/).filter((x) => x !== '');
          break;
        default: {
          const n = Number(value);
          r.extra = {
            ...r.extra,
            [key]:
              value === 'true'
                ? true
                : value === 'false'
                  ? false
                  : value.trim() !== '' && Number.isFinite(n)
                    ? n
                    : value,
          };
        }
      }
    }
  }
}
