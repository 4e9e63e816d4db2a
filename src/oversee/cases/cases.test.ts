import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.ts';
import {
  legalParametersFrom,
  shippedLegalParameterFile,
  shippedLegalParameters,
} from '../../common/legal/index.ts';
import { verifyApproval, verifyRevocation } from '../../common/schema/approval.ts';
import { CASE_STATES, CASE_TRANSITIONS, type CaseState } from '../../common/schema/case.ts';
import {
  demoSigningKey,
  resolveTrustedKey,
  SigningKey,
  TrustedKeySet,
  verifyDocument,
} from '../../common/signing/index.ts';
import { NotFoundError, ValidationError } from '../../serve/errors.ts';
import { MemoryStore } from '../../store/memory/store.ts';
import type { ControlMessage } from '../../transport/bus.ts';
import type { AuditInput } from '../audit/log.ts';
import { CaseSigningError, CaseTransitionError } from './errors.ts';
import { checkCaseCreateBody, checkCasePatchBody, checkCommunicationBody, parseCaseFile } from './input.ts';
import {
  createCaseService,
  startCaseExpiry,
  type CaseActor,
  type CaseInput,
  type CaseService,
  type CaseServiceDeps,
} from './service.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 1, 9, 0, 0);
const analyst: CaseActor = { user: 'ana', role: 'analyst', purpose: 'investigation' };
const police: CaseActor = { user: 'pol', role: 'police', purpose: 'investigation' };
const inspector: CaseActor = { user: 'insp', role: 'inspector', purpose: 'oversight' };

function trustOf(key: SigningKey): TrustedKeySet {
  return new TrustedKeySet([
    resolveTrustedKey({
      publicKey: key.publicKey,
      signer: 'commission',
      validFrom: '2020-01-01T00:00:00.000Z',
      validUntil: '2100-01-01T00:00:00.000Z',
      scopes: ['approval'],
    }),
  ]);
}

function acquisition(over: Partial<CaseInput> = {}): CaseInput {
  return {
    kind: 'acquisition',
    title: 'C2 servers of campaign X',
    justification: 'Beaconing from domestic hosts to known C2 servers abroad.',
    channel: 'specified-foreign-to-domestic',
    providers: ['prov-a', 'prov-b'],
    targetActs: ['c2-communication'],
    targets: ['198.51.100.0/24 (C2)'],
    selectors: [{ id: 's1', kind: 'indicator-list', values: ['198.51.100.7'] }],
    validFrom: T0,
    validUntil: T0 + 30 * DAY,
    ...over,
  };
}

interface Harness {
  service: CaseService;
  store: MemoryStore;
  clock: ManualClock;
  key: SigningKey;
  published: { target: string; message: ControlMessage }[];
  audits: AuditInput[];
}

async function harness(over: Partial<CaseServiceDeps> = {}): Promise<Harness> {
  const store = new MemoryStore();
  await store.open();
  const clock = new ManualClock(T0);
  const key = SigningKey.generate();
  const published: Harness['published'] = [];
  const audits: AuditInput[] = [];
  let n = 0;
  const service = createCaseService({
    store,
    clock,
    legal: shippedLegalParameters(),
    keys: { commissionKey: () => Promise.resolve(key) },
    publish: (target, message) => {
      published.push({ target, message });
      return Promise.resolve();
    },
    audit: (input) => {
      audits.push(input);
    },
    newId: (p) => `${p}-${++n}`,
    ...over,
  });
  return { service, store, clock, key, published, audits };
}

function decode(m: ControlMessage): unknown {
  return JSON.parse(new TextDecoder().decode(m.payload)) as unknown;
}

/** Brings a new acquisition case to `state`. */
async function caseIn(h: Harness, state: CaseState): Promise<string> {
  const c = await h.service.create(acquisition(), analyst);
  if (state === 'draft') return c.id;
  await h.service.submit(c.id, analyst);
  if (state === 'submitted') return c.id;
  if (state === 'rejected') {
    await h.service.reject(c.id, 'not proportionate', inspector);
    return c.id;
  }
  await h.service.approve(c.id, 'necessary and proportionate', inspector);
  if (state === 'approved') return c.id;
  if (state === 'revoked') {
    await h.service.revoke(c.id, 'campaign over', inspector);
    return c.id;
  }
  const until = (await h.service.get(c.id)).body.validUntil;
  h.clock.set(until);
  await h.service.expireDue();
  h.clock.set(T0);
  return c.id;
}

/** The operation that asks for each target state (draft and expired have none a user can call). */
function op(h: Harness, id: string, to: CaseState): Promise<unknown> {
  switch (to) {
    case 'submitted':
      return h.service.submit(id, analyst);
    case 'approved':
      return h.service.approve(id, 'ok', inspector);
    case 'rejected':
      return h.service.reject(id, 'no', inspector);
    case 'revoked':
      return h.service.revoke(id, 'stop', inspector);
    default:
      throw new Error(`no operation leads to ${to}`);
  }
}

describe('approval cases', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(async () => {
    await h.store.close();
  });

  describe('lifecycle', () => {
    it('goes draft → submitted → approved → revoked with history and audit entries', async () => {
      const c = await h.service.create(acquisition(), analyst);
      expect(c).toMatchObject({ id: 'case-1', state: 'draft', createdAt: T0 });
      expect(c.body).toMatchObject({
        requester: 'ana',
        requesterRole: 'analyst',
        parameterVersion: 'jp-2025-05.1',
      });
      h.clock.advance(1000);
      await h.service.submit(c.id, analyst);
      await h.service.approve(c.id, 'necessary', inspector);
      const r = await h.service.revoke(c.id, 'done', inspector);
      expect(r.state).toBe('revoked');
      expect(r.body.history.map((x) => [x.from, x.to, x.actor])).toEqual([
        [null, 'draft', 'ana'],
        ['draft', 'submitted', 'ana'],
        ['submitted', 'approved', 'insp'],
        ['approved', 'revoked', 'insp'],
      ]);
      expect(r.body.decision).toEqual({ at: T0 + 1000, by: 'insp', reason: 'necessary' });
      expect(h.audits.map((a) => [a.action, a.actor, a.objectIds])).toEqual([
        ['case.create', 'ana', ['case-1']],
        ['case.submit', 'ana', ['case-1']],
        ['case.approve', 'insp', ['case-1']],
        ['case.revoke', 'insp', ['case-1']],
      ]);
      expect(h.audits[2]?.purpose).toBe('oversight');
      expect(await h.service.get(c.id)).toEqual(r);
    });

    it('refuses every illegal transition with CaseTransitionError naming from and to', async () => {
      const targets: CaseState[] = ['submitted', 'approved', 'rejected', 'revoked'];
      let refused = 0;
      for (const from of CASE_STATES) {
        for (const to of targets) {
          if (CASE_TRANSITIONS[from].includes(to)) continue;
          const id = await caseIn(h, from);
          const err: unknown = await op(h, id, to).catch((e: unknown) => e);
          expect(err, `${from} → ${to}`).toBeInstanceOf(CaseTransitionError);
          expect(err).toMatchObject({ code: 'ERR_CASE_TRANSITION', from, to });
          expect((await h.service.get(id)).state).toBe(from);
          refused++;
        }
      }
      // 6 states × 4 targets minus the 4 legal pairs among them.
      expect(refused).toBe(20);
    });

    it('changes only drafts, re-checking the whole case', async () => {
      const c = await h.service.create(acquisition(), analyst);
      const u = await h.service.update(c.id, { title: 'new title', feeds: ['feed-1'] }, analyst);
      expect(u.body).toMatchObject({ title: 'new title', feeds: ['feed-1'] });
      const cleared = await h.service.update(c.id, { feeds: null }, analyst);
      expect(cleared.body.feeds).toBeUndefined();
      await expect(h.service.update(c.id, { channel: null }, analyst)).rejects.toBeInstanceOf(
        ValidationError,
      );
      await h.service.submit(c.id, analyst);
      await expect(h.service.update(c.id, { title: 'late' }, analyst)).rejects.toBeInstanceOf(
        CaseTransitionError,
      );
      expect((await h.service.get(c.id)).body.title).toBe('new title');
    });

    it('answers unknown ids with NotFoundError, also for a communication id', async () => {
      await expect(h.service.get('case-404')).rejects.toBeInstanceOf(NotFoundError);
      await expect(h.service.submit('case-404', analyst)).rejects.toBeInstanceOf(NotFoundError);
      const m = await h.service.createCommunication(
        { type: 'notification', direction: 'to-commission', subject: 's', text: 't' },
        analyst,
      );
      await expect(h.service.get(m.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(h.service.getCommunication('case-404')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('follows CASE_TRANSITIONS for any sequence of operations (property)', async () => {
      type Op = 'update' | 'submit' | 'approve' | 'reject' | 'revoke' | 'expire';
      const ops: Op[] = ['update', 'submit', 'approve', 'reject', 'revoke', 'expire'];
      await fc.assert(
        fc.asyncProperty(fc.array(fc.constantFrom(...ops), { maxLength: 12 }), async (seq) => {
          const x = await harness();
          try {
            const c = await x.service.create(acquisition(), analyst);
            let model: CaseState = 'draft';
            let steps = 1;
            for (const o of seq) {
              const to: CaseState | undefined =
                o === 'submit'
                  ? 'submitted'
                  : o === 'approve'
                    ? 'approved'
                    : o === 'reject'
                      ? 'rejected'
                      : o === 'revoke'
                        ? 'revoked'
                        : o === 'expire'
                          ? 'expired'
                          : undefined;
              const legal = to === undefined ? model === 'draft' : CASE_TRANSITIONS[model].includes(to);
              let err: unknown;
              if (o === 'expire') {
                x.clock.set(T0 + 31 * DAY);
                const done = await x.service.expireDue();
                x.clock.set(T0);
                expect(done.length).toBe(legal ? 1 : 0);
              } else if (o === 'update') {
                err = await x.service.update(c.id, { title: `t${steps}` }, analyst).then(
                  () => undefined,
                  (e: unknown) => e,
                );
              } else {
                err = await op(x, c.id, to ?? 'draft').then(
                  () => undefined,
                  (e: unknown) => e,
                );
              }
              if (legal) {
                expect(err).toBeUndefined();
                if (to !== undefined) {
                  model = to;
                  steps++;
                }
              } else if (o !== 'expire') expect(err).toBeInstanceOf(CaseTransitionError);
              const cur = await x.service.get(c.id);
              expect(cur.state).toBe(model);
              expect(cur.body.history).toHaveLength(steps);
            }
          } finally {
            await x.store.close();
          }
        }),
        { numRuns: 60 },
      );
    });
  });

  describe('validation and legal parameters', () => {
    it('bounds the window by the kind’s maximum validity of the version in force at validFrom', async () => {
      // Shipped: acquisition 180d, police/SDF measures 30d.
      await expect(
        h.service.create(acquisition({ validUntil: T0 + 180 * DAY }), analyst),
      ).resolves.toMatchObject({ state: 'draft' });
      const err: unknown = await h.service
        .create(acquisition({ validUntil: T0 + 180 * DAY + 1 }), analyst)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect(err).toMatchObject({ parameter: 'body.validUntil' });
      await expect(
        h.service.create(acquisition({ kind: 'police-measure', validUntil: T0 + 31 * DAY }), police),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(h.service.create(acquisition({ validUntil: T0 }), analyst)).rejects.toBeInstanceOf(
        ValidationError,
      );
    });

    it('a future-dated parameter version does not change today’s limit', async () => {
      const base = structuredClone(shippedLegalParameterFile().versions[0]!);
      const future = {
        format: 'acd.legal-parameters/1',
        versions: [
          {
            ...base,
            version: 'jp-2030-01.1',
            effectiveFrom: '2030-01-01T00:00:00.000Z',
            approvalKinds: [
              { kind: 'acquisition', maxValidity: '30d' },
              { kind: 'police-measure', maxValidity: '30d' },
              { kind: 'sdf-measure', maxValidity: '30d' },
              { kind: 'retention-extension', maxValidity: '1y' },
            ],
          },
        ],
      };
      const legal = legalParametersFrom([
        { label: 'parameters.json', value: shippedLegalParameterFile() },
        { label: 'override.json', value: future },
      ]);
      const x = await harness({ legal });
      try {
        const today = await x.service.create(acquisition({ validUntil: T0 + 180 * DAY }), analyst);
        expect(today.body.parameterVersion).toBe('jp-2025-05.1');
        const from2030 = Date.UTC(2030, 0, 2);
        await expect(
          x.service.create(acquisition({ validFrom: from2030, validUntil: from2030 + 31 * DAY }), analyst),
        ).rejects.toBeInstanceOf(ValidationError);
        const later = await x.service.create(
          acquisition({ validFrom: from2030, validUntil: from2030 + 30 * DAY }),
          analyst,
        );
        expect(later.body.parameterVersion).toBe('jp-2030-01.1');
      } finally {
        await x.store.close();
      }
    });

    it('checks channel, selectors, holds and emergency per kind', async () => {
      const { channel: _c, ...noChannel } = acquisition();
      const bad: CaseInput[] = [
        noChannel,
        acquisition({ providers: [] }),
        acquisition({ targetActs: [] }),
        acquisition({ selectors: [] }),
        acquisition({
          selectors: [
            { id: 's1', kind: 'all-channel-traffic' },
            { id: 's1', kind: 'all-channel-traffic' },
          ],
        }),
        acquisition({ selectors: [{ id: 's1', kind: 'indicator-list' }] }),
        acquisition({ selectors: [{ id: 's1', kind: 'target-act', tcpFlags: { mask: 2, value: 3 } }] }),
        acquisition({ selectors: [{ id: 's1', kind: 'target-act', ports: [{ from: 9, to: 1 }] }] }),
        acquisition({ emergency: { actedAt: T0 } }),
        acquisition({ retentionHolds: { incidentIds: ['in-1'], days: [] } }),
        acquisition({ kind: 'police-measure', emergency: { actedAt: T0 + 1 } }),
        acquisition({ title: '' }),
        acquisition({ validFrom: Number.NaN }),
        acquisition({ validFrom: Date.UTC(2024, 0, 1), validUntil: Date.UTC(2024, 0, 2) }),
        { ...noChannel, kind: 'retention-extension', retentionHolds: { incidentIds: [], days: [] } },
        {
          ...noChannel,
          kind: 'retention-extension',
          retentionHolds: { incidentIds: [], days: ['2026-02-30'] },
        },
        {
          ...acquisition(),
          kind: 'retention-extension',
          retentionHolds: { incidentIds: ['in-1'], days: [] },
        },
      ];
      for (const [i, input] of bad.entries())
        await expect(h.service.create(input, analyst), `case ${i}`).rejects.toBeInstanceOf(ValidationError);
      expect(h.audits).toEqual([]);
      expect(await h.store.listCases({ limit: 10 })).toEqual({ items: [], next: null });
    });
  });

  describe('emergency measures', () => {
    it('computes notifyBy from the deadline in force at actedAt and flags it overdue until submitted', async () => {
      const actedAt = T0 - 2 * 3600_000;
      const { channel: _c, ...measure } = acquisition({ kind: 'police-measure', emergency: { actedAt } });
      const c = await h.service.create(
        { ...measure, validFrom: actedAt, validUntil: actedAt + 7 * DAY },
        police,
      );
      expect(c.body.emergency).toEqual({ actedAt, notifyBy: actedAt + DAY });
      expect(h.service.isOverdue(c)).toBe(false);
      expect(await h.service.overdue()).toEqual([]);
      h.clock.set(actedAt + DAY);
      expect(await h.service.overdue()).toEqual([]);
      h.clock.set(actedAt + DAY + 1);
      expect(await h.service.overdue()).toEqual([
        { id: c.id, what: 'emergency-notification', dueAt: actedAt + DAY },
      ]);
      expect(h.service.isOverdue(await h.service.get(c.id))).toBe(true);
      const s = await h.service.submit(c.id, police);
      expect(s.body.emergency?.notifiedAt).toBe(actedAt + DAY + 1);
      expect(h.audits.at(-1)?.detail).toMatchObject({ emergencyNotifiedLate: true });
      expect(await h.service.overdue()).toEqual([]);
      expect(h.service.isOverdue(s)).toBe(false);
    });
  });

  describe('signed approvals and revocations', () => {
    it('signs an approval that verifies with verifyApproval and publishes it to each provider', async () => {
      const id = await caseIn(h, 'submitted');
      h.clock.advance(60_000);
      const c = await h.service.approve(id, 'necessary', inspector);
      const doc = c.body.signedApproval;
      expect(doc).toBeDefined();
      const v = verifyApproval(doc, trustOf(h.key), h.clock.now());
      expect(v.ok).toBe(true);
      expect(v.ok && v.payload).toMatchObject({
        type: 'approval',
        id: `ap-${id}`,
        kind: 'acquisition',
        channel: 'specified-foreign-to-domestic',
        providers: ['prov-a', 'prov-b'],
        caseId: id,
        validFrom: new Date(T0).toISOString(),
        validUntil: new Date(T0 + 30 * DAY).toISOString(),
        issuedAt: new Date(T0 + 60_000).toISOString(),
      });
      expect(v.ok && v.payload.demo).toBeUndefined();
      expect(h.published.map((p) => [p.target, p.message.kind, p.message.contentType])).toEqual([
        ['prov-a', 'approval', 'application/acd-approval+json'],
        ['prov-b', 'approval', 'application/acd-approval+json'],
      ]);
      expect(new Set(h.published.map((p) => p.message.messageId)).size).toBe(2);
      for (const p of h.published) expect(decode(p.message)).toEqual(doc);
      // A different key is not trusted.
      expect(verifyApproval(doc, trustOf(SigningKey.generate()), h.clock.now()).ok).toBe(false);
    });

    it('publishes to all for every provider and marks documents of the demo key demo: true', async () => {
      const x = await harness({
        keys: { commissionKey: () => Promise.resolve(demoSigningKey('commission')) },
      });
      try {
        const c = await x.service.create(acquisition({ providers: ['*'] }), analyst);
        await x.service.submit(c.id, analyst);
        const a = await x.service.approve(c.id, 'ok', inspector);
        expect(a.body.signedApproval?.payload.demo).toBe(true);
        expect(x.published.map((p) => p.target)).toEqual(['all']);
        const r = await x.service.revoke(c.id, 'end', inspector);
        expect(r.body.signedRevocation?.payload.demo).toBe(true);
        expect(x.published.map((p) => [p.target, p.message.kind])).toEqual([
          ['all', 'approval'],
          ['all', 'revocation'],
        ]);
      } finally {
        await x.store.close();
      }
    });

    it('signs a revocation of the approval that verifies and is published to the same providers', async () => {
      const id = await caseIn(h, 'approved');
      h.published.length = 0;
      h.clock.advance(3600_000);
      const c = await h.service.revoke(id, 'campaign over', inspector);
      const v = verifyRevocation(c.body.signedRevocation, trustOf(h.key), h.clock.now());
      expect(v.ok && v.payload).toEqual({
        type: 'revocation',
        id: `rev-${id}`,
        revokes: `ap-${id}`,
        issuedAt: new Date(T0 + 3600_000).toISOString(),
        reason: 'campaign over',
      });
      expect(h.published.map((p) => [p.target, p.message.kind, p.message.contentType])).toEqual([
        ['prov-a', 'revocation', 'application/acd-revocation+json'],
        ['prov-b', 'revocation', 'application/acd-revocation+json'],
      ]);
      expect(decode(h.published[0]!.message)).toEqual(c.body.signedRevocation);
    });

    it('fails closed when the commission key is not available: the case stays submitted', async () => {
      const x = await harness({ keys: { commissionKey: () => Promise.reject(new Error('no key')) } });
      try {
        const c = await x.service.create(acquisition(), analyst);
        await x.service.submit(c.id, analyst);
        await expect(x.service.approve(c.id, 'ok', inspector)).rejects.toBeInstanceOf(CaseSigningError);
        expect((await x.service.get(c.id)).state).toBe('submitted');
        expect(x.published).toEqual([]);
        expect(x.audits.map((a) => a.action)).toEqual(['case.create', 'case.submit']);
      } finally {
        await x.store.close();
      }
    });

    it('approves a retention extension with a signed decision document and publishes nothing', async () => {
      const { channel: _c, ...rest } = acquisition();
      const c = await h.service.create(
        {
          ...rest,
          kind: 'retention-extension',
          providers: [],
          retentionHolds: { incidentIds: ['in-7'], days: ['2026-02-27'] },
          validUntil: T0 + 365 * DAY,
        },
        analyst,
      );
      await h.service.submit(c.id, analyst);
      const a = await h.service.approve(c.id, 'court proceedings', inspector);
      expect(a.body.signedApproval).toBeUndefined();
      const v = verifyDocument(a.body.signedDecision, trustOf(h.key), { scope: 'approval', now: T0 });
      expect(v.payload).toMatchObject({
        type: 'case-decision',
        id: `dec-${c.id}`,
        kind: 'retention-extension',
        retentionHolds: { incidentIds: ['in-7'], days: ['2026-02-27'] },
      });
      const r = await h.service.revoke(c.id, 'proceedings closed', inspector);
      expect(r.body.signedRevocation?.payload.revokes).toBe(`dec-${c.id}`);
      expect(h.published).toEqual([]);
    });

    it('refuses to approve a window that has already ended', async () => {
      const id = await caseIn(h, 'submitted');
      h.clock.set(T0 + 30 * DAY);
      await expect(h.service.approve(id, 'ok', inspector)).rejects.toBeInstanceOf(ValidationError);
      expect((await h.service.get(id)).state).toBe('submitted');
    });

    it('keeps the case approved when publishing fails, and republishes on request', async () => {
      let fail = true;
      const sent: string[] = [];
      const x = await harness({
        publish: (target) => {
          if (fail) return Promise.reject(new Error('bus down'));
          sent.push(target);
          return Promise.resolve();
        },
      });
      try {
        const c = await x.service.create(acquisition(), analyst);
        await x.service.submit(c.id, analyst);
        expect((await x.service.approve(c.id, 'ok', inspector)).state).toBe('approved');
        fail = false;
        await x.service.republish(c.id);
        expect(sent).toEqual(['prov-a', 'prov-b']);
      } finally {
        await x.store.close();
      }
    });
  });

  describe('expiry', () => {
    it('expires approved cases whose validUntil has come, as the system', async () => {
      const a = await caseIn(h, 'approved');
      const b = await h.service.create(acquisition({ validUntil: T0 + 60 * DAY }), analyst);
      await h.service.submit(b.id, analyst);
      await h.service.approve(b.id, 'ok', inspector);
      h.clock.set(T0 + 30 * DAY - 1);
      expect(await h.service.expireDue()).toEqual([]);
      h.clock.set(T0 + 30 * DAY);
      const done = await h.service.expireDue();
      expect(done.map((c) => [c.id, c.state])).toEqual([[a, 'expired']]);
      expect(done[0]?.body.history.at(-1)).toMatchObject({
        from: 'approved',
        to: 'expired',
        actor: 'system',
      });
      expect(h.audits.at(-1)).toMatchObject({ action: 'case.expire', actor: 'system', objectIds: [a] });
      expect((await h.service.get(b.id)).state).toBe('approved');
      expect(await h.service.expireDue()).toEqual([]);
    });
  });

  it('startCaseExpiry runs expireDue periodically until stopped', async () => {
    const id = await caseIn(h, 'approved');
    h.clock.set(T0 + 30 * DAY);
    const stop = startCaseExpiry(h.service, { intervalMs: 5 });
    try {
      for (let i = 0; i < 500 && (await h.service.get(id)).state !== 'expired'; i++)
        await new Promise((r) => setTimeout(r, 5));
      expect((await h.service.get(id)).state).toBe('expired');
    } finally {
      stop();
    }
  });

  describe('lists', () => {
    it('filters by approval kind and state across pages', async () => {
      const { channel: _c, ...noChannel } = acquisition();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        h.clock.advance(1000);
        const c =
          i % 2 === 0
            ? await h.service.create(acquisition(), analyst)
            : await h.service.create({ ...noChannel, kind: 'sdf-measure' }, analyst);
        ids.push(c.id);
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await h.service.list({ kind: 'acquisition', limit: 1, ...(cursor ? { cursor } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(1);
        seen.push(...page.items.map((c) => c.id));
        cursor = page.next ?? undefined;
      } while (cursor !== undefined);
      expect(seen).toEqual([ids[4], ids[2], ids[0]]);
      await h.service.submit(ids[1]!, analyst);
      expect((await h.service.list({ state: 'submitted', limit: 10 })).items.map((c) => c.id)).toEqual([
        ids[1],
      ]);
      expect(
        (await h.service.list({ kind: 'sdf-measure', state: 'draft', limit: 10 })).items.map((c) => c.id),
      ).toEqual([ids[3]]);
    });
  });
});

describe('commission communications', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(async () => {
    await h.store.close();
  });

  it('records a request, flags it overdue past dueAt, and records the response', async () => {
    const caseId = await caseIn(h, 'submitted');
    const m = await h.service.createCommunication(
      {
        type: 'request',
        direction: 'from-commission',
        subject: 'Selectors of case 1',
        text: 'Explain why the /24 is needed.',
        caseId,
        dueAt: T0 + 7 * DAY,
      },
      inspector,
    );
    expect(m).toMatchObject({ state: 'open', body: { createdBy: 'insp', responses: [], caseId } });
    h.clock.set(T0 + 7 * DAY + 1);
    expect(await h.service.overdue()).toEqual([
      { id: m.id, what: 'communication-response', dueAt: T0 + 7 * DAY },
    ]);
    expect(h.service.isOverdue(await h.service.getCommunication(m.id))).toBe(true);
    const r = await h.service.respond(m.id, 'The C2 rotates within the /24.', {
      user: 'sup',
      role: 'supervisor',
      purpose: 'incident-handling',
    });
    expect(r.state).toBe('answered');
    expect(r.body.responses).toEqual([
      { at: T0 + 7 * DAY + 1, by: 'sup', text: 'The C2 rotates within the /24.' },
    ]);
    expect(await h.service.overdue()).toEqual([]);
    expect(h.audits.slice(-2).map((a) => [a.action, a.objectIds, a.detail])).toEqual([
      [
        'communication.create',
        [m.id],
        {
          type: 'request',
          direction: 'from-commission',
          caseId,
          dueAt: new Date(T0 + 7 * DAY).toISOString(),
        },
      ],
      ['communication.respond', [m.id], { responses: 1, late: true }],
    ]);
    const list = await h.service.listCommunications({ state: 'answered', limit: 10 });
    expect(list.items.map((x) => x.id)).toEqual([m.id]);
    expect((await h.service.listCommunications({ type: 'notification', limit: 10 })).items).toEqual([]);
  });

  it('lets each side record what it sends and answer what it received (R-OVS-6)', async () => {
    const base = { type: 'request' as const, subject: 's', text: 't' };
    await expect(
      h.service.createCommunication({ ...base, direction: 'from-commission' }, analyst),
    ).rejects.toMatchObject({ code: 'ERR_FORBIDDEN' });
    await expect(
      h.service.createCommunication({ ...base, direction: 'to-commission' }, inspector),
    ).rejects.toMatchObject({ code: 'ERR_FORBIDDEN' });
    const fromCommission = await h.service.createCommunication(
      { ...base, direction: 'from-commission' },
      inspector,
    );
    await expect(h.service.respond(fromCommission.id, 'self-answer', inspector)).rejects.toMatchObject({
      code: 'ERR_FORBIDDEN',
    });
    expect((await h.service.respond(fromCommission.id, 'answer', analyst)).state).toBe('answered');
    const toCommission = await h.service.createCommunication(
      { ...base, direction: 'to-commission' },
      analyst,
    );
    await expect(h.service.respond(toCommission.id, 'self-answer', analyst)).rejects.toMatchObject({
      code: 'ERR_FORBIDDEN',
    });
    expect((await h.service.respond(toCommission.id, 'noted', inspector)).state).toBe('answered');
  });

  it('refuses a due date on a notification, an unknown case, and empty text', async () => {
    const base = { type: 'request' as const, direction: 'to-commission' as const, subject: 's', text: 't' };
    await expect(
      h.service.createCommunication({ ...base, type: 'notification', dueAt: T0 + DAY }, analyst),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      h.service.createCommunication({ ...base, caseId: 'case-9' }, analyst),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(h.service.createCommunication({ ...base, text: '' }, analyst)).rejects.toBeInstanceOf(
      ValidationError,
    );
    const m = await h.service.createCommunication(base, analyst);
    await expect(h.service.respond(m.id, ' ', inspector)).rejects.toBeInstanceOf(ValidationError);
    await expect(h.service.respond('com-404', 'x', inspector)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('case input parsers', () => {
  it('parse JSON and YAML case files into the API body', () => {
    const yaml = [
      'kind: acquisition',
      'title: C2',
      'justification: why',
      'channel: specified-foreign-to-domestic',
      'providers: [prov-a]',
      'targetActs: [c2]',
      'selectors:',
      '  - { id: s1, kind: all-channel-traffic }',
      'validFrom: 2026-03-01T00:00:00Z',
      'validUntil: 2026-03-08T00:00:00Z',
    ].join('\n');
    expect(parseCaseFile(yaml)).toMatchObject({ kind: 'acquisition', validFrom: '2026-03-01T00:00:00Z' });
    expect(parseCaseFile(JSON.stringify(parseCaseFile(yaml)))).toEqual(parseCaseFile(yaml));
    expect(() => parseCaseFile('kind: [')).toThrow(ValidationError);
    expect(() => parseCaseFile(yaml.replace('2026-03-08T00:00:00Z', 'next week'))).toThrow(ValidationError);
  });

  it('never throw anything but ValidationError on arbitrary input (property)', () => {
    const caseLike = fc.record(
      {
        kind: fc.constantFrom('acquisition', 'police-measure', 'x'),
        title: fc.string(),
        justification: fc.string(),
        channel: fc.constantFrom('transit-foreign-to-foreign', 'nope'),
        providers: fc.array(fc.string()),
        selectors: fc.array(fc.anything()),
        validFrom: fc.oneof(
          fc.string(),
          fc.constantFrom('2026-01-01', '2026-02-30T00:00:00Z', '1700000000000'),
        ),
        validUntil: fc.oneof(fc.string(), fc.integer()),
        emergency: fc.oneof(fc.constant(null), fc.record({ actedAt: fc.string() })),
        type: fc.constantFrom('request', 'notification', 'x'),
        direction: fc.constantFrom('from-commission', 'x'),
        subject: fc.string(),
        text: fc.string(),
        dueAt: fc.oneof(fc.string(), fc.constantFrom('2026-01-01T00:00:00Z', '99999999999999999')),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), caseLike), (v) => {
        for (const f of [
          () => checkCaseCreateBody(v),
          () => checkCasePatchBody(v),
          () => checkCommunicationBody(v),
          () => parseCaseFile(JSON.stringify(v) ?? 'null'),
        ]) {
          try {
            f();
          } catch (err) {
            expect(err).toBeInstanceOf(ValidationError);
          }
        }
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          parseCaseFile(text);
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
