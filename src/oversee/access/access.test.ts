/**
 * The user and token registry: what it stores (digests and scrypt hashes only, mode 0600), the
 * access rules it refuses to break, and that a second instance (the CLI) changing the file is seen
 * by the first (the centre).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.ts';
import { AcdError } from '../../common/errors.ts';
import {
  AccessFileError,
  AccessPolicyError,
  AccessRegistry,
  DuplicateUserError,
  UnknownTokenError,
  UnknownUserError,
  hashPassword,
  parsePasswordHash,
  verifyPassword,
} from './index.ts';

const CHEAP = { N: 1024, r: 8, p: 1, keyLength: 32, saltLength: 16 };
const PASSWORD = 'a long enough password';

describe('oversee/access: the registry', () => {
  let dir: string;
  let file: string;
  let clock: ManualClock;
  let reg: AccessRegistry;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'acd-access-'));
    file = join(dir, 'data', 'access.json');
    clock = new ManualClock(Date.UTC(2026, 0, 1));
    reg = AccessRegistry.open(file, { clock, scrypt: CHEAP, reloadIntervalMs: 0 });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('adds users with the purposes of their role by default and lists them without secrets', async () => {
    await reg.addUser({ id: 'alice', role: 'analyst', name: 'Alice', password: PASSWORD });
    await reg.addUser({ id: 'op-grid', role: 'operator', organisation: 'op-0001' });
    expect(reg.listUsers()).toEqual([
      {
        id: 'alice',
        name: 'Alice',
        role: 'analyst',
        purposes: ['monitoring', 'incident-handling', 'investigation'],
        defaultPurpose: 'monitoring',
        createdAt: clock.now(),
        password: true,
      },
      {
        id: 'op-grid',
        name: 'op-grid',
        role: 'operator',
        organisation: 'op-0001',
        purposes: ['incident-handling'],
        defaultPurpose: 'incident-handling',
        createdAt: clock.now(),
        password: false,
      },
    ]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(PASSWORD);
    expect(text).toMatch(/"passwordHash": "scrypt\$1024\$8\$1\$/);
  });

  it('refuses duplicates, bad ids, purposes the role may not act for, missing organisations and weak passwords', async () => {
    await reg.addUser({ id: 'alice', role: 'analyst' });
    await expect(reg.addUser({ id: 'alice', role: 'analyst' })).rejects.toBeInstanceOf(DuplicateUserError);
    await expect(reg.addUser({ id: 'Bad Id', role: 'analyst' })).rejects.toBeInstanceOf(AccessPolicyError);
    await expect(reg.addUser({ id: 'ivy', role: 'inspector', purposes: ['investigation'] })).rejects.toThrow(
      /may not act for investigation/,
    );
    await expect(reg.addUser({ id: 'op', role: 'operator' })).rejects.toThrow(/needs an organisation/);
    await expect(reg.addUser({ id: 'an', role: 'analyst', organisation: 'x' })).rejects.toBeInstanceOf(
      AccessPolicyError,
    );
    await expect(reg.addUser({ id: 'bob', role: 'analyst', password: 'short' })).rejects.toThrow(/password/);
    await expect(
      reg.addUser({ id: 'bob', role: 'analyst', purposes: ['monitoring'], defaultPurpose: 'investigation' }),
    ).rejects.toThrow(/default purpose/);
  });

  it('verifies passwords, and refuses unknown and revoked users the same way', async () => {
    await reg.addUser({ id: 'alice', role: 'supervisor', password: PASSWORD });
    expect(await reg.verifyPassword('alice', PASSWORD)).toMatchObject({ user: 'alice', role: 'supervisor' });
    expect(await reg.verifyPassword('alice', `${PASSWORD}!`)).toBeUndefined();
    expect(await reg.verifyPassword('nobody', PASSWORD)).toBeUndefined();
    await reg.revokeUser('alice');
    expect(await reg.verifyPassword('alice', PASSWORD)).toBeUndefined();
    expect(reg.principal('alice')).toBeUndefined();
    expect(reg.listUsers()[0]?.revokedAt).toBe(clock.now());
    await expect(reg.revokeUser('nobody')).rejects.toBeInstanceOf(UnknownUserError);
  });

  it('creates tokens shown once and stored as SHA-256 digests; expiry, revocation and user revocation end them', async () => {
    await reg.addUser({ id: 'alice', role: 'analyst' });
    const { token, summary } = await reg.createToken({
      user: 'alice',
      lifetimeMs: 3_600_000,
      label: 'script',
    });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits, base64url
    expect(readFileSync(file, 'utf8')).not.toContain(token);
    expect(reg.authenticate(token)).toEqual({
      user: 'alice',
      role: 'analyst',
      defaultPurpose: 'monitoring',
      purposes: ['monitoring', 'incident-handling', 'investigation'],
    });
    expect(reg.authenticate(`${token}x`)).toBeUndefined();
    clock.advance(3_600_000);
    expect(reg.authenticate(token)).toBeUndefined();
    expect(reg.listTokens()[0]).toMatchObject({ id: summary.id, active: false, revoked: false });

    const b = await reg.createToken({ user: 'alice', lifetimeMs: 60_000, purposes: ['investigation'] });
    expect(reg.authenticate(b.token)).toMatchObject({
      defaultPurpose: 'investigation',
      purposes: ['investigation'],
    });
    await reg.revokeToken(b.summary.id);
    expect(reg.authenticate(b.token)).toBeUndefined();
    await expect(reg.revokeToken('tok-0000000000000000')).rejects.toBeInstanceOf(UnknownTokenError);

    const c = await reg.createToken({ user: 'alice', lifetimeMs: 60_000 });
    await reg.revokeUser('alice');
    expect(reg.authenticate(c.token)).toBeUndefined();
    expect(reg.listTokens().every((t) => t.revoked)).toBe(true);
    await expect(reg.createToken({ user: 'alice', lifetimeMs: 60_000 })).rejects.toBeInstanceOf(
      UnknownUserError,
    );
  });

  it('refuses tokens with purposes beyond the user’s and lifetimes beyond a year', async () => {
    await reg.addUser({ id: 'alice', role: 'analyst', purposes: ['monitoring'] });
    await expect(
      reg.createToken({ user: 'alice', lifetimeMs: 60_000, purposes: ['investigation'] }),
    ).rejects.toThrow(/may not act for investigation/);
    await expect(reg.createToken({ user: 'alice', lifetimeMs: 400 * 86_400_000 })).rejects.toBeInstanceOf(
      AccessPolicyError,
    );
  });

  it('sees changes another process makes to the file (the CLI while the centre runs)', async () => {
    const centre = AccessRegistry.open(file, { clock, scrypt: CHEAP, reloadIntervalMs: 1000 });
    await reg.addUser({ id: 'alice', role: 'analyst' });
    const { token, summary } = await reg.createToken({ user: 'alice', lifetimeMs: 60_000 });
    clock.advance(1000);
    expect(centre.authenticate(token)).toMatchObject({ user: 'alice' });
    await reg.revokeToken(summary.id);
    expect(centre.authenticate(token)).toMatchObject({ user: 'alice' }); // within the reload interval
    clock.advance(1000);
    expect(centre.authenticate(token)).toBeUndefined();
  });

  it('names the file when it is not an access file, and keeps the last good state when it breaks later', async () => {
    await reg.addUser({ id: 'alice', role: 'analyst' });
    const { token } = await reg.createToken({ user: 'alice', lifetimeMs: 60_000 });
    writeFileSync(file, '{"version": 2}');
    expect(reg.authenticate(token)).toMatchObject({ user: 'alice' });
    expect(() => AccessRegistry.open(file, { clock })).toThrow(AccessFileError);
    writeFileSync(file, 'not json');
    expect(() => AccessRegistry.open(file, { clock })).toThrow(/access\.json: not JSON/);
  });
});

describe('oversee/access: passwords', () => {
  it('hashes with scrypt and a random salt per hash; verifies in constant time', async () => {
    const a = await hashPassword(PASSWORD, CHEAP);
    const b = await hashPassword(PASSWORD, CHEAP);
    expect(a).not.toBe(b);
    expect(await verifyPassword(PASSWORD, a)).toBe(true);
    expect(await verifyPassword('another password', a)).toBe(false);
    expect(parsePasswordHash(a)?.params).toEqual(CHEAP);
  });

  it('uses N = 2^15, r = 8, p = 3 by default (OWASP)', async () => {
    const h = await hashPassword(PASSWORD);
    expect(h.startsWith('scrypt$32768$8$3$')).toBe(true);
  });

  it('parsePasswordHash never throws and refuses out-of-bounds parameters (fast-check)', async () => {
    expect(
      parsePasswordHash(`scrypt$${2 ** 24}$8$1$AAAAAAAAAAAAAAAAAAAAAA$${'A'.repeat(43)}`),
    ).toBeUndefined();
    expect(parsePasswordHash(`scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA$${'A'.repeat(43)}`)).toBeUndefined();
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), (s) => {
        const h = parsePasswordHash(s);
        if (h !== undefined) {
          expect(h.params.N).toBeGreaterThanOrEqual(1024);
          expect(h.params.N).toBeLessThanOrEqual(2 ** 20);
        }
      }),
      { numRuns: 500 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 100 }), fc.string({ maxLength: 200 }), async (pw, enc) => {
        try {
          expect(typeof (await verifyPassword(pw, enc))).toBe('boolean');
        } catch (err) {
          expect(err).toBeInstanceOf(AcdError);
        }
      }),
      { numRuns: 200 },
    );
  });
});
