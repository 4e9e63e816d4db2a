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
import { TrustedKeySet } from '../../common/signing/index.ts';
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

describe('KeyStore: personal re-identification keys', () => {
  it('holds one reidentification key per person, signer = user id, without touching init or rotation', async () => {
    const ks = new KeyStore(join(dir, 'k'), clock);
    await ks.init();
    const alice = await ks.addSigner('alice');
    const bob = await ks.addSigner('bob');
    expect(alice).toMatchObject({ purpose: 'reidentification', signer: 'alice', status: 'active' });
    expect(alice.keyId).not.toBe(bob.keyId);
    expect((await ks.personalSigningKey('alice'))?.keyId).toBe(alice.keyId);
    expect((await ks.personalSigningKey('bob'))?.keyId).toBe(bob.keyId);
    expect(await ks.personalSigningKey('carol')).toBeUndefined();
    // init stays idempotent and rotation of the service keys leaves personal keys alone.
    expect(await ks.init()).toEqual([]);
    await ks.rotate('commission');
    expect((await ks.personalSigningKey('alice'))?.keyId).toBe(alice.keyId);
    await expect(ks.addSigner('alice')).rejects.toMatchObject({ code: 'ERR_KEYSTORE_SIGNER_EXISTS' });
    await expect(ks.addSigner('Not A User')).rejects.toMatchObject({ code: 'ERR_KEYSTORE_BAD_SIGNER' });
  });

  it('exports personal keys with the reidentification scope, usable as edge trusted keys', async () => {
    const ks = new KeyStore(join(dir, 'k'), clock);
    await ks.init();
    const alice = await ks.addSigner('alice');
    const file = await ks.exportPublic();
    const entry = file.keys.find((k) => k.keyId === alice.keyId);
    expect(entry).toMatchObject({
      purpose: 'reidentification',
      signer: 'alice',
      scopes: ['reidentification'],
    });
    const parsed = parsePublicKeys(JSON.stringify(file));
    expect(parsed.find((k) => k.keyId === alice.keyId)?.purpose).toBe('reidentification');
    const { purpose: _p, status: _s, ...trusted } = entry!;
    const set = TrustedKeySet.fromConfig([trusted]);
    expect(set.get(alice.keyId)?.scopes).toEqual(['reidentification']);
    expect(set.get(alice.keyId)?.signer).toBe('alice');
  });

  it('retiring a signer closes its window now, destroys the private key and keeps the public entry', async () => {
    const ks = new KeyStore(join(dir, 'k'), clock);
    await ks.init();
    const alice = await ks.addSigner('alice');
    clock.advance(1000);
    const retired = await ks.retireSigner('alice');
    expect(retired).toMatchObject({ keyId: alice.keyId, status: 'retired' });
    expect(retired.validUntil).toBe(new Date(clock.now()).toISOString());
    expect(await ks.personalSigningKey('alice')).toBeUndefined();
    expect(await readdir(join(dir, 'k'))).not.toContain(`private-${alice.keyId}.json`);
    expect((await ks.list()).some((k) => k.keyId === alice.keyId)).toBe(true);
    await expect(ks.retireSigner('alice')).rejects.toMatchObject({ code: 'ERR_KEYSTORE_NO_ACTIVE_KEY' });
    // A new key for the same person after retirement.
    const again = await ks.addSigner('alice');
    expect((await ks.personalSigningKey('alice'))?.keyId).toBe(again.keyId);
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
