import { AcdError } from '../errors.ts';

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
