/**
 * The audit export file (`acd audit export`), NDJSON with three line types:
 *
 * 1. line 1, `{"type":"header", "format":"acd.audit-export/1", exportedAt, exportedBy, from, to,
 *    firstSeq, lastSeq, checkpointSeqs, keyId, signature}` — what the file holds, signed with the
 *    centre's audit key (Ed25519 over the JCS form of the header without `signature`), so that
 *    cutting lines off the end, dropping a checkpoint or editing the header is detected even by
 *    someone holding only the public keys;
 * 2. `{"type":"checkpoint", …Checkpoint}` — a signed checkpoint (checkpoint.ts); the one pinning
 *    `firstSeq - 1` (the anchor) comes right after the header, every other one right after the
 *    entry whose seq it pins;
 * 3. `{"type":"entry", …AuditRecord}` — an entry exactly as stored (`at` in epoch ms: it is part of
 *    the hash preimage), with its `prev` and `hash` links.
 *
 * The entries run from the one after the last checkpoint before the requested period to the first
 * checkpoint at or after its end, so both ends are pinned by signatures.
 */
import { sign, verify } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import {
  canonicalBytes,
  IsoTimestamp,
  parseIsoTimestamp,
  type SigningKey,
} from '../../common/signing/index.ts';
import type { PublicKeyInfo } from '../keys/index.ts';

/** Value of the header's `format` field. */
export const EXPORT_FORMAT = 'acd.audit-export/1';
/** Most checkpoints one export lists. */
export const MAX_EXPORT_CHECKPOINTS = 1_000_000;

/** Strict schema of the export header. */
export const ExportHeaderSchema = Type.Object(
  {
    type: Type.Literal('header'),
    format: Type.Literal(EXPORT_FORMAT),
    exportedAt: IsoTimestamp,
    exportedBy: Type.String({ maxLength: 200 }),
    from: Type.Union([IsoTimestamp, Type.Null()]),
    to: Type.Union([IsoTimestamp, Type.Null()]),
    firstSeq: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    lastSeq: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    checkpointSeqs: Type.Array(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), {
      maxItems: MAX_EXPORT_CHECKPOINTS,
    }),
    keyId: Type.String({ pattern: '^[A-Za-z0-9_-]{22}$' }),
    signature: Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
  },
  { additionalProperties: false },
);

/** The export header. */
export type ExportHeader = Static<typeof ExportHeaderSchema>;

/** Signs a header (everything but `keyId` and `signature` given). */
export function signHeader(h: Omit<ExportHeader, 'keyId' | 'signature'>, key: SigningKey): ExportHeader {
  const body = { ...h, keyId: key.keyId };
  return { ...body, signature: sign(null, canonicalBytes(body), key.privateKey).toString('base64url') };
}

/** Why a header is not authentic, or `undefined`. Never throws. */
export function headerFault(h: unknown, keys: readonly PublicKeyInfo[]): string | undefined {
  if (!Value.Check(ExportHeaderSchema, h)) {
    const first = Value.Errors(ExportHeaderSchema, h).First();
    return `malformed header (${first?.path || '/'}: ${first?.message ?? 'invalid'})`;
  }
  const key = keys.find((k) => k.keyId === h.keyId && k.purpose === 'audit');
  if (!key) return `signed by unknown key ${h.keyId}`;
  const at = parseIsoTimestamp(h.exportedAt);
  if (at === undefined || at < key.validFrom || at >= key.validUntil)
    return `key ${h.keyId} was not valid at ${h.exportedAt}`;
  const { signature, ...body } = h;
  try {
    return verify(null, canonicalBytes(body), key.publicKey, Buffer.from(signature, 'base64url'))
      ? undefined
      : 'signature does not verify';
  } catch {
    return 'signature does not verify';
  }
}
