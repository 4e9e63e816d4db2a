/**
 * Public surface of the local key store (`acd keys`): commission and audit keys, personal
 * re-identification keys, public-keys files.
 */
export { KeyStoreError, PublicKeysFileError, type KeyStoreErrorCode } from './errors.ts';
export {
  KeyStore,
  DEFAULT_KEYS_DIR,
  DEFAULT_KEY_VALIDITY_MS,
  DEFAULT_SIGNERS,
  KEY_REGISTRY_FORMAT,
  PRIVATE_KEY_FORMAT,
  type KeyInfo,
} from './store.ts';
export {
  parsePublicKeys,
  resolvePublicKey,
  KEY_PURPOSES,
  PERSONAL_KEY_PURPOSES,
  MAX_PUBLIC_KEYS,
  MAX_PUBLIC_KEYS_BYTES,
  PUBLIC_KEYS_FORMAT,
  PublicKeyEntrySchema,
  PublicKeysFileSchema,
  type AnyKeyPurpose,
  type KeyPurpose,
  type PersonalKeyPurpose,
  type PublicKeyEntry,
  type PublicKeyInfo,
  type PublicKeysFile,
} from './public.ts';
