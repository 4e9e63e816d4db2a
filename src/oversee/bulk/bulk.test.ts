/**
 * Bulk-access alerts as a specification (R-OVS-4): the sliding-window monitor with a manual
 * clock (crossing, one alert per actor and window, forgetting old counts, bounded actors), the
 * API hook, and a server-level run where an analyst pages through `/api/records` past the
 * threshold and a commission communication, an audit entry and a live event appear.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.ts';
import { defaultServeConfig } from '../../serve/config.ts';
import { createServer } from '../../serve/server.ts';
import { testDeps, tokenOf } from '../../serve/testing.ts';
import { flowRecord, T0 } from '../../store/testing.ts';
import { MemoryStore } from '../../store/index.ts';
import { createAuditHooks, createAuditLog, resolveAuditConfig } from '../audit/index.ts';
import { KeyStore } from '../keys/index.ts';
import {
  alertCommission,
  BULK_ACCESS_ACTION,
  BULK_ACCESS_EVENT,
  bulkAccessHook,
  createBulkAccessMonitor,
  type BulkAccessAlert,
} from './index.ts';

const MIN = 60_000;
const ana = { actor: 'ana', role: 'analyst', purpose: 'investigation' };
const bob = { actor: 'bob', role: 'supervisor', purpose: 'monitoring' };

function setup(thresholds = { records: 100, exports: 3, windowMs: 10 * MIN }) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const alerts: BulkAccessAlert[] = [];
  const monitor = createBulkAccessMonitor({ clock, thresholds, onAlert: (a) => alerts.push(a) });
  return { clock, alerts, monitor };
}

describe('bulk-access monitor', () => {
  it('alerts when an actor goes above the record threshold within the window', () => {
    const { clock, alerts, monitor } = setup();
    for (let i = 0; i < 10; i++) {
      monitor.recordItems(ana, 10);
      clock.advance(MIN / 2);
    }
    expect(alerts).toHaveLength(0);
    expect(monitor.count('ana', 'records')).toBe(100);
    monitor.recordItems(ana, 1);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      actor: 'ana',
      kind: 'records',
      count: 101,
      threshold: 100,
      windowMs: 10 * MIN,
    });
    expect(alerts[0]!.at).toBe(clock.now());
  });

  it('raises one alert per actor and window, not one per request', () => {
    const { clock, alerts, monitor } = setup();
    for (let i = 0; i < 100; i++) {
      monitor.recordItems(ana, 50);
      clock.advance(MIN / 20); // 100 × 3 s = 5 min of heavy reading
    }
    expect(alerts).toHaveLength(1);
    const first = alerts[0]!.at;
    clock.set(first + 10 * MIN - 1); // still within a window of the alert: quiet
    monitor.recordItems(ana, 50);
    expect(alerts).toHaveLength(1);
    clock.set(first + 10 * MIN); // a window later, still reading in bulk: the next alert
    monitor.recordItems(ana, 1);
    expect(alerts).toHaveLength(2);
    expect(alerts[1]!.count).toBeGreaterThan(100);
    // Another actor is counted on its own.
    monitor.recordItems(bob, 101);
    expect(alerts.map((a) => a.actor)).toEqual(['ana', 'ana', 'bob']);
  });

  it('forgets counts older than the window (sliding)', () => {
    const { clock, alerts, monitor } = setup();
    monitor.recordItems(ana, 90);
    clock.advance(11 * MIN);
    expect(monitor.count('ana', 'records')).toBe(0);
    monitor.recordItems(ana, 90);
    expect(alerts).toHaveLength(0);
    clock.advance(5 * MIN);
    monitor.recordItems(ana, 11);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.count).toBe(101);
  });

  it('counts exports separately and ignores nonsense counts', () => {
    const { alerts, monitor } = setup();
    monitor.recordItems(ana, -5);
    monitor.recordItems(ana, Number.NaN);
    for (let i = 0; i < 3; i++) monitor.recordExport(ana);
    expect(alerts).toHaveLength(0);
    monitor.recordExport(ana);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'exports', count: 4, threshold: 3 });
    expect(monitor.count('ana', 'records')).toBe(0);
  });

  it('tracks a bounded number of actors', () => {
    const clock = new ManualClock();
    const monitor = createBulkAccessMonitor({
      clock,
      thresholds: { records: 10, exports: 10, windowMs: MIN },
      onAlert: () => undefined,
      maxActors: 3,
    });
    for (let i = 0; i < 10; i++) monitor.recordItems({ actor: `u${i}`, role: 'analyst', purpose: 'x' }, 1);
    expect(monitor.actors).toBe(3);
    expect(monitor.count('u9', 'records')).toBe(1);
    expect(monitor.count('u0', 'records')).toBe(0);
  });

  it('is fed by the API hook: items of successful requests and export routes', () => {
    const { alerts, monitor } = setup({ records: 5, exports: 1, windowMs: 10 * MIN });
    const hook = bulkAccessHook(monitor);
    const base = { session: 's', ...ana, method: 'GET', objectIds: [] };
    hook({ ...base, route: '/api/records', statusCode: 200, items: 5 });
    hook({ ...base, route: '/api/records', statusCode: 400, items: 50 });
    expect(alerts).toHaveLength(0);
    hook({ ...base, route: '/api/reports/transparency', statusCode: 200 });
    hook({ ...base, route: '/api/audit/export', statusCode: 200 });
    hook({ ...base, route: '/api/records', statusCode: 200, items: 1 });
    expect(alerts.map((a) => a.kind)).toEqual(['exports', 'records']);
  });

  it('has configurable thresholds with bounds and defaults under audit.bulkAccess', () => {
    expect(resolveAuditConfig().bulkAccess).toEqual({ records: 10_000, exports: 20, windowMs: 600_000 });
    expect(resolveAuditConfig({ bulkAccess: { records: 50 } }).bulkAccess.records).toBe(50);
    expect(() => resolveAuditConfig({ bulkAccess: { windowMs: 5 } })).toThrow(/audit\.bulkAccess\.windowMs/);
  });
});

describe('bulk access through the API', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'acd-bulk-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('alerts the commission when an analyst pages through /api/records past the threshold', async () => {
    const deps = testDeps();
    const { store, clock, events } = deps;
    await store.open();
    await store.appendRecords(
      Array.from({ length: 300 }, (_, i) => flowRecord({ t: T0 + i * 1000, index: i })),
    );
    const keys = new KeyStore(join(dir, 'keys'), clock);
    await keys.init();
    const log = createAuditLog({ store, clock, keys, checkpointFile: join(dir, 'checkpoints.ndjson') });
    await log.start();
    const hooks = createAuditHooks(log);
    const onAlert = alertCommission({ store, audit: log, events, clock });
    const monitor = createBulkAccessMonitor({
      clock,
      thresholds: { records: 120, exports: 5, windowMs: 10 * MIN },
      onAlert,
    });
    const bulk = bulkAccessHook(monitor);
    deps.audit = (req) => {
      hooks.onRequest(req);
      bulk(req);
    };
    const server = createServer(deps, defaultServeConfig({ port: 0 }));
    const headers = { authorization: `Bearer ${tokenOf('analyst')}`, 'x-acd-purpose': 'investigation' };
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `from=${T0}&to=${T0 + 400_000}&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await server.app.inject({ url: `/api/records?${q}`, headers });
      expect(res.statusCode, res.body).toBe(200);
      cursor = (JSON.parse(res.body) as { next: string | null }).next;
      pages++;
      clock.advance(1000);
    } while (cursor !== null);
    expect(pages).toBe(6);
    await onAlert.settled();

    const comms = await store.listCases({ kind: 'communication', limit: 100 });
    expect(comms.items).toHaveLength(1);
    const c = comms.items[0]!;
    expect(c.state).toBe('open');
    expect(c.body).toMatchObject({
      format: 'acd.communication/1',
      type: 'notification',
      direction: 'to-commission',
      subject: 'Bulk access by analyst-1',
      createdBy: 'system',
      responses: [],
    });
    expect(c.body.text).toMatch(/150 selected records received within 10 min/);
    // Never record content: no address or record id of the pages read.
    expect(JSON.stringify(c.body)).not.toMatch(/203\.0\.113|10\.\d+\.\d+\.7|prov-a\//);

    await log.flushReads(true);
    const entries = await store.readAudit(1, 1000);
    const alertEntry = entries.find((e) => e.action === BULK_ACCESS_ACTION);
    expect(alertEntry).toMatchObject({ actor: 'system', objectIds: [c.id] });
    expect(alertEntry?.detail).toMatchObject({
      subject: 'analyst-1',
      kind: 'records',
      count: 150,
      threshold: 120,
    });
    expect(entries.filter((e) => e.action === 'GET /api/records')).toHaveLength(6);
    const ev = events.since(0).filter((e) => e.type === BULK_ACCESS_EVENT);
    expect(ev).toHaveLength(1);
    expect(JSON.parse(ev[0]!.data)).toMatchObject({ communicationId: c.id, actor: 'analyst-1', count: 150 });

    // Reading on within the same window raises nothing more.
    const again = await server.app.inject({
      url: `/api/records?from=${T0}&to=${T0 + 400_000}&limit=200`,
      headers,
    });
    expect(again.statusCode).toBe(200);
    await onAlert.settled();
    expect((await store.listCases({ kind: 'communication', limit: 100 })).items).toHaveLength(1);
    await server.stop();
    await log.stop();
  });

  it('logs and survives a failing alert handler write', async () => {
    const clock = new ManualClock();
    const store = new MemoryStore(); // never opened: every write fails
    const onAlert = alertCommission({ store, audit: { append: () => Promise.resolve() }, clock });
    onAlert({ ...ana, kind: 'records', count: 2, threshold: 1, windowMs: MIN, windowStart: 0, at: 0 });
    await expect(onAlert.settled()).resolves.toBeUndefined();
  });
});
