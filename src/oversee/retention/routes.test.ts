import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultServeConfig } from '../../serve/config.ts';
import { createServer, type ApiServer } from '../../serve/server.ts';
import { testDeps, tokenOf } from '../../serve/testing.ts';
import type { Role } from '../../serve/access.ts';
import { flowRecord } from '../../store/testing.ts';
import { KeyStore } from '../keys/index.ts';
import { verifyCertificate } from './certificate.ts';
import { createRetentionJob } from './job.ts';
import { retentionPlugin } from './routes.ts';
import { DAY, extensionCase, NOW, testLegal } from './testing.ts';

let dir: string;
let server: ApiServer;
let keys: KeyStore;
let deps: ReturnType<typeof testDeps>;

const as = (role: Role, purpose?: string) => ({
  authorization: `Bearer ${tokenOf(role)}`,
  ...(purpose ? { 'x-acd-purpose': purpose } : {}),
});

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'acd-retention-api-'));
  deps = testDeps();
  deps.clock.set(NOW);
  keys = new KeyStore(join(dir, 'keys'), deps.clock);
  await keys.init();
  const job = createRetentionJob({
    store: deps.store,
    clock: deps.clock,
    legal: testLegal(),
    signer: { key: () => keys.signingKey('audit') },
    dataDir: dir,
  });
  deps.plugins = [retentionPlugin(job)];
  await deps.store.open();
  await deps.store.appendRecords([
    flowRecord({ t: NOW - 20 * DAY, retainUntil: NOW - 10 * DAY, index: 1 }),
    flowRecord({ t: NOW - 2 * DAY, retainUntil: NOW + 8 * DAY, index: 2 }),
  ]);
  await deps.store.putCase(
    extensionCase('case-1', { validUntil: NOW + DAY, incidentIds: ['inc-9'], days: [] }),
  );
  server = createServer(deps, defaultServeConfig({ port: 0 }));
});
afterEach(async () => {
  await server.app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('retention API', () => {
  it('GET /api/retention: parameter version, retention per channel, partitions with deadlines, holds, next run', async () => {
    const res = await server.app.inject({ url: '/api/retention', headers: as('inspector') });
    expect(res.statusCode).toBe(200);
    const b = res.json<Record<string, unknown>>();
    expect(b).toMatchObject({
      now: new Date(NOW).toISOString(),
      parameterVersion: 'test-1',
      derivedRetention: '30d',
      retention: { 'transit-foreign-to-foreign': '10d' },
      holds: [
        { caseId: 'case-1', validUntil: new Date(NOW + DAY).toISOString(), incidentIds: ['inc-9'], days: [] },
      ],
      holdError: null,
      lastRun: null,
      lastCertificate: null,
      nextRunAt: null,
    });
    expect(b.partitions).toEqual([
      {
        kind: 'records',
        day: '2026-02-19',
        rows: 1,
        expiresAt: '2026-02-20T00:00:00.000Z',
        expired: true,
        held: false,
      },
      {
        kind: 'records',
        day: '2026-03-09',
        rows: 1,
        expiresAt: '2026-03-10T00:00:00.000Z',
        expired: false,
        held: false,
      },
    ]);
  });

  it('POST /api/retention/run is for the administrator only; answers the certificate, then { deleted: false }', async () => {
    for (const role of ['supervisor', 'inspector', 'analyst'] as const)
      expect(
        (await server.app.inject({ method: 'POST', url: '/api/retention/run', headers: as(role) }))
          .statusCode,
      ).toBe(403);
    const res = await server.app.inject({
      method: 'POST',
      url: '/api/retention/run',
      headers: as('administrator'),
    });
    expect(res.statusCode).toBe(200);
    const cert = res.json<Record<string, unknown>>();
    expect(cert).toMatchObject({
      runAt: new Date(NOW).toISOString(),
      counts: { records: 1 },
      remainingRows: 0,
      holds: ['case-1'],
    });
    // the ISO times map back to the signed epoch milliseconds
    const signed = {
      ...cert,
      runAt: Date.parse(String(cert.runAt)),
      derivedBefore: Date.parse(String(cert.derivedBefore)),
    };
    expect(verifyCertificate(signed, await keys.publicKeys())).toMatchObject({ ok: true });
    const again = await server.app.inject({
      method: 'POST',
      url: '/api/retention/run',
      headers: as('administrator'),
    });
    expect(again.json()).toEqual({ deleted: false });
  });

  it('GET /api/retention/certificates pages newest first; bad cursors are 400; no role outside the group', async () => {
    for (let i = 0; i < 3; i++) {
      await deps.store.appendRecords([
        flowRecord({ t: NOW - 20 * DAY, retainUntil: NOW - (5 - i) * DAY, index: 10 + i }),
      ]);
      deps.clock.advance(1000);
      await server.app.inject({ method: 'POST', url: '/api/retention/run', headers: as('administrator') });
    }
    const p1 = await server.app.inject({
      url: '/api/retention/certificates?limit=2',
      headers: as('supervisor'),
    });
    expect(p1.statusCode).toBe(200);
    const b1 = p1.json<{ items: { runAt: string }[]; next: string | null }>();
    expect(b1.items.map((c) => c.runAt)).toEqual([
      new Date(NOW + 3000).toISOString(),
      new Date(NOW + 2000).toISOString(),
    ]);
    const p2 = await server.app.inject({
      url: `/api/retention/certificates?limit=2&cursor=${b1.next ?? ''}`,
      headers: as('administrator'),
    });
    expect(p2.json<{ items: unknown[]; next: string | null }>()).toMatchObject({ next: null });
    expect(p2.json<{ items: unknown[] }>().items).toHaveLength(1);
    expect(
      (await server.app.inject({ url: '/api/retention/certificates?cursor=zzz', headers: as('inspector') }))
        .statusCode,
    ).toBe(400);
    for (const role of ['analyst', 'operator', 'police'] as const)
      expect((await server.app.inject({ url: '/api/retention', headers: as(role) })).statusCode).toBe(403);
    expect((await server.app.inject({ url: '/api/retention' })).statusCode).toBe(401);
  });
});
