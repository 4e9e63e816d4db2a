/**
 * The attack scenarios of the traffic generator (issue 4), each with ground truth: the registry
 * `SCENARIOS`, `createScenario`, and the indicator-set helpers `ioc-contact` uses. See README.md.
 */
import type {
  GeneratorContext,
  ScenarioDef,
  ScenarioInstance,
  ScenarioName,
  ScenarioParams,
} from '../traffic/types.ts';
import { SCENARIO_NAMES } from '../traffic/types.ts';
import { bruteForceRdp, bruteForceSsh } from './brute-force.ts';
import { c2Beacon } from './c2.ts';
import { campaign } from './campaign.ts';
import { ddosFlood, ddosReflection } from './ddos.ts';
import { dga, dnsTunnel } from './dns.ts';
import { ScenarioParamError } from './errors.ts';
import { iocContact } from './ioc.ts';
import { exfiltration, longConnection } from './outbound.ts';
import { miraiScan, scanHorizontal, scanVertical } from './scans.ts';

/** Every scenario by name. */
export const SCENARIOS: Record<ScenarioName, ScenarioDef> = {
  'mirai-scan': miraiScan,
  'scan-horizontal': scanHorizontal,
  'scan-vertical': scanVertical,
  'c2-beacon': c2Beacon,
  'ddos-reflection': ddosReflection,
  'ddos-flood': ddosFlood,
  'brute-force-ssh': bruteForceSsh,
  'brute-force-rdp': bruteForceRdp,
  dga,
  'dns-tunnel': dnsTunnel,
  exfiltration,
  'long-connection': longConnection,
  'ioc-contact': iocContact,
  campaign,
};

/** Whether a string names a scenario. */
export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name);
}

/**
 * Creates a scenario instance. Throws `ScenarioParamError` for an unknown name or invalid
 * parameters and `ScenarioModelError` when the model cannot support it.
 */
export function createScenario(
  name: string,
  ctx: GeneratorContext,
  params: ScenarioParams,
): ScenarioInstance {
  if (!isScenarioName(name))
    throw new ScenarioParamError(
      'scenario',
      `unknown scenario ${name} (known: ${SCENARIO_NAMES.join(', ')})`,
    );
  return SCENARIOS[name].create(ctx, params);
}

/** Parameters with the scenario's defaults: its default duration, intensity 1, no extra. */
export function defaultScenarioParams(name: ScenarioName, start: number): ScenarioParams {
  return { start, durationMs: SCENARIOS[name].defaultDurationMs, intensity: 1, extra: {} };
}

export { ScenarioParamError, ScenarioModelError, IndicatorFileError } from './errors.ts';
export {
  generateIndicators,
  writeIndicatorFile,
  readIndicatorFile,
  parseIndicators,
  indicatorsToCsv,
  indicatorMatches,
  indicatorValid,
  INDICATOR_CSV_HEADER,
} from './indicators.ts';
export { parseDurationMs, MAX_DURATION_MS, MAX_INTENSITY } from './params.ts';
export { REFLECTION_VECTORS, type ReflectionVector } from './ddos.ts';
export { CAMPAIGN_STAGES } from './campaign.ts';
