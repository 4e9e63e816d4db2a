/**
 * Oversight records kept in the store's `cases` table (issue 8; REQUIREMENTS R-OVS-2, R-OVS-5,
 * R-OVS-6, R-RET-1, R-RET-2). One table holds several record kinds, told apart by
 * `CaseRecord.kind`; the `body` of each kind has the shape below. Times are epoch milliseconds.
 *
 * - `approval-case`: a request to the commission (acquisition approval per channel, police
 *   measure, SDF measure, retention extension) and its life: draft → submitted → approved |
 *   rejected; approved → expired | revoked. `CaseRecord.state` is the case state.
 * - `communication`: a notification, request or recommendation between the commission and the
 *   office, with its responses (R-OVS-6). `CaseRecord.state` is `open` or `answered`.
 * - `deletion-certificate`: one retention run's signed proof of deletion (R-RET-2).
 *   `CaseRecord.state` is `issued`.
 * - `reidentification`: a dual-authorised re-identification request and the sealed reference to
 *   its answer (R-OVS-2). `CaseRecord.state` is a `ReidentificationState`.
 */
import type { ApprovalKind, Selector, SignedApproval, SignedRevocation } from './approval.ts';
import type { LegalChannel } from './legal.ts';
import type { SignedDocument } from '../signing/document.ts';

/** `CaseRecord.kind` values. */
export const CASE_RECORD_KINDS = [
  'approval-case',
  'communication',
  'deletion-certificate',
  'reidentification',
] as const;
/** One `CaseRecord.kind`. */
export type CaseRecordKind = (typeof CASE_RECORD_KINDS)[number];

/** States of an approval case (R-OVS-5). */
export const CASE_STATES = ['draft', 'submitted', 'approved', 'rejected', 'expired', 'revoked'] as const;
/** One approval-case state. */
export type CaseState = (typeof CASE_STATES)[number];

/** The legal transitions of an approval case; anything else is refused with `ERR_CASE_TRANSITION`. */
export const CASE_TRANSITIONS: Readonly<Record<CaseState, readonly CaseState[]>> = {
  draft: ['submitted'],
  submitted: ['approved', 'rejected'],
  approved: ['expired', 'revoked'],
  rejected: [],
  expired: [],
  revoked: [],
};

/** One step of a case's history. */
export interface CaseHistoryEntry {
  at: number;
  from: CaseState | null;
  to: CaseState;
  /** User id of who made the change (`system` for expiry). */
  actor: string;
  role: string;
  reason: string;
}

/**
 * An emergency measure: acted on before approval (police/SDF measures), to be notified to the
 * commission within the legal parameter `emergency-measure-notification` counted from `actedAt`.
 */
export interface EmergencyMeasure {
  actedAt: number;
  /** `actedAt` + the deadline of the parameter version in force at `actedAt`. */
  notifyBy: number;
  /** When the commission was notified (the case was submitted); absent until then. */
  notifiedAt?: number;
}

/** What a retention extension keeps past its normal deadline, until the case's `validUntil`. */
export interface RetentionHolds {
  /** Incidents (with their alerts) kept. */
  incidentIds: string[];
  /** Evidence and record partitions (retention days, YYYY-MM-DD) kept. */
  days: string[];
}

/** Body of an `approval-case` record. */
export interface ApprovalCaseBody {
  format: 'acd.approval-case/1';
  kind: ApprovalKind;
  title: string;
  justification: string;
  /** User id and role of the requester. */
  requester: string;
  requesterRole: string;
  /** The legal channel an acquisition approval is for (required for `acquisition`). */
  channel?: LegalChannel;
  /** Providers concerned (`*` = every provider). */
  providers: string[];
  feeds?: string[];
  /** Unauthorised acts the case is about (labels of the commission's register). */
  targetActs: string[];
  /** Targets in words: servers, operators, networks, incident ids. */
  targets: string[];
  selectors: Selector[];
  /** The window asked for (and, once approved, granted). */
  validFrom: number;
  validUntil: number;
  /** Legal-parameter version the case was checked against (max validity, deadlines). */
  parameterVersion: string;
  emergency?: EmergencyMeasure;
  /** Only for `retention-extension`. */
  retentionHolds?: RetentionHolds;
  history: CaseHistoryEntry[];
  /** The commission's decision (approve or reject). */
  decision?: { at: number; by: string; reason: string };
  /** The signed approval document, once approved (what the edges verify). */
  signedApproval?: SignedApproval;
  /** The signed revocation, once revoked. */
  signedRevocation?: SignedRevocation;
  /**
   * The commission's signed decision for an approved case that has no feed approval (a retention
   * extension, or a police/SDF measure without a channel): what was approved, for how long, with
   * which holds. Absent when `signedApproval` is present (src/oversee/cases/README.md).
   */
  signedDecision?: SignedDocument<CaseDecisionPayload>;
}

/**
 * Payload of a signed case decision (type `case-decision`, id `dec-<caseId>`), signed with the
 * commission key like an approval. Edges do not use it; inspectors and the retention job do.
 */
export interface CaseDecisionPayload {
  type: 'case-decision';
  id: string;
  caseId: string;
  kind: ApprovalKind;
  decision: 'approved';
  /** ISO 8601 UTC, like every time in a signed document. */
  validFrom: string;
  validUntil: string;
  issuedAt: string;
  reason: string;
  targetActs: string[];
  targets: string[];
  retentionHolds?: RetentionHolds;
  demo?: boolean;
}

/** Kinds of commission communication (R-OVS-6). */
export const COMMUNICATION_TYPES = ['notification', 'request', 'recommendation'] as const;
/** One communication kind. */
export type CommunicationType = (typeof COMMUNICATION_TYPES)[number];

/** Body of a `communication` record. */
export interface CommunicationBody {
  format: 'acd.communication/1';
  type: CommunicationType;
  /** `to-commission`: the office (or the system, e.g. a bulk-access alert) informs the commission. */
  direction: 'from-commission' | 'to-commission';
  subject: string;
  text: string;
  caseId?: string;
  createdBy: string;
  createdAt: number;
  /** When a response is due (requests and recommendations); overdue when open past it. */
  dueAt?: number;
  responses: { at: number; by: string; text: string }[];
}

/** Body of a `deletion-certificate` record (also appended to `DATA/retention/certificates.ndjson`). */
export interface DeletionCertificateBody {
  format: 'acd.deletion-certificate/1';
  /** Certificate id (also the record id). */
  id: string;
  /** When the run happened (the job's clock). */
  runAt: number;
  /** The period whose data was deleted: earliest and latest retention day dropped (YYYY-MM-DD). */
  period: { firstDay: string | null; lastDay: string | null };
  /** Rows deleted per table or cache (`records`, `evidence`, `alerts`, `incidents`, `rollup_1m`, …). */
  counts: Record<string, number>;
  /** Rows still present in what was deleted, re-counted after the commit (0 proves deletion). */
  remainingRows: number;
  /**
   * Cutoff of derived data (alerts, incidents, rollups): the run time minus `retention.default` of
   * `parameterVersion`; rows older than it were deleted. Absent in certificates that predate it.
   */
  derivedBefore?: number;
  /** Legal-parameter version that set the deadlines. */
  parameterVersion: string;
  /** Retention-extension cases whose holds were honoured. */
  holds: string[];
  /** Ids of keys involved: the signing key, and any period keys destroyed. */
  keyIds: string[];
  keyId: string;
  /** Ed25519 over the RFC 8785 form of the body without `signature` (base64url). */
  signature: string;
}

/** States of a re-identification request. */
export const REIDENTIFICATION_STATES = ['awaiting-second', 'sent', 'answered', 'refused', 'expired'] as const;
/** One re-identification state. */
export type ReidentificationState = (typeof REIDENTIFICATION_STATES)[number];
