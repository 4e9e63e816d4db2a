/**
 * `acd cases` and `acd communications` end to end (issue 8, R-OVS-5, R-OVS-6): the commands are
 * API clients of a running centre, so the test starts the API server in process on a real port
 * (127.0.0.1:0) with the case routes, then drives a case from a YAML file through create → submit →
 * approve (signed, published) → revoke, records a commission request and its response, and checks
 * exit codes (409 → 1 naming ERR_CASE_TRANSITION; no token → 2) through `main` and `./bin/acd`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedLegalParameters } from '../src/common/legal/index.ts';
import { SigningKey } from '../src/common/signing/index.ts';
import { casesPlugin, createCaseService } from '../src/oversee/cases/index.ts';
import type { Role } from '../src/serve/access.ts';
import { defaultServeConfig } from '../src/serve/config.ts';
import { createServer, type ApiServer } from '../src/serve/server.ts';
import { testDeps, tokenOf } from '../src/serve/testing.ts';
import { runAcd, type AcdRun } from './helpers/cli.ts';

const ROOT = join(import.meta.dirname, '..');
const run = promisify(execFile);

let dir: string;
let server: ApiServer;
let deps: ReturnType<typeof testDeps>;
let api: string;
const published: string[] = [];

/** Runs `acd …` in process as `role` (the token goes through ACD_TOKEN, as for the real CLI). */
function acd(role: Role | null, ...argv: string[]): Promise<AcdRun> {
  return runAcd(role === null ? null : tokenOf(role), deps.clock, argv);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acd-cases-cli-'));
  deps = testDeps();
  const key = SigningKey.generate();
  const service = createCaseService({
    store: deps.store,
    clock: deps.clock,
    legal: shippedLegalParameters(),
    keys: { commissionKey: () => Promise.resolve(key) },
    publish: (target, m) => {
      published.push(`${target}:${m.kind}`);
      return Promise.resolve();
    },
  });
  deps.plugins = [casesPlugin(service)];
  await deps.store.open();
  server = createServer(deps, defaultServeConfig({ host: '127.0.0.1', port: 0 }));
  await server.start();
  api = server.address()?.url ?? '';
});
afterAll(async () => {
  await server.stop();
  await deps.store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('acd cases / acd communications (against a running API)', () => {
  it('creates from a YAML file, submits, approves, lists, shows and revokes a case', async () => {
    const file = join(dir, 'case.yaml');
    await writeFile(
      file,
      [
        'kind: acquisition',
        'title: C2 servers of campaign X',
        'justification: Domestic hosts beacon to C2 servers abroad.',
        'channel: specified-foreign-to-domestic',
        'providers: [prov-a, prov-b]',
        'targetActs: [c2-communication]',
        "targets: ['198.51.100.0/24']",
        'selectors:',
        '  - id: c2',
        '    kind: indicator-list',
        "    values: ['198.51.100.0/24']",
        'validFrom: 2026-01-01T00:00:00Z',
        'validUntil: 2026-02-01T00:00:00Z',
      ].join('\n'),
    );
    const purpose = ['--api', api, '--purpose', 'investigation'];
    let r = await acd('analyst', 'cases', 'create', '--file', file, ...purpose);
    expect(r.code, r.stderr).toBe(0);
    const created = JSON.parse(r.stdout) as { id: string; state: string; case: { validFrom: string } };
    expect(created).toMatchObject({ state: 'draft', case: { validFrom: '2026-01-01T00:00:00.000Z' } });
    const id = created.id;
    expect(r.stderr).toContain(`created ${id}`);

    r = await acd('analyst', 'cases', 'submit', id, ...purpose);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ state: 'submitted' });

    // Only the commission decides.
    r = await acd('analyst', 'cases', 'approve', id, '--reason', 'self-approval', ...purpose);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_FORBIDDEN');

    r = await acd(
      'inspector',
      'cases',
      'approve',
      id,
      '--reason',
      'necessary and proportionate',
      '--api',
      api,
    );
    expect(r.code, r.stderr).toBe(0);
    const approved = JSON.parse(r.stdout) as {
      state: string;
      case: { signedApproval: { payload: { id: string } } };
    };
    expect(approved.state).toBe('approved');
    expect(approved.case.signedApproval.payload.id).toBe(`ap-${id}`);
    expect(published).toEqual(['prov-a:approval', 'prov-b:approval']);

    r = await acd('inspector', 'cases', 'approve', id, '--reason', 'again', '--api', api);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_CASE_TRANSITION');

    r = await acd('inspector', 'cases', 'list', '--state', 'approved', '--kind', 'acquisition', '--api', api);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual([id]);

    r = await acd('inspector', 'cases', 'show', id, '--api', api);
    expect(JSON.parse(r.stdout)).toMatchObject({ id, recordKind: 'approval-case', overdue: false });

    r = await acd('inspector', 'cases', 'revoke', id, '--reason', 'campaign over', '--api', api);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ state: 'revoked' });
    expect(published.slice(2)).toEqual(['prov-a:revocation', 'prov-b:revocation']);

    r = await acd('inspector', 'cases', 'expire', '--api', api);
    expect(r).toMatchObject({ code: 0, stdout: '' });

    r = await acd('inspector', 'cases', 'show', 'case-404', '--api', api);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_NOT_FOUND');
  });

  it('records a commission request and its response', async () => {
    let r = await acd(
      'inspector',
      'communications',
      'add',
      '--type',
      'request',
      '--direction',
      'from-commission',
      '--subject',
      'Retention of incident in-7',
      '--text',
      'Why is in-7 still kept?',
      '--due',
      '2026-01-08T00:00:00Z',
      '--api',
      api,
    );
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout) as { id: string; state: string };
    expect(m.state).toBe('open');
    const answer = join(dir, 'answer.txt');
    await writeFile(answer, 'A court order holds it until March.');
    r = await acd(
      'supervisor',
      'communications',
      'respond',
      m.id,
      '--text-file',
      answer,
      '--purpose',
      'incident-handling',
      '--api',
      api,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      state: 'answered',
      communication: { responses: [{ by: 'supervisor-1', text: 'A court order holds it until March.' }] },
    });
    r = await acd('inspector', 'communications', 'list', '--state', 'answered', '--api', api);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id),
    ).toEqual([m.id]);
    r = await acd('inspector', 'communications', 'respond', m.id, '--api', api);
    expect(r.code).toBe(2);
  });

  it('refuses usage errors with exit 2 and a bad case file with exit 1', async () => {
    let r = await acd(null, 'cases', 'list', '--api', api);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ACD_TOKEN');
    r = await acd('inspector', 'cases', 'list', '--state', 'maybe', '--api', api);
    expect(r.code).toBe(2);
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'kind: acquisition\ntitle: x\n');
    r = await acd('analyst', 'cases', 'create', '--file', bad, '--api', api);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_VALIDATION');
  });

  it('works as ./bin/acd (a child process)', async () => {
    const r = await run(join(ROOT, 'bin', 'acd'), ['cases', 'list', '--api', api], {
      cwd: ROOT,
      env: { ...process.env, ACD_TOKEN: tokenOf('inspector') },
    });
    const items = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { recordKind: string });
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((i) => i.recordKind === 'approval-case')).toBe(true);
    const help = await run(join(ROOT, 'bin', 'acd'), ['cases', '--help'], { cwd: ROOT });
    expect(help.stdout).toContain('Examples:');
  }, 60_000);
});
