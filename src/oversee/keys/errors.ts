/**
 * Typed errors of the local key store (`acd keys`) and of public-key files. Callers branch on the
 * class or the stable `code`, never on the message; no message contains key material.
 */
import { AcdError } from '../../common/errors.ts';

/** Codes of {@link KeyStoreError}. */
export type KeyStoreErrorCode =
  /** The directory has no key registry: run `acd keys init`. */
  | 'ERR_KEYSTORE_MISSING'
  /** The directory or a private key file gives group/others access. */
  | 'ERR_KEYSTORE_PERMISSIONS'
  /** A registry or key file is not what this code writes (edited, truncated, foreign). */
  | 'ERR_KEYSTORE_CORRUPT'
  /** No active key of the purpose (never created, or the active one has expired: rotate). */
  | 'ERR_KEYSTORE_NO_ACTIVE_KEY'
  /** The person already holds an active re-identification key (retire it first). */
  | 'ERR_KEYSTORE_SIGNER_EXISTS'
  /** A personal key was asked for a name that is not a user id. */
  | 'ERR_KEYSTORE_BAD_SIGNER';

/** The local key store cannot be used as asked. */
export class KeyStoreError extends AcdError {
  declare readonly code: KeyStoreErrorCode;
  constructor(code: KeyStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A public-keys file (`acd keys export-public`) that cannot be used; `path` is the JSON pointer of the problem. */
export class PublicKeysFileError extends AcdError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('ERR_PUBLIC_KEYS_INVALID', `${path || '/'}: ${message}`, options);
    this.path = path;
  }
}
