/**
 * Pseudonymisation at the edge (R-SEL-4, R-OVS-2): Crypto-PAn for addresses, keyed hashing for
 * other identifiers, the key store with epochs and rotation, and re-identification.
 */
export {
  CryptoPan,
  CRYPTOPAN_KEY_BYTES,
  DEFAULT_CACHE_ENTRIES,
  MAX_CACHE_ENTRIES,
  type CryptoPanOptions,
  type CryptoPanStats,
} from './cryptopan.ts';
export { KeyedHasher, HMAC_TAG_BYTES, HMAC_KEY_BYTES, MAX_IDENTIFIER_LENGTH } from './hmac.ts';
export {
  KeyStore,
  EpochKey,
  KEY_FILE_FORMAT,
  EPOCH_SECRET_BYTES,
  type KeyStoreConfig,
  type KeyEpochInfo,
} from './keys.ts';
export {
  createReidentifier,
  REQUIRED_SIGNERS,
  type Reidentifier,
  type ReidentifierDeps,
  type ReidentificationAnswer,
  type ReidentifiedAddress,
  type AuthorisedRequest,
  type EpochKeySource,
} from './reidentify.ts';
export {
  PseudonymKeyError,
  KeyPermissionError,
  KeyFileError,
  KeyEpochUnknownError,
  KeyStoreStateError,
  ReidentificationError,
  type ReidentificationErrorCode,
} from './errors.ts';
