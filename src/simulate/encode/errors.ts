import { AcdError } from '../../common/errors.ts';

/** The encoder was asked for something it cannot encode (unknown element, value out of range). */
export class EncodeError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_ENCODE', message, options);
  }
}
