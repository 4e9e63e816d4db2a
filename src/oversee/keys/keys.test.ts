/**
 * The local key store and the public-keys file: rotation keeps retired public keys with a closed
 * validity window and destroys the private key; the public-keys parser accepts what
 * `exportPublic` writes and answers anything else with a typed error only.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.ts';
import { KeyStore, KeyStoreError, parsePublicKeys, PublicKeysFileError } from './index.ts';

let dir: string;
let clock: ManualClock;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acd-keys-'));
  clock = new ManualClock(Date.UTC(2026, 0, 1));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('KeyStore', () => {
  it('refuses to sign before init, with a typed error', async () => {
    await expect(new KeyStore(join(dir, 'k'), clock).signingKey('audit')).rejects.toBeInstanceOf(
      KeyStoreError,
    );
  });

  it('rotation closes the old window at the rotation time and destroys its private key', async () => {
    const ks = new KeyStore(join(dir, 'k'), clock);
    await ks.init();
    const old = await ks.signingKey('audit');
    clock.advance(5000);
    const { retired, created } = await ks.rotate('audit');
    expect(retired?.keyId).toBe(old.keyId);
    expect(retired?.validUntil).toBe(new Date(clock.now()).toISOString());
    expect(created.validFrom).toBe(retired?.validUntil);
    expect((await ks.signingKey('audit')).keyId).toBe(created.keyId);
    const files = await readdir(join(dir, 'k'));
    expect(files).not.toContain(`private-${old.keyId}.json`);
    const pub = parsePublicKeys(JSON.stringify(await ks.exportPublic()));
    expect(pub.map((k) => k.keyId)).toContain(old.keyId);
    expect(pub.filter((k) => k.purpose === 'audit')).toHaveLength(2);
  });

  it('commission keys carry the approval scope (usable as trusted keys by edges)', async () => {
    const ks = new KeyStore(join(dir, 'k'), clock);
    await ks.init();
    const file = await ks.exportPublic();
    expect(file.keys.find((k) => k.purpose === 'commission')?.scopes).toEqual(['approval']);
    expect(file.keys.find((k) => k.purpose === 'audit')?.scopes).toBeUndefined();
  });
});

describe('parsePublicKeys', () => {
  it('property: any text or JSON value yields keys or a PublicKeysFileError, never anything else', async () => {
    const ks = new KeyStore(join(dir, 'k'), clock);
    await ks.init();
    const good = JSON.stringify(await ks.exportPublic());
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc
            .tuple(fc.nat(good.length - 1), fc.string({ minLength: 1, maxLength: 1 }))
            .map(([k, c]) => good.slice(0, k) + c + good.slice(k + 1)),
        ),
        (text) => {
          try {
            parsePublicKeys(text);
          } catch (err) {
            expect(err).toBeInstanceOf(PublicKeysFileError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
