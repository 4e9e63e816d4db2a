/**
 * `acd keys` and `acd audit` end to end, in process through `main`: a DuckDB store under --data
 * filled through the audit log, `acd audit export` → `acd audit verify FILE --keys` round trip,
 * tampering detected with exit 1 naming the line and entry, local verification of the store
 * against its checkpoint file, and key rotation that keeps old checkpoints verifiable.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/common/clock.ts';
import { checkpointFileOf } from '../src/cli/commands/audit.ts';
import { createAuditLog } from '../src/oversee/audit/index.ts';
import { KeyStore } from '../src/oversee/keys/index.ts';
import { createStore } from '../src/store/index.ts';
import { acdOn } from './helpers/cli.ts';

const clock = new ManualClock(Date.UTC(2026, 2, 1, 8, 0, 0));

const acd = acdOn(clock);

let dir: string;
let data: string;
let keysDir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acd-audit-cli-'));
  data = join(dir, 'data');
  keysDir = join(data, 'keys');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fillStore(n: number): Promise<void> {
  const store = createStore({ type: 'duckdb', path: join(data, 'acd.duckdb') });
  await store.open();
  const log = createAuditLog(
    { store, clock, keys: new KeyStore(keysDir, clock), checkpointFile: checkpointFileOf(data) },
    { checkpointEveryEntries: 4 },
  );
  await log.start();
  for (let i = 0; i < n; i++) {
    await log.append({
      actor: 'ana',
      role: 'analyst',
      purpose: 'triage',
      action: 'incident.read',
      objectIds: [`inc-${i}`],
    });
    clock.advance(60_000);
  }
  await log.stop();
  await store.close();
}

describe('acd keys', () => {
  it('init creates a 0700 directory with 0600 private keys, and is idempotent', async () => {
    const r = await acd('keys', 'init', '--dir', keysDir);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    expect((await stat(keysDir)).mode & 0o777).toBe(0o700);
    for (const f of await readdir(keysDir)) expect((await stat(join(keysDir, f))).mode & 0o777).toBe(0o600);
    expect((await acd('keys', 'init', '--dir', keysDir)).stdout).toBe('');
    const list = await acd('keys', 'list', '--dir', keysDir);
    expect(list.stdout).toMatch(/\tcommission\tactive\t/);
    expect(list.stdout).toMatch(/\taudit\tactive\t/);
    expect(list.stdout).not.toMatch(/"d"/);
  });

  it('rotate with an unknown purpose is a usage error', async () => {
    expect((await acd('keys', 'rotate', 'nope', '--dir', keysDir)).code).toBe(2);
  });
});

describe('acd audit export | verify', () => {
  let exportFile: string;
  let pubFile: string;
  beforeAll(async () => {
    await fillStore(10);
    exportFile = join(dir, 'audit.ndjson');
    pubFile = join(dir, 'public-keys.json');
  });

  it('exports and verifies offline with the exported public keys', async () => {
    const e = await acd('audit', 'export', '--data', data, '--out', exportFile);
    expect(e.code, e.stderr).toBe(0);
    expect((await acd('keys', 'export-public', '--dir', keysDir, '--out', pubFile)).code).toBe(0);
    const v = await acd('audit', 'verify', exportFile, '--keys', pubFile);
    expect(v.code, v.stderr).toBe(0);
    // 10 entries plus the export's own entry, recorded as the local administrator
    expect(v.stdout).toMatch(/^intact: .*: 11 entries \(seq 1\.\.11\)/);
    const last = (await readFile(exportFile, 'utf8'))
      .trim()
      .split('\n')
      .filter((l) => l.includes('"type":"entry"'))
      .pop();
    expect(JSON.parse(last ?? '{}')).toMatchObject({
      actor: 'local-admin',
      role: 'administrator',
      action: 'audit.export',
    });
  });

  it('exits 1 naming the line and entry when a line is altered', async () => {
    const ls = (await readFile(exportFile, 'utf8')).trim().split('\n');
    const at = ls.findIndex((l) => l.includes('"objectIds":["inc-4"]'));
    ls[at] = (ls[at] as string).replace('inc-4', 'inc-40');
    const bad = join(dir, 'bad.ndjson');
    await writeFile(bad, `${ls.join('\n')}\n`);
    const v = await acd('audit', 'verify', bad, '--keys', pubFile);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain(`line ${at + 1} (audit-5)`);
    expect(v.stderr).toContain('ERR_AUDIT_CHAIN_BROKEN');
  });

  it('exits 1 when the tail is cut', async () => {
    const ls = (await readFile(exportFile, 'utf8')).trim().split('\n');
    const cut = join(dir, 'cut.ndjson');
    await writeFile(cut, `${ls.slice(0, -2).join('\n')}\n`);
    const v = await acd('audit', 'verify', cut, '--keys', pubFile);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/truncated: line \d+/);
  });

  it('verifies the local store against its checkpoint file', async () => {
    const v = await acd('audit', 'verify', '--data', data);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^intact: .*: 11 entries/);
  });

  it('keeps old checkpoints verifiable after rotating the audit key', async () => {
    clock.advance(60_000);
    const r = await acd('keys', 'rotate', 'audit', '--dir', keysDir);
    expect(r.code).toBe(0);
    const list = (await acd('keys', 'list', '--dir', keysDir, '--json')).stdout;
    const keys = JSON.parse(list) as { purpose: string; status: string }[];
    expect(keys.filter((k) => k.purpose === 'audit').map((k) => k.status)).toEqual(['retired', 'active']);
    clock.advance(60_000);
    const file2 = join(dir, 'audit2.ndjson');
    expect((await acd('audit', 'export', '--data', data, '--out', file2)).code).toBe(0);
    const pub2 = join(dir, 'public-keys-2.json');
    expect((await acd('keys', 'export-public', '--dir', keysDir, '--out', pub2)).code).toBe(0);
    const v = await acd('audit', 'verify', file2, '--keys', pub2);
    expect(v.code, v.stderr).toBe(0);
    // the old public keys alone do not verify the new checkpoints
    expect((await acd('audit', 'verify', file2, '--keys', pubFile)).code).toBe(1);
    // the retired key's private file is gone
    expect((await readdir(keysDir)).filter((f) => f.startsWith('private-'))).toHaveLength(2);
  });

  it('refuses a key store readable by others', async () => {
    const other = join(dir, 'loose');
    const ks = new KeyStore(other, clock);
    await ks.init();
    const { chmod } = await import('node:fs/promises');
    await chmod(other, 0o755);
    const r = await acd('keys', 'list', '--dir', other);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_KEYSTORE_PERMISSIONS');
  });
});
