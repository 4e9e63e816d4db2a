import { AcdError } from '../common/errors.ts';

/** A provider id, partition or consumer name that cannot be used as a subject token. */
export class InvalidSubjectTokenError extends AcdError {
  constructor(what: string, value: string) {
    super('ERR_BUS_SUBJECT_TOKEN', `${what} ${JSON.stringify(value)} is not a valid subject token`);
  }
}

/** Bytes on the bus or in the spool that are not a batch of this format (garbage, wrong version). */
export class BatchDecodeError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_BATCH_DECODE', message, options);
  }
}

/** A batch larger than the bus accepts in one message (`MAX_BATCH_RECORDS`, `MAX_BATCH_BYTES`). */
export class BatchTooLargeError extends AcdError {
  constructor(message: string) {
    super('ERR_BATCH_TOO_LARGE', message);
  }
}

/** The bus did not durably accept a publish (not connected, timeout, stream full, permission). */
export class BusPublishError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_BUS_PUBLISH', message, options);
  }
}

/** The bus could not be reached or set up (connection, stream or consumer creation). */
export class BusUnavailableError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_BUS_UNAVAILABLE', message, options);
  }
}

/** A control or statistics envelope that does not have the documented shape. */
export class EnvelopeError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_BUS_ENVELOPE', message, options);
  }
}

/** The spool reached its size bound: the batch was not accepted (the caller drops and counts it). */
export class SpoolFullError extends AcdError {
  readonly maxBytes: number;
  constructor(maxBytes: number) {
    super('ERR_SPOOL_FULL', `spool full (bound ${maxBytes} bytes): batch not accepted`);
    this.maxBytes = maxBytes;
  }
}

/** The spool key file is missing, of the wrong size, or readable by group/others. */
export class SpoolKeyError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SPOOL_KEY', message, options);
  }
}

/** A spool file or state file could not be read or written. */
export class SpoolIoError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SPOOL_IO', message, options);
  }
}
