/**
 * Typed errors of the centre's re-identification service (R-OVS-2). The API maps the codes in
 * `src/serve/problem.ts` (`STATUS_BY_CODE`, or the `_NOT_FOUND` / `_TRANSITION` conventions);
 * no message contains an address, clear or pseudonymised.
 */
import { AcdError } from '../../common/errors.ts';

/** Codes of {@link ReidentifyError}, with the HTTP status each becomes. */
export type ReidentifyErrorCode =
  /** The second authoriser is the requester (or holds the requester's key) (409). */
  | 'ERR_REID_SAME_PERSON'
  /** The user holds no re-identification signing key valid now (403). */
  | 'ERR_REID_NO_SIGNING_KEY'
  /** The case named does not exist or is not an approval case (404). */
  | 'ERR_REID_CASE_NOT_FOUND'
  /** The case is not approved, no longer valid, or does not cover the provider (409). */
  | 'ERR_REID_CASE_NOT_APPROVED'
  /** A named record is not in the store (404). */
  | 'ERR_REID_RECORD_NOT_FOUND'
  /**
   * A named pseudonym is not one of that record's own pseudonymised endpoints, or the record
   * belongs to another provider or key epoch (400): refused before anything is signed or sent.
   */
  | 'ERR_REID_RECORD_MISMATCH'
  /** The request is malformed beyond its schema (duplicate records, too many, bad ids) (400). */
  | 'ERR_REID_REQUEST_INVALID'
  /** No such re-identification request, or not one the caller may see (404). */
  | 'ERR_REID_NOT_FOUND'
  /** The request is not in the state the action needs (authorise twice, reveal unanswered) (409). */
  | 'ERR_REID_TRANSITION'
  /** Only the requester and the second authoriser may reveal the answer (403). */
  | 'ERR_REID_NOT_PARTY'
  /** This person already revealed the answer once (409). */
  | 'ERR_REID_ALREADY_REVEALED'
  /** The reveal window of the answer has closed; the wrapped keys are destroyed (409). */
  | 'ERR_REID_REVEAL_EXPIRED'
  /** The bus did not take the request; nothing was sent (503). */
  | 'ERR_REID_UNAVAILABLE'
  /** The seal key file is unusable (permissions, format) or a sealed answer does not open (500). */
  | 'ERR_REID_SEAL';

/** A re-identification action refused or failed; callers branch on `code`. */
export class ReidentifyError extends AcdError {
  declare readonly code: ReidentifyErrorCode;
  constructor(code: ReidentifyErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
