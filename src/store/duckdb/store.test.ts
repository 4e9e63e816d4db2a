import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../common/metrics.ts';
import { runStoreContract } from '../contract.ts';
import { StoreError } from '../errors.ts';
import { DAY, evidenceOf, flowRecord, T0 } from '../testing.ts';
import { SCHEMA_VERSION } from './migrations.ts';
import { DuckDbStore } from './store.ts';

runStoreContract('duckdb :memory:', () => {
  const store = new DuckDbStore({ config: { path: ':memory:' } });
  return Promise.resolve({ store, dispose: () => store.close() });
});

runStoreContract('duckdb file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'acd-store-'));
  const path = join(dir, 'sub', 'acd.duckdb');
  let store = new DuckDbStore({ config: { path } });
  const fixture = {
    store,
    reopen: async () => {
      await store.close();
      store = new DuckDbStore({ config: { path } });
      await store.open();
      return store;
    },
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return Promise.resolve(fixture);
});

describe('duckdb store', () => {
  it('fails to open an unusable path with ERR_STORE_OPEN', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acd-store-'));
    try {
      const file = join(dir, 'plain-file');
      writeFileSync(file, 'not a directory');
      const s = new DuckDbStore({ config: { path: join(file, 'acd.duckdb') } });
      const err: unknown = await s.open().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({ code: 'ERR_STORE_OPEN' });
      // a file that is not a DuckDB database
      const s2 = new DuckDbStore({ config: { path: file } });
      expect(await s2.open().catch((e: unknown) => e)).toMatchObject({ code: 'ERR_STORE_OPEN' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('records its schema version and refuses a database newer than the program', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acd-store-'));
    const path = join(dir, 'acd.duckdb');
    try {
      const s = new DuckDbStore({ config: { path } });
      await s.open();
      await s.close();
      const inst = await DuckDBInstance.create(path);
      const c = await inst.connect();
      const v = (await c.runAndReadAll('SELECT max(version) AS v FROM schema_version')).getRowObjectsJS();
      expect(Number(v[0]?.v)).toBe(SCHEMA_VERSION);
      await c.run(`INSERT INTO schema_version VALUES (${SCHEMA_VERSION + 1}, 0, 'from the future')`);
      c.closeSync();
      inst.closeSync();
      const s2 = new DuckDbStore({ config: { path } });
      expect(await s2.open().catch((e: unknown) => e)).toMatchObject({ code: 'ERR_STORE_OPEN' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps each retention day in its own table and drops the table on retention', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acd-store-'));
    const path = join(dir, 'acd.duckdb');
    try {
      const s = new DuckDbStore({ config: { path } });
      await s.open();
      await s.appendRecords([
        flowRecord({ t: T0, retainUntil: T0 + 10 * DAY }),
        flowRecord({ t: T0, retainUntil: T0 + 12 * DAY }),
      ]);
      await s.appendEvidence([evidenceOf('scan', '203.0.113.1', T0)], T0 + 10 * DAY);
      const r = await s.enforceRetention(T0 + 11 * DAY);
      expect(r).toMatchObject({ remainingRows: 0 });
      await s.close();
      const inst = await DuckDBInstance.create(path);
      const c = await inst.connect();
      const names = (
        await c.runAndReadAll(
          "SELECT table_name AS t FROM duckdb_tables() WHERE table_name LIKE 'records_%' OR table_name LIKE 'evidence_%' ORDER BY 1",
        )
      ).getRowObjectsJS();
      expect(names.map((x) => x.t)).toEqual(['records_20260113']);
      c.closeSync();
      inst.closeSync();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('splits large appends into batches of appendBatchRows and counts what it wrote', async () => {
    const metrics = new MetricsRegistry();
    const s = new DuckDbStore({ config: { path: ':memory:', appendBatchRows: 1000 }, metrics });
    await s.open();
    try {
      const recs = Array.from({ length: 4500 }, (_, i) => flowRecord({ t: T0 + i, index: i }));
      await s.appendRecords(recs);
      expect((await s.stats()).records).toBe(4500);
      const snap = metrics.snapshot();
      expect(snap['store_records_appended{store="duckdb"}']).toBe(4500);
      expect(snap['store_writes{store="duckdb"}']).toBe(5);
    } finally {
      await s.close();
    }
  });
});
