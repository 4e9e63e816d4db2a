/**
 * Re-identification over the API (issue 8, R-OVS-2), every route for `ACCESS.reidentification`
 * (analyst, supervisor, police; purpose `investigation`):
 *
 * - `POST /api/reidentifications` — request (signed by the caller; awaits a second person);
 * - `GET /api/reidentifications` — the caller's own requests, those they authorised, and every
 *   request awaiting a second authorisation;
 * - `GET /api/reidentifications/:id` — one of those (others look absent: 404);
 * - `POST /api/reidentifications/:id/authorise` — the second, distinct person signs; it is sent;
 * - `POST /api/reidentifications/:id/reveal` — the requester or the second authoriser, once each,
 *   gets the clear addresses (`Cache-Control: no-store`).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { ACCESS } from '../../serve/access.ts';
import type { Actor } from '../../serve/auth.ts';
import { UnauthorisedError } from '../../serve/errors.ts';
import { isoOrNull } from '../../serve/json.ts';
import {
  CursorParam,
  IdParams,
  LimitParam,
  LIMIT_MAX,
  PageOf,
  ProblemResponses,
  ProblemSchema,
} from '../../serve/schemas.ts';
import type { ServePlugin } from '../../serve/types.ts';
import { MAX_REID_RECORD_ID, type ReidentificationService, type ReidentificationView } from './service.ts';

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);
const Address = Type.String({
  minLength: 2,
  maxLength: 45,
  description: 'IPv4 or IPv6 address (a pseudonym).',
});
const NamedRecordSchema = Type.Object(
  {
    recordId: Type.String({ minLength: 1, maxLength: MAX_REID_RECORD_ID }),
    keyEpoch: Type.Integer({ minimum: 1, maximum: 0x7fffffff }),
    addresses: Type.Array(Address, { minItems: 1, maxItems: 2 }),
  },
  { additionalProperties: false },
);

const RequestBody = Type.Object(
  {
    caseId: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$',
      description: 'An approved, unexpired approval case covering the provider.',
    }),
    purpose: Type.String({
      pattern: '^[a-z][a-z0-9-]{0,63}$',
      description: 'Purpose code of the re-identification, signed into the request.',
    }),
    providerId: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' }),
    records: Type.Array(NamedRecordSchema, {
      minItems: 1,
      maxItems: 200,
      description: 'Stored records and the pseudonymised endpoint(s) of each to reveal.',
    }),
  },
  { additionalProperties: false },
);

const ViewSchema = Type.Object({
  id: Type.String(),
  state: Type.String({ description: 'awaiting-second | sent | answered | refused | expired' }),
  caseId: Type.String(),
  purpose: Type.String(),
  providerId: Type.String(),
  requester: Type.String(),
  secondAuthoriser: NullableString,
  records: Type.Array(NamedRecordSchema),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  sentAt: NullableTime,
  answeredAt: NullableTime,
  revealUntil: NullableTime,
  refusal: Type.Union([Type.String({ description: "The edge's refusal code." }), Type.Null()]),
  sealedReference: Type.Union([
    Type.String({ description: 'sha256:<hex> of the sealed answer (what the audit log records).' }),
    Type.Null(),
  ]),
  reveals: Type.Array(Type.Object({ user: Type.String(), at: Type.String({ format: 'date-time' }) })),
  demo: Type.Boolean(),
});

const RevealSchema = Type.Object({
  request: ViewSchema,
  results: Type.Array(
    Type.Object({
      recordId: Type.String(),
      keyEpoch: Type.Integer(),
      pseudonym: Type.String(),
      address: Type.String({ description: 'The clear address.' }),
    }),
  ),
});

const Errors = { ...ProblemResponses, 404: ProblemSchema, 409: ProblemSchema, 503: ProblemSchema };

function viewJson(v: ReidentificationView) {
  const iso = (t: number): string => new Date(t).toISOString();
  return {
    id: v.id,
    state: v.state,
    caseId: v.caseId,
    purpose: v.purpose,
    providerId: v.providerId,
    requester: v.requester,
    secondAuthoriser: v.secondAuthoriser,
    records: v.records,
    createdAt: iso(v.createdAt),
    expiresAt: iso(v.expiresAt),
    sentAt: isoOrNull(v.sentAt),
    answeredAt: isoOrNull(v.answeredAt),
    revealUntil: isoOrNull(v.revealUntil),
    refusal: v.refusal,
    sealedReference: v.sealedReference,
    reveals: v.reveals.map((r) => ({ user: r.user, at: iso(r.at) })),
    demo: v.demo,
  };
}

function actorOf(request: FastifyRequest): Actor {
  if (request.actor === null) throw new UnauthorisedError();
  return request.actor;
}

/** The route module (add it to `ServeDeps.plugins`). */
export function reidentificationPlugin(service: ReidentificationService): ServePlugin {
  return (api) => {
    api.post(
      '/api/reidentifications',
      {
        config: { access: ACCESS.reidentification },
        schema: {
          tags: ['oversight'],
          summary:
            'Requests re-identification of named stored records under an approved case; signed by the caller, sent only after a second person authorises it.',
          body: RequestBody,
          response: { 201: ViewSchema, ...Errors },
        },
      },
      async (request, reply) => {
        const view = await service.request(request.body, actorOf(request));
        return reply.code(201).send(viewJson(view));
      },
    );

    api.get(
      '/api/reidentifications',
      {
        config: { access: ACCESS.reidentification },
        schema: {
          tags: ['oversight'],
          summary:
            "The caller's requests, those they authorised, and those awaiting a second authorisation (newest first).",
          querystring: Type.Object({ limit: Type.Optional(LimitParam), cursor: Type.Optional(CursorParam) }),
          response: { 200: PageOf(ViewSchema), ...Errors },
        },
      },
      async (request) => {
        const { limit, cursor } = request.query;
        const page = await service.list(actorOf(request), {
          limit: Math.min(LIMIT_MAX, Math.max(1, limit ?? 100)),
          ...(cursor !== undefined ? { cursor } : {}),
        });
        return { items: page.items.map(viewJson), next: page.next };
      },
    );

    api.get(
      '/api/reidentifications/:id',
      {
        config: { access: ACCESS.reidentification },
        schema: {
          tags: ['oversight'],
          summary: 'One re-identification request (never the sealed answer).',
          params: IdParams,
          response: { 200: ViewSchema, ...Errors },
        },
      },
      async (request) => viewJson(await service.get(request.params.id, actorOf(request))),
    );

    api.post(
      '/api/reidentifications/:id/authorise',
      {
        config: { access: ACCESS.reidentification },
        schema: {
          tags: ['oversight'],
          summary:
            'Second authorisation by another person (409 ERR_REID_SAME_PERSON for the requester); signs and sends the request to the provider edge.',
          params: IdParams,
          response: { 200: ViewSchema, ...Errors },
        },
      },
      async (request) => viewJson(await service.authorise(request.params.id, actorOf(request))),
    );

    api.post(
      '/api/reidentifications/:id/reveal',
      {
        config: { access: ACCESS.reidentification },
        schema: {
          tags: ['oversight'],
          summary:
            'Opens the sealed answer for the requester or the second authoriser, once each within the reveal window (audited with the sealed reference only).',
          params: IdParams,
          response: { 200: RevealSchema, ...Errors },
        },
      },
      async (request, reply) => {
        const { view, results } = await service.reveal(request.params.id, actorOf(request));
        void reply.header('cache-control', 'no-store');
        return { request: viewJson(view), results };
      },
    );
  };
}
