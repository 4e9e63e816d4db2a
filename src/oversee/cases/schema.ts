/**
 * Typebox schemas of approval cases and commission communications (R-OVS-5, R-OVS-6): the fields
 * a requester gives (shared by the service's own checks, the API bodies and the CLI's `--file`
 * parser), the API request bodies (times as ISO 8601 text), and the API response forms (every time
 * as ISO 8601 UTC with milliseconds). The stored shapes are `ApprovalCaseBody` and
 * `CommunicationBody` of src/common/schema/case.ts.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  APPROVAL_KINDS,
  ApprovalPayloadSchema,
  MAX_SELECTORS,
  RevocationPayloadSchema,
  SelectorSchema,
} from '../../common/schema/approval.ts';
import { CASE_STATES, COMMUNICATION_TYPES, type CaseDecisionPayload } from '../../common/schema/case.ts';
import { LEGAL_CHANNELS } from '../../common/schema/legal.ts';
import { IsoTimestamp } from '../../common/signing/trust.ts';
import { CursorParam, IsoTime, LimitParam, TimeParam } from '../../serve/schemas.ts';

/** Identifier of a case, communication, feed or document (the signed documents' `Id`). */
export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';
const Id = Type.String({ pattern: ID_PATTERN });
/** Provider id, or `*` for every provider. */
const ProviderRef = Type.String({ pattern: '^(\\*|[A-Za-z0-9][A-Za-z0-9._:-]{0,127})$' });
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });

/** Longest case title. */
export const MAX_TITLE = 200;
/** Longest justification (the signed approval's own limit). */
export const MAX_JUSTIFICATION = 20_000;
/** Targets in words per case. */
export const MAX_TARGETS = 1000;
/** Providers or feeds per case (the signed approval's own limit). */
export const MAX_PROVIDERS = 1000;
/** Incidents a retention extension may hold. */
export const MAX_HOLD_INCIDENTS = 10_000;
/** Days a retention extension may hold (ten years of days). */
export const MAX_HOLD_DAYS = 3660;
/** Longest communication text or response. */
export const MAX_COMMUNICATION_TEXT = 20_000;

/** Approval kinds. */
export const ApprovalKindSchema = Type.Union(
  APPROVAL_KINDS.map((k) => Type.Literal(k)),
  { description: 'acquisition | police-measure | sdf-measure | retention-extension' },
);
/** Case states. */
export const CaseStateSchema = Type.Union(
  CASE_STATES.map((s) => Type.Literal(s)),
  { description: 'draft → submitted → approved | rejected; approved → expired | revoked' },
);
/** Legal channels. */
export const CaseChannelSchema = Type.Union(
  LEGAL_CHANNELS.map((c) => Type.Literal(c)),
  { description: 'Legal channel (required for acquisition approvals).' },
);
/** Communication kinds. */
export const CommunicationTypeSchema = Type.Union(COMMUNICATION_TYPES.map((t) => Type.Literal(t)));
/** Communication directions. */
export const DirectionSchema = Type.Union([Type.Literal('from-commission'), Type.Literal('to-commission')]);

/** What a retention extension keeps. */
export const RetentionHoldsSchema = Type.Object(
  {
    incidentIds: Type.Array(Text(256), { maxItems: MAX_HOLD_INCIDENTS, uniqueItems: true }),
    days: Type.Array(Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' }), {
      maxItems: MAX_HOLD_DAYS,
      uniqueItems: true,
    }),
  },
  { additionalProperties: false },
);

/** The requester's fields of a case that are not times (shared by create, patch and the CLI file). */
export const CaseFieldSchemas = {
  title: Text(MAX_TITLE),
  justification: Text(MAX_JUSTIFICATION),
  channel: CaseChannelSchema,
  providers: Type.Array(ProviderRef, { maxItems: MAX_PROVIDERS, uniqueItems: true }),
  feeds: Type.Array(Id, { maxItems: MAX_PROVIDERS, uniqueItems: true }),
  targetActs: Type.Array(Text(200), { maxItems: 100 }),
  targets: Type.Array(Text(500), { maxItems: MAX_TARGETS }),
  selectors: Type.Array(SelectorSchema, { maxItems: MAX_SELECTORS }),
  retentionHolds: RetentionHoldsSchema,
};

/** `POST /api/cases` body (and the CLI's `--file`): times as ISO 8601 (with Z or offset) or epoch ms. */
export const CaseCreateBodySchema = Type.Object(
  {
    kind: ApprovalKindSchema,
    title: CaseFieldSchemas.title,
    justification: CaseFieldSchemas.justification,
    channel: Type.Optional(CaseFieldSchemas.channel),
    providers: Type.Optional(CaseFieldSchemas.providers),
    feeds: Type.Optional(CaseFieldSchemas.feeds),
    targetActs: Type.Optional(CaseFieldSchemas.targetActs),
    targets: Type.Optional(CaseFieldSchemas.targets),
    selectors: Type.Optional(CaseFieldSchemas.selectors),
    validFrom: TimeParam,
    validUntil: TimeParam,
    emergency: Type.Optional(
      Type.Object(
        { actedAt: TimeParam },
        { additionalProperties: false, description: 'Police/SDF measure taken before approval.' },
      ),
    ),
    retentionHolds: Type.Optional(CaseFieldSchemas.retentionHolds),
  },
  { additionalProperties: false },
);
/** `POST /api/cases` body. */
export type CaseCreateBody = Static<typeof CaseCreateBodySchema>;

/** `PATCH /api/cases/:id` body: any field but the kind; `null` removes an optional one. */
export const CasePatchBodySchema = Type.Object(
  {
    title: Type.Optional(CaseFieldSchemas.title),
    justification: Type.Optional(CaseFieldSchemas.justification),
    channel: Type.Optional(Type.Union([CaseFieldSchemas.channel, Type.Null()])),
    providers: Type.Optional(CaseFieldSchemas.providers),
    feeds: Type.Optional(Type.Union([CaseFieldSchemas.feeds, Type.Null()])),
    targetActs: Type.Optional(CaseFieldSchemas.targetActs),
    targets: Type.Optional(CaseFieldSchemas.targets),
    selectors: Type.Optional(CaseFieldSchemas.selectors),
    validFrom: Type.Optional(TimeParam),
    validUntil: Type.Optional(TimeParam),
    emergency: Type.Optional(
      Type.Union([Type.Object({ actedAt: TimeParam }, { additionalProperties: false }), Type.Null()]),
    ),
    retentionHolds: Type.Optional(Type.Union([CaseFieldSchemas.retentionHolds, Type.Null()])),
  },
  { additionalProperties: false },
);
/** `PATCH /api/cases/:id` body. */
export type CasePatchBody = Static<typeof CasePatchBodySchema>;

/** Body of approve, reject and revoke. */
export const DecisionBodySchema = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
);

/** `GET /api/cases` query. */
export const CaseListQuerySchema = Type.Object({
  kind: Type.Optional(ApprovalKindSchema),
  state: Type.Optional(CaseStateSchema),
  limit: Type.Optional(LimitParam),
  cursor: Type.Optional(CursorParam),
});

/** `POST /api/communications` body. */
export const CommunicationCreateBodySchema = Type.Object(
  {
    type: CommunicationTypeSchema,
    direction: DirectionSchema,
    subject: Text(300),
    text: Text(MAX_COMMUNICATION_TEXT),
    caseId: Type.Optional(Id),
    dueAt: Type.Optional(TimeParam),
  },
  { additionalProperties: false },
);
/** `POST /api/communications` body. */
export type CommunicationCreateBody = Static<typeof CommunicationCreateBodySchema>;

/** `POST /api/communications/:id/respond` body. */
export const RespondBodySchema = Type.Object(
  { text: Text(MAX_COMMUNICATION_TEXT) },
  { additionalProperties: false },
);

/** `GET /api/communications` query. */
export const CommunicationListQuerySchema = Type.Object({
  state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('answered')])),
  type: Type.Optional(CommunicationTypeSchema),
  limit: Type.Optional(LimitParam),
  cursor: Type.Optional(CursorParam),
});

/** The payload of a signed case decision (`CaseDecisionPayload`). */
export const CaseDecisionPayloadSchema = Type.Object(
  {
    type: Type.Literal('case-decision'),
    id: Id,
    caseId: Id,
    kind: ApprovalKindSchema,
    decision: Type.Literal('approved'),
    validFrom: IsoTimestamp,
    validUntil: IsoTimestamp,
    issuedAt: IsoTimestamp,
    reason: Text(2000),
    targetActs: Type.Array(Text(200), { maxItems: 100 }),
    targets: Type.Array(Text(500), { maxItems: MAX_TARGETS }),
    retentionHolds: Type.Optional(RetentionHoldsSchema),
    demo: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

// The schema and the shared interface describe the same document.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const decisionShapeMatches: Same<Static<typeof CaseDecisionPayloadSchema>, CaseDecisionPayload> = true;
void decisionShapeMatches;

const SignatureSchema = Type.Object({ keyId: Type.String(), alg: Type.String(), sig: Type.String() });
function Signed<T extends TSchema>(payload: T) {
  return Type.Object({ payload, signatures: Type.Array(SignatureSchema) });
}

/** An approval case body as the API returns it: every time as ISO 8601 text. */
export const CaseBodyJsonSchema = Type.Object({
  format: Type.Literal('acd.approval-case/1'),
  kind: ApprovalKindSchema,
  title: Type.String(),
  justification: Type.String(),
  requester: Type.String(),
  requesterRole: Type.String(),
  channel: Type.Optional(CaseChannelSchema),
  providers: Type.Array(Type.String()),
  feeds: Type.Optional(Type.Array(Type.String())),
  targetActs: Type.Array(Type.String()),
  targets: Type.Array(Type.String()),
  selectors: Type.Array(SelectorSchema),
  validFrom: IsoTime,
  validUntil: IsoTime,
  parameterVersion: Type.String(),
  emergency: Type.Optional(
    Type.Object({ actedAt: IsoTime, notifyBy: IsoTime, notifiedAt: Type.Optional(IsoTime) }),
  ),
  retentionHolds: Type.Optional(
    Type.Object({ incidentIds: Type.Array(Type.String()), days: Type.Array(Type.String()) }),
  ),
  history: Type.Array(
    Type.Object({
      at: IsoTime,
      from: Type.Union([CaseStateSchema, Type.Null()]),
      to: CaseStateSchema,
      actor: Type.String(),
      role: Type.String(),
      reason: Type.String(),
    }),
  ),
  decision: Type.Optional(Type.Object({ at: IsoTime, by: Type.String(), reason: Type.String() })),
  signedApproval: Type.Optional(Signed(ApprovalPayloadSchema)),
  signedRevocation: Type.Optional(Signed(RevocationPayloadSchema)),
  signedDecision: Type.Optional(Signed(CaseDecisionPayloadSchema)),
});
/** An approval case body in the API. */
export type CaseBodyJson = Static<typeof CaseBodyJsonSchema>;

/** An approval case as the API returns it (list item and detail). */
export const CaseJsonSchema = Type.Object({
  id: Type.String(),
  recordKind: Type.Literal('approval-case'),
  state: CaseStateSchema,
  createdAt: IsoTime,
  updatedAt: IsoTime,
  overdue: Type.Boolean({ description: 'An emergency measure not notified by its deadline.' }),
  case: CaseBodyJsonSchema,
});
/** An approval case in the API. */
export type CaseJson = Static<typeof CaseJsonSchema>;

/** A communication body as the API returns it. */
export const CommunicationBodyJsonSchema = Type.Object({
  format: Type.Literal('acd.communication/1'),
  type: CommunicationTypeSchema,
  direction: DirectionSchema,
  subject: Type.String(),
  text: Type.String(),
  caseId: Type.Optional(Type.String()),
  createdBy: Type.String(),
  createdAt: IsoTime,
  dueAt: Type.Optional(IsoTime),
  responses: Type.Array(Type.Object({ at: IsoTime, by: Type.String(), text: Type.String() })),
});

/** A communication as the API returns it. */
export const CommunicationJsonSchema = Type.Object({
  id: Type.String(),
  recordKind: Type.Literal('communication'),
  state: Type.Union([Type.Literal('open'), Type.Literal('answered')]),
  createdAt: IsoTime,
  updatedAt: IsoTime,
  overdue: Type.Boolean({ description: 'Open past its dueAt.' }),
  communication: CommunicationBodyJsonSchema,
});
/** A communication in the API. */
export type CommunicationJson = Static<typeof CommunicationJsonSchema>;

/** One overdue item. */
export const OverdueItemSchema = Type.Object({
  id: Type.String(),
  what: Type.Union([Type.Literal('emergency-notification'), Type.Literal('communication-response')]),
  dueAt: IsoTime,
});
/** `GET /api/cases/overdue`. */
export const OverdueListSchema = Type.Object({ items: Type.Array(OverdueItemSchema) });
