import { AcdError } from '../../common/errors.ts';

/** An exporter fleet was configured with something it cannot do (bad URL, format/transport mismatch). */
export class ExporterConfigError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_EXPORTER_CONFIG', message, options);
  }
}

/** An output failed in a way the fleet cannot recover from (file not writable, socket not bindable). */
export class ExporterOutputError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_EXPORTER_OUTPUT', message, options);
  }
}
