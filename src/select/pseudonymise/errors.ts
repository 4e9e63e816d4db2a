/**
 * Typed errors of pseudonymisation, key handling and re-identification at the edge. Callers
 * branch on the class or the stable `code` (CONVENTIONS habit 6). No error message ever contains
 * key material or a clear address.
 */
import { AcdError } from '../../common/errors.ts';

/** A Crypto-PAn or HMAC key of the wrong length or shape. */
export class PseudonymKeyError extends AcdError {
  constructor(message: string) {
    super('ERR_PSEUDONYM_KEY', message);
  }
}

/**
 * A key file or the key directory is readable or writable by group/others, is a symbolic link,
 * or is not a regular file. The edge refuses to use such a key: anyone who can read it can undo
 * the pseudonymisation of every record of its epoch (R-SEL-4, R-OVS-2).
 */
export class KeyPermissionError extends AcdError {
  readonly path: string;
  /** File mode bits (`st_mode & 0o7777`), when the file could be examined. */
  readonly mode: number | undefined;
  constructor(path: string, message: string, mode?: number) {
    super('ERR_KEY_PERMISSIONS', `${path}: ${message}`);
    this.path = path;
    this.mode = mode;
  }
}

/** A key file that cannot be parsed or contradicts its name; the message never quotes the secret. */
export class KeyFileError extends AcdError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('ERR_KEY_FILE', `${path}: ${message}`, options);
    this.path = path;
  }
}

/** A pseudonym names a key epoch the store does not hold (never created, or already destroyed). */
export class KeyEpochUnknownError extends AcdError {
  readonly epoch: number;
  constructor(epoch: number) {
    super('ERR_KEY_EPOCH_UNKNOWN', `pseudonymisation key epoch ${epoch} is not held by this edge`);
    this.epoch = epoch;
  }
}

/** The key store has no usable current epoch (not loaded, or empty and not yet initialised). */
export class KeyStoreStateError extends AcdError {
  constructor(message: string) {
    super('ERR_KEY_STORE_STATE', message);
  }
}

/** Codes of {@link ReidentificationError}. */
export type ReidentificationErrorCode =
  | 'ERR_REID_SINGLE_SIGNER'
  | 'ERR_REID_SAME_SIGNER'
  | 'ERR_REID_EXPIRED'
  | 'ERR_REID_RECORD_NOT_NAMED'
  | 'ERR_REID_WRONG_PROVIDER'
  | 'ERR_REID_INVALID';

/**
 * A re-identification request the edge refuses (R-OVS-2): not dual-authorised, expired, for
 * another provider, malformed, or asking for a record it does not name.
 */
export class ReidentificationError extends AcdError {
  declare readonly code: ReidentificationErrorCode;
  constructor(code: ReidentificationErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
