/**
 * Signed documents (DESIGN section 6): RFC 8785 canonical JSON, Ed25519 signatures, key ids,
 * trusted key sets with validity windows, and the public demonstration keys.
 */
export {
  canonicalize,
  canonicalBytes,
  canonicalNumber,
  canonicalString,
  MAX_CANONICAL_DEPTH,
} from './jcs.ts';
export {
  CanonicalizationError,
  SignatureError,
  DocumentInvalidError,
  TrustedKeyError,
  type SignatureErrorCode,
} from './errors.ts';
export { SigningKey, keyIdOf, publicKeyFromBase64url, rawPublicKey, SIGNATURE_ALG } from './keys.ts';
export {
  TrustedKeySet,
  TrustedKeyConfigSchema,
  resolveTrustedKey,
  parseIsoTimestamp,
  IsoTimestamp,
  KEY_SCOPES,
  type KeyScope,
  type TrustedKey,
  type TrustedKeyConfig,
} from './trust.ts';
export {
  signDocument,
  addSignature,
  verifyDocument,
  DEFAULT_MAX_CLOCK_SKEW_MS,
  MAX_SIGNATURES,
  MAX_PAYLOAD_BYTES,
  type DocumentSignature,
  type SignedDocument,
  type SignedPayloadBase,
  type VerifiedDocument,
  type VerifiedSigner,
  type VerifyOptions,
} from './document.ts';
export {
  isDemoKey,
  demoFeedSet,
  demoSigningKey,
  demoTrustedKeys,
  DEMO_KEY_IDS,
  DEMO_VALID_FROM,
  DEMO_VALID_UNTIL,
  type DemoFeedSet,
  type DemoKeyRole,
} from './demo.ts';
