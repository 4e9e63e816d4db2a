/**
 * Feeds and their legal basis (REQUIREMENTS R-FEED-1, R-FEED-2; DESIGN sections 5-6). A feed runs
 * only when every document it names (approvals, agreement) verifies with the trusted commission
 * keys, covers the feed (channel, provider, feed list, approval kind) and has not ended. Demo
 * documents are refused unless the edge runs in demo/eval mode. Expiry and signed revocations
 * end a basis: records whose event time lies at or after the end are dropped by the engine
 * (`approval-window`), and after `stopGraceMs` of wall time the basis stops entirely, and with it
 * every feed left without basis. Every activation, refusal, stop and revocation is reported as a
 * `FeedEvent` (numbers and ids only) for the audit log.
 */
import type { AcdError } from '../common/errors.ts';
import { parsePrefix, type ParsedPrefix } from '../common/prefixes/index.ts';
import {
  approvalCoversFeed,
  verifyAgreement,
  verifyApproval,
  verifyRevocation,
  type AgreementPayload,
  type ApprovalPayload,
  type VerifyDocumentOptions,
} from '../common/schema/approval.ts';
import type { LegalChannel } from '../common/schema/legal.ts';
import { parseIsoTimestamp, type TrustedKeySet } from '../common/signing/index.ts';
import { canonicalExporter, type FeedConfig, type SelectionConfig } from './config.ts';
import { FeedActivationError, RevocationRefusedError, type FeedActivationCode } from './errors.ts';
import {
  compileSelector,
  SelectorCompileError,
  type CompiledSelector,
  type IndicatorListSource,
} from './selectors.ts';
import { AddressSet } from './sets.ts';

/**
 * The part of the operators file (src/common/operators, `readOperatorsFile`)
 * that selection uses: operators, their ranges, waivers and agreement status.
 */
export interface OperatorRegistry {
  readonly operators: readonly {
    readonly id: string;
    readonly ranges: readonly { readonly prefix: string; readonly pseudonymisationWaived: boolean }[];
    readonly agreement: { readonly status: 'active' | 'none' | 'expired'; readonly id?: string | undefined };
  }[];
}

/** What the edge reports about feeds and documents (for the audit log; ids and codes only). */
export type FeedEvent =
  | {
      type: 'feed-activated';
      at: number;
      feedId: string;
      providerId: string;
      channel: LegalChannel;
      /** Ids of the approvals/agreement the feed runs on. */
      basis: string[];
      demo: boolean;
    }
  | {
      type: 'feed-refused';
      at: number;
      feedId: string;
      providerId: string;
      channel: LegalChannel;
      code: FeedActivationCode;
      documentId?: string;
      message: string;
    }
  | {
      type: 'feed-stopped';
      at: number;
      feedId: string;
      providerId: string;
      channel: LegalChannel;
      reason: 'expired' | 'revoked';
      documentId: string;
    }
  | {
      type: 'document-refused';
      at: number;
      index: number;
      documentId?: string;
      code: string;
      message: string;
    }
  | {
      type: 'revocation-applied';
      at: number;
      revocationId: string;
      revokes: string;
      effectiveAt: number;
      feedIds: string[];
    }
  | { type: 'revocation-refused'; at: number; code: string; message: string };

/** State of one feed. */
export type FeedState = 'inactive' | 'active' | 'refused' | 'stopped';

/** A feed's state, for status lines and the API. */
export interface FeedStatus {
  feedId: string;
  providerId: string;
  channel: LegalChannel;
  state: FeedState;
  /** Code of the refusal, when refused. */
  code?: FeedActivationCode;
  basis: string[];
}

/** One verified approval or agreement, as the engine uses it. */
export interface BasisDocument {
  readonly kind: 'approval' | 'agreement';
  readonly id: string;
  readonly demo: boolean;
  /** Event-time window [from, until); `until` moves earlier when the document is revoked. */
  readonly from: number;
  until: number;
  revokedAt: number | undefined;
  /** Wall time at which the document stops entirely (end + stop grace). */
  stopAt: number;
  stopped: boolean;
  readonly approval: ApprovalPayload | undefined;
  readonly agreement: AgreementPayload | undefined;
  /** Compiled selectors (approvals), or the compile failure. */
  selectors: CompiledSelector[] | undefined;
  selectorError: SelectorCompileError | undefined;
  /** Agreement ranges, the operators-file narrowing (null: none) and the waivers. */
  ranges: AddressSet;
  narrow: AddressSet | null;
  waived: AddressSet;
  /** Waivers from the operators file (checked inside `ranges`/`narrow`). */
  registryWaived: AddressSet;
}

/** Channel codes for the engine's switch. */
export const CH_TRANSIT = 0;
/** agreement-foreign-to-domestic */
export const CH_AGREEMENT = 1;
/** operator-telemetry */
export const CH_TELEMETRY = 2;
/** specified-foreign-to-domestic */
export const CH_SPEC_IN = 3;
/** specified-domestic-to-foreign */
export const CH_SPEC_OUT = 4;

const CHANNEL_CODE: Record<LegalChannel, number> = {
  'transit-foreign-to-foreign': CH_TRANSIT,
  'agreement-foreign-to-domestic': CH_AGREEMENT,
  'operator-telemetry': CH_TELEMETRY,
  'specified-foreign-to-domestic': CH_SPEC_IN,
  'specified-domestic-to-foreign': CH_SPEC_OUT,
};

/** A feed at run time. */
export interface FeedRuntime {
  readonly index: number;
  readonly config: FeedConfig;
  readonly channelCode: number;
  state: FeedState;
  code: FeedActivationCode | undefined;
  approvals: BasisDocument[];
  agreement: BasisDocument | undefined;
  readonly takesFlows: boolean;
  readonly takesDns: boolean;
  /** Selector ids stamped when an agreement feed has no approvals (the agreement is the selector). */
  readonly implicitSelectorIds: string[];
  readonly exporters: ReadonlySet<string> | 'all';
}

function toPrefixes(list: readonly string[]): ParsedPrefix[] {
  const out: ParsedPrefix[] = [];
  for (const p of list) {
    try {
      out.push(parsePrefix(p));
    } catch {
      // Verified agreements contain parseable prefixes only; the operators file is validated on read.
    }
  }
  return out;
}

/** Options of {@link FeedRegistry}. */
export interface FeedRegistryOptions {
  config: SelectionConfig;
  trustedKeys: TrustedKeySet;
  documents: readonly unknown[];
  indicatorLists: IndicatorListSource;
  operators: OperatorRegistry | undefined;
  onEvent: (e: FeedEvent) => void;
}

/** Result of {@link FeedRegistry.applyRevocation}. */
export type RevocationResult =
  { ok: true; revokes: string; effectiveAt: number; feedIds: string[] } | { ok: false; error: AcdError };

function docId(doc: unknown): string | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const p = (doc as { payload?: unknown }).payload;
  if (typeof p !== 'object' || p === null) return undefined;
  const id = (p as { id?: unknown }).id;
  return typeof id === 'string' && id.length <= 128 ? id : undefined;
}

function docType(doc: unknown): string | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const p = (doc as { payload?: unknown }).payload;
  if (typeof p !== 'object' || p === null) return undefined;
  const t = (p as { type?: unknown }).type;
  return typeof t === 'string' ? t : undefined;
}

/** The feeds of one edge and the documents behind them. */
export class FeedRegistry {
  readonly feeds: FeedRuntime[];
  readonly #o: FeedRegistryOptions;
  readonly #docs = new Map<string, BasisDocument>();
  /** Agreements that may waive pseudonymisation (demo agreements only outside production). */
  readonly #agreements: BasisDocument[] = [];
  /** Document id -> why it was refused (verification failure). */
  readonly #refusedDocs = new Map<string, AcdError>();
  /** Revocations that arrived before (or without) the document they revoke: id -> effective time. */
  readonly #pendingRevocations = new Map<string, number>();
  readonly #verifyOptions: VerifyDocumentOptions;
  #activated = false;

  constructor(options: FeedRegistryOptions) {
    this.#o = options;
    const demoOk = options.config.mode !== 'production';
    this.#verifyOptions = { allowDemo: demoOk, maxClockSkewMs: options.config.maxClockSkewMs };
    this.feeds = options.config.feeds.map((f, index) => ({
      index,
      config: f,
      channelCode: CHANNEL_CODE[f.channel],
      state: 'inactive',
      code: undefined,
      approvals: [],
      agreement: undefined,
      takesFlows: f.recordTypes === undefined || f.recordTypes.includes('flow'),
      takesDns: f.recordTypes === undefined || f.recordTypes.includes('dns'),
      implicitSelectorIds:
        f.agreementId !== undefined && f.approvalIds === undefined ? [`agreement:${f.agreementId}`] : [],
      exporters: f.exporters === 'all' ? 'all' : new Set(f.exporters.map(canonicalExporter)),
    }));
  }

  #emit(e: FeedEvent): void {
    try {
      this.#o.onEvent(e);
    } catch {
      // A failing audit sink must not take selection down; the sink reports its own errors.
    }
  }

  /** Verifies the documents and activates every feed whose basis holds. Returns the statuses. */
  activate(now: number): FeedStatus[] {
    if (this.#activated) return this.status();
    this.#activated = true;
    const revocations: unknown[] = [];
    this.#o.documents.forEach((doc, index) => {
      const type = docType(doc);
      if (type === 'revocation') {
        revocations.push(doc);
        return;
      }
      const id = docId(doc);
      if (id !== undefined && (this.#docs.has(id) || this.#refusedDocs.has(id))) {
        this.#emit({
          type: 'document-refused',
          at: now,
          index,
          documentId: id,
          code: 'ERR_DOCUMENT_DUPLICATE',
          message: 'a document with this id was given before',
        });
        return;
      }
      const r = type === 'agreement' ? this.#addAgreement(doc, now) : this.#addApproval(doc, now);
      if (r !== undefined) {
        if (id !== undefined) this.#refusedDocs.set(id, r);
        this.#emit({
          type: 'document-refused',
          at: now,
          index,
          ...(id !== undefined ? { documentId: id } : {}),
          code: r.code,
          message: r.message,
        });
      }
    });
    for (const r of revocations) this.applyRevocation(r, now);
    for (const f of this.feeds) this.#activateFeed(f, now);
    return this.status();
  }

  #window(p: { validFrom: string; validUntil: string }): { from: number; until: number } {
    return { from: parseIsoTimestamp(p.validFrom) ?? 0, until: parseIsoTimestamp(p.validUntil) ?? 0 };
  }

  #newDoc(
    kind: 'approval' | 'agreement',
    id: string,
    demo: boolean,
    w: { from: number; until: number },
    approval: ApprovalPayload | undefined,
    agreement: AgreementPayload | undefined,
  ): BasisDocument {
    const doc: BasisDocument = {
      kind,
      id,
      demo,
      from: w.from,
      until: w.until,
      revokedAt: undefined,
      stopAt: w.until + this.#o.config.stopGraceMs,
      stopped: false,
      approval,
      agreement,
      selectors: undefined,
      selectorError: undefined,
      ranges: AddressSet.EMPTY,
      narrow: null,
      waived: AddressSet.EMPTY,
      registryWaived: AddressSet.EMPTY,
    };
    const pending = this.#pendingRevocations.get(id);
    if (pending !== undefined) this.#revoke(doc, pending);
    return doc;
  }

  #addApproval(doc: unknown, now: number): AcdError | undefined {
    const v = verifyApproval(doc, this.#o.trustedKeys, now, this.#verifyOptions);
    if (!v.ok) return v.error;
    const p = v.payload;
    const demo = v.demo || p.demo === true;
    const d = this.#newDoc('approval', p.id, demo, this.#window(p), p, undefined);
    try {
      d.selectors = p.selectors.map((s) => compileSelector(s, this.#o.indicatorLists));
    } catch (err) {
      if (!(err instanceof SelectorCompileError)) throw err;
      d.selectorError = err;
    }
    this.#docs.set(p.id, d);
    return undefined;
  }

  #addAgreement(doc: unknown, now: number): AcdError | undefined {
    const v = verifyAgreement(doc, this.#o.trustedKeys, now, this.#verifyOptions);
    if (!v.ok) return v.error;
    const p = v.payload;
    const demo = v.demo || p.demo === true;
    const d = this.#newDoc('agreement', p.id, demo, this.#window(p), undefined, p);
    d.ranges = new AddressSet(toPrefixes(p.ranges));
    d.waived = new AddressSet(toPrefixes(p.pseudonymisationWaived));
    const reg = this.#o.operators;
    if (reg) {
      // The registry narrows an agreement to the operators it names (all active operators for a
      // demonstration agreement, which covers all space) and adds their per-range waivers.
      const ops = reg.operators.filter(
        (o) => o.agreement.status === 'active' && (demo || o.id === p.operatorId || o.agreement.id === p.id),
      );
      if (ops.length > 0 || demo) {
        d.narrow = new AddressSet(toPrefixes(ops.flatMap((o) => o.ranges.map((r) => r.prefix))));
        d.registryWaived = new AddressSet(
          toPrefixes(
            ops.flatMap((o) => o.ranges.filter((r) => r.pseudonymisationWaived).map((r) => r.prefix)),
          ),
        );
      }
    }
    this.#docs.set(p.id, d);
    if (!demo || this.#o.config.mode !== 'production') this.#agreements.push(d);
    return undefined;
  }

  #refuse(f: FeedRuntime, err: FeedActivationError, now: number): void {
    f.state = 'refused';
    f.code = err.code;
    this.#emit({
      type: 'feed-refused',
      at: now,
      feedId: f.config.id,
      providerId: f.config.providerId,
      channel: f.config.channel,
      code: err.code,
      ...(err.documentId !== undefined ? { documentId: err.documentId } : {}),
      message: err.message,
    });
  }

  /** The basis document `id` for feed `f`, or the reason it cannot serve. */
  #basis(f: FeedRuntime, id: string, now: number): BasisDocument | FeedActivationError {
    const fid = f.config.id;
    const refused = this.#refusedDocs.get(id);
    if (refused) {
      const demoRefused = refused.code === 'ERR_DEMO_KEY_REFUSED';
      return new FeedActivationError(
        demoRefused ? 'ERR_FEED_DEMO_REFUSED' : 'ERR_FEED_BASIS_INVALID',
        fid,
        demoRefused
          ? `document ${id} is a demonstration document; run in demo or eval mode to use it`
          : `document ${id} does not verify (${refused.code})`,
        id,
        { cause: refused },
      );
    }
    const d = this.#docs.get(id);
    if (!d)
      return new FeedActivationError(
        'ERR_FEED_BASIS_MISSING',
        fid,
        `document ${id} was not given to the edge`,
        id,
      );
    if (d.demo && this.#o.config.mode === 'production')
      return new FeedActivationError(
        'ERR_FEED_DEMO_REFUSED',
        fid,
        `document ${id} is a demonstration document`,
        id,
      );
    const payload = d.approval ?? d.agreement!;
    const scope = { providerId: f.config.providerId, feedId: fid, channel: f.config.channel };
    if (!approvalCoversFeed(payload, scope))
      return new FeedActivationError('ERR_FEED_SCOPE', fid, `document ${id} does not cover this feed`, id);
    if (d.approval && d.approval.kind !== 'acquisition')
      return new FeedActivationError(
        'ERR_FEED_SCOPE',
        fid,
        `approval ${id} is not an acquisition approval`,
        id,
      );
    if (d.revokedAt !== undefined && now >= d.stopAt)
      return new FeedActivationError('ERR_FEED_REVOKED', fid, `document ${id} has been revoked`, id);
    if (now >= d.stopAt)
      return new FeedActivationError('ERR_FEED_EXPIRED', fid, `document ${id} has expired`, id);
    if (d.selectorError)
      return new FeedActivationError('ERR_FEED_INDICATORS', fid, d.selectorError.message, id, {
        cause: d.selectorError,
      });
    return d;
  }

  #activateFeed(f: FeedRuntime, now: number): void {
    const c = f.config;
    const approvals: BasisDocument[] = [];
    for (const id of c.approvalIds ?? []) {
      const b = this.#basis(f, id, now);
      if (b instanceof FeedActivationError) return this.#refuse(f, b, now);
      if (b.kind !== 'approval')
        return this.#refuse(
          f,
          new FeedActivationError('ERR_FEED_SCOPE', c.id, `${id} is not an approval`, id),
          now,
        );
      approvals.push(b);
    }
    let agreement: BasisDocument | undefined;
    if (c.agreementId !== undefined) {
      const b = this.#basis(f, c.agreementId, now);
      if (b instanceof FeedActivationError) return this.#refuse(f, b, now);
      if (b.kind !== 'agreement')
        return this.#refuse(
          f,
          new FeedActivationError(
            'ERR_FEED_SCOPE',
            c.id,
            `${c.agreementId} is not an agreement`,
            c.agreementId,
          ),
          now,
        );
      agreement = b;
    }
    f.approvals = approvals;
    f.agreement = agreement;
    f.state = 'active';
    f.code = undefined;
    this.#emit({
      type: 'feed-activated',
      at: now,
      feedId: c.id,
      providerId: c.providerId,
      channel: c.channel,
      basis: [...approvals.map((a) => a.id), ...(agreement ? [agreement.id] : [])],
      demo: approvals.some((a) => a.demo) || agreement?.demo === true,
    });
  }

  #revoke(d: BasisDocument, effectiveAt: number): void {
    d.revokedAt = d.revokedAt === undefined ? effectiveAt : Math.min(d.revokedAt, effectiveAt);
    d.until = Math.min(d.until, d.revokedAt);
    d.stopAt = Math.min(d.stopAt, d.revokedAt + this.#o.config.stopGraceMs);
  }

  /**
   * Applies a signed revocation (from the bus's control direction or a file). The revoked
   * document's window ends at the revocation's `issuedAt`: records timed at or after it are
   * dropped at once, and the document (with every feed left without basis) stops after
   * `stopGraceMs`. A revocation of a document the edge does not hold is kept, so that the document
   * can never be activated later.
   */
  applyRevocation(doc: unknown, now: number): RevocationResult {
    const v = verifyRevocation(doc, this.#o.trustedKeys, now, this.#verifyOptions);
    if (!v.ok) {
      const error = new RevocationRefusedError(`revocation refused (${v.error.code})`, { cause: v.error });
      this.#emit({ type: 'revocation-refused', at: now, code: v.error.code, message: error.message });
      return { ok: false, error };
    }
    const p = v.payload;
    const effectiveAt = parseIsoTimestamp(p.issuedAt) ?? now;
    const target = this.#docs.get(p.revokes);
    const feedIds: string[] = [];
    if (target) {
      this.#revoke(target, effectiveAt);
      for (const f of this.feeds)
        if (f.approvals.includes(target) || f.agreement === target) feedIds.push(f.config.id);
    } else {
      const prev = this.#pendingRevocations.get(p.revokes);
      this.#pendingRevocations.set(p.revokes, prev === undefined ? effectiveAt : Math.min(prev, effectiveAt));
    }
    this.#emit({
      type: 'revocation-applied',
      at: now,
      revocationId: p.id,
      revokes: p.revokes,
      effectiveAt,
      feedIds,
    });
    this.tick(now);
    return { ok: true, revokes: p.revokes, effectiveAt, feedIds };
  }

  /**
   * Stops documents whose stop time has come, and feeds left without basis: an approval feed
   * when all its approvals stopped, an agreement feed when its agreement stopped.
   */
  tick(now: number): void {
    for (const d of this.#docs.values()) if (!d.stopped && now >= d.stopAt) d.stopped = true;
    for (const f of this.feeds) {
      if (f.state !== 'active') continue;
      let ended: BasisDocument | undefined;
      if (f.agreement?.stopped) ended = f.agreement;
      else if (f.approvals.length > 0 && f.approvals.every((a) => a.stopped)) ended = f.approvals[0];
      if (!ended) continue;
      f.state = 'stopped';
      this.#emit({
        type: 'feed-stopped',
        at: now,
        feedId: f.config.id,
        providerId: f.config.providerId,
        channel: f.config.channel,
        reason: ended.revokedAt !== undefined ? 'revoked' : 'expired',
        documentId: ended.id,
      });
    }
  }

  /** Earliest future wall time at which `tick` will change something (for a timer), or undefined. */
  nextStopAt(): number | undefined {
    let t: number | undefined;
    for (const d of this.#docs.values()) if (!d.stopped && (t === undefined || d.stopAt < t)) t = d.stopAt;
    return t;
  }

  /**
   * True when the domestic address at `words[offset..]` lies in a range whose operator agreement
   * waives pseudonymisation (R-SEL-4): a waiver of a verified agreement that has not stopped, or
   * an operators-file waiver inside such an agreement's (narrowed) ranges.
   */
  waivedAt(ipVersion: number, words: Uint32Array, offset: number): boolean {
    for (const d of this.#agreements) {
      if (d.stopped) continue;
      if (!d.waived.empty && d.waived.hasAt(ipVersion, words, offset)) return true;
      if (
        !d.registryWaived.empty &&
        d.registryWaived.hasAt(ipVersion, words, offset) &&
        d.ranges.hasAt(ipVersion, words, offset)
      )
        return true;
    }
    return false;
  }

  /** True when any agreement can waive anything (lets the engine skip the lookup). */
  get anyWaivers(): boolean {
    return this.#agreements.some((d) => !d.stopped && (!d.waived.empty || !d.registryWaived.empty));
  }

  /** Statuses of every feed. */
  status(): FeedStatus[] {
    return this.feeds.map((f) => ({
      feedId: f.config.id,
      providerId: f.config.providerId,
      channel: f.config.channel,
      state: f.state,
      ...(f.code !== undefined ? { code: f.code } : {}),
      basis: [
        ...(f.config.approvalIds ?? []),
        ...(f.config.agreementId !== undefined ? [f.config.agreementId] : []),
      ],
    }));
  }
}
