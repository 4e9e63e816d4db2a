/**
 * Test helpers for the transport: realistic selected records and a private nats-server.
 * Used by tests and the benchmark only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SelectedRecord } from '../common/schema/selected.ts';

/** The Debian nats-server binary (MACHINE-NOTES). */
export const NATS_SERVER_BIN = '/usr/sbin/nats-server';

/**
 * `n` selected flow records of provider `providerId` whose record ids start at `first`. Shapes
 * follow what selection produces: pseudonymised domestic source, clear foreign destination, one
 * provenance per feed.
 */
export function sampleRecords(
  providerId: string,
  n: number,
  first = 0,
  exporter = '192.0.2.1',
): SelectedRecord[] {
  const provenance = {
    providerId,
    feedId: 'feed-1',
    channel: 'specified-domestic-to-foreign' as const,
    approvalId: 'appr-2026-001',
    selectorIds: ['sel-1'],
    tableVersion: '2026-06-17',
    parameterVersion: 'lp-2026-1',
    keyEpoch: 3,
    selectedAt: 0,
    retainUntil: 0,
  };
  const out: SelectedRecord[] = [];
  const t0 = 1_767_225_600_000;
  for (let k = 0; k < n; k++) {
    const i = first + k;
    out.push({
      recordId: `${providerId}/${exporter}/0/${Math.floor(i / 16)}/${i % 16}`,
      recordType: 'flow',
      protocol: 'ipfix',
      fields: {
        sourceIPv4Address: `10.${i & 255}.${(i >> 8) & 255}.7`,
        destinationIPv4Address: '203.0.113.9',
        sourceTransportPort: 40_000 + (i % 20_000),
        destinationTransportPort: 443,
        protocolIdentifier: 6,
        octetDeltaCount: 1234 * (i + 1),
        packetDeltaCount: 12 + i,
        tcpControlBits: 27,
        flowStartMilliseconds: t0 + i * 10,
        flowEndMilliseconds: t0 + i * 10 + 500,
        samplingInterval: 1,
      },
      source: { country: 'JP', asn: 2497, pseudonymised: true },
      destination: { country: 'US', asn: 15_169, pseudonymised: false },
      provenance: { ...provenance, selectedAt: t0 + 1000 + i, retainUntil: t0 + 90 * 86_400_000 },
    });
  }
  return out;
}

/** A free TCP port on 127.0.0.1 (bound and released; races are unlikely on a test machine). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** True when something accepts TCP connections on host:port within `timeoutMs`. */
export async function reachable(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, host, () => done(true));
  });
}

/** A nats-server started by a test; `stop()` kills it and removes its directory. */
export interface PrivateNatsServer {
  url: string;
  port: number;
  dir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `nats-server` with JetStream in a temporary directory on a free port. `config` is the
 * body of a configuration file (without `listen`/`jetstream`, which are added); empty for none.
 */
export async function startNatsServer(config = '', scheme = 'nats'): Promise<PrivateNatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'acd-nats-'));
  const port = await freePort();
  const conf = join(dir, 'server.conf');
  writeFileSync(
    conf,
    `listen: "127.0.0.1:${port}"\njetstream { store_dir: "${join(dir, 'js')}", max_memory_store: 67108864, max_file_store: 1073741824 }\n${config}\n`,
  );
  const proc = spawn(NATS_SERVER_BIN, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (b: Buffer) => {
    if (stderr.length < 20_000) stderr += b.toString();
  });
  const deadline = Date.now() + 10_000;
  while (!(await reachable('127.0.0.1', port, 200))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`nats-server did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    dir,
    process: proc,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Deletes streams (test clean-up); missing streams are ignored. */
export async function deleteStreams(
  servers: string,
  names: readonly string[],
  connectOpts: Record<string, unknown> = {},
): Promise<void> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers, ...connectOpts });
  try {
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    for (const n of names) await jsm.streams.delete(n).catch(() => false);
  } finally {
    await nc.close();
  }
}

/**
 * The JetStream server for tests: the machine's server at 127.0.0.1:4222 when reachable, else a
 * private `nats-server -js`. Returns undefined (skip) only when neither works and
 * `ACD_REQUIRE_SERVICES` is not set; with it set, throws.
 */
export async function testNatsServer(): Promise<{ url: string; stop(): Promise<void> } | undefined> {
  if (await reachable('127.0.0.1', 4222))
    return { url: 'nats://127.0.0.1:4222', stop: () => Promise.resolve() };
  try {
    return await startNatsServer();
  } catch (err) {
    if (process.env.ACD_REQUIRE_SERVICES === '1') throw err;
    return undefined;
  }
}

/** A short random token for per-test subject prefixes and stream names. */
export function testToken(): string {
  return Math.random().toString(36).slice(2, 10);
}
