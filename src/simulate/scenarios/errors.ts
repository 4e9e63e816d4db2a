import { AcdError } from '../../common/errors.ts';

/**
 * A scenario parameter is invalid (unknown name, out of bounds, not an address) — a usage error
 * of `acd generate`. `key` names the parameter (`start`, `intensity`, `extra.period`, `targets.2`).
 */
export class ScenarioParamError extends AcdError {
  readonly key: string;
  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super('ERR_SCENARIO_PARAM', `${key}: ${message}`, options);
    this.key = key;
  }
}

/**
 * The country model (or the indicator set) cannot support the scenario as asked, e.g. no operator
 * in the requested sector, no indicators for `ioc-contact`, no IPv6 host for an IPv6 source.
 */
export class ScenarioModelError extends AcdError {
  constructor(message: string) {
    super('ERR_SCENARIO_MODEL', message);
  }
}

/** Indicator file errors are defined with the file format (src/common/indicators/). */
export { IndicatorFileError } from '../../common/indicators/errors.ts';
