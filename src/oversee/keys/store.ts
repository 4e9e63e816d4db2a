/**
 * The local key store that `acd keys` manages (default ./data/keys): the commission's signing keys
 * (approvals, revocations) and the centre's audit key (audit-log checkpoints), Ed25519 each.
 *
 * Layout (directory mode 0700; every file 0600, written atomically):
 * - `registry.json` — format `acd.key-registry/1`: the public facts of every key ever created
 *   (key id, purpose, signer, public key, validity, active or retired);
 * - `private-<keyId>.json` — format `acd.signing-key/1`: the private key of an *active* key.
 *
 * Besides the service keys (one active key per purpose), the store holds personal
 * `reidentification` keys: one active key per person, `signer` = the user id
 * (`addSigner`/`retireSigner`, `acd keys add-signer|retire-signer`); the re-identification service
 * signs with the key of the user who asks or authorises (`personalSigningKey`).
 *
 * Rotation creates a new key valid from now, ends the old key's validity now (exclusive), keeps
 * its public entry (so what it signed still verifies) and deletes its private file (overwritten
 * first), so a retired key can no longer sign anything, backdated or not. Group/others access to
 * the directory or a private file is refused (`ERR_KEYSTORE_PERMISSIONS`).
 */
import { constants, type Stats } from 'node:fs';
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { isoTime, type Clock } from '../../common/clock.ts';
import { parseIsoTimestamp, SigningKey } from '../../common/signing/index.ts';
import { KeyStoreError } from './errors.ts';
import {
  KEY_PURPOSES,
  PUBLIC_KEYS_FORMAT,
  PublicKeyEntrySchema,
  resolvePublicKey,
  type AnyKeyPurpose,
  type KeyPurpose,
  type PublicKeyEntry,
  type PublicKeyInfo,
  type PublicKeysFile,
} from './public.ts';
import { writeFileAtomic } from '../../common/files.ts';

/** Default key store directory. */
export const DEFAULT_KEYS_DIR = './data/keys';
/** Validity of a new key unless told otherwise: two years. */
export const DEFAULT_KEY_VALIDITY_MS = 2 * 365 * 86_400_000;
/** Value of the `format` field of `registry.json`. */
export const KEY_REGISTRY_FORMAT = 'acd.key-registry/1';
/** Value of the `format` field of a private key file. */
export const PRIVATE_KEY_FORMAT = 'acd.signing-key/1';
/** Who holds each purpose's key unless told otherwise. */
export const DEFAULT_SIGNERS: Readonly<Record<KeyPurpose, string>> = {
  commission: 'commission',
  audit: 'centre-audit',
};

const REGISTRY = 'registry.json';
/**
 * Signers of personal keys are user ids of `acd users` (the same pattern as `USER_ID_PATTERN` of
 * src/oversee/access, repeated here so the key store does not load the API server's modules).
 */
const SIGNER_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Registry and key files are small; anything bigger is not ours. */
const MAX_FILE_BYTES = 2 * 1024 * 1024;
const GROUP_OTHER = 0o077;

const RegistrySchema = Type.Object(
  {
    format: Type.Literal(KEY_REGISTRY_FORMAT),
    keys: Type.Array(Type.Composite([PublicKeyEntrySchema, Type.Object({ createdAt: Type.String() })])),
  },
  { additionalProperties: false },
);
const PrivateSchema = Type.Object(
  {
    format: Type.Literal(PRIVATE_KEY_FORMAT),
    keyId: Type.String(),
    d: Type.String(),
    x: Type.String(),
  },
  { additionalProperties: false },
);

/** A key as `acd keys list` shows it (never the private part). */
export interface KeyInfo extends PublicKeyEntry {
  /** ISO time of creation. */
  createdAt: string;
}

function checkMode(st: Stats, what: string, wanted: string): void {
  const mode = st.mode & 0o7777;
  if ((mode & GROUP_OTHER) !== 0)
    throw new KeyStoreError(
      'ERR_KEYSTORE_PERMISSIONS',
      `${what} has mode ${mode.toString(8).padStart(4, '0')} (group/others access); use ${wanted}`,
    );
}

async function readSmall(path: string, what: string): Promise<string> {
  const st = await stat(path);
  if (st.size > MAX_FILE_BYTES) throw new KeyStoreError('ERR_KEYSTORE_CORRUPT', `${what} is too large`);
  return readFile(path, 'utf8');
}

/** The local key store. Construct, then call the methods (each reads the directory afresh). */
export class KeyStore {
  readonly dir: string;
  readonly #clock: Clock;
  readonly #validityMs: number;

  constructor(dir: string, clock: Clock, options: { validityMs?: number } = {}) {
    this.dir = dir;
    this.#clock = clock;
    this.#validityMs = options.validityMs ?? DEFAULT_KEY_VALIDITY_MS;
  }

  /** True when `registry.json` exists. */
  async exists(): Promise<boolean> {
    try {
      await stat(join(this.dir, REGISTRY));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Creates the directory (0700) and an active key for every purpose that has none. Idempotent:
   * returns the keys created (none on a second call).
   */
  async init(signers: Partial<Record<KeyPurpose, string>> = {}): Promise<KeyInfo[]> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    checkMode(await stat(this.dir), this.dir, '0700');
    const keys = (await this.exists()) ? await this.list() : [];
    const created: KeyInfo[] = [];
    for (const purpose of KEY_PURPOSES) {
      if (keys.some((k) => k.purpose === purpose && k.status === 'active')) continue;
      const k = await this.#create(purpose, signers[purpose] ?? DEFAULT_SIGNERS[purpose]);
      keys.push(k);
      created.push(k);
    }
    if (created.length > 0) await this.#writeRegistry(keys);
    return created;
  }

  /** Every key, oldest first. Throws `KeyStoreError`. */
  async list(): Promise<KeyInfo[]> {
    let st: Stats;
    try {
      st = await stat(this.dir);
    } catch {
      throw new KeyStoreError('ERR_KEYSTORE_MISSING', `${this.dir}: no key store (run acd keys init)`);
    }
    checkMode(st, this.dir, '0700');
    let text: string;
    try {
      text = await readSmall(join(this.dir, REGISTRY), REGISTRY);
    } catch (err) {
      if (err instanceof KeyStoreError) throw err;
      throw new KeyStoreError('ERR_KEYSTORE_MISSING', `${this.dir}: no key registry (run acd keys init)`, {
        cause: err,
      });
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text) as unknown;
    } catch (err) {
      throw new KeyStoreError('ERR_KEYSTORE_CORRUPT', `${REGISTRY} is not JSON`, { cause: err });
    }
    if (!Value.Check(RegistrySchema, doc)) {
      const first = Value.Errors(RegistrySchema, doc).First();
      throw new KeyStoreError(
        'ERR_KEYSTORE_CORRUPT',
        `${REGISTRY}${first?.path ?? ''}: ${first?.message ?? 'invalid'}`,
      );
    }
    return doc.keys;
  }

  /**
   * Retires the active key of `purpose` (validity ends now; private file destroyed; public entry
   * kept) and creates its successor, valid from now. Returns `{ retired, created }`.
   */
  async rotate(
    purpose: KeyPurpose,
    signer?: string,
  ): Promise<{ retired: KeyInfo | undefined; created: KeyInfo }> {
    const keys = await this.list();
    const active = keys.find((k) => k.purpose === purpose && k.status === 'active');
    if (active) this.#retire(active);
    const created = await this.#create(purpose, signer ?? active?.signer ?? DEFAULT_SIGNERS[purpose]);
    keys.push(created);
    await this.#writeRegistry(keys);
    if (active) await this.#destroyPrivate(active.keyId);
    return { retired: active, created };
  }

  /** The active signing key of `purpose`, valid now. Throws `KeyStoreError`. */
  async signingKey(purpose: KeyPurpose): Promise<SigningKey> {
    const keys = await this.list();
    const k = keys.find((e) => e.purpose === purpose && e.status === 'active');
    if (!k || !this.#validNow(k))
      throw new KeyStoreError(
        'ERR_KEYSTORE_NO_ACTIVE_KEY',
        `no ${purpose} key valid now in ${this.dir} (run acd keys ${k ? 'rotate' : 'init'})`,
      );
    return this.#loadPrivate(k);
  }

  /**
   * Creates the personal re-identification key of `user` (a user id of `acd users`), valid from
   * now. Refuses a second active key for the same person (`ERR_KEYSTORE_SIGNER_EXISTS`: retire the
   * old one first) and a malformed user id (`ERR_KEYSTORE_BAD_SIGNER`).
   */
  async addSigner(user: string): Promise<KeyInfo> {
    if (!SIGNER_ID_PATTERN.test(user))
      throw new KeyStoreError(
        'ERR_KEYSTORE_BAD_SIGNER',
        `${JSON.stringify(user.slice(0, 64))} is not a user id`,
      );
    const keys = await this.list();
    if (keys.some((k) => k.purpose === 'reidentification' && k.signer === user && k.status === 'active'))
      throw new KeyStoreError(
        'ERR_KEYSTORE_SIGNER_EXISTS',
        `${user} already holds an active re-identification key (acd keys retire-signer ${user} first)`,
      );
    const created = await this.#create('reidentification', user);
    keys.push(created);
    await this.#writeRegistry(keys);
    return created;
  }

  /**
   * Retires the personal re-identification key of `user` (validity ends now, private key
   * destroyed, public entry kept so that what it signed still verifies). Throws
   * `ERR_KEYSTORE_NO_ACTIVE_KEY` when the user holds none.
   */
  async retireSigner(user: string): Promise<KeyInfo> {
    const keys = await this.list();
    const k = keys.find(
      (e) => e.purpose === 'reidentification' && e.signer === user && e.status === 'active',
    );
    if (!k)
      throw new KeyStoreError('ERR_KEYSTORE_NO_ACTIVE_KEY', `${user} holds no active re-identification key`);
    this.#retire(k);
    await this.#writeRegistry(keys);
    await this.#destroyPrivate(k.keyId);
    return k;
  }

  /**
   * The personal re-identification key of `user`, valid now; undefined when the user holds none
   * (never created, retired or expired). Throws `KeyStoreError` for an unusable store.
   */
  async personalSigningKey(user: string): Promise<SigningKey | undefined> {
    const keys = await this.list();
    const k = keys.find(
      (e) => e.purpose === 'reidentification' && e.signer === user && e.status === 'active',
    );
    if (!k || !this.#validNow(k)) return undefined;
    return this.#loadPrivate(k);
  }

  #validNow(k: KeyInfo): boolean {
    const now = this.#clock.now();
    const from = parseIsoTimestamp(k.validFrom);
    const until = parseIsoTimestamp(k.validUntil);
    return from !== undefined && until !== undefined && now >= from && now < until;
  }

  #retire(k: KeyInfo): void {
    const now = this.#clock.now();
    k.status = 'retired';
    // A key valid until before now is already over; never lengthen a window.
    const until = parseIsoTimestamp(k.validUntil) ?? now;
    const from = parseIsoTimestamp(k.validFrom) ?? now;
    k.validUntil = isoTime(Math.max(from + 1, Math.min(until, now)));
  }

  async #loadPrivate(k: KeyInfo): Promise<SigningKey> {
    const path = join(this.dir, `private-${k.keyId}.json`);
    let text: string;
    try {
      checkMode(await stat(path), path, '0600');
      text = await readSmall(path, path);
    } catch (err) {
      if (err instanceof KeyStoreError) throw err;
      throw new KeyStoreError('ERR_KEYSTORE_CORRUPT', `private key of ${k.keyId} is missing`, { cause: err });
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text) as unknown;
    } catch (err) {
      throw new KeyStoreError('ERR_KEYSTORE_CORRUPT', `private key of ${k.keyId} is not JSON`, {
        cause: err,
      });
    }
    if (!Value.Check(PrivateSchema, doc) || doc.keyId !== k.keyId || doc.x !== k.publicKey)
      throw new KeyStoreError(
        'ERR_KEYSTORE_CORRUPT',
        `private key file of ${k.keyId} does not match the registry`,
      );
    try {
      return SigningKey.fromJwk(doc.d, doc.x);
    } catch (err) {
      throw new KeyStoreError('ERR_KEYSTORE_CORRUPT', `private key of ${k.keyId} is not usable`, {
        cause: err,
      });
    }
  }

  /** The public keys, resolved for verification. */
  async publicKeys(): Promise<PublicKeyInfo[]> {
    return (await this.list()).map((k, i) => {
      const { createdAt: _c, ...entry } = k;
      return resolvePublicKey(entry, `${REGISTRY}/keys/${i}`);
    });
  }

  /** The public-keys file (`acd keys export-public`). */
  async exportPublic(): Promise<PublicKeysFile> {
    const keys = (await this.list()).map(({ createdAt: _c, ...entry }) => entry);
    return { format: PUBLIC_KEYS_FORMAT, exportedAt: isoTime(this.#clock.now()), keys };
  }

  async #create(purpose: AnyKeyPurpose, signer: string): Promise<KeyInfo> {
    const key = SigningKey.generate();
    const now = this.#clock.now();
    const { d, x } = key.exportJwk();
    await writeFileAtomic(
      join(this.dir, `private-${key.keyId}.json`),
      `${JSON.stringify({ format: PRIVATE_KEY_FORMAT, keyId: key.keyId, d, x })}\n`,
    );
    return {
      keyId: key.keyId,
      purpose,
      signer,
      publicKey: key.publicKey,
      createdAt: isoTime(now),
      validFrom: isoTime(now),
      validUntil: isoTime(now + this.#validityMs),
      status: 'active',
      ...(purpose === 'commission' ? { scopes: ['approval' as const] } : {}),
      ...(purpose === 'reidentification' ? { scopes: ['reidentification' as const] } : {}),
    };
  }

  async #writeRegistry(keys: KeyInfo[]): Promise<void> {
    await writeFileAtomic(
      join(this.dir, REGISTRY),
      `${JSON.stringify({ format: KEY_REGISTRY_FORMAT, keys }, null, 2)}\n`,
    );
  }

  async #destroyPrivate(keyId: string): Promise<void> {
    const path = join(this.dir, `private-${keyId}.json`);
    try {
      const fh = await open(path, constants.O_WRONLY);
      try {
        const { size } = await fh.stat();
        await fh.write(Buffer.alloc(size), 0, size, 0);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await unlink(path);
    } catch {
      // Already gone: nothing to destroy.
    }
  }
}
