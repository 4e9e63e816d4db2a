/**
 * The user and token registry (issue 8, R-OVS-1): users with a role, an organisation (operators,
 * partners), the purposes they may act for and a scrypt password hash; API tokens (256 random
 * bits) kept only as SHA-256 digests, each bound to a user with its own purposes and an expiry.
 *
 * Persisted in one JSON file under the data directory (`<data>/access.json`, mode 0600), not in
 * the store: the CLI must be able to add users and revoke tokens while the centre runs (DuckDB has
 * a single writer), and every request checks a token without a store round trip. Writes take a
 * lock file, re-read the file, change it and replace it atomically (temporary file, fsync,
 * rename). Readers (the centre) keep a snapshot and re-read the file when its size, mtime or inode
 * changes (checked at most every `reloadIntervalMs`), so a revocation takes effect within that.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fsyncSync, openSync, readFileSync, statSync } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Clock } from '../../common/clock.ts';
import {
  ORGANISATION_ROLES,
  PURPOSES,
  ROLES,
  ROLE_PURPOSES,
  generateToken,
  isPurpose,
  tokenDigest,
  MAX_TOKEN_LENGTH,
  type Principal,
  type Purpose,
  type Role,
  type TokenAuth,
  type UserDirectory,
  type UserSummary,
} from '../../serve/index.ts';
import {
  AccessFileError,
  AccessLockedError,
  AccessPolicyError,
  DuplicateUserError,
  UnknownTokenError,
  UnknownUserError,
} from './errors.ts';
import {
  DEFAULT_SCRYPT,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  hashPassword,
  verifyPassword,
  type ScryptParams,
} from './password.ts';

/** File name of the registry under the data directory. */
export const ACCESS_FILE_NAME = 'access.json';
/** Largest access file read (a registry of people and tokens stays small). */
export const MAX_ACCESS_FILE_BYTES = 16 * 1024 * 1024;
/** Longest token life accepted. */
export const MAX_TOKEN_LIFETIME_MS = 366 * 86_400_000;
/** Pattern of user ids. */
export const USER_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));
const PurposeSchema = Type.Union(PURPOSES.map((p) => Type.Literal(p)));

const UserRecordSchema = Type.Object({
  id: Type.String({ pattern: USER_ID_PATTERN.source }),
  name: Type.String({ maxLength: 200 }),
  role: RoleSchema,
  organisation: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
  purposes: Type.Array(PurposeSchema, { minItems: 1, maxItems: PURPOSES.length }),
  defaultPurpose: PurposeSchema,
  passwordHash: Type.Optional(Type.String({ maxLength: 512 })),
  createdAt: Type.Integer({ minimum: 0 }),
  revokedAt: Type.Optional(Type.Integer({ minimum: 0 })),
});

const TokenRecordSchema = Type.Object({
  id: Type.String({ pattern: '^tok-[0-9a-f]{16}$' }),
  user: Type.String({ maxLength: 64 }),
  digest: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  role: RoleSchema,
  purposes: Type.Array(PurposeSchema, { minItems: 1, maxItems: PURPOSES.length }),
  defaultPurpose: PurposeSchema,
  label: Type.Optional(Type.String({ maxLength: 200 })),
  createdAt: Type.Integer({ minimum: 0 }),
  expiresAt: Type.Integer({ minimum: 0 }),
  revoked: Type.Boolean(),
  revokedAt: Type.Optional(Type.Integer({ minimum: 0 })),
});

const AccessFileSchema = Type.Object({
  version: Type.Literal(1),
  users: Type.Array(UserRecordSchema),
  tokens: Type.Array(TokenRecordSchema),
});

/** A stored user (with its password hash: never leaves this module except to the file). */
export type UserRecord = Static<typeof UserRecordSchema>;
/** A stored token (its digest only). */
export type TokenRecord = Static<typeof TokenRecordSchema>;
/** The access file. */
export type AccessFileContent = Static<typeof AccessFileSchema>;

/** A token as listed (no digest). */
export interface TokenSummary {
  id: string;
  user: string;
  role: Role;
  purposes: readonly Purpose[];
  defaultPurpose: Purpose;
  label?: string;
  createdAt: number;
  expiresAt: number;
  revoked: boolean;
  /** Revoked, expired, or its user revoked. */
  active: boolean;
}

/** A new user. */
export interface NewUser {
  id: string;
  name?: string;
  role: Role;
  organisation?: string;
  /** Default: every purpose of the role. */
  purposes?: readonly Purpose[];
  /** Default: the first of `purposes`. */
  defaultPurpose?: Purpose;
  /** Omitted: the user cannot log in with a password (tokens only). */
  password?: string;
}

/** A new token of an existing user. */
export interface NewToken {
  user: string;
  /** Default: the user's purposes; must be a subset of them. */
  purposes?: readonly Purpose[];
  /** Default: the user's default purpose when among `purposes`, else the first of them. */
  defaultPurpose?: Purpose;
  /** Life of the token (ms), at most `MAX_TOKEN_LIFETIME_MS`. */
  lifetimeMs: number;
  label?: string;
}

/** Options of `AccessRegistry.open`. */
export interface AccessRegistryOptions {
  clock: Clock;
  /** scrypt parameters of new password hashes (tests use cheaper ones). */
  scrypt?: ScryptParams;
  /** Least time between two checks of the file for changes (ms, default 1000). */
  reloadIntervalMs?: number;
}

function emptyFile(): AccessFileContent {
  return { version: 1, users: [], tokens: [] };
}

function stampOf(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/** Reads and validates the access file; a missing file is an empty registry. */
function readAccessFile(path: string): AccessFileContent {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_ACCESS_FILE_BYTES)
      throw new AccessFileError(path, `larger than ${MAX_ACCESS_FILE_BYTES} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof AccessFileError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyFile();
    throw new AccessFileError(path, `cannot read (${(err as Error).message})`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new AccessFileError(path, 'not JSON', { cause: err });
  }
  if (!Value.Check(AccessFileSchema, parsed)) {
    const first = Value.Errors(AccessFileSchema, parsed).First();
    throw new AccessFileError(
      path,
      `not an access file (${first?.path ?? ''}: ${first?.message ?? 'invalid'})`,
    );
  }
  return parsed;
}

/** Writes the file atomically with mode 0600 (temporary file, fsync, rename, fsync of the directory). */
async function writeAccessFile(path: string, content: AccessFileContent): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(content, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new AccessFileError(path, `cannot replace (${(err as Error).message})`, { cause: err });
  }
  try {
    const d = openSync(dir, constants.O_RDONLY);
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
  } catch {
    // Some file systems cannot fsync a directory; the rename is still atomic.
  }
}

/** Lock files older than this are taken to be left over from a crashed writer. */
const STALE_LOCK_MS = 30_000;

async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > STALE_LOCK_MS) await rm(lock, { force: true });
      else if (attempt >= 50) throw new AccessLockedError(path);
      else await new Promise((r) => setTimeout(r, 20));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}

function checkPurposes(role: Role, purposes: readonly Purpose[], what: string): void {
  if (purposes.length === 0) throw new AccessPolicyError(`${what}: at least one purpose`);
  for (const p of purposes)
    if (!ROLE_PURPOSES[role].includes(p))
      throw new AccessPolicyError(
        `${what}: the role ${role} may not act for ${p} (allowed: ${ROLE_PURPOSES[role].join(', ')})`,
      );
}

function summary(u: UserRecord): UserSummary {
  const s: UserSummary = {
    id: u.id,
    name: u.name,
    role: u.role,
    purposes: u.purposes,
    defaultPurpose: u.defaultPurpose,
    createdAt: u.createdAt,
    password: u.passwordHash !== undefined,
  };
  if (u.organisation !== undefined) s.organisation = u.organisation;
  if (u.revokedAt !== undefined) s.revokedAt = u.revokedAt;
  return s;
}

function principalOf(u: UserRecord, purposes: readonly Purpose[], defaultPurpose: Purpose): Principal {
  const p: Principal = { user: u.id, role: u.role, defaultPurpose, purposes };
  if (u.organisation !== undefined) p.organisation = u.organisation;
  return p;
}

/** The registry; implements the server's `TokenAuth` and `UserDirectory`. */
export class AccessRegistry implements TokenAuth, UserDirectory {
  readonly path: string;
  private readonly clock: Clock;
  private readonly scryptParams: ScryptParams;
  private readonly reloadIntervalMs: number;
  private content: AccessFileContent;
  private stamp: string | undefined;
  private lastCheck: number;
  private byDigest = new Map<string, TokenRecord>();
  private byUser = new Map<string, UserRecord>();
  private dummyHash: Promise<string> | undefined;

  private constructor(path: string, opts: AccessRegistryOptions) {
    this.path = path;
    this.clock = opts.clock;
    this.scryptParams = opts.scrypt ?? DEFAULT_SCRYPT;
    this.reloadIntervalMs = opts.reloadIntervalMs ?? 1000;
    this.stamp = stampOf(path);
    this.content = readAccessFile(path);
    this.lastCheck = this.clock.now();
    this.index();
  }

  /** Opens (reads) the registry at `path`; a missing file is an empty registry, created on first write. */
  static open(path: string, opts: AccessRegistryOptions): AccessRegistry {
    return new AccessRegistry(path, opts);
  }

  private index(): void {
    this.byDigest = new Map(this.content.tokens.map((t) => [t.digest, t]));
    this.byUser = new Map(this.content.users.map((u) => [u.id, u]));
  }

  /** Re-reads the file when it changed since the last read (at most every `reloadIntervalMs`). */
  private fresh(): void {
    const now = this.clock.now();
    if (now - this.lastCheck < this.reloadIntervalMs) return;
    this.reload();
  }

  /** Re-reads the file now if it changed. A file that became unreadable keeps the last good state. */
  reload(): void {
    this.lastCheck = this.clock.now();
    const s = stampOf(this.path);
    if (s === this.stamp) return;
    try {
      this.content = readAccessFile(this.path);
      this.stamp = s;
      this.index();
    } catch {
      // Keep serving the last good snapshot; the CLI reports the broken file when it touches it.
    }
  }

  private activeUser(id: string): UserRecord | undefined {
    const u = this.byUser.get(id);
    return u === undefined || u.revokedAt !== undefined ? undefined : u;
  }

  /** The principal of a bearer token: known, not revoked, not expired, its user active. */
  authenticate(token: string): Principal | undefined {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return undefined;
    this.fresh();
    const t = this.byDigest.get(tokenDigest(token));
    if (t === undefined || t.revoked || t.expiresAt <= this.clock.now()) return undefined;
    const u = this.activeUser(t.user);
    if (u === undefined || u.role !== t.role) return undefined;
    const purposes = t.purposes.filter((p) => u.purposes.includes(p));
    if (purposes.length === 0) return undefined;
    return principalOf(
      u,
      purposes,
      purposes.includes(t.defaultPurpose) ? t.defaultPurpose : (purposes[0] ?? t.defaultPurpose),
    );
  }

  /** The user's principal now (for sessions); undefined when unknown or revoked. */
  principal(user: string): Principal | undefined {
    this.fresh();
    const u = this.activeUser(user);
    return u === undefined ? undefined : principalOf(u, u.purposes, u.defaultPurpose);
  }

  /**
   * The principal when `password` is the user's. Unknown users and users without a password cost
   * one scrypt computation too, so the answer time does not tell which user ids exist.
   */
  async verifyPassword(user: string, password: string): Promise<Principal | undefined> {
    this.fresh();
    if (password.length > MAX_PASSWORD_LENGTH) return undefined;
    const u = this.activeUser(user);
    if (u === undefined || u.passwordHash === undefined) {
      this.dummyHash ??= hashPassword(randomBytes(16).toString('hex'), this.scryptParams);
      await verifyPassword(password, await this.dummyHash);
      return undefined;
    }
    if (!(await verifyPassword(password, u.passwordHash))) return undefined;
    return principalOf(u, u.purposes, u.defaultPurpose);
  }

  /** Every user (active and revoked), without secrets. */
  listUsers(): UserSummary[] {
    this.fresh();
    return this.content.users.map(summary);
  }

  /** Every token, without digests. */
  listTokens(): TokenSummary[] {
    this.fresh();
    const now = this.clock.now();
    return this.content.tokens.map((t) => {
      const s: TokenSummary = {
        id: t.id,
        user: t.user,
        role: t.role,
        purposes: t.purposes,
        defaultPurpose: t.defaultPurpose,
        createdAt: t.createdAt,
        expiresAt: t.expiresAt,
        revoked: t.revoked,
        active: !t.revoked && t.expiresAt > now && this.activeUser(t.user) !== undefined,
      };
      if (t.label !== undefined) s.label = t.label;
      return s;
    });
  }

  /** Locks the file, re-reads it, applies `change` and writes it back. */
  private async update<T>(change: (c: AccessFileContent) => Promise<T> | T): Promise<T> {
    return withLock(this.path, async () => {
      const c = readAccessFile(this.path);
      const result = await change(c);
      await writeAccessFile(this.path, c);
      this.content = c;
      this.stamp = stampOf(this.path);
      this.lastCheck = this.clock.now();
      this.index();
      return result;
    });
  }

  /** Adds a user; refuses duplicates, purposes the role may not act for and weak passwords. */
  async addUser(input: NewUser): Promise<UserSummary> {
    if (!USER_ID_PATTERN.test(input.id))
      throw new AccessPolicyError(
        `user id ${JSON.stringify(input.id)}: lower-case letters, digits, . _ - (≤ 64)`,
      );
    const purposes = [...(input.purposes ?? ROLE_PURPOSES[input.role])];
    checkPurposes(input.role, purposes, `user ${input.id}`);
    const defaultPurpose = input.defaultPurpose ?? purposes[0] ?? 'monitoring';
    if (!purposes.includes(defaultPurpose))
      throw new AccessPolicyError(
        `user ${input.id}: the default purpose ${defaultPurpose} is not among its purposes`,
      );
    const needsOrg = ORGANISATION_ROLES.includes(input.role);
    if (needsOrg && (input.organisation === undefined || input.organisation === ''))
      throw new AccessPolicyError(`user ${input.id}: the role ${input.role} needs an organisation`);
    if (!needsOrg && input.organisation !== undefined)
      throw new AccessPolicyError(
        `user ${input.id}: only ${ORGANISATION_ROLES.join(' and ')} users have an organisation`,
      );
    let passwordHash: string | undefined;
    if (input.password !== undefined) {
      if (input.password.length < MIN_PASSWORD_LENGTH || input.password.length > MAX_PASSWORD_LENGTH)
        throw new AccessPolicyError(`password: ${MIN_PASSWORD_LENGTH}..${MAX_PASSWORD_LENGTH} characters`);
      passwordHash = await hashPassword(input.password, this.scryptParams);
    }
    return this.update((c) => {
      if (c.users.some((u) => u.id === input.id)) throw new DuplicateUserError(input.id);
      const u: UserRecord = {
        id: input.id,
        name: input.name ?? input.id,
        role: input.role,
        purposes,
        defaultPurpose,
        createdAt: this.clock.now(),
      };
      if (input.organisation !== undefined) u.organisation = input.organisation;
      if (passwordHash !== undefined) u.passwordHash = passwordHash;
      c.users.push(u);
      return summary(u);
    });
  }

  /** Sets (or replaces) a user's password. */
  async setPassword(id: string, password: string): Promise<void> {
    if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH)
      throw new AccessPolicyError(`password: ${MIN_PASSWORD_LENGTH}..${MAX_PASSWORD_LENGTH} characters`);
    const hash = await hashPassword(password, this.scryptParams);
    await this.update((c) => {
      const u = c.users.find((x) => x.id === id);
      if (u === undefined || u.revokedAt !== undefined) throw new UnknownUserError(id);
      u.passwordHash = hash;
    });
  }

  /** Revokes a user: its password and every token stop working (idempotent). */
  async revokeUser(id: string): Promise<void> {
    await this.update((c) => {
      const u = c.users.find((x) => x.id === id);
      if (u === undefined) throw new UnknownUserError(id);
      const now = this.clock.now();
      u.revokedAt ??= now;
      for (const t of c.tokens)
        if (t.user === id && !t.revoked) {
          t.revoked = true;
          t.revokedAt = now;
        }
    });
  }

  /** Creates a token for an active user; returns the token text (shown once) and its summary. */
  async createToken(input: NewToken): Promise<{ token: string; summary: TokenSummary }> {
    if (
      !Number.isInteger(input.lifetimeMs) ||
      input.lifetimeMs <= 0 ||
      input.lifetimeMs > MAX_TOKEN_LIFETIME_MS
    )
      throw new AccessPolicyError(`token lifetime: 1 ms .. ${MAX_TOKEN_LIFETIME_MS / 86_400_000} days`);
    if (input.purposes !== undefined && !input.purposes.every(isPurpose))
      throw new AccessPolicyError('token purposes: unknown purpose');
    const token = generateToken();
    const id = `tok-${randomBytes(8).toString('hex')}`;
    return this.update((c) => {
      const u = c.users.find((x) => x.id === input.user);
      if (u === undefined || u.revokedAt !== undefined) throw new UnknownUserError(input.user);
      const purposes = [...(input.purposes ?? u.purposes)];
      checkPurposes(u.role, purposes, `token of ${u.id}`);
      for (const p of purposes)
        if (!u.purposes.includes(p))
          throw new AccessPolicyError(`token of ${u.id}: the user may not act for ${p}`);
      const defaultPurpose =
        input.defaultPurpose ??
        (purposes.includes(u.defaultPurpose) ? u.defaultPurpose : (purposes[0] ?? u.defaultPurpose));
      if (!purposes.includes(defaultPurpose))
        throw new AccessPolicyError(
          `token of ${u.id}: the default purpose ${defaultPurpose} is not among its purposes`,
        );
      const now = this.clock.now();
      const t: TokenRecord = {
        id,
        user: u.id,
        digest: tokenDigest(token),
        role: u.role,
        purposes,
        defaultPurpose,
        createdAt: now,
        expiresAt: now + input.lifetimeMs,
        revoked: false,
      };
      if (input.label !== undefined) t.label = input.label;
      c.tokens.push(t);
      const s: TokenSummary = {
        id,
        user: u.id,
        role: u.role,
        purposes,
        defaultPurpose,
        createdAt: t.createdAt,
        expiresAt: t.expiresAt,
        revoked: false,
        active: true,
      };
      if (t.label !== undefined) s.label = t.label;
      return { token, summary: s };
    });
  }

  /** Revokes a token (idempotent). */
  async revokeToken(id: string): Promise<void> {
    await this.update((c) => {
      const t = c.tokens.find((x) => x.id === id);
      if (t === undefined) throw new UnknownTokenError(id);
      if (!t.revoked) {
        t.revoked = true;
        t.revokedAt = this.clock.now();
      }
    });
  }
}

/**
 * One `TokenAuth` over several: the first that knows a token answers. The centre combines the
 * registry with the demo token (`demoTokenEntry`, issue 7), which keeps working unchanged.
 */
export function combineTokenAuth(...auths: readonly TokenAuth[]): TokenAuth {
  return {
    authenticate(token) {
      for (const a of auths) {
        const p = a.authenticate(token);
        if (p !== undefined) return p;
      }
      return undefined;
    },
  };
}
