/**
 * The behaviour every `Store` implementation must have (CONVENTIONS habit 11). Each test gets a
 * fresh fixture and disposes of it; file-backed fixtures also offer `reopen` (close, then open the
 * same files again).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { OperatorsFile } from '../common/operators/index.ts';
import type { SelectedRecord } from '../common/schema/selected.ts';
import { StoreError } from './errors.ts';
import { recordTime } from './shape.ts';
import { alertOf, auditEntries, DAY, dnsRecord, evidenceOf, flowRecord, incidentOf, T0 } from './testing.ts';
import { ALERTS_PROVIDER, MAX_LIMIT, type CaseRecord, type Page, type Store } from './types.ts';

/** A store for one test: created closed; `dispose()` closes it and removes what it created. */
export interface StoreFixture {
  store: Store;
  /** File-backed stores: closes `store` and returns a new, opened store on the same files. */
  reopen?: () => Promise<Store>;
  dispose(): Promise<void>;
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof StoreError) return err.code;
    throw err;
  }
  return 'no error';
}

/** Reads every page of a listing; fails on a loop. */
async function allPages<T>(fetch: (cursor?: string) => Promise<Page<T>>, maxPages = 1000): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const p = await fetch(cursor);
    pages.push(p.items);
    if (p.next === null) return pages;
    cursor = p.next;
  }
  throw new Error('paging did not end');
}

const operators: OperatorsFile = {
  schema: 'acd.operators/1',
  domesticCountry: 'JP',
  providers: [{ id: 'prov-a', name: 'Provider A', asn: 64_500 }],
  operators: [
    {
      id: 'op-grid',
      name: 'Grid Co',
      sector: 'electric-power',
      providerId: 'prov-a',
      ranges: [{ prefix: '192.0.2.0/24', pseudonymisationWaived: false }],
      domains: ['grid.example'],
      importantSystems: [],
      contacts: [],
      agreement: { status: 'none' },
    },
  ],
};

/** Runs the store contract; `skip` (a reason) skips the suite with that message. */
export function runStoreContract(name: string, makeStore: () => Promise<StoreFixture>, skip?: string): void {
  const d = skip ? describe.skip : describe;
  d(`store contract: ${name}`, () => {
    const fixtures: StoreFixture[] = [];
    afterEach(async () => {
      for (const f of fixtures.splice(0)) await f.dispose();
    });
    async function fixture(): Promise<StoreFixture> {
      const f = await makeStore();
      fixtures.push(f);
      await f.store.open();
      return f;
    }
    async function opened(): Promise<Store> {
      return (await fixture()).store;
    }

    describe('selected records', () => {
      it('refuses use before open with a typed error', async () => {
        const f = await makeStore();
        fixtures.push(f);
        expect(await code(f.store.appendRecords([flowRecord({ t: T0 })]))).toBe('ERR_STORE_CLOSED');
        expect(await code(f.store.stats())).toBe('ERR_STORE_CLOSED');
      });

      it('returns appended records whole, only those in the [from, to) event-time range', async () => {
        const s = await opened();
        const recs = [0, 1, 2, 3].map((k) => flowRecord({ t: T0 + k * 1000, sampling: 10, index: k }));
        recs.push(dnsRecord({ t: T0 + 1500, qname: 'www.example.com', index: 9 }));
        await s.appendRecords(recs);
        const p = await s.queryRecords({ from: T0 + 1000, to: T0 + 3000, limit: 100 });
        expect(p.next).toBeNull();
        expect(p.items).toEqual([recs[2], recs[4], recs[1]]);
      });

      it('requires a finite time range', async () => {
        const s = await opened();
        expect(await code(s.queryRecords({ from: Number.NaN, to: T0, limit: 10 }))).toBe(
          'ERR_STORE_BAD_QUERY',
        );
        expect(await code(s.queryRecords({ from: T0 + 1, to: T0, limit: 10 }))).toBe('ERR_STORE_BAD_QUERY');
        expect(
          await code(s.queryRecords({ limit: 10 } as unknown as Parameters<Store['queryRecords']>[0])),
        ).toBe('ERR_STORE_BAD_QUERY');
      });

      it('filters by type, provider, channel, either address, either port, protocol and query-name suffix', async () => {
        const s = await opened();
        const a = flowRecord({
          t: T0 + 1,
          index: 1,
          src: '10.0.0.1',
          dst: '198.51.100.1',
          dstPort: 22,
          proto: 6,
        });
        const b = flowRecord({
          t: T0 + 2,
          index: 2,
          providerId: 'prov-b',
          dst: '10.0.0.1',
          srcPort: 22,
          proto: 17,
        });
        const c = flowRecord({ t: T0 + 3, index: 3, channel: 'transit-foreign-to-foreign', dstPort: 80 });
        const dn = dnsRecord({ t: T0 + 4, index: 4, qname: 'a.b.Evil.example.' });
        const dn2 = dnsRecord({ t: T0 + 5, index: 5, qname: 'notevil.example' });
        await s.appendRecords([a, b, c, dn, dn2]);
        const q = async (f: Partial<Parameters<Store['queryRecords']>[0]>): Promise<string[]> =>
          (await s.queryRecords({ from: T0, to: T0 + 10, limit: 100, ...f })).items.map((r) => r.recordId);
        expect(await q({ recordType: 'dns' })).toEqual([dn2.recordId, dn.recordId]);
        expect(await q({ providerId: 'prov-b' })).toEqual([b.recordId]);
        expect(await q({ channel: 'transit-foreign-to-foreign' })).toEqual([c.recordId]);
        expect(await q({ address: '10.0.0.1' })).toEqual([b.recordId, a.recordId]);
        expect(await q({ port: 22 })).toEqual([b.recordId, a.recordId]);
        expect(await q({ protocolIdentifier: 17 })).toEqual([dn2.recordId, dn.recordId, b.recordId]);
        expect(await q({ qname: 'evil.example' })).toEqual([dn.recordId]);
        expect(await q({ port: 22, protocolIdentifier: 6 })).toEqual([a.recordId]);
      });

      it(`clamps the limit to MAX_LIMIT (${MAX_LIMIT})`, async () => {
        const s = await opened();
        const recs: SelectedRecord[] = [];
        for (let i = 0; i < MAX_LIMIT + 50; i++) recs.push(flowRecord({ t: T0 + i, index: i }));
        await s.appendRecords(recs);
        const p = await s.queryRecords({ from: T0, to: T0 + DAY, limit: 1_000_000 });
        expect(p.items).toHaveLength(MAX_LIMIT);
        expect(p.next).not.toBeNull();
      });

      it('pages newest first without duplicates or gaps, also across equal times', async () => {
        const s = await opened();
        const recs: SelectedRecord[] = [];
        // many records share an event time: the id breaks ties
        for (let i = 0; i < 230; i++) recs.push(flowRecord({ t: T0 + Math.floor(i / 9) * 1000, index: i }));
        await s.appendRecords(recs.slice(0, 100));
        await s.appendRecords(recs.slice(100));
        const pages = await allPages((cursor) =>
          s.queryRecords({ from: T0, to: T0 + DAY, limit: 7, ...(cursor ? { cursor } : {}) }),
        );
        const got = pages.flat().map((r) => r.recordId);
        const want = [...recs]
          .sort((x, y) => recordTime(y) - recordTime(x) || (x.recordId < y.recordId ? 1 : -1))
          .map((r) => r.recordId);
        expect(got).toEqual(want);
        expect(pages.every((p) => p.length <= 7)).toBe(true);
      });

      it('gets named records by id, in the order asked, each once, across days; bounded', async () => {
        const s = await opened();
        const recs = [
          flowRecord({ t: T0, index: 9001 }),
          flowRecord({ t: T0 + 3 * DAY, index: 9002 }),
          flowRecord({ t: T0 + 40 * DAY, index: 9003 }),
        ];
        await s.appendRecords(recs);
        expect(await s.getRecords([])).toEqual([]);
        const [a, b, c] = recs;
        const got = await s.getRecords([c!.recordId, 'prov-a/none/0/0/0', a!.recordId, c!.recordId]);
        expect(got).toEqual([c, a]);
        expect(await s.getRecords([b!.recordId])).toEqual([b]);
        const many = Array.from({ length: MAX_LIMIT + 1 }, (_, i) => `id-${i}`);
        expect(await code(s.getRecords(many))).toBe('ERR_STORE_BAD_QUERY');
        // Repeats count once towards the bound.
        expect(await s.getRecords(Array.from({ length: MAX_LIMIT + 5 }, () => 'x'))).toEqual([]);
      });

      it('rejects a bad cursor, or one of another listing, with ERR_STORE_BAD_CURSOR', async () => {
        const s = await opened();
        await s.upsertIncidents([
          incidentOf('i1', { firstSeen: T0, lastSeen: T0 + 1 }),
          incidentOf('i2', { firstSeen: T0, lastSeen: T0 + 2 }),
        ]);
        const p = await s.listIncidents({ limit: 1 });
        expect(p.next).not.toBeNull();
        const other = p.next ?? '';
        expect(await code(s.queryRecords({ from: T0, to: T0 + 1, limit: 1, cursor: other }))).toBe(
          'ERR_STORE_BAD_CURSOR',
        );
        for (const bad of ['%%%', 'bm90IGpzb24', Buffer.from('["incidents","x","y"]').toString('base64url')])
          expect(await code(s.listIncidents({ limit: 1, cursor: bad }))).toBe('ERR_STORE_BAD_CURSOR');
      });
    });

    describe('evidence', () => {
      it('appends evidence and pages it newest first with filters', async () => {
        const s = await opened();
        const ev = [
          evidenceOf('scan', '203.0.113.1', T0),
          evidenceOf('scan', '203.0.113.2', T0 + 1000),
          evidenceOf('beacon', '10.9.9.9', T0 + 1000, { counterpart: '203.0.113.1' }),
          evidenceOf('ddos', '192.0.2.10', T0 + 5000),
        ];
        await s.appendEvidence(ev.slice(0, 2), T0 + 30 * DAY);
        await s.appendEvidence(ev.slice(2), T0 + 31 * DAY);
        const pages = await allPages((cursor) =>
          s.queryEvidence({ from: T0, to: T0 + 5000, limit: 1, ...(cursor ? { cursor } : {}) }),
        );
        // equal window starts: the later arrival first
        expect(pages.flat()).toEqual([ev[2], ev[1], ev[0]]);
        const byAddr = await s.queryEvidence({ from: T0, to: T0 + DAY, limit: 10, address: '203.0.113.1' });
        expect(byAddr.items).toEqual([ev[2], ev[0]]);
        const byDet = await s.queryEvidence({ from: T0, to: T0 + DAY, limit: 10, detector: 'ddos' });
        expect(byDet.items).toEqual([ev[3]]);
        expect(await code(s.queryEvidence({ from: T0, to: T0 - 1, limit: 10 }))).toBe('ERR_STORE_BAD_QUERY');
      });
    });

    describe('alerts and incidents', () => {
      it('upserts alerts by id and gets them back whole', async () => {
        const s = await opened();
        const a = alertOf('a1', { firstSeen: T0 });
        await s.upsertAlerts([a]);
        expect(await s.getAlert('a1')).toEqual(a);
        const a2 = { ...a, severity: 'high' as const, evidenceCount: 5, suppressedBy: 'sup-1' };
        await s.upsertAlerts([a2]);
        expect(await s.getAlert('a1')).toEqual(a2);
        expect(await s.getAlert('nope')).toBeUndefined();
        expect((await s.stats()).alerts).toBe(1);
      });

      it('lists alerts newest first by lastSeen then id, with filters and cursors', async () => {
        const s = await opened();
        const alerts = [
          alertOf('a1', { firstSeen: T0, lastSeen: T0 + 10, detector: 'scan', severity: 'low' }),
          alertOf('a2', {
            firstSeen: T0,
            lastSeen: T0 + 20,
            detector: 'ddos',
            subject: '192.0.2.10',
            severity: 'critical',
            incidentId: 'i1',
          }),
          alertOf('a3', {
            firstSeen: T0 + 5,
            lastSeen: T0 + 20,
            detector: 'scan',
            severity: 'medium',
            incidentId: 'i1',
          }),
          alertOf('a4', { firstSeen: T0 + 100, lastSeen: T0 + 200, detector: 'beacon', severity: 'high' }),
        ];
        await s.upsertAlerts(alerts);
        const ids = async (q: Partial<Parameters<Store['listAlerts']>[0]>): Promise<string[]> =>
          (await s.listAlerts({ limit: 100, ...q })).items.map((a) => a.id);
        expect(await ids({})).toEqual(['a4', 'a3', 'a2', 'a1']);
        expect(await ids({ detector: 'scan' })).toEqual(['a3', 'a1']);
        expect(await ids({ subject: '192.0.2.10' })).toEqual(['a2']);
        expect(await ids({ severityAtLeast: 'medium' })).toEqual(['a4', 'a3', 'a2']);
        expect(await ids({ incidentId: 'i1' })).toEqual(['a3', 'a2']);
        expect(await ids({ since: T0 + 15, until: T0 + 100 })).toEqual(['a3', 'a2']);
        const pages = await allPages((cursor) => s.listAlerts({ limit: 3, ...(cursor ? { cursor } : {}) }));
        expect(pages.map((p) => p.map((a) => a.id))).toEqual([['a4', 'a3', 'a2'], ['a1']]);
      });

      it('lists incidents newest first by lastSeen then id with filters and cursors', async () => {
        const s = await opened();
        const incs = [
          incidentOf('i1', { firstSeen: T0, lastSeen: T0 + 100, state: 'new', severity: 'medium' }),
          incidentOf('i2', {
            firstSeen: T0,
            lastSeen: T0 + 300,
            state: 'triaged',
            severity: 'critical',
            detectors: ['ddos', 'scan'],
            operators: ['op-grid'],
            counterparts: ['192.0.2.10'],
          }),
          incidentOf('i3', {
            firstSeen: T0 + 50,
            lastSeen: T0 + 300,
            state: 'new',
            severity: 'high',
            subjects: ['10.9.9.9'],
          }),
          incidentOf('i4', { firstSeen: T0 + 400, lastSeen: T0 + 500, state: 'closed', severity: 'low' }),
        ];
        await s.upsertIncidents(incs);
        const ids = async (q: Partial<Parameters<Store['listIncidents']>[0]>): Promise<string[]> =>
          (await s.listIncidents({ limit: 100, ...q })).items.map((i) => i.id);
        expect(await ids({})).toEqual(['i4', 'i3', 'i2', 'i1']);
        expect(await ids({ state: 'new' })).toEqual(['i3', 'i1']);
        expect(await ids({ severityAtLeast: 'high' })).toEqual(['i3', 'i2']);
        expect(await ids({ detector: 'ddos' })).toEqual(['i2']);
        expect(await ids({ operatorId: 'op-grid' })).toEqual(['i2']);
        expect(await ids({ address: '192.0.2.10' })).toEqual(['i2']);
        expect(await ids({ address: '10.9.9.9' })).toEqual(['i3']);
        expect(await ids({ since: T0 + 200, until: T0 + 400 })).toEqual(['i3', 'i2']);
        const pages = await allPages((cursor) =>
          s.listIncidents({ limit: 2, ...(cursor ? { cursor } : {}) }),
        );
        expect(pages.map((p) => p.map((i) => i.id))).toEqual([
          ['i4', 'i3'],
          ['i2', 'i1'],
        ]);
        // an upsert moves an incident to the front and keeps it once
        await s.upsertIncidents([{ ...incs[0]!, lastSeen: T0 + 900, state: 'mitigated' }]);
        expect(await ids({})).toEqual(['i1', 'i4', 'i3', 'i2']);
        expect((await s.listIncidents({ limit: 1 })).items[0]?.state).toBe('mitigated');
      });

      it('deletes incidents absorbed into others, idempotently', async () => {
        const s = await opened();
        await s.upsertIncidents([
          incidentOf('i1', { firstSeen: T0, lastSeen: T0 + 1 }),
          incidentOf('i2', { firstSeen: T0, lastSeen: T0 + 2 }),
          incidentOf('i3', { firstSeen: T0, lastSeen: T0 + 3 }),
        ]);
        await s.deleteIncidents(['i1', 'i3', 'i-unknown']);
        await s.deleteIncidents(['i1']);
        await s.deleteIncidents([]);
        expect((await s.listIncidents({ limit: 10 })).items.map((i) => i.id)).toEqual(['i2']);
        expect(await s.getIncident('i1')).toBeUndefined();
        expect((await s.stats()).incidents).toBe(1);
      });

      it('gives an incident with its stored alerts in the incident\u2019s order', async () => {
        const s = await opened();
        const a1 = alertOf('a1', { firstSeen: T0, incidentId: 'i1' });
        const a2 = alertOf('a2', { firstSeen: T0 + 10, incidentId: 'i1', detector: 'ddos' });
        await s.upsertAlerts([a2, a1]);
        const inc = incidentOf('i1', {
          firstSeen: T0,
          lastSeen: T0 + 70_000,
          alerts: ['a1', 'a-missing', 'a2'],
        });
        await s.upsertIncidents([inc]);
        expect(await s.getIncident('i1')).toEqual({ incident: inc, alerts: [a1, a2] });
        expect(await s.getIncident('i-none')).toBeUndefined();
      });
    });

    describe('suppressions, operators and cases', () => {
      it('puts, lists and deletes suppression rules', async () => {
        const s = await opened();
        const r1 = {
          id: 's1',
          detector: 'scan' as const,
          subject: '198.51.100.0/24',
          reason: 'research scanner',
          createdBy: 'ana',
          createdAt: T0,
        };
        const r2 = {
          id: 's2',
          counterpart: '192.0.2.1',
          reason: 'fp',
          createdBy: 'bob',
          createdAt: T0 + 1,
          expiresAt: T0 + DAY,
        };
        await s.putSuppression(r2);
        await s.putSuppression(r1);
        expect(await s.listSuppressions()).toEqual([r1, r2]);
        await s.putSuppression({ ...r1, reason: 'changed' });
        expect((await s.listSuppressions())[0]?.reason).toBe('changed');
        expect(await s.deleteSuppression('s1')).toBe(true);
        expect(await s.deleteSuppression('s1')).toBe(false);
        expect(await s.listSuppressions()).toEqual([r2]);
      });

      it('replaces the operators registry', async () => {
        const s = await opened();
        expect(await s.getOperators()).toBeUndefined();
        await s.putOperators(operators);
        expect(await s.getOperators()).toEqual(operators);
        const next = { ...operators, operators: [] };
        await s.putOperators(next);
        expect(await s.getOperators()).toEqual(next);
      });

      it('puts cases and lists them newest first by updatedAt with filters', async () => {
        const s = await opened();
        const c = (id: string, kind: string, state: string, updatedAt: number): CaseRecord => ({
          id,
          kind,
          state,
          createdAt: T0,
          updatedAt,
          body: { justification: 'test', targets: ['203.0.113.0/24'], nested: { n: 1 } },
        });
        await s.putCase(c('c1', 'acquisition', 'draft', T0 + 1));
        await s.putCase(c('c2', 'police-measure', 'submitted', T0 + 3));
        await s.putCase(c('c3', 'acquisition', 'approved', T0 + 2));
        expect(await s.getCase('c2')).toEqual(c('c2', 'police-measure', 'submitted', T0 + 3));
        expect(await s.getCase('nope')).toBeUndefined();
        const ids = async (q: { kind?: string; state?: string }): Promise<string[]> =>
          (await s.listCases({ limit: 10, ...q })).items.map((x) => x.id);
        expect(await ids({})).toEqual(['c2', 'c3', 'c1']);
        expect(await ids({ kind: 'acquisition' })).toEqual(['c3', 'c1']);
        expect(await ids({ state: 'draft' })).toEqual(['c1']);
        await s.putCase(c('c1', 'acquisition', 'submitted', T0 + 9));
        expect(await ids({})).toEqual(['c1', 'c2', 'c3']);
        const pages = await allPages((cursor) => s.listCases({ limit: 2, ...(cursor ? { cursor } : {}) }));
        expect(pages.flat().map((x) => x.id)).toEqual(['c1', 'c2', 'c3']);
      });
    });

    describe('audit', () => {
      it('appends a gap-free chain and reads it back by seq', async () => {
        const s = await opened();
        expect(await s.lastAudit()).toBeUndefined();
        const e = auditEntries(1, 25);
        await s.appendAudit(e.slice(0, 10));
        await s.appendAudit(e.slice(10));
        expect(await s.readAudit(1, 5)).toEqual(e.slice(0, 5));
        expect(await s.readAudit(20, 100)).toEqual(e.slice(19));
        expect(await s.readAudit(26, 10)).toEqual([]);
        expect(await s.lastAudit()).toEqual(e[24]);
      });

      it('searches entries newest first by time range, actor and action prefix, below a seq', async () => {
        const s = await opened();
        const e = auditEntries(1, 30).map((x) =>
          x.seq % 3 === 0 ? { ...x, actor: 'inspector-1', action: 'case.approve' } : x,
        );
        await s.appendAudit(e);
        const seqs = async (q: Parameters<Store['searchAudit']>[0]) =>
          (await s.searchAudit(q)).map((x) => x.seq);
        expect(await seqs({ limit: 4 })).toEqual([30, 29, 28, 27]);
        expect(await s.searchAudit({ limit: 1 })).toEqual([e[29]]);
        expect(await seqs({ limit: 4, beforeSeq: 27 })).toEqual([26, 25, 24, 23]);
        expect(await seqs({ limit: 100, from: T0 + 5000, to: T0 + 9000 })).toEqual([8, 7, 6, 5]);
        expect(await seqs({ limit: 100, actor: 'inspector-1', beforeSeq: 16 })).toEqual([15, 12, 9, 6, 3]);
        expect(await seqs({ limit: 2, actionPrefix: 'case.' })).toEqual([30, 27]);
        expect(await seqs({ limit: 100, actionPrefix: 'records.', from: T0 + 26_000 })).toEqual([29, 28, 26]);
        expect(await seqs({ limit: 100, actor: 'nobody' })).toEqual([]);
        expect(await seqs({ limit: 100, beforeSeq: 1 })).toEqual([]);
        expect((await s.searchAudit({ limit: 5000 })).length).toBe(30);
      });

      it('refuses a gap, a repeat or a reorder with ERR_STORE_AUDIT_SEQ and keeps nothing of that batch', async () => {
        const s = await opened();
        await s.appendAudit(auditEntries(1, 3));
        expect(await code(s.appendAudit(auditEntries(5, 2)))).toBe('ERR_STORE_AUDIT_SEQ');
        expect(await code(s.appendAudit(auditEntries(3, 2)))).toBe('ERR_STORE_AUDIT_SEQ');
        const [x, y] = auditEntries(4, 2);
        expect(await code(s.appendAudit([y!, x!]))).toBe('ERR_STORE_AUDIT_SEQ');
        expect(await code(s.appendAudit([x!, y!, { ...y!, seq: 7 }]))).toBe('ERR_STORE_AUDIT_SEQ');
        expect((await s.lastAudit())?.seq).toBe(3);
        await s.appendAudit([x!, y!]);
        expect((await s.lastAudit())?.seq).toBe(5);
      });
    });

    describe('rollups and top-N', () => {
      it('keeps 1-minute and 1-hour buckets per provider, scaled by the sampling interval', async () => {
        const s = await opened();
        const h = T0 + 3 * 3_600_000;
        await s.appendRecords([
          flowRecord({ t: h + 1_000, octets: 1000, packets: 2, sampling: 10 }),
          flowRecord({ t: h + 59_999, octets: 500, packets: 1, sampling: 1 }),
          flowRecord({ t: h + 60_000, octets: 100, packets: 1, sampling: 100, providerId: 'prov-b' }),
        ]);
        await s.appendRecords([
          flowRecord({ t: h + 120_000, octets: 10, packets: 1 }),
          dnsRecord({ t: h + 120_001, qname: 'x.example' }),
        ]);
        await s.upsertAlerts([
          alertOf('a1', { firstSeen: h + 61_000 }),
          alertOf('a2', { firstSeen: h + 62_000 }),
        ]);
        await s.upsertAlerts([alertOf('a1', { firstSeen: h + 61_000, severity: 'high' })]); // not counted twice
        const m = await s.series({ step: '1m', from: h, to: h + 3_600_000 });
        expect(m).toEqual([
          { t: h, providerId: 'prov-a', records: 2, packets: 21, bytes: 10_500, alerts: 0 },
          { t: h + 60_000, providerId: ALERTS_PROVIDER, records: 0, packets: 0, bytes: 0, alerts: 2 },
          { t: h + 60_000, providerId: 'prov-b', records: 1, packets: 100, bytes: 10_000, alerts: 0 },
          { t: h + 120_000, providerId: 'prov-a', records: 2, packets: 1, bytes: 10, alerts: 0 },
        ]);
        expect(await s.series({ step: '1m', from: h, to: h + 3_600_000, providerId: 'prov-b' })).toEqual([
          m[2],
        ]);
        expect(await s.series({ step: '1m', from: h + 60_000, to: h + 120_000 })).toEqual([m[1], m[2]]);
        expect(await s.series({ step: '1h', from: T0, to: T0 + DAY })).toEqual([
          { t: h, providerId: ALERTS_PROVIDER, records: 0, packets: 0, bytes: 0, alerts: 2 },
          { t: h, providerId: 'prov-a', records: 4, packets: 22, bytes: 10_510, alerts: 0 },
          { t: h, providerId: 'prov-b', records: 1, packets: 100, bytes: 10_000, alerts: 0 },
        ]);
        expect(await code(s.series({ step: '1m', from: h, to: h - 1 }))).toBe('ERR_STORE_BAD_QUERY');
      });

      it('ranks countries, ASNs, ports and detectors in a time range', async () => {
        const s = await opened();
        await s.appendRecords([
          flowRecord({ t: T0 + 1, srcCountry: 'CN', srcAsn: 4134, dstPort: 22, octets: 100 }),
          flowRecord({ t: T0 + 2, srcCountry: 'CN', srcAsn: 4134, dstPort: 22, octets: 100, sampling: 2 }),
          flowRecord({
            t: T0 + 3,
            srcCountry: 'RU',
            srcAsn: 12_389,
            dstPort: 443,
            octets: 5000,
            dstCountry: 'JP',
          }),
          flowRecord({ t: T0 + DAY, srcCountry: 'RU', srcAsn: 12_389, dstPort: 443 }),
        ]);
        await s.upsertAlerts([
          alertOf('a1', { firstSeen: T0, lastSeen: T0 + 5, detector: 'scan' }),
          alertOf('a2', { firstSeen: T0, lastSeen: T0 + 6, detector: 'scan' }),
          alertOf('a3', { firstSeen: T0, lastSeen: T0 + 7, detector: 'ddos' }),
          alertOf('a4', { firstSeen: T0, lastSeen: T0 + 2 * DAY, detector: 'ddos' }),
        ]);
        const top = (dimension: Parameters<Store['top']>[0]['dimension'], limit = 10) =>
          s.top({ dimension, from: T0, to: T0 + 1000, limit });
        expect(await top('sourceCountry')).toEqual([
          { key: 'CN', count: 2, bytes: 300 },
          { key: 'RU', count: 1, bytes: 5000 },
        ]);
        expect(await top('sourceCountry', 1)).toEqual([{ key: 'CN', count: 2, bytes: 300 }]);
        expect(await top('sourceAsn')).toEqual([
          { key: '4134', count: 2, bytes: 300 },
          { key: '12389', count: 1, bytes: 5000 },
        ]);
        expect(await top('destinationCountry')).toEqual([
          { key: 'US', count: 2, bytes: 300 },
          { key: 'JP', count: 1, bytes: 5000 },
        ]);
        expect(await top('destinationAsn')).toEqual([{ key: '15169', count: 3, bytes: 5300 }]);
        expect(await top('destinationPort')).toEqual([
          { key: '22', count: 2, bytes: 300 },
          { key: '443', count: 1, bytes: 5000 },
        ]);
        expect(await top('detector')).toEqual([
          { key: 'scan', count: 2, bytes: 0 },
          { key: 'ddos', count: 1, bytes: 0 },
        ]);
      });
    });

    describe('partitions and retention', () => {
      it('partitions records by the day of retainUntil and evidence by the caller\u2019s retainUntil', async () => {
        const s = await opened();
        await s.appendRecords([
          flowRecord({ t: T0, retainUntil: T0 + 10 * DAY + 5 }),
          flowRecord({ t: T0 + 1, retainUntil: T0 + 11 * DAY - 1 }),
          flowRecord({ t: T0 + 2, retainUntil: T0 + 11 * DAY }),
        ]);
        await s.appendEvidence([evidenceOf('scan', '203.0.113.1', T0)], T0 + 10 * DAY);
        expect(await s.partitions()).toEqual([
          { kind: 'records', day: '2026-01-11', rows: 2 },
          { kind: 'evidence', day: '2026-01-11', rows: 1 },
          { kind: 'records', day: '2026-01-12', rows: 1 },
        ]);
        const st = await s.stats();
        expect(st).toMatchObject({ records: 3, evidence: 1, partitions: 3 });
      });

      it('drops whole expired days and proves it; idempotent', async () => {
        const s = await opened();
        await s.appendRecords([
          flowRecord({ t: T0, retainUntil: T0 + 10 * DAY + 5 }),
          flowRecord({ t: T0 + 1, retainUntil: T0 + 11 * DAY + 5 }),
        ]);
        await s.appendEvidence([evidenceOf('scan', '203.0.113.1', T0)], T0 + 10 * DAY);
        // the end of 2026-01-11 has not passed yet: nothing goes
        expect(await s.enforceRetention(T0 + 11 * DAY - 1)).toEqual({
          dropped: [],
          held: [],
          counts: { records: 0, evidence: 0, alerts: 0, incidents: 0, rollup_1m: 0, rollup_1h: 0 },
          remainingRows: 0,
        });
        const r = await s.enforceRetention(T0 + 11 * DAY);
        expect(r.remainingRows).toBe(0);
        expect(r.dropped).toEqual([
          { kind: 'records', day: '2026-01-11', rows: 1 },
          { kind: 'evidence', day: '2026-01-11', rows: 1 },
        ]);
        expect(r.counts).toMatchObject({ records: 1, evidence: 1, alerts: 0, incidents: 0 });
        expect(await s.partitions()).toEqual([{ kind: 'records', day: '2026-01-12', rows: 1 }]);
        const left = await s.queryRecords({ from: T0 - DAY, to: T0 + DAY, limit: 10 });
        expect(left.items.map((x) => x.provenance.retainUntil)).toEqual([T0 + 11 * DAY + 5]);
        expect((await s.queryEvidence({ from: T0 - DAY, to: T0 + DAY, limit: 10 })).items).toEqual([]);
        expect(await s.enforceRetention(T0 + 11 * DAY)).toMatchObject({ dropped: [], remainingRows: 0 });
        expect(await s.stats()).toMatchObject({ records: 1, evidence: 0, partitions: 1 });
        // the top-N of the dropped day's records is gone with them
        expect(await s.top({ dimension: 'sourceCountry', from: T0, to: T0 + 1, limit: 5 })).toEqual([]);
      });
    });

    describe('retention of derived data and holds', () => {
      it('keeps the partitions of held days until the hold is gone, then drops them', async () => {
        const s = await opened();
        await s.appendRecords([
          flowRecord({ t: T0, retainUntil: T0 + 10 * DAY + 5, index: 1 }),
          flowRecord({ t: T0 + 1, retainUntil: T0 + 11 * DAY + 5, index: 2 }),
        ]);
        await s.appendEvidence([evidenceOf('scan', '203.0.113.1', T0)], T0 + 10 * DAY);
        const r = await s.enforceRetention(T0 + 20 * DAY, { heldDays: ['2026-01-11'] });
        expect(r.dropped).toEqual([{ kind: 'records', day: '2026-01-12', rows: 1 }]);
        expect(r.held).toEqual([
          { kind: 'records', day: '2026-01-11', rows: 1 },
          { kind: 'evidence', day: '2026-01-11', rows: 1 },
        ]);
        expect(r.counts).toMatchObject({ records: 1, evidence: 0 });
        expect(r.remainingRows).toBe(0);
        expect(await s.stats()).toMatchObject({ records: 1, evidence: 1, partitions: 2 });
        const again = await s.enforceRetention(T0 + 20 * DAY);
        expect(again.dropped).toEqual([
          { kind: 'records', day: '2026-01-11', rows: 1 },
          { kind: 'evidence', day: '2026-01-11', rows: 1 },
        ]);
        expect(again.remainingRows).toBe(0);
        expect(await s.partitions()).toEqual([]);
      });

      it('deletes alerts, incidents and rollups older than derivedBefore except held incidents and their alerts; idempotent', async () => {
        const s = await opened();
        // not on a bucket boundary: the buckets holding the cut end after it and stay
        const cut = T0 + 5 * DAY + 30_000;
        await s.appendRecords([
          flowRecord({ t: T0 + 1000, index: 1 }),
          flowRecord({ t: T0 + 3_600_000 + 1000, index: 2 }),
          flowRecord({ t: cut - 10_000, index: 3 }), // its buckets end after the cut: kept
          flowRecord({ t: cut + 1000, index: 4 }),
        ]);
        await s.upsertAlerts([
          alertOf('a-old', { firstSeen: T0, lastSeen: T0 + 60_000 }),
          alertOf('a-held-by-id', { firstSeen: T0, lastSeen: T0 + 60_000, incidentId: 'i-held' }),
          alertOf('a-held-by-list', { firstSeen: T0, lastSeen: T0 + 60_000 }),
          alertOf('a-new', { firstSeen: cut - 1000, lastSeen: cut }),
        ]);
        await s.upsertIncidents([
          incidentOf('i-old', { firstSeen: T0, lastSeen: cut - 1, alerts: ['a-old'] }),
          incidentOf('i-held', { firstSeen: T0, lastSeen: T0 + 1, alerts: ['a-held-by-list'] }),
          incidentOf('i-new', { firstSeen: T0, lastSeen: cut, alerts: ['a-new'] }),
        ]);
        const m1 = (await s.series({ step: '1m', from: T0, to: cut + DAY })).filter(
          (p) => p.providerId !== ALERTS_PROVIDER,
        );
        const h1 = (await s.series({ step: '1h', from: T0, to: cut + DAY })).filter(
          (p) => p.providerId !== ALERTS_PROVIDER,
        );
        expect(m1).toHaveLength(3);
        expect(h1).toHaveLength(3);
        const r = await s.enforceRetention(T0, { derivedBefore: cut, heldIncidents: ['i-held'] });
        expect(r.counts).toEqual({
          records: 0,
          evidence: 0,
          alerts: 1,
          incidents: 1,
          rollup_1m: 2,
          rollup_1h: 2,
        });
        expect(r.remainingRows).toBe(0);
        expect(await s.getAlert('a-old')).toBeUndefined();
        expect(await s.getAlert('a-held-by-id')).toBeDefined();
        expect(await s.getAlert('a-held-by-list')).toBeDefined();
        expect(await s.getAlert('a-new')).toBeDefined();
        expect((await s.listIncidents({ limit: 10 })).items.map((i) => i.id)).toEqual(['i-new', 'i-held']);
        const m2 = await s.series({ step: '1m', from: T0, to: cut + DAY, providerId: 'prov-a' });
        expect(m2.map((p) => p.t)).toEqual([T0 + 5 * DAY]);
        const h2 = await s.series({ step: '1h', from: T0, to: cut + DAY, providerId: 'prov-a' });
        expect(h2.map((p) => p.t)).toEqual([T0 + 5 * DAY]);
        const again = await s.enforceRetention(T0, { derivedBefore: cut, heldIncidents: ['i-held'] });
        expect(Object.values(again.counts).every((v) => v === 0)).toBe(true);
        expect(again.remainingRows).toBe(0);
        // the hold ends: the held incident and both of its alerts go
        const last = await s.enforceRetention(T0, { derivedBefore: cut });
        expect(last.counts).toMatchObject({ alerts: 2, incidents: 1 });
        expect((await s.stats()).alerts).toBe(1);
      });

      it('refuses bad retention arguments with ERR_STORE_BAD_QUERY', async () => {
        const s = await opened();
        expect(await code(s.enforceRetention(Number.NaN))).toBe('ERR_STORE_BAD_QUERY');
        expect(await code(s.enforceRetention(T0, { derivedBefore: Number.POSITIVE_INFINITY }))).toBe(
          'ERR_STORE_BAD_QUERY',
        );
        expect(await code(s.enforceRetention(T0, { heldDays: ['2026-1-1'] }))).toBe('ERR_STORE_BAD_QUERY');
        expect(await code(s.enforceRetention(T0, { heldDays: ["x'; DROP TABLE alerts; --"] }))).toBe(
          'ERR_STORE_BAD_QUERY',
        );
      });
    });

    describe('durability and concurrency', () => {
      it('keeps everything across close and reopen (file-backed stores)', async () => {
        const f = await fixture();
        if (!f.reopen) return; // memory stores forget on close by design
        const s = f.store;
        const recs = [
          flowRecord({ t: T0 + 5, index: 1 }),
          dnsRecord({ t: T0 + 6, qname: 'a.example', index: 2 }),
        ];
        await s.appendRecords(recs);
        const ev = evidenceOf('scan', '203.0.113.1', T0);
        await s.appendEvidence([ev], T0 + 10 * DAY);
        const a = alertOf('a1', { firstSeen: T0, incidentId: 'i1' });
        await s.upsertAlerts([a]);
        const inc = incidentOf('i1', { firstSeen: T0, lastSeen: T0 + 60_000, alerts: ['a1'] });
        await s.upsertIncidents([inc]);
        await s.appendAudit(auditEntries(1, 3));
        await s.putOperators(operators);
        const before = {
          series: await s.series({ step: '1m', from: T0, to: T0 + DAY }),
          parts: await s.partitions(),
        };
        const s2 = await f.reopen();
        expect((await s2.queryRecords({ from: T0, to: T0 + DAY, limit: 10 })).items).toEqual([
          recs[1],
          recs[0],
        ]);
        expect((await s2.queryEvidence({ from: T0, to: T0 + DAY, limit: 10 })).items).toEqual([ev]);
        expect(await s2.getIncident('i1')).toEqual({ incident: inc, alerts: [a] });
        expect((await s2.lastAudit())?.seq).toBe(3);
        await s2.appendAudit(auditEntries(4, 1));
        expect(await s2.getOperators()).toEqual(operators);
        expect(await s2.series({ step: '1m', from: T0, to: T0 + DAY })).toEqual(before.series);
        expect(await s2.partitions()).toEqual(before.parts);
        // evidence arrival order continues after a reopen
        const ev2 = evidenceOf('scan', '203.0.113.1', T0);
        await s2.appendEvidence([{ ...ev2, facts: { n: 2 } }], T0 + 10 * DAY);
        const evs = (await s2.queryEvidence({ from: T0, to: T0 + DAY, limit: 10 })).items;
        expect(evs.map((e) => e.facts)).toEqual([{ n: 2 }, ev.facts]);
      });

      it('takes many writes and reads in parallel without losing any', async () => {
        const s = await opened();
        const jobs: Promise<unknown>[] = [];
        for (let b = 0; b < 20; b++) {
          const recs: SelectedRecord[] = [];
          for (let i = 0; i < 100; i++)
            recs.push(
              flowRecord({ t: T0 + b * 100 + i, index: b * 100 + i, retainUntil: T0 + (10 + (b % 3)) * DAY }),
            );
          jobs.push(s.appendRecords(recs));
          jobs.push(s.upsertAlerts([alertOf(`a${b}`, { firstSeen: T0 + b })]));
          jobs.push(s.queryRecords({ from: T0, to: T0 + DAY, limit: 10 }));
          jobs.push(s.series({ step: '1m', from: T0, to: T0 + DAY }));
        }
        // audit appends issued in order without waiting keep their order
        for (let k = 0; k < 5; k++) jobs.push(s.appendAudit(auditEntries(1 + k * 4, 4)));
        await Promise.all(jobs);
        const st = await s.stats();
        expect(st).toMatchObject({ records: 2000, alerts: 20, audit: 20, partitions: 3 });
        const series = await s.series({ step: '1h', from: T0, to: T0 + DAY });
        expect(series.filter((p) => p.providerId === 'prov-a').reduce((n, p) => n + p.records, 0)).toBe(2000);
        const ids = new Set<string>();
        const pages = await allPages((cursor) =>
          s.queryRecords({ from: T0, to: T0 + DAY, limit: MAX_LIMIT, ...(cursor ? { cursor } : {}) }),
        );
        for (const r of pages.flat()) ids.add(r.recordId);
        expect(ids.size).toBe(2000);
      });
    });
  });
}
