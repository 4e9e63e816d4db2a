import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ManualClock } from '../../common/clock.ts';
import { AcdError } from '../../common/errors.ts';
import {
  addSignature,
  signDocument,
  SigningKey,
  resolveTrustedKey,
  TrustedKeySet,
} from '../../common/signing/index.ts';
import { demoSigningKey, demoTrustedKeys } from '../../common/signing/demo.ts';
import type { ReidentificationRequestPayload } from '../../common/schema/approval.ts';
import { KeyStore } from './keys.ts';
import { createReidentifier, type Reidentifier } from './reidentify.ts';

const DAY = 86_400_000;
const alice = SigningKey.generate();
const aliceSecondKey = SigningKey.generate();
const bob = SigningKey.generate();
const mallory = SigningKey.generate();
const entry = (k: SigningKey, signer: string) =>
  resolveTrustedKey({
    publicKey: k.publicKey,
    signer,
    validFrom: '2025-01-01T00:00:00Z',
    validUntil: '2030-01-01T00:00:00Z',
    scopes: ['reidentification'],
  });
const trust = new TrustedKeySet([entry(alice, 'alice'), entry(aliceSecondKey, 'alice'), entry(bob, 'bob')]);

let dir: string;
let clock: ManualClock;
let store: KeyStore;
let reid: Reidentifier;
let p4: string;
let p6: string;
let epoch: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acd-reid-'));
  clock = new ManualClock(Date.UTC(2026, 2, 1));
  store = new KeyStore({ dir, epochLifetimeMs: 30 * DAY, retentionMs: 365 * DAY }, clock);
  await store.load();
  const k = await store.ensureCurrent();
  epoch = k.epoch;
  p4 = k.cryptoPan.pseudonymiseAddress('10.1.2.3');
  p6 = k.cryptoPan.pseudonymiseAddress('2001:db8:1::42');
  reid = createReidentifier({ keys: store, trust, providerId: 'prov-a', clock });
});
afterAll(async () => {
  store.close();
  await rm(dir, { recursive: true, force: true });
});

function request(over: Partial<ReidentificationRequestPayload> = {}): ReidentificationRequestPayload {
  return {
    type: 'reidentification-request',
    id: 'reid-1',
    providerId: 'prov-a',
    purpose: 'incident-response',
    caseId: 'case-42',
    issuedAt: '2026-03-01T00:00:00.000Z',
    expiresAt: '2026-03-02T00:00:00.000Z',
    records: [
      { recordId: 'prov-a/192.0.2.9/0/100/3', keyEpoch: epoch, addresses: [p4] },
      { recordId: 'prov-a/192.0.2.9/0/100/4', keyEpoch: epoch, addresses: [p6] },
    ],
    ...over,
  };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (!(err instanceof AcdError)) throw err;
    return err.code;
  }
}

describe('re-identification at the edge', () => {
  it('reveals the clear addresses of exactly the named records when two distinct signers authorise', () => {
    const answer = reid.answer(signDocument(request(), [alice, bob]));
    expect(answer.results).toEqual([
      { recordId: 'prov-a/192.0.2.9/0/100/3', keyEpoch: epoch, pseudonym: p4, address: '10.1.2.3' },
      { recordId: 'prov-a/192.0.2.9/0/100/4', keyEpoch: epoch, pseudonym: p6, address: '2001:db8:1::42' },
    ]);
    expect(answer.signers.map((s) => s.signer)).toEqual(['alice', 'bob']);
    expect(answer).toMatchObject({ requestId: 'reid-1', caseId: 'case-42', purpose: 'incident-response' });
  });

  it('refuses one signer, the same signer twice (one key or two), and untrusted signers', () => {
    expect(codeOf(() => reid.answer(signDocument(request(), [alice])))).toBe('ERR_REID_SINGLE_SIGNER');
    expect(codeOf(() => reid.answer(signDocument(request(), [alice, aliceSecondKey])))).toBe(
      'ERR_REID_SAME_SIGNER',
    );
    const twice = signDocument(request(), [alice]);
    twice.signatures.push(twice.signatures[0]!);
    expect(codeOf(() => reid.answer(twice))).toBe('ERR_REID_SAME_SIGNER');
    expect(codeOf(() => reid.answer(signDocument(request(), [alice, mallory])))).toBe('ERR_KEY_UNKNOWN');
  });

  it('refuses expired requests, other providers, unknown key epochs and tampered requests', () => {
    expect(
      codeOf(() =>
        reid.answer(
          signDocument(
            request({ expiresAt: '2026-03-01T00:00:00.000Z', issuedAt: '2026-02-28T00:00:00.000Z' }),
            [alice, bob],
          ),
        ),
      ),
    ).toBe('ERR_REID_EXPIRED');
    expect(codeOf(() => reid.answer(signDocument(request({ providerId: 'prov-b' }), [alice, bob])))).toBe(
      'ERR_REID_WRONG_PROVIDER',
    );
    const unknownEpoch = request({ records: [{ recordId: 'r', keyEpoch: epoch + 5, addresses: [p4] }] });
    expect(codeOf(() => reid.answer(signDocument(unknownEpoch, [alice, bob])))).toBe('ERR_KEY_EPOCH_UNKNOWN');
    const doc = signDocument(request(), [alice, bob]);
    doc.payload.records[0]!.recordId = 'another-record';
    expect(codeOf(() => reid.answer(doc))).toBe('ERR_SIGNATURE_INVALID');
    const noCase = { ...request(), caseId: undefined } as unknown as ReidentificationRequestPayload;
    expect(codeOf(() => reid.answer(signDocument(noCase, [alice, bob])))).toBe('ERR_DOCUMENT_INVALID');
  });

  it('refuses records and addresses the request does not name', () => {
    const req = reid.authorise(signDocument(request(), [alice, bob]));
    expect(reid.resolve(req, 'prov-a/192.0.2.9/0/100/3', p4).address).toBe('10.1.2.3');
    expect(codeOf(() => reid.resolve(req, 'prov-a/192.0.2.9/0/100/5', p4))).toBe('ERR_REID_RECORD_NOT_NAMED');
    expect(codeOf(() => reid.resolve(req, 'prov-a/192.0.2.9/0/100/3', p6))).toBe('ERR_REID_RECORD_NOT_NAMED');
    clock.advance(DAY);
    expect(codeOf(() => reid.resolve(req, 'prov-a/192.0.2.9/0/100/3', p4))).toBe('ERR_REID_EXPIRED');
    clock.advance(-DAY);
  });

  it('refuses demonstration authorisers unless in demo mode', () => {
    const demoTrust = demoTrustedKeys();
    const doc = signDocument(request(), [
      demoSigningKey('reid-authoriser-a'),
      demoSigningKey('reid-authoriser-b'),
    ]);
    const prod = createReidentifier({ keys: store, trust: demoTrust, providerId: 'prov-a', clock });
    expect(codeOf(() => prod.answer(doc))).toBe('ERR_DEMO_KEY_REFUSED');
    // In demo mode the payload must also say so; this one does not.
    const demo = createReidentifier({
      keys: store,
      trust: demoTrust,
      providerId: 'prov-a',
      clock,
      allowDemo: true,
    });
    expect(codeOf(() => demo.answer(doc))).toBe('ERR_DOCUMENT_INVALID');
  });

  it('throws only typed errors for arbitrary input from the bus', () => {
    const good = signDocument(request(), [alice, bob]);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.record({ payload: fc.jsonValue(), signatures: fc.constant(good.signatures) }),
        ),
        (input) => {
          codeOf(() => reid.answer(input));
        },
      ),
      { numRuns: 300 },
    );
    const extra = signDocument(request(), [alice]);
    addSignature(extra, bob);
    expect(codeOf(() => reid.answer(extra))).toBe('ok');
  });
});
