/**
 * Typebox schemas of the API's parameters and responses: fastify validates requests and
 * serialises responses with them, and the OpenAPI document (`/api/openapi.json`) is generated from
 * them. Response schemas list every field, so nothing the handlers did not mean to send leaks out.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { INCIDENT_STATES } from '../common/schema/alert.ts';
import { SEVERITIES } from '../common/schema/evidence.ts';
import { LEGAL_CHANNELS } from '../common/schema/legal.ts';
import { MAX_TIME_PARAM_LENGTH } from './time.ts';

const DETECTORS = [
  'scan',
  'beacon',
  'ddos',
  'brute-force',
  'dga',
  'dns-tunnel',
  'exfiltration',
  'long-connection',
  'indicator',
] as const;

function literals<T extends string>(values: readonly T[], description: string) {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    { description },
  );
}

/** Nullable helper. */
function Nullable<T extends TSchema>(t: T) {
  return Type.Union([t, Type.Null()]);
}

/** An instant in a response: ISO 8601 UTC with milliseconds. */
export const IsoTime = Type.String({ description: 'ISO 8601 UTC with milliseconds.' });

/** An instant in a query: ISO 8601 (with Z or an offset) or epoch ms. */
export const TimeParam = Type.String({
  minLength: 1,
  maxLength: MAX_TIME_PARAM_LENGTH,
  description: 'ISO 8601 date or date-time with Z/offset, or epoch milliseconds.',
});

/** Largest page size; larger `limit`s are clamped to it. */
export const LIMIT_MAX = 1000;

/** `limit`: clamped to 1000 (friendlier than refusing). */
export const LimitParam = Type.Integer({
  minimum: 1,
  default: 100,
  description: `Items per page, 1..${LIMIT_MAX} (larger values are clamped to ${LIMIT_MAX}).`,
});

/** Opaque pagination cursor. */
export const CursorParam = Type.String({
  minLength: 1,
  maxLength: 1024,
  description: 'The `next` value of the previous page.',
});

/** A short identifier in a path. */
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 256 }) });

export const SeveritySchema = literals(SEVERITIES, 'low | medium | high | critical');
export const IncidentStateSchema = literals(INCIDENT_STATES, 'Incident lifecycle state.');
export const DetectorSchema = literals(DETECTORS, 'Detector name (DESIGN section 6).');
export const ChannelSchema = literals(LEGAL_CHANNELS, 'Legal channel.');

/** RFC 9457 problem details. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'Stable ERR_… code.' }),
    instance: Type.String(),
  },
  { description: 'RFC 9457 problem details (application/problem+json).' },
);

const Evidence = Type.Object({
  detector: DetectorSchema,
  version: Type.String(),
  subject: Type.String(),
  counterpart: Type.Optional(Type.String()),
  window: Type.Object({ start: IsoTime, end: IsoTime }),
  confidence: Type.Number(),
  severity: SeveritySchema,
  facts: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String()])),
  recordIds: Type.Array(Type.String()),
});

/** An alert with its evidence chain. */
export const AlertSchema = Type.Object({
  id: Type.String(),
  detector: DetectorSchema,
  subject: Type.String(),
  counterparts: Type.Array(Type.String()),
  severity: SeveritySchema,
  score: Type.Number(),
  firstSeen: IsoTime,
  lastSeen: IsoTime,
  summary: Type.String(),
  operators: Type.Array(Type.String()),
  sectors: Type.Array(Type.String()),
  evidence: Type.Array(Evidence),
  evidenceCount: Type.Integer(),
  suppressedBy: Type.Optional(Type.String()),
  incidentId: Type.Optional(Type.String()),
});

const IncidentCommon = {
  id: Type.String(),
  state: IncidentStateSchema,
  severity: SeveritySchema,
  score: Type.Number(),
  detectors: Type.Array(DetectorSchema),
  subjects: Type.Array(Type.String()),
  operators: Type.Array(Type.String()),
  sectors: Type.Array(Type.String()),
  firstSeen: IsoTime,
  lastSeen: IsoTime,
  summary: Type.String(),
  campaign: Type.Boolean(),
};

/** An incident in a list. */
export const IncidentItemSchema = Type.Object(IncidentCommon);

/** An incident in full. */
export const IncidentSchema = Type.Object({
  ...IncidentCommon,
  counterparts: Type.Array(Type.String()),
  alerts: Type.Array(Type.String()),
  mergedFrom: Type.Optional(
    Type.Array(Type.String(), { description: 'Ids of incidents merged into this one.' }),
  ),
  updatedAt: IsoTime,
  history: Type.Array(
    Type.Object({
      at: IsoTime,
      from: IncidentStateSchema,
      to: IncidentStateSchema,
      actor: Type.String(),
      reason: Type.String(),
    }),
  ),
});

/** A suppression rule. */
export const RuleSchema = Type.Object({
  id: Type.String(),
  detector: Type.Optional(DetectorSchema),
  subject: Type.Optional(Type.String()),
  counterpart: Type.Optional(Type.String()),
  reason: Type.String(),
  createdBy: Type.String(),
  createdAt: IsoTime,
  expiresAt: Type.Optional(IsoTime),
});

const Endpoint = Type.Object({
  country: Type.String(),
  asn: Type.Integer(),
  pseudonymised: Type.Boolean(),
});

/** A selected record (allow-listed fields only, domestic addresses pseudonymised). */
export const SelectedRecordSchema = Type.Object({
  recordId: Type.String(),
  recordType: Type.Union([Type.Literal('flow'), Type.Literal('dns')]),
  protocol: Type.String(),
  fields: Type.Record(Type.String(), Type.Unknown(), {
    description: 'Allow-listed fields, IANA names; instants as ISO 8601.',
  }),
  source: Endpoint,
  destination: Endpoint,
  provenance: Type.Object({
    providerId: Type.String(),
    feedId: Type.String(),
    channel: ChannelSchema,
    approvalId: Type.String(),
    selectorIds: Type.Array(Type.String()),
    tableVersion: Type.String(),
    parameterVersion: Type.String(),
    keyEpoch: Type.Integer(),
    selectedAt: IsoTime,
    retainUntil: IsoTime,
  }),
});

const Exporter = Type.Object({
  id: Type.String(),
  address: Type.String(),
  observationDomainId: Type.Integer(),
  healthy: Type.Boolean(),
  lastSeen: Nullable(IsoTime),
  loss: Type.Number(),
  templates: Type.Integer(),
});

/** A provider with its exporters' health. */
export const ProviderSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  recordsPerSecond: Type.Number(),
  records: Type.Number(),
  exporters: Type.Array(Exporter),
});

const BySeverity = Type.Object({
  low: Type.Integer(),
  medium: Type.Integer(),
  high: Type.Integer(),
  critical: Type.Integer(),
});

/** Overview totals (also the body of `stats` events, with per-provider rates). */
export const TotalsSchema = Type.Object({
  records: Type.Number(),
  recordsPerSecond: Type.Number(),
  selected: Type.Number(),
  dropped: Type.Number(),
  selectionRatio: Type.Number(),
});

/** `GET /api/overview`. */
export const OverviewSchema = Type.Object({
  now: IsoTime,
  watermark: Nullable(IsoTime),
  totals: TotalsSchema,
  providers: Type.Array(ProviderSchema),
  alertsBySeverity: BySeverity,
  incidentsBySeverity: BySeverity,
  incidentsByState: Type.Object({
    new: Type.Integer(),
    triaged: Type.Integer(),
    notified: Type.Integer(),
    mitigated: Type.Integer(),
    closed: Type.Integer(),
  }),
  detectors: Type.Array(
    Type.Object({
      name: DetectorSchema,
      evidence: Type.Number(),
      alerts: Type.Number(),
      lastAlertAt: Nullable(IsoTime),
    }),
  ),
});

/** A feed. */
export const FeedSchema = Type.Object({
  id: Type.String(),
  providerId: Type.String(),
  channel: ChannelSchema,
  approvalId: Type.String(),
  records: Type.Number(),
});

/** An indicator. */
export const IndicatorSchema = Type.Object({
  value: Type.String(),
  type: Type.String(),
  validUntil: Nullable(IsoTime),
  source: Type.String(),
  confidence: Type.Number(),
});

/** A critical-infrastructure operator (contacts are not exposed here). */
export const OperatorSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  sector: Type.String(),
  providerId: Type.String(),
  ranges: Type.Array(Type.Object({ prefix: Type.String(), pseudonymisationWaived: Type.Boolean() })),
  domains: Type.Array(Type.String()),
  agreement: Type.Object({
    status: Type.String(),
    id: Type.Optional(Type.String()),
    validFrom: Type.Optional(Type.String()),
    validUntil: Type.Optional(Type.String()),
  }),
});

/** A page of items. */
export function PageOf<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    next: Nullable(Type.String({ description: 'Cursor of the next page; null at the end.' })),
  });
}

/** A list without paging. */
export function ItemsOf<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item) });
}

/** Problem responses every authenticated route can give. */
export const ProblemResponses = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  429: ProblemSchema,
  500: ProblemSchema,
};

/** JSON forms (what the converters of json.ts return). */
export type AlertJson = Static<typeof AlertSchema>;
export type IncidentJson = Static<typeof IncidentSchema>;
export type IncidentItemJson = Static<typeof IncidentItemSchema>;
export type RuleJson = Static<typeof RuleSchema>;
export type SelectedRecordJson = Static<typeof SelectedRecordSchema>;
