/**
 * The parser of a provider edge's `reident-answer` payload (`ReidentificationAnswerBody` of
 * src/cli/edge/reidentification.ts), as it arrives on `acd.ctl.<provider>.answer`: untrusted bytes.
 * Pure: no I/O, no clock, no logging; it returns a typed outcome and never throws.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { formatIpv4, formatIpv6, tryParseAddress } from '../../common/prefixes/index.ts';
import { MAX_REID_RECORDS } from '../../common/schema/approval.ts';
import { MAX_ENVELOPE_BYTES } from '../../transport/envelope.ts';

/** Largest answer payload read: a control envelope never carries more. */
export const MAX_ANSWER_BYTES = MAX_ENVELOPE_BYTES;

const Id = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' });

const ResultSchema = Type.Object(
  {
    recordId: Type.String({ minLength: 1, maxLength: 300 }),
    keyEpoch: Type.Integer({ minimum: 1, maximum: 0x7fffffff }),
    pseudonym: Type.String({ minLength: 1, maxLength: 45 }),
    address: Type.String({ minLength: 1, maxLength: 45 }),
  },
  { additionalProperties: false },
);

/** Schema of an answer body (a request names at most two addresses per record). */
export const AnswerBodySchema = Type.Union([
  Type.Object(
    {
      type: Type.Literal('reidentification-answer'),
      outcome: Type.Literal('answered'),
      requestId: Id,
      caseId: Id,
      results: Type.Array(ResultSchema, { minItems: 1, maxItems: 2 * MAX_REID_RECORDS }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('reidentification-answer'),
      outcome: Type.Literal('refused'),
      requestId: Type.Optional(Id),
      code: Type.String({ pattern: '^ERR_[A-Z0-9_]{1,64}$' }),
    },
    { additionalProperties: false },
  ),
]);

/** A parsed answer body; addresses in canonical text form. */
export type AnswerBody = Static<typeof AnswerBodySchema>;

/** Outcome of {@link parseAnswer}. */
export type ParsedAnswer = { ok: true; answer: AnswerBody } | { ok: false; reason: string };

/** Canonical text of an address (RFC 5952 for IPv6), or undefined when `text` is not one. */
export function canonicalAddress(text: string): string | undefined {
  const a = tryParseAddress(text);
  if (!a) return undefined;
  return a.version === 4 ? formatIpv4(a.w0) : formatIpv6(a.w0, a.w1, a.w2, a.w3);
}

/**
 * Parses an answer payload. Refuses oversize input, non-JSON, any shape but the schema's, and
 * results whose pseudonym or address is not an IP address. Reasons never quote the input.
 */
export function parseAnswer(bytes: Uint8Array): ParsedAnswer {
  if (bytes.byteLength > MAX_ANSWER_BYTES) return { ok: false, reason: 'answer too large' };
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch {
    return { ok: false, reason: 'answer is not JSON' };
  }
  if (!Value.Check(AnswerBodySchema, doc)) {
    const first = Value.Errors(AnswerBodySchema, doc).First();
    return { ok: false, reason: `answer${first?.path ?? ''} does not match the schema` };
  }
  if (doc.outcome === 'refused') return { ok: true, answer: doc };
  const results = [];
  for (const [i, r] of doc.results.entries()) {
    const pseudonym = canonicalAddress(r.pseudonym);
    const address = canonicalAddress(r.address);
    if (pseudonym === undefined || address === undefined)
      return { ok: false, reason: `answer/results/${i} is not an address pair` };
    results.push({ recordId: r.recordId, keyEpoch: r.keyEpoch, pseudonym, address });
  }
  return { ok: true, answer: { ...doc, results } };
}
