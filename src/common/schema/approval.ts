/**
 * Signed oversight documents (REQUIREMENTS R-FEED-2, R-OVS-2, R-OVS-5; DESIGN sections 5-6):
 * approvals, operator agreements, revocations and re-identification requests. Each is the
 * `payload` of a signed document (`src/common/signing/`): typebox schemas give the shape, and the
 * `verify…` functions check signature, trust, schema and the rules a schema cannot express
 * (windows, unique selector ids, prefixes). They take `unknown` (documents come from the bus or
 * files) and return a result, never throwing.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AcdError } from '../errors.ts';
import { parsePrefix, tryParseAddress } from '../prefixes/index.ts';
import type { ParsedPrefix } from '../prefixes/index.ts';
import { LEGAL_CHANNELS, type LegalChannel } from './legal.ts';
import { DocumentInvalidError } from '../signing/errors.ts';
import { verifyDocument, type SignedDocument, type VerifiedSigner } from '../signing/document.ts';
import { IsoTimestamp, parseIsoTimestamp, type KeyScope, type TrustedKeySet } from '../signing/trust.ts';
import { isDemoKey } from '../signing/demo.ts';

/** Identifier of a document, selector, provider, feed or case. */
const Id = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' });
/** Provider id, or `*` for every provider (used by the demonstration feed set only). */
const ProviderRef = Type.String({ pattern: '^(\\*|[A-Za-z0-9][A-Za-z0-9._:-]{0,127})$' });
const Text = (max: number): ReturnType<typeof Type.String> => Type.String({ minLength: 1, maxLength: max });
const Channel = Type.Union(LEGAL_CHANNELS.map((c) => Type.Literal(c)));

/**
 * Inline indicator values per selector. Larger lists are referenced (`listRef`) and loaded by the
 * edge, so that a signed document stays small enough to verify quickly.
 */
export const MAX_INLINE_INDICATORS = 10_000;
/** Selectors per approval: keeps matching cost per record bounded. */
export const MAX_SELECTORS = 256;
/** Named records per re-identification request (R-OVS-2: named records only, never bulk). */
export const MAX_REID_RECORDS = 1000;
/** Longest lifetime of a re-identification request. */
export const MAX_REID_VALIDITY_MS = 7 * 24 * 3600_000;

/** Approval kinds (R-OVS-5). */
export const APPROVAL_KINDS = [
  'acquisition',
  'police-measure',
  'sdf-measure',
  'retention-extension',
] as const;
/** One approval kind. */
export type ApprovalKind = (typeof APPROVAL_KINDS)[number];

/** Selector: an indicator list (addresses, prefixes or domain names), inline or by reference. */
export const IndicatorListSelectorSchema = Type.Object(
  {
    id: Id,
    kind: Type.Literal('indicator-list'),
    description: Type.Optional(Text(2000)),
    listRef: Type.Optional(Text(500)),
    values: Type.Optional(Type.Array(Text(253), { maxItems: MAX_INLINE_INDICATORS })),
  },
  { additionalProperties: false },
);

const Port = Type.Integer({ minimum: 0, maximum: 65535 });

/** Selector: a target-act signature, e.g. "TCP SYN from abroad to 23/2323". */
export const TargetActSelectorSchema = Type.Object(
  {
    id: Id,
    kind: Type.Literal('target-act'),
    description: Type.Optional(Text(2000)),
    /** IP protocol number (6 TCP, 17 UDP, …). */
    protocol: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
    /** Destination ports or inclusive ranges. */
    ports: Type.Optional(
      Type.Array(Type.Union([Port, Type.Object({ from: Port, to: Port }, { additionalProperties: false })]), {
        minItems: 1,
        maxItems: 1024,
      }),
    ),
    /** Matches when `(tcpControlBits & mask) === value`. */
    tcpFlags: Type.Optional(
      Type.Object(
        {
          mask: Type.Integer({ minimum: 1, maximum: 0xffff }),
          value: Type.Integer({ minimum: 0, maximum: 0xffff }),
        },
        { additionalProperties: false },
      ),
    ),
    /** `inbound` = from abroad to the country, `outbound` = the reverse. */
    direction: Type.Optional(
      Type.Union([Type.Literal('inbound'), Type.Literal('outbound'), Type.Literal('any')]),
    ),
    /** Indicator patterns the act involves (addresses, prefixes, domain suffixes). */
    indicatorPatterns: Type.Optional(Type.Array(Text(253), { maxItems: MAX_INLINE_INDICATORS })),
  },
  { additionalProperties: false },
);

/** Selector: all traffic the channel allows (when the approval says so). */
export const AllChannelTrafficSelectorSchema = Type.Object(
  { id: Id, kind: Type.Literal('all-channel-traffic'), description: Type.Optional(Text(2000)) },
  { additionalProperties: false },
);

/** Any selector. */
export const SelectorSchema = Type.Union([
  IndicatorListSelectorSchema,
  TargetActSelectorSchema,
  AllChannelTrafficSelectorSchema,
]);
/** Any selector. */
export type Selector = Static<typeof SelectorSchema>;

/** Approval payload (R-FEED-2, R-OVS-5). */
export const ApprovalPayloadSchema = Type.Object(
  {
    type: Type.Literal('approval'),
    id: Id,
    kind: Type.Union(APPROVAL_KINDS.map((k) => Type.Literal(k))),
    channel: Channel,
    providers: Type.Array(ProviderRef, { minItems: 1, maxItems: 1000, uniqueItems: true }),
    feeds: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: 1000, uniqueItems: true })),
    /** The unauthorised acts the approval is about (free labels of the commission's register). */
    targetActs: Type.Array(Text(200), { minItems: 1, maxItems: 100 }),
    selectors: Type.Array(SelectorSchema, { minItems: 1, maxItems: MAX_SELECTORS }),
    /** Event-time window the approval covers (validFrom inclusive, validUntil exclusive). */
    validFrom: IsoTimestamp,
    validUntil: IsoTimestamp,
    issuedAt: IsoTimestamp,
    justification: Type.Optional(Text(20_000)),
    caseId: Id,
    demo: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
/** Approval payload. */
export type ApprovalPayload = Static<typeof ApprovalPayloadSchema>;

/** Agreement payload: a consenting operator's ranges (DESIGN section 5). */
export const AgreementPayloadSchema = Type.Object(
  {
    type: Type.Literal('agreement'),
    id: Id,
    channel: Type.Union([Type.Literal('agreement-foreign-to-domestic'), Type.Literal('operator-telemetry')]),
    operatorId: Id,
    providers: Type.Array(ProviderRef, { minItems: 1, maxItems: 1000, uniqueItems: true }),
    /** CIDR prefixes the operator consents for. */
    ranges: Type.Array(Text(49), { minItems: 1, maxItems: 10_000 }),
    /** Sub-ranges whose addresses the operator allows to travel in clear (R-SEL-4). */
    pseudonymisationWaived: Type.Array(Text(49), { maxItems: 10_000 }),
    validFrom: IsoTimestamp,
    validUntil: IsoTimestamp,
    issuedAt: IsoTimestamp,
    caseId: Type.Optional(Id),
    demo: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
/** Agreement payload. */
export type AgreementPayload = Static<typeof AgreementPayloadSchema>;

/** Revocation payload: ends an approval or agreement before its `validUntil`. */
export const RevocationPayloadSchema = Type.Object(
  {
    type: Type.Literal('revocation'),
    id: Id,
    revokes: Id,
    issuedAt: IsoTimestamp,
    reason: Text(2000),
    demo: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
/** Revocation payload. */
export type RevocationPayload = Static<typeof RevocationPayloadSchema>;

/** Re-identification request payload (R-OVS-2), answered by the provider edge that holds the key. */
export const ReidentificationRequestPayloadSchema = Type.Object(
  {
    type: Type.Literal('reidentification-request'),
    id: Id,
    providerId: Id,
    /** Declared purpose code (R-OVS-1). */
    purpose: Type.String({ pattern: '^[a-z][a-z0-9-]{0,63}$' }),
    caseId: Id,
    issuedAt: IsoTimestamp,
    expiresAt: IsoTimestamp,
    records: Type.Array(
      Type.Object(
        {
          recordId: Type.String({ minLength: 1, maxLength: 300 }),
          keyEpoch: Type.Integer({ minimum: 1, maximum: 0x7fffffff }),
          /** The pseudonymised addresses of this record to reveal (one or both endpoints). */
          addresses: Type.Array(Text(45), { minItems: 1, maxItems: 2, uniqueItems: true }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MAX_REID_RECORDS },
    ),
    /** Set on requests signed with the demonstration keys (demo/eval mode only). */
    demo: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
/** Re-identification request payload. */
export type ReidentificationRequestPayload = Static<typeof ReidentificationRequestPayloadSchema>;

/** Outcome of a `verify…` function: the typed payload, or a typed error. */
export type VerifyResult<P> =
  | { ok: true; payload: P; signers: VerifiedSigner[]; /** Signed with a demonstration key. */ demo: boolean }
  | { ok: false; error: AcdError };

/** Options of the `verify…` functions. */
export interface VerifyDocumentOptions {
  /** Accept documents signed with demonstration keys (demo/eval mode and offline tools only). */
  allowDemo?: boolean;
  /** Allowed clock skew for `issuedAt` (default 5 minutes). */
  maxClockSkewMs?: number;
}

function schemaError(schema: TSchema, value: unknown): DocumentInvalidError {
  const first = Value.Errors(schema, value).First();
  return new DocumentInvalidError(first?.path ?? '', first?.message ?? 'does not match the schema');
}

function verifyWith<P>(
  doc: unknown,
  trust: TrustedKeySet,
  now: number,
  scope: KeyScope,
  schema: TSchema,
  check: (p: P) => DocumentInvalidError | undefined,
  options: VerifyDocumentOptions,
): VerifyResult<P> {
  try {
    const v = verifyDocument(doc, trust, {
      scope,
      now,
      ...(options.maxClockSkewMs !== undefined ? { maxClockSkewMs: options.maxClockSkewMs } : {}),
      ...(options.allowDemo ? {} : { refuseKeyIds: isDemoKey }),
    });
    if (!Value.Check(schema, v.payload)) return { ok: false, error: schemaError(schema, v.payload) };
    const payload = v.payload as P;
    const demo = v.signers.some((s) => isDemoKey(s.keyId));
    if (demo && (v.payload as { demo?: boolean }).demo !== true)
      return {
        ok: false,
        error: new DocumentInvalidError(
          '/demo',
          'a document signed with a demonstration key must say demo: true',
        ),
      };
    const err = check(payload);
    if (err) return { ok: false, error: err };
    return { ok: true, payload, signers: v.signers, demo };
  } catch (err) {
    if (err instanceof AcdError) return { ok: false, error: err };
    // verifyDocument only throws typed errors; anything else is a bug worth surfacing typed too.
    return { ok: false, error: new AcdError('ERR_INTERNAL', 'document verification failed', { cause: err }) };
  }
}

function checkWindow(p: { validFrom: string; validUntil: string }): DocumentInvalidError | undefined {
  const from = parseIsoTimestamp(p.validFrom);
  const until = parseIsoTimestamp(p.validUntil);
  if (from === undefined) return new DocumentInvalidError('/validFrom', 'not a real date');
  if (until === undefined) return new DocumentInvalidError('/validUntil', 'not a real date');
  if (from >= until) return new DocumentInvalidError('/validUntil', 'must be after validFrom');
  return undefined;
}

function checkApproval(p: ApprovalPayload): DocumentInvalidError | undefined {
  const w = checkWindow(p);
  if (w) return w;
  const ids = new Set<string>();
  for (const [i, s] of p.selectors.entries()) {
    if (ids.has(s.id)) return new DocumentInvalidError(`/selectors/${i}/id`, 'selector ids must be unique');
    ids.add(s.id);
    if (
      s.kind === 'indicator-list' &&
      s.listRef === undefined &&
      (s.values === undefined || s.values.length === 0)
    )
      return new DocumentInvalidError(`/selectors/${i}`, 'an indicator list needs listRef or values');
    if (s.kind === 'target-act') {
      if (s.tcpFlags && (s.tcpFlags.value & ~s.tcpFlags.mask) !== 0)
        return new DocumentInvalidError(`/selectors/${i}/tcpFlags`, 'value has bits outside mask');
      for (const [j, port] of (s.ports ?? []).entries())
        if (typeof port === 'object' && port.from > port.to)
          return new DocumentInvalidError(`/selectors/${i}/ports/${j}`, 'from must not exceed to');
    }
  }
  return undefined;
}

function prefixOrError(s: string, path: string): ParsedPrefix | DocumentInvalidError {
  try {
    return parsePrefix(s);
  } catch {
    return new DocumentInvalidError(path, 'not a CIDR prefix with zero host bits');
  }
}

function checkAgreement(p: AgreementPayload): DocumentInvalidError | undefined {
  const w = checkWindow(p);
  if (w) return w;
  const ranges: ParsedPrefix[] = [];
  for (const [i, r] of p.ranges.entries()) {
    const x = prefixOrError(r, `/ranges/${i}`);
    if (x instanceof DocumentInvalidError) return x;
    ranges.push(x);
  }
  for (const [i, r] of p.pseudonymisationWaived.entries()) {
    const x = prefixOrError(r, `/pseudonymisationWaived/${i}`);
    if (x instanceof DocumentInvalidError) return x;
    // A waiver outside the operator's own ranges would reveal third parties' addresses.
    if (!ranges.some((o) => o.version === x.version && o.first <= x.first && x.last <= o.last))
      return new DocumentInvalidError(`/pseudonymisationWaived/${i}`, "not inside the operator's ranges");
  }
  return undefined;
}

function checkReidentification(p: ReidentificationRequestPayload): DocumentInvalidError | undefined {
  const issued = parseIsoTimestamp(p.issuedAt);
  const expires = parseIsoTimestamp(p.expiresAt);
  if (issued === undefined || expires === undefined || expires <= issued)
    return new DocumentInvalidError('/expiresAt', 'must be a real date after issuedAt');
  if (expires - issued > MAX_REID_VALIDITY_MS)
    return new DocumentInvalidError(
      '/expiresAt',
      `a request lives at most ${MAX_REID_VALIDITY_MS / 3600_000} hours`,
    );
  const ids = new Set<string>();
  for (const [i, r] of p.records.entries()) {
    if (ids.has(r.recordId))
      return new DocumentInvalidError(`/records/${i}/recordId`, 'record ids must be unique');
    ids.add(r.recordId);
    for (const [j, a] of r.addresses.entries())
      if (!tryParseAddress(a))
        return new DocumentInvalidError(`/records/${i}/addresses/${j}`, 'not an IP address');
  }
  return undefined;
}

/**
 * Verifies a signed approval: envelope and signatures (commission keys with `approval` scope,
 * valid at `issuedAt`), schema, window and selector rules. It does not decide whether the
 * approval is in force for a given event time: see {@link approvalInForce}.
 */
export function verifyApproval(
  doc: unknown,
  trustedKeys: TrustedKeySet,
  now: number,
  options: VerifyDocumentOptions = {},
): VerifyResult<ApprovalPayload> {
  return verifyWith(doc, trustedKeys, now, 'approval', ApprovalPayloadSchema, checkApproval, options);
}

/** Verifies a signed operator agreement (ranges parse; waivers lie inside the ranges). */
export function verifyAgreement(
  doc: unknown,
  trustedKeys: TrustedKeySet,
  now: number,
  options: VerifyDocumentOptions = {},
): VerifyResult<AgreementPayload> {
  return verifyWith(doc, trustedKeys, now, 'approval', AgreementPayloadSchema, checkAgreement, options);
}

/** Verifies a signed revocation. */
export function verifyRevocation(
  doc: unknown,
  trustedKeys: TrustedKeySet,
  now: number,
  options: VerifyDocumentOptions = {},
): VerifyResult<RevocationPayload> {
  // Revocations come from the commission, like the approvals they end.
  return verifyWith(doc, trustedKeys, now, 'approval', RevocationPayloadSchema, () => undefined, options);
}

/**
 * Verifies the signatures and shape of a re-identification request (keys with the
 * `reidentification` scope). Dual control, expiry and the provider are checked by the edge that
 * answers it (`src/select/pseudonymise/reidentify.ts`).
 */
export function verifyReidentificationRequest(
  doc: unknown,
  trustedKeys: TrustedKeySet,
  now: number,
  options: VerifyDocumentOptions = {},
): VerifyResult<ReidentificationRequestPayload> {
  return verifyWith(
    doc,
    trustedKeys,
    now,
    'reidentification',
    ReidentificationRequestPayloadSchema,
    checkReidentification,
    options,
  );
}

/** True when event time `t` (epoch ms) lies in the document's window [validFrom, validUntil). */
export function approvalInForce(p: { validFrom: string; validUntil: string }, t: number): boolean {
  const from = parseIsoTimestamp(p.validFrom);
  const until = parseIsoTimestamp(p.validUntil);
  return from !== undefined && until !== undefined && from <= t && t < until;
}

/** The feed an approval or agreement is checked against. */
export interface FeedScope {
  providerId: string;
  feedId: string;
  channel: LegalChannel;
}

/** True when the approval's channel, providers and (if listed) feeds cover the feed (R-FEED-2). */
export function approvalCoversFeed(p: ApprovalPayload | AgreementPayload, feed: FeedScope): boolean {
  if (p.channel !== feed.channel) return false;
  if (!p.providers.includes('*') && !p.providers.includes(feed.providerId)) return false;
  if (p.type === 'approval' && p.feeds !== undefined && !p.feeds.includes(feed.feedId)) return false;
  return true;
}

/** A signed approval document. */
export type SignedApproval = SignedDocument<ApprovalPayload>;
/** A signed agreement document. */
export type SignedAgreement = SignedDocument<AgreementPayload>;
/** A signed revocation document. */
export type SignedRevocation = SignedDocument<RevocationPayload>;
/** A signed re-identification request. */
export type SignedReidentificationRequest = SignedDocument<ReidentificationRequestPayload>;
