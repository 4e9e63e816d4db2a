/**
 * The audit API (issue 8, R-OVS-3): `GET /api/audit` searches the chain (newest first, bounded
 * pages, entries exactly as stored with an ISO `at`), `POST /api/audit/verify` checks the local
 * chain against the signed checkpoint file — the same check as `acd audit verify` without FILE —
 * and records the verification itself as `audit.verify`. Both routes belong to `ACCESS.audit`
 * (the commission inspector for `oversight`, the administrator for `administration`).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { isoTime } from '../../common/clock.ts';
import { ACCESS } from '../../serve/access.ts';
import type { Actor } from '../../serve/auth.ts';
import { BadCursorError, UnauthorisedError, ValidationError } from '../../serve/errors.ts';
import {
  CursorParam,
  IsoTime,
  LIMIT_MAX,
  LimitParam,
  PageOf,
  ProblemResponses,
  TimeParam,
} from '../../serve/schemas.ts';
import { parseTimeParam } from '../../serve/time.ts';
import type { ServePlugin } from '../../serve/types.ts';
import type { AuditRecord, Store } from '../../store/types.ts';
import type { PublicKeyInfo } from '../keys/index.ts';
import { readCheckpointFile } from './checkpoint.ts';
import { readAllAudit } from './export.ts';
import type { AuditLog } from './log.ts';
import { verifyChain, type ChainProblemKind } from './verify.ts';

/** Where the audit routes get the public keys that check the checkpoints (a `KeyStore` fits). */
export interface AuditPublicKeySource {
  publicKeys(): Promise<PublicKeyInfo[]>;
}

/** Dependencies of {@link auditPlugin}. */
export interface AuditPluginDeps {
  /** The running audit log: records `audit.verify`. */
  log: AuditLog;
  /** The store holding the chain (the same one the log appends to). */
  store: Store;
  /** Public keys of the `audit` purpose (the local key store). */
  keys: AuditPublicKeySource;
  /** The append-only checkpoint file the log writes (`DATA/audit/checkpoints.ndjson`). */
  checkpointFile: string;
}

/** Default page size of `GET /api/audit`. */
export const DEFAULT_AUDIT_PAGE = 100;

/** Longest `actor` / `action` filter (the chain's own name limit). */
const MAX_FILTER = 200;

/** A cursor is the seq of the last entry of the previous page, as decimal text. */
const CURSOR_RE = /^[1-9]\d{0,15}$/;

const AuditEntrySchema = Type.Object({
  seq: Type.Integer({ minimum: 1 }),
  at: IsoTime,
  actor: Type.String(),
  role: Type.String(),
  purpose: Type.String(),
  action: Type.String(),
  objectIds: Type.Array(Type.String()),
  detail: Type.Record(Type.String(), Type.Unknown()),
  prev: Type.String(),
  hash: Type.String(),
});

const AuditQuerySchema = Type.Object({
  from: Type.Optional(TimeParam),
  to: Type.Optional(TimeParam),
  actor: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_FILTER, description: 'Exact actor.' })),
  action: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: MAX_FILTER,
      description: 'Action prefix (`case.` matches `case.approve`; a full action matches itself).',
    }),
  ),
  limit: Type.Optional(LimitParam),
  cursor: Type.Optional(CursorParam),
});

const ProblemKinds: readonly ChainProblemKind[] = [
  'modified',
  'missing',
  'reordered',
  'truncated',
  'bad-checkpoint-signature',
];

const VerifyResponseSchema = Type.Object({
  ok: Type.Boolean(),
  /** Entries read from the store. */
  checked: Type.Integer(),
  lastCheckpointSeq: Type.Union([Type.Integer(), Type.Null()]),
  /** Valid signed checkpoints seen (absent when the chain is broken). */
  checkpoints: Type.Optional(Type.Integer()),
  /** Entries after the last checkpoint: a cut among them would not show yet. */
  uncovered: Type.Optional(Type.Integer()),
  problem: Type.Optional(
    Type.Object({
      kind: Type.Union(ProblemKinds.map((k) => Type.Literal(k))),
      seq: Type.Optional(Type.Integer()),
      message: Type.String(),
    }),
  ),
});

/** The verdict `POST /api/audit/verify` answers. */
export interface AuditVerifyResponse {
  ok: boolean;
  checked: number;
  lastCheckpointSeq: number | null;
  checkpoints?: number;
  uncovered?: number;
  problem?: { kind: ChainProblemKind; seq?: number; message: string };
}

/** An audit entry as the API writes it: as stored, with `at` as ISO 8601. */
export type AuditEntryJson = Omit<AuditRecord, 'at'> & { at: string };

/** The JSON form of a stored entry. */
export function auditEntryJson(e: AuditRecord): AuditEntryJson {
  return { ...e, at: isoTime(e.at) };
}

/**
 * Parses the `cursor` of `GET /api/audit` (the seq below which the next page starts). Throws
 * `BadCursorError` for anything else. Pure.
 */
export function parseAuditCursor(text: string): number {
  if (!CURSOR_RE.test(text)) throw new BadCursorError();
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new BadCursorError();
  return n;
}

function timeOf(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const t = parseTimeParam(value);
  if (t === undefined)
    throw new ValidationError(`querystring.${name}`, 'not an ISO 8601 time (with Z or offset) or epoch ms');
  return t;
}

function actorOf(request: FastifyRequest): Actor {
  if (request.actor === null) throw new UnauthorisedError();
  return request.actor;
}

/**
 * Verifies the stored chain against the checkpoint file. The file is read before the entries:
 * every checkpoint in it was written after the entries it pins were stored, so an append
 * running meanwhile cannot make a checkpoint point past the entries read (a false "truncated").
 */
export async function verifyStoredChain(
  store: Store,
  checkpointFile: string,
  keys: AuditPublicKeySource,
): Promise<AuditVerifyResponse> {
  const checkpoints = await readCheckpointFile(checkpointFile);
  const pub = await keys.publicKeys();
  const entries = (await readAllAudit(store)).map((e) => ({ line: e.seq, value: e }));
  const v = verifyChain(entries, checkpoints, pub, { firstSeq: 1 });
  if (v.ok)
    return {
      ok: true,
      checked: v.entries,
      lastCheckpointSeq: v.lastCheckpointSeq ?? null,
      checkpoints: v.checkpoints,
      uncovered: v.uncovered,
    };
  const p = v.problem;
  return {
    ok: false,
    checked: entries.length,
    lastCheckpointSeq: null,
    problem: { kind: p.kind, ...(p.seq !== undefined ? { seq: p.seq } : {}), message: p.message },
  };
}

/** The audit API as a route plugin of the API server (`ServeDeps.plugins`). */
export function auditPlugin(deps: AuditPluginDeps): ServePlugin {
  const { log, store, keys, checkpointFile } = deps;
  return (api) => {
    api.get(
      '/api/audit',
      {
        config: { access: ACCESS.audit },
        schema: {
          tags: ['oversight'],
          summary:
            'Audit entries, newest first: time range [from, to), exact actor, action prefix; cursor paging.',
          querystring: AuditQuerySchema,
          response: { 200: PageOf(AuditEntrySchema), ...ProblemResponses },
        },
      },
      async (request) => {
        const q = request.query;
        const from = timeOf(q.from, 'from');
        const to = timeOf(q.to, 'to');
        if (from !== undefined && to !== undefined && from > to)
          throw new ValidationError('querystring.from', 'must not be after to');
        const limit = Math.min(LIMIT_MAX, Math.max(1, q.limit ?? DEFAULT_AUDIT_PAGE));
        const beforeSeq = q.cursor === undefined ? undefined : parseAuditCursor(q.cursor);
        const items = await store.searchAudit({
          limit,
          ...(beforeSeq !== undefined ? { beforeSeq } : {}),
          ...(from !== undefined ? { from } : {}),
          ...(to !== undefined ? { to } : {}),
          ...(q.actor !== undefined ? { actor: q.actor } : {}),
          ...(q.action !== undefined ? { actionPrefix: q.action } : {}),
        });
        const last = items[items.length - 1];
        const next = items.length === limit && last !== undefined && last.seq > 1 ? String(last.seq) : null;
        return { items: items.map(auditEntryJson), next };
      },
    );

    api.post(
      '/api/audit/verify',
      {
        config: { access: ACCESS.audit },
        schema: {
          tags: ['oversight'],
          summary: 'Verifies the stored chain against the signed checkpoint file (recorded as audit.verify).',
          response: { 200: VerifyResponseSchema, ...ProblemResponses },
        },
      },
      async (request) => {
        const actor = actorOf(request);
        const verdict = await verifyStoredChain(store, checkpointFile, keys);
        await log.append({
          actor: actor.user,
          role: actor.role,
          purpose: actor.purpose,
          action: 'audit.verify',
          objectIds: [],
          detail: {
            ok: verdict.ok,
            checked: verdict.checked,
            ...(verdict.problem !== undefined
              ? {
                  kind: verdict.problem.kind,
                  ...(verdict.problem.seq !== undefined ? { seq: verdict.problem.seq } : {}),
                }
              : {}),
          },
        });
        return verdict;
      },
    );
  };
}
