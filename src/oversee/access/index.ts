/**
 * Access control of the centre (issue 8, R-OVS-1): the user and token registry and password
 * hashing. Enforcement lives in the API server (src/serve/access.ts `decideAccess`, the auth hook
 * in server.ts); this module is what it authenticates against.
 */
export {
  AccessRegistry,
  ACCESS_FILE_NAME,
  MAX_TOKEN_LIFETIME_MS,
  USER_ID_PATTERN,
  combineTokenAuth,
  type AccessRegistryOptions,
  type NewToken,
  type NewUser,
  type TokenSummary,
} from './registry.ts';
export {
  DEFAULT_SCRYPT,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  hashPassword,
  parsePasswordHash,
  verifyPassword,
  type ScryptParams,
} from './password.ts';
export {
  AccessFileError,
  AccessLockedError,
  AccessPolicyError,
  DuplicateUserError,
  UnknownTokenError,
  UnknownUserError,
} from './errors.ts';
