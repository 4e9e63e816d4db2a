import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeletionCertificateBody } from '../../common/schema/case.ts';
import { publicKeyFromBase64url, SigningKey } from '../../common/signing/index.ts';
import type { PublicKeyInfo } from '../keys/index.ts';
import { signCertificate, verifyCertificate } from './certificate.ts';
import { holdOfCase } from './holds.ts';
import { DAY, extensionCase, NOW } from './testing.ts';

let cert: DeletionCertificateBody;
let keys: PublicKeyInfo[];

beforeAll(() => {
  const key = SigningKey.generate();
  cert = signCertificate(
    {
      id: 'dc-20260301T000000Z-00000000',
      runAt: NOW,
      period: { firstDay: '2026-02-01', lastDay: '2026-02-03' },
      counts: { records: 10, evidence: 2, alerts: 1, incidents: 0, rollup_1m: 5, rollup_1h: 1 },
      remainingRows: 0,
      derivedBefore: NOW - 30 * DAY,
      parameterVersion: 'test-1',
      holds: ['case-1'],
    },
    key,
  );
  keys = [
    {
      keyId: key.keyId,
      purpose: 'audit',
      signer: 'centre-audit',
      publicKey: publicKeyFromBase64url(key.publicKey),
      validFrom: NOW - 365 * DAY,
      validUntil: NOW + 365 * DAY,
    },
  ];
});

describe('certificate verification (untrusted input)', () => {
  it('never throws on arbitrary JSON and never accepts it', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(verifyCertificate(v, keys).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects any change of one field of a signed certificate', () => {
    expect(verifyCertificate(cert, keys).ok).toBe(true);
    const fields = Object.keys(cert).filter((k) => k !== 'signature') as (keyof DeletionCertificateBody)[];
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.jsonValue(), (field, value) => {
        fc.pre(JSON.stringify(value) !== JSON.stringify(cert[field]));
        const forged = { ...cert, [field]: value };
        expect(verifyCertificate(forged, keys).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('holds of stored cases (untrusted shape)', () => {
  it('never throws, and only an approved unexpired retention extension yields a hold', () => {
    const arbCase = fc.record({
      id: fc.string({ minLength: 1, maxLength: 20 }),
      kind: fc.constantFrom('approval-case', 'communication', 'x'),
      state: fc.constantFrom('approved', 'submitted', 'rejected', 'expired'),
      createdAt: fc.integer(),
      updatedAt: fc.integer(),
      body: fc.oneof(
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.record({
          kind: fc.constantFrom('retention-extension', 'acquisition'),
          validUntil: fc.oneof(fc.double(), fc.integer({ min: NOW - DAY, max: NOW + DAY }), fc.string()),
          retentionHolds: fc.oneof(
            fc.jsonValue(),
            fc.record({
              incidentIds: fc.oneof(fc.array(fc.string({ maxLength: 300 })), fc.jsonValue()),
              days: fc.oneof(fc.array(fc.string()), fc.array(fc.constantFrom('2026-02-01', '2026-13-45'))),
            }),
          ),
        }),
      ),
    });
    fc.assert(
      fc.property(arbCase, (c) => {
        const h = holdOfCase(c, NOW);
        if (h !== undefined && !('error' in h)) {
          expect(c.kind).toBe('approval-case');
          expect(c.state).toBe('approved');
          expect(h.validUntil).toBeGreaterThan(NOW);
          for (const d of h.days) expect(d).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('reads a well-formed extension', () => {
    expect(
      holdOfCase(
        extensionCase('c', { validUntil: NOW + 1, incidentIds: ['i', 'i'], days: ['2026-02-01'] }),
        NOW,
      ),
    ).toEqual({
      caseId: 'c',
      validUntil: NOW + 1,
      incidentIds: ['i'],
      days: ['2026-02-01'],
    });
    expect(holdOfCase(extensionCase('c', { validUntil: NOW, days: ['2026-02-01'] }), NOW)).toBeUndefined();
  });
});
