/**
 * Typed errors of selection (CONVENTIONS habit 6). None of them ever carries record data: messages
 * name feeds, documents, keys and codes only (R-SEL-1).
 */
import { AcdError } from '../common/errors.ts';

/** Codes of {@link FeedActivationError}. */
export type FeedActivationCode =
  /** A document of the feed's basis is signed with a demonstration key (or says `demo: true`) outside demo/eval mode. */
  | 'ERR_FEED_DEMO_REFUSED'
  /** An approval or agreement the feed names is not among the documents given to the edge. */
  | 'ERR_FEED_BASIS_MISSING'
  /** A document of the basis does not verify (signature, trusted key, schema). */
  | 'ERR_FEED_BASIS_INVALID'
  /** The basis does not cover the feed: channel, provider, feed list or approval kind. */
  | 'ERR_FEED_SCOPE'
  /** The basis ended (validUntil, plus the stop grace) before the feed could start. */
  | 'ERR_FEED_EXPIRED'
  /** The basis has been revoked. */
  | 'ERR_FEED_REVOKED'
  /** An approval's indicator list cannot be used (unknown `listRef`, or a value that is neither address, prefix nor domain). */
  | 'ERR_FEED_INDICATORS';

/** A feed that cannot run: its basis is missing, invalid, out of scope, expired, revoked or a demo document. */
export class FeedActivationError extends AcdError {
  declare readonly code: FeedActivationCode;
  readonly feedId: string;
  /** The document concerned, when one is. */
  readonly documentId: string | undefined;
  constructor(
    code: FeedActivationCode,
    feedId: string,
    message: string,
    documentId?: string,
    options?: { cause?: unknown },
  ) {
    super(code, `feed ${feedId}: ${message}`, options);
    this.feedId = feedId;
    this.documentId = documentId;
  }
}

/** A signed revocation that the edge refused (not authentic, not trusted, malformed). */
export class RevocationRefusedError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_REVOCATION_REFUSED', message, options);
  }
}
