/**
 * The edge's pseudonymisation key store (R-SEL-4, R-OVS-2; DESIGN section 6): one secret per key
 * epoch, in files of mode 0600 inside a directory no one else can enter. From each epoch secret,
 * HKDF-SHA-256 derives the Crypto-PAn key and the HMAC key (domain-separated), so one file per
 * epoch holds everything and destroying it destroys both.
 *
 * Lifecycle of an epoch: created by `rotate()` (epoch = previous + 1) and used for new records
 * until `notAfter`; kept afterwards only for re-identification until `retainUntil` (the end of
 * the retention of the records it pseudonymised); then `destroyExpired()` overwrites and deletes
 * the file and zeroes the key in memory. Baselines keyed on pseudonyms restart at a rotation, by
 * design (DESIGN section 6).
 *
 * Keys are never logged: `EpochKey` redacts itself in JSON and `util.inspect`, and no error
 * message contains key material. Overwriting a file before unlinking it does not guarantee
 * erasure on copy-on-write or flash storage; put the directory on an encrypted volume.
 */
import { constants, type Stats } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { hkdfSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Clock } from '../../common/clock.ts';
import { CryptoPan, CRYPTOPAN_KEY_BYTES, type CryptoPanOptions } from './cryptopan.ts';
import { KeyedHasher, HMAC_KEY_BYTES } from './hmac.ts';
import { KeyEpochUnknownError, KeyFileError, KeyPermissionError, KeyStoreStateError } from './errors.ts';

/** Value of the `format` field of a key file. */
export const KEY_FILE_FORMAT = 'acd.pseudonym-key/1';
/** Bytes of an epoch secret. */
export const EPOCH_SECRET_BYTES = 32;
/** Largest key file read: a key file is ~250 bytes; anything bigger is not ours. */
const MAX_KEY_FILE_BYTES = 4096;
/** Group/other permission bits: any of them set on a key file or the directory is refused. */
const GROUP_OTHER = 0o077;
const FILE_RE = /^epoch-(\d{6,10})\.json$/;

const KeyFileSchema = Type.Object(
  {
    format: Type.Literal(KEY_FILE_FORMAT),
    epoch: Type.Integer({ minimum: 1, maximum: 0x7fffffff }),
    createdAt: Type.Integer({ minimum: 0 }),
    notAfter: Type.Integer({ minimum: 0 }),
    retainUntil: Type.Integer({ minimum: 0 }),
    secret: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
  },
  { additionalProperties: false },
);

/** Public facts about an epoch (safe to log and audit). */
export interface KeyEpochInfo {
  epoch: number;
  /** Epoch ms. */
  createdAt: number;
  /** End of use for new records (epoch ms, exclusive). */
  notAfter: number;
  /** The key is destroyed at this time (epoch ms). */
  retainUntil: number;
}

function derive(secret: Buffer, info: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), info, length));
}

/** One key epoch: the Crypto-PAn and HMAC keys derived from its secret. */
export class EpochKey implements KeyEpochInfo {
  readonly epoch: number;
  readonly createdAt: number;
  notAfter: number;
  retainUntil: number;
  readonly #secret: Buffer;
  readonly #options: CryptoPanOptions;
  #cryptoPan: CryptoPan | undefined;
  #hasher: KeyedHasher | undefined;
  #destroyed = false;

  /** `secret` is copied. */
  constructor(info: KeyEpochInfo, secret: Uint8Array, options: CryptoPanOptions = {}) {
    this.epoch = info.epoch;
    this.createdAt = info.createdAt;
    this.notAfter = info.notAfter;
    this.retainUntil = info.retainUntil;
    this.#secret = Buffer.from(secret);
    this.#options = options;
  }

  /** The epoch's Crypto-PAn instance (created on first use; its cache belongs to this epoch). */
  get cryptoPan(): CryptoPan {
    if (this.#destroyed) throw new KeyStoreStateError(`key epoch ${this.epoch} has been destroyed`);
    if (!this.#cryptoPan) {
      const k = derive(this.#secret, 'acd/pseudonymise/crypto-pan/v1', CRYPTOPAN_KEY_BYTES);
      this.#cryptoPan = new CryptoPan(k, this.#options);
      k.fill(0);
    }
    return this.#cryptoPan;
  }

  /** The epoch's keyed hasher for identifiers other than addresses. */
  get hasher(): KeyedHasher {
    if (this.#destroyed) throw new KeyStoreStateError(`key epoch ${this.epoch} has been destroyed`);
    if (!this.#hasher) {
      const k = derive(this.#secret, 'acd/pseudonymise/hmac/v1', HMAC_KEY_BYTES);
      this.#hasher = new KeyedHasher(k);
      k.fill(0);
    }
    return this.#hasher;
  }

  /** The secret as stored in the key file (key store use only). */
  exportSecret(): string {
    return this.#secret.toString('base64url');
  }

  /** Public facts only. */
  info(): KeyEpochInfo {
    return {
      epoch: this.epoch,
      createdAt: this.createdAt,
      notAfter: this.notAfter,
      retainUntil: this.retainUntil,
    };
  }

  /** Zeroes the secret and the derived keys. */
  destroy(): void {
    this.#destroyed = true;
    this.#secret.fill(0);
    this.#cryptoPan?.destroy();
    this.#hasher?.destroy();
    this.#cryptoPan = undefined;
    this.#hasher = undefined;
  }

  /** Redacted: only the public facts. */
  toJSON(): KeyEpochInfo & { secret: '[redacted]' } {
    return { ...this.info(), secret: '[redacted]' };
  }

  /** Redacted for `util.inspect`. */
  [inspect.custom](): string {
    return `EpochKey { epoch: ${this.epoch}, secret: [redacted] }`;
  }
}

/** Configuration of the key store. */
export interface KeyStoreConfig {
  /** Directory of the key files (created with mode 0700 when missing). */
  dir: string;
  /** How long an epoch pseudonymises new records before `ensureCurrent()` rotates. */
  epochLifetimeMs: number;
  /** How long after an epoch's end its key is kept for re-identification (the records' retention). */
  retentionMs: number;
  /** Crypto-PAn cache options per epoch. */
  cryptoPan?: CryptoPanOptions;
}

function checkMode(path: string, st: Stats, what: 'file' | 'directory'): void {
  if (what === 'file' && !st.isFile()) throw new KeyPermissionError(path, 'not a regular file');
  if (what === 'directory' && !st.isDirectory()) throw new KeyPermissionError(path, 'not a directory');
  const mode = st.mode & 0o7777;
  if ((mode & GROUP_OTHER) !== 0)
    throw new KeyPermissionError(
      path,
      `mode ${mode.toString(8).padStart(4, '0')} gives group/others access; use ${what === 'file' ? '0600' : '0700'}`,
      mode,
    );
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The epochs of one edge. Constructed without I/O; `load()` reads the directory. */
export class KeyStore {
  readonly #config: KeyStoreConfig;
  readonly #clock: Clock;
  readonly #epochs = new Map<number, EpochKey>();
  #loaded = false;

  constructor(config: KeyStoreConfig, clock: Clock) {
    this.#config = config;
    this.#clock = clock;
  }

  /**
   * Reads every key file. Throws `KeyPermissionError` when the directory or a key file is open
   * to group/others or is a symbolic link, `KeyFileError` when a file is malformed.
   */
  async load(): Promise<void> {
    const dir = this.#config.dir;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    checkMode(dir, await stat(dir), 'directory');
    for (const e of this.#epochs.values()) e.destroy();
    this.#epochs.clear();
    for (const name of (await readdir(dir)).sort()) {
      const m = FILE_RE.exec(name);
      if (!m) continue;
      const key = await this.#readKeyFile(join(dir, name), Number(m[1]));
      this.#epochs.set(key.epoch, key);
    }
    this.#loaded = true;
  }

  async #readKeyFile(path: string, nameEpoch: number): Promise<EpochKey> {
    let fh;
    try {
      // O_NOFOLLOW: a symbolic link could point at a file whose permissions say nothing.
      fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ELOOP')
        throw new KeyPermissionError(path, 'is a symbolic link');
      throw new KeyFileError(path, 'cannot be opened', { cause: err });
    }
    let text: string;
    try {
      const st = await fh.stat();
      checkMode(path, st, 'file');
      if (st.size > MAX_KEY_FILE_BYTES) throw new KeyFileError(path, 'too large to be a key file');
      text = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new KeyFileError(path, 'not JSON');
    }
    if (!Value.Check(KeyFileSchema, parsed)) {
      const first = Value.Errors(KeyFileSchema, parsed).First();
      // The path only: the value could be (part of) the secret.
      throw new KeyFileError(path, `invalid at ${first?.path ?? '/'}`);
    }
    if (parsed.epoch !== nameEpoch) throw new KeyFileError(path, 'epoch does not match the file name');
    const secret = Buffer.from(parsed.secret, 'base64url');
    const key = new EpochKey(parsed, secret, this.#config.cryptoPan);
    secret.fill(0);
    return key;
  }

  async #write(key: EpochKey): Promise<void> {
    const dir = this.#config.dir;
    const name = `epoch-${String(key.epoch).padStart(6, '0')}.json`;
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    const body = JSON.stringify({ format: KEY_FILE_FORMAT, ...key.info(), secret: key.exportSecret() });
    // Created 0600 from the start (umask can only remove bits), never widened.
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await fh.writeFile(body, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(dir, name));
    await fsyncDir(dir);
  }

  #requireLoaded(): void {
    if (!this.#loaded) throw new KeyStoreStateError('the key store is not loaded');
  }

  /** Every epoch held, oldest first (public facts only). */
  epochs(): KeyEpochInfo[] {
    return [...this.#epochs.values()].sort((a, b) => a.epoch - b.epoch).map((e) => e.info());
  }

  /** The newest epoch: the one that pseudonymises new records. */
  current(): EpochKey {
    this.#requireLoaded();
    let best: EpochKey | undefined;
    for (const e of this.#epochs.values()) if (!best || e.epoch > best.epoch) best = e;
    if (!best) throw new KeyStoreStateError('no key epoch exists yet; call ensureCurrent()');
    return best;
  }

  /** The key of an epoch; throws `KeyEpochUnknownError` when it is not (or no longer) held. */
  get(epoch: number): EpochKey {
    const e = this.#epochs.get(epoch);
    if (!e) throw new KeyEpochUnknownError(epoch);
    return e;
  }

  /** Creates the first epoch, or rotates when the current one has reached `notAfter`. */
  async ensureCurrent(): Promise<EpochKey> {
    this.#requireLoaded();
    if (this.#epochs.size === 0) return this.rotate();
    const cur = this.current();
    if (this.#clock.now() >= cur.notAfter) return this.rotate();
    return cur;
  }

  /**
   * Starts epoch + 1 now. The previous epoch stops at once: its `notAfter` becomes now and its
   * `retainUntil` now + retention (no record pseudonymised with it is younger).
   */
  async rotate(): Promise<EpochKey> {
    this.#requireLoaded();
    const now = this.#clock.now();
    const prev = this.#epochs.size === 0 ? undefined : this.current();
    const notAfter = now + this.#config.epochLifetimeMs;
    const secret = randomBytes(EPOCH_SECRET_BYTES);
    const key = new EpochKey(
      {
        epoch: (prev?.epoch ?? 0) + 1,
        createdAt: now,
        notAfter,
        retainUntil: notAfter + this.#config.retentionMs,
      },
      secret,
      this.#config.cryptoPan,
    );
    secret.fill(0);
    await this.#write(key);
    this.#epochs.set(key.epoch, key);
    if (prev && prev.notAfter > now) {
      prev.notAfter = now;
      prev.retainUntil = now + this.#config.retentionMs;
      await this.#write(prev);
    }
    return key;
  }

  /**
   * Destroys every epoch whose retention has ended (never the current one): the file is
   * overwritten with zeros, synced and unlinked, and the key zeroed in memory. Returns the
   * destroyed epochs, for the deletion certificate (R-RET-2).
   */
  async destroyExpired(): Promise<number[]> {
    this.#requireLoaded();
    const now = this.#clock.now();
    const current = this.#epochs.size === 0 ? undefined : this.current();
    const destroyed: number[] = [];
    for (const e of [...this.#epochs.values()].sort((a, b) => a.epoch - b.epoch)) {
      if (e === current || e.retainUntil > now) continue;
      const path = join(this.#config.dir, `epoch-${String(e.epoch).padStart(6, '0')}.json`);
      const fh = await open(path, constants.O_WRONLY | constants.O_NOFOLLOW);
      try {
        const size = (await fh.stat()).size;
        await fh.write(Buffer.alloc(size), 0, size, 0);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await unlink(path);
      e.destroy();
      this.#epochs.delete(e.epoch);
      destroyed.push(e.epoch);
    }
    if (destroyed.length > 0) await fsyncDir(this.#config.dir);
    return destroyed;
  }

  /** Zeroes every key in memory (files stay); the store must be loaded again to be used. */
  close(): void {
    for (const e of this.#epochs.values()) e.destroy();
    this.#epochs.clear();
    this.#loaded = false;
  }

  /** Redacted. */
  toJSON(): { dir: string; epochs: KeyEpochInfo[] } {
    return { dir: this.#config.dir, epochs: this.epochs() };
  }

  /** Redacted for `util.inspect`. */
  [inspect.custom](): string {
    return `KeyStore { dir: ${JSON.stringify(this.#config.dir)}, epochs: [${[...this.#epochs.keys()].join(', ')}] }`;
  }
}
