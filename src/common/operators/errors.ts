import { AcdError } from '../errors.ts';

/**
 * An operators file that cannot be read or does not match the schema. `key` names the offending
 * key as a dotted path (`operators.3.ranges.0.prefix`), or `(file)` when the file itself is unusable.
 */
export class OperatorsFileError extends AcdError {
  readonly key: string;
  readonly file: string;
  constructor(file: string, key: string, message: string, options?: { cause?: unknown }) {
    super('ERR_OPERATORS_FILE', `${file}: ${key}: ${message}`, options);
    this.file = file;
    this.key = key;
  }
}
