import { AcdError } from '../common/errors.ts';

/** Stable codes of store errors; the API maps them to HTTP statuses in one place. */
export type StoreErrorCode =
  /** The database could not be opened, created or migrated. */
  | 'ERR_STORE_OPEN'
  /** The store was used before `open()` or after `close()`. */
  | 'ERR_STORE_CLOSED'
  /** A statement failed inside the database. */
  | 'ERR_STORE_QUERY'
  /** A write failed inside the database (nothing of the batch was kept). */
  | 'ERR_STORE_WRITE'
  /** An audit batch does not continue the chain (`seq` gap, repeat or reorder). */
  | 'ERR_STORE_AUDIT_SEQ'
  /** A cursor that this store did not issue for this listing (the API answers 400). */
  | 'ERR_STORE_BAD_CURSOR'
  /** A query with missing or impossible bounds (no time range, `from > to`, bad limit) (400). */
  | 'ERR_STORE_BAD_QUERY'
  /** A value the store cannot keep (e.g. an id that is not a string). */
  | 'ERR_STORE_BAD_VALUE';

/** Every error the store throws; callers branch on `code`. */
export class StoreError extends AcdError {
  declare readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
