import { AcdError } from '../../common/errors.ts';

/** An output destination (NDJSON file) that could not be opened or written. */
export class OutputError extends AcdError {
  /** The destination, e.g. the file path. */
  readonly output: string;
  constructor(output: string, message: string, options?: { cause?: unknown }) {
    super('ERR_OUTPUT', `${output}: ${message}`, options);
    this.output = output;
  }
}
