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

/** An indicator file that cannot be read or parsed; `line` is 1-based (0 for the whole file). */
export class IndicatorFileError extends AcdError {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, message: string, options?: { cause?: unknown }) {
    super('ERR_INDICATOR_FILE', `${file}:${line}: ${message}`, options);
    this.file = file;
    this.line = line;
  }
}
