/**
 * The REST resources of api.md: overview, providers, feeds, selected records, alerts, incidents,
 * suppressions, indicators, operators and statistics. Every route declares its access (roles and
 * purposes, enforced by issue 8), validates its parameters with typebox, bounds every read
 * (`limit` clamped to 1000, time ranges) and answers times as ISO 8601.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { Incident } from '../../common/schema/alert.ts';
import { ACCESS } from '../access.ts';
import type { Actor } from '../auth.ts';
import { ForbiddenError, NotFoundError, UnauthorisedError, ValidationError } from '../errors.ts';
import {
  alertJson,
  incidentItemJson,
  incidentJson,
  isoOrNull,
  ruleJson,
  selectedRecordJson,
} from '../json.ts';
import { parseTimeParam } from '../time.ts';
import {
  AlertSchema,
  ChannelSchema,
  CursorParam,
  DetectorSchema,
  FeedSchema,
  IdParams,
  IncidentItemSchema,
  IncidentSchema,
  IncidentStateSchema,
  IndicatorSchema,
  ItemsOf,
  LIMIT_MAX,
  LimitParam,
  OperatorSchema,
  OverviewSchema,
  PageOf,
  ProblemResponses,
  ProblemSchema,
  ProviderSchema,
  RuleSchema,
  SelectedRecordSchema,
  SeveritySchema,
  TimeParam,
} from '../schemas.ts';
import type { ServeApp } from '../server.ts';
import type { ProviderView, ServeDeps } from '../types.ts';

/** The route groups of the role × route matrix (defined in access.ts, re-exported for the routes). */
export { ACCESS };

/** Buckets a series may span (a week of minutes): keeps one response bounded. */
export const MAX_SERIES_BUCKETS = 10_080;

const STEP_MS = { '1m': 60_000, '1h': 3_600_000 } as const;

/** The caller of an authenticated route. */
function actorOf(request: FastifyRequest): Actor {
  if (request.actor === null) throw new UnauthorisedError();
  return request.actor;
}

/**
 * The operator filter of an incident query: operators are held to their own organisation (asking
 * for another one is a 403; an operator principal without an organisation sees nothing); other
 * roles filter as they ask.
 */
function ownOperator(actor: Actor, asked: string | undefined): string | undefined {
  if (actor.role !== 'operator') return asked;
  const own = actor.organisation;
  if (own === undefined) throw new ForbiddenError('this operator account names no organisation');
  if (asked !== undefined && asked !== own)
    throw new ForbiddenError(`an operator sees only the incidents of its own organisation (${own})`);
  return own;
}

function clampLimit(limit: number | undefined, def = 100): number {
  return Math.min(LIMIT_MAX, Math.max(1, limit ?? def));
}

function time(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const t = parseTimeParam(value);
  if (t === undefined)
    throw new ValidationError(`querystring.${name}`, 'not an ISO 8601 time (with Z or offset) or epoch ms');
  return t;
}

function range(from: number, to: number, fromName: string, toName: string): void {
  if (from > to) throw new ValidationError(`querystring.${fromName}`, `must not be after ${toName}`);
}

function providerJson(p: ProviderView) {
  return {
    id: p.id,
    name: p.name,
    recordsPerSecond: p.recordsPerSecond,
    records: p.records,
    exporters: p.exporters.map((e) => ({ ...e, lastSeen: isoOrNull(e.lastSeen) })),
  };
}

const Paging = {
  limit: Type.Optional(LimitParam),
  cursor: Type.Optional(CursorParam),
};

const RecordsQuery = Type.Object({
  from: TimeParam,
  to: TimeParam,
  ...Paging,
  type: Type.Optional(Type.Union([Type.Literal('flow'), Type.Literal('dns')])),
  provider: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
  channel: Type.Optional(ChannelSchema),
  address: Type.Optional(
    Type.String({ minLength: 1, maxLength: 64, description: 'Either endpoint (address or pseudonym).' }),
  ),
  port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_535, description: 'Either transport port.' })),
  proto: Type.Optional(Type.Integer({ minimum: 0, maximum: 255, description: 'IP protocol number.' })),
  qname: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: 'DNS name suffix.' })),
});

const AlertsQuery = Type.Object({
  ...Paging,
  detector: Type.Optional(DetectorSchema),
  subject: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  severity: Type.Optional(SeveritySchema),
  incident: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  since: Type.Optional(TimeParam),
  until: Type.Optional(TimeParam),
});

const IncidentsQuery = Type.Object({
  ...Paging,
  state: Type.Optional(IncidentStateSchema),
  severity: Type.Optional(SeveritySchema),
  detector: Type.Optional(DetectorSchema),
  operator: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
  address: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  since: Type.Optional(TimeParam),
  until: Type.Optional(TimeParam),
});

const SeriesQuery = Type.Object({
  step: Type.Optional(Type.Union([Type.Literal('1m'), Type.Literal('1h')], { default: '1m' })),
  from: Type.Optional(TimeParam),
  to: Type.Optional(TimeParam),
  provider: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
});

const TopDimensionSchema = Type.Union(
  ['sourceCountry', 'destinationCountry', 'sourceAsn', 'destinationAsn', 'destinationPort', 'detector'].map(
    (d) => Type.Literal(d),
  ),
);

const TopQuery = Type.Object({
  dimension: Type.Union([
    Type.Literal('sourceCountry'),
    Type.Literal('destinationCountry'),
    Type.Literal('sourceAsn'),
    Type.Literal('destinationAsn'),
    Type.Literal('destinationPort'),
    Type.Literal('detector'),
  ]),
  from: Type.Optional(TimeParam),
  to: Type.Optional(TimeParam),
  limit: Type.Optional(Type.Integer({ minimum: 1, default: 10, description: 'Entries, clamped to 1000.' })),
});

const ReasonBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
);

const TransitionBody = Type.Object(
  { to: IncidentStateSchema, reason: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
);

const NotFound = { 404: ProblemSchema };

/** Registers the resources of api.md on `app`. */
export function registerApiRoutes(app: ServeApp, deps: ServeDeps): void {
  const { store, live, actions, clock } = deps;

  app.get(
    '/api/overview',
    {
      config: { access: ACCESS.situation },
      schema: {
        tags: ['situation'],
        summary: 'Totals, providers and exporters, alerts and incidents by severity and state, detectors.',
        response: { 200: OverviewSchema, ...ProblemResponses },
      },
    },
    async () => {
      const o = await live.overview();
      return {
        now: new Date(clock.now()).toISOString(),
        watermark: isoOrNull(o.watermark),
        totals: o.totals,
        providers: o.providers.map(providerJson),
        alertsBySeverity: o.alertsBySeverity,
        incidentsBySeverity: o.incidentsBySeverity,
        incidentsByState: o.incidentsByState,
        detectors: o.detectors.map((d) => ({ ...d, lastAlertAt: isoOrNull(d.lastAlertAt) })),
      };
    },
  );

  app.get(
    '/api/providers',
    {
      config: { access: ACCESS.situation },
      schema: {
        tags: ['situation'],
        summary: 'Providers with their exporters’ health, loss and templates.',
        response: { 200: ItemsOf(ProviderSchema), ...ProblemResponses },
      },
    },
    async () => ({ items: (await live.providers()).map(providerJson) }),
  );

  app.get(
    '/api/feeds',
    {
      config: { access: ACCESS.situation },
      schema: {
        tags: ['situation'],
        summary: 'Feeds: provider, legal channel, approval and records received.',
        response: { 200: ItemsOf(FeedSchema), ...ProblemResponses },
      },
    },
    async () => ({ items: await live.feeds() }),
  );

  app.get(
    '/api/records',
    {
      config: { access: ACCESS.records },
      schema: {
        tags: ['records'],
        summary: 'Selected records in a time range (required), newest first, pseudonymised as stored.',
        querystring: RecordsQuery,
        response: { 200: PageOf(SelectedRecordSchema), ...ProblemResponses },
      },
    },
    async (request) => {
      const q = request.query;
      const from = time(q.from, 'from') ?? 0;
      const to = time(q.to, 'to') ?? 0;
      range(from, to, 'from', 'to');
      const page = await store.queryRecords({
        from,
        to,
        limit: clampLimit(q.limit),
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        ...(q.type !== undefined ? { recordType: q.type } : {}),
        ...(q.provider !== undefined ? { providerId: q.provider } : {}),
        ...(q.channel !== undefined ? { channel: q.channel } : {}),
        ...(q.address !== undefined ? { address: q.address } : {}),
        ...(q.port !== undefined ? { port: q.port } : {}),
        ...(q.proto !== undefined ? { protocolIdentifier: q.proto } : {}),
        ...(q.qname !== undefined ? { qname: q.qname.toLowerCase().replace(/\.$/, '') } : {}),
      });
      request.acdItems = page.items.length;
      return { items: page.items.map(selectedRecordJson), next: page.next };
    },
  );

  app.get(
    '/api/alerts',
    {
      config: { access: ACCESS.alerts },
      schema: {
        tags: ['alerts'],
        summary: 'Alerts, newest first; severity means “at least”.',
        querystring: AlertsQuery,
        response: { 200: PageOf(AlertSchema), ...ProblemResponses },
      },
    },
    async (request) => {
      const q = request.query;
      const since = time(q.since, 'since');
      const until = time(q.until, 'until');
      if (since !== undefined && until !== undefined) range(since, until, 'since', 'until');
      const page = await store.listAlerts({
        limit: clampLimit(q.limit),
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        ...(q.detector !== undefined ? { detector: q.detector } : {}),
        ...(q.subject !== undefined ? { subject: q.subject } : {}),
        ...(q.severity !== undefined ? { severityAtLeast: q.severity } : {}),
        ...(q.incident !== undefined ? { incidentId: q.incident } : {}),
        ...(since !== undefined ? { since } : {}),
        ...(until !== undefined ? { until } : {}),
      });
      return { items: page.items.map(alertJson), next: page.next };
    },
  );

  app.get(
    '/api/alerts/:id',
    {
      config: { access: ACCESS.alerts },
      schema: {
        tags: ['alerts'],
        summary: 'One alert with its evidence chain.',
        params: IdParams,
        response: { 200: AlertSchema, ...ProblemResponses, ...NotFound },
      },
    },
    async (request) => {
      const a = await store.getAlert(request.params.id);
      if (a === undefined) throw new NotFoundError('alert', request.params.id);
      return alertJson(a);
    },
  );

  app.post(
    '/api/alerts/:id/false-positive',
    {
      config: { access: ACCESS.changes },
      schema: {
        tags: ['alerts'],
        summary: 'Marks an alert a false positive: creates an audited suppression rule (201).',
        params: IdParams,
        body: ReasonBody,
        response: { 201: Type.Object({ rule: RuleSchema }), ...ProblemResponses, ...NotFound },
      },
    },
    async (request, reply) => {
      const rule = await actions.markFalsePositive(request.params.id, request.body.reason, actorOf(request));
      return reply.code(201).send({ rule: ruleJson(rule) });
    },
  );

  app.get(
    '/api/incidents',
    {
      config: { access: ACCESS.incidents },
      schema: {
        tags: ['incidents'],
        summary: 'Incidents, newest first (by last seen); severity means “at least”.',
        querystring: IncidentsQuery,
        response: { 200: PageOf(IncidentItemSchema), ...ProblemResponses },
      },
    },
    async (request) => {
      const q = request.query;
      const since = time(q.since, 'since');
      const until = time(q.until, 'until');
      if (since !== undefined && until !== undefined) range(since, until, 'since', 'until');
      const operator = ownOperator(actorOf(request), q.operator);
      const page = await store.listIncidents({
        limit: clampLimit(q.limit),
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        ...(q.state !== undefined ? { state: q.state } : {}),
        ...(q.severity !== undefined ? { severityAtLeast: q.severity } : {}),
        ...(q.detector !== undefined ? { detector: q.detector } : {}),
        ...(operator !== undefined ? { operatorId: operator } : {}),
        ...(q.address !== undefined ? { address: q.address } : {}),
        ...(since !== undefined ? { since } : {}),
        ...(until !== undefined ? { until } : {}),
      });
      return { items: page.items.map(incidentItemJson), next: page.next };
    },
  );

  app.get(
    '/api/incidents/:id',
    {
      config: { access: ACCESS.incidents },
      schema: {
        tags: ['incidents'],
        summary: 'One incident with its alerts and their evidence chain.',
        params: IdParams,
        response: {
          200: Type.Object({ incident: IncidentSchema, alerts: Type.Array(AlertSchema) }),
          ...ProblemResponses,
          ...NotFound,
        },
      },
    },
    async (request) => {
      const d = await store.getIncident(request.params.id);
      const actor = actorOf(request);
      // An operator sees only incidents affecting its organisation; others look absent (404), so
      // their existence does not leak either.
      if (
        d === undefined ||
        (actor.role === 'operator' && !d.incident.operators.includes(actor.organisation ?? ''))
      )
        throw new NotFoundError('incident', request.params.id);
      return { incident: incidentJson(d.incident), alerts: d.alerts.map(alertJson) };
    },
  );

  app.post(
    '/api/incidents/:id/transition',
    {
      config: { access: ACCESS.changes },
      schema: {
        tags: ['incidents'],
        summary: 'Changes an incident’s state (409 when the lifecycle does not allow it).',
        params: IdParams,
        body: TransitionBody,
        response: {
          200: Type.Object({ incident: IncidentSchema }),
          ...ProblemResponses,
          ...NotFound,
          409: ProblemSchema,
        },
      },
    },
    async (request) => {
      const { to, reason } = request.body;
      const incident: Incident = await actions.transitionIncident(
        request.params.id,
        to,
        reason,
        actorOf(request),
      );
      return { incident: incidentJson(incident) };
    },
  );

  app.get(
    '/api/suppressions',
    {
      config: { access: ACCESS.alerts },
      schema: {
        tags: ['alerts'],
        summary: 'Suppression rules (known scanners, warninglists, false positives).',
        response: { 200: ItemsOf(RuleSchema), ...ProblemResponses },
      },
    },
    async () => ({ items: (await store.listSuppressions()).slice(0, 10 * LIMIT_MAX).map(ruleJson) }),
  );

  app.delete(
    '/api/suppressions/:id',
    {
      config: { access: ACCESS.changes },
      schema: {
        tags: ['alerts'],
        summary: 'Deletes a suppression rule (204).',
        params: IdParams,
        response: { 204: Type.Null(), ...ProblemResponses, ...NotFound },
      },
    },
    async (request, reply) => {
      const deleted = await actions.deleteSuppression(request.params.id, actorOf(request));
      if (!deleted) throw new NotFoundError('suppression', request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/indicators',
    {
      config: { access: ACCESS.indicators },
      schema: {
        tags: ['situation'],
        summary: 'Indicators in force (value, type, validity, source, confidence).',
        querystring: Type.Object({ limit: Type.Optional(LimitParam) }),
        response: { 200: ItemsOf(IndicatorSchema), ...ProblemResponses },
      },
    },
    async (request) => {
      const items = (await live.indicators()).slice(0, clampLimit(request.query.limit, LIMIT_MAX));
      return { items: items.map((i) => ({ ...i, validUntil: isoOrNull(i.validUntil) })) };
    },
  );

  app.get(
    '/api/operators',
    {
      config: { access: ACCESS.operators },
      schema: {
        tags: ['situation'],
        summary: 'Critical-infrastructure operators: sector, provider, ranges, domains, agreement.',
        response: { 200: ItemsOf(OperatorSchema), ...ProblemResponses },
      },
    },
    async () => {
      const file = await store.getOperators();
      // Contacts and important systems stay out of the API: the dashboard does not need them.
      const items = (file?.operators ?? []).map((o) => ({
        id: o.id,
        name: o.name,
        sector: o.sector,
        providerId: o.providerId,
        ranges: o.ranges,
        domains: o.domains,
        agreement: o.agreement,
      }));
      return { items };
    },
  );

  app.get(
    '/api/stats/series',
    {
      config: { access: ACCESS.statistics },
      schema: {
        tags: ['statistics'],
        summary: 'Rollup time series per provider (default: the last hour by minute, or day by hour).',
        querystring: SeriesQuery,
        response: {
          200: Type.Object({
            step: Type.String(),
            items: Type.Array(
              Type.Object({
                t: Type.String(),
                providerId: Type.String(),
                records: Type.Number(),
                packets: Type.Number(),
                bytes: Type.Number(),
                alerts: Type.Number(),
              }),
            ),
          }),
          ...ProblemResponses,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const step = q.step ?? '1m';
      const stepMs = STEP_MS[step];
      const to = time(q.to, 'to') ?? clock.now();
      const from = time(q.from, 'from') ?? to - (step === '1m' ? 3_600_000 : 86_400_000);
      range(from, to, 'from', 'to');
      if ((to - from) / stepMs > MAX_SERIES_BUCKETS)
        throw new ValidationError(
          'querystring.from',
          `range too long for step ${step}: at most ${MAX_SERIES_BUCKETS} buckets`,
        );
      const points = await store.series({
        step,
        from,
        to,
        ...(q.provider !== undefined ? { providerId: q.provider } : {}),
      });
      return { step, items: points.map((p) => ({ ...p, t: new Date(p.t).toISOString() })) };
    },
  );

  app.get(
    '/api/stats/top',
    {
      config: { access: ACCESS.statistics },
      schema: {
        tags: ['statistics'],
        summary: 'Top-N by country, ASN, port or detector (default: the last hour).',
        querystring: TopQuery,
        response: {
          200: Type.Object({
            dimension: TopDimensionSchema,
            items: Type.Array(
              Type.Object({ key: Type.String(), count: Type.Number(), bytes: Type.Number() }),
            ),
          }),
          ...ProblemResponses,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const to = time(q.to, 'to') ?? clock.now();
      const from = time(q.from, 'from') ?? to - 3_600_000;
      range(from, to, 'from', 'to');
      const items = await store.top({ dimension: q.dimension, from, to, limit: clampLimit(q.limit, 10) });
      return { dimension: q.dimension, items };
    },
  );
}

/** Query types (for tests and the dashboard's client). */
export type RecordsQueryParams = Static<typeof RecordsQuery>;
