/**
 * `acd retention run|status|verify-certificates` end to end, in process through `main`: a DuckDB
 * store under --data with expired and current data, a run that certifies the deletion (audited as
 * the local administrator), an idempotent second run, and verification of the certificate file
 * (a tampered line fails with exit 1 naming it).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/common/clock.ts';
import { readAllAudit } from '../src/oversee/audit/index.ts';
import { certificateFileOf } from '../src/oversee/retention/index.ts';
import { createStore } from '../src/store/index.ts';
import { alertOf, flowRecord } from '../src/store/testing.ts';
import { acdOn } from './helpers/cli.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 2, 1, 8);
const clock = new ManualClock(NOW);

const acd = acdOn(clock);

let dir: string;
let data: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acd-retention-cli-'));
  data = join(dir, 'data');
  expect((await acd('keys', 'init', '--dir', join(data, 'keys'))).code).toBe(0);
  const store = createStore({ type: 'duckdb', path: join(data, 'acd.duckdb') });
  await store.open();
  await store.appendRecords([
    flowRecord({ t: NOW - 800 * DAY, retainUntil: NOW - 70 * DAY, index: 1 }),
    flowRecord({ t: NOW - 800 * DAY, retainUntil: NOW - 70 * DAY, index: 2 }),
    flowRecord({ t: NOW - DAY, retainUntil: NOW + 700 * DAY, index: 3 }),
  ]);
  // the shipped parameters keep derived data two years
  await store.upsertAlerts([
    alertOf('a-old', { firstSeen: NOW - 800 * DAY, lastSeen: NOW - 799 * DAY }),
    alertOf('a-new', { firstSeen: NOW - DAY }),
  ]);
  await store.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('acd retention', () => {
  it('status prints deadlines as JSON', async () => {
    const r = await acd('retention', 'status', '--data', data);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as {
      partitions: { day: string; expired: boolean }[];
      lastCertificate: unknown;
    };
    expect(s.partitions.map((p) => [p.day, p.expired])).toEqual([
      ['2025-12-21', true],
      ['2028-01-30', false],
    ]);
    expect(s.lastCertificate).toBeNull();
  });

  it('run deletes what is due, prints the signed certificate and audits itself as local-admin; a second run deletes nothing', async () => {
    const r = await acd('retention', 'run', '--data', data);
    expect(r.code).toBe(0);
    const cert = JSON.parse(r.stdout) as {
      id: string;
      counts: Record<string, number>;
      remainingRows: number;
    };
    expect(cert.counts).toMatchObject({ records: 2, alerts: 1 });
    expect(cert.remainingRows).toBe(0);
    expect(r.stderr).toContain(cert.id);
    const again = await acd('retention', 'run', '--data', data);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ deleted: false });
    const store = createStore({ type: 'duckdb', path: join(data, 'acd.duckdb') });
    await store.open();
    try {
      const audit = await readAllAudit(store);
      const del = audit.filter((e) => e.action === 'retention.delete');
      expect(del).toHaveLength(1);
      expect(del[0]).toMatchObject({ actor: 'local-admin', role: 'administrator', objectIds: [cert.id] });
      expect((await store.stats()).records).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('verify-certificates checks the file against the keys and the store; a tampered line fails naming it', async () => {
    const ok = await acd('retention', 'verify-certificates', '--data', data);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('1 certificates verify');
    const pub = join(dir, 'public.json');
    expect((await acd('keys', 'export-public', '--dir', join(data, 'keys'), '--out', pub)).code).toBe(0);
    const file = certificateFileOf(data);
    const text = await readFile(file, 'utf8');
    const copy = join(dir, 'copy.ndjson');
    await writeFile(copy, text);
    expect((await acd('retention', 'verify-certificates', copy, '--public-keys', pub)).code).toBe(0);
    await writeFile(copy, text.replace('"records":2', '"records":1'));
    const bad = await acd('retention', 'verify-certificates', copy, '--public-keys', pub);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('line 1');
    expect(bad.stderr).toContain('ERR_RETENTION_CERTIFICATE_INVALID');
    // a certificate removed from the file is noticed against the store
    await writeFile(file, '');
    const cut = await acd('retention', 'verify-certificates', '--data', data);
    expect(cut.code).toBe(1);
    await writeFile(file, text);
  });

  it('--help shows examples', async () => {
    const r = await acd('retention', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toContain('Examples:');
  });
});
