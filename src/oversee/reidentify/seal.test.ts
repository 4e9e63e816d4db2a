/**
 * Sealing of answers: only the parties open a sealed answer, a tampered blob or another seal key
 * never opens, the reference is SHA-256 over IV ‖ tag ‖ ciphertext, and the seal key file is
 * created 0600 and refused when others can read it.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReidentifyError } from './errors.ts';
import { loadOrCreateSealKey, seal, unseal } from './seal.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acd-seal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    if (err instanceof ReidentifyError) return err.code;
    throw err;
  }
  return 'no error';
};

describe('sealed answers', () => {
  it('creates the seal key 0600 in a 0700 directory and reads the same key again', async () => {
    const path = join(dir, 'reid', 'seal.key');
    const k1 = await loadOrCreateSealKey(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'reid'))).mode & 0o777).toBe(0o700);
    const k2 = await loadOrCreateSealKey(path);
    expect(k2.keyId).toBe(k1.keyId);
    expect(k2.secret.equals(k1.secret)).toBe(true);
  });

  it('refuses a seal key file readable by others or not a seal key', async () => {
    const path = join(dir, 'seal.key');
    await loadOrCreateSealKey(path);
    await chmod(path, 0o644);
    await expect(loadOrCreateSealKey(path)).rejects.toMatchObject({ code: 'ERR_REID_SEAL' });
    await writeFile(path, '{"format":"x"}', { mode: 0o600 });
    await chmod(path, 0o600);
    await expect(loadOrCreateSealKey(path)).rejects.toMatchObject({ code: 'ERR_REID_SEAL' });
  });

  it('opens for each party only, binds the request id, and detects tampering', async () => {
    const key = await loadOrCreateSealKey(join(dir, 'seal.key'));
    const plain = new TextEncoder().encode('[{"address":"126.73.1.20"}]');
    const s = seal(plain, 'reid-1', ['alice', 'bob'], key);
    expect(JSON.stringify(s)).not.toContain('126.73.1.20');
    const blob = Buffer.concat(
      ['iv', 'tag', 'ciphertext'].map((f) => Buffer.from(s[f as 'iv'], 'base64url')),
    );
    expect(s.reference).toBe(`sha256:${createHash('sha256').update(blob).digest('hex')}`);
    expect(unseal(s, 'reid-1', 'alice', key).toString()).toBe('[{"address":"126.73.1.20"}]');
    expect(unseal(s, 'reid-1', 'bob', key).toString()).toBe('[{"address":"126.73.1.20"}]');
    expect(codeOf(() => unseal(s, 'reid-1', 'carol', key))).toBe('ERR_REID_NOT_PARTY');
    // Bob's wrap under alice's name, another request id, a flipped ciphertext bit, another key.
    const swapped = { ...s, wrapped: [{ ...s.wrapped[1]!, user: 'alice' }] };
    expect(codeOf(() => unseal(swapped, 'reid-1', 'alice', key))).toBe('ERR_REID_SEAL');
    expect(codeOf(() => unseal(s, 'reid-2', 'alice', key))).toBe('ERR_REID_SEAL');
    const ct = Buffer.from(s.ciphertext, 'base64url');
    ct[0] = (ct[0] ?? 0) ^ 1;
    expect(codeOf(() => unseal({ ...s, ciphertext: ct.toString('base64url') }, 'reid-1', 'alice', key))).toBe(
      'ERR_REID_SEAL',
    );
    const other = await loadOrCreateSealKey(join(dir, 'other.key'));
    expect(codeOf(() => unseal(s, 'reid-1', 'alice', other))).toBe('ERR_REID_SEAL');
  });
});
