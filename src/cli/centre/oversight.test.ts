/**
 * The centre's oversight wiring (issue 8): every oversight module's routes are mounted, each
 * declares its role and purpose and is enforced like the core routes (R-OVS-1), the centre's
 * actions are audited, and the services stop cleanly.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.ts';
import { shippedLegalParameters } from '../../common/legal/index.ts';
import { silentLogger } from '../../common/logging.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import { defaultServeConfig } from '../../serve/config.ts';
import { createEventHub } from '../../serve/events.ts';
import { createServer, type ApiServer } from '../../serve/server.ts';
import { testDeps, tokenOf } from '../../serve/testing.ts';
import { expectDeniedWithoutToken, expectRolesAndPurposesEnforced } from '../../serve/access-testing.ts';
import { MemoryStore } from '../../store/memory/store.ts';
import { createMemoryBus, type Bus } from '../../transport/index.ts';
import { startOversight, type Oversight } from './oversight.ts';

describe('centre: oversight wiring', () => {
  let dir: string;
  let bus: Bus;
  let store: MemoryStore;
  let oversight: Oversight;
  let server: ApiServer;
  let core: number;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'acd-oversight-'));
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 1));
    bus = createMemoryBus({ clock });
    await bus.start();
    store = new MemoryStore();
    await store.open();
    oversight = await startOversight({
      store,
      bus,
      clock,
      logger: silentLogger,
      dataDir: dir,
      events: createEventHub(64, clock),
      metrics: new MetricsRegistry(),
      legal: shippedLegalParameters(),
    });
    const bare = createServer(testDeps(), defaultServeConfig({ port: 0 }));
    await bare.app.ready();
    core = bare.routes().length;
    await bare.stop();
    const deps = testDeps({ plugins: oversight.plugins });
    server = createServer(
      { ...deps, audit: (req) => oversight.onRequest(req) },
      defaultServeConfig({ port: 0 }),
    );
  });
  afterEach(async () => {
    await server.stop();
    await oversight.stop();
    await bus.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('mounts the oversight routes, each denied without a token and held to its roles and purposes', async () => {
    const all = await expectDeniedWithoutToken(server);
    expect(all).toBeGreaterThan(core);
    const urls = server.routes().map((r) => `${r.method} ${r.url}`);
    for (const u of [
      'GET /api/audit',
      'POST /api/audit/verify',
      'GET /api/retention',
      'POST /api/retention/run',
      'GET /api/reports/transparency',
      'POST /api/reidentifications',
      'GET /api/cases',
      'POST /api/cases/:id/approve',
      'GET /api/communications',
    ])
      expect(urls).toContain(u);
    expect(await expectRolesAndPurposesEnforced(server)).toBeGreaterThan(20);
  });

  it('audits answered requests in the hash chain', async () => {
    const res = await server.app.inject({
      method: 'POST',
      url: '/api/audit/verify',
      headers: { authorization: `Bearer ${tokenOf('inspector')}`, 'x-acd-purpose': 'oversight' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ ok: boolean }>().ok).toBe(true);
    const entries = await store.readAudit(1, 100);
    expect(entries.some((e) => e.action === 'audit.verify' && e.actor === 'inspector-1')).toBe(true);
  });
});
