/**
 * Sealing of re-identification answers (R-OVS-2: "a sealed reference to the answer — never the
 * revealed address in clear").
 *
 * An answer's results are encrypted with a fresh random 256-bit data key (AES-256-GCM, random
 * 96-bit IV, the request id as additional data). The store keeps only the ciphertext, the IV and
 * tag, and the data key *wrapped* once per party allowed to reveal it (the requester and the
 * second authoriser): AES-256-GCM under a key derived with HKDF-SHA-256 from the service's seal
 * secret, salted with the request id and bound to the user id (`info`), so a wrap opens only for
 * that user and that request. The **sealed reference** is `sha256:<hex>` over IV ‖ tag ‖
 * ciphertext: what the audit log records, and what anyone holding the blob can check.
 *
 * The seal secret is 32 random bytes in a file of mode 0600 in a directory of mode 0700 under
 * the data directory (`DATA/reidentification/seal.key`), created on first start; group/others
 * access is refused.
 *
 * Limits (documented in README.md): the centre process holds the secret, so this protects the
 * answers against whoever reads the store (dumps, backups, exports, an inspector's queries) and
 * enforces in software that only the two parties reveal, each once (their wrap is destroyed on
 * reveal, and every wrap when the reveal window closes: crypto-shredding). It does not protect
 * against an administrator holding both the store and the secret file while a wrap still exists;
 * wrapping to a key only the person holds (their own X25519 key, a smart card or an HSM) would.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ReidentifyError } from './errors.ts';
import { writeFileAtomic } from '../../common/files.ts';

/** Value of the `format` field of the seal key file. */
export const SEAL_KEY_FORMAT = 'acd.reid-seal-key/1';
/** Value of the `format` field of a sealed answer. */
export const SEALED_FORMAT = 'acd.sealed-answer/1';
/** The seal key file is one short JSON line; anything bigger is not ours. */
const MAX_SEAL_KEY_FILE_BYTES = 4096;
const GROUP_OTHER = 0o077;

/** The service's seal secret. */
export interface SealKey {
  /** base64url(SHA-256(secret))[first 16 bytes]: names the secret without revealing it. */
  readonly keyId: string;
  readonly secret: Buffer;
}

/** The data key wrapped for one party. */
export interface WrappedKey {
  user: string;
  /** base64url. */
  iv: string;
  tag: string;
  key: string;
}

/** A sealed answer as stored (no clear content). */
export interface SealedAnswer {
  format: typeof SEALED_FORMAT;
  alg: 'A256GCM';
  sealKeyId: string;
  iv: string;
  tag: string;
  ciphertext: string;
  /** `sha256:<hex>` over IV ‖ tag ‖ ciphertext. */
  reference: string;
  /** One wrap per party still allowed to reveal; removed on reveal and when the window closes. */
  wrapped: WrappedKey[];
}

function sealKeyOf(secret: Buffer): SealKey {
  return {
    keyId: createHash('sha256').update(secret).digest().subarray(0, 16).toString('base64url'),
    secret,
  };
}

/**
 * Reads the seal secret from `path`, creating it (and its directory, 0700) when absent. Throws
 * `ReidentifyError` `ERR_REID_SEAL` when the file gives group/others access or is not a seal key.
 */
export async function loadOrCreateSealKey(path: string): Promise<SealKey> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  let st;
  try {
    st = await stat(path);
  } catch {
    st = undefined;
  }
  if (st === undefined) {
    const secret = randomBytes(32);
    await writeFileAtomic(
      path,
      `${JSON.stringify({ format: SEAL_KEY_FORMAT, secret: secret.toString('base64url') })}\n`,
    );
    return sealKeyOf(secret);
  }
  if ((st.mode & GROUP_OTHER) !== 0)
    throw new ReidentifyError(
      'ERR_REID_SEAL',
      `${path} has mode ${(st.mode & 0o777).toString(8)} (group/others access); use 0600`,
    );
  if (st.size > MAX_SEAL_KEY_FILE_BYTES)
    throw new ReidentifyError('ERR_REID_SEAL', `${path} is not a seal key`);
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (err) {
    throw new ReidentifyError('ERR_REID_SEAL', `${path} is not a seal key`, { cause: err });
  }
  const o = doc as { format?: unknown; secret?: unknown } | null;
  if (
    o === null ||
    typeof o !== 'object' ||
    o.format !== SEAL_KEY_FORMAT ||
    typeof o.secret !== 'string' ||
    !/^[A-Za-z0-9_-]{43}$/.test(o.secret)
  )
    throw new ReidentifyError('ERR_REID_SEAL', `${path} is not a seal key`);
  return sealKeyOf(Buffer.from(o.secret, 'base64url'));
}

function wrapKeyFor(key: SealKey, requestId: string, user: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', key.secret, Buffer.from(requestId, 'utf8'), `acd-reid-wrap/1\u0000${user}`, 32),
  );
}

function aad(...parts: string[]): Buffer {
  return Buffer.from(parts.join('\u0000'), 'utf8');
}

function gcmEncrypt(k: Buffer, plain: Buffer, ad: Buffer): { iv: Buffer; tag: Buffer; ct: Buffer } {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', k, iv);
  c.setAAD(ad);
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return { iv, tag: c.getAuthTag(), ct };
}

function gcmDecrypt(k: Buffer, iv: Buffer, tag: Buffer, ct: Buffer, ad: Buffer): Buffer {
  const d = createDecipheriv('aes-256-gcm', k, iv);
  d.setAAD(ad);
  d.setAuthTag(tag);
  return Buffer.concat([d.update(ct), d.final()]);
}

/** The sealed reference of a blob: `sha256:<hex>` over IV ‖ tag ‖ ciphertext. */
export function sealedReference(iv: Buffer, tag: Buffer, ct: Buffer): string {
  return `sha256:${createHash('sha256').update(iv).update(tag).update(ct).digest('hex')}`;
}

/** Seals `plain` for `parties` (user ids), bound to `requestId`. */
export function seal(
  plain: Uint8Array,
  requestId: string,
  parties: readonly string[],
  key: SealKey,
): SealedAnswer {
  const dataKey = randomBytes(32);
  try {
    const body = gcmEncrypt(dataKey, Buffer.from(plain), aad('answer', requestId));
    const wrapped = [...new Set(parties)].map((user): WrappedKey => {
      const w = gcmEncrypt(wrapKeyFor(key, requestId, user), dataKey, aad('wrap', requestId, user));
      return {
        user,
        iv: w.iv.toString('base64url'),
        tag: w.tag.toString('base64url'),
        key: w.ct.toString('base64url'),
      };
    });
    return {
      format: SEALED_FORMAT,
      alg: 'A256GCM',
      sealKeyId: key.keyId,
      iv: body.iv.toString('base64url'),
      tag: body.tag.toString('base64url'),
      ciphertext: body.ct.toString('base64url'),
      reference: sealedReference(body.iv, body.tag, body.ct),
      wrapped,
    };
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Opens a sealed answer for `user`. Throws `ReidentifyError`: `ERR_REID_NOT_PARTY` when no wrap
 * for this user is left, `ERR_REID_SEAL` when the blob does not match its reference or does not
 * authenticate (tampered with, another seal key).
 */
export function unseal(s: SealedAnswer, requestId: string, user: string, key: SealKey): Buffer {
  const w = s.wrapped.find((x) => x.user === user);
  if (!w) throw new ReidentifyError('ERR_REID_NOT_PARTY', 'no key is wrapped for this user');
  if (s.sealKeyId !== key.keyId)
    throw new ReidentifyError('ERR_REID_SEAL', 'the answer was sealed with another seal key');
  const iv = Buffer.from(s.iv, 'base64url');
  const tag = Buffer.from(s.tag, 'base64url');
  const ct = Buffer.from(s.ciphertext, 'base64url');
  const ref = Buffer.from(sealedReference(iv, tag, ct));
  const want = Buffer.from(s.reference);
  if (ref.length !== want.length || !timingSafeEqual(ref, want))
    throw new ReidentifyError('ERR_REID_SEAL', 'the sealed blob does not match its reference');
  let dataKey: Buffer | undefined;
  try {
    dataKey = gcmDecrypt(
      wrapKeyFor(key, requestId, user),
      Buffer.from(w.iv, 'base64url'),
      Buffer.from(w.tag, 'base64url'),
      Buffer.from(w.key, 'base64url'),
      aad('wrap', requestId, user),
    );
    return gcmDecrypt(dataKey, iv, tag, ct, aad('answer', requestId));
  } catch (err) {
    throw new ReidentifyError('ERR_REID_SEAL', 'the sealed answer does not open', { cause: err });
  } finally {
    dataKey?.fill(0);
  }
}
