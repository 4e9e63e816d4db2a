/**
 * Probes, metrics and `/api/me`. `/healthz` says the process answers; `/readyz` that the store and
 * the bus are usable (503 otherwise); `/metrics` renders every counter of the process registry and
 * is public only when the server is bound to loopback.
 */
import { Type } from '@sinclair/typebox';
import { ACCESS, PUBLIC } from '../access.ts';
import { UnauthorisedError } from '../errors.ts';
import { ProblemResponses } from '../schemas.ts';
import type { ServeApp } from '../server.ts';
import type { ServeDeps } from '../types.ts';

/** Options of the system routes. */
export interface SystemRouteOptions {
  /** Bound to loopback: `/metrics` is public. */
  loopback: boolean;
}

/** Registers `/healthz`, `/readyz`, `/metrics` and `/api/me`. */
export function registerSystemRoutes(app: ServeApp, deps: ServeDeps, opts: SystemRouteOptions): void {
  app.get(
    '/healthz',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['system'],
        summary: 'Liveness: the process answers.',
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['system'],
        summary: 'Readiness: the store and the bus are usable (503 when not).',
        security: [],
        response: {
          200: ReadySchema,
          503: ReadySchema,
        },
      },
    },
    async (_request, reply) => {
      let checks = { store: false, bus: false };
      try {
        const r = await deps.live.readiness();
        checks = { store: r.store === true, bus: r.bus === true };
      } catch (err) {
        deps.logger.warn({ err }, 'readiness check failed');
      }
      const ready = checks.store && checks.bus;
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'starting', checks });
    },
  );

  app.get(
    '/metrics',
    {
      config: {
        access: opts.loopback ? PUBLIC : ACCESS.metrics,
      },
      schema: {
        tags: ['system'],
        summary: 'Prometheus text of every counter and gauge (names prefixed acd_).',
        ...(opts.loopback ? { security: [] } : {}),
        produces: ['text/plain'],
      },
    },
    (_request, reply) =>
      reply.type('text/plain; version=0.0.4; charset=utf-8').send(deps.metrics.renderPrometheus()),
  );

  app.get(
    '/api/me',
    {
      config: { access: ACCESS.self },
      schema: {
        tags: ['system'],
        summary: 'The caller: user, role and the purpose the request is made for.',
        response: {
          200: Type.Object({ user: Type.String(), role: Type.String(), purpose: Type.String() }),
          ...ProblemResponses,
        },
      },
    },
    (request) => {
      const a = request.actor;
      if (a === null) throw new UnauthorisedError();
      return { user: a.user, role: a.role, purpose: a.purpose };
    },
  );
}

const ReadySchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('starting')]),
  checks: Type.Object({ store: Type.Boolean(), bus: Type.Boolean() }),
});
