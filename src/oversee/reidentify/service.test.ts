/**
 * The centre's re-identification service (R-OVS-2) against a memory store, a memory bus and an
 * edge stand-in that runs the real edge verifier (`createReidentifier`: signatures with the
 * `reidentification` scope, two distinct signers) over a real Crypto-PAn key. Personal keys come
 * from the real key store (`acd keys add-signer`), trusted by the edge through `exportPublic`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.ts';
import type { ApprovalCaseBody } from '../../common/schema/case.ts';
import { DEMO_KEY_IDS, TrustedKeySet, verifyDocument } from '../../common/signing/index.ts';
import { demoTrustedKeys } from '../../common/signing/index.ts';
import { CryptoPan, createReidentifier } from '../../select/pseudonymise/index.ts';
import { MemoryStore } from '../../store/memory/store.ts';
import { flowRecord } from '../../store/testing.ts';
import type { CaseRecord } from '../../store/types.ts';
import { createMemoryBus, type Bus, type DeliveredControl } from '../../transport/index.ts';
import type { AuditInput } from '../audit/log.ts';
import { KeyStore } from '../keys/index.ts';
import { ReidentifyError } from './errors.ts';
import {
  createReidentificationService,
  REID_KIND,
  type ReidActor,
  type ReidentificationService,
} from './service.ts';
import { capture } from '../../../test/helpers/cli.ts';
import { approvalCase as approvalCaseAt } from './testing.ts';

const NOW = Date.UTC(2026, 0, 10, 12);
const PROVIDER = 'prov-a';
const alice: ReidActor = { user: 'alice', role: 'analyst', purpose: 'investigation' };
const bob: ReidActor = { user: 'bob', role: 'supervisor', purpose: 'investigation' };
const carol: ReidActor = { user: 'carol', role: 'police', purpose: 'investigation' };

/** An approval case covering `prov-a` at `NOW` (see testing.ts). */
function approvalCase(id: string, over: Partial<ApprovalCaseBody> = {}, state = 'approved'): CaseRecord {
  return approvalCaseAt(id, [PROVIDER], NOW, over, state);
}

const until = async <T>(f: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> => {
  for (let i = 0; i < 500; i++) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
};

interface World {
  dir: string;
  clock: ManualClock;
  store: MemoryStore;
  bus: Bus;
  keys: KeyStore;
  audit: AuditInput[];
  log: ReturnType<typeof capture>;
  service: ReidentificationService;
  /** Requests the edge stand-in received. */
  received: DeliveredControl[];
  /** What the edge answers: `answer` runs the real verifier; `refuse` sends a code. */
  edgeMode: { mode: 'answer' | 'refuse' | 'silent' };
  cp: CryptoPan;
  /** Clear source address of each stored record (known only to the test and the edge). */
  originals: Map<string, string>;
  recordIds: string[];
}

let w: World;

async function makeWorld(opts: { demo?: boolean } = {}): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'acd-reid-'));
  const clock = new ManualClock(NOW);
  const store = new MemoryStore();
  await store.open();
  const bus = createMemoryBus({ clock });
  await bus.start();
  const keys = new KeyStore(join(dir, 'keys'), clock);
  await keys.init();
  await keys.addSigner('alice');
  await keys.addSigner('bob');
  const cp = new CryptoPan(randomBytes(32));
  const originals = new Map<string, string>();
  const recordIds: string[] = [];
  const recs = Array.from({ length: 4 }, (_, i) => {
    const clear = `126.73.${i + 1}.${20 + i}`;
    const r = flowRecord({ t: NOW - 60_000 + i, index: 100 + i, src: cp.pseudonymiseAddress(clear) });
    originals.set(r.recordId, clear);
    recordIds.push(r.recordId);
    return r;
  });
  await store.appendRecords(recs);
  await store.putCase(approvalCase('case-1'));

  // The edge stand-in: the real verifier, trusting the exported personal keys (and the demo keys).
  const exported = await keys.exportPublic();
  const trust = TrustedKeySet.fromConfig(
    exported.keys.filter((k) => k.scopes !== undefined).map(({ purpose: _p, status: _s, ...k }) => k),
  ).with(
    demoTrustedKeys()
      .list()
      .filter((k) => k.scopes.includes('reidentification')),
  );
  const reidentifier = createReidentifier({
    keys: { get: () => ({ cryptoPan: cp }) },
    trust,
    providerId: PROVIDER,
    clock,
    allowDemo: opts.demo ?? false,
  });
  const received: DeliveredControl[] = [];
  const edgeMode: World['edgeMode'] = { mode: 'answer' };
  await bus.subscribeControl(PROVIDER, async (m) => {
    if (m.kind !== 'reident-request') return;
    received.push(m);
    if (edgeMode.mode === 'silent') return;
    const doc = JSON.parse(new TextDecoder().decode(m.payload)) as unknown;
    let body: unknown;
    try {
      if (edgeMode.mode === 'refuse') throw new ReidentifyError('ERR_REID_TRANSITION', 'x');
      const a = reidentifier.answer(doc);
      body = {
        type: 'reidentification-answer',
        outcome: 'answered',
        requestId: a.requestId,
        caseId: a.caseId,
        results: a.results,
      };
    } catch {
      body = {
        type: 'reidentification-answer',
        outcome: 'refused',
        requestId: (doc as { payload: { id: string } }).payload.id,
        code: 'ERR_REID_RECORD_UNKNOWN',
      };
    }
    await bus.publishControlAnswer(PROVIDER, {
      messageId: `${PROVIDER}.reid.${m.messageId}`,
      kind: 'reident-answer',
      from: PROVIDER,
      issuedAt: clock.now(),
      correlationId: m.messageId,
      contentType: 'application/acd-reident-answer+json',
      payload: new TextEncoder().encode(JSON.stringify(body)),
    });
  });

  const audit: AuditInput[] = [];
  const log = capture();
  const service = createReidentificationService({
    store,
    clock,
    bus,
    signerFor: (u) => keys.personalSigningKey(u),
    audit: (i) => {
      audit.push(structuredClone(i));
      return Promise.resolve();
    },
    logger: pino({ level: 'debug' }, log.stream),
    sealKeyFile: join(dir, 'reidentification', 'seal.key'),
    ...(opts.demo !== undefined ? { demo: opts.demo } : {}),
  });
  await service.start();
  return { dir, clock, store, bus, keys, audit, log, service, received, edgeMode, cp, originals, recordIds };
}

async function disposeWorld(x: World): Promise<void> {
  await x.service.stop();
  await x.bus.stop();
  await x.store.close();
  await rm(x.dir, { recursive: true, force: true });
}

const named = (x: World, i: number, address?: string) => {
  const id = x.recordIds[i]!;
  const clear = x.originals.get(id)!;
  return { recordId: id, keyEpoch: 3, addresses: [address ?? x.cp.pseudonymiseAddress(clear)] };
};

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ReidentifyError) return err.code;
    throw err;
  }
  return 'no error';
}

describe('re-identification service', () => {
  beforeEach(async () => {
    w = await makeWorld();
  });
  afterEach(async () => {
    await disposeWorld(w);
  });

  it('requests (A), authorises (B), seals the edge answer and reveals it once to each party', async () => {
    const input = {
      caseId: 'case-1',
      purpose: 'incident-response',
      providerId: PROVIDER,
      records: [named(w, 0), named(w, 2)],
    };
    const v = await w.service.request(input, alice);
    expect(v.state).toBe('awaiting-second');
    expect(w.received).toHaveLength(0);

    const sent = await w.service.authorise(v.id, bob);
    expect(sent.state).toBe('sent');
    expect(sent.secondAuthoriser).toBe('bob');
    const answered = await until(async () => {
      const g = await w.service.get(v.id, alice);
      return g.state === 'answered' ? g : undefined;
    }, 'the answer');
    expect(w.received).toHaveLength(1);
    // The edge got one envelope signed by alice's and bob's personal keys.
    const doc = JSON.parse(new TextDecoder().decode(w.received[0]!.payload)) as {
      signatures: { keyId: string }[];
    };
    const aliceKey = await w.keys.personalSigningKey('alice');
    const bobKey = await w.keys.personalSigningKey('bob');
    expect(doc.signatures.map((s) => s.keyId)).toEqual([aliceKey?.keyId, bobKey?.keyId]);
    expect(answered.sealedReference).toMatch(/^sha256:[0-9a-f]{64}$/);

    // The store holds no clear address.
    const stored = JSON.stringify(await w.store.getCase(v.id));
    const clear = [w.originals.get(w.recordIds[0]!)!, w.originals.get(w.recordIds[2]!)!];
    for (const a of clear) expect(stored).not.toContain(a);

    const r1 = await w.service.reveal(v.id, alice);
    expect(r1.results.map((r) => [r.recordId, r.address])).toEqual([
      [w.recordIds[0], clear[0]],
      [w.recordIds[2], clear[1]],
    ]);
    expect(await codeOf(w.service.reveal(v.id, alice))).toBe('ERR_REID_ALREADY_REVEALED');
    expect(await codeOf(w.service.reveal(v.id, carol))).toBe('ERR_REID_NOT_FOUND');
    const r2 = await w.service.reveal(v.id, bob);
    expect(r2.results).toEqual(r1.results);
    const after = JSON.parse(JSON.stringify(await w.store.getCase(v.id))) as {
      body: { sealed: { wrapped: unknown[] } };
    };
    expect(after.body.sealed.wrapped).toEqual([]);

    // The audit log says who, why, which records and the sealed reference; never an address.
    expect(w.audit.map((a) => a.action)).toEqual([
      'reidentification.request',
      'reidentification.authorise',
      'reidentification.answered',
      'reidentification.reveal',
      'reidentification.reveal',
    ]);
    const ans = w.audit[2]!;
    expect(ans.objectIds).toEqual([v.id, 'case-1', w.recordIds[0], w.recordIds[2]]);
    expect(ans.detail).toMatchObject({
      requester: 'alice',
      secondAuthoriser: 'bob',
      purpose: 'incident-response',
      caseId: 'case-1',
      sealedReference: answered.sealedReference,
    });
    expect(w.audit[3]!.detail).toMatchObject({ sealedReference: answered.sealedReference });
    const auditText = JSON.stringify(w.audit);
    const logText = w.log.text();
    for (const a of clear) {
      expect(auditText).not.toContain(a);
      expect(logText).not.toContain(a);
    }
  });

  it('refuses the requester as second authoriser (ERR_REID_SAME_PERSON): a one-person request is never sent, then expires', async () => {
    const v = await w.service.request(
      { caseId: 'case-1', purpose: 'incident-response', providerId: PROVIDER, records: [named(w, 1)] },
      alice,
    );
    const err = await w.service.authorise(v.id, alice).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReidentifyError);
    expect((err as ReidentifyError).code).toBe('ERR_REID_SAME_PERSON');
    expect(w.received).toHaveLength(0);
    expect(await codeOf(w.service.authorise(v.id, carol))).toBe('ERR_REID_NO_SIGNING_KEY');
    expect(w.received).toHaveLength(0);
    w.clock.advance(86_400_000);
    expect(await w.service.expireDue()).toEqual({ expired: 1, shredded: 0 });
    expect((await w.service.get(v.id, alice)).state).toBe('expired');
    expect(await codeOf(w.service.authorise(v.id, alice))).toBe('ERR_REID_TRANSITION');
    // No longer awaiting a second person: hidden from anyone but the parties.
    expect(await codeOf(w.service.authorise(v.id, bob))).toBe('ERR_REID_NOT_FOUND');
    expect(w.received).toHaveLength(0);
    expect(w.audit.map((a) => a.action)).toEqual(['reidentification.request', 'reidentification.expired']);
  });

  it('refuses before signing a pseudonym that is not the record’s own endpoint, or a record of another provider, epoch or none', async () => {
    const base = { caseId: 'case-1', purpose: 'incident-response', providerId: PROVIDER };
    // Record 0 with record 1's pseudonym: the key would reveal it, so the centre refuses first.
    const other = named(w, 1).addresses[0]!;
    expect(await codeOf(w.service.request({ ...base, records: [named(w, 0, other)] }, alice))).toBe(
      'ERR_REID_RECORD_MISMATCH',
    );
    // The clear destination (not pseudonymised) is no pseudonym to reveal.
    expect(await codeOf(w.service.request({ ...base, records: [named(w, 0, '203.0.113.9')] }, alice))).toBe(
      'ERR_REID_RECORD_MISMATCH',
    );
    expect(
      await codeOf(w.service.request({ ...base, records: [{ ...named(w, 0), keyEpoch: 4 }] }, alice)),
    ).toBe('ERR_REID_RECORD_MISMATCH');
    expect(
      await codeOf(
        w.service.request({ ...base, records: [{ ...named(w, 0), recordId: 'prov-a/nope/0/0/0' }] }, alice),
      ),
    ).toBe('ERR_REID_RECORD_NOT_FOUND');
    expect(await codeOf(w.service.request({ ...base, records: [named(w, 0), named(w, 0)] }, alice))).toBe(
      'ERR_REID_REQUEST_INVALID',
    );
    const foreign = flowRecord({ t: NOW, index: 900, providerId: 'prov-b' });
    await w.store.appendRecords([foreign]);
    await w.store.putCase(approvalCase('case-b', { providers: ['*'] }));
    expect(
      await codeOf(
        w.service.request(
          {
            ...base,
            caseId: 'case-b',
            records: [
              {
                recordId: foreign.recordId,
                keyEpoch: 3,
                addresses: [foreign.fields.sourceIPv4Address as string],
              },
            ],
          },
          alice,
        ),
      ),
    ).toBe('ERR_REID_RECORD_MISMATCH');
    expect(await codeOf(w.service.request({ ...base, records: [named(w, 0)] }, carol))).toBe(
      'ERR_REID_NO_SIGNING_KEY',
    );
    expect(w.audit).toEqual([]);
    expect((await w.store.listCases({ kind: REID_KIND, limit: 10 })).items).toEqual([]);
  });

  it('requires an approved, valid approval case covering the provider', async () => {
    const req = (caseId: string) =>
      codeOf(
        w.service.request(
          { caseId, purpose: 'incident-response', providerId: PROVIDER, records: [named(w, 0)] },
          alice,
        ),
      );
    await w.store.putCase(approvalCase('case-sub', {}, 'submitted'));
    await w.store.putCase(approvalCase('case-old', { validUntil: NOW - 1 }));
    await w.store.putCase(approvalCase('case-other', { providers: ['prov-z'] }));
    await w.store.putCase(approvalCase('case-ret', { kind: 'retention-extension' }));
    expect(await req('case-none')).toBe('ERR_REID_CASE_NOT_FOUND');
    expect(await req('case-sub')).toBe('ERR_REID_CASE_NOT_APPROVED');
    expect(await req('case-old')).toBe('ERR_REID_CASE_NOT_APPROVED');
    expect(await req('case-other')).toBe('ERR_REID_CASE_NOT_APPROVED');
    expect(await req('case-ret')).toBe('ERR_REID_CASE_NOT_APPROVED');
    // A request never outlives its case.
    await w.store.putCase(approvalCase('case-short', { validUntil: NOW + 3_600_000 }));
    const v = await w.service.request(
      { caseId: 'case-short', purpose: 'incident-response', providerId: PROVIDER, records: [named(w, 0)] },
      alice,
    );
    expect(v.expiresAt).toBe(NOW + 3_600_000);
    // Revoked between request and authorisation: not sent.
    await w.store.putCase(approvalCase('case-short', { validUntil: NOW + 3_600_000 }, 'revoked'));
    expect(await codeOf(w.service.authorise(v.id, bob))).toBe('ERR_REID_CASE_NOT_APPROVED');
    expect(w.received).toHaveLength(0);
  });

  it('keeps the edge’s refusal code and seals nothing', async () => {
    w.edgeMode.mode = 'refuse';
    const v = await w.service.request(
      { caseId: 'case-1', purpose: 'incident-response', providerId: PROVIDER, records: [named(w, 3)] },
      alice,
    );
    await w.service.authorise(v.id, bob);
    const g = await until(async () => {
      const x = await w.service.get(v.id, bob);
      return x.state === 'refused' ? x : undefined;
    }, 'the refusal');
    expect(g.refusal).toBe('ERR_REID_RECORD_UNKNOWN');
    expect(g.sealedReference).toBeNull();
    expect(await codeOf(w.service.reveal(v.id, alice))).toBe('ERR_REID_TRANSITION');
    expect(w.audit.at(-1)).toMatchObject({
      action: 'reidentification.refused',
      detail: { code: 'ERR_REID_RECORD_UNKNOWN' },
    });
  });

  it('expires sent requests without an answer and destroys the wrapped keys when the reveal window closes', async () => {
    w.edgeMode.mode = 'silent';
    const a = await w.service.request(
      { caseId: 'case-1', purpose: 'incident-response', providerId: PROVIDER, records: [named(w, 0)] },
      alice,
    );
    await w.service.authorise(a.id, bob);
    w.edgeMode.mode = 'answer';
    const b = await w.service.request(
      { caseId: 'case-1', purpose: 'incident-response', providerId: PROVIDER, records: [named(w, 1)] },
      alice,
    );
    await w.service.authorise(b.id, bob);
    await until(
      async () => ((await w.service.get(b.id, alice)).state === 'answered' ? true : undefined),
      'the answer',
    );
    await w.service.reveal(b.id, bob);
    w.clock.advance(86_400_000);
    expect(await w.service.expireDue()).toEqual({ expired: 1, shredded: 1 });
    expect((await w.service.get(a.id, alice)).state).toBe('expired');
    expect(await codeOf(w.service.reveal(b.id, alice))).toBe('ERR_REID_REVEAL_EXPIRED');
    const stored = (await w.store.getCase(b.id))?.body as {
      sealed: { wrapped: unknown[]; reference: string };
    };
    expect(stored.sealed.wrapped).toEqual([]);
    expect(stored.sealed.reference).toMatch(/^sha256:/);
    expect(await w.service.expireDue()).toEqual({ expired: 0, shredded: 0 });
  });

  it('ignores malformed answers, answers from another provider or envelope, and answers that do not match the request', async () => {
    w.edgeMode.mode = 'silent';
    const v = await w.service.request(
      { caseId: 'case-1', purpose: 'incident-response', providerId: PROVIDER, records: [named(w, 0)] },
      alice,
    );
    await w.service.authorise(v.id, bob);
    await until(() => (w.received.length === 1 ? true : undefined), 'the request');
    const msg = (target: string, body: unknown, correlationId = `centre.reid.${v.id}`): DeliveredControl => ({
      messageId: `m-${Math.random()}`,
      kind: 'reident-answer',
      from: target,
      issuedAt: NOW,
      correlationId,
      contentType: 'application/acd-reident-answer+json',
      payload: new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)),
      target,
      deliveryCount: 1,
    });
    const clear = w.originals.get(w.recordIds[0]!)!;
    const pseudonym = named(w, 0).addresses[0]!;
    const good = {
      type: 'reidentification-answer',
      outcome: 'answered',
      requestId: v.id,
      caseId: 'case-1',
      results: [{ recordId: w.recordIds[0], keyEpoch: 3, pseudonym, address: clear }],
    };
    await w.service.handleAnswer(msg(PROVIDER, '{nope'));
    await w.service.handleAnswer(msg('prov-b', good));
    await w.service.handleAnswer(msg(PROVIDER, good, 'centre.reid.other'));
    await w.service.handleAnswer(
      msg(PROVIDER, {
        ...good,
        results: [...good.results, { recordId: w.recordIds[1], keyEpoch: 3, pseudonym, address: clear }],
      }),
    );
    await w.service.handleAnswer(msg(PROVIDER, { ...good, requestId: 'reid-unknown' }));
    expect((await w.service.get(v.id, alice)).state).toBe('sent');
    await w.service.handleAnswer(msg(PROVIDER, good));
    expect((await w.service.get(v.id, alice)).state).toBe('answered');
    // A redelivery changes nothing.
    const before = await w.store.getCase(v.id);
    await w.service.handleAnswer(msg(PROVIDER, good));
    expect(await w.store.getCase(v.id)).toEqual(before);
    expect(w.log.text()).not.toContain(clear);
  });

  it('lists own requests, authorised ones and those awaiting a second person; hides the rest', async () => {
    const mine = await w.service.request(
      { caseId: 'case-1', purpose: 'incident-response', providerId: PROVIDER, records: [named(w, 0)] },
      alice,
    );
    const byBob = await w.service.request(
      { caseId: 'case-1', purpose: 'incident-response', providerId: PROVIDER, records: [named(w, 1)] },
      bob,
    );
    await w.service.authorise(byBob.id, alice);
    expect((await w.service.list(carol, { limit: 10 })).items.map((x) => x.id)).toEqual([mine.id]);
    expect(new Set((await w.service.list(alice, { limit: 10 })).items.map((x) => x.id))).toEqual(
      new Set([mine.id, byBob.id]),
    );
    expect(await codeOf(w.service.get(byBob.id, carol))).toBe('ERR_REID_NOT_FOUND');
    expect((await w.service.get(mine.id, carol)).state).toBe('awaiting-second');
  });
});

describe('re-identification service (demo mode)', () => {
  let d: World;
  beforeEach(async () => {
    d = await makeWorld({ demo: true });
  });
  afterEach(async () => {
    await disposeWorld(d);
  });

  it('maps demo-analyst and demo-supervisor to the demonstration authoriser keys, payload demo: true', async () => {
    const demoA = { user: 'demo-analyst', role: 'analyst', purpose: 'investigation' };
    const demoB = { user: 'demo-supervisor', role: 'supervisor', purpose: 'investigation' };
    const v = await d.service.request(
      { caseId: 'case-1', purpose: 'incident-response', providerId: PROVIDER, records: [named(d, 0)] },
      demoA,
    );
    expect(v.demo).toBe(true);
    // A real key does not co-sign a demonstration request.
    expect(await codeOf(d.service.authorise(v.id, bob))).toBe('ERR_REID_NO_SIGNING_KEY');
    await d.service.authorise(v.id, demoB);
    await until(
      async () => ((await d.service.get(v.id, demoA)).state === 'answered' ? true : undefined),
      'the answer',
    );
    const doc = JSON.parse(new TextDecoder().decode(d.received[0]!.payload)) as unknown;
    const verified = verifyDocument(doc, demoTrustedKeys(), { scope: 'reidentification', now: NOW });
    expect(verified.payload.demo).toBe(true);
    expect(verified.signers.map((s) => s.keyId)).toEqual([DEMO_KEY_IDS[1], DEMO_KEY_IDS[2]]);
    const { results } = await d.service.reveal(v.id, demoB);
    expect(results[0]?.address).toBe(d.originals.get(d.recordIds[0]!));
  });

  it('outside demo mode the demo users hold no key', async () => {
    const x = await makeWorld();
    try {
      const demoA = { user: 'demo-analyst', role: 'analyst', purpose: 'investigation' };
      expect(
        await codeOf(
          x.service.request(
            { caseId: 'case-1', purpose: 'incident-response', providerId: PROVIDER, records: [named(x, 0)] },
            demoA,
          ),
        ),
      ).toBe('ERR_REID_NO_SIGNING_KEY');
    } finally {
      await disposeWorld(x);
    }
  });
});
