/**
 * The live edge end to end (issue 5, "no raw datagram or pre-selection record is ever written to
 * disk, logged or exposed"): `./bin/acd edge --config …` runs as a child process at debug log
 * level, receives NetFlow v9/v5 and IPFIX over UDP from the simulator's exporter fleet (Japanese
 * subscribers talking to foreign hosts, domestic↔domestic traffic, subscriber next hops), publishes
 * to a private nats-server (started here so that it can be killed to force spooling), receives a
 * signed revocation over the control direction, loses its bus mid-stream (batches go to the
 * encrypted spool), and is stopped with SIGTERM. Then EVERY file it wrote (spool segments, spool
 * state, key store, revocations, template state) and every log line is scanned for the raw
 * domestic addresses it was fed: text forms, and 4-/16-byte forms in binary files (spool segments
 * are decrypted and their plaintext scanned). Foreign addresses may appear, and must, in clear.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPrefixTable } from '../src/common/prefixes/index.ts';
import type { SelectedRecord } from '../src/common/schema/selected.ts';
import { demoSigningKey, signDocument } from '../src/common/signing/index.ts';
import type { RevocationPayload } from '../src/common/schema/approval.ts';
import { createEdge, revocationEnvelope } from '../src/cli/edge/edge.ts';
import { demoSetup } from '../src/cli/edge/selection.ts';
import { localEdgeConfig } from '../src/cli/embedded/edges.ts';
import { systemClock } from '../src/common/clock.ts';
import { silentLogger } from '../src/common/logging.ts';
import { MetricsRegistry } from '../src/common/metrics.ts';
import { shippedLegalParameters } from '../src/common/legal/index.ts';
import { createCaseService } from '../src/oversee/cases/index.ts';
import { MemoryStore } from '../src/store/memory/store.ts';
import { createMemoryBus } from '../src/transport/index.ts';
import {
  createExporterFleet,
  createUdpOutput,
  type ExporterConfig,
} from '../src/simulate/exporters/index.ts';
import { createJetStreamBus } from '../src/transport/jetstream/bus.ts';
import type { StatsMessage } from '../src/transport/bus.ts';
import { startNatsServer, type PrivateNatsServer } from '../src/transport/testing.ts';
import {
  decryptSegment,
  edgeFlows,
  fixedPoints,
  leakPatterns,
  listFiles,
  recordLeaks,
  ROOT,
  scanForLeaks,
  startEdgeChild,
  testAddresses,
  withoutAddresses,
  writeEdgeConfig,
} from './helpers/edge.ts';

const dir = mkdtempSync(join(tmpdir(), 'acd-edge-live-'));
let nats: PrivateNatsServer | undefined;
let skip: string | undefined;
try {
  nats = await startNatsServer();
} catch (err) {
  if (process.env.ACD_REQUIRE_SERVICES === '1') throw err;
  skip = `no nats-server: ${(err as Error).message}`;
}
afterAll(async () => {
  await nats?.stop();
  if (!process.env.ACD_KEEP_TEST_DIR) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skip !== undefined)('acd edge (live) under load', () => {
  it('never writes or logs a raw domestic address: spool, state, keys, revocations, logs', async () => {
    const table = (await loadPrefixTable({ cacheDir: join(ROOT, 'data', 'cache') })).table;
    const addrs = testAddresses(table);
    const data = join(dir, 'data');
    mkdirSync(data);
    const logFile = join(dir, 'edge.log');
    const streams = { data: 'LIVE_SEL', control: 'LIVE_CTL', stats: 'LIVE_STAT' };
    const cfg = writeEdgeConfig(dir, {
      collect: {
        listen: ['udp://127.0.0.1:0'],
        stateFile: join(data, 'templates.json'),
        stateSaveInterval: '1s',
      },
      select: { mode: 'demo', domesticCountry: 'JP', stopGraceMs: '1s' },
      edge: {
        providerId: 'isp-live',
        keyStore: { dir: join(data, 'keys') },
        bus: {
          servers: [nats!.url],
          subjectPrefix: 'live',
          streams,
          manageStreams: true,
          publishTimeout: '1s',
          reconnectWait: '200ms',
          retryDelay: '200ms',
        },
        spool: { dir: join(data, 'spool'), keyFile: join(data, 'spool.key'), flushInterval: '100ms' },
        revocationsDir: join(data, 'revocations'),
        prefixCacheDir: join(ROOT, 'data', 'cache'),
        batchMaxAge: '100ms',
        statsInterval: '1s',
        drainTimeout: '1s',
      },
    });
    const edge = startEdgeChild(cfg, { cwd: dir, env: { ACD_LOG_LEVEL: 'debug' }, logFile });
    const centre = createJetStreamBus({}, { servers: nats!.url, subjectPrefix: 'live', streams });
    const received: SelectedRecord[] = [];
    const stats: StatsMessage[] = [];
    try {
      const m = await edge.waitFor(/listening on udp:\/\/127\.0\.0\.1:(\d+)/);
      const port = Number(m[1]);
      await edge.waitFor(/bus: connected/);
      await centre.start();
      await centre.subscribe('centre', (b) => {
        received.push(...b.records);
        return Promise.resolve();
      });
      await centre.subscribeStats('centre-stats', (s) => {
        stats.push(s);
        return Promise.resolve();
      });

      const exporters: ExporterConfig[] = [
        {
          id: 'r-ipfix',
          address: '127.0.0.31',
          format: 'ipfix',
          observationDomainId: 1,
          samplingInterval: 1,
        },
        {
          id: 'r-v9',
          address: '127.0.0.32',
          format: 'netflow9',
          observationDomainId: 2,
          samplingInterval: 1,
        },
        {
          id: 'r-v5',
          address: '127.0.0.33',
          format: 'netflow5',
          observationDomainId: 3,
          samplingInterval: 1,
        },
      ];
      const fleet = createExporterFleet({ exporters, seed: 3, output: createUdpOutput('127.0.0.1', port) });
      await fleet.start();
      let k = 0;
      const send = async (n: number): Promise<void> => {
        const t0 = Date.now();
        for (const { fields, kind } of edgeFlows(n, addrs, t0 - n, k)) {
          fleet.submit(kind === 'outbound6' ? 0 : k % 3, fields, Date.now());
          k++;
          if (k % 300 === 0) {
            fleet.tick(Date.now(), 50);
            await sleep(3);
          }
        }
        fleet.flushAll(Date.now());
      };

      // Phase 1: load with the bus up.
      await send(21_000);
      await sleep(1500);
      expect(received.length).toBeGreaterThan(1000);

      // A signed revocation over the control direction stops the outbound feed.
      const revokedAt = Date.now();
      const revocation = signDocument<RevocationPayload>(
        {
          type: 'revocation',
          id: 'rev-live-1',
          revokes: 'demo-approval-specified-domestic-to-foreign',
          issuedAt: new Date(revokedAt).toISOString(),
          reason: 'test: commission revoked the approval',
          demo: true,
        },
        [demoSigningKey('commission')],
      );
      await centre.publishControl('isp-live', revocationEnvelope(revocation, 'ctl-live-1', revokedAt));
      await edge.waitFor(/control: revocation applied/, 15_000);
      await sleep(1500); // > stopGraceMs
      const before = received.length;
      await send(7_000);
      await sleep(1500);
      const after = received.slice(before);
      expect(after.length).toBeGreaterThan(0);
      expect(after.filter((r) => r.provenance.channel === 'specified-domestic-to-foreign')).toEqual([]);

      // Phase 2: the bus disappears mid-stream; selected batches go to the encrypted spool.
      await nats!.stop();
      nats = undefined;
      await send(7_000);
      await sleep(1200);
      await fleet.stop();
      edge.proc.kill('SIGTERM');
      const exit = await edge.exited;
      expect(exit.code).toBe(0);
    } finally {
      if (edge.proc.exitCode === null) edge.proc.kill('SIGKILL');
      await centre.stop().catch(() => undefined);
    }

    const log = readFileSync(logFile, 'utf8');
    const summary = JSON.parse(/acd edge: summary (\{.*\})/.exec(log)![1]!) as {
      in: number;
      selected: number;
      spoolPending: number;
      revocationsApplied: number;
    };
    expect(summary.in).toBeGreaterThan(20_000);
    expect(summary.revocationsApplied).toBe(1);
    expect(summary.spoolPending).toBeGreaterThan(0);
    // Per-batch statistics reached the centre (R-SEL-5), numbers only.
    expect(stats.length).toBeGreaterThan(0);
    expect(stats.some((s) => s.batchId !== undefined && typeof s.body.in === 'number')).toBe(true);

    // The spool holds selected batches (it had something to leak) and foreign addresses in clear.
    const files = listFiles(data);
    const segments = files.filter((f) => f.endsWith('.spool'));
    expect(segments.length).toBeGreaterThan(0);
    const frames = segments.flatMap((s) => decryptSegment(readFileSync(s), join(data, 'spool.key')));
    expect(frames.reduce((n, f) => n + f.recordCount, 0)).toBeGreaterThan(0);
    expect(frames.some((f) => Buffer.from(f.bytes).includes(Buffer.from('8.8.8.8')))).toBe(true);
    expect(readdirSync(join(data, 'revocations')).length).toBe(1);

    // The scan: every file the edge wrote, every log line, and every record that crossed the bus.
    const fixed = await fixedPoints(join(data, 'keys'), addrs);
    if (fixed.length > 0)
      console.warn(`crypto-pan fixed points under this run's key (excluded): ${fixed.length}`);
    const scanned = withoutAddresses(addrs, fixed);
    const patterns = leakPatterns(scanned);
    expect(scanForLeaks([...files, logFile], patterns, join(data, 'spool.key'))).toEqual([]);
    expect(recordLeaks(received, scanned)).toEqual([]);
    expect(received.some((r) => r.source.pseudonymised && r.source.country === 'JP')).toBe(true);

    // The scanner itself finds what it looks for (a control, so an empty result means something).
    const planted = join(dir, 'planted.bin');
    writeFileSync(
      planted,
      Buffer.concat([
        Buffer.from(`x ${addrs.domestic4[0]!} y`),
        Buffer.from(addrs.domestic4[1]!.split('.').map(Number)),
      ]),
    );
    expect(scanForLeaks([planted], leakPatterns(addrs)).map((l) => l.pattern)).toEqual([
      addrs.domestic4[0]!,
      `${addrs.domestic4[1]!} (4 bytes)`,
    ]);
  }, 180_000);
});

/**
 * Approvals from the centre's approval cases (issue 8, R-OVS-5) reach a running edge over the
 * control direction like revocations: the commission approves a case (signed with the demo
 * commission key, the edge runs in demo mode), the edge verifies the approval and activates the
 * feed that names it, keeps it across a restart, and a revocation of the case stops the feed.
 * In process, on a memory bus: no nats-server needed.
 */
describe('acd edge (live): approvals over the control direction', () => {
  it('activates a feed on a published approval, keeps it after a restart, stops it on revocation', async () => {
    const PROVIDER = 'isp-cases';
    const table = (await loadPrefixTable({ cacheDir: join(ROOT, 'data', 'cache') })).table;
    const data = join(dir, 'cases-data');
    const config = localEdgeConfig({
      providerId: PROVIDER,
      dir: data,
      cacheDir: join(ROOT, 'data', 'cache'),
      listen: ['udp://127.0.0.1:0'],
      drainTimeoutMs: 1000,
    });
    const e = config.edge;
    const setup = demoSetup('JP', PROVIDER, 'demo');
    setup.config.stopGraceMs = 0;
    setup.config.feeds.push({
      id: 'case-inbound',
      providerId: PROVIDER,
      channel: 'specified-foreign-to-domestic',
      approvalIds: ['ap-case-edge-1'],
      exporters: 'all',
    });
    const feedState = (edge: ReturnType<typeof createEdge>) =>
      edge.feeds().find((f) => f.feedId === 'case-inbound')?.state;
    const until = async (what: string, f: () => boolean): Promise<void> => {
      const end = Date.now() + 10_000;
      while (!f()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await sleep(20);
      }
    };
    const files = (): string[] => {
      try {
        return readdirSync(e.revocationsDir);
      } catch {
        return [];
      }
    };
    const startEdge = async () => {
      const bus = createMemoryBus({ clock: systemClock });
      const edge = createEdge(
        { clock: systemClock, logger: silentLogger, metrics: new MetricsRegistry(), bus },
        { edge: e, collect: config.collect, setup, table, tableSource: { kind: 'packaged' } },
      );
      await edge.start();
      await until('the bus', () => edge.stats().busConnected);
      return { edge, bus };
    };

    // The centre's case service, signing with the demo commission key, publishing on the bus.
    let target = createMemoryBus({ clock: systemClock });
    const store = new MemoryStore();
    await store.open();
    const cases = createCaseService({
      store,
      clock: systemClock,
      legal: shippedLegalParameters(),
      keys: { commissionKey: () => Promise.resolve(demoSigningKey('commission')) },
      publish: (t, m) => target.publishControl(t, m),
      newId: () => 'case-edge-1',
    });
    const analyst = { user: 'ana', role: 'analyst', purpose: 'investigation' };
    const inspector = { user: 'insp', role: 'inspector', purpose: 'oversight' };

    let first = await startEdge();
    target = first.bus;
    try {
      expect(feedState(first.edge)).toBe('refused');
      const now = Date.now();
      const c = await cases.create(
        {
          kind: 'acquisition',
          title: 'C2 of campaign X',
          justification: 'Domestic hosts beacon to C2 servers abroad.',
          channel: 'specified-foreign-to-domestic',
          providers: [PROVIDER],
          targetActs: ['c2-communication'],
          targets: ['198.51.100.0/24'],
          selectors: [{ id: 'c2', kind: 'indicator-list', values: ['198.51.100.0/24'] }],
          validFrom: now - 3600_000,
          validUntil: now + 86_400_000,
        },
        analyst,
      );
      await cases.submit(c.id, analyst);
      await cases.approve(c.id, 'necessary and proportionate', inspector);
      await until('the feed to activate', () => feedState(first.edge) === 'active');
      expect(first.edge.stats().approvalsApplied).toBe(1);
      // The demo feeds keep running alongside.
      expect(first.edge.stats().activeFeeds).toBe(setup.config.feeds.length);
      // Kept for restarts once written (after the feed is in force).
      await until('the approval on disk', () => files().length === 1);
    } finally {
      await first.edge.stop();
      await first.bus.stop();
    }

    // After a restart the approval comes from the revocations directory, not the bus.
    first = await startEdge();
    target = first.bus;
    try {
      expect(feedState(first.edge)).toBe('active');
      await cases.revoke('case-edge-1', 'campaign over', inspector);
      await until('the feed to stop', () => feedState(first.edge) === 'stopped');
      expect(first.edge.stats().revocationsApplied).toBe(1);
      await until('the revocation on disk', () => files().length === 2);
    } finally {
      await first.edge.stop();
      await first.bus.stop();
      await store.close();
    }
  }, 60_000);
});
