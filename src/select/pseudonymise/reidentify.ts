/**
 * The edge side of re-identification (R-OVS-2; DESIGN section 6): the keys never leave the edge,
 * so the centre sends a signed request and the edge reveals the clear addresses of exactly the
 * records the request names. A request is answered only when
 * - its signatures verify against the trusted keys with the `reidentification` scope, valid at
 *   `issuedAt` (`verifyReidentificationRequest`),
 * - at least two distinct signers (people, not keys) signed it: dual control,
 * - it is addressed to this provider and has not expired,
 * - it carries a purpose and a case id (schema), and names each record with its pseudonymised
 *   address(es) and key epoch.
 * Every refusal is a typed error (`ReidentificationError`, `SignatureError`,
 * `DocumentInvalidError`, `KeyEpochUnknownError`); the answer is for the caller to seal and
 * return; nothing here logs a clear address.
 */
import type { Clock } from '../../common/clock.ts';
import { formatIpv4, formatIpv6, tryParseAddress } from '../../common/prefixes/index.ts';
import type { TrustedKeySet, VerifiedSigner } from '../../common/signing/index.ts';
import {
  verifyReidentificationRequest,
  type ReidentificationRequestPayload,
} from '../../common/schema/approval.ts';
import { ReidentificationError } from './errors.ts';
import type { CryptoPan } from './cryptopan.ts';

/** Distinct signers a request needs (R-OVS-2: two distinct authorised people). */
export const REQUIRED_SIGNERS = 2;

/** What the re-identifier needs from the key store. */
export interface EpochKeySource {
  /** The key of an epoch; throws `KeyEpochUnknownError` when it is not held. */
  get(epoch: number): { readonly cryptoPan: CryptoPan };
}

/** Dependencies of {@link createReidentifier}. */
export interface ReidentifierDeps {
  keys: EpochKeySource;
  /** Keys of the people who may authorise re-identification. */
  trust: TrustedKeySet;
  /** This edge's provider id: requests for another provider are refused. */
  providerId: string;
  clock: Clock;
  /** Accept demonstration keys (demo/eval mode only). */
  allowDemo?: boolean;
}

/** One revealed address. */
export interface ReidentifiedAddress {
  recordId: string;
  keyEpoch: number;
  pseudonym: string;
  address: string;
}

/** The answer to a request: the caller seals it for the requester and audits its reference. */
export interface ReidentificationAnswer {
  requestId: string;
  caseId: string;
  purpose: string;
  signers: VerifiedSigner[];
  results: ReidentifiedAddress[];
}

/** An authorised request, ready to be resolved record by record. */
export interface AuthorisedRequest {
  payload: ReidentificationRequestPayload;
  signers: VerifiedSigner[];
}

/** The edge's re-identification service. */
export interface Reidentifier {
  /** Verifies a request (dual control, provider, expiry) or throws a typed error. */
  authorise(doc: unknown): AuthorisedRequest;
  /** Answers every record the request names. */
  answer(doc: unknown): ReidentificationAnswer;
  /**
   * Reveals one pseudonym of one record, if and only if the request names that record with that
   * pseudonym; throws `ReidentificationError` `ERR_REID_RECORD_NOT_NAMED` otherwise.
   */
  resolve(request: AuthorisedRequest, recordId: string, pseudonym: string): ReidentifiedAddress;
}

function canonicalAddress(text: string): string | undefined {
  const a = tryParseAddress(text);
  if (!a) return undefined;
  return a.version === 4 ? formatIpv4(a.w0) : formatIpv6(a.w0, a.w1, a.w2, a.w3);
}

/** Creates the re-identification service of one edge. */
export function createReidentifier(deps: ReidentifierDeps): Reidentifier {
  const authorise = (doc: unknown): AuthorisedRequest => {
    const now = deps.clock.now();
    const v = verifyReidentificationRequest(doc, deps.trust, now, { allowDemo: deps.allowDemo ?? false });
    if (!v.ok) {
      // The same key twice is one person twice: report it as the dual-control failure it is.
      if (v.error.code === 'ERR_SIGNATURE_DUPLICATE')
        throw new ReidentificationError('ERR_REID_SAME_SIGNER', 'the same key signed twice', {
          cause: v.error,
        });
      throw v.error;
    }
    const distinct = new Set(v.signers.map((s) => s.signer));
    if (v.signers.length < REQUIRED_SIGNERS)
      throw new ReidentificationError(
        'ERR_REID_SINGLE_SIGNER',
        're-identification needs two distinct authorised signers',
      );
    if (distinct.size < REQUIRED_SIGNERS)
      throw new ReidentificationError('ERR_REID_SAME_SIGNER', 'the signatures come from one signer');
    const p = v.payload;
    if (p.providerId !== deps.providerId)
      throw new ReidentificationError(
        'ERR_REID_WRONG_PROVIDER',
        'the request is addressed to another provider',
      );
    if (Date.parse(p.expiresAt) <= now)
      throw new ReidentificationError('ERR_REID_EXPIRED', 'the request has expired');
    return { payload: p, signers: v.signers };
  };

  const resolve = (request: AuthorisedRequest, recordId: string, pseudonym: string): ReidentifiedAddress => {
    const rec = request.payload.records.find((r) => r.recordId === recordId);
    const wanted = canonicalAddress(pseudonym);
    if (!rec || wanted === undefined || !rec.addresses.some((a) => canonicalAddress(a) === wanted))
      throw new ReidentificationError(
        'ERR_REID_RECORD_NOT_NAMED',
        'the request does not name this record and address',
      );
    if (deps.clock.now() >= Date.parse(request.payload.expiresAt))
      throw new ReidentificationError('ERR_REID_EXPIRED', 'the request has expired');
    const cp = deps.keys.get(rec.keyEpoch).cryptoPan;
    return { recordId, keyEpoch: rec.keyEpoch, pseudonym: wanted, address: cp.depseudonymiseAddress(wanted) };
  };

  return {
    authorise,
    resolve,
    answer(doc: unknown): ReidentificationAnswer {
      const req = authorise(doc);
      const results: ReidentifiedAddress[] = [];
      for (const r of req.payload.records)
        for (const a of r.addresses) results.push(resolve(req, r.recordId, a));
      return {
        requestId: req.payload.id,
        caseId: req.payload.caseId,
        purpose: req.payload.purpose,
        signers: req.signers,
        results,
      };
    },
  };
}
