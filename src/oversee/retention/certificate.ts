/**
 * Deletion certificates (R-RET-2): one per retention run that deleted something, as
 *
 *     { format: 'acd.deletion-certificate/1', id, runAt, period, counts, remainingRows,
 *       derivedBefore, parameterVersion, holds, keyIds, keyId, signature }
 *
 * (`DeletionCertificateBody` in src/common/schema/case.ts) where `signature` =
 * base64url(Ed25519(JCS(certificate without `signature`))) made with the centre's `audit` key.
 * A certificate verifies with a public key of purpose `audit` whose validity window contains
 * `runAt`. The certificate file is NDJSON, one certificate per line, opened with O_APPEND for every
 * write and fsynced before the write counts; nothing rewrites it.
 */
import { sign, verify } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { DeletionCertificateBody } from '../../common/schema/case.ts';
import { canonicalBytes, type SigningKey } from '../../common/signing/index.ts';
import { ndjsonLines, type Located } from '../audit/index.ts';
import type { PublicKeyInfo } from '../keys/index.ts';
import { CertificateFileError } from './errors.ts';

/** Value of the `format` field of a certificate. */
export const CERTIFICATE_FORMAT = 'acd.deletion-certificate/1' as const;

/** Largest certificate file read whole (≈ 600 bytes a line: a run an hour for decades). */
export const MAX_CERTIFICATE_FILE_BYTES = 256 * 1024 * 1024;
/** Longest certificate line considered (a certificate has a few dozen counts and holds). */
export const MAX_CERTIFICATE_LINE = 256 * 1024;
/** Most counters in one certificate (tables plus registered purgers). */
export const MAX_CERTIFICATE_COUNTS = 64;
/** Most holds named in one certificate (the approved extensions in force). */
export const MAX_CERTIFICATE_HOLDS = 10_000;

const Day = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' });
const Time = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000 });
const KeyId = Type.String({ pattern: '^[A-Za-z0-9_-]{22}$' });

/** Strict schema of a certificate (what verifiers accept). */
export const DeletionCertificateSchema = Type.Object(
  {
    format: Type.Literal(CERTIFICATE_FORMAT),
    id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,128}$' }),
    runAt: Time,
    period: Type.Object(
      { firstDay: Type.Union([Day, Type.Null()]), lastDay: Type.Union([Day, Type.Null()]) },
      { additionalProperties: false },
    ),
    counts: Type.Record(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }), Type.Integer({ minimum: 0 }), {
      maxProperties: MAX_CERTIFICATE_COUNTS,
    }),
    remainingRows: Type.Integer({ minimum: 0 }),
    derivedBefore: Type.Optional(Time),
    parameterVersion: Type.String({ minLength: 1, maxLength: 64 }),
    holds: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: MAX_CERTIFICATE_HOLDS }),
    keyIds: Type.Array(KeyId, { minItems: 1, maxItems: 64 }),
    keyId: KeyId,
    signature: Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
  },
  { additionalProperties: false },
);

/** A certificate as the schema checks it (the same shape as `DeletionCertificateBody`). */
export type DeletionCertificate = Static<typeof DeletionCertificateSchema>;

/** A certificate before signing. */
export type UnsignedCertificate = Omit<DeletionCertificateBody, 'signature' | 'keyId' | 'keyIds' | 'format'>;

/** The certificate file under a data directory. */
export function certificateFileOf(dataDir: string): string {
  return join(dataDir, 'retention', 'certificates.ndjson');
}

/** Signs a certificate with `key` (its key id becomes `keyId` and the first of `keyIds`). */
export function signCertificate(
  body: UnsignedCertificate,
  key: SigningKey,
  otherKeyIds: readonly string[] = [],
): DeletionCertificateBody {
  const unsigned: Omit<DeletionCertificateBody, 'signature'> = {
    format: CERTIFICATE_FORMAT,
    ...body,
    keyIds: [key.keyId, ...otherKeyIds.filter((k) => k !== key.keyId)],
    keyId: key.keyId,
  };
  const signature = sign(null, canonicalBytes(unsigned), key.privateKey).toString('base64url');
  return { ...unsigned, signature };
}

/** Outcome of {@link verifyCertificate}. */
export type CertificateVerdict =
  { ok: true; certificate: DeletionCertificate } | { ok: false; reason: string };

/**
 * Checks a certificate (untrusted: from a file, the API, anyone): well-formed, signed by a known
 * `audit` key valid at `runAt`, signature over the JCS form without `signature`. Never throws.
 */
export function verifyCertificate(cert: unknown, publicKeys: readonly PublicKeyInfo[]): CertificateVerdict {
  try {
    if (!Value.Check(DeletionCertificateSchema, cert)) {
      const first = Value.Errors(DeletionCertificateSchema, cert).First();
      return {
        ok: false,
        reason: `malformed certificate (${first?.path || '/'}: ${first?.message ?? 'invalid'})`,
      };
    }
    const key = publicKeys.find((k) => k.keyId === cert.keyId);
    if (!key) return { ok: false, reason: `signed by unknown key ${cert.keyId}` };
    if (key.purpose !== 'audit') return { ok: false, reason: `key ${cert.keyId} is not an audit key` };
    if (cert.runAt < key.validFrom || cert.runAt >= key.validUntil)
      return {
        ok: false,
        reason: `key ${cert.keyId} was not valid at ${new Date(cert.runAt).toISOString()}`,
      };
    if (!cert.keyIds.includes(cert.keyId))
      return { ok: false, reason: 'keyIds does not name the signing key' };
    const { signature, ...body } = cert;
    const ok = verify(null, canonicalBytes(body), key.publicKey, Buffer.from(signature, 'base64url'));
    return ok ? { ok: true, certificate: cert } : { ok: false, reason: 'signature does not verify' };
  } catch {
    return { ok: false, reason: 'signature does not verify' };
  }
}

/** Appends one certificate line to `file` (O_APPEND, mode 0600, fsync). Throws `CertificateFileError`. */
export async function appendCertificateFile(file: string, cert: DeletionCertificateBody): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const fh = await open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    try {
      await fh.write(`${JSON.stringify(cert)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new CertificateFileError(file, 'cannot append the certificate', { cause: err });
  }
}

/** Every line of a certificate file (none when it does not exist). Throws `CertificateFileError`. */
export async function readCertificateFile(file: string): Promise<Located[]> {
  let text: string;
  try {
    const st = await stat(file);
    if (st.size > MAX_CERTIFICATE_FILE_BYTES) throw new CertificateFileError(file, 'too large to read');
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof CertificateFileError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CertificateFileError(file, 'cannot read', { cause: err });
  }
  return ndjsonLines(text, MAX_CERTIFICATE_LINE);
}
