/**
 * `acd report transparency` end to end: a DuckDB store under a temp --data directory filled with
 * generated cases, incidents, alerts, records and audit entries; the JSON report reconciles with
 * the counts computed from the generator's plans; Markdown and HTML go to --out; the command
 * audits itself as the local administrator; `--api` asks a running centre; bad dates exit 2 (also
 * through `./bin/acd` as a child process).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/common/clock.ts';
import { shippedLegalParameters } from '../src/common/legal/index.ts';
import { reportPlugin, type TransparencyReport } from '../src/oversee/report/index.ts';
import { expectedCounts, loadFixture, reportFixture } from '../src/oversee/report/testing.ts';
import { defaultServeConfig } from '../src/serve/config.ts';
import { createServer } from '../src/serve/server.ts';
import { testDeps, tokenOf } from '../src/serve/testing.ts';
import { createStore } from '../src/store/index.ts';
import { acdOn, runAcd } from './helpers/cli.ts';

const clock = new ManualClock(Date.UTC(2026, 4, 1, 8));
const FROM = Date.UTC(2026, 2, 1);
const TO = Date.UTC(2026, 3, 1);
/** `acd report transparency` of March 2026 (`--to` includes its day). */
const PERIOD = ['report', 'transparency', '--from', '2026-03-01', '--to', '2026-03-31'];

const acd = acdOn(clock);

let dir: string;
let data: string;
const fx = reportFixture(11, Date.UTC(2026, 0, 20), 100, {
  cases: 120,
  communications: 40,
  reids: 20,
  incidents: 60,
  alerts: 200,
  records: 500,
  audit: 300,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acd-report-cli-'));
  data = join(dir, 'data');
  expect((await acd('keys', 'init', '--dir', join(data, 'keys'))).code).toBe(0);
  const store = createStore({ type: 'duckdb', path: join(data, 'acd.duckdb') });
  await store.open();
  await loadFixture(store, fx);
  await store.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('acd report transparency', () => {
  it('writes a JSON report of a DuckDB store that reconciles with the stored cases', async () => {
    const r = await acd(...PERIOD, '--format', 'json', '--data', data);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as TransparencyReport;
    const want = expectedCounts(fx, FROM, TO);
    expect(report.period).toEqual({ from: '2026-03-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z' });
    const a = report.sections.approvals as { byKind: Record<string, unknown>; emergency: unknown };
    expect(a.byKind).toEqual(want.byKind);
    expect(a.emergency).toEqual(want.emergency);
    expect(report.sections.measures).toEqual(want.measures);
    expect(report.sections.reidentifications).toEqual(want.reidentifications);
    expect(report.sections.retention).toMatchObject(want.retention);
    expect(report.sections.communications).toMatchObject({
      total: want.communications.total,
      answered: want.communications.answered,
      overdue: want.communications.overdue,
      byType: want.communications.byType,
    });
    expect(report.sections.inspections).toMatchObject(want.inspections);
    const s = report.sections.service;
    expect([s.recordsSelected, s.alerts, s.incidents, s.operatorNotifications, s.mitigated]).toEqual([
      want.service.recordsSelected,
      want.service.alerts,
      want.service.incidents,
      want.service.operatorNotifications,
      want.service.mitigated,
    ]);
    expect(s.takedowns).toMatchObject({ available: false });
  });

  it('writes Markdown and HTML to --out and records itself in the audit log as the local administrator', async () => {
    const md = join(dir, 'report.md');
    const html = join(dir, 'report.html');
    expect((await acd(...PERIOD, '--out', md, '--data', data)).code).toBe(0);
    expect((await acd(...PERIOD, '--format', 'html', '-o', html, '--data', data)).code).toBe(0);
    expect(await readFile(md, 'utf8')).toMatch(
      /^# Transparency report 2026-03-01 – 2026-04-01\n[\s\S]*Takedowns: not available/,
    );
    const page = await readFile(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).not.toMatch(/<script/i);
    const store = createStore({ type: 'duckdb', path: join(data, 'acd.duckdb') });
    await store.open();
    const last = await store.readAudit(fx.audit.length + 1, 100);
    await store.close();
    expect(last.filter((e) => e.action === 'report.transparency')).toHaveLength(3);
    expect(last[0]).toMatchObject({ actor: 'local-admin', role: 'administrator', purpose: 'administration' });
    expect(last[0]!.detail).toEqual({ from: '2026-03-01', to: '2026-03-31', format: 'json' });
  });

  it('has --help with examples', async () => {
    const r = await acd('report', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Examples:\n {2}acd report transparency --from/);
  });

  it('exits 2 on a bad date, a reversed period or an unknown format', async () => {
    for (const args of [
      ['--from', '2026-02-30', '--to', '2026-03-31'],
      ['--from', '2026-04-01', '--to', '2026-03-01'],
      ['--from', 'yesterday', '--to', '2026-03-01'],
      ['--from', '2026-03-01', '--to', '2026-03-31', '--format', 'pdf'],
    ]) {
      const r = await acd('report', 'transparency', ...args, '--data', data);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
    }
  });

  it('asks a running centre with --api and the ACD_TOKEN token', async () => {
    const deps = testDeps({ plugins: [reportPlugin({ legal: shippedLegalParameters() })] });
    await deps.store.open();
    await loadFixture(deps.store, fx);
    const server = createServer(deps, defaultServeConfig({ host: '127.0.0.1', port: 0 }));
    await server.start();
    const url = server.address()!.url;
    try {
      const r = await runAcd(tokenOf('inspector'), clock, [...PERIOD, '--format', 'json', '--api', url]);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as TransparencyReport;
      expect(report.sections.measures).toEqual(expectedCounts(fx, FROM, TO).measures);
      const denied = await runAcd(tokenOf('analyst'), clock, [...PERIOD, '--api', url]);
      expect(denied.code).toBe(1);
      expect(denied.stderr).toMatch(/403/);
      expect((await runAcd(null, clock, [...PERIOD, '--api', url])).code).toBe(2);
    } finally {
      await server.stop();
    }
  });

  it('runs as ./bin/acd: --help shows examples, from after to exits 2', async () => {
    const bin = join(import.meta.dirname, '..', 'bin', 'acd');
    const run = promisify(execFile);
    const help = await run(bin, ['report', 'transparency', '--help']);
    expect(help.stdout).toMatch(/--from <date>/);
    const bad = await run(bin, [
      'report',
      'transparency',
      '--from',
      '2026-04-01',
      '--to',
      '2026-03-01',
      '--data',
      data,
    ]).then(
      () => 0,
      (err: { code?: number }) => err.code ?? -1,
    );
    expect(bad).toBe(2);
  }, 60_000);
});
