/**
 * Signed documents (DESIGN section 6): `{ payload, signatures: [{ keyId, alg: 'Ed25519', sig }] }`.
 * Each signature is Ed25519 over the RFC 8785 canonical UTF-8 bytes of `payload`; the payload
 * carries `issuedAt`, and every signing key must be trusted for the document's scope and valid at
 * that instant. Nothing outside `payload` is signed, so the envelope admits no other member.
 *
 * Documents arrive from the bus or from files: `verifyDocument` takes `unknown` and throws only
 * `SignatureError`, `CanonicalizationError` or `DocumentInvalidError`, never an untyped error.
 */
import { sign, verify } from 'node:crypto';
import { canonicalBytes } from './jcs.ts';
import { SignatureError } from './errors.ts';
import { SIGNATURE_ALG, type SigningKey } from './keys.ts';
import { parseIsoTimestamp, type KeyScope, type TrustedKeySet } from './trust.ts';

/** One signature of a document. */
export interface DocumentSignature {
  keyId: string;
  alg: typeof SIGNATURE_ALG;
  /** Ed25519 signature (64 bytes), base64url. */
  sig: string;
}

/** The minimum every signed payload carries. */
export interface SignedPayloadBase {
  /** Document type (`approval`, `revocation`, `agreement`, `reidentification-request`). */
  type: string;
  /** When the document was issued (ISO 8601 UTC); the keys must be valid at this instant. */
  issuedAt: string;
}

/** A signed document. */
export interface SignedDocument<P extends SignedPayloadBase = SignedPayloadBase> {
  payload: P;
  signatures: DocumentSignature[];
}

/** A signature that verified, with the identity behind the key. */
export interface VerifiedSigner {
  keyId: string;
  signer: string;
}

/** Result of {@link verifyDocument}. */
export interface VerifiedDocument {
  /** The payload, authentic but not yet checked against its schema. */
  payload: Record<string, unknown>;
  issuedAt: number;
  signers: VerifiedSigner[];
}

/** Options of {@link verifyDocument}. */
export interface VerifyOptions {
  /** The scope every signing key must be trusted for. */
  scope: KeyScope;
  /** Current time (epoch ms), from the injected clock. */
  now: number;
  /** How far `issuedAt` may lie in the future (clock skew between centre and edge). Default 5 min. */
  maxClockSkewMs?: number;
  /**
   * Key ids refused whatever the trusted set says: the edge passes the demonstration keys here
   * outside demo/eval mode (DESIGN section 5).
   */
  refuseKeyIds?: (keyId: string) => boolean;
}

/** Default allowed clock skew for `issuedAt`. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** Signatures per document: dual control needs two, rotation overlap a few more; bounds the work. */
export const MAX_SIGNATURES = 8;

/**
 * Canonical payload size limit. The largest legitimate documents are approvals with indicator
 * lists given inline; beyond 4 MiB a list belongs in a referenced file.
 */
export const MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;

const SIG_RE = /^[A-Za-z0-9_-]{86}$/;
const KEY_ID_RE = /^[A-Za-z0-9_-]{22}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Signs `payload` with each key; the result verifies with a trusted set holding their public keys. */
export function signDocument<P extends SignedPayloadBase>(
  payload: P,
  keys: readonly SigningKey[],
): SignedDocument<P> {
  const doc: SignedDocument<P> = { payload, signatures: [] };
  for (const k of keys) addSignature(doc, k);
  return doc;
}

/** Adds one signature (e.g. the second authoriser of a re-identification request). */
export function addSignature<P extends SignedPayloadBase>(
  doc: SignedDocument<P>,
  key: SigningKey,
): SignedDocument<P> {
  const bytes = canonicalBytes(doc.payload);
  doc.signatures.push({
    keyId: key.keyId,
    alg: SIGNATURE_ALG,
    sig: sign(null, bytes, key.privateKey).toString('base64url'),
  });
  return doc;
}

/**
 * Verifies a document's envelope and every signature. Throws `SignatureError` (see its codes) or
 * `CanonicalizationError`; returns the authentic payload and its signers. Every signature must
 * verify: a document carrying one bad signature is treated as tampered with.
 */
export function verifyDocument(doc: unknown, trust: TrustedKeySet, options: VerifyOptions): VerifiedDocument {
  if (!isRecord(doc))
    throw new SignatureError('ERR_DOCUMENT_MALFORMED', 'a signed document is a JSON object');
  for (const k of Object.keys(doc))
    if (k !== 'payload' && k !== 'signatures')
      throw new SignatureError('ERR_DOCUMENT_MALFORMED', `unsigned member ${JSON.stringify(k.slice(0, 40))}`);
  const { payload, signatures } = doc;
  if (!isRecord(payload)) throw new SignatureError('ERR_DOCUMENT_MALFORMED', 'payload must be a JSON object');
  const issuedAt = parseIsoTimestamp(payload.issuedAt);
  if (issuedAt === undefined)
    throw new SignatureError('ERR_DOCUMENT_MALFORMED', 'payload.issuedAt must be an ISO 8601 UTC timestamp');
  if (typeof payload.type !== 'string')
    throw new SignatureError('ERR_DOCUMENT_MALFORMED', 'payload.type is missing');
  if (!Array.isArray(signatures) || signatures.length === 0)
    throw new SignatureError('ERR_SIGNATURES_MISSING', 'the document carries no signature');
  if (signatures.length > MAX_SIGNATURES)
    throw new SignatureError('ERR_SIGNATURES_MISSING', `more than ${MAX_SIGNATURES} signatures`);
  const skew = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  if (issuedAt > options.now + skew)
    throw new SignatureError('ERR_DOCUMENT_FROM_FUTURE', 'payload.issuedAt lies in the future');

  const bytes = canonicalBytes(payload);
  if (bytes.length > MAX_PAYLOAD_BYTES)
    throw new SignatureError(
      'ERR_DOCUMENT_MALFORMED',
      `canonical payload exceeds ${MAX_PAYLOAD_BYTES} bytes`,
    );

  const seen = new Set<string>();
  const signers: VerifiedSigner[] = [];
  for (const s of signatures as unknown[]) {
    if (!isRecord(s) || typeof s.keyId !== 'string' || typeof s.sig !== 'string' || typeof s.alg !== 'string')
      throw new SignatureError('ERR_DOCUMENT_MALFORMED', 'a signature is { keyId, alg, sig }');
    if (Object.keys(s).length !== 3)
      throw new SignatureError('ERR_DOCUMENT_MALFORMED', 'a signature is { keyId, alg, sig }');
    if (s.alg !== SIGNATURE_ALG)
      throw new SignatureError(
        'ERR_SIGNATURE_INVALID',
        `algorithm ${JSON.stringify(s.alg.slice(0, 20))} is not accepted`,
      );
    if (!KEY_ID_RE.test(s.keyId)) throw new SignatureError('ERR_KEY_UNKNOWN', 'malformed key id');
    const keyId = s.keyId;
    if (seen.has(keyId))
      throw new SignatureError('ERR_SIGNATURE_DUPLICATE', 'the same key signed twice', keyId);
    seen.add(keyId);
    if (options.refuseKeyIds?.(keyId))
      throw new SignatureError(
        'ERR_DEMO_KEY_REFUSED',
        'demonstration keys are refused outside demo/eval mode',
        keyId,
      );
    const key = trust.get(keyId);
    if (!key) throw new SignatureError('ERR_KEY_UNKNOWN', 'the signing key is not trusted', keyId);
    if (!key.scopes.includes(options.scope))
      throw new SignatureError(
        'ERR_KEY_SCOPE',
        `the key is not trusted for ${options.scope} documents`,
        keyId,
      );
    if (issuedAt < key.validFrom || issuedAt >= key.validUntil)
      throw new SignatureError(
        'ERR_KEY_EXPIRED',
        'the key was not valid when the document was issued',
        keyId,
      );
    if (!SIG_RE.test(s.sig)) throw new SignatureError('ERR_SIGNATURE_INVALID', 'malformed signature', keyId);
    let ok = false;
    try {
      ok = verify(null, bytes, key.publicKey, Buffer.from(s.sig, 'base64url'));
    } catch (err) {
      throw new SignatureError('ERR_SIGNATURE_INVALID', 'signature verification failed', keyId, {
        cause: err,
      });
    }
    if (!ok)
      throw new SignatureError('ERR_SIGNATURE_INVALID', 'the signature does not match the payload', keyId);
    signers.push({ keyId, signer: key.signer });
  }
  return { payload, issuedAt, signers };
}
