/** The real evaluation set (issue 6, `acd eval --real`): captures of real tools, labelled. */
export { RealEvalAbortedError, RealEvalError, ToolMissingError } from './errors.ts';
export type { LabelsFile, RealLabel } from './labels.ts';
export { LABELS_VERSION } from './labels.ts';
export { ATTACKER_ADDRESS, SWEEP_PREFIX, VICTIM_ADDRESS } from './netns.ts';
export type { RealScenarioName } from './scenarios.ts';
export { REAL_SCENARIOS, TUNNEL_DOMAIN } from './scenarios.ts';
export type { RealEvalOptions, RealEvalProgress, RealEvalResult } from './run.ts';
export { realEvalUnavailable, runRealEvalSet, toolsFor } from './run.ts';
