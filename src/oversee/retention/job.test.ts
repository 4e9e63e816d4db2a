import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../common/clock.ts';
import type { LegalChannel } from '../../common/schema/legal.ts';
import type { DeletionCertificateBody } from '../../common/schema/case.ts';
import { DuckDbStore } from '../../store/duckdb/store.ts';
import { MemoryStore } from '../../store/memory/store.ts';
import { alertOf, evidenceOf, flowRecord, incidentOf } from '../../store/testing.ts';
import type { Store } from '../../store/types.ts';
import type { AuditInput } from '../audit/index.ts';
import { KeyStore, type PublicKeyInfo } from '../keys/index.ts';
import { readCertificateFile, verifyCertificate } from './certificate.ts';
import { RetentionHoldError } from './errors.ts';
import { createRetentionJob, type RetentionJob, type RetentionPurger } from './job.ts';
import { DAY, extensionCase, NOW, testLegal } from './testing.ts';

let dir: string;
let clock: ManualClock;
let keys: KeyStore;
let audits: AuditInput[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'acd-retention-'));
  clock = new ManualClock(NOW);
  keys = new KeyStore(join(dir, 'keys'), clock);
  await keys.init();
  audits = [];
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function job(
  store: Store,
  o: { legal?: ReturnType<typeof testLegal>; purgers?: RetentionPurger[] } = {},
): RetentionJob {
  return createRetentionJob({
    store,
    clock,
    legal: o.legal ?? testLegal(),
    signer: { key: () => keys.signingKey('audit') },
    dataDir: join(dir, 'data'),
    audit: (input) => audits.push(input),
    ...(o.purgers ? { purgers: o.purgers } : {}),
  });
}

/** A record of `channel` seen at `t`, with the deadline the edge would stamp from `legal`. */
function rec(channel: LegalChannel, t: number, index: number) {
  const retainUntil = testLegal().parametersAt(t).retainUntil(channel, t);
  return flowRecord({ t, channel, retainUntil, index, src: `10.0.0.${index}`, dst: '203.0.113.9' });
}

/**
 * Data of several days: transit (10 d) and specified (20 d) records seen 15 days ago, a transit
 * record seen 5 days ago; evidence due 2 days ago; alerts and incidents last seen 40 and 10 days ago.
 */
async function fill(store: Store): Promise<void> {
  await store.appendRecords([
    rec('transit-foreign-to-foreign', NOW - 15 * DAY, 1), // due NOW-5d: goes
    rec('transit-foreign-to-foreign', NOW - 15 * DAY + 1000, 2), // same day: goes
    rec('specified-domestic-to-foreign', NOW - 15 * DAY, 3), // due NOW+5d
    rec('transit-foreign-to-foreign', NOW - 5 * DAY, 4), // due NOW+5d
  ]);
  await store.appendEvidence([evidenceOf('scan', '203.0.113.1', NOW - 3 * DAY)], NOW - 2 * DAY);
  await store.upsertAlerts([
    alertOf('a-old', { firstSeen: NOW - 41 * DAY, lastSeen: NOW - 40 * DAY, incidentId: 'i-old' }),
    alertOf('a-new', { firstSeen: NOW - 11 * DAY, lastSeen: NOW - 10 * DAY, incidentId: 'i-new' }),
  ]);
  await store.upsertIncidents([
    incidentOf('i-old', { firstSeen: NOW - 41 * DAY, lastSeen: NOW - 40 * DAY, alerts: ['a-old'] }),
    incidentOf('i-new', { firstSeen: NOW - 11 * DAY, lastSeen: NOW - 10 * DAY, alerts: ['a-new'] }),
  ]);
}

async function memory(): Promise<Store> {
  const s = new MemoryStore();
  await s.open();
  return s;
}

async function publicKeys(): Promise<PublicKeyInfo[]> {
  return keys.publicKeys();
}

describe('retention job', () => {
  it('deletes what is past its deadline per channel and derived data past retention.default, and certifies it', async () => {
    const store = await memory();
    await fill(store);
    const j = job(store);
    const r = await j.run();
    expect(r.parameterVersion).toBe('test-1');
    expect(r.derivedBefore).toBe(NOW - 30 * DAY);
    expect(r.result.remainingRows).toBe(0);
    expect(r.result.dropped).toEqual([
      { kind: 'records', day: '2026-02-24', rows: 2 },
      { kind: 'evidence', day: '2026-02-27', rows: 1 },
    ]);
    expect(r.result.counts).toMatchObject({ records: 2, evidence: 1, alerts: 1, incidents: 1 });
    // counts match what was stored and what is left
    expect(await store.stats()).toMatchObject({ records: 2, evidence: 0, alerts: 1, incidents: 1 });
    expect(await store.getAlert('a-old')).toBeUndefined();
    expect(await store.getAlert('a-new')).toBeDefined();
    const c = r.certificate;
    if (c === null) throw new Error('expected a certificate');
    expect(c).toMatchObject({
      format: 'acd.deletion-certificate/1',
      runAt: NOW,
      period: { firstDay: '2026-02-24', lastDay: '2026-02-27' },
      remainingRows: 0,
      derivedBefore: NOW - 30 * DAY,
      parameterVersion: 'test-1',
      holds: [],
    });
    expect(c.counts).toMatchObject({ records: 2, evidence: 1, alerts: 1, incidents: 1 });
    expect(c.keyIds).toEqual([c.keyId]);
    expect(verifyCertificate(c, await publicKeys())).toMatchObject({ ok: true });
    // stored as a case record and appended to the file (0600)
    expect(await store.getCase(c.id)).toMatchObject({
      kind: 'deletion-certificate',
      state: 'issued',
      body: c,
    });
    const lines = await readCertificateFile(j.certificateFile);
    expect(lines.map((l) => l.value)).toEqual([c]);
    expect(statSync(j.certificateFile).mode & 0o777).toBe(0o600);
    // audited with counts, never an address
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      actor: 'centre',
      action: 'retention.delete',
      objectIds: [c.id],
      detail: { counts: c.counts, remainingRows: 0 },
    });
    expect(JSON.stringify(audits[0])).not.toMatch(/10\.0\.0\.|203\.0\.113/);
  });

  it('is idempotent: a second run deletes nothing and issues no certificate', async () => {
    const store = await memory();
    await fill(store);
    const j = job(store);
    await j.run();
    const again = await j.run();
    expect(again.deleted).toBe(0);
    expect(again.certificate).toBeNull();
    expect(again.result.remainingRows).toBe(0);
    expect(await readCertificateFile(j.certificateFile)).toHaveLength(1);
    expect(audits).toHaveLength(1);
    expect((await store.listCases({ kind: 'deletion-certificate', limit: 10 })).items).toHaveLength(1);
  });

  it('deletes the rest once the clock passes their deadlines', async () => {
    const store = await memory();
    await fill(store);
    const j = job(store);
    await j.run();
    clock.set(NOW + 5 * DAY - 1); // the day 2026-03-05 has not ended yet
    expect((await j.run()).deleted).toBe(0);
    clock.set(NOW + 6 * DAY); // 2026-03-06: the two remaining records' day has ended
    const r = await j.run();
    expect(r.result.dropped.map((p) => p.day)).toEqual(['2026-03-06']);
    expect((await store.stats()).records).toBe(0);
    clock.set(NOW + 21 * DAY); // a-new and i-new are 31 days old
    expect((await j.run()).result.counts).toMatchObject({ alerts: 1, incidents: 1 });
  });

  it('honours holds of approved, unexpired retention extensions, and deletes once the case expires', async () => {
    const store = await memory();
    await fill(store);
    await store.putCase(
      extensionCase('case-hold', {
        validUntil: NOW + 10 * DAY,
        incidentIds: ['i-old'],
        days: ['2026-02-24'],
      }),
    );
    // neither a submitted, a rejected, nor an expired extension holds anything
    await store.putCase(
      extensionCase('case-sub', { state: 'submitted', validUntil: NOW + 10 * DAY, days: ['2026-02-27'] }),
    );
    await store.putCase(
      extensionCase('case-rej', { state: 'rejected', validUntil: NOW + 10 * DAY, days: ['2026-02-27'] }),
    );
    await store.putCase(extensionCase('case-old', { validUntil: NOW, days: ['2026-02-27'] }));
    const j = job(store);
    const st = await j.status();
    expect(st.holds.map((h) => h.caseId)).toEqual(['case-hold']);
    expect(st.partitions.find((p) => p.day === '2026-02-24')).toMatchObject({ expired: true, held: true });
    const r = await j.run();
    expect(r.result.held).toEqual([{ kind: 'records', day: '2026-02-24', rows: 2 }]);
    expect(r.result.counts).toMatchObject({ records: 0, evidence: 1, alerts: 0, incidents: 0 });
    expect(r.certificate?.holds).toEqual(['case-hold']);
    expect(await store.getIncident('i-old')).toMatchObject({ alerts: [{ id: 'a-old' }] });
    // the case's validUntil passes: everything it held goes at the next run
    clock.set(NOW + 10 * DAY);
    const after = await j.run();
    // the held day's 2 records, and the 2 of 2026-03-06 whose day has ended meanwhile
    expect(after.result.counts).toMatchObject({ records: 4, alerts: 1, incidents: 1 });
    expect(after.certificate?.holds).toEqual([]);
    expect(await store.getIncident('i-old')).toBeUndefined();
  });

  it('refuses the whole run (deletes nothing) when an approved extension in force cannot be read', async () => {
    const store = await memory();
    await fill(store);
    const bad = extensionCase('case-bad', { validUntil: NOW + DAY });
    bad.body.retentionHolds = { incidentIds: 'i-old', days: [] };
    await store.putCase(bad);
    const j = job(store);
    await expect(j.run()).rejects.toBeInstanceOf(RetentionHoldError);
    expect((await store.stats()).records).toBe(4);
    const st = await j.status();
    expect(st.holdError).toContain('case-bad');
    expect(st.lastRun).toMatchObject({ ok: false, error: 'ERR_RETENTION_HOLD_INVALID', deleted: 0 });
  });

  it('deletes nothing without a signing key (every deletion is certified)', async () => {
    const store = await memory();
    await fill(store);
    const j = createRetentionJob({
      store,
      clock,
      legal: testLegal(),
      signer: { key: () => new KeyStore(join(dir, 'no-keys'), clock).signingKey('audit') },
      dataDir: join(dir, 'data'),
    });
    await expect(j.run()).rejects.toMatchObject({ code: 'ERR_KEYSTORE_MISSING' });
    expect(await store.stats()).toMatchObject({ records: 4, evidence: 1, alerts: 2 });
  });

  it('rejects a tampered certificate, an unknown key and a key of another purpose', async () => {
    const store = await memory();
    await fill(store);
    const c = (await job(store).run()).certificate as DeletionCertificateBody;
    const pub = await publicKeys();
    expect(verifyCertificate({ ...c, counts: { ...c.counts, records: 1 } }, pub)).toMatchObject({
      ok: false,
    });
    expect(verifyCertificate({ ...c, remainingRows: 0, holds: ['case-x'] }, pub)).toMatchObject({
      ok: false,
    });
    expect(verifyCertificate({ ...c, runAt: c.runAt + 1 }, pub)).toMatchObject({ ok: false });
    const unknown = verifyCertificate(c, []);
    expect(unknown.ok === false && unknown.reason).toContain('unknown key');
    const asCommission = pub.map((k) => ({ ...k, purpose: 'commission' as const }));
    expect(verifyCertificate(c, asCommission)).toMatchObject({ ok: false });
    expect(verifyCertificate({ ...c, extra: 1 }, pub)).toMatchObject({ ok: false });
    expect(verifyCertificate(c, pub)).toMatchObject({ ok: true });
  });

  it('calls the purgers with the derived cutoff and certifies what they dropped', async () => {
    const store = await memory();
    const calls: number[] = [];
    const purger: RetentionPurger = {
      name: 'webhook-queue',
      purge: (before) => {
        calls.push(before);
        return 3;
      },
    };
    const r = await job(store, {
      purgers: [purger, { name: 'cache', purge: () => Promise.resolve(0) }],
    }).run();
    expect(calls).toEqual([NOW - 30 * DAY]);
    expect(r.deleted).toBe(3);
    expect(r.certificate?.counts).toMatchObject({ 'webhook-queue': 3, cache: 0, records: 0 });
  });

  it('a future-dated legal-parameter version does not change today’s deletion (R-NF-2)', async () => {
    const store = await memory();
    await fill(store);
    const future = NOW + 30 * DAY;
    const j = job(store, { legal: testLegal(future) });
    const r = await j.run();
    expect(r.parameterVersion).toBe('test-1');
    expect(r.derivedBefore).toBe(NOW - 30 * DAY);
    expect(await store.getAlert('a-new')).toBeDefined(); // 10 days old, kept under 30 d
    expect((await j.status()).parameterVersion).toBe('test-1');
    // once the version is in force, its 1-day retention applies to derived data
    clock.set(future);
    const later = await j.run();
    expect(later.parameterVersion).toBe('test-2');
    expect(later.derivedBefore).toBe(future - DAY);
    expect(await store.getAlert('a-new')).toBeUndefined();
  });

  it('reports partitions with deadlines, holds, the last run and certificate, and the next run', async () => {
    const store = await memory();
    await fill(store);
    const j = job(store);
    const before = await j.status();
    expect(before).toMatchObject({
      now: NOW,
      parameterVersion: 'test-1',
      lastRun: null,
      lastCertificate: null,
      nextRunAt: null,
    });
    expect(before.retention['transit-foreign-to-foreign']).toBe('10d');
    expect(before.derivedRetention).toBe('30d');
    expect(before.partitions.find((p) => p.kind === 'records' && p.day === '2026-02-24')).toEqual({
      kind: 'records',
      day: '2026-02-24',
      rows: 2,
      expiresAt: Date.UTC(2026, 1, 25),
      expired: true,
      held: false,
    });
    const r = await j.run();
    const after = await j.status();
    expect(after.lastRun).toMatchObject({
      at: NOW,
      ok: true,
      certificateId: r.certificate?.id,
      remainingRows: 0,
    });
    expect(after.lastCertificate).toEqual(r.certificate);
    expect(after.partitions.every((p) => !p.expired)).toBe(true);
  });

  it('runs at start and every intervalMs on the injected clock', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const store = await memory();
      const runs: number[] = [];
      const key = await keys.signingKey('audit');
      const j = createRetentionJob(
        {
          store,
          clock,
          legal: testLegal(),
          signer: { key: () => Promise.resolve(key) },
          dataDir: join(dir, 'data'),
          purgers: [{ name: 'probe', purge: () => (runs.push(clock.now()), 0) }],
        },
        { intervalMs: 3_600_000 },
      );
      await j.start();
      expect((await j.status()).nextRunAt).toBe(NOW);
      await vi.advanceTimersByTimeAsync(1);
      expect(runs).toEqual([NOW]);
      expect((await j.status()).nextRunAt).toBe(NOW + 3_600_000);
      // real time passes but the clock does not: no run
      await vi.advanceTimersByTimeAsync(120_000);
      expect(runs).toHaveLength(1);
      clock.advance(3_600_000);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(runs).toEqual([NOW, NOW + 3_600_000]);
      await j.stop();
      clock.advance(10 * 3_600_000);
      await vi.advanceTimersByTimeAsync(120_000);
      expect(runs).toHaveLength(2);
      expect((await j.status()).nextRunAt).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('on DuckDB files: the dropped day tables are gone, the proof is 0, derived rows are deleted', async () => {
    const path = join(dir, 'data', 'acd.duckdb');
    const store = new DuckDbStore({ config: { path } });
    await store.open();
    await fill(store);
    const r = await job(store).run();
    expect(r.result.remainingRows).toBe(0);
    expect(r.result.counts).toMatchObject({ records: 2, evidence: 1, alerts: 1, incidents: 1 });
    expect(r.certificate?.counts).toMatchObject({ records: 2, evidence: 1 });
    await store.close();
    const inst = await DuckDBInstance.create(path);
    const c = await inst.connect();
    try {
      const names = (
        await c.runAndReadAll(
          "SELECT table_name AS t FROM duckdb_tables() WHERE table_name LIKE 'records_%' OR table_name LIKE 'evidence_%' ORDER BY 1",
        )
      ).getRowObjectsJS();
      expect(names.map((x) => x.t)).toEqual(['records_20260306']);
      const ids = (await c.runAndReadAll('SELECT id FROM alerts ORDER BY id')).getRowObjectsJS();
      expect(ids.map((x) => x.id)).toEqual(['a-new']);
    } finally {
      c.closeSync();
      inst.closeSync();
    }
    expect(
      readFileSync(join(dir, 'data', 'retention', 'certificates.ndjson'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(1);
  });
});
