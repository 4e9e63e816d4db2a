/**
 * Errors of the user and token registry. Callers (the CLI, the centre) branch on the class or the
 * stable code; none of them carries a password or a token.
 */
import { AcdError } from '../../common/errors.ts';

/** The access file cannot be read, parsed or written (names the path). */
export class AccessFileError extends AcdError {
  /** The file at fault. */
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('ERR_ACCESS_FILE', `${path}: ${message}`, options);
    this.path = path;
  }
}

/** Another process holds the access file's write lock. */
export class AccessLockedError extends AcdError {
  constructor(path: string) {
    super('ERR_ACCESS_LOCKED', `${path} is being changed by another process; try again`);
  }
}

/** No user with this id. */
export class UnknownUserError extends AcdError {
  constructor(id: string) {
    super('ERR_ACCESS_UNKNOWN_USER', `no user ${JSON.stringify(id)}`);
  }
}

/** A user with this id exists already (ids are never reused, even after revocation). */
export class DuplicateUserError extends AcdError {
  constructor(id: string) {
    super('ERR_ACCESS_DUPLICATE_USER', `user ${JSON.stringify(id)} exists already`);
  }
}

/** No token with this id. */
export class UnknownTokenError extends AcdError {
  constructor(id: string) {
    super('ERR_ACCESS_UNKNOWN_TOKEN', `no token ${JSON.stringify(id)}`);
  }
}

/**
 * A user or token that breaks the access rules: a purpose the role may not act for, an operator
 * without organisation, a weak password, a bad id or expiry.
 */
export class AccessPolicyError extends AcdError {
  constructor(message: string) {
    super('ERR_ACCESS_POLICY', message);
  }
}
