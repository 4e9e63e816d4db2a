/**
 * Dashboard login, sessions, CSRF and the login rate limit (issue 8), in process against the real
 * user registry (src/oversee/access) in a temporary directory; cheap scrypt parameters.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessRegistry, combineTokenAuth } from '../oversee/access/index.ts';
import { alertOf, T0 } from '../store/testing.ts';
import { defaultServeConfig, type ServeConfig } from './config.ts';
import { createServer, type ApiServer } from './server.ts';
import {
  CSRF_COOKIE,
  MAX_COOKIE_HEADER,
  SESSION_COOKIE,
  createLoginLimiter,
  parseCookieHeader,
  signValue,
  verifySignedValue,
} from './session.ts';
import { testDeps, tokenOf } from './testing.ts';

const CHEAP = { N: 1024, r: 8, p: 1, keyLength: 32, saltLength: 16 };
const PASSWORD = 'correct horse battery';

interface Fixture {
  server: ApiServer;
  deps: ReturnType<typeof testDeps>;
  registry: AccessRegistry;
  dir: string;
}

async function make(config: Partial<ServeConfig> = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'acd-session-'));
  const deps = testDeps();
  const registry = AccessRegistry.open(join(dir, 'access.json'), {
    clock: deps.clock,
    scrypt: CHEAP,
    reloadIntervalMs: 0,
  });
  await registry.addUser({ id: 'alice', role: 'analyst', password: PASSWORD });
  await registry.addUser({ id: 'ivy', role: 'inspector', password: PASSWORD });
  await registry.addUser({ id: 'root', role: 'administrator', password: PASSWORD });
  await deps.store.open();
  const server = createServer(
    { ...deps, auth: combineTokenAuth(deps.auth, registry), users: registry },
    defaultServeConfig({ port: 0, ...config }),
  );
  return { server, deps, registry, dir };
}

function cookiesOf(setCookie: string | string[] | undefined): Map<string, string> {
  const list = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie];
  return new Map(
    list.map((c) => {
      const first = c.split(';')[0] ?? '';
      const eq = first.indexOf('=');
      return [first.slice(0, eq), first.slice(eq + 1)];
    }),
  );
}

async function login(f: Fixture, user = 'alice', password = PASSWORD, ip = '127.0.0.1') {
  return f.server.app.inject({
    method: 'POST',
    url: '/api/session/login',
    payload: { user, password },
    remoteAddress: ip,
  });
}

async function session(f: Fixture, user = 'alice'): Promise<{ cookie: string; csrf: string }> {
  const res = await login(f, user);
  expect(res.statusCode).toBe(200);
  const c = cookiesOf(res.headers['set-cookie']);
  return {
    cookie: `${SESSION_COOKIE}=${c.get(SESSION_COOKIE) ?? ''}; ${CSRF_COOKIE}=${c.get(CSRF_COOKIE) ?? ''}`,
    csrf: res.json<{ csrf: string }>().csrf,
  };
}

describe('serve: dashboard login and sessions', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await make();
  });
  afterEach(async () => {
    await f.server.stop();
    await f.deps.store.close();
    rmSync(f.dir, { recursive: true, force: true });
  });

  it('logs in with user and password: an HttpOnly SameSite=Strict session cookie and a readable CSRF cookie', async () => {
    const res = await login(f);
    expect(res.statusCode).toBe(200);
    const body = res.json<{ user: string; role: string; purpose: string; csrf: string }>();
    expect(body).toMatchObject({ user: 'alice', role: 'analyst', purpose: 'monitoring' });
    const set = res.headers['set-cookie'] as string[];
    const sessionCookie = set.find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? '';
    const csrfCookie = set.find((c) => c.startsWith(`${CSRF_COOKIE}=`)) ?? '';
    expect(sessionCookie).toContain('HttpOnly');
    expect(sessionCookie).toContain('SameSite=Strict');
    expect(sessionCookie).not.toContain('Secure'); // plain HTTP on loopback
    expect(csrfCookie).not.toContain('HttpOnly');
    expect(csrfCookie).toContain(`${CSRF_COOKIE}=${body.csrf}`);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('marks the cookies Secure under TLS', async () => {
    const tls = await make({ tlsCert: '/unused.pem', tlsKey: '/unused.key' });
    const res = await login(tls);
    expect(res.statusCode).toBe(200);
    for (const c of res.headers['set-cookie'] as string[]) expect(c).toContain('; Secure');
    await tls.server.stop();
    rmSync(tls.dir, { recursive: true, force: true });
  });

  it('/api/me works with the session cookie and with a bearer token', async () => {
    const s = await session(f);
    const me = await f.server.app.inject({ url: '/api/me', headers: { cookie: s.cookie } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({ user: 'alice', role: 'analyst', purpose: 'monitoring' });
    const byToken = await f.server.app.inject({
      url: '/api/me',
      headers: { authorization: `Bearer ${tokenOf('analyst')}` },
    });
    expect(byToken.json()).toMatchObject({ user: 'analyst-1' });
  });

  it('enforces roles and purposes for sessions as for tokens', async () => {
    const s = await session(f, 'ivy');
    const from = new Date(T0).toISOString();
    const records = await f.server.app.inject({
      url: `/api/records?from=${from}&to=${from}`,
      headers: { cookie: s.cookie },
    });
    expect(records.statusCode).toBe(403);
    const overview = await f.server.app.inject({ url: '/api/overview', headers: { cookie: s.cookie } });
    expect(overview.statusCode).toBe(200);
    const wrongPurpose = await f.server.app.inject({
      url: '/api/overview',
      headers: { cookie: s.cookie, 'x-acd-purpose': 'monitoring' },
    });
    expect(wrongPurpose.statusCode).toBe(403);
  });

  it('needs the CSRF token for state-changing requests made with the cookie, not for bearer tokens', async () => {
    await f.deps.store.upsertAlerts([alertOf('al-1', { firstSeen: T0 })]);
    const s = await session(f);
    const fp = (headers: Record<string, string>) =>
      f.server.app.inject({
        method: 'POST',
        url: '/api/alerts/al-1/false-positive',
        headers,
        payload: { reason: 'our scanner' },
      });
    let res = await fp({ cookie: s.cookie });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'ERR_CSRF' });
    res = await fp({ cookie: s.cookie, 'x-csrf-token': 'x'.repeat(43) });
    expect(res.statusCode).toBe(403);
    // Another session's token does not fit this session.
    const other = await session(f);
    res = await fp({ cookie: s.cookie, 'x-csrf-token': other.csrf });
    expect(res.statusCode).toBe(403);
    res = await fp({ cookie: s.cookie, 'x-csrf-token': s.csrf });
    expect(res.statusCode).toBe(201);
    res = await fp({ authorization: `Bearer ${tokenOf('analyst')}` });
    expect(res.statusCode).toBe(201);
  });

  it('logs out: 204, cookies cleared, the session no longer works', async () => {
    const s = await session(f);
    const noCsrf = await f.server.app.inject({
      method: 'POST',
      url: '/api/session/logout',
      headers: { cookie: s.cookie },
    });
    expect(noCsrf.statusCode).toBe(403);
    const res = await f.server.app.inject({
      method: 'POST',
      url: '/api/session/logout',
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
    });
    expect(res.statusCode).toBe(204);
    for (const c of res.headers['set-cookie'] as string[]) expect(c).toContain('Max-Age=0');
    const me = await f.server.app.inject({ url: '/api/me', headers: { cookie: s.cookie } });
    expect(me.statusCode).toBe(401);
  });

  it('refuses forged, tampered and expired session cookies', async () => {
    const s = await session(f);
    const value = s.cookie.split(';')[0]?.split('=')[1] ?? '';
    const tampered = `${SESSION_COOKIE}=${value.slice(0, -2)}xx`;
    expect((await f.server.app.inject({ url: '/api/me', headers: { cookie: tampered } })).statusCode).toBe(
      401,
    );
    const forged = `${SESSION_COOKIE}=${signValue(Buffer.alloc(32), 'abc')}`;
    expect((await f.server.app.inject({ url: '/api/me', headers: { cookie: forged } })).statusCode).toBe(401);
    f.deps.clock.advance(31 * 60_000); // idle timeout 30 min
    expect((await f.server.app.inject({ url: '/api/me', headers: { cookie: s.cookie } })).statusCode).toBe(
      401,
    );
  });

  it('ends a revoked user’s sessions at their next request', async () => {
    const s = await session(f);
    expect((await f.server.app.inject({ url: '/api/me', headers: { cookie: s.cookie } })).statusCode).toBe(
      200,
    );
    await f.registry.revokeUser('alice');
    expect((await f.server.app.inject({ url: '/api/me', headers: { cookie: s.cookie } })).statusCode).toBe(
      401,
    );
    expect((await login(f)).statusCode).toBe(401);
  });

  it('refuses a wrong password or unknown user alike (401), then backs off per user with 429 and Retry-After', async () => {
    const wrong = await login(f, 'alice', 'not the password');
    expect(wrong.statusCode).toBe(401);
    const unknown = await login(f, 'nobody', PASSWORD);
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json<{ detail: string }>().detail).toBe(wrong.json<{ detail: string }>().detail);
    // The 5th failure (default) locks the user for 1 s, then 2 s …; alice has 1 so far, more from other addresses.
    for (let i = 0; i < 4; i++) expect((await login(f, 'alice', 'nope', `10.0.0.${i}`)).statusCode).toBe(401);
    const limited = await login(f, 'alice', PASSWORD, '10.0.1.1');
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    f.deps.clock.advance(1000);
    expect((await login(f, 'alice', 'nope', '10.0.1.2')).statusCode).toBe(401); // 6th failure: 2 s
    expect((await login(f, 'alice', PASSWORD, '10.0.1.3')).headers['retry-after']).toBe('2');
    f.deps.clock.advance(2000);
    expect((await login(f, 'alice', PASSWORD, '10.0.1.4')).statusCode).toBe(200);
    // Success resets the user's count.
    expect((await login(f, 'alice', 'nope', '10.0.1.5')).statusCode).toBe(401);
    expect((await login(f, 'alice', PASSWORD, '10.0.1.6')).statusCode).toBe(200);
  });

  it('backs off per client address too (many users guessed from one address)', async () => {
    for (let i = 0; i < 5; i++) expect((await login(f, `u${i}`, 'nope', '192.0.2.9')).statusCode).toBe(401);
    expect((await login(f, 'alice', PASSWORD, '192.0.2.9')).statusCode).toBe(429);
    expect((await login(f, 'alice', PASSWORD, '192.0.2.10')).statusCode).toBe(200);
  });

  it('answers 503 for login when no user registry is configured, and validates the body', async () => {
    const deps = testDeps();
    const bare = createServer(deps, defaultServeConfig({ port: 0 }));
    const res = await bare.app.inject({
      method: 'POST',
      url: '/api/session/login',
      payload: { user: 'a', password: 'b' },
    });
    expect(res.statusCode).toBe(503);
    await bare.stop();
    for (const payload of [
      {},
      { user: 'a' },
      { user: 'a', password: 'x'.repeat(1025) },
      { user: '', password: 'x' },
    ]) {
      const r = await f.server.app.inject({ method: 'POST', url: '/api/session/login', payload });
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
    }
  });

  it('lists users for the administrator only, without secrets', async () => {
    const root = await session(f, 'root');
    const res = await f.server.app.inject({
      url: '/api/users',
      headers: { cookie: root.cookie },
    });
    expect(res.statusCode).toBe(200);
    const items = res.json<{ items: Record<string, unknown>[] }>().items;
    expect(items.map((u) => u['id'])).toEqual(['alice', 'ivy', 'root']);
    expect(JSON.stringify(items)).not.toMatch(/scrypt|passwordHash/);
    const alice = await session(f);
    expect(
      (await f.server.app.inject({ url: '/api/users', headers: { cookie: alice.cookie } })).statusCode,
    ).toBe(403);
  });

  it('authenticates registry tokens: purposes of the token, expiry, revocation', async () => {
    const { token, summary } = await f.registry.createToken({
      user: 'alice',
      purposes: ['monitoring'],
      lifetimeMs: 60_000,
    });
    const h = { authorization: `Bearer ${token}` };
    expect((await f.server.app.inject({ url: '/api/me', headers: h })).json()).toEqual({
      user: 'alice',
      role: 'analyst',
      purpose: 'monitoring',
    });
    const other = await f.server.app.inject({
      url: '/api/incidents',
      headers: { ...h, 'x-acd-purpose': 'investigation' },
    });
    expect(other.statusCode).toBe(403);
    await f.registry.revokeToken(summary.id);
    expect((await f.server.app.inject({ url: '/api/me', headers: h })).statusCode).toBe(401);
    const second = await f.registry.createToken({ user: 'alice', lifetimeMs: 60_000 });
    const h2 = { authorization: `Bearer ${second.token}` };
    expect((await f.server.app.inject({ url: '/api/me', headers: h2 })).statusCode).toBe(200);
    f.deps.clock.advance(60_000);
    expect((await f.server.app.inject({ url: '/api/me', headers: h2 })).statusCode).toBe(401);
  });

  it('never fails with a 500 on arbitrary login bodies (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.json({ maxDepth: 3 }),
          fc.record({ user: fc.string({ maxLength: 200 }), password: fc.string({ maxLength: 1100 }) }),
        ),
        async (payload) => {
          const res = await f.server.app.inject({
            method: 'POST',
            url: '/api/session/login',
            headers: { 'content-type': 'application/json' },
            payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
            remoteAddress: '203.0.113.1',
          });
          expect([400, 401, 429]).toContain(res.statusCode);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('serve: session parsers', () => {
  it('parseCookieHeader reads name=value pairs, first wins, bounded (fast-check: never throws)', () => {
    expect(parseCookieHeader('a=1; b="2"; a=3; bad; =x; c=')).toEqual(
      new Map([
        ['a', '1'],
        ['b', '2'],
        ['c', ''],
      ]),
    );
    expect(parseCookieHeader(`a=${'x'.repeat(MAX_COOKIE_HEADER)}`).size).toBe(0);
    expect(parseCookieHeader(undefined).size).toBe(0);
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), (h) => {
        const m = parseCookieHeader(h);
        expect(m.size).toBeLessThanOrEqual(64);
        for (const [k, v] of m) {
          expect(k).toMatch(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/);
          expect(v.length).toBeLessThanOrEqual(512);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('verifySignedValue accepts only what signValue made with the same secret (fast-check)', () => {
    const secret = Buffer.alloc(32, 7);
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 100 }),
        fc.string({ maxLength: 600 }),
        (value, junk) => {
          expect(verifySignedValue(secret, signValue(secret, value))).toBe(value);
          expect(verifySignedValue(Buffer.alloc(32, 8), signValue(secret, value))).toBeUndefined();
          const v = verifySignedValue(secret, junk);
          if (v !== undefined) expect(signValue(secret, v)).toBe(junk);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the login limiter doubles its lock-out after the free failures, up to the maximum', () => {
    let now = 0;
    const clock = { now: () => now, monotonic: () => now };
    const l = createLoginLimiter(clock, { freeFailures: 2, baseDelayMs: 100, maxDelayMs: 350, maxKeys: 10 });
    l.fail('k');
    expect(l.retryAfter('k')).toBe(0);
    l.fail('k');
    expect(l.retryAfter('k')).toBe(100);
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      l.fail('k');
      waits.push(l.retryAfter('k'));
    }
    expect(waits).toEqual([200, 350, 350, 350]);
    now += 350;
    expect(l.retryAfter('k')).toBe(0);
    l.reset('k');
    l.fail('k');
    expect(l.retryAfter('k')).toBe(0);
  });
});
