/**
 * Public surface of the traffic generator (issue 4): background traffic, the engine, file and
 * live runs, and the contracts shared with the scenarios.
 */
export * from './types.ts';
export {
  BackgroundSource,
  findScannerHosts,
  DEFAULT_LOOKALIKES,
  DEFAULT_SERVICE_MIX,
  DEFAULT_DIRECTIONS,
  FALLBACK_SCANNER_PREFIXES,
  SCANNER_ORG_PATTERN,
  ACTIVE_TIMEOUT_MS,
  BACKUP_RECORD_INTERVAL_MS,
  LOOKALIKES,
  SERVICES,
  type BackgroundConfig,
  type LookalikeName,
  type LookalikeParams,
  type ServiceName,
} from './background.ts';
export { DiurnalCurve, DIURNAL_PROFILES, FLAT_PROFILE, JST_PROFILE, type DiurnalProfile } from './diurnal.ts';
export { POPULAR_DOMAINS, type PopularDomain } from './domains.ts';
export {
  createTrafficEngine,
  exportersFor,
  scenarioParams,
  MESSAGE_MAX_AGE_MS,
  type EngineOptions,
  type EngineStats,
  type ScenarioRequest,
  type TrafficEngine,
} from './engine.ts';
export { TrafficConfigError, TrafficWorkerError } from './errors.ts';
export { SCENARIO_REGISTRY, applyScenarioParams, parseDurationText, parseScenarioList } from './registry.ts';
export {
  runLive,
  runToFile,
  type LiveOptions,
  type RunOptions,
  type RunProgress,
  type RunResult,
} from './run.ts';
