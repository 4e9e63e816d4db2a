/**
 * Keyed hashing of identifiers other than addresses (R-SEL-4: "e-mail-like strings likewise with
 * a keyed hash"; "no unkeyed hash of an identifier exists anywhere"). HMAC-SHA-256 with the key
 * epoch's HMAC key, over `label || 0x00 || value`, truncated to 128 bits: the label separates
 * domains (an e-mail address and a user name with the same text get unrelated pseudonyms), and
 * 128 bits keep collisions negligible for any realistic number of identifiers.
 */
import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { PseudonymKeyError } from './errors.ts';

/** Bytes of the truncated tag (22 base64url characters). */
export const HMAC_TAG_BYTES = 16;
/** Minimum HMAC key length: the full SHA-256 block of security. */
export const HMAC_KEY_BYTES = 32;
/**
 * Longest identifier hashed. E-mail addresses are at most 254 characters (RFC 5321); DNS names
 * 253. Anything longer is not an identifier of the kinds selected and is refused.
 */
export const MAX_IDENTIFIER_LENGTH = 1024;

const LABEL_RE = /^[a-z][a-z0-9.-]{0,31}$/;
const SEP = Buffer.from([0]);

/** Pseudonymises identifiers with one epoch's HMAC key. */
export class KeyedHasher {
  readonly #key: Buffer;
  #destroyed = false;

  /** `key` is copied; at least {@link HMAC_KEY_BYTES} bytes. */
  constructor(key: Uint8Array) {
    if (key.length < HMAC_KEY_BYTES)
      throw new PseudonymKeyError(`an HMAC key has at least ${HMAC_KEY_BYTES} bytes`);
    this.#key = Buffer.from(key);
  }

  /**
   * The pseudonym of `value` in domain `label` (lower-case, e.g. `email`, `username`), base64url.
   * Throws `PseudonymKeyError` for a malformed label or an over-long value.
   */
  hash(label: string, value: string): string {
    if (!LABEL_RE.test(label))
      throw new PseudonymKeyError('a hash label is 1-32 of [a-z0-9.-], starting with a letter');
    if (value.length > MAX_IDENTIFIER_LENGTH)
      throw new PseudonymKeyError(`identifier longer than ${MAX_IDENTIFIER_LENGTH}`);
    if (this.#destroyed) throw new PseudonymKeyError('the HMAC key has been destroyed');
    return createHmac('sha256', this.#key)
      .update(label, 'utf8')
      .update(SEP)
      .update(value, 'utf8')
      .digest()
      .subarray(0, HMAC_TAG_BYTES)
      .toString('base64url');
  }

  /**
   * Pseudonym of an e-mail-like string: trimmed and lower-cased first, so that `A@Example.JP`
   * and `a@example.jp` (the same mailbox in practice) get the same pseudonym.
   */
  hashEmail(value: string): string {
    return this.hash('email', value.trim().toLowerCase());
  }

  /** Zeroes the key; later calls throw. */
  destroy(): void {
    this.#key.fill(0);
    this.#destroyed = true;
  }

  /** Redacted. */
  toJSON(): { type: 'hmac-sha256'; key: '[redacted]' } {
    return { type: 'hmac-sha256', key: '[redacted]' };
  }

  /** Redacted for `util.inspect`. */
  [inspect.custom](): string {
    return 'KeyedHasher { key: [redacted] }';
  }
}
