import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AcdError } from '../errors.ts';
import { signDocument } from '../signing/document.ts';
import { SigningKey } from '../signing/keys.ts';
import { resolveTrustedKey, TrustedKeySet } from '../signing/trust.ts';
import { demoFeedSet, demoSigningKey, demoTrustedKeys, isDemoKey, DEMO_KEY_IDS } from '../signing/demo.ts';
import { LEGAL_CHANNELS } from './legal.ts';
import {
  approvalCoversFeed,
  approvalInForce,
  verifyAgreement,
  verifyApproval,
  verifyRevocation,
  type AgreementPayload,
  type ApprovalPayload,
  type VerifyResult,
} from './approval.ts';

const NOW = Date.parse('2026-03-01T00:00:00.000Z');
const commission = SigningKey.generate();
const trust = new TrustedKeySet([
  resolveTrustedKey({
    publicKey: commission.publicKey,
    signer: 'commission',
    validFrom: '2025-01-01T00:00:00Z',
    validUntil: '2030-01-01T00:00:00Z',
    scopes: ['approval'],
  }),
]);

const approval: ApprovalPayload = {
  type: 'approval',
  id: 'appr-2026-001',
  kind: 'acquisition',
  channel: 'specified-foreign-to-domestic',
  providers: ['prov-a'],
  feeds: ['feed-1'],
  targetActs: ['unauthorised-access'],
  selectors: [
    {
      id: 's-telnet',
      kind: 'target-act',
      protocol: 6,
      ports: [23, 2323, { from: 8000, to: 8100 }],
      tcpFlags: { mask: 0x12, value: 0x02 },
      direction: 'inbound',
    },
    { id: 's-c2', kind: 'indicator-list', values: ['198.51.100.7', '203.0.113.0/24'] },
  ],
  validFrom: '2026-01-01T00:00:00.000Z',
  validUntil: '2026-07-01T00:00:00.000Z',
  issuedAt: '2026-01-01T00:00:00.000Z',
  caseId: 'case-17',
};

function code<P>(r: VerifyResult<P>): string {
  return r.ok ? 'ok' : r.error.code;
}

describe('approval documents', () => {
  it('verifies a signed approval and returns the typed payload', () => {
    const r = verifyApproval(signDocument(approval, [commission]), trust, NOW);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.payload.selectors[0]!.kind).toBe('target-act');
      expect(r.demo).toBe(false);
    }
  });

  it('rejects tampering, schema violations and rule violations with typed errors', () => {
    const doc = signDocument(approval, [commission]);
    expect(
      code(
        verifyApproval(
          { ...doc, payload: { ...approval, validUntil: '2027-01-01T00:00:00.000Z' } },
          trust,
          NOW,
        ),
      ),
    ).toBe('ERR_SIGNATURE_INVALID');
    const bad = (p: Record<string, unknown>): string =>
      code(verifyApproval(signDocument(p as unknown as ApprovalPayload, [commission]), trust, NOW));
    expect(bad({ ...approval, extra: 1 })).toBe('ERR_DOCUMENT_INVALID');
    expect(bad({ ...approval, channel: 'domestic-to-domestic' })).toBe('ERR_DOCUMENT_INVALID');
    expect(bad({ ...approval, validUntil: approval.validFrom })).toBe('ERR_DOCUMENT_INVALID');
    expect(bad({ ...approval, selectors: [approval.selectors[0], approval.selectors[0]] })).toBe(
      'ERR_DOCUMENT_INVALID',
    );
    expect(bad({ ...approval, selectors: [{ id: 'x', kind: 'indicator-list' }] })).toBe(
      'ERR_DOCUMENT_INVALID',
    );
    expect(
      bad({ ...approval, selectors: [{ id: 'x', kind: 'target-act', tcpFlags: { mask: 2, value: 4 } }] }),
    ).toBe('ERR_DOCUMENT_INVALID');
    expect(
      bad({ ...approval, selectors: [{ id: 'x', kind: 'target-act', ports: [{ from: 9, to: 1 }] }] }),
    ).toBe('ERR_DOCUMENT_INVALID');
    expect(bad({ ...approval, validFrom: '2026-02-30T00:00:00.000Z' })).toBe('ERR_DOCUMENT_INVALID');
  });

  it('decides event-time windows and feed scope', () => {
    expect(approvalInForce(approval, Date.parse('2026-01-01T00:00:00Z'))).toBe(true);
    expect(approvalInForce(approval, Date.parse('2026-07-01T00:00:00Z'))).toBe(false);
    expect(approvalInForce(approval, Date.parse('2025-12-31T23:59:59Z'))).toBe(false);
    const feed = {
      providerId: 'prov-a',
      feedId: 'feed-1',
      channel: 'specified-foreign-to-domestic' as const,
    };
    expect(approvalCoversFeed(approval, feed)).toBe(true);
    expect(approvalCoversFeed(approval, { ...feed, feedId: 'feed-2' })).toBe(false);
    expect(approvalCoversFeed(approval, { ...feed, providerId: 'prov-b' })).toBe(false);
    expect(approvalCoversFeed(approval, { ...feed, channel: 'transit-foreign-to-foreign' })).toBe(false);
  });

  it('verifies agreements: ranges parse and waivers lie inside them', () => {
    const agreement: AgreementPayload = {
      type: 'agreement',
      id: 'agr-1',
      channel: 'agreement-foreign-to-domestic',
      operatorId: 'op-power-1',
      providers: ['prov-a'],
      ranges: ['192.0.2.0/24', '2001:db8::/32'],
      pseudonymisationWaived: ['192.0.2.128/25'],
      validFrom: '2026-01-01T00:00:00.000Z',
      validUntil: '2027-01-01T00:00:00.000Z',
      issuedAt: '2026-01-01T00:00:00.000Z',
    };
    expect(code(verifyAgreement(signDocument(agreement, [commission]), trust, NOW))).toBe('ok');
    expect(
      code(
        verifyAgreement(
          signDocument({ ...agreement, pseudonymisationWaived: ['198.51.100.0/24'] }, [commission]),
          trust,
          NOW,
        ),
      ),
    ).toBe('ERR_DOCUMENT_INVALID');
    expect(
      code(
        verifyAgreement(signDocument({ ...agreement, ranges: ['192.0.2.1/24'] }, [commission]), trust, NOW),
      ),
    ).toBe('ERR_DOCUMENT_INVALID');
  });

  it('verifies revocations', () => {
    const rev = {
      type: 'revocation' as const,
      id: 'rev-1',
      revokes: approval.id,
      issuedAt: '2026-02-01T00:00:00.000Z',
      reason: 'case closed',
    };
    const r = verifyRevocation(signDocument(rev, [commission]), trust, NOW);
    expect(r.ok && r.payload.revokes).toBe(approval.id);
    expect(
      code(verifyRevocation(signDocument({ ...rev, revokes: undefined } as never, [commission]), trust, NOW)),
    ).toBe('ERR_DOCUMENT_INVALID');
  });

  it('returns typed errors, never throws, for arbitrary documents from the bus', () => {
    const doc = signDocument(approval, [commission]);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.record({ payload: fc.jsonValue(), signatures: fc.constant(doc.signatures) }),
        ),
        (input) => {
          for (const f of [verifyApproval, verifyAgreement, verifyRevocation]) {
            const r = f(input, trust, NOW);
            if (!r.ok) expect(r.error).toBeInstanceOf(AcdError);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('demonstration feed set', () => {
  it('has a signed approval for every channel, valid 2000-01-01 to 2100-01-01, keeping all channel traffic', () => {
    const set = demoFeedSet();
    expect(set.approvals.map((a) => a.payload.channel)).toEqual([...LEGAL_CHANNELS]);
    for (const doc of set.approvals) {
      const r = verifyApproval(doc, set.trustedKeys, NOW, { allowDemo: true });
      expect(code(r)).toBe('ok');
      if (!r.ok) continue;
      expect(r.demo).toBe(true);
      expect(approvalInForce(r.payload, Date.parse('2000-01-01T00:00:00Z'))).toBe(true);
      expect(approvalInForce(r.payload, Date.parse('2099-12-31T23:59:59Z'))).toBe(true);
      expect(r.payload.selectors.map((s) => s.kind)).toEqual(['all-channel-traffic']);
    }
    for (const doc of set.agreements)
      expect(code(verifyAgreement(doc, set.trustedKeys, NOW, { allowDemo: true }))).toBe('ok');
    // Deterministic: the same bytes every time.
    expect(JSON.stringify(demoFeedSet().approvals)).toBe(JSON.stringify(set.approvals));
  });

  it('is refused outside demo/eval mode, even when the demo key is trusted', () => {
    const set = demoFeedSet();
    for (const doc of set.approvals)
      expect(code(verifyApproval(doc, set.trustedKeys, NOW))).toBe('ERR_DEMO_KEY_REFUSED');
    expect(isDemoKey(set.approvals[0]!.signatures[0]!.keyId)).toBe(true);
    expect(isDemoKey(commission.keyId)).toBe(false);
  });

  it('requires demo: true on anything a demo key signs', () => {
    const set = demoFeedSet();
    const notMarked = { ...set.approvals[0]!.payload, demo: false };
    const r = verifyApproval(signDocument(notMarked, [demoSigningKey('commission')]), set.trustedKeys, NOW, {
      allowDemo: true,
    });
    expect(code(r)).toBe('ERR_DOCUMENT_INVALID');
  });

  it('ships the key file that matches DEMO_KEY_IDS', () => {
    expect(
      demoTrustedKeys()
        .list()
        .map((k) => k.keyId)
        .sort(),
    ).toEqual([...DEMO_KEY_IDS].sort());
  });
});
