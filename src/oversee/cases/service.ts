/**
 * Approval cases, emergency measures and commission communications (REQUIREMENTS R-OVS-5,
 * R-OVS-6; DESIGN section 6). Cases live in the store's `cases` table as `approval-case` records
 * (`ApprovalCaseBody`), communications as `communication` records (`CommunicationBody`).
 *
 * Every operation validates, stores the record, audits `case.<op>` / `communication.<op>` with the
 * record id and returns the record. An approval signs an `ApprovalPayload` with the commission key,
 * verifies it back against the key's public part (fail closed) and publishes it on the bus's
 * control direction, where the running edges activate the feeds it covers; a revocation does the
 * same with a `RevocationPayload`, which stops them. Cases without a channel (retention extensions,
 * police/SDF measures that name no channel) get a signed `case-decision` document instead of a
 * feed approval: nothing for an edge to run, but a signed record of what the commission approved.
 */
import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { isoTime, type Clock } from '../../common/clock.ts';
import { AcdError } from '../../common/errors.ts';
import {
  addLegalDuration,
  type LegalParameters,
  type LegalParameterTable,
} from '../../common/legal/index.ts';
import { silentLogger, type Logger } from '../../common/logging.ts';
import {
  verifyApproval,
  verifyRevocation,
  type ApprovalKind,
  type ApprovalPayload,
  type RevocationPayload,
  type Selector,
} from '../../common/schema/approval.ts';
import {
  CASE_TRANSITIONS,
  type ApprovalCaseBody,
  type CaseDecisionPayload,
  type CaseState,
  type CommunicationBody,
  type CommunicationType,
  type RetentionHolds,
} from '../../common/schema/case.ts';
import type { LegalChannel } from '../../common/schema/legal.ts';
import {
  isDemoKey,
  resolveTrustedKey,
  signDocument,
  TrustedKeySet,
  verifyDocument,
  type SignedDocument,
  type SigningKey,
} from '../../common/signing/index.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../../serve/errors.ts';
import type { ControlMessage } from '../../transport/bus.ts';
import { MAX_LIMIT, type CaseRecord, type Page, type Store } from '../../store/types.ts';
import type { AuditInput } from '../audit/log.ts';
import { CaseSigningError, CaseTransitionError } from './errors.ts';
import { CaseDecisionPayloadSchema, CaseFieldSchemas, MAX_COMMUNICATION_TEXT } from './schema.ts';

/** Who acts (the API's `Actor` fits). */
export interface CaseActor {
  user: string;
  role: string;
  /** Declared purpose (`X-ACD-Purpose`), recorded in the audit log. */
  purpose: string;
}

/** True for the commission's side (inspectors) of a communication. */
function isCommission(actor: CaseActor): boolean {
  return actor.role === 'inspector';
}

/** The actor of automatic changes (expiry). */
export const SYSTEM_ACTOR: CaseActor = { user: 'system', role: 'system', purpose: 'administration' };

/** What a requester gives for a new case. Times are epoch ms. */
export interface CaseInput {
  kind: ApprovalKind;
  title: string;
  justification: string;
  /** Required for `acquisition`; refused for `retention-extension`. */
  channel?: LegalChannel;
  /** Providers concerned (`*` = every provider); default none. */
  providers?: string[];
  feeds?: string[];
  targetActs?: string[];
  targets?: string[];
  selectors?: Selector[];
  validFrom: number;
  validUntil: number;
  /** Only for police/SDF measures: when the measure was taken (before approval). */
  emergency?: { actedAt: number };
  /** Only (and required) for `retention-extension`. */
  retentionHolds?: RetentionHolds;
}

/** A change to a draft: any field but the kind; `null` removes an optional field. */
export interface CasePatch {
  title?: string;
  justification?: string;
  channel?: LegalChannel | null;
  providers?: string[];
  feeds?: string[] | null;
  targetActs?: string[];
  targets?: string[];
  selectors?: Selector[];
  validFrom?: number;
  validUntil?: number;
  emergency?: { actedAt: number } | null;
  retentionHolds?: RetentionHolds | null;
}

/** An approval case as the service returns it. */
export interface ApprovalCase {
  id: string;
  state: CaseState;
  createdAt: number;
  updatedAt: number;
  body: ApprovalCaseBody;
}

/** Communication states. */
export type CommunicationState = 'open' | 'answered';

/** A commission communication as the service returns it. */
export interface Communication {
  id: string;
  state: CommunicationState;
  createdAt: number;
  updatedAt: number;
  body: CommunicationBody;
}

/** What a new communication says. Times are epoch ms. */
export interface CommunicationInput {
  type: CommunicationType;
  direction: 'from-commission' | 'to-commission';
  subject: string;
  text: string;
  /** An existing approval case it concerns. */
  caseId?: string;
  /** When a response is due; only for requests and recommendations. */
  dueAt?: number;
}

/** Something past its deadline (dashboard, reports). */
export interface OverdueItem {
  /** The case or communication id. */
  id: string;
  what: 'emergency-notification' | 'communication-response';
  dueAt: number;
}

/** The commission's signing key (an adapter over `KeyStore.signingKey('commission')`, or the demo key). */
export interface CommissionKeySource {
  commissionKey(): Promise<SigningKey>;
}

/** Dependencies of {@link createCaseService}. */
export interface CaseServiceDeps {
  store: Store;
  clock: Clock;
  legal: LegalParameterTable;
  keys: CommissionKeySource;
  /** The bus's `publishControl` (centre → edges); without it nothing is published. */
  publish?: (target: string, message: ControlMessage) => Promise<void>;
  /** The audit log's action hook (`AuditHooks.onAction` or `AuditLog.append`). */
  audit?: (input: AuditInput) => void | Promise<unknown>;
  logger?: Logger;
  /** New record ids (default: `case-`/`com-` + 12 random hex digits). */
  newId?: (prefix: 'case' | 'com') => string;
}

/** List filters of cases. */
export interface CaseListQuery {
  /** Approval kind (`body.kind`). */
  kind?: ApprovalKind;
  state?: CaseState;
  limit: number;
  cursor?: string;
}

/** List filters of communications. */
export interface CommunicationListQuery {
  state?: CommunicationState;
  type?: CommunicationType;
  limit: number;
  cursor?: string;
}

/** The case service. */
export interface CaseService {
  create(input: CaseInput, actor: CaseActor): Promise<ApprovalCase>;
  /** Changes a draft (any other state: `CaseTransitionError`). */
  update(id: string, patch: CasePatch, actor: CaseActor): Promise<ApprovalCase>;
  /** draft → submitted; an emergency measure counts as notified now. */
  submit(id: string, actor: CaseActor): Promise<ApprovalCase>;
  /** submitted → approved: signs, verifies back, stores and publishes the approval. */
  approve(id: string, reason: string, actor: CaseActor): Promise<ApprovalCase>;
  reject(id: string, reason: string, actor: CaseActor): Promise<ApprovalCase>;
  /** approved → revoked: signs, verifies back, stores and publishes the revocation. */
  revoke(id: string, reason: string, actor: CaseActor): Promise<ApprovalCase>;
  /** approved cases whose `validUntil` has come → expired (actor `system`). Returns them. */
  expireDue(): Promise<ApprovalCase[]>;
  /** Publishes a case's signed approval and revocation again (after a bus outage). */
  republish(id: string): Promise<void>;
  get(id: string): Promise<ApprovalCase>;
  list(q: CaseListQuery): Promise<Page<ApprovalCase>>;
  /** Emergency measures past `notifyBy` and not notified; open communications past `dueAt`. */
  overdue(): Promise<OverdueItem[]>;
  /** Whether a case or communication is overdue now. */
  isOverdue(x: ApprovalCase | Communication): boolean;
  createCommunication(input: CommunicationInput, actor: CaseActor): Promise<Communication>;
  /** Records a response; the communication becomes `answered`. */
  respond(id: string, text: string, actor: CaseActor): Promise<Communication>;
  getCommunication(id: string): Promise<Communication>;
  listCommunications(q: CommunicationListQuery): Promise<Page<Communication>>;
}

/** Record kinds in the store. */
const CASE_KIND = 'approval-case';
const COMMUNICATION_KIND = 'communication';
/** Records one list or overdue scan reads at most: bounds a request's work on a huge table. */
export const MAX_SCAN = 100_000;
/** Media types of the control envelopes. */
export const APPROVAL_CONTENT_TYPE = 'application/acd-approval+json';
export const REVOCATION_CONTENT_TYPE = 'application/acd-revocation+json';

const MIN_TIME = Date.UTC(1970, 0, 1);
const MAX_TIME = Date.UTC(10000, 0, 1) - 1;

/** The id of a case's signed approval. */
export function approvalIdOf(caseId: string): string {
  return `ap-${caseId}`;
}
/** The id of a case's signed decision (cases without a channel). */
export function decisionIdOf(caseId: string): string {
  return `dec-${caseId}`;
}
/** The id of a case's signed revocation. */
export function revocationIdOf(caseId: string): string {
  return `rev-${caseId}`;
}

/** A control envelope carrying a signed document (same form as the edge's `revocationEnvelope`). */
export function controlEnvelope(
  kind: 'approval' | 'revocation',
  doc: unknown,
  messageId: string,
  issuedAt: number,
): ControlMessage {
  return {
    messageId,
    kind,
    from: 'centre',
    issuedAt,
    contentType: kind === 'approval' ? APPROVAL_CONTENT_TYPE : REVOCATION_CONTENT_TYPE,
    payload: new TextEncoder().encode(JSON.stringify(doc)),
  };
}

/** Bus targets of a provider list: `all` for `*`. */
export function targetsOf(providers: readonly string[]): string[] {
  return providers.includes('*') ? ['all'] : [...providers];
}

const FieldsSchema = Type.Object(
  {
    title: CaseFieldSchemas.title,
    justification: CaseFieldSchemas.justification,
    channel: Type.Optional(CaseFieldSchemas.channel),
    providers: CaseFieldSchemas.providers,
    feeds: Type.Optional(CaseFieldSchemas.feeds),
    targetActs: CaseFieldSchemas.targetActs,
    targets: CaseFieldSchemas.targets,
    selectors: CaseFieldSchemas.selectors,
    retentionHolds: Type.Optional(CaseFieldSchemas.retentionHolds),
  },
  { additionalProperties: false },
);

function schemaCheck(value: unknown): void {
  const first = Value.Errors(FieldsSchema, value).First();
  if (first) throw new ValidationError(`body${first.path.replace(/\//g, '.')}`, first.message);
}

function checkTime(name: string, t: unknown): number {
  if (typeof t !== 'number' || !Number.isInteger(t) || t < MIN_TIME || t > MAX_TIME)
    throw new ValidationError(`body.${name}`, 'not a time');
  return t;
}

function isRealDay(day: string): boolean {
  const t = Date.parse(`${day}T00:00:00Z`);
  return Number.isFinite(t) && isoTime(t).slice(0, 10) === day;
}

/** The rules of the signed approval that a schema cannot say (mirrors `verifyApproval`). */
function checkSelectors(selectors: readonly Selector[]): void {
  const ids = new Set<string>();
  for (const [i, s] of selectors.entries()) {
    const at = `body.selectors.${i}`;
    if (ids.has(s.id)) throw new ValidationError(`${at}.id`, 'selector ids must be unique');
    ids.add(s.id);
    if (s.kind === 'indicator-list' && s.listRef === undefined && (s.values ?? []).length === 0)
      throw new ValidationError(at, 'an indicator list needs listRef or values');
    if (s.kind === 'target-act') {
      if (s.tcpFlags && (s.tcpFlags.value & ~s.tcpFlags.mask) !== 0)
        throw new ValidationError(`${at}.tcpFlags`, 'value has bits outside mask');
      for (const [j, p] of (s.ports ?? []).entries())
        if (typeof p === 'object' && p.from > p.to)
          throw new ValidationError(`${at}.ports.${j}`, 'from must not exceed to');
    }
  }
}

function parametersAt(legal: LegalParameterTable, t: number, field: string): LegalParameters {
  try {
    return legal.parametersAt(t);
  } catch (err) {
    if (err instanceof AcdError)
      throw new ValidationError(`body.${field}`, 'no legal-parameter version is in force at this time');
    throw err;
  }
}

/**
 * Checks a whole case body (every create and update) and derives what the legal parameters say:
 * the version in force at `validFrom`, whose approval kind bounds the window, and the notification
 * deadline of an emergency measure from the version in force when it was taken.
 */
function checkCase(
  body: Omit<ApprovalCaseBody, 'parameterVersion' | 'history' | 'emergency'> & {
    emergency?: { actedAt: number; notifiedAt?: number };
  },
  legal: LegalParameterTable,
  now: number,
): { parameterVersion: string; emergency?: ApprovalCaseBody['emergency'] } {
  const { kind } = body;
  schemaCheck({
    title: body.title,
    justification: body.justification,
    ...(body.channel !== undefined ? { channel: body.channel } : {}),
    providers: body.providers,
    ...(body.feeds !== undefined ? { feeds: body.feeds } : {}),
    targetActs: body.targetActs,
    targets: body.targets,
    selectors: body.selectors,
    ...(body.retentionHolds !== undefined ? { retentionHolds: body.retentionHolds } : {}),
  });
  const from = checkTime('validFrom', body.validFrom);
  const until = checkTime('validUntil', body.validUntil);
  if (until <= from) throw new ValidationError('body.validUntil', 'must be after validFrom');
  if (kind === 'acquisition' && body.channel === undefined)
    throw new ValidationError('body.channel', 'an acquisition approval names its legal channel');
  if (kind === 'retention-extension') {
    if (body.channel !== undefined)
      throw new ValidationError('body.channel', 'a retention extension approves no feed');
    const h = body.retentionHolds;
    if (h === undefined || h.incidentIds.length + h.days.length === 0)
      throw new ValidationError(
        'body.retentionHolds',
        'a retention extension names incidents or days to keep',
      );
    for (const [i, d] of h.days.entries())
      if (!isRealDay(d)) throw new ValidationError(`body.retentionHolds.days.${i}`, 'not a real day');
  } else if (body.retentionHolds !== undefined)
    throw new ValidationError('body.retentionHolds', 'only a retention extension holds data');
  if (body.channel !== undefined) {
    // What the signed approval needs (its schema's minimums).
    if (body.providers.length === 0)
      throw new ValidationError('body.providers', 'name at least one provider');
    if (body.targetActs.length === 0)
      throw new ValidationError('body.targetActs', 'name at least one unauthorised act');
    if (body.selectors.length === 0)
      throw new ValidationError('body.selectors', 'give at least one selector');
    if (body.feeds !== undefined && body.feeds.length === 0)
      throw new ValidationError('body.feeds', 'omit feeds to cover every feed of the channel');
  } else if (body.feeds !== undefined)
    throw new ValidationError('body.feeds', 'feeds only apply to a case with a channel');
  checkSelectors(body.selectors);

  const params = parametersAt(legal, from, 'validFrom');
  const max = params.approvalKinds.get(kind);
  if (max === undefined)
    throw new ValidationError('body.kind', `legal parameters ${params.version} do not provide for ${kind}`);
  if (until > addLegalDuration(from, max))
    throw new ValidationError(
      'body.validUntil',
      `the window is longer than the ${max.text} a ${kind} may last (legal parameters ${params.version})`,
    );

  let emergency: ApprovalCaseBody['emergency'];
  if (body.emergency !== undefined) {
    if (kind !== 'police-measure' && kind !== 'sdf-measure')
      throw new ValidationError('body.emergency', 'only a police or SDF measure may act before approval');
    const actedAt = checkTime('emergency.actedAt', body.emergency.actedAt);
    if (actedAt > now) throw new ValidationError('body.emergency.actedAt', 'lies in the future');
    const p = parametersAt(legal, actedAt, 'emergency.actedAt');
    emergency = { actedAt, notifyBy: p.dueAt('emergency-measure-notification', actedAt) };
    if (body.emergency.notifiedAt !== undefined) emergency.notifiedAt = body.emergency.notifiedAt;
  }
  return { parameterVersion: params.version, ...(emergency ? { emergency } : {}) };
}

function defaultId(prefix: 'case' | 'com'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

function isCaseBody(b: Record<string, unknown>): boolean {
  return b.format === 'acd.approval-case/1';
}

function isCommunicationBody(b: Record<string, unknown>): boolean {
  return b.format === 'acd.communication/1';
}

function toCase(r: CaseRecord): ApprovalCase {
  return {
    id: r.id,
    state: r.state as CaseState,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    body: r.body as unknown as ApprovalCaseBody,
  };
}

function toCommunication(r: CaseRecord): Communication {
  return {
    id: r.id,
    state: r.state as CommunicationState,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    body: r.body as unknown as CommunicationBody,
  };
}

function checkReason(reason: string): string {
  if (typeof reason !== 'string' || reason.trim().length === 0 || reason.length > 2000)
    throw new ValidationError('body.reason', 'a reason of 1..2000 characters is required');
  return reason;
}

/** Creates the case service (no I/O until called). */
export function createCaseService(deps: CaseServiceDeps): CaseService {
  const { store, clock, legal, keys } = deps;
  const logger = deps.logger ?? silentLogger;
  const newId = deps.newId ?? defaultId;
  /** One change at a time per record: read-check-write must not interleave (approve vs reject). */
  const locks = new Map<string, Promise<unknown>>();

  async function locked<T>(id: string, f: () => Promise<T>): Promise<T> {
    const prev = locks.get(id) ?? Promise.resolve();
    const run = prev.then(f, f);
    const tail = run.catch(() => undefined);
    locks.set(id, tail);
    try {
      return await run;
    } finally {
      if (locks.get(id) === tail) locks.delete(id);
    }
  }

  async function audit(
    actor: CaseActor,
    action: string,
    id: string,
    detail: Record<string, unknown>,
  ): Promise<void> {
    if (!deps.audit) return;
    await deps.audit({
      actor: actor.user,
      role: actor.role,
      purpose: actor.purpose,
      action,
      objectIds: [id],
      detail,
    });
  }

  async function loadCase(id: string): Promise<ApprovalCase> {
    const r = await store.getCase(id);
    if (r === undefined || r.kind !== CASE_KIND || !isCaseBody(r.body)) throw new NotFoundError('case', id);
    return toCase(r);
  }

  async function loadCommunication(id: string): Promise<Communication> {
    const r = await store.getCase(id);
    if (r === undefined || r.kind !== COMMUNICATION_KIND || !isCommunicationBody(r.body))
      throw new NotFoundError('communication', id);
    return toCommunication(r);
  }

  async function saveCase(c: ApprovalCase): Promise<void> {
    await store.putCase({
      id: c.id,
      kind: CASE_KIND,
      state: c.state,
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
      body: c.body as unknown as Record<string, unknown>,
    });
  }

  async function saveCommunication(c: Communication): Promise<void> {
    await store.putCase({
      id: c.id,
      kind: COMMUNICATION_KIND,
      state: c.state,
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
      body: c.body as unknown as Record<string, unknown>,
    });
  }

  /** The case after the transition `to` (throws `CaseTransitionError` when not allowed). */
  function moved(
    c: ApprovalCase,
    to: CaseState,
    actor: CaseActor,
    reason: string,
    now: number,
  ): ApprovalCase {
    if (!CASE_TRANSITIONS[c.state].includes(to)) throw new CaseTransitionError(c.state, to);
    return {
      ...c,
      state: to,
      updatedAt: now,
      body: {
        ...c.body,
        history: [
          ...c.body.history,
          { at: now, from: c.state, to, actor: actor.user, role: actor.role, reason },
        ],
      },
    };
  }

  /** A trusted set holding only `key`, valid at `now`: what the document is verified back against. */
  function selfTrust(key: SigningKey, now: number): TrustedKeySet {
    return new TrustedKeySet([
      resolveTrustedKey(
        {
          publicKey: key.publicKey,
          keyId: key.keyId,
          signer: 'commission',
          validFrom: isoTime(now),
          validUntil: isoTime(now + 1),
          scopes: ['approval'],
        },
        'commission',
      ),
    ]);
  }

  async function commissionKey(): Promise<SigningKey> {
    try {
      return await keys.commissionKey();
    } catch (err) {
      if (err instanceof AcdError) throw err;
      throw new CaseSigningError('the commission key is not available', { cause: err });
    }
  }

  async function publish(kind: 'approval' | 'revocation', doc: unknown, docId: string, providers: string[]) {
    if (!deps.publish) return;
    const now = clock.now();
    for (const target of targetsOf(providers)) {
      try {
        // One message id per target: a durable control stream de-duplicates by id across subjects.
        await deps.publish(target, controlEnvelope(kind, doc, `${docId}@${target}`, now));
      } catch (err) {
        // The case is decided and stored; `republish` sends it again once the bus is back.
        logger.error({ err: (err as Error).message, docId, target }, `cases: ${kind} not published`);
      }
    }
  }

  function signApproval(c: ApprovalCase, key: SigningKey, now: number): SignedDocument<ApprovalPayload> {
    const b = c.body;
    const demo = isDemoKey(key.keyId);
    if (b.channel === undefined) throw new CaseSigningError('an approval document needs a channel');
    const payload: ApprovalPayload = {
      type: 'approval',
      id: approvalIdOf(c.id),
      kind: b.kind,
      channel: b.channel,
      providers: [...b.providers],
      ...(b.feeds !== undefined ? { feeds: [...b.feeds] } : {}),
      targetActs: [...b.targetActs],
      selectors: structuredClone(b.selectors),
      validFrom: isoTime(b.validFrom),
      validUntil: isoTime(b.validUntil),
      issuedAt: isoTime(now),
      justification: b.justification,
      caseId: c.id,
      ...(demo ? { demo: true } : {}),
    };
    const doc = signDocument(payload, [key]);
    const v = verifyApproval(structuredClone(doc), selfTrust(key, now), now, { allowDemo: demo });
    if (!v.ok)
      throw new CaseSigningError(`the signed approval does not verify (${v.error.code})`, { cause: v.error });
    return doc;
  }

  function signDecision(
    c: ApprovalCase,
    reason: string,
    key: SigningKey,
    now: number,
  ): SignedDocument<CaseDecisionPayload> {
    const b = c.body;
    const demo = isDemoKey(key.keyId);
    const payload: CaseDecisionPayload = {
      type: 'case-decision',
      id: decisionIdOf(c.id),
      caseId: c.id,
      kind: b.kind,
      decision: 'approved',
      validFrom: isoTime(b.validFrom),
      validUntil: isoTime(b.validUntil),
      issuedAt: isoTime(now),
      reason,
      targetActs: [...b.targetActs],
      targets: [...b.targets],
      ...(b.retentionHolds !== undefined ? { retentionHolds: structuredClone(b.retentionHolds) } : {}),
      ...(demo ? { demo: true } : {}),
    };
    const doc = signDocument(payload, [key]);
    try {
      const v = verifyDocument(structuredClone(doc), selfTrust(key, now), { scope: 'approval', now });
      if (!Value.Check(CaseDecisionPayloadSchema, v.payload))
        throw new CaseSigningError('the signed decision does not match its schema');
    } catch (err) {
      if (err instanceof CaseSigningError) throw err;
      throw new CaseSigningError('the signed decision does not verify', { cause: err });
    }
    return doc;
  }

  function signRevocation(
    c: ApprovalCase,
    reason: string,
    key: SigningKey,
    now: number,
  ): SignedDocument<RevocationPayload> {
    const demo = isDemoKey(key.keyId);
    const payload: RevocationPayload = {
      type: 'revocation',
      id: revocationIdOf(c.id),
      revokes: c.body.signedApproval ? approvalIdOf(c.id) : decisionIdOf(c.id),
      issuedAt: isoTime(now),
      reason,
      ...(demo ? { demo: true } : {}),
    };
    const doc = signDocument(payload, [key]);
    const v = verifyRevocation(structuredClone(doc), selfTrust(key, now), now, { allowDemo: demo });
    if (!v.ok)
      throw new CaseSigningError(`the signed revocation does not verify (${v.error.code})`, {
        cause: v.error,
      });
    return doc;
  }

  function isOverdueAt(x: ApprovalCase | Communication, now: number): boolean {
    const b = x.body;
    if (b.format === 'acd.approval-case/1') {
      const e = b.emergency;
      return e !== undefined && e.notifiedAt === undefined && now > e.notifyBy;
    }
    return x.state === 'open' && b.dueAt !== undefined && now > b.dueAt;
  }

  /** A page of records of `kind` (and `state`) that pass `keep`, resuming at `cursor`. */
  async function filteredPage(
    kind: string,
    state: string | undefined,
    keep: (r: CaseRecord) => boolean,
    limit: number,
    cursor: string | undefined,
  ): Promise<Page<CaseRecord>> {
    const want = Math.min(MAX_LIMIT, Math.max(1, limit));
    const items: CaseRecord[] = [];
    let next: string | null = cursor ?? null;
    let scanned = 0;
    let first = true;
    // Each store page asks for no more than is still wanted, so every record read is either
    // returned or filtered out, and the store's cursor resumes exactly after the last one read.
    while (items.length < want && (first || next !== null) && scanned < MAX_SCAN) {
      first = false;
      const page = await store.listCases({
        limit: want - items.length,
        ...(next !== null ? { cursor: next } : {}),
        kind,
        ...(state !== undefined ? { state } : {}),
      });
      scanned += page.items.length;
      for (const r of page.items) if (keep(r)) items.push(r);
      next = page.next;
      if (page.items.length === 0) break;
    }
    return { items, next };
  }

  /** Every record of `kind` (and `state`), up to `MAX_SCAN`. */
  async function all(kind: string, state: string): Promise<CaseRecord[]> {
    const out: CaseRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listCases({ limit: MAX_LIMIT, kind, state, ...(cursor ? { cursor } : {}) });
      out.push(...page.items);
      cursor = page.next ?? undefined;
    } while (cursor !== undefined && out.length < MAX_SCAN);
    return out;
  }

  return {
    async create(input, actor) {
      const now = clock.now();
      const draft = {
        format: 'acd.approval-case/1' as const,
        kind: input.kind,
        title: input.title,
        justification: input.justification,
        requester: actor.user,
        requesterRole: actor.role,
        ...(input.channel !== undefined ? { channel: input.channel } : {}),
        providers: input.providers ?? [],
        ...(input.feeds !== undefined ? { feeds: input.feeds } : {}),
        targetActs: input.targetActs ?? [],
        targets: input.targets ?? [],
        selectors: input.selectors ?? [],
        validFrom: input.validFrom,
        validUntil: input.validUntil,
        ...(input.emergency !== undefined ? { emergency: { actedAt: input.emergency.actedAt } } : {}),
        ...(input.retentionHolds !== undefined ? { retentionHolds: input.retentionHolds } : {}),
      };
      if (
        !(['acquisition', 'police-measure', 'sdf-measure', 'retention-extension'] as unknown[]).includes(
          input.kind,
        )
      )
        throw new ValidationError('body.kind', 'unknown approval kind');
      const derived = checkCase(draft, legal, now);
      const id = newId('case');
      const { emergency: _asked, ...base } = draft;
      const c: ApprovalCase = {
        id,
        state: 'draft',
        createdAt: now,
        updatedAt: now,
        body: {
          ...base,
          parameterVersion: derived.parameterVersion,
          ...(derived.emergency ? { emergency: derived.emergency } : {}),
          history: [
            { at: now, from: null, to: 'draft', actor: actor.user, role: actor.role, reason: 'created' },
          ],
        },
      };
      return locked(id, async () => {
        if ((await store.getCase(id)) !== undefined)
          throw new AcdError('ERR_CONFLICT', `a record with id ${id} exists already`);
        await audit(actor, 'case.create', id, {
          kind: c.body.kind,
          ...(c.body.channel ? { channel: c.body.channel } : {}),
          emergency: c.body.emergency !== undefined,
          parameterVersion: c.body.parameterVersion,
        });
        await saveCase(c);
        return c;
      });
    },

    async update(id, patch, actor) {
      return locked(id, async () => {
        const c = await loadCase(id);
        if (c.state !== 'draft')
          throw new CaseTransitionError(
            c.state,
            c.state,
            `only a draft can be changed (the case is ${c.state})`,
          );
        const now = clock.now();
        const b = c.body;
        const pick = <K extends keyof CasePatch>(k: K): CasePatch[K] | undefined =>
          Object.prototype.hasOwnProperty.call(patch, k) ? patch[k] : undefined;
        const has = (k: keyof CasePatch): boolean =>
          Object.prototype.hasOwnProperty.call(patch, k) && patch[k] !== undefined;
        const channel = has('channel') ? pick('channel') : b.channel;
        const feeds = has('feeds') ? pick('feeds') : b.feeds;
        const emergency = has('emergency') ? pick('emergency') : b.emergency;
        const holds = has('retentionHolds') ? pick('retentionHolds') : b.retentionHolds;
        const {
          emergency: _e,
          channel: _c,
          feeds: _f,
          retentionHolds: _h,
          parameterVersion: _v,
          history,
          ...rest
        } = b;
        const next = {
          ...rest,
          title: patch.title ?? b.title,
          justification: patch.justification ?? b.justification,
          providers: patch.providers ?? b.providers,
          targetActs: patch.targetActs ?? b.targetActs,
          targets: patch.targets ?? b.targets,
          selectors: patch.selectors ?? b.selectors,
          validFrom: patch.validFrom ?? b.validFrom,
          validUntil: patch.validUntil ?? b.validUntil,
          ...(channel !== undefined && channel !== null ? { channel } : {}),
          ...(feeds !== undefined && feeds !== null ? { feeds } : {}),
          ...(emergency !== undefined && emergency !== null
            ? { emergency: { actedAt: emergency.actedAt } }
            : {}),
          ...(holds !== undefined && holds !== null ? { retentionHolds: holds } : {}),
        };
        const derived = checkCase(next, legal, now);
        const changed = (Object.keys(patch) as (keyof CasePatch)[]).filter((k) => patch[k] !== undefined);
        const { emergency: _asked, ...nextBase } = next;
        const u: ApprovalCase = {
          ...c,
          updatedAt: now,
          body: {
            ...nextBase,
            parameterVersion: derived.parameterVersion,
            ...(derived.emergency ? { emergency: derived.emergency } : {}),
            history,
          },
        };
        await audit(actor, 'case.update', id, { fields: changed });
        await saveCase(u);
        return u;
      });
    },

    async submit(id, actor) {
      return locked(id, async () => {
        const c = await loadCase(id);
        const now = clock.now();
        const u = moved(c, 'submitted', actor, 'submitted to the commission', now);
        if (u.body.emergency) u.body = { ...u.body, emergency: { ...u.body.emergency, notifiedAt: now } };
        const late = u.body.emergency !== undefined && now > u.body.emergency.notifyBy;
        await audit(actor, 'case.submit', id, {
          from: c.state,
          to: 'submitted',
          ...(u.body.emergency ? { emergencyNotifiedLate: late } : {}),
        });
        await saveCase(u);
        return u;
      });
    },

    async approve(id, reason, actor) {
      checkReason(reason);
      const c = await locked(id, async () => {
        const cur = await loadCase(id);
        const now = clock.now();
        let u = moved(cur, 'approved', actor, reason, now);
        if (cur.body.validUntil <= now)
          throw new ValidationError('body.validUntil', 'the window asked for has already ended');
        const key = await commissionKey();
        if (cur.body.channel !== undefined)
          u.body = { ...u.body, signedApproval: signApproval(cur, key, now) };
        else u.body = { ...u.body, signedDecision: signDecision(cur, reason, key, now) };
        u = { ...u, body: { ...u.body, decision: { at: now, by: actor.user, reason } } };
        await audit(actor, 'case.approve', id, {
          from: cur.state,
          to: 'approved',
          document: u.body.signedApproval ? approvalIdOf(id) : decisionIdOf(id),
          keyId: key.keyId,
          validUntil: isoTime(cur.body.validUntil),
        });
        await saveCase(u);
        return u;
      });
      if (c.body.signedApproval)
        await publish('approval', c.body.signedApproval, approvalIdOf(id), c.body.providers);
      return c;
    },

    async reject(id, reason, actor) {
      checkReason(reason);
      return locked(id, async () => {
        const cur = await loadCase(id);
        const now = clock.now();
        const u = moved(cur, 'rejected', actor, reason, now);
        u.body = { ...u.body, decision: { at: now, by: actor.user, reason } };
        await audit(actor, 'case.reject', id, { from: cur.state, to: 'rejected' });
        await saveCase(u);
        return u;
      });
    },

    async revoke(id, reason, actor) {
      checkReason(reason);
      const c = await locked(id, async () => {
        const cur = await loadCase(id);
        const now = clock.now();
        const u = moved(cur, 'revoked', actor, reason, now);
        const key = await commissionKey();
        u.body = { ...u.body, signedRevocation: signRevocation(cur, reason, key, now) };
        await audit(actor, 'case.revoke', id, {
          from: cur.state,
          to: 'revoked',
          document: revocationIdOf(id),
          revokes: u.body.signedRevocation?.payload.revokes ?? null,
          keyId: key.keyId,
        });
        await saveCase(u);
        return u;
      });
      // Only a published feed approval has edges to stop.
      if (c.body.signedApproval && c.body.signedRevocation)
        await publish('revocation', c.body.signedRevocation, revocationIdOf(id), c.body.providers);
      return c;
    },

    async expireDue() {
      const now = clock.now();
      const due = (await all(CASE_KIND, 'approved')).filter(
        (r) => isCaseBody(r.body) && (r.body as unknown as ApprovalCaseBody).validUntil <= now,
      );
      const out: ApprovalCase[] = [];
      for (const r of due) {
        const e = await locked(r.id, async () => {
          const cur = await loadCase(r.id);
          if (cur.state !== 'approved' || cur.body.validUntil > now) return undefined;
          const u = moved(cur, 'expired', SYSTEM_ACTOR, 'validity ended', now);
          await audit(SYSTEM_ACTOR, 'case.expire', cur.id, { from: 'approved', to: 'expired' });
          await saveCase(u);
          return u;
        });
        if (e) out.push(e);
      }
      if (out.length > 0) logger.info({ cases: out.length }, 'cases: approvals expired');
      return out;
    },

    async republish(id) {
      const c = await loadCase(id);
      if (c.body.signedApproval)
        await publish('approval', c.body.signedApproval, approvalIdOf(id), c.body.providers);
      if (c.body.signedApproval && c.body.signedRevocation)
        await publish('revocation', c.body.signedRevocation, revocationIdOf(id), c.body.providers);
    },

    get: loadCase,

    async list(q) {
      const kind = q.kind;
      const page = await filteredPage(
        CASE_KIND,
        q.state,
        (r) => isCaseBody(r.body) && (kind === undefined || r.body.kind === kind),
        q.limit,
        q.cursor,
      );
      return { items: page.items.map(toCase), next: page.next };
    },

    async overdue() {
      const now = clock.now();
      const items: OverdueItem[] = [];
      for (const r of await all(CASE_KIND, 'draft')) {
        if (!isCaseBody(r.body)) continue;
        const c = toCase(r);
        if (isOverdueAt(c, now) && c.body.emergency)
          items.push({ id: c.id, what: 'emergency-notification', dueAt: c.body.emergency.notifyBy });
      }
      for (const r of await all(COMMUNICATION_KIND, 'open')) {
        if (!isCommunicationBody(r.body)) continue;
        const m = toCommunication(r);
        if (isOverdueAt(m, now) && m.body.dueAt !== undefined)
          items.push({ id: m.id, what: 'communication-response', dueAt: m.body.dueAt });
      }
      return items.sort((a, b) => a.dueAt - b.dueAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },

    isOverdue(x) {
      return isOverdueAt(x, clock.now());
    },

    async createCommunication(input, actor) {
      const now = clock.now();
      const first = Value.Errors(
        Type.Object({
          subject: Type.String({ minLength: 1, maxLength: 300 }),
          text: Type.String({ minLength: 1, maxLength: MAX_COMMUNICATION_TEXT }),
        }),
        { subject: input.subject, text: input.text },
      ).First();
      if (first) throw new ValidationError(`body${first.path.replace(/\//g, '.')}`, first.message);
      if (!['notification', 'request', 'recommendation'].includes(input.type))
        throw new ValidationError('body.type', 'unknown communication type');
      if (input.direction !== 'from-commission' && input.direction !== 'to-commission')
        throw new ValidationError('body.direction', 'unknown direction');
      // Each side records what it sends: the commission (inspectors) what comes from it, the
      // office what goes to the commission.
      if ((input.direction === 'from-commission') !== isCommission(actor))
        throw new ForbiddenError(
          input.direction === 'from-commission'
            ? 'only the commission (an inspector) records what comes from the commission'
            : 'the commission does not record communications to itself',
        );
      if (input.dueAt !== undefined) {
        checkTime('dueAt', input.dueAt);
        if (input.type === 'notification')
          throw new ValidationError('body.dueAt', 'a notification expects no response');
      }
      if (input.caseId !== undefined) {
        const r = await store.getCase(input.caseId);
        if (r === undefined || r.kind !== CASE_KIND)
          throw new ValidationError('body.caseId', `no approval case ${JSON.stringify(input.caseId)}`);
      }
      const id = newId('com');
      const m: Communication = {
        id,
        state: 'open',
        createdAt: now,
        updatedAt: now,
        body: {
          format: 'acd.communication/1',
          type: input.type,
          direction: input.direction,
          subject: input.subject,
          text: input.text,
          ...(input.caseId !== undefined ? { caseId: input.caseId } : {}),
          createdBy: actor.user,
          createdAt: now,
          ...(input.dueAt !== undefined ? { dueAt: input.dueAt } : {}),
          responses: [],
        },
      };
      return locked(id, async () => {
        if ((await store.getCase(id)) !== undefined)
          throw new AcdError('ERR_CONFLICT', `a record with id ${id} exists already`);
        await audit(actor, 'communication.create', id, {
          type: input.type,
          direction: input.direction,
          ...(input.caseId !== undefined ? { caseId: input.caseId } : {}),
          ...(input.dueAt !== undefined ? { dueAt: isoTime(input.dueAt) } : {}),
        });
        await saveCommunication(m);
        return m;
      });
    },

    async respond(id, text, actor) {
      if (typeof text !== 'string' || text.trim().length === 0 || text.length > MAX_COMMUNICATION_TEXT)
        throw new ValidationError(
          'body.text',
          `a response of 1..${MAX_COMMUNICATION_TEXT} characters is required`,
        );
      return locked(id, async () => {
        const m = await loadCommunication(id);
        // The side a communication was addressed to answers it.
        if ((m.body.direction === 'to-commission') !== isCommission(actor))
          throw new ForbiddenError(
            m.body.direction === 'to-commission'
              ? 'the commission (an inspector) answers what was sent to it'
              : 'the office answers what the commission sent',
          );
        const now = clock.now();
        const u: Communication = {
          ...m,
          state: 'answered',
          updatedAt: now,
          body: { ...m.body, responses: [...m.body.responses, { at: now, by: actor.user, text }] },
        };
        const late = m.body.dueAt !== undefined && now > m.body.dueAt;
        await audit(actor, 'communication.respond', id, { responses: u.body.responses.length, late });
        await saveCommunication(u);
        return u;
      });
    },

    getCommunication: loadCommunication,

    async listCommunications(q) {
      const type = q.type;
      const page = await filteredPage(
        COMMUNICATION_KIND,
        q.state,
        (r) => isCommunicationBody(r.body) && (type === undefined || r.body.type === type),
        q.limit,
        q.cursor,
      );
      return { items: page.items.map(toCommunication), next: page.next };
    },
  };
}

/** Default period of {@link startCaseExpiry}. */
export const DEFAULT_EXPIRY_INTERVAL_MS = 60_000;

/**
 * Runs `service.expireDue()` every `intervalMs` (unref'd timer) for the centre; returns the stop
 * function. A failed run is logged and retried at the next tick.
 */
export function startCaseExpiry(
  service: Pick<CaseService, 'expireDue'>,
  options: { intervalMs?: number; logger?: Logger } = {},
): () => void {
  const logger = options.logger ?? silentLogger;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    service
      .expireDue()
      .catch((err: unknown) => logger.error({ err: (err as Error).message }, 'cases: expiry run failed'))
      .finally(() => {
        running = false;
      });
  }, options.intervalMs ?? DEFAULT_EXPIRY_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
