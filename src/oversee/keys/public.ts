/**
 * The public-keys file (`acd keys export-public --out FILE`): what inspectors and edges receive.
 * It lists every key the store ever held (rotation keeps retired keys), so checkpoints and
 * approvals signed before a rotation still verify. Format `acd.public-keys/1`:
 *
 * ```json
 * { "format": "acd.public-keys/1", "exportedAt": "2026-01-01T00:00:00.000Z",
 *   "keys": [ { "keyId": "…", "purpose": "audit", "signer": "centre-audit", "publicKey": "…",
 *               "validFrom": "…", "validUntil": "…", "status": "active" } ] }
 * ```
 *
 * Commission keys also carry `"scopes": ["approval"]` and personal re-identification keys
 * `"scopes": ["reidentification"]`, so such an entry without `purpose` and `status` is a
 * `TrustedKeyConfig` an edge can trust directly.
 */
import type { KeyObject } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import {
  IsoTimestamp,
  keyIdOf,
  parseIsoTimestamp,
  publicKeyFromBase64url,
} from '../../common/signing/index.ts';
import { PublicKeysFileError } from './errors.ts';

/** Value of the `format` field of a public-keys file. */
export const PUBLIC_KEYS_FORMAT = 'acd.public-keys/1';
/** Largest public-keys file read (a key is ~300 bytes; thousands of rotations fit). */
export const MAX_PUBLIC_KEYS_BYTES = 1024 * 1024;
/** Most keys one file may list. */
export const MAX_PUBLIC_KEYS = 2000;

/** What a service key of the local store signs (one active key per purpose). */
export type KeyPurpose = 'commission' | 'audit';
/** Every service key purpose. */
export const KEY_PURPOSES: readonly KeyPurpose[] = ['commission', 'audit'];
/**
 * Purposes of personal keys: one active key per person (`signer` = the user id), created with
 * `acd keys add-signer`. `reidentification` keys sign re-identification requests (R-OVS-2: two
 * distinct people); they are exported with `scopes: ["reidentification"]` so edges trust them.
 */
export type PersonalKeyPurpose = 'reidentification';
/** Every personal key purpose. */
export const PERSONAL_KEY_PURPOSES: readonly PersonalKeyPurpose[] = ['reidentification'];
/** The purpose of any key in a registry or public-keys file. */
export type AnyKeyPurpose = KeyPurpose | PersonalKeyPurpose;

/** One entry of a public-keys file (typebox). */
export const PublicKeyEntrySchema = Type.Object(
  {
    keyId: Type.String({ pattern: '^[A-Za-z0-9_-]{22}$', description: 'Key id (see keyIdOf).' }),
    purpose: Type.Union(
      [...KEY_PURPOSES, ...PERSONAL_KEY_PURPOSES].map((p) => Type.Literal(p)),
      {
        description:
          'commission: approvals and revocations; audit: the centre audit-log checkpoints; ' +
          "reidentification: one person's key for signing re-identification requests.",
      },
    ),
    signer: Type.String({ minLength: 1, maxLength: 200, description: 'Who holds the private key.' }),
    publicKey: Type.String({
      pattern: '^[A-Za-z0-9_-]{43}$',
      description: 'Raw Ed25519 public key, base64url.',
    }),
    validFrom: IsoTimestamp,
    validUntil: IsoTimestamp,
    status: Type.Union([Type.Literal('active'), Type.Literal('retired')], {
      description: 'retired keys are kept to verify what they signed before the rotation.',
    }),
    scopes: Type.Optional(
      Type.Array(Type.Union([Type.Literal('approval'), Type.Literal('reidentification')]), {
        minItems: 1,
        maxItems: 1,
      }),
    ),
  },
  { additionalProperties: false },
);

/** One entry of a public-keys file. */
export type PublicKeyEntry = Static<typeof PublicKeyEntrySchema>;

/** Schema of a public-keys file. */
export const PublicKeysFileSchema = Type.Object(
  {
    format: Type.Literal(PUBLIC_KEYS_FORMAT),
    exportedAt: IsoTimestamp,
    keys: Type.Array(PublicKeyEntrySchema, { maxItems: MAX_PUBLIC_KEYS }),
  },
  { additionalProperties: false },
);

/** A public-keys file. */
export type PublicKeysFile = Static<typeof PublicKeysFileSchema>;

/** A resolved public key, ready to verify. */
export interface PublicKeyInfo {
  readonly keyId: string;
  readonly purpose: AnyKeyPurpose;
  readonly signer: string;
  readonly publicKey: KeyObject;
  /** Epoch ms, inclusive. */
  readonly validFrom: number;
  /** Epoch ms, exclusive. */
  readonly validUntil: number;
}

/** Resolves one validated entry; throws `PublicKeysFileError` naming it. */
export function resolvePublicKey(e: PublicKeyEntry, path: string): PublicKeyInfo {
  let publicKey: KeyObject;
  try {
    publicKey = publicKeyFromBase64url(e.publicKey, `${path}/publicKey`);
  } catch (err) {
    throw new PublicKeysFileError(`${path}/publicKey`, 'not an Ed25519 public key', { cause: err });
  }
  if (keyIdOf(Buffer.from(e.publicKey, 'base64url')) !== e.keyId)
    throw new PublicKeysFileError(`${path}/keyId`, 'does not match the public key');
  const validFrom = parseIsoTimestamp(e.validFrom);
  const validUntil = parseIsoTimestamp(e.validUntil);
  if (validFrom === undefined || validUntil === undefined || validFrom >= validUntil)
    throw new PublicKeysFileError(`${path}/validUntil`, 'validity window is empty or not a real date');
  return { keyId: e.keyId, purpose: e.purpose, signer: e.signer, publicKey, validFrom, validUntil };
}

/**
 * Parses a public-keys file (untrusted: it may come from anywhere). Pure; throws only
 * `PublicKeysFileError`.
 */
export function parsePublicKeys(text: string): PublicKeyInfo[] {
  if (text.length > MAX_PUBLIC_KEYS_BYTES)
    throw new PublicKeysFileError('', `larger than ${MAX_PUBLIC_KEYS_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(text) as unknown;
  } catch (err) {
    throw new PublicKeysFileError('', 'not JSON', { cause: err });
  }
  if (!Value.Check(PublicKeysFileSchema, doc)) {
    const first = Value.Errors(PublicKeysFileSchema, doc).First();
    throw new PublicKeysFileError(first?.path ?? '', first?.message ?? 'invalid');
  }
  const seen = new Set<string>();
  return doc.keys.map((e, i) => {
    if (seen.has(e.keyId)) throw new PublicKeysFileError(`/keys/${i}/keyId`, 'listed twice');
    seen.add(e.keyId);
    return resolvePublicKey(e, `/keys/${i}`);
  });
}
