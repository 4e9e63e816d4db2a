/**
 * Dual-authorised re-identification from the centre (issue 8, R-OVS-2; DESIGN section 6). The
 * pseudonymisation keys never leave the provider edge, so the centre asks it, under dual control:
 *
 * 1. `request(input, actor)`: a user names an approved, unexpired approval case, a purpose, a
 *    provider and records from the store with their pseudonyms. Each record must be stored, belong
 *    to that provider and key epoch, and each pseudonym must be one of that record's own
 *    pseudonymised endpoints (so a request cannot smuggle someone else's pseudonym in under a
 *    legitimate record id). The service builds the signed `reidentification-request` payload,
 *    signs it with the requester's personal key and stores a `reidentification` case record in
 *    state `awaiting-second`. Nothing is sent.
 * 2. `authorise(id, actor)`: a second, distinct person (`ERR_REID_SAME_PERSON` otherwise) adds their
 *    signature; the state becomes `sent` and the envelope goes to the provider on the control
 *    direction (`reident-request`). A request with one signature is never sent.
 * 3. The edge answers on `acd.ctl.<provider>.answer`: the results are **sealed** (seal.ts) at once
 *    and only the ciphertext, the wrapped keys and the sealed reference are stored (`answered`), or
 *    the edge's refusal code is kept (`refused`). The audit entry `reidentification.answered`
 *    names requester, second authoriser, purpose, case, record ids and the sealed reference.
 * 4. `reveal(id, actor)`: the requester or the second authoriser, each once and within the reveal
 *    window, gets the clear results; their wrapped key is destroyed afterwards. Audited as
 *    `reidentification.reveal` with the sealed reference only.
 * 5. `expireDue()` (also on a timer while started): unanswered requests past `expiresAt` become
 *    `expired`; answers whose reveal window closed lose every wrapped key.
 *
 * No log line or audit entry carries an address, clear or pseudonymised; log lines name the
 * request id, counts and outcomes.
 */
import { randomUUID } from 'node:crypto';
import { isoTime, type Clock } from '../../common/clock.ts';
import type { Lifecycle } from '../../common/lifecycle.ts';
import type { Logger } from '../../common/logging.ts';
import { MetricsRegistry, type Counter } from '../../common/metrics.ts';
import type { ReidentificationRequestPayload } from '../../common/schema/approval.ts';
import type { ApprovalCaseBody, ReidentificationState } from '../../common/schema/case.ts';
import type { SelectedRecord } from '../../common/schema/selected.ts';
import {
  addSignature,
  demoSigningKey,
  isDemoKey,
  signDocument,
  type SignedDocument,
  type SigningKey,
} from '../../common/signing/index.ts';
import { MAX_LIMIT, type CaseRecord, type Page, type Store } from '../../store/types.ts';
import type { Bus, ControlMessage, DeliveredControl, Subscription } from '../../transport/bus.ts';
import type { AuditInput } from '../audit/log.ts';
import { canonicalAddress, parseAnswer, type AnswerBody } from './answer.ts';
import { resolveReidentifyConfig, type ReidentifyConfig, type ReidentifyConfigInput } from './config.ts';
import { ReidentifyError } from './errors.ts';
import { loadOrCreateSealKey, seal, unseal, type SealedAnswer, type SealKey } from './seal.ts';

/** `CaseRecord.kind` of a re-identification request. */
export const REID_KIND = 'reidentification';
/** Value of the `format` field of a re-identification case body. */
export const REID_BODY_FORMAT = 'acd.reidentification/1';
/** Media type of the request envelopes this service publishes. */
export const REID_REQUEST_CONTENT_TYPE = 'application/acd-reident-request+json';
/** Longest record id a request may name (an audit object id is at most 256 characters). */
export const MAX_REID_RECORD_ID = 256;
/** Pages of 1000 requests looked at per expiry run and state (bounds one run). */
const MAX_EXPIRY_PAGES = 20;

/**
 * Demonstration only (DESIGN section 5): in demo mode two demo users sign with the public
 * demonstration authoriser keys that the demo edges trust; the payload then carries `demo: true`
 * and an edge outside demo/eval mode refuses it. Never used outside demo mode.
 */
export const DEMO_REID_SIGNERS: Readonly<Record<string, 'reid-authoriser-a' | 'reid-authoriser-b'>> = {
  'demo-analyst': 'reid-authoriser-a',
  'demo-supervisor': 'reid-authoriser-b',
};

/** Who acts (the API's `Actor` fits). */
export interface ReidActor {
  user: string;
  role: string;
  /** The purpose declared for the call (`X-ACD-Purpose`). */
  purpose: string;
}

/** One record named by a request: its id, key epoch and the pseudonymised endpoint(s) to reveal. */
export interface NamedRecord {
  recordId: string;
  keyEpoch: number;
  addresses: string[];
}

/** Input of {@link ReidentificationService.request}. */
export interface ReidentificationInput {
  /** The approved approval case the request relies on. */
  caseId: string;
  /** Purpose code of the re-identification (signed; e.g. `incident-response`). */
  purpose: string;
  providerId: string;
  records: NamedRecord[];
}

/** One step of a request's life. */
export interface ReidHistoryEntry {
  at: number;
  from: ReidentificationState | null;
  to: ReidentificationState;
  actor: string;
  reason: string;
}

/** Body of a `reidentification` case record (what the store holds; no address in clear). */
export interface ReidentificationBody {
  format: typeof REID_BODY_FORMAT;
  id: string;
  caseId: string;
  purpose: string;
  providerId: string;
  requester: string;
  requesterRole: string;
  /** The purpose the requester declared on the API call. */
  requesterPurpose: string;
  secondAuthoriser?: string;
  secondAuthoriserRole?: string;
  records: NamedRecord[];
  createdAt: number;
  expiresAt: number;
  /** The signed request: one signature while awaiting the second, two once sent. */
  request: SignedDocument<ReidentificationRequestPayload>;
  /** Signed with the demonstration keys (demo mode only). */
  demo: boolean;
  /** The control envelope's id, once sent. */
  messageId?: string;
  sentAt?: number;
  answeredAt?: number;
  /** Until when the parties may reveal the answer. */
  revealUntil?: number;
  /** The edge's refusal code, when refused. */
  refusal?: string;
  sealed?: SealedAnswer;
  reveals: { user: string; at: number }[];
  history: ReidHistoryEntry[];
}

/** What the API shows of a request (never the sealed blob). */
export interface ReidentificationView {
  id: string;
  state: ReidentificationState;
  caseId: string;
  purpose: string;
  providerId: string;
  requester: string;
  secondAuthoriser: string | null;
  records: NamedRecord[];
  createdAt: number;
  expiresAt: number;
  sentAt: number | null;
  answeredAt: number | null;
  revealUntil: number | null;
  refusal: string | null;
  sealedReference: string | null;
  reveals: { user: string; at: number }[];
  demo: boolean;
  history: ReidHistoryEntry[];
}

/** One revealed address, as `reveal` returns it. */
export interface RevealedAddress {
  recordId: string;
  keyEpoch: number;
  pseudonym: string;
  address: string;
}

/** Dependencies of {@link createReidentificationService}. */
export interface ReidentificationDeps {
  store: Store;
  clock: Clock;
  bus: Pick<Bus, 'publishControl' | 'subscribeControlAnswers'>;
  /**
   * The personal re-identification key of a user (e.g. `KeyStore.personalSigningKey`), undefined
   * when the user holds none.
   */
  signerFor: (user: string) => SigningKey | undefined | Promise<SigningKey | undefined>;
  /** Appends one audit entry (e.g. `AuditLog.append` or `AuditHooks.onAction`). */
  audit?: (input: AuditInput) => Promise<unknown>;
  logger: Logger;
  /** Where the seal secret lives (`DATA/reidentification/seal.key`; created 0600 on first start). */
  sealKeyFile: string;
  /** Demo mode: the users of `DEMO_REID_SIGNERS` sign with the demonstration keys. */
  demo?: boolean;
  metrics?: MetricsRegistry;
}

/** The service. */
export interface ReidentificationService extends Lifecycle {
  request(input: ReidentificationInput, actor: ReidActor): Promise<ReidentificationView>;
  authorise(id: string, actor: ReidActor): Promise<ReidentificationView>;
  reveal(id: string, actor: ReidActor): Promise<{ view: ReidentificationView; results: RevealedAddress[] }>;
  /** A request the actor may see (a party, or any request awaiting a second authorisation). */
  get(id: string, actor: ReidActor): Promise<ReidentificationView>;
  /** The actor's own requests, those they authorised and those awaiting a second authorisation. */
  list(actor: ReidActor, q: { limit: number; cursor?: string }): Promise<Page<ReidentificationView>>;
  /** Expires unanswered requests past `expiresAt` and shreds closed reveal windows; returns counts. */
  expireDue(): Promise<{ expired: number; shredded: number }>;
  /** Handles one answer envelope (what the bus subscription calls; exposed for tests). */
  handleAnswer(m: DeliveredControl): Promise<void>;
}

function bodyOf(c: CaseRecord): ReidentificationBody {
  const b = c.body as Partial<ReidentificationBody>;
  if (c.kind !== REID_KIND || b.format !== REID_BODY_FORMAT)
    throw new ReidentifyError('ERR_REID_NOT_FOUND', `${c.id} is not a re-identification request`);
  return c.body as unknown as ReidentificationBody;
}

function viewOf(c: CaseRecord): ReidentificationView {
  const b = bodyOf(c);
  return {
    id: b.id,
    state: c.state as ReidentificationState,
    caseId: b.caseId,
    purpose: b.purpose,
    providerId: b.providerId,
    requester: b.requester,
    secondAuthoriser: b.secondAuthoriser ?? null,
    records: b.records,
    createdAt: b.createdAt,
    expiresAt: b.expiresAt,
    sentAt: b.sentAt ?? null,
    answeredAt: b.answeredAt ?? null,
    revealUntil: b.revealUntil ?? null,
    refusal: b.refusal ?? null,
    sealedReference: b.sealed?.reference ?? null,
    reveals: b.reveals,
    demo: b.demo,
    history: b.history,
  };
}

/** The pseudonymised endpoints of a stored record (canonical text), as the edge indexed them. */
export function pseudonymisedEndpoints(r: SelectedRecord): string[] {
  const out: string[] = [];
  const f = r.fields;
  const add = (v: unknown): void => {
    const c = typeof v === 'string' ? canonicalAddress(v) : undefined;
    if (c !== undefined) out.push(c);
  };
  if (r.source.pseudonymised) add(f.sourceIPv4Address ?? f.sourceIPv6Address);
  if (r.destination.pseudonymised) add(f.destinationIPv4Address ?? f.destinationIPv6Address);
  return out;
}

const PURPOSE_RE = /^[a-z][a-z0-9-]{0,63}$/;
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Creates the service (no I/O until `start()`). Throws `ConfigError` for a bad configuration. */
export function createReidentificationService(
  deps: ReidentificationDeps,
  config: ReidentifyConfigInput = {},
): ReidentificationService {
  const cfg: ReidentifyConfig = resolveReidentifyConfig(config);
  const { store, clock, bus, logger } = deps;
  const demo = deps.demo ?? false;
  const metrics = deps.metrics ?? new MetricsRegistry();
  const outcomes = metrics.counter('reid_requests', 'Re-identification requests by outcome.');
  const count = (outcome: string): void => outcomes.labels({ outcome }).inc();
  const answersIgnored: Counter = metrics.counter(
    'reid_answers_ignored',
    'Answers on the control direction that were malformed, unknown or not for a sent request.',
  );
  let sealKey: SealKey | undefined;
  let sub: Subscription | undefined;
  let timer: NodeJS.Timeout | undefined;
  let state: 'new' | 'running' | 'stopped' = 'new';
  const locks = new Map<string, Promise<unknown>>();

  /** Runs `f` after every earlier action on request `id` (one request, one writer). */
  function withLock<T>(id: string, f: () => Promise<T>): Promise<T> {
    const prev = locks.get(id) ?? Promise.resolve();
    const run = prev.then(f, f);
    const tail = run.catch(() => undefined);
    locks.set(id, tail);
    void tail.then(() => {
      if (locks.get(id) === tail) locks.delete(id);
    });
    return run;
  }

  async function audit(input: AuditInput): Promise<void> {
    if (deps.audit) await deps.audit(input);
  }

  async function keyOf(user: string): Promise<SigningKey | undefined> {
    const role = demo ? DEMO_REID_SIGNERS[user] : undefined;
    if (role) return demoSigningKey(role);
    const k = await deps.signerFor(user);
    // Outside demo mode a demonstration key signs nothing (an edge in production refuses it anyway).
    if (k && isDemoKey(k.keyId) && !demo) return undefined;
    return k;
  }

  async function load(id: string): Promise<CaseRecord> {
    const c = await store.getCase(id);
    if (!c || c.kind !== REID_KIND) throw new ReidentifyError('ERR_REID_NOT_FOUND', `no request ${id}`);
    return c;
  }

  function visible(c: CaseRecord, actor: ReidActor): boolean {
    const b = bodyOf(c);
    return b.requester === actor.user || b.secondAuthoriser === actor.user || c.state === 'awaiting-second';
  }

  async function put(
    c: CaseRecord,
    body: ReidentificationBody,
    to: ReidentificationState,
    actor: string,
    reason: string,
  ): Promise<CaseRecord> {
    const now = clock.now();
    const from = c.state as ReidentificationState;
    const next: CaseRecord = {
      ...c,
      state: to,
      updatedAt: now,
      body: {
        ...body,
        history: from === to ? body.history : [...body.history, { at: now, from, to, actor, reason }],
      },
    };
    await store.putCase(next);
    return next;
  }

  async function checkCase(caseId: string, providerId: string, now: number): Promise<ApprovalCaseBody> {
    const c = await store.getCase(caseId);
    if (!c || c.kind !== 'approval-case')
      throw new ReidentifyError('ERR_REID_CASE_NOT_FOUND', `no approval case ${caseId}`);
    const b = c.body as unknown as ApprovalCaseBody;
    if (c.state !== 'approved')
      throw new ReidentifyError('ERR_REID_CASE_NOT_APPROVED', `case ${caseId} is ${c.state}, not approved`);
    if (!(typeof b.validUntil === 'number' && now < b.validUntil && now >= b.validFrom))
      throw new ReidentifyError('ERR_REID_CASE_NOT_APPROVED', `case ${caseId} is not valid now`);
    // A retention extension keeps data; it authorises no measure against anyone.
    if (b.kind === 'retention-extension')
      throw new ReidentifyError('ERR_REID_CASE_NOT_APPROVED', `case ${caseId} is a retention extension`);
    if (!Array.isArray(b.providers) || !(b.providers.includes('*') || b.providers.includes(providerId)))
      throw new ReidentifyError(
        'ERR_REID_CASE_NOT_APPROVED',
        `case ${caseId} does not cover provider ${providerId}`,
      );
    return b;
  }

  async function checkRecords(input: ReidentificationInput): Promise<NamedRecord[]> {
    const { records } = input;
    if (!Array.isArray(records) || records.length === 0 || records.length > cfg.maxRecords)
      throw new ReidentifyError('ERR_REID_REQUEST_INVALID', `name 1 to ${cfg.maxRecords} records`);
    const ids = new Set<string>();
    for (const r of records) {
      if (typeof r.recordId !== 'string' || r.recordId.length === 0 || r.recordId.length > MAX_REID_RECORD_ID)
        throw new ReidentifyError(
          'ERR_REID_REQUEST_INVALID',
          `record ids are 1 to ${MAX_REID_RECORD_ID} characters`,
        );
      if (ids.has(r.recordId))
        throw new ReidentifyError('ERR_REID_REQUEST_INVALID', 'a record is named twice');
      ids.add(r.recordId);
    }
    const stored = new Map((await store.getRecords([...ids])).map((r) => [r.recordId, r]));
    return records.map((r, i): NamedRecord => {
      const rec = stored.get(r.recordId);
      if (!rec) throw new ReidentifyError('ERR_REID_RECORD_NOT_FOUND', `records/${i} is not stored`);
      if (rec.provenance.providerId !== input.providerId)
        throw new ReidentifyError(
          'ERR_REID_RECORD_MISMATCH',
          `records/${i} was selected by another provider`,
        );
      if (rec.provenance.keyEpoch !== r.keyEpoch)
        throw new ReidentifyError(
          'ERR_REID_RECORD_MISMATCH',
          `records/${i} was pseudonymised under another key epoch`,
        );
      const own = pseudonymisedEndpoints(rec);
      if (!Array.isArray(r.addresses) || r.addresses.length === 0 || r.addresses.length > 2)
        throw new ReidentifyError('ERR_REID_REQUEST_INVALID', `records/${i} names 1 or 2 addresses`);
      const addresses: string[] = [];
      for (const [j, a] of r.addresses.entries()) {
        const c = typeof a === 'string' ? canonicalAddress(a) : undefined;
        if (c === undefined || !own.includes(c))
          throw new ReidentifyError(
            'ERR_REID_RECORD_MISMATCH',
            `records/${i}/addresses/${j} is not a pseudonymised endpoint of that record`,
          );
        if (addresses.includes(c))
          throw new ReidentifyError('ERR_REID_REQUEST_INVALID', `records/${i} names an address twice`);
        addresses.push(c);
      }
      return { recordId: r.recordId, keyEpoch: r.keyEpoch, addresses };
    });
  }

  async function expireOne(id: string, now: number): Promise<'expired' | 'shredded' | undefined> {
    return withLock(id, async () => {
      const c = await store.getCase(id);
      if (!c || c.kind !== REID_KIND) return undefined;
      const b = bodyOf(c);
      if ((c.state === 'awaiting-second' || c.state === 'sent') && b.expiresAt <= now) {
        await put(c, b, 'expired', 'system', 'no answer before expiresAt');
        count('expired');
        await audit({
          actor: 'centre',
          role: 'system',
          purpose: b.requesterPurpose,
          action: 'reidentification.expired',
          objectIds: [b.id, b.caseId],
          detail: { from: c.state, providerId: b.providerId },
        });
        logger.info({ requestId: b.id, from: c.state }, 'reid: request expired');
        return 'expired';
      }
      if (c.state === 'answered' && b.sealed && b.sealed.wrapped.length > 0 && (b.revealUntil ?? 0) <= now) {
        await put(
          c,
          { ...b, sealed: { ...b.sealed, wrapped: [] } },
          'answered',
          'system',
          'reveal window closed',
        );
        await audit({
          actor: 'centre',
          role: 'system',
          purpose: b.requesterPurpose,
          action: 'reidentification.reveal-window-closed',
          objectIds: [b.id, b.caseId],
          detail: { sealedReference: b.sealed.reference },
        });
        return 'shredded';
      }
      return undefined;
    });
  }

  async function handleAnswer(m: DeliveredControl): Promise<void> {
    if (m.kind !== 'reident-answer') return;
    const parsed = parseAnswer(m.payload);
    if (!parsed.ok) {
      answersIgnored.inc();
      logger.warn(
        { messageId: m.messageId, provider: m.target, reason: parsed.reason },
        'reid: answer ignored',
      );
      return;
    }
    const a: AnswerBody = parsed.answer;
    const requestId =
      a.requestId ??
      (m.correlationId?.startsWith('centre.reid.')
        ? m.correlationId.slice('centre.reid.'.length)
        : undefined);
    if (requestId === undefined || !ID_RE.test(requestId)) {
      answersIgnored.inc();
      logger.warn({ messageId: m.messageId, provider: m.target }, 'reid: answer names no request');
      return;
    }
    await withLock(requestId, async () => {
      const c = await store.getCase(requestId);
      if (!c || c.kind !== REID_KIND) {
        answersIgnored.inc();
        logger.warn({ requestId, provider: m.target }, 'reid: answer to an unknown request ignored');
        return;
      }
      const b = bodyOf(c);
      // Answers travel on the provider's own subject: an answer from another edge is not this one's.
      if (m.target !== b.providerId || m.correlationId !== b.messageId) {
        answersIgnored.inc();
        logger.warn(
          { requestId, provider: m.target },
          'reid: answer from another provider or envelope ignored',
        );
        return;
      }
      if (c.state !== 'sent') {
        // Redelivery of an answer already handled, or an answer after expiry: nothing to keep.
        if (c.state === 'expired' && a.outcome === 'answered') {
          await audit({
            actor: 'centre',
            role: 'system',
            purpose: b.requesterPurpose,
            action: 'reidentification.late-answer-discarded',
            objectIds: [b.id, b.caseId],
            detail: { providerId: b.providerId },
          });
          logger.warn({ requestId }, 'reid: answer after expiry discarded');
        }
        return;
      }
      const now = clock.now();
      /** The centre records the edge's answer: who, why, which records — never an address. */
      const auditAnswer = (action: string, extra: Record<string, unknown>): Promise<unknown> =>
        audit({
          actor: 'centre',
          role: 'system',
          purpose: b.requesterPurpose,
          action,
          objectIds: [b.id, b.caseId, ...b.records.map((r) => r.recordId)],
          detail: {
            requester: b.requester,
            secondAuthoriser: b.secondAuthoriser ?? null,
            purpose: b.purpose,
            caseId: b.caseId,
            providerId: b.providerId,
            ...extra,
          },
        });
      if (a.outcome === 'refused') {
        await auditAnswer('reidentification.refused', { code: a.code });
        await put(
          c,
          { ...b, refusal: a.code, answeredAt: now },
          'refused',
          m.target,
          `refused by the edge: ${a.code}`,
        );
        count('refused');
        logger.warn({ requestId, code: a.code, outcome: 'refused' }, 'reid: request refused by the edge');
        return;
      }
      // Exactly the pairs asked for, no more and no fewer; anything else is not this request's answer.
      const asked = new Set(
        b.records.flatMap((r) => r.addresses.map((x) => `${r.recordId}\u0000${r.keyEpoch}\u0000${x}`)),
      );
      const got = new Set(a.results.map((r) => `${r.recordId}\u0000${r.keyEpoch}\u0000${r.pseudonym}`));
      if (
        a.caseId !== b.caseId ||
        got.size !== a.results.length ||
        got.size !== asked.size ||
        [...got].some((k) => !asked.has(k))
      ) {
        answersIgnored.inc();
        logger.warn(
          { requestId, results: a.results.length },
          'reid: answer does not match the request; ignored',
        );
        return;
      }
      if (!sealKey) throw new ReidentifyError('ERR_REID_SEAL', 'the service is not started');
      const parties = [b.requester, ...(b.secondAuthoriser !== undefined ? [b.secondAuthoriser] : [])];
      const sealed = seal(new TextEncoder().encode(JSON.stringify(a.results)), b.id, parties, sealKey);
      await auditAnswer('reidentification.answered', {
        records: b.records.length,
        sealedReference: sealed.reference,
      });
      await put(
        c,
        { ...b, sealed, answeredAt: now, revealUntil: now + cfg.revealWindowMs },
        'answered',
        m.target,
        'answered by the edge; sealed',
      );
      count('answered');
      logger.info(
        { requestId, records: b.records.length, sealedReference: sealed.reference, outcome: 'answered' },
        'reid: answer sealed',
      );
    });
  }

  const service: ReidentificationService = {
    async start() {
      if (state !== 'new') return;
      state = 'running';
      sealKey = await loadOrCreateSealKey(deps.sealKeyFile);
      sub = await bus.subscribeControlAnswers(cfg.consumerName, handleAnswer);
      timer = setInterval(() => {
        service
          .expireDue()
          .catch((err: unknown) => logger.error({ err: (err as Error).message }, 'reid: expiry run failed'));
      }, cfg.expiryIntervalMs);
      timer.unref();
    },

    async stop() {
      if (state !== 'running') return;
      state = 'stopped';
      if (timer) clearInterval(timer);
      await sub?.stop();
      await Promise.all([...locks.values()]);
      sealKey?.secret.fill(0);
      sealKey = undefined;
    },

    async request(input, actor) {
      if (typeof input.purpose !== 'string' || !PURPOSE_RE.test(input.purpose))
        throw new ReidentifyError('ERR_REID_REQUEST_INVALID', 'purpose is a code like incident-response');
      if (typeof input.caseId !== 'string' || !ID_RE.test(input.caseId))
        throw new ReidentifyError('ERR_REID_REQUEST_INVALID', 'caseId is not a case id');
      if (typeof input.providerId !== 'string' || !ID_RE.test(input.providerId))
        throw new ReidentifyError('ERR_REID_REQUEST_INVALID', 'providerId is not a provider id');
      const now = clock.now();
      const approval = await checkCase(input.caseId, input.providerId, now);
      const records = await checkRecords(input);
      const key = await keyOf(actor.user);
      if (!key)
        throw new ReidentifyError('ERR_REID_NO_SIGNING_KEY', `${actor.user} holds no re-identification key`);
      const id = `reid-${randomUUID()}`;
      const expiresAt = Math.min(now + cfg.requestValidityMs, approval.validUntil);
      const isDemo = isDemoKey(key.keyId);
      const payload: ReidentificationRequestPayload = {
        type: 'reidentification-request',
        id,
        providerId: input.providerId,
        purpose: input.purpose,
        caseId: input.caseId,
        issuedAt: isoTime(now),
        expiresAt: isoTime(expiresAt),
        records,
        ...(isDemo ? { demo: true } : {}),
      };
      const body: ReidentificationBody = {
        format: REID_BODY_FORMAT,
        id,
        caseId: input.caseId,
        purpose: input.purpose,
        providerId: input.providerId,
        requester: actor.user,
        requesterRole: actor.role,
        requesterPurpose: actor.purpose,
        records,
        createdAt: now,
        expiresAt,
        request: signDocument(payload, [key]),
        demo: isDemo,
        reveals: [],
        history: [
          { at: now, from: null, to: 'awaiting-second', actor: actor.user, reason: 'requested and signed' },
        ],
      };
      const rec: CaseRecord = {
        id,
        kind: REID_KIND,
        state: 'awaiting-second',
        createdAt: now,
        updatedAt: now,
        body: body as unknown as Record<string, unknown>,
      };
      await audit({
        actor: actor.user,
        role: actor.role,
        purpose: actor.purpose,
        action: 'reidentification.request',
        objectIds: [id, input.caseId, ...records.map((r) => r.recordId)],
        detail: {
          purpose: input.purpose,
          caseId: input.caseId,
          providerId: input.providerId,
          records: records.length,
        },
      });
      await store.putCase(rec);
      count('requested');
      logger.info(
        { requestId: id, caseId: input.caseId, records: records.length },
        'reid: request awaiting a second authorisation',
      );
      return viewOf(rec);
    },

    authorise(id, actor) {
      return withLock(id, async () => {
        const c = await load(id);
        const b = bodyOf(c);
        if (!visible(c, actor)) throw new ReidentifyError('ERR_REID_NOT_FOUND', `no request ${id}`);
        if (c.state !== 'awaiting-second')
          throw new ReidentifyError(
            'ERR_REID_TRANSITION',
            `request ${id} is ${c.state}, not awaiting a second authorisation`,
          );
        const now = clock.now();
        if (b.expiresAt <= now) throw new ReidentifyError('ERR_REID_TRANSITION', `request ${id} has expired`);
        if (actor.user === b.requester)
          throw new ReidentifyError(
            'ERR_REID_SAME_PERSON',
            'the second authorisation must come from another person',
          );
        const key = await keyOf(actor.user);
        if (!key)
          throw new ReidentifyError(
            'ERR_REID_NO_SIGNING_KEY',
            `${actor.user} holds no re-identification key`,
          );
        if (b.request.signatures.some((s) => s.keyId === key.keyId))
          throw new ReidentifyError(
            'ERR_REID_SAME_PERSON',
            'the second signature would come from the same key',
          );
        if (isDemoKey(key.keyId) !== b.demo)
          throw new ReidentifyError(
            'ERR_REID_NO_SIGNING_KEY',
            'demonstration and real keys do not sign one request',
          );
        // The case may have been revoked or have expired since the request.
        await checkCase(b.caseId, b.providerId, now);
        const doc: SignedDocument<ReidentificationRequestPayload> = {
          payload: b.request.payload,
          signatures: [...b.request.signatures],
        };
        addSignature(doc, key);
        const messageId = `centre.reid.${id}`;
        const sent: ReidentificationBody = {
          ...b,
          request: doc,
          secondAuthoriser: actor.user,
          secondAuthoriserRole: actor.role,
          messageId,
          sentAt: now,
        };
        await audit({
          actor: actor.user,
          role: actor.role,
          purpose: actor.purpose,
          action: 'reidentification.authorise',
          objectIds: [id, b.caseId, ...b.records.map((r) => r.recordId)],
          detail: { requester: b.requester, purpose: b.purpose, caseId: b.caseId, providerId: b.providerId },
        });
        // Stored as sent before publishing, so that the answer (which may arrive at once) finds it.
        const next = await put(c, sent, 'sent', actor.user, 'second authorisation; sent to the provider');
        const envelope: ControlMessage = {
          messageId,
          kind: 'reident-request',
          from: 'centre',
          issuedAt: now,
          contentType: REID_REQUEST_CONTENT_TYPE,
          payload: new TextEncoder().encode(JSON.stringify(doc)),
        };
        try {
          await bus.publishControl(b.providerId, envelope);
        } catch (err) {
          // Not sent: back to awaiting-second without the second signature.
          await store.putCase({ ...c, updatedAt: clock.now() });
          throw new ReidentifyError(
            'ERR_REID_UNAVAILABLE',
            'the bus did not take the request; nothing was sent',
            {
              cause: err,
            },
          );
        }
        count('sent');
        logger.info(
          { requestId: id, provider: b.providerId, records: b.records.length },
          'reid: request sent',
        );
        return viewOf(next);
      });
    },

    reveal(id, actor) {
      return withLock(id, async () => {
        const c = await load(id);
        const b = bodyOf(c);
        // Someone who may not see the request learns nothing, not even that it exists.
        if (!visible(c, actor)) throw new ReidentifyError('ERR_REID_NOT_FOUND', `no request ${id}`);
        if (b.requester !== actor.user && b.secondAuthoriser !== actor.user)
          throw new ReidentifyError(
            'ERR_REID_NOT_PARTY',
            'only the requester and the second authoriser may reveal',
          );
        if (c.state !== 'answered' || !b.sealed)
          throw new ReidentifyError('ERR_REID_TRANSITION', `request ${id} is ${c.state}, not answered`);
        if (b.reveals.some((r) => r.user === actor.user))
          throw new ReidentifyError('ERR_REID_ALREADY_REVEALED', 'you already revealed this answer');
        const now = clock.now();
        if ((b.revealUntil ?? 0) <= now || !b.sealed.wrapped.some((w) => w.user === actor.user))
          throw new ReidentifyError('ERR_REID_REVEAL_EXPIRED', 'the reveal window of this answer has closed');
        if (!sealKey) throw new ReidentifyError('ERR_REID_SEAL', 'the service is not started');
        const plain = unseal(b.sealed, b.id, actor.user, sealKey);
        const results = JSON.parse(plain.toString('utf8')) as RevealedAddress[];
        plain.fill(0);
        await audit({
          actor: actor.user,
          role: actor.role,
          purpose: actor.purpose,
          action: 'reidentification.reveal',
          objectIds: [id, b.caseId],
          detail: { sealedReference: b.sealed.reference, caseId: b.caseId, purpose: b.purpose },
        });
        // The person's wrapped key is destroyed: the store cannot open the answer for them again.
        const next = await put(
          c,
          {
            ...b,
            sealed: { ...b.sealed, wrapped: b.sealed.wrapped.filter((w) => w.user !== actor.user) },
            reveals: [...b.reveals, { user: actor.user, at: now }],
          },
          'answered',
          actor.user,
          'revealed',
        );
        count('revealed');
        logger.info({ requestId: id, records: results.length }, 'reid: answer revealed');
        return { view: viewOf(next), results };
      });
    },

    async get(id, actor) {
      const c = await load(id);
      if (!visible(c, actor)) throw new ReidentifyError('ERR_REID_NOT_FOUND', `no request ${id}`);
      return viewOf(c);
    },

    async list(actor, q) {
      const p = await store.listCases({
        kind: REID_KIND,
        limit: q.limit,
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
      });
      return { items: p.items.filter((c) => visible(c, actor)).map(viewOf), next: p.next };
    },

    async expireDue() {
      const now = clock.now();
      let expired = 0;
      let shredded = 0;
      for (const st of ['awaiting-second', 'sent', 'answered'] as const) {
        let cursor: string | undefined;
        for (let page = 0; page < MAX_EXPIRY_PAGES; page++) {
          const p = await store.listCases({
            kind: REID_KIND,
            state: st,
            limit: MAX_LIMIT,
            ...(cursor !== undefined ? { cursor } : {}),
          });
          for (const c of p.items) {
            const r = await expireOne(c.id, now);
            if (r === 'expired') expired++;
            else if (r === 'shredded') shredded++;
          }
          if (p.next === null) break;
          cursor = p.next;
        }
      }
      return { expired, shredded };
    },

    handleAnswer,
  };
  return service;
}
