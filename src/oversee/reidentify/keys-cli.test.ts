/**
 * `acd keys add-signer|retire-signer` through the CLI's `main`: a personal re-identification key
 * per user, exported with the `reidentification` scope (what an edge trusts), refused twice for
 * one person, and retired with its public entry kept.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.ts';
import { acdOn } from '../../../test/helpers/cli.ts';
import { parsePublicKeys } from '../keys/index.ts';

const clock = new ManualClock(Date.UTC(2026, 2, 1, 8));

const acd = acdOn(clock);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acd-keys-signer-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('acd keys add-signer | retire-signer', () => {
  it('creates one re-identification key per person, exported with the reidentification scope', async () => {
    const keys = join(dir, 'keys');
    expect((await acd('keys', 'init', '--dir', keys)).code).toBe(0);
    const a = await acd('keys', 'add-signer', 'alice', '--dir', keys);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/^[A-Za-z0-9_-]{22}\treidentification\tactive\t.*\talice\n$/);
    expect((await acd('keys', 'add-signer', 'alice', '--dir', keys)).code).toBe(1);
    expect((await acd('keys', 'add-signer', 'bob', '--dir', keys)).code).toBe(0);
    const pub = await acd('keys', 'export-public', '--dir', keys, '--out', '-');
    const file = JSON.parse(pub.stdout) as { keys: { signer: string; scopes?: string[] }[] };
    expect(file.keys.filter((k) => k.scopes?.[0] === 'reidentification').map((k) => k.signer)).toEqual([
      'alice',
      'bob',
    ]);
    expect(parsePublicKeys(pub.stdout)).toHaveLength(4);

    clock.advance(1000);
    const r = await acd('keys', 'retire-signer', 'alice', '--dir', keys);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\treidentification\tretired\t/);
    expect((await acd('keys', 'retire-signer', 'alice', '--dir', keys)).code).toBe(1);
    expect((await acd('keys', 'add-signer', '--dir', keys)).code).toBe(2);
    expect((await acd('keys', 'add-signer', '--help')).stdout).toContain('re-identification');
  });
});
