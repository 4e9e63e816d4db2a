/**
 * Password hashing with scrypt from `node:crypto` and a random per-user salt. The encoded form
 * carries its parameters (`scrypt$N$r$p$<salt>$<hash>`, base64url), so stronger parameters can be
 * adopted later without invalidating stored hashes. Defaults: N = 2^15, r = 8, p = 3 — one of the
 * equivalent settings of the OWASP password storage cheat sheet (N = 2^17, r = 8, p = 1 needs
 * 128 MiB per check; this needs 32 MiB, p runs sequentially), about 0.2–0.7 s per check on this
 * shared 2-core machine; 16-byte salt, 32-byte key. Verification compares in constant time.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt cost parameters and sizes. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelisation. */
  p: number;
  /** Derived key bytes. */
  keyLength: number;
  /** Salt bytes. */
  saltLength: number;
}

/** The parameters new hashes get. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 3, keyLength: 32, saltLength: 16 };

/** Shortest password accepted for a user. */
export const MIN_PASSWORD_LENGTH = 12;
/** Longest password accepted (and hashed). */
export const MAX_PASSWORD_LENGTH = 1024;
/** Longest encoded hash parsed. */
export const MAX_HASH_LENGTH = 512;

/** Bounds of parameters accepted from a stored hash (a crafted file must not exhaust memory). */
const N_MIN_LOG2 = 10;
const N_MAX_LOG2 = 20;

function scrypt(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const opts: ScryptOptions = {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: 256 * params.N * params.r + (1 << 20),
  };
  return new Promise((resolve, reject) => {
    scryptCb(password.normalize('NFC'), salt, params.keyLength, opts, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** A parsed encoded hash. */
export interface PasswordHash {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

/** Parses `scrypt$N$r$p$salt$hash`; undefined when malformed or out of bounds. Pure. */
export function parsePasswordHash(encoded: string): PasswordHash | undefined {
  if (encoded.length > MAX_HASH_LENGTH) return undefined;
  const m =
    /^scrypt\$([0-9]{1,8})\$([0-9]{1,2})\$([0-9]{1,2})\$([A-Za-z0-9_-]{8,64})\$([A-Za-z0-9_-]{16,128})$/.exec(
      encoded,
    );
  if (m === null) return undefined;
  const N = Number(m[1]);
  const r = Number(m[2]);
  const p = Number(m[3]);
  const log2 = Math.log2(N);
  if (!Number.isInteger(log2) || log2 < N_MIN_LOG2 || log2 > N_MAX_LOG2) return undefined;
  if (r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  const salt = Buffer.from(m[4] ?? '', 'base64url');
  const hash = Buffer.from(m[5] ?? '', 'base64url');
  if (hash.length < 16) return undefined;
  return { params: { N, r, p, keyLength: hash.length, saltLength: salt.length }, salt, hash };
}

/** Hashes a password with a fresh random salt. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(params.saltLength);
  const hash = await scrypt(password, salt, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** True when `password` matches `encoded`; false for a wrong password or a malformed hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  const h = parsePasswordHash(encoded);
  if (h === undefined) return false;
  const key = await scrypt(password, h.salt, h.params);
  return key.length === h.hash.length && timingSafeEqual(key, h.hash);
}
