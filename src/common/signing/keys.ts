/**
 * Ed25519 signing keys and key ids (DESIGN section 6). Public keys travel as the raw 32 bytes in
 * base64url; a key id is base64url(SHA-256(raw public key))[first 16 bytes], so anyone holding the
 * public key can recompute it and no registry of names is needed.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { inspect } from 'node:util';
import { TrustedKeyError } from './errors.ts';

/** The only signature algorithm accepted. */
export const SIGNATURE_ALG = 'Ed25519';

const B64URL_32 = /^[A-Za-z0-9_-]{43}$/;

/** Key id of a raw 32-byte Ed25519 public key. */
export function keyIdOf(rawPublicKey: Uint8Array): string {
  return createHash('sha256').update(rawPublicKey).digest().subarray(0, 16).toString('base64url');
}

/** Imports a raw public key given as base64url (43 characters). Throws `TrustedKeyError`. */
export function publicKeyFromBase64url(x: string, label = 'publicKey'): KeyObject {
  if (!B64URL_32.test(x)) throw new TrustedKeyError(label, 'an Ed25519 public key is 32 bytes of base64url');
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  } catch (err) {
    throw new TrustedKeyError(label, 'not a valid Ed25519 public key', { cause: err });
  }
}

/** Raw 32-byte public key of an Ed25519 `KeyObject`, as base64url. */
export function rawPublicKey(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string')
    throw new TrustedKeyError('publicKey', 'not an Ed25519 key');
  return jwk.x;
}

/**
 * A private signing key with its key id. The private key never appears in JSON or
 * `util.inspect` output.
 */
export class SigningKey {
  readonly keyId: string;
  /** Raw public key, base64url. */
  readonly publicKey: string;
  readonly #privateKey: KeyObject;

  constructor(privateKey: KeyObject) {
    if (privateKey.asymmetricKeyType !== 'ed25519')
      throw new TrustedKeyError('privateKey', 'only Ed25519 private keys can sign');
    this.#privateKey = privateKey;
    this.publicKey = rawPublicKey(createPublicKey(privateKey));
    this.keyId = keyIdOf(Buffer.from(this.publicKey, 'base64url'));
  }

  /** Creates a new random key pair. */
  static generate(): SigningKey {
    return new SigningKey(generateKeyPairSync('ed25519').privateKey);
  }

  /** Imports a key from its JWK parts `d` (private seed) and `x` (public key), both base64url. */
  static fromJwk(d: string, x: string): SigningKey {
    if (!B64URL_32.test(d) || !B64URL_32.test(x))
      throw new TrustedKeyError('privateKey', 'malformed Ed25519 JWK');
    try {
      return new SigningKey(createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d, x }, format: 'jwk' }));
    } catch (err) {
      throw new TrustedKeyError('privateKey', 'invalid Ed25519 JWK', { cause: err });
    }
  }

  /** The private key, for `crypto.sign`. */
  get privateKey(): KeyObject {
    return this.#privateKey;
  }

  /** Exports `{ d, x }` (for writing a key file; handle with care). */
  exportJwk(): { d: string; x: string } {
    const jwk = this.#privateKey.export({ format: 'jwk' });
    if (typeof jwk.d !== 'string' || typeof jwk.x !== 'string')
      throw new TrustedKeyError('privateKey', 'export failed');
    return { d: jwk.d, x: jwk.x };
  }

  /** Redacted. */
  toJSON(): { keyId: string; publicKey: string; privateKey: '[redacted]' } {
    return { keyId: this.keyId, publicKey: this.publicKey, privateKey: '[redacted]' };
  }

  /** Redacted for `util.inspect`. */
  [inspect.custom](): string {
    return `SigningKey { keyId: '${this.keyId}', privateKey: [redacted] }`;
  }
}
