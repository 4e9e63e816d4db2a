import { chmod, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.ts';
import { KeyStore } from './keys.ts';
import { KeyEpochUnknownError, KeyFileError, KeyPermissionError, KeyStoreStateError } from './errors.ts';

const DAY = 86_400_000;
let dir: string;
let clock: ManualClock;
const config = (): { dir: string; epochLifetimeMs: number; retentionMs: number } => ({
  dir: join(dir, 'keys'),
  epochLifetimeMs: 30 * DAY,
  retentionMs: 60 * DAY,
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acd-keys-'));
  clock = new ManualClock(Date.UTC(2026, 0, 1));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pseudonymisation key store', () => {
  it('creates epoch 1 in a 0700 directory as a 0600 file, and reloads it with the same keys', async () => {
    const store = new KeyStore(config(), clock);
    await store.load();
    expect(() => store.current()).toThrow(KeyStoreStateError);
    const k1 = await store.ensureCurrent();
    expect(k1.epoch).toBe(1);
    expect((await stat(config().dir)).mode & 0o777).toBe(0o700);
    const files = await readdir(config().dir);
    expect(files).toEqual(['epoch-000001.json']);
    expect((await stat(join(config().dir, files[0]!))).mode & 0o777).toBe(0o600);
    const p = k1.cryptoPan.pseudonymiseAddress('192.0.2.1');
    const h = k1.hasher.hashEmail('Someone@Example.JP');

    const again = new KeyStore(config(), clock);
    await again.load();
    expect(again.current().cryptoPan.pseudonymiseAddress('192.0.2.1')).toBe(p);
    expect(again.current().hasher.hashEmail('someone@example.jp')).toBe(h);
    expect(await again.ensureCurrent()).toBe(again.current());
  });

  it('rotates to epoch + 1 with a different key, keeps the old epoch for re-identification, then destroys it', async () => {
    const store = new KeyStore(config(), clock);
    await store.load();
    const k1 = await store.ensureCurrent();
    const p1 = k1.cryptoPan.pseudonymiseAddress('192.0.2.1');
    clock.advance(30 * DAY);
    const k2 = await store.ensureCurrent();
    expect(k2.epoch).toBe(2);
    expect(k2.cryptoPan.pseudonymiseAddress('192.0.2.1')).not.toBe(p1);
    expect(store.get(1).cryptoPan.depseudonymiseAddress(p1)).toBe('192.0.2.1');
    expect(store.epochs().map((e) => e.epoch)).toEqual([1, 2]);

    clock.advance(60 * DAY - 1);
    expect(await store.destroyExpired()).toEqual([]);
    clock.advance(1);
    expect(await store.destroyExpired()).toEqual([1]);
    expect(() => store.get(1)).toThrow(KeyEpochUnknownError);
    expect(() => k1.cryptoPan).toThrow(KeyStoreStateError);
    expect(await readdir(config().dir)).toEqual(['epoch-000002.json']);
    // The current epoch is never destroyed, even when its retention would have ended.
    clock.advance(1000 * DAY);
    expect(await store.destroyExpired()).toEqual([]);
  });

  it('an early rotation ends the previous epoch now and shortens its retention accordingly', async () => {
    const store = new KeyStore(config(), clock);
    await store.load();
    await store.ensureCurrent();
    clock.advance(DAY);
    await store.rotate();
    const [e1] = store.epochs();
    expect(e1!.notAfter).toBe(clock.now());
    expect(e1!.retainUntil).toBe(clock.now() + 60 * DAY);
    const reloaded = new KeyStore(config(), clock);
    await reloaded.load();
    expect(reloaded.epochs()).toEqual(store.epochs());
  });

  it('refuses key files readable by group or others, symbolic links, and an open directory', async () => {
    const store = new KeyStore(config(), clock);
    await store.load();
    await store.ensureCurrent();
    const file = join(config().dir, 'epoch-000001.json');
    await chmod(file, 0o640);
    const s2 = new KeyStore(config(), clock);
    await expect(s2.load()).rejects.toBeInstanceOf(KeyPermissionError);
    await chmod(file, 0o604);
    await expect(new KeyStore(config(), clock).load()).rejects.toMatchObject({
      code: 'ERR_KEY_PERMISSIONS',
      mode: 0o604,
    });
    await chmod(file, 0o600);
    await symlink(file, join(config().dir, 'epoch-000002.json'));
    await expect(new KeyStore(config(), clock).load()).rejects.toBeInstanceOf(KeyPermissionError);
    await rm(join(config().dir, 'epoch-000002.json'));
    await chmod(config().dir, 0o755);
    await expect(new KeyStore(config(), clock).load()).rejects.toBeInstanceOf(KeyPermissionError);
    await chmod(config().dir, 0o700);
    await new KeyStore(config(), clock).load();
  });

  it('refuses malformed key files without quoting their content', async () => {
    const store = new KeyStore(config(), clock);
    await store.load();
    await store.ensureCurrent();
    const file = join(config().dir, 'epoch-000001.json');
    const good = await readFile(file, 'utf8');
    const secret = (JSON.parse(good) as { secret: string }).secret;
    await writeFile(file, good.replace('"epoch":1', '"epoch":7'));
    await expect(new KeyStore(config(), clock).load()).rejects.toBeInstanceOf(KeyFileError);
    await writeFile(file, good.replace(secret, `${secret.slice(0, 20)}!`));
    const err = await new KeyStore(config(), clock).load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyFileError);
    expect(String((err as Error).message)).not.toContain(secret.slice(0, 20));
  });

  it('never shows a key in JSON or util.inspect', async () => {
    const store = new KeyStore(config(), clock);
    await store.load();
    const k = await store.ensureCurrent();
    const secret = k.exportSecret();
    for (const text of [
      JSON.stringify(k),
      JSON.stringify(store),
      inspect(k),
      inspect(store),
      inspect(k.cryptoPan),
      inspect(k.hasher),
    ])
      expect(text).not.toContain(secret);
    expect(JSON.stringify(k)).toContain('[redacted]');
  });
});
