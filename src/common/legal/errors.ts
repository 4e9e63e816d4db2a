/** Typed errors of the legal-parameter table (REQUIREMENTS R-NF-2). */
import { ConfigError } from '../errors.ts';

/**
 * A legal-parameter file that cannot be used, or a time for which no version is in force. It is a
 * `ConfigError` (code `ERR_CONFIG_INVALID`) because the table is configuration with effective
 * dates; `key` names the file and the failing key, e.g. `parameters.json:versions.1.retention`.
 */
export class LegalParameterError extends ConfigError {
  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super(key, message, options);
  }
}
