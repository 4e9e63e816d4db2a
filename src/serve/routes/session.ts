/**
 * Dashboard login and the user list (issue 8): `POST /api/session/login {user, password}` checks
 * the password against the user registry (scrypt, src/oversee/access), limits attempts per user and
 * per client address with backoff, and sets the session cookie (HttpOnly, SameSite=Strict, Secure
 * under TLS) plus the readable CSRF cookie; the CSRF token is also in the answer. `POST
 * /api/session/logout` ends the session and clears both cookies. `GET /api/users` lists the users
 * for administrators (never hashes or token digests).
 */
import { Type } from '@sinclair/typebox';
import { ACCESS, PUBLIC, ROLES } from '../access.ts';
import type { ServeConfig } from '../config.ts';
import type { ServeMetrics } from '../metrics.ts';
import { RateLimitedError, UnauthorisedError, UnavailableError } from '../errors.ts';
import { ProblemResponses, ProblemSchema } from '../schemas.ts';
import type { ServeApp } from '../server.ts';
import {
  CSRF_COOKIE,
  SESSION_COOKIE,
  formatSetCookie,
  type LoginLimiter,
  type SessionManager,
} from '../session.ts';
import type { ServeDeps } from '../types.ts';

/** Longest user name accepted at login. */
export const MAX_LOGIN_USER = 128;
/** Longest password accepted at login (scrypt hashes anything, but bodies stay small). */
export const MAX_LOGIN_PASSWORD = 1024;

/** What the session routes need from the server. */
export interface SessionRouteOptions {
  sessions: SessionManager;
  limiter: LoginLimiter;
  /** TLS: cookies get `Secure`. */
  secure: boolean;
  config: ServeConfig;
  metrics: ServeMetrics;
}

const LoginBody = Type.Object(
  {
    user: Type.String({ minLength: 1, maxLength: MAX_LOGIN_USER }),
    password: Type.String({ minLength: 1, maxLength: MAX_LOGIN_PASSWORD }),
  },
  { additionalProperties: false },
);

const LoginAnswer = Type.Object({
  user: Type.String(),
  role: Type.String(),
  purpose: Type.String(),
  csrf: Type.String({ description: 'Send as X-CSRF-Token on POST/DELETE (also in the acd_csrf cookie).' }),
});

const UserSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.Union(ROLES.map((r) => Type.Literal(r))),
  organisation: Type.Optional(Type.String()),
  purposes: Type.Array(Type.String()),
  defaultPurpose: Type.String(),
  createdAt: Type.String(),
  revokedAt: Type.Optional(Type.String()),
  password: Type.Boolean(),
});

/** Registers login, logout and the user list. */
export function registerSessionRoutes(app: ServeApp, deps: ServeDeps, opts: SessionRouteOptions): void {
  const { sessions, limiter, secure, config } = opts;
  const logins = opts.metrics.logins;
  const cookieAge = Math.floor(config.session.maxAge / 1000);

  app.post(
    '/api/session/login',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['session'],
        summary:
          'Password login for the dashboard: sets an HttpOnly session cookie and a CSRF cookie (429 with Retry-After after repeated failures).',
        security: [],
        body: LoginBody,
        response: { 200: LoginAnswer, ...ProblemResponses, 503: ProblemSchema },
      },
    },
    async (request, reply) => {
      const users = deps.users;
      if (users === undefined) throw new UnavailableError('password login is not configured on this server');
      const { user, password } = request.body;
      const keys = [`user:${user}`, `addr:${request.ip}`];
      const wait = Math.max(...keys.map((k) => limiter.retryAfter(k)));
      if (wait > 0) {
        logins.labels({ outcome: 'limited' }).inc();
        throw new RateLimitedError(Math.max(1, Math.ceil(wait / 1000)));
      }
      const principal = await users.verifyPassword(user, password);
      if (principal === undefined) {
        for (const k of keys) limiter.fail(k);
        logins.labels({ outcome: 'refused' }).inc();
        deps.logger.info({ user, address: request.ip }, 'login refused');
        throw new UnauthorisedError('user or password not accepted');
      }
      for (const k of keys) limiter.reset(k);
      const { session, cookie } = sessions.create(principal);
      logins.labels({ outcome: 'ok' }).inc();
      deps.logger.info({ user: principal.user, role: principal.role }, 'login');
      void reply.header('set-cookie', [
        formatSetCookie(SESSION_COOKIE, cookie, { httpOnly: true, secure, maxAge: cookieAge }),
        formatSetCookie(CSRF_COOKIE, session.csrf, { httpOnly: false, secure, maxAge: cookieAge }),
      ]);
      void reply.header('cache-control', 'no-store');
      return {
        user: principal.user,
        role: principal.role,
        purpose: principal.defaultPurpose,
        csrf: session.csrf,
      };
    },
  );

  app.post(
    '/api/session/logout',
    {
      config: { access: ACCESS.self },
      schema: {
        tags: ['session'],
        summary: 'Ends the dashboard session and clears its cookies (204; a no-op for bearer tokens).',
        response: { 204: Type.Null(), ...ProblemResponses },
      },
    },
    async (request, reply) => {
      const s = request.acdSession;
      if (s !== null) {
        sessions.destroy(s.id);
        void reply.header('set-cookie', [
          formatSetCookie(SESSION_COOKIE, '', { httpOnly: true, secure, maxAge: 0 }),
          formatSetCookie(CSRF_COOKIE, '', { httpOnly: false, secure, maxAge: 0 }),
        ]);
      }
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/users',
    {
      config: { access: ACCESS.users },
      schema: {
        tags: ['administration'],
        summary: 'Users of the registry: role, organisation, purposes, created and revoked (no secrets).',
        response: { 200: Type.Object({ items: Type.Array(UserSchema) }), ...ProblemResponses },
      },
    },
    () => {
      const items = (deps.users?.listUsers() ?? []).map((u) => ({
        id: u.id,
        name: u.name,
        role: u.role,
        ...(u.organisation !== undefined ? { organisation: u.organisation } : {}),
        purposes: [...u.purposes],
        defaultPurpose: u.defaultPurpose,
        createdAt: new Date(u.createdAt).toISOString(),
        ...(u.revokedAt !== undefined ? { revokedAt: new Date(u.revokedAt).toISOString() } : {}),
        password: u.password,
      }));
      return { items };
    },
  );
}
