import { AcdError } from '../../common/errors.ts';

/** Persisted decoder state that cannot be restored (wrong version, bad shape, out of limits). */
export class DecoderStateError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_DECODER_STATE', message, options);
  }
}
