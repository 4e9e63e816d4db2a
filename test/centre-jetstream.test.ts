/**
 * `acd centre` as a real process on a real NATS JetStream server (issue 7, "Centre"): the centre
 * creates its streams, consumes a SYN flood published by an edge-side JetStream bus, detects and
 * correlates it, serves the incident on the API, audits the API reads in its hash chain (issue 8),
 * and stops cleanly on SIGTERM (exit 0, summary line, the store and the audit checkpoints on disk).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore } from '../src/store/index.ts';
import { synFloodRecords, T0, flowRecord } from '../src/store/testing.ts';
import { createJetStreamBus } from '../src/transport/jetstream/bus.ts';
import { deleteStreams, testNatsServer, testToken } from '../src/transport/testing.ts';

const ROOT = resolve(import.meta.dirname, '..');
const VICTIM = '10.20.30.40';
const TOKEN = 'centre-jetstream-test-token-0123456789abcdef';

const server = await testNatsServer();
const t = testToken();
const streams = { data: `T${t}_SEL`, control: `T${t}_CTL`, stats: `T${t}_STAT` };
let dir: string | undefined;
let child: ChildProcess | undefined;

afterAll(async () => {
  child?.kill('SIGKILL');
  if (server) {
    await deleteStreams(server.url, Object.values(streams)).catch(() => undefined);
    await server.stop();
  }
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.skipIf(server === undefined)('acd centre on NATS JetStream', () => {
  it('consumes, detects, serves and audits, then stops cleanly on SIGTERM', async () => {
    dir = await mkdtemp(join(tmpdir(), 'acd-centre-js-'));
    const data = join(dir, 'data');
    const config = join(dir, 'centre.yaml');
    await writeFile(
      config,
      [
        'bus:',
        '  type: jetstream',
        `  servers: ["${server!.url}"]`,
        `  subjectPrefix: t${t}`,
        `  streams: { data: ${streams.data}, control: ${streams.control}, stats: ${streams.stats} }`,
        '  manageStreams: true',
        'store:',
        '  type: duckdb',
        `  path: ${join(data, 'acd.duckdb')}`,
        'serve:',
        '  host: 127.0.0.1',
        '  port: 0',
        'centre:',
        `  consumer: centre-${t}`,
        '',
      ].join('\n'),
    );
    const stderr: string[] = [];
    child = spawn(join(ROOT, 'bin', 'acd'), ['centre', '--config', config], {
      cwd: dir,
      env: { ...process.env, ACD_DEMO_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr!.on('data', (b: Buffer) => stderr.push(b.toString('utf8')));
    const exited = new Promise<number | null>((r) => child!.on('exit', (code) => r(code)));
    let exitCode: number | null | undefined;
    void exited.then((c) => (exitCode = c));
    const url = await until(
      'the centre to print its API address',
      () => {
        if (exitCode !== undefined) throw new Error(`acd centre exited ${exitCode}: ${stderr.join('')}`);
        return Promise.resolve(/API and dashboard (http:\/\/[^\s]+)\//.exec(stderr.join(''))?.[1]);
      },
      120_000,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${stderr.join('')}`);
    });

    // An edge-side bus publishes the flood, then later records that move event time on.
    const edgeBus = createJetStreamBus({}, { servers: server!.url, subjectPrefix: `t${t}`, streams });
    await edgeBus.start();
    const records = synFloodRecords(VICTIM);
    for (let off = 0, n = 0; off < records.length; off += 200, n++)
      await edgeBus.publishBatch('provider-1', 0, {
        batchId: `provider-1.test.${n}`,
        records: records.slice(off, off + 200),
      });
    const later = Array.from({ length: 50 }, (_, i) =>
      flowRecord({ t: T0 + 10 * 60_000 + i * 1000, providerId: 'provider-1', index: 100_000 + i }),
    );
    await edgeBus.publishBatch('provider-1', 0, { batchId: 'provider-1.test.later', records: later });
    await edgeBus.stop();

    const headers = { authorization: `Bearer ${TOKEN}` };
    const incident = await until(
      'a ddos incident on the API',
      async () => {
        const res = await fetch(`${url}/api/incidents?limit=10`, { headers });
        const body = (await res.json()) as { items: { id: string; detectors: string[] }[] };
        return body.items.find((i) => i.detectors.includes('ddos'));
      },
      60_000,
    );
    const overview = (await (await fetch(`${url}/api/overview`, { headers })).json()) as {
      totals: { records: number };
    };
    expect(overview.totals.records).toBe(records.length + later.length);
    const detail = await fetch(`${url}/api/incidents/${incident.id}`, { headers });
    expect(detail.status).toBe(200);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = undefined;
    const text = stderr.join('');
    expect(text).toMatch(/acd centre: summary \{"records":2050,"stored":2050/);

    // The store holds the incident and the audit chain the reads, pinned by a signed checkpoint.
    const store = createStore({ type: 'duckdb', path: join(data, 'acd.duckdb') });
    await store.open();
    try {
      expect((await store.getIncident(incident.id))?.incident.detectors).toContain('ddos');
      const audit = await store.readAudit(1, 1000);
      const read = audit.find((e) => e.action === 'GET /api/incidents/:id');
      expect(read).toMatchObject({ actor: 'demo-analyst', role: 'analyst', purpose: 'monitoring' });
      expect(read?.objectIds).toContain(incident.id);
      expect(audit.some((e) => e.action === 'read.aggregate')).toBe(true);
    } finally {
      await store.close();
    }
    const checkpoints = await readFile(join(data, 'audit', 'checkpoints.ndjson'), 'utf8');
    expect(checkpoints.trim().split('\n').length).toBeGreaterThan(0);
  }, 180_000);
});
