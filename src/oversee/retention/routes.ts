/**
 * The retention routes (issue 8, R-RET): status and certificates for `ACCESS.retention`
 * (supervisor, inspector, administrator), a run on demand for `ACCESS.retentionRun`
 * (administrator). Times are ISO 8601 UTC with milliseconds (they map back to the signed epoch
 * milliseconds exactly). No route can hold or skip data: extensions only come from approved cases.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { DeletionCertificateBody } from '../../common/schema/case.ts';
import { ACCESS } from '../../serve/access.ts';
import { UnauthorisedError } from '../../serve/errors.ts';
import { CursorParam, IsoTime, LimitParam, ProblemResponses } from '../../serve/schemas.ts';
import type { ServePlugin } from '../../serve/types.ts';
import type { RetentionJob, RunBy } from './job.ts';

/** Paths of the retention routes. */
export const RETENTION_PATHS = {
  status: '/api/retention',
  certificates: '/api/retention/certificates',
  run: '/api/retention/run',
} as const;

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : iso(ms);

const Counts = Type.Record(Type.String(), Type.Integer({ minimum: 0 }), {
  description: 'Rows or items deleted per table, queue or cache.',
});

/** A deletion certificate with ISO times (the signed form has epoch ms: `Date.parse` gives them back). */
export const CertificateJsonSchema = Type.Object({
  format: Type.String(),
  id: Type.String(),
  runAt: IsoTime,
  period: Type.Object({
    firstDay: Type.Union([Type.String(), Type.Null()]),
    lastDay: Type.Union([Type.String(), Type.Null()]),
  }),
  counts: Counts,
  remainingRows: Type.Integer({ description: 'Rows still present after the commit: 0 proves the deletion.' }),
  derivedBefore: Type.Union([IsoTime, Type.Null()]),
  parameterVersion: Type.String(),
  holds: Type.Array(Type.String(), { description: 'Retention-extension cases honoured.' }),
  keyIds: Type.Array(Type.String()),
  keyId: Type.String(),
  signature: Type.String(),
});

const HoldJson = Type.Object({
  caseId: Type.String(),
  validUntil: IsoTime,
  incidentIds: Type.Array(Type.String()),
  days: Type.Array(Type.String()),
});

const LastRunJson = Type.Object({
  at: IsoTime,
  ok: Type.Boolean(),
  error: Type.Optional(Type.String()),
  deleted: Type.Integer(),
  certificateId: Type.Union([Type.String(), Type.Null()]),
  counts: Counts,
  remainingRows: Type.Integer(),
  derivedBefore: Type.Union([IsoTime, Type.Null()]),
  parameterVersion: Type.Union([Type.String(), Type.Null()]),
  holds: Type.Array(Type.String()),
});

/** `GET /api/retention`. */
export const RetentionStatusSchema = Type.Object({
  now: IsoTime,
  parameterVersion: Type.String({ description: 'Legal-parameter version in force now.' }),
  retention: Type.Record(Type.String(), Type.String(), {
    description: 'Retention per legal channel (legal duration text, e.g. 2y, 90d).',
  }),
  derivedRetention: Type.String({
    description: 'retention.default: the retention of alerts, incidents, rollups.',
  }),
  derivedBefore: IsoTime,
  intervalMs: Type.Integer(),
  partitions: Type.Array(
    Type.Object({
      kind: Type.Union([Type.Literal('records'), Type.Literal('evidence')]),
      day: Type.String({ description: 'Retention day (UTC) YYYY-MM-DD.' }),
      rows: Type.Integer(),
      expiresAt: IsoTime,
      expired: Type.Boolean(),
      held: Type.Boolean(),
    }),
  ),
  holds: Type.Array(HoldJson),
  holdError: Type.Union([Type.String(), Type.Null()], {
    description: 'Why the approved extensions cannot be read (runs are refused until fixed).',
  }),
  lastRun: Type.Union([LastRunJson, Type.Null()]),
  lastCertificate: Type.Union([CertificateJsonSchema, Type.Null()]),
  nextRunAt: Type.Union([IsoTime, Type.Null()]),
});

/** A certificate as the API returns it. */
export function certificateJson(c: DeletionCertificateBody) {
  return { ...c, runAt: iso(c.runAt), derivedBefore: isoOrNull(c.derivedBefore) };
}

function actorOf(request: FastifyRequest): RunBy {
  const a = request.actor;
  if (a === null) throw new UnauthorisedError();
  return { actor: a.user, role: a.role, purpose: a.purpose };
}

/** The route module (add it to `ServeDeps.plugins`). */
export function retentionPlugin(job: RetentionJob): ServePlugin {
  return (api, deps) => {
    api.get(
      RETENTION_PATHS.status,
      {
        config: { access: ACCESS.retention },
        schema: {
          tags: ['oversight'],
          summary:
            'Retention now: parameter version, retention per channel, partitions with deadlines and holds, extensions in force, last run and certificate, next run.',
          response: { 200: RetentionStatusSchema, ...ProblemResponses },
        },
      },
      async () => {
        const s = await job.status();
        return {
          now: iso(s.now),
          parameterVersion: s.parameterVersion,
          retention: s.retention,
          derivedRetention: s.derivedRetention,
          derivedBefore: iso(s.derivedBefore),
          intervalMs: s.intervalMs,
          partitions: s.partitions.map((p) => ({ ...p, expiresAt: iso(p.expiresAt) })),
          holds: s.holds.map((h) => ({ ...h, validUntil: iso(h.validUntil) })),
          holdError: s.holdError,
          lastRun:
            s.lastRun === null
              ? null
              : { ...s.lastRun, at: iso(s.lastRun.at), derivedBefore: isoOrNull(s.lastRun.derivedBefore) },
          lastCertificate: s.lastCertificate === null ? null : certificateJson(s.lastCertificate),
          nextRunAt: isoOrNull(s.nextRunAt),
        };
      },
    );

    api.get(
      RETENTION_PATHS.certificates,
      {
        config: { access: ACCESS.retention },
        schema: {
          tags: ['oversight'],
          summary: 'Signed deletion certificates, newest first.',
          querystring: Type.Object({ limit: Type.Optional(LimitParam), cursor: Type.Optional(CursorParam) }),
          response: {
            200: Type.Object({
              items: Type.Array(CertificateJsonSchema),
              next: Type.Union([Type.String(), Type.Null()]),
            }),
            ...ProblemResponses,
          },
        },
      },
      async (request) => {
        const q = request.query;
        const page = await deps.store.listCases({
          kind: 'deletion-certificate',
          limit: Math.min(1000, Math.max(1, q.limit ?? 100)),
          ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        });
        return {
          items: page.items.map((c) => certificateJson(c.body as unknown as DeletionCertificateBody)),
          next: page.next,
        };
      },
    );

    api.post(
      RETENTION_PATHS.run,
      {
        config: { access: ACCESS.retentionRun },
        schema: {
          tags: ['oversight'],
          summary:
            'Runs the retention job now: the signed certificate of what it deleted, or { deleted: false } when nothing was due.',
          response: {
            200: Type.Union([CertificateJsonSchema, Type.Object({ deleted: Type.Literal(false) })]),
            ...ProblemResponses,
          },
        },
      },
      async (request) => {
        const r = await job.run(actorOf(request));
        return r.certificate === null ? { deleted: false as const } : certificateJson(r.certificate);
      },
    );
  };
}
