/**
 * Typed errors of canonicalisation and signed documents (DESIGN section 6). Callers branch on
 * the class or the stable `code`, never on the message (CONVENTIONS habit 6).
 */
import { AcdError } from '../errors.ts';

/** A value that RFC 8785 cannot canonicalise (non-finite number, lone surrogate, too deep, …). */
export class CanonicalizationError extends AcdError {
  constructor(message: string) {
    super('ERR_CANONICALIZATION', message);
  }
}

/** Codes of {@link SignatureError}. */
export type SignatureErrorCode =
  /** The signature does not verify over the canonical payload (tampered payload or signature). */
  | 'ERR_SIGNATURE_INVALID'
  /** A signature names a key id that is not in the trusted set. */
  | 'ERR_KEY_UNKNOWN'
  /** The key was not valid at the payload's `issuedAt` (before `validFrom` or from `validUntil`). */
  | 'ERR_KEY_EXPIRED'
  /** The key is trusted, but not for this kind of document (e.g. an approval key signing a re-identification). */
  | 'ERR_KEY_SCOPE'
  /** The same key signed twice. */
  | 'ERR_SIGNATURE_DUPLICATE'
  /** No signature at all, or more than the limit. */
  | 'ERR_SIGNATURES_MISSING'
  /** The envelope is not `{ payload, signatures }` of the expected shape. */
  | 'ERR_DOCUMENT_MALFORMED'
  /** `issuedAt` lies further in the future than the allowed clock skew. */
  | 'ERR_DOCUMENT_FROM_FUTURE'
  /** A demonstration key signed a document outside demo/eval mode (DESIGN section 5). */
  | 'ERR_DEMO_KEY_REFUSED';

/** A signed document that is not authentic, not trusted, or not well-formed as an envelope. */
export class SignatureError extends AcdError {
  declare readonly code: SignatureErrorCode;
  /** Key id concerned, when one is. */
  readonly keyId: string | undefined;
  constructor(code: SignatureErrorCode, message: string, keyId?: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.keyId = keyId;
  }
}

/** A payload that is authentic but violates its schema; `path` is the JSON pointer of the first problem. */
export class DocumentInvalidError extends AcdError {
  readonly path: string;
  constructor(path: string, message: string) {
    super('ERR_DOCUMENT_INVALID', `${path || '/'}: ${message}`);
    this.path = path;
  }
}

/** A trusted-key configuration entry that cannot be used; `key` names it. */
export class TrustedKeyError extends AcdError {
  readonly key: string;
  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super('ERR_TRUSTED_KEY', `${key}: ${message}`, options);
    this.key = key;
  }
}
