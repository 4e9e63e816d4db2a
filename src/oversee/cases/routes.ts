/**
 * The API of approval cases and commission communications (R-OVS-5, R-OVS-6): a `ServePlugin`
 * the centre adds to the API server. Every route declares its access group (src/serve/access.ts),
 * validates with typebox, answers times as ISO 8601, and lists as `{ items, next }`. An illegal
 * case transition answers 409 with problem code `ERR_CASE_TRANSITION`.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { ACCESS } from '../../serve/access.ts';
import type { Actor } from '../../serve/auth.ts';
import { UnauthorisedError } from '../../serve/errors.ts';
import { IdParams, LIMIT_MAX, PageOf, ProblemResponses, ProblemSchema } from '../../serve/schemas.ts';
import type { ServeApp } from '../../serve/server.ts';
import type { ServeDeps, ServePlugin } from '../../serve/types.ts';
import { caseInputFromBody, casePatchFromBody, communicationInputFromBody } from './input.ts';
import { caseJson, communicationJson, overdueJson } from './json.ts';
import {
  CaseCreateBodySchema,
  CaseJsonSchema,
  CaseListQuerySchema,
  CasePatchBodySchema,
  CommunicationCreateBodySchema,
  CommunicationJsonSchema,
  CommunicationListQuerySchema,
  DecisionBodySchema,
  OverdueListSchema,
  RespondBodySchema,
} from './schema.ts';
import type { CaseService } from './service.ts';

const NotFound = { 404: ProblemSchema };
const Conflict = { 409: ProblemSchema };

function actorOf(request: FastifyRequest): Actor {
  if (request.actor === null) throw new UnauthorisedError();
  return request.actor;
}

function clampLimit(limit: number | undefined): number {
  return Math.min(LIMIT_MAX, Math.max(1, limit ?? 100));
}

/** Registers the case and communication routes on the API scope. */
export function registerCaseRoutes(api: ServeApp, _deps: ServeDeps, service: CaseService): void {
  const one = (c: Awaited<ReturnType<CaseService['get']>>) => caseJson(c, service.isOverdue(c));
  const oneCom = (m: Awaited<ReturnType<CaseService['getCommunication']>>) =>
    communicationJson(m, service.isOverdue(m));

  api.get(
    '/api/cases',
    {
      config: { access: ACCESS.cases },
      schema: {
        tags: ['oversight'],
        summary: 'Approval cases, newest change first; filter by approval kind and state.',
        querystring: CaseListQuerySchema,
        response: { 200: PageOf(CaseJsonSchema), ...ProblemResponses },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await service.list({
        limit: clampLimit(q.limit),
        ...(q.kind !== undefined ? { kind: q.kind } : {}),
        ...(q.state !== undefined ? { state: q.state } : {}),
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
      });
      return { items: page.items.map(one), next: page.next };
    },
  );

  api.get(
    '/api/cases/overdue',
    {
      config: { access: ACCESS.cases },
      schema: {
        tags: ['oversight'],
        summary: 'Emergency measures not notified in time; communications not answered in time.',
        response: { 200: OverdueListSchema, ...ProblemResponses },
      },
    },
    async () => ({ items: (await service.overdue()).map(overdueJson) }),
  );

  api.post(
    '/api/cases/expire',
    {
      config: { access: ACCESS.caseDecisions },
      schema: {
        tags: ['oversight'],
        summary:
          'Expires approved cases whose validity has ended now (the centre also does it periodically).',
        response: { 200: Type.Object({ items: Type.Array(CaseJsonSchema) }), ...ProblemResponses },
      },
    },
    async () => ({ items: (await service.expireDue()).map(one) }),
  );

  api.get(
    '/api/cases/:id',
    {
      config: { access: ACCESS.cases },
      schema: {
        tags: ['oversight'],
        summary: 'One approval case with its history and signed documents.',
        params: IdParams,
        response: { 200: CaseJsonSchema, ...ProblemResponses, ...NotFound },
      },
    },
    async (request) => one(await service.get(request.params.id)),
  );

  api.post(
    '/api/cases',
    {
      config: { access: ACCESS.caseRequests },
      schema: {
        tags: ['oversight'],
        summary: 'Creates a draft case (201); the window is checked against the legal parameters.',
        body: CaseCreateBodySchema,
        response: { 201: CaseJsonSchema, ...ProblemResponses },
      },
    },
    async (request, reply) => {
      const c = await service.create(caseInputFromBody(request.body), actorOf(request));
      return reply.code(201).send(one(c));
    },
  );

  api.patch(
    '/api/cases/:id',
    {
      config: { access: ACCESS.caseRequests },
      schema: {
        tags: ['oversight'],
        summary: 'Changes a draft (409 once submitted); null removes an optional field.',
        params: IdParams,
        body: CasePatchBodySchema,
        response: { 200: CaseJsonSchema, ...ProblemResponses, ...NotFound, ...Conflict },
      },
    },
    async (request) =>
      one(await service.update(request.params.id, casePatchFromBody(request.body), actorOf(request))),
  );

  api.post(
    '/api/cases/:id/submit',
    {
      config: { access: ACCESS.caseRequests },
      schema: {
        tags: ['oversight'],
        summary: 'Submits a draft to the commission (an emergency measure counts as notified now).',
        params: IdParams,
        response: { 200: CaseJsonSchema, ...ProblemResponses, ...NotFound, ...Conflict },
      },
    },
    async (request) => one(await service.submit(request.params.id, actorOf(request))),
  );

  const decisions = [
    ['approve', 'Approves: signs the approval with the commission key and publishes it to the edges.'],
    ['reject', 'Rejects a submitted case.'],
    ['revoke', 'Revokes an approved case: signs a revocation and publishes it to the edges.'],
  ] as const;
  for (const [op, summary] of decisions) {
    api.post(
      `/api/cases/:id/${op}`,
      {
        config: { access: ACCESS.caseDecisions },
        schema: {
          tags: ['oversight'],
          summary,
          params: IdParams,
          body: DecisionBodySchema,
          response: { 200: CaseJsonSchema, ...ProblemResponses, ...NotFound, ...Conflict },
        },
      },
      async (request) => {
        const { id } = request.params;
        const reason = request.body.reason;
        const actor = actorOf(request);
        const c =
          op === 'approve'
            ? await service.approve(id, reason, actor)
            : op === 'reject'
              ? await service.reject(id, reason, actor)
              : await service.revoke(id, reason, actor);
        return one(c);
      },
    );
  }

  api.get(
    '/api/communications',
    {
      config: { access: ACCESS.communications },
      schema: {
        tags: ['oversight'],
        summary: 'Commission notifications, requests and recommendations, newest change first.',
        querystring: CommunicationListQuerySchema,
        response: { 200: PageOf(CommunicationJsonSchema), ...ProblemResponses },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await service.listCommunications({
        limit: clampLimit(q.limit),
        ...(q.state !== undefined ? { state: q.state } : {}),
        ...(q.type !== undefined ? { type: q.type } : {}),
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
      });
      return { items: page.items.map(oneCom), next: page.next };
    },
  );

  api.get(
    '/api/communications/:id',
    {
      config: { access: ACCESS.communications },
      schema: {
        tags: ['oversight'],
        summary: 'One communication with its responses.',
        params: IdParams,
        response: { 200: CommunicationJsonSchema, ...ProblemResponses, ...NotFound },
      },
    },
    async (request) => oneCom(await service.getCommunication(request.params.id)),
  );

  api.post(
    '/api/communications',
    {
      config: { access: ACCESS.communications },
      schema: {
        tags: ['oversight'],
        summary: 'Records a notification, request or recommendation (201).',
        body: CommunicationCreateBodySchema,
        response: { 201: CommunicationJsonSchema, ...ProblemResponses },
      },
    },
    async (request, reply) => {
      const m = await service.createCommunication(communicationInputFromBody(request.body), actorOf(request));
      return reply.code(201).send(oneCom(m));
    },
  );

  api.post(
    '/api/communications/:id/respond',
    {
      config: { access: ACCESS.communications },
      schema: {
        tags: ['oversight'],
        summary: 'Records a response; the communication becomes answered.',
        params: IdParams,
        body: RespondBodySchema,
        response: { 200: CommunicationJsonSchema, ...ProblemResponses, ...NotFound },
      },
    },
    async (request) => oneCom(await service.respond(request.params.id, request.body.text, actorOf(request))),
  );
}

/** The plugin the centre adds to `ServeDeps.plugins`. */
export function casesPlugin(service: CaseService): ServePlugin {
  return (api, deps) => registerCaseRoutes(api, deps, service);
}
