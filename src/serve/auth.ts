/**
 * Bearer-token authentication. The token table maps a token to a user, a role and a default
 * purpose; tokens are held only as SHA-256 digests so a heap dump or a log line cannot leak them.
 * The user registry of issue 8 (src/oversee/access) implements the same `TokenAuth` with revocable,
 * expiring tokens and adds `UserDirectory` (password login, sessions, user list).
 */
import { createHash, randomBytes } from 'node:crypto';
import { ConfigError } from '../common/errors.ts';
import { isPurpose, isRole, type Purpose, type Role } from './access.ts';

/** Who is calling. */
export interface Principal {
  user: string;
  role: Role;
  /** Purpose used when the request names none (`X-ACD-Purpose`). */
  defaultPurpose: Purpose;
  /** Purposes this principal may act for; absent = every purpose of its role (`ROLE_PURPOSES`). */
  purposes?: readonly Purpose[];
  /** The organisation (operator id) or agency of operator and partner principals. */
  organisation?: string;
}

/** The caller of one request, with the purpose it acts for. */
export interface Actor {
  user: string;
  role: Role;
  purpose: Purpose;
  /** Operator id / agency of operator and partner callers (filters what they see). */
  organisation?: string;
  /** How the caller authenticated. */
  via?: 'token' | 'session';
}

/** A user as the API lists it (never a password hash or a token digest). */
export interface UserSummary {
  id: string;
  name: string;
  role: Role;
  organisation?: string;
  purposes: readonly Purpose[];
  defaultPurpose: Purpose;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms; absent while the user is active. */
  revokedAt?: number;
  /** Whether the user can log in with a password. */
  password: boolean;
}

/**
 * The user registry as the server needs it: password login (for sessions), the current state of
 * a user (a revoked user's sessions stop working at the next request) and the list of users.
 */
export interface UserDirectory {
  /** The principal when `password` is the user's; undefined otherwise (unknown, revoked, wrong). */
  verifyPassword(user: string, password: string): Promise<Principal | undefined>;
  /** The user's principal now; undefined when unknown or revoked. */
  principal(user: string): Principal | undefined;
  /** Every user. */
  listUsers(): UserSummary[];
}

/** Resolves bearer tokens. */
export interface TokenAuth {
  /** The principal of a token, or undefined when the token is unknown (or revoked). */
  authenticate(token: string): Principal | undefined;
}

/** One configured token. */
export interface TokenEntry extends Principal {
  token: string;
}

/** Shortest token accepted: short enough for a memorable demo token, long enough not to be guessed in a rate-limit window. */
export const MIN_TOKEN_LENGTH = 16;
/** Longest token looked at; longer bearer values are rejected without hashing them. */
export const MAX_TOKEN_LENGTH = 512;

/** The environment variable holding the demo analyst token (issue 7). */
export const DEMO_TOKEN_ENV = 'ACD_DEMO_TOKEN';

/** SHA-256 (hex) of a token: the only form in which tokens are kept. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * A token table. Lookups go through a digest map, so the time taken does not depend on how much
 * of a guessed token matches a real one.
 */
export function createTokenAuth(entries: readonly TokenEntry[]): TokenAuth {
  const byDigest = new Map<string, Principal>();
  entries.forEach((e, i) => {
    const key = `tokens[${i}]`;
    if (e.token.length < MIN_TOKEN_LENGTH || e.token.length > MAX_TOKEN_LENGTH)
      throw new ConfigError(key, `token must be ${MIN_TOKEN_LENGTH}..${MAX_TOKEN_LENGTH} characters`);
    if (!isRole(e.role)) throw new ConfigError(key, `unknown role ${JSON.stringify(e.role)}`);
    if (!isPurpose(e.defaultPurpose))
      throw new ConfigError(key, `unknown purpose ${JSON.stringify(e.defaultPurpose)}`);
    if (e.purposes !== undefined && !e.purposes.every(isPurpose))
      throw new ConfigError(key, 'unknown purpose in purposes');
    const p: Principal = { user: e.user, role: e.role, defaultPurpose: e.defaultPurpose };
    if (e.purposes !== undefined) p.purposes = [...e.purposes];
    if (e.organisation !== undefined) p.organisation = e.organisation;
    byDigest.set(tokenDigest(e.token), p);
  });
  return {
    authenticate(token) {
      if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return undefined;
      return byDigest.get(tokenDigest(token));
    },
  };
}

/** A fresh random token (256 bits, base64url), e.g. for the demo when `ACD_DEMO_TOKEN` is unset. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The demo's token entry: the analyst token from `ACD_DEMO_TOKEN`, or a generated one (which the
 * CLI prints). Default purpose `monitoring`.
 */
export function demoTokenEntry(env: Record<string, string | undefined> = process.env): {
  entry: TokenEntry;
  generated: boolean;
} {
  const given = env[DEMO_TOKEN_ENV];
  const token = given !== undefined && given.length > 0 ? given : generateToken();
  if (token.length < MIN_TOKEN_LENGTH || token.length > MAX_TOKEN_LENGTH)
    throw new ConfigError(
      DEMO_TOKEN_ENV,
      `must be ${MIN_TOKEN_LENGTH}..${MAX_TOKEN_LENGTH} characters (e.g. openssl rand -base64 32)`,
    );
  return {
    entry: { token, user: 'demo-analyst', role: 'analyst', defaultPurpose: 'monitoring' },
    generated: token !== given,
  };
}

/** Environment variables of the demo's further principals (issue 8: approvals, re-identification). */
export const DEMO_ROLE_TOKEN_ENVS = {
  supervisor: 'ACD_DEMO_SUPERVISOR_TOKEN',
  inspector: 'ACD_DEMO_INSPECTOR_TOKEN',
} as const;

/**
 * The demo's further principals, so that the oversight workflows can be tried out: a supervisor
 * (`demo-supervisor`: the second person of a re-identification) and a commission inspector
 * (`demo-inspector`: decides approval cases, reads the audit log). Tokens from the environment
 * variables of {@link DEMO_ROLE_TOKEN_ENVS}, or generated (the CLI prints them).
 */
export function demoRoleTokenEntries(
  env: Record<string, string | undefined> = process.env,
): { entry: TokenEntry; generated: boolean; variable: string }[] {
  const principals = [
    { role: 'supervisor', user: 'demo-supervisor', defaultPurpose: 'monitoring' },
    { role: 'inspector', user: 'demo-inspector', defaultPurpose: 'oversight' },
  ] as const;
  return principals.map((p) => {
    const variable = DEMO_ROLE_TOKEN_ENVS[p.role];
    const given = env[variable];
    const token = given !== undefined && given.length > 0 ? given : generateToken();
    if (token.length < MIN_TOKEN_LENGTH || token.length > MAX_TOKEN_LENGTH)
      throw new ConfigError(variable, `must be ${MIN_TOKEN_LENGTH}..${MAX_TOKEN_LENGTH} characters`);
    return {
      entry: { token, user: p.user, role: p.role, defaultPurpose: p.defaultPurpose },
      generated: token !== given,
      variable,
    };
  });
}

/**
 * The token of an `Authorization` header value: `Bearer <token>` (scheme case-insensitive), or
 * undefined for anything else. Pure; bounded by `MAX_TOKEN_LENGTH`.
 */
export function parseBearer(header: string | undefined): string | undefined {
  if (header === undefined || header.length > MAX_TOKEN_LENGTH + 16) return undefined;
  const m = /^bearer[ ]+([A-Za-z0-9._~+/=-]+)[ ]*$/i.exec(header);
  return m ? m[1] : undefined;
}
