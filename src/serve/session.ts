/**
 * Dashboard sessions (issue 8): a password login gives an HMAC-signed session cookie (HttpOnly,
 * SameSite=Strict, Secure under TLS) and a CSRF token; state-changing requests authenticated by
 * the cookie must echo the CSRF token in `X-CSRF-Token` (double submit: the same token is also in
 * a readable cookie, and it is bound to the session by an HMAC, so a token from another session
 * does not fit). Sessions live in this process's memory: a restart signs everybody out, which is
 * acceptable for a dashboard and keeps nothing secret on disk. Login attempts are limited per user
 * and per client address with exponential backoff. Cookie parsing is pure and bounded.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../common/clock.ts';
import type { Principal } from './auth.ts';

/** Name of the session cookie (HttpOnly). */
export const SESSION_COOKIE = 'acd_session';
/** Name of the CSRF cookie (readable by the page's script; double submit). */
export const CSRF_COOKIE = 'acd_csrf';
/** Header a cookie-authenticated state-changing request carries the CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';

/** Longest `Cookie` header looked at; longer ones are ignored (no session). */
export const MAX_COOKIE_HEADER = 8192;
/** Most cookies read from one header. */
export const MAX_COOKIES = 64;
/** Longest cookie value kept. */
export const MAX_COOKIE_VALUE = 512;

/**
 * The cookies of a `Cookie` header (RFC 6265 section 5.4: `name=value` pairs separated by `;`),
 * first occurrence of a name wins; quoted values are unquoted; no percent-decoding (our values are
 * base64url). Pure and bounded: over-long headers, values and counts are cut off, never thrown on.
 */
export function parseCookieHeader(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (header === undefined || header.length > MAX_COOKIE_HEADER) return out;
  let count = 0;
  for (const part of header.split(';')) {
    if (++count > MAX_COOKIES) break;
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (name === '' || value.length > MAX_COOKIE_VALUE || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name))
      continue;
    if (!out.has(name)) out.set(name, value);
  }
  return out;
}

/** Options of a `Set-Cookie` value. */
export interface CookieOptions {
  httpOnly: boolean;
  secure: boolean;
  /** Seconds; 0 deletes the cookie. */
  maxAge: number;
}

/** A `Set-Cookie` header value: path `/`, SameSite=Strict always. */
export function formatSetCookie(name: string, value: string, opts: CookieOptions): string {
  const parts = [
    `${name}=${value}`,
    'Path=/',
    `Max-Age=${Math.max(0, Math.floor(opts.maxAge))}`,
    'SameSite=Strict',
  ];
  if (opts.httpOnly) parts.push('HttpOnly');
  if (opts.secure) parts.push('Secure');
  return parts.join('; ');
}

function mac(secret: Buffer, label: string, value: string): string {
  return createHmac('sha256', secret).update(label).update('\0').update(value).digest('base64url');
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `value.mac`: what goes into the session cookie. */
export function signValue(secret: Buffer, value: string): string {
  return `${value}.${mac(secret, 'session', value)}`;
}

/** The value of a `signValue` output, or undefined when the signature does not fit. Pure. */
export function verifySignedValue(secret: Buffer, signed: string): string | undefined {
  if (signed.length > MAX_COOKIE_VALUE) return undefined;
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const value = signed.slice(0, dot);
  return equal(signed.slice(dot + 1), mac(secret, 'session', value)) ? value : undefined;
}

/** Settings of the session manager (from `serve.session`). */
export interface SessionSettings {
  /** Idle time after which a session ends (ms). */
  idleMs: number;
  /** Longest life of a session regardless of activity (ms). */
  maxAgeMs: number;
  /** Most sessions held; the oldest is dropped beyond. */
  maxSessions: number;
}

/** A live session. */
export interface Session {
  id: string;
  /** The user id (the principal is re-read from the directory on each request). */
  user: string;
  csrf: string;
  createdAt: number;
  lastSeen: number;
}

/** Sessions of this process. */
export interface SessionManager {
  /** Starts a session for `principal`; returns it with the signed cookie value. */
  create(principal: Principal): { session: Session; cookie: string };
  /** The session of a signed cookie value, when valid and not expired (refreshes its idle time). */
  resolve(cookie: string): Session | undefined;
  /** Ends a session. */
  destroy(id: string): void;
  /** Ends every session of a user. */
  destroyUser(user: string): void;
  /** True when `token` is the CSRF token of `session`. */
  checkCsrf(session: Session, token: string | undefined): boolean;
  /** Number of live sessions. */
  readonly size: number;
}

/** Creates a session manager with a fresh random signing secret (or the given one). */
export function createSessionManager(
  clock: Clock,
  settings: SessionSettings,
  secret: Buffer = randomBytes(32),
): SessionManager {
  const sessions = new Map<string, Session>();
  const expired = (s: Session, now: number): boolean =>
    now - s.lastSeen > settings.idleMs || now - s.createdAt > settings.maxAgeMs;
  return {
    create(principal) {
      const now = clock.now();
      for (const [id, s] of sessions) if (expired(s, now)) sessions.delete(id);
      while (sessions.size >= settings.maxSessions) {
        const oldest = sessions.keys().next();
        if (oldest.done === true) break;
        sessions.delete(oldest.value);
      }
      const id = randomBytes(32).toString('base64url');
      const session: Session = {
        id,
        user: principal.user,
        csrf: mac(secret, 'csrf', id),
        createdAt: now,
        lastSeen: now,
      };
      sessions.set(id, session);
      return { session, cookie: signValue(secret, id) };
    },
    resolve(cookie) {
      const id = verifySignedValue(secret, cookie);
      if (id === undefined) return undefined;
      const s = sessions.get(id);
      if (s === undefined) return undefined;
      const now = clock.now();
      if (expired(s, now)) {
        sessions.delete(id);
        return undefined;
      }
      s.lastSeen = now;
      return s;
    },
    destroy(id) {
      sessions.delete(id);
    },
    destroyUser(user) {
      for (const [id, s] of sessions) if (s.user === user) sessions.delete(id);
    },
    checkCsrf(session, token) {
      return token !== undefined && token.length <= MAX_COOKIE_VALUE && equal(token, session.csrf);
    },
    get size() {
      return sessions.size;
    },
  };
}

/** Settings of the login limiter (from `serve.login`). */
export interface LoginLimitSettings {
  /** Failures allowed per key before backoff starts. */
  freeFailures: number;
  /** First lock-out after the free failures (ms); doubles with each further failure. */
  baseDelayMs: number;
  /** Longest lock-out (ms). */
  maxDelayMs: number;
  /** Keys tracked (users and addresses); the least recently failed are forgotten beyond. */
  maxKeys: number;
}

/** Failed-login bookkeeping per key (`user:<id>`, `addr:<ip>`). */
export interface LoginLimiter {
  /** Milliseconds until `key` may try again; 0 when it may now. */
  retryAfter(key: string): number;
  /** Records a failure of `key`. */
  fail(key: string): void;
  /** Forgets the failures of `key` (after a success). */
  reset(key: string): void;
}

/**
 * Exponential backoff per key: the `freeFailures`-th failure and each further one lock the key for
 * `baseDelayMs · 2^(n − freeFailures)` (n = failures so far), at most `maxDelayMs`. Time from `clock`.
 */
export function createLoginLimiter(clock: Clock, settings: LoginLimitSettings): LoginLimiter {
  const state = new Map<string, { failures: number; until: number }>();
  return {
    retryAfter(key) {
      const s = state.get(key);
      return s === undefined ? 0 : Math.max(0, s.until - clock.now());
    },
    fail(key) {
      const s = state.get(key) ?? { failures: 0, until: 0 };
      state.delete(key);
      s.failures++;
      const over = s.failures - settings.freeFailures;
      if (over >= 0)
        s.until = clock.now() + Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** Math.min(over, 30));
      state.set(key, s);
      while (state.size > settings.maxKeys) {
        const oldest = state.keys().next();
        if (oldest.done === true) break;
        state.delete(oldest.value);
      }
    },
    reset(key) {
      state.delete(key);
    },
  };
}
