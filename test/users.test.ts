/**
 * `acd users` end to end (issue 8), in process through `main`: add, list, token create (printed
 * once, accepted by the registry the centre uses), token revoke, revoke; the file stays 0600 and
 * holds neither passwords nor tokens; policy and usage errors exit non-zero.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/common/clock.ts';
import { AccessRegistry } from '../src/oversee/access/index.ts';
import { acdOn } from './helpers/cli.ts';

const clock = new ManualClock(Date.UTC(2026, 0, 1));
const acd = acdOn(clock);

describe('acd users', () => {
  let dir: string;
  let data: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'acd-users-'));
    data = join(dir, 'data');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('adds users, creates a token printed once, lists, revokes', async () => {
    const pw = join(dir, 'alice.pw');
    await writeFile(pw, 'a long enough password\n');
    let r = await acd(
      'users',
      'add',
      'alice',
      '--role',
      'analyst',
      '--name',
      'Alice A.',
      '--password-file',
      pw,
      '--data',
      data,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'added alice (analyst; purposes monitoring, incident-handling, investigation; password set)',
    );
    r = await acd(
      'users',
      'add',
      'op-grid',
      '--role',
      'operator',
      '--organisation',
      'op-0001',
      '--data',
      data,
    );
    expect(r.code, r.stderr).toBe(0);

    r = await acd(
      'users',
      'token',
      'create',
      'op-grid',
      '--expires',
      '30d',
      '--label',
      'bridge',
      '--data',
      data,
    );
    expect(r.code, r.stderr).toBe(0);
    const token = r.stdout.trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const tokenId = /token (tok-[0-9a-f]{16})/.exec(r.stderr)?.[1] ?? '';
    expect(tokenId).not.toBe('');

    const file = join(data, 'access.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain(token);
    expect(text).not.toContain('a long enough password');

    const centre = AccessRegistry.open(file, { clock });
    expect(centre.authenticate(token)).toMatchObject({
      user: 'op-grid',
      role: 'operator',
      organisation: 'op-0001',
      defaultPurpose: 'incident-handling',
    });
    expect(await centre.verifyPassword('alice', 'a long enough password')).toMatchObject({ user: 'alice' });

    r = await acd('users', 'list', '--data', data);
    expect(r.stdout).toContain(
      'alice\tanalyst\t-\tmonitoring,incident-handling,investigation\tactive\tAlice A.',
    );
    expect(r.stdout).toContain(
      `  ${tokenId}\tincident-handling\texpires 2026-01-31T00:00:00.000Z\tactive\tbridge`,
    );
    const json = JSON.parse((await acd('users', 'list', '--json', '--data', data)).stdout) as {
      users: unknown[];
      tokens: unknown[];
    };
    expect(json.users).toHaveLength(2);
    expect(JSON.stringify(json)).not.toMatch(/digest|passwordHash/);

    r = await acd('users', 'token', 'revoke', tokenId, '--data', data);
    expect(r.code, r.stderr).toBe(0);
    expect(AccessRegistry.open(file, { clock }).authenticate(token)).toBeUndefined();

    r = await acd('users', 'revoke', 'alice', '--data', data);
    expect(r.code, r.stderr).toBe(0);
    expect((await acd('users', 'list', '--data', data)).stdout).toMatch(/alice\t.*\trevoked 2026-01-01/);
  });

  it('refuses unknown roles and purposes (usage, exit 2) and broken rules (exit 1, with the code)', async () => {
    expect((await acd('users', 'add', 'x', '--role', 'king', '--data', data)).code).toBe(2);
    expect(
      (await acd('users', 'add', 'x', '--role', 'analyst', '--purposes', 'fun', '--data', data)).code,
    ).toBe(2);
    expect((await acd('users', 'token', 'create', 'op-grid', '--expires', '2y', '--data', data)).code).toBe(
      2,
    );
    const r = await acd(
      'users',
      'add',
      'ivy',
      '--role',
      'inspector',
      '--purposes',
      'monitoring',
      '--data',
      data,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[ERR_ACCESS_POLICY]');
    expect((await acd('users', 'revoke', 'nobody', '--data', data)).stderr).toContain(
      '[ERR_ACCESS_UNKNOWN_USER]',
    );
  });
});
