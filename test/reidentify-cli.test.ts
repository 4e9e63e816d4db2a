/**
 * `acd reidentify` end to end (issue 8, R-OVS-2). The command is an API client of a running
 * centre, so the test starts the API server in process on a real port (127.0.0.1:0) with the
 * re-identification routes and service (as src/oversee/reidentify/plugin.test.ts builds them),
 * on a memory bus shared with the **real edge-side handler** (`createEdgeReidentification` with
 * `createReidentifier`, the edge's epoch key store and pseudonym index, trusting the two people's
 * exported keys): the centre stores a record whose source the edge pseudonymised with its
 * Crypto-PAn key. A (analyst-1) requests, A's own authorisation exits 1 with ERR_REID_SAME_PERSON,
 * B (supervisor-1) authorises, the edge answers, the centre seals, and `reveal` prints the very
 * address the edge pseudonymised, once, with a warning on stderr. Usage errors exit 2.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEdgeReidentification, PseudonymIndex } from '../src/cli/edge/reidentification.ts';
import { silentLogger } from '../src/common/logging.ts';
import { resolveTrustedKey, TrustedKeySet } from '../src/common/signing/index.ts';
import { KeyStore } from '../src/oversee/keys/index.ts';
import {
  createReidentificationService,
  reidentificationPlugin,
  type ReidentificationService,
} from '../src/oversee/reidentify/index.ts';
import { createReidentifier, KeyStore as EdgeKeyStore } from '../src/select/pseudonymise/index.ts';
import type { Role } from '../src/serve/access.ts';
import { defaultServeConfig } from '../src/serve/config.ts';
import { createServer, type ApiServer } from '../src/serve/server.ts';
import { testDeps, tokenOf } from '../src/serve/testing.ts';
import { DAY, flowRecord } from '../src/store/testing.ts';
import { createMemoryBus, type Bus } from '../src/transport/index.ts';
import { runAcd, type AcdRun } from './helpers/cli.ts';
import { approvalCase } from '../src/oversee/reidentify/testing.ts';

const ROOT = join(import.meta.dirname, '..');
const run = promisify(execFile);
const PROVIDER = 'isp-reid-cli';
/** The clear source address the edge saw; only the edge's key turns its pseudonym back into it. */
const CLEAR = '10.77.3.9';

let dir: string;
let deps: ReturnType<typeof testDeps>;
let bus: Bus;
let service: ReidentificationService;
let server: ApiServer;
let api: string;
let recordId: string;
let keyEpoch: number;
let pseudonym: string;

const acd = (role: Role | null, ...argv: string[]): Promise<AcdRun> =>
  runAcd(role === null ? null : tokenOf(role), deps.clock, [...argv, '--api', api]);
const json = <T>(r: AcdRun): T => JSON.parse(r.stdout) as T;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acd-reid-cli-'));
  deps = testDeps();
  const now = deps.clock.now();
  await deps.store.open();
  bus = createMemoryBus({ clock: deps.clock });
  await bus.start();

  // The two people's personal keys at the centre; the edge trusts their exported public keys.
  const keys = new KeyStore(join(dir, 'centre-keys'), deps.clock);
  await keys.init();
  await keys.addSigner('analyst-1');
  await keys.addSigner('supervisor-1');
  const trust = new TrustedKeySet(
    (await keys.exportPublic()).keys
      .filter((k) => k.scopes?.includes('reidentification') === true)
      .map((k) =>
        resolveTrustedKey({
          publicKey: k.publicKey,
          signer: k.signer,
          validFrom: k.validFrom,
          validUntil: k.validUntil,
          scopes: k.scopes,
        }),
      ),
  );

  // The edge: its epoch key, the record it selected (source pseudonymised), its handler.
  const edgeKeys = new EdgeKeyStore(
    { dir: join(dir, 'edge-keys'), epochLifetimeMs: DAY, retentionMs: 90 * DAY },
    deps.clock,
  );
  await edgeKeys.load();
  const epochKey = await edgeKeys.ensureCurrent();
  keyEpoch = epochKey.epoch;
  pseudonym = epochKey.cryptoPan.pseudonymiseAddress(CLEAR);
  const base = flowRecord({ t: now - 60_000, providerId: PROVIDER, src: pseudonym, index: 7 });
  const record = { ...base, provenance: { ...base.provenance, keyEpoch } };
  recordId = record.recordId;
  const index = new PseudonymIndex(1024);
  index.note(record);
  const edge = createEdgeReidentification({
    reidentifier: createReidentifier({ keys: edgeKeys, trust, providerId: PROVIDER, clock: deps.clock }),
    index,
    clock: deps.clock,
    logger: silentLogger,
    providerId: PROVIDER,
    bus: () => bus,
    stateFile: '',
  });
  await bus.subscribeControl(PROVIDER, (m) =>
    m.kind === 'reident-request' ? edge.handle(m) : Promise.resolve(),
  );

  // The centre: the stored record, an approved case covering the provider, the service and API.
  await deps.store.appendRecords([record]);
  await deps.store.putCase(
    approvalCase('case-reid-1', [PROVIDER], now, { validFrom: now - 1000, validUntil: now + DAY }),
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
  deps.plugins = [reidentificationPlugin(service)];
  server = createServer(deps, defaultServeConfig({ host: '127.0.0.1', port: 0 }));
  await server.start();
  api = server.address()?.url ?? '';
});

afterAll(async () => {
  await server.stop();
  await service.stop();
  await bus.stop();
  await deps.store.close();
  await rm(dir, { recursive: true, force: true });
});

interface View {
  id: string;
  state: string;
  requester: string;
  secondAuthoriser: string | null;
  sealedReference: string | null;
}

describe('acd reidentify (against a running API and an edge on a memory bus)', () => {
  it('A requests, A cannot authorise, B authorises, the edge answers, A reveals the clear address once', async () => {
    const spec = `${recordId}:${keyEpoch}:${pseudonym}`;
    let r = await acd(
      'analyst',
      'reidentify',
      'request',
      '--case',
      'case-reid-1',
      '--purpose-code',
      'incident-response',
      '--provider',
      PROVIDER,
      '--record',
      spec,
    );
    expect(r.code, r.stderr).toBe(0);
    const created = json<View>(r);
    expect(created).toMatchObject({ state: 'awaiting-second', requester: 'analyst-1' });
    const id = created.id;
    expect(r.stderr).toContain(`created ${id}`);

    // One person only: refused, exit 1 naming the code.
    r = await acd('analyst', 'reidentify', 'authorise', id);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_REID_SAME_PERSON');

    // Nothing to reveal before a second person authorised.
    r = await acd('analyst', 'reidentify', 'reveal', id);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_REID_TRANSITION');
    expect(r.stdout).toBe('');

    // Awaiting a second person: listed for every re-identification role (NDJSON).
    r = await acd('police', 'reidentify', 'list');
    expect(r.code, r.stderr).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as View).id),
    ).toEqual([id]);

    r = await acd('supervisor', 'reidentify', 'authorise', id);
    expect(r.code, r.stderr).toBe(0);
    expect(json<View>(r)).toMatchObject({ state: 'sent', secondAuthoriser: 'supervisor-1' });
    expect(r.stderr).toContain(`${id} sent`);

    // The edge answers on the bus; the centre seals the answer.
    await expect
      .poll(async () => json<View>(await acd('analyst', 'reidentify', 'show', id)).state, { timeout: 10_000 })
      .toBe('answered');
    r = await acd('supervisor', 'reidentify', 'show', id);
    const shown = json<View>(r);
    expect(shown.sealedReference).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.stdout).not.toContain(CLEAR);

    // Not a party any more (sent): the police user sees nothing.
    r = await acd('police', 'reidentify', 'reveal', id);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_REID_NOT_FOUND');

    r = await acd('analyst', 'reidentify', 'reveal', id);
    expect(r.code, r.stderr).toBe(0);
    expect(json<{ results: unknown[] }>(r).results).toEqual([
      { recordId, keyEpoch, pseudonym, address: CLEAR },
    ]);
    expect(r.stderr).toContain('WARNING: the output contains 1 clear address');
    expect(r.stderr).toContain('case-reid-1');
    expect(r.stderr).not.toContain(CLEAR);

    r = await acd('analyst', 'reidentify', 'reveal', id);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_REID_ALREADY_REVEALED');
  });

  it('requests from a YAML file; the centre refuses a record paired with another pseudonym', async () => {
    const file = join(dir, 'request.yaml');
    const yaml = (address: string): string =>
      [
        'caseId: case-reid-1',
        'purpose: incident-response',
        `providerId: ${PROVIDER}`,
        'records:',
        `  - recordId: ${recordId}`,
        `    keyEpoch: ${keyEpoch}`,
        `    addresses: ['${address}']`,
      ].join('\n');
    await writeFile(file, yaml('203.0.113.250'));
    let r = await acd('supervisor', 'reidentify', 'request', '--file', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_REID_RECORD_MISMATCH');

    await writeFile(file, yaml(pseudonym));
    r = await acd('supervisor', 'reidentify', 'request', '--file', file);
    expect(r.code, r.stderr).toBe(0);
    expect(json<View>(r)).toMatchObject({ state: 'awaiting-second', requester: 'supervisor-1' });

    await writeFile(file, 'caseId: case-reid-1\nrecords: []\n');
    r = await acd('supervisor', 'reidentify', 'request', '--file', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_VALIDATION');
  });

  it('refuses usage errors with exit 2', async () => {
    const ok = ['--case', 'case-reid-1', '--purpose-code', 'incident-response', '--provider', PROVIDER];
    const cases: [Role | null, string[]][] = [
      [null, ['reidentify', 'list']],
      ['analyst', ['reidentify', 'request', ...ok]],
      ['analyst', ['reidentify', 'request', ...ok, '--record', 'not-a-record']],
      ['analyst', ['reidentify', 'request', '--case', 'case-reid-1', '--record', `${recordId}:1:10.0.0.1`]],
      ['analyst', ['reidentify', 'request', ...ok, '--record', `r:1:10.0.0.1`, '--file', 'x.yaml']],
      ['analyst', ['reidentify', 'reveal']],
      ['analyst', ['reidentify', 'list', '--limit', '0']],
      ['analyst', ['reidentify', 'frobnicate']],
    ];
    for (const [role, argv] of cases) {
      const r = await acd(role, ...argv);
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe('');
    }
  });

  it('works as ./bin/acd (a child process), with examples in --help', async () => {
    const r = await run(join(ROOT, 'bin', 'acd'), ['reidentify', 'list', '--all', '--api', api], {
      cwd: ROOT,
      env: { ...process.env, ACD_TOKEN: tokenOf('supervisor') },
    });
    const items = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as View);
    expect(items.length).toBe(2);
    expect(r.stdout).not.toContain(CLEAR);
    const help = await run(join(ROOT, 'bin', 'acd'), ['reidentify', '--help'], { cwd: ROOT });
    expect(help.stdout).toContain('Examples:');
    for (const sub of ['request', 'list', 'show', 'authorise', 'reveal']) {
      const h = await runAcd(null, deps.clock, ['reidentify', sub, '--help']);
      expect(h.code).toBe(0);
      expect(h.stdout, sub).toContain('Examples:');
    }
  }, 60_000);
});
