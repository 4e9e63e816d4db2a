/**
 * The re-identification routes in process (`app.inject`): access group, status codes of the typed
 * errors (409 same person, 403 not a party, 404 hidden), and the full flow request → second
 * authorisation → sealed answer → reveal once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logging.ts';
import { defaultServeConfig } from '../../serve/config.ts';
import type { Role } from '../../serve/access.ts';
import { createServer, type ApiServer } from '../../serve/server.ts';
import { testDeps, tokenOf } from '../../serve/testing.ts';
import { flowRecord } from '../../store/testing.ts';
import { createMemoryBus, type Bus } from '../../transport/index.ts';
import { KeyStore } from '../keys/index.ts';
import { createReidentificationService, type ReidentificationService } from './service.ts';
import { reidentificationPlugin } from './plugin.ts';
import { approvalCase } from './testing.ts';

const PROVIDER = 'prov-a';
let dir: string;
let server: ApiServer;
let deps: ReturnType<typeof testDeps>;
let bus: Bus;
let service: ReidentificationService;

const as = (role: Role, purpose = 'investigation') => ({
  authorization: `Bearer ${tokenOf(role)}`,
  'x-acd-purpose': purpose,
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acd-reid-api-'));
  deps = testDeps();
  const now = deps.clock.now();
  await deps.store.open();
  const keys = new KeyStore(join(dir, 'keys'), deps.clock);
  await keys.init();
  await keys.addSigner('analyst-1');
  await keys.addSigner('supervisor-1');
  bus = createMemoryBus({ clock: deps.clock });
  await bus.start();
  await deps.store.appendRecords([flowRecord({ t: now - 60_000, index: 7, src: '2001:db8::77' })]);
  await deps.store.putCase(
    approvalCase('case-1', [PROVIDER], now, { validFrom: now - 1000, validUntil: now + 86_400_000 }),
  );
  service = createReidentificationService({
    store: deps.store,
    clock: deps.clock,
    bus,
    signerFor: (u) => keys.personalSigningKey(u),
    logger: silentLogger,
    sealKeyFile: join(dir, 'seal.key'),
  });
  await service.start();
  server = createServer(
    { ...deps, plugins: [reidentificationPlugin(service)] },
    defaultServeConfig({ port: 0 }),
  );
});

afterEach(async () => {
  await server.stop();
  await service.stop();
  await bus.stop();
  await deps.store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('reidentification routes', () => {
  it('runs request → second authorisation → answer → reveal once, with the typed statuses', async () => {
    const recordId = flowRecord({ t: 0, index: 7 }).recordId;
    const payload = {
      caseId: 'case-1',
      purpose: 'incident-response',
      providerId: PROVIDER,
      records: [{ recordId, keyEpoch: 3, addresses: ['2001:DB8:0:0::77'] }],
    };
    expect(
      (
        await server.app.inject({
          method: 'POST',
          url: '/api/reidentifications',
          headers: as('inspector', 'oversight'),
          payload,
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await server.app.inject({
          method: 'POST',
          url: '/api/reidentifications',
          headers: as('analyst', 'monitoring'),
          payload,
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await server.app.inject({
          method: 'POST',
          url: '/api/reidentifications',
          headers: as('analyst'),
          payload: { ...payload, purpose: 'Bad Purpose' },
        })
      ).statusCode,
    ).toBe(400);
    const wrong = await server.app.inject({
      method: 'POST',
      url: '/api/reidentifications',
      headers: as('analyst'),
      payload: { ...payload, records: [{ recordId, keyEpoch: 3, addresses: ['203.0.113.9'] }] },
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ code: 'ERR_REID_RECORD_MISMATCH' });
    expect(
      (
        await server.app.inject({
          method: 'POST',
          url: '/api/reidentifications',
          headers: as('police'),
          payload,
        })
      ).json(),
    ).toMatchObject({
      code: 'ERR_REID_NO_SIGNING_KEY',
      status: 403,
    });

    const created = await server.app.inject({
      method: 'POST',
      url: '/api/reidentifications',
      headers: as('analyst'),
      payload,
    });
    expect(created.statusCode).toBe(201);
    const v = created.json<{ id: string; state: string; records: { addresses: string[] }[] }>();
    expect(v).toMatchObject({ state: 'awaiting-second', records: [{ addresses: ['2001:db8::77'] }] });

    const same = await server.app.inject({
      method: 'POST',
      url: `/api/reidentifications/${v.id}/authorise`,
      headers: as('analyst'),
    });
    expect(same.statusCode).toBe(409);
    expect(same.json()).toMatchObject({ code: 'ERR_REID_SAME_PERSON' });
    // Awaiting a second person: visible to every re-identification role.
    expect(
      (await server.app.inject({ url: `/api/reidentifications/${v.id}`, headers: as('police') })).statusCode,
    ).toBe(200);
    expect(
      (await server.app.inject({ url: '/api/reidentifications', headers: as('police') })).json<{
        items: unknown[];
      }>().items,
    ).toHaveLength(1);

    const sent = await server.app.inject({
      method: 'POST',
      url: `/api/reidentifications/${v.id}/authorise`,
      headers: as('supervisor'),
    });
    expect(sent.statusCode).toBe(200);
    expect(sent.json()).toMatchObject({
      state: 'sent',
      requester: 'analyst-1',
      secondAuthoriser: 'supervisor-1',
    });
    expect(
      (await server.app.inject({ url: `/api/reidentifications/${v.id}`, headers: as('police') })).statusCode,
    ).toBe(404);

    await service.handleAnswer({
      messageId: 'a-1',
      kind: 'reident-answer',
      from: PROVIDER,
      issuedAt: deps.clock.now(),
      correlationId: `centre.reid.${v.id}`,
      contentType: 'application/acd-reident-answer+json',
      payload: new TextEncoder().encode(
        JSON.stringify({
          type: 'reidentification-answer',
          outcome: 'answered',
          requestId: v.id,
          caseId: 'case-1',
          results: [{ recordId, keyEpoch: 3, pseudonym: '2001:db8::77', address: '240b:10:7f::5' }],
        }),
      ),
      target: PROVIDER,
      deliveryCount: 1,
    });
    const got = (
      await server.app.inject({ url: `/api/reidentifications/${v.id}`, headers: as('analyst') })
    ).json<{ state: string; sealedReference: string }>();
    expect(got.state).toBe('answered');
    expect(got.sealedReference).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(got)).not.toContain('240b:10:7f::5');

    expect(
      (
        await server.app.inject({
          method: 'POST',
          url: `/api/reidentifications/${v.id}/reveal`,
          headers: as('police'),
        })
      ).statusCode,
    ).toBe(404);
    const rev = await server.app.inject({
      method: 'POST',
      url: `/api/reidentifications/${v.id}/reveal`,
      headers: as('supervisor'),
    });
    expect(rev.statusCode).toBe(200);
    expect(rev.headers['cache-control']).toBe('no-store');
    expect(rev.json()).toMatchObject({
      results: [{ recordId, pseudonym: '2001:db8::77', address: '240b:10:7f::5' }],
    });
    const again = await server.app.inject({
      method: 'POST',
      url: `/api/reidentifications/${v.id}/reveal`,
      headers: as('supervisor'),
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'ERR_REID_ALREADY_REVEALED' });
  });
});
