/**
 * The audit API as a specification: who may search and verify, what the search filters do, how
 * its pages chain, that verification answers "intact" for an untouched chain and names the bad
 * entry of a tampered one, and that every verification is itself audited.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AcdError } from '../../common/errors.ts';
import { defaultServeConfig } from '../../serve/config.ts';
import { createServer, type ApiServer } from '../../serve/server.ts';
import { testDeps, tokenOf } from '../../serve/testing.ts';
import type { Role } from '../../serve/access.ts';
import type { AuditRecord } from '../../store/types.ts';
import { MemoryStore } from '../../store/memory/store.ts';
import { KeyStore } from '../keys/index.ts';
import { createAuditLog, type AuditLog } from './log.ts';
import {
  auditPlugin,
  parseAuditCursor,
  verifyStoredChain,
  type AuditEntryJson,
  type AuditVerifyResponse,
} from './routes.ts';

const bearer = (role: Role): Record<string, string> => ({ authorization: `Bearer ${tokenOf(role)}` });

interface Page {
  items: AuditEntryJson[];
  next: string | null;
}

/** A store whose audit entries can be altered after they were written (a tampered database). */
class TamperableStore extends MemoryStore {
  tamper: ((e: AuditRecord) => AuditRecord) | undefined;
  override async readAudit(fromSeq: number, limit: number): Promise<AuditRecord[]> {
    const page = await super.readAudit(fromSeq, limit);
    const f = this.tamper;
    return f === undefined ? page : page.map(f);
  }
}

describe('audit API (GET /api/audit, POST /api/audit/verify)', () => {
  let dir: string;
  let server: ApiServer;
  let store: TamperableStore;
  let log: AuditLog;
  let t0: number;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'acd-audit-api-'));
    const base = testDeps();
    const clock = base.clock;
    t0 = clock.now();
    store = new TamperableStore();
    await store.open();
    const keys = new KeyStore(join(dir, 'keys'), clock);
    await keys.init();
    const checkpointFile = join(dir, 'audit', 'checkpoints.ndjson');
    log = createAuditLog({ store, clock, keys, checkpointFile }, { checkpointEveryEntries: 4 });
    await log.start();
    for (let i = 0; i < 10; i++) {
      await log.append({
        actor: i % 2 === 0 ? 'analyst-1' : 'inspector-1',
        role: i % 2 === 0 ? 'analyst' : 'inspector',
        purpose: i % 2 === 0 ? 'monitoring' : 'oversight',
        action: i % 3 === 0 ? 'case.approve' : 'GET /api/incidents/:id',
        objectIds: [`obj-${i + 1}`],
        detail: { i },
      });
      clock.advance(60_000);
    }
    await log.checkpoint();
    server = createServer(
      { ...base, store, plugins: [auditPlugin({ log, store, keys, checkpointFile })] },
      defaultServeConfig({ port: 0 }),
    );
  });

  afterEach(async () => {
    await server.stop();
    await log.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function search(query: string, role: Role = 'inspector'): Promise<Page> {
    const res = await server.app.inject({ url: `/api/audit${query}`, headers: bearer(role) });
    expect(res.statusCode).toBe(200);
    return res.json<Page>();
  }

  async function verify(role: Role = 'inspector'): Promise<AuditVerifyResponse> {
    const res = await server.app.inject({ method: 'POST', url: '/api/audit/verify', headers: bearer(role) });
    expect(res.statusCode).toBe(200);
    return res.json<AuditVerifyResponse>();
  }

  it('admits the inspector (oversight) and the administrator (administration), refuses the analyst', async () => {
    expect((await search('', 'inspector')).items.length).toBe(10);
    expect((await search('', 'administrator')).items.length).toBe(10);
    for (const role of ['analyst', 'supervisor', 'operator', 'police'] as const) {
      const get = await server.app.inject({ url: '/api/audit', headers: bearer(role) });
      expect(get.statusCode).toBe(403);
      const post = await server.app.inject({
        method: 'POST',
        url: '/api/audit/verify',
        headers: bearer(role),
      });
      expect(post.statusCode).toBe(403);
    }
    const wrongPurpose = await server.app.inject({
      url: '/api/audit',
      headers: { ...bearer('administrator'), 'x-acd-purpose': 'oversight' },
    });
    expect(wrongPurpose.statusCode).toBe(403);
    expect((await server.app.inject({ url: '/api/audit' })).statusCode).toBe(401);
  });

  it('answers entries newest first, exactly as stored with an ISO time', async () => {
    const page = await search('');
    expect(page.items.map((e) => e.seq)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    const [stored] = await store.readAudit(3, 1);
    expect(page.items.find((e) => e.seq === 3)).toEqual({
      ...stored,
      at: new Date(t0 + 2 * 60_000).toISOString(),
    });
    expect(page.next).toBeNull();
  });

  it('filters by time range, actor and action prefix, and pages with the cursor', async () => {
    const iso = (min: number): string => new Date(t0 + min * 60_000).toISOString();
    expect((await search(`?from=${iso(2)}&to=${iso(5)}`)).items.map((e) => e.seq)).toEqual([5, 4, 3]);
    expect((await search('?actor=inspector-1')).items.map((e) => e.seq)).toEqual([10, 8, 6, 4, 2]);
    expect((await search('?action=case.')).items.map((e) => e.seq)).toEqual([10, 7, 4, 1]);
    expect((await search('?action=case.approve&actor=analyst-1')).items.map((e) => e.seq)).toEqual([7, 1]);
    const first = await search('?limit=4');
    expect(first.items.map((e) => e.seq)).toEqual([10, 9, 8, 7]);
    expect(first.next).toBe('7');
    const second = await search(`?limit=4&cursor=${first.next ?? ''}`);
    expect(second.items.map((e) => e.seq)).toEqual([6, 5, 4, 3]);
    const third = await search(`?limit=4&cursor=${second.next ?? ''}`);
    expect(third.items.map((e) => e.seq)).toEqual([2, 1]);
    expect(third.next).toBeNull();
  });

  it('refuses a bad cursor, a bad time and a reversed range with 400', async () => {
    for (const q of ['?cursor=abc', '?cursor=0', '?from=yesterday', `?from=${t0 + 10}&to=${t0}`]) {
      const res = await server.app.inject({ url: `/api/audit${q}`, headers: bearer('inspector') });
      expect(res.statusCode, q).toBe(400);
    }
  });

  it('verifies an untouched chain as intact and records the verification as audit.verify', async () => {
    const v = await verify();
    expect(v).toMatchObject({ ok: true, checked: 10, lastCheckpointSeq: 10, uncovered: 0 });
    expect(v.problem).toBeUndefined();
    const [last] = await store.searchAudit({ limit: 1 });
    expect(last).toMatchObject({
      seq: 11,
      actor: 'inspector-1',
      role: 'inspector',
      purpose: 'oversight',
      action: 'audit.verify',
      detail: { ok: true, checked: 10 },
    });
    // The next verification sees the first one's entry in the chain.
    expect(await verify('administrator')).toMatchObject({ ok: true, checked: 11 });
  });

  it('names the modified entry when a stored entry was changed', async () => {
    store.tamper = (e) => (e.seq === 6 ? { ...e, actor: 'someone-else' } : e);
    const v = await verify();
    expect(v.ok).toBe(false);
    expect(v.problem).toMatchObject({ kind: 'modified', seq: 6 });
    expect(v.problem?.message).toContain('audit-6');
    store.tamper = undefined;
    const [last] = await store.searchAudit({ limit: 1 });
    expect(last).toMatchObject({ action: 'audit.verify', detail: { ok: false, kind: 'modified', seq: 6 } });
  });

  it('reports a cut tail as truncated', async () => {
    store.tamper = undefined;
    const cut = new TamperableStore();
    await cut.open();
    await cut.appendAudit(await store.readAudit(1, 7));
    const keys = new KeyStore(join(dir, 'keys'), testDeps().clock);
    const v = await verifyStoredChain(cut, join(dir, 'audit', 'checkpoints.ndjson'), keys);
    expect(v).toMatchObject({ ok: false, problem: { kind: 'truncated' } });
    await cut.close();
  });

  it('parses cursors: a positive seq, or BadCursorError for anything else (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        try {
          const n = parseAuditCursor(s);
          expect(Number.isSafeInteger(n) && n >= 1 && String(n) === s).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(AcdError);
          expect((err as AcdError).code).toBe('ERR_BAD_CURSOR');
        }
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (n) => {
        expect(parseAuditCursor(String(n))).toBe(n);
      }),
    );
  });
});
