import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AcdError } from '../errors.ts';
import { addSignature, signDocument, verifyDocument, type SignedDocument } from './document.ts';
import { TrustedKeyError } from './errors.ts';
import { keyIdOf, SigningKey } from './keys.ts';
import { TrustedKeySet, resolveTrustedKey, type KeyScope } from './trust.ts';

const NOW = Date.parse('2026-03-01T00:00:00.000Z');

function trusted(
  key: SigningKey,
  signer: string,
  from: string,
  until: string,
  scopes: KeyScope[] = ['approval'],
) {
  return resolveTrustedKey({ publicKey: key.publicKey, signer, validFrom: from, validUntil: until, scopes });
}

const commission = SigningKey.generate();
const other = SigningKey.generate();
const trust = new TrustedKeySet([
  trusted(commission, 'commission', '2025-01-01T00:00:00Z', '2027-01-01T00:00:00Z'),
]);
const payload = { type: 'approval', id: 'a-1', issuedAt: '2026-02-01T00:00:00.000Z', note: 'x' };
const opts = { scope: 'approval' as const, now: NOW };

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AcdError);
    expect((err as AcdError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('signed documents', () => {
  it('derives key ids as base64url of the first 16 bytes of SHA-256 of the raw public key', () => {
    expect(commission.keyId).toBe(keyIdOf(Buffer.from(commission.publicKey, 'base64url')));
    expect(commission.keyId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('verifies a signed document after a JSON round trip, whatever the member order', () => {
    const doc = signDocument(payload, [commission]);
    const wire = JSON.parse(
      JSON.stringify({
        signatures: doc.signatures,
        payload: Object.fromEntries(Object.entries(payload).reverse()),
      }),
    ) as unknown;
    const v = verifyDocument(wire, trust, opts);
    expect(v.payload).toEqual(payload);
    expect(v.signers).toEqual([{ keyId: commission.keyId, signer: 'commission' }]);
  });

  it('rejects a tampered payload and a tampered signature', () => {
    const doc = signDocument(payload, [commission]);
    expectCode(
      () => verifyDocument({ ...doc, payload: { ...payload, note: 'y' } }, trust, opts),
      'ERR_SIGNATURE_INVALID',
    );
    const sig = doc.signatures[0]!;
    const flipped = (sig.sig[0] === 'A' ? 'B' : 'A') + sig.sig.slice(1);
    expectCode(
      () => verifyDocument({ payload, signatures: [{ ...sig, sig: flipped }] }, trust, opts),
      'ERR_SIGNATURE_INVALID',
    );
    expectCode(
      () => verifyDocument({ payload, signatures: [{ ...sig, alg: 'RS256' }] }, trust, opts),
      'ERR_SIGNATURE_INVALID',
    );
  });

  it('rejects unknown keys, keys outside their window and keys of another scope', () => {
    expectCode(() => verifyDocument(signDocument(payload, [other]), trust, opts), 'ERR_KEY_UNKNOWN');
    const old = { ...payload, issuedAt: '2024-06-01T00:00:00.000Z' };
    expectCode(() => verifyDocument(signDocument(old, [commission]), trust, opts), 'ERR_KEY_EXPIRED');
    expectCode(
      () =>
        verifyDocument(signDocument(payload, [commission]), trust, { ...opts, scope: 'reidentification' }),
      'ERR_KEY_SCOPE',
    );
  });

  it('accepts documents from either key during a rotation overlap, by issuedAt', () => {
    const next = SigningKey.generate();
    const both = new TrustedKeySet([
      trusted(commission, 'commission', '2025-01-01T00:00:00Z', '2026-06-01T00:00:00Z'),
      trusted(next, 'commission', '2026-05-01T00:00:00Z', '2028-01-01T00:00:00Z'),
    ]);
    const inOverlap = { ...payload, issuedAt: '2026-05-15T00:00:00.000Z' };
    const later = Date.parse('2026-07-01T00:00:00Z');
    expect(
      verifyDocument(signDocument(inOverlap, [commission]), both, { ...opts, now: later }).signers,
    ).toHaveLength(1);
    expect(
      verifyDocument(signDocument(inOverlap, [next]), both, { ...opts, now: later }).signers,
    ).toHaveLength(1);
    // The old key cannot issue after its window, even though documents it issued earlier stay valid.
    const afterOld = { ...payload, issuedAt: '2026-06-15T00:00:00.000Z' };
    expectCode(
      () => verifyDocument(signDocument(afterOld, [commission]), both, { ...opts, now: later }),
      'ERR_KEY_EXPIRED',
    );
  });

  it('collects several signatures and refuses the same key twice', () => {
    const t2 = trust.with([trusted(other, 'second', '2025-01-01T00:00:00Z', '2027-01-01T00:00:00Z')]);
    const doc = signDocument(payload, [commission]);
    addSignature(doc, other);
    expect(verifyDocument(doc, t2, opts).signers.map((s) => s.signer)).toEqual(['commission', 'second']);
    const twice: SignedDocument = { payload, signatures: [doc.signatures[0]!, doc.signatures[0]!] };
    expectCode(() => verifyDocument(twice, t2, opts), 'ERR_SIGNATURE_DUPLICATE');
  });

  it('refuses malformed envelopes, missing signatures, future documents and refused key ids', () => {
    const doc = signDocument(payload, [commission]);
    expectCode(() => verifyDocument(null, trust, opts), 'ERR_DOCUMENT_MALFORMED');
    expectCode(() => verifyDocument({ ...doc, extra: 1 }, trust, opts), 'ERR_DOCUMENT_MALFORMED');
    expectCode(() => verifyDocument({ payload, signatures: [] }, trust, opts), 'ERR_SIGNATURES_MISSING');
    expectCode(
      () =>
        verifyDocument(
          { payload: { ...payload, issuedAt: 'yesterday' }, signatures: doc.signatures },
          trust,
          opts,
        ),
      'ERR_DOCUMENT_MALFORMED',
    );
    const future = { ...payload, issuedAt: '2026-03-01T01:00:00.000Z' };
    expectCode(
      () => verifyDocument(signDocument(future, [commission]), trust, opts),
      'ERR_DOCUMENT_FROM_FUTURE',
    );
    expectCode(
      () => verifyDocument(doc, trust, { ...opts, refuseKeyIds: (k) => k === commission.keyId }),
      'ERR_DEMO_KEY_REFUSED',
    );
  });

  it('throws only typed errors for arbitrary JSON and mutated documents from the bus', () => {
    const doc = signDocument(payload, [commission]);
    const typedOnly = (input: unknown): void => {
      try {
        verifyDocument(input, trust, opts);
      } catch (err) {
        if (!(err instanceof AcdError)) throw err;
      }
    };
    fc.assert(fc.property(fc.jsonValue(), typedOnly), { numRuns: 500 });
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.constantFrom('payload', 'signatures', 'sig', 'keyId', 'alg', 'issuedAt'),
        (v, where) => {
          const d = JSON.parse(JSON.stringify(doc)) as {
            payload: Record<string, unknown>;
            signatures: Array<Record<string, unknown>>;
          };
          const loose = d as unknown as Record<string, unknown>;
          if (where === 'payload' || where === 'signatures') loose[where] = v;
          else if (where === 'issuedAt') d.payload.issuedAt = v;
          else d.signatures[0]![where] = v;
          typedOnly(d);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never shows a private key in JSON or util.inspect', () => {
    expect(JSON.stringify(commission)).not.toContain(commission.exportJwk().d);
    expect(inspect(commission)).not.toContain(commission.exportJwk().d);
  });

  it('refuses bad trusted-key configuration naming the entry', () => {
    expect(() =>
      TrustedKeySet.fromConfig([
        {
          publicKey: 'short',
          signer: 'x',
          validFrom: '2025-01-01T00:00:00Z',
          validUntil: '2026-01-01T00:00:00Z',
          scopes: ['approval'],
        },
      ]),
    ).toThrow(TrustedKeyError);
    expect(() =>
      TrustedKeySet.fromConfig([
        {
          publicKey: commission.publicKey,
          keyId: other.keyId,
          signer: 'x',
          validFrom: '2025-01-01T00:00:00Z',
          validUntil: '2026-01-01T00:00:00Z',
          scopes: ['approval'],
        },
      ]),
    ).toThrow(TrustedKeyError);
    expect(() =>
      TrustedKeySet.fromConfig([
        {
          publicKey: commission.publicKey,
          signer: 'x',
          validFrom: '2026-01-01T00:00:00Z',
          validUntil: '2025-01-01T00:00:00Z',
          scopes: ['approval'],
        },
      ]),
    ).toThrow(TrustedKeyError);
  });
});
