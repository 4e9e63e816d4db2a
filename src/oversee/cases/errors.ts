/**
 * Typed errors of the approval-case workflow (R-OVS-5). Validation problems and unknown ids use
 * the API's `ValidationError` (400) and `NotFoundError` (404) from src/serve/errors.ts, so that
 * every caller (API, CLI, centre) maps them in one place.
 */
import { AcdError } from '../../common/errors.ts';

/**
 * A state change the case lifecycle (`CASE_TRANSITIONS`) does not allow. Code
 * `ERR_CASE_TRANSITION`: the API answers 409 (src/serve/problem.ts maps `…_TRANSITION`).
 */
export class CaseTransitionError extends AcdError {
  readonly from: string;
  readonly to: string;
  constructor(from: string, to: string, message?: string) {
    super('ERR_CASE_TRANSITION', message ?? `an approval case cannot go from ${from} to ${to}`);
    this.from = from;
    this.to = to;
  }
}

/**
 * The signed document just made did not verify against the signing key's own public part (or
 * the key could not be used). Fail closed: the case stays as it was. Code `ERR_CASE_SIGNING`.
 */
export class CaseSigningError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CASE_SIGNING', message, options);
  }
}
