/**
 * The hash chain of the audit log. Each entry's `hash` is
 *
 *     hex(SHA-256(UTF-8(JCS({ seq, at, actor, role, purpose, action, objectIds, detail, prev }))))
 *
 * i.e. the RFC 8785 canonical JSON of the stored `AuditRecord` without its `hash` member (`at` is
 * epoch ms as a number, `prev` the previous entry's hash in lower-case hex, `''` for seq 1). Any
 * change to any field of an entry changes its hash, and any removal or reordering breaks the
 * `prev` links or the gap-free `seq`; signed checkpoints (checkpoint.ts) pin the head so that
 * cutting the tail is detected too.
 */
import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { canonicalize } from '../../common/signing/index.ts';
import type { AuditRecord } from '../../store/types.ts';

/** Largest `actor`, `role`, `purpose` or `action` (characters). */
export const MAX_AUDIT_NAME = 200;
/** Most object ids one entry names. */
export const MAX_AUDIT_OBJECT_IDS = 1000;
/** Largest object id (characters). */
export const MAX_AUDIT_OBJECT_ID = 256;
/** Largest `detail`, as canonical JSON bytes. */
export const MAX_AUDIT_DETAIL_BYTES = 16 * 1024;

/** A SHA-256 in lower-case hex. */
export const HEX_HASH = '^[0-9a-f]{64}$';

/** Strict schema of a stored entry (verification of untrusted copies). */
export const AuditRecordSchema = Type.Object(
  {
    seq: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    at: Type.Integer({ minimum: 0, maximum: 8.64e15 }),
    actor: Type.String({ maxLength: MAX_AUDIT_NAME }),
    role: Type.String({ maxLength: MAX_AUDIT_NAME }),
    purpose: Type.String({ maxLength: MAX_AUDIT_NAME }),
    action: Type.String({ maxLength: MAX_AUDIT_NAME }),
    objectIds: Type.Array(Type.String({ maxLength: MAX_AUDIT_OBJECT_ID }), {
      maxItems: MAX_AUDIT_OBJECT_IDS,
    }),
    detail: Type.Record(Type.String(), Type.Unknown()),
    prev: Type.Union([Type.Literal(''), Type.String({ pattern: HEX_HASH })]),
    hash: Type.String({ pattern: HEX_HASH }),
  },
  { additionalProperties: false },
);

/** The hash preimage of an entry: its canonical JSON without `hash`. Throws `CanonicalizationError`. */
export function auditPreimage(e: Omit<AuditRecord, 'hash'>): string {
  return canonicalize({
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    role: e.role,
    purpose: e.purpose,
    action: e.action,
    objectIds: e.objectIds,
    detail: e.detail,
    prev: e.prev,
  });
}

/** The hash of an entry (lower-case hex). Throws `CanonicalizationError`. */
export function auditHash(e: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(auditPreimage(e), 'utf8').digest('hex');
}

/** Id of an entry in messages and reports: `audit-<seq>`. */
export function auditEntryId(seq: number): string {
  return `audit-${seq}`;
}
