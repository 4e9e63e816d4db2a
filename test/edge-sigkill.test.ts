/**
 * The edge across SIGKILL, end to end (issue 5): `./bin/acd edge --config …` runs as a child with
 * JetStream at 127.0.0.1:4222 (streams of its own, deleted after), receives IPFIX over TCP (lossless,
 * so the test knows exactly which records the edge got), and publishes into a data stream that the
 * test created with a small byte limit: once it is full, publishes fail and selected batches pile
 * up in the encrypted spool, as in a bus outage. The edge is killed with SIGKILL mid-stream, the
 * limit lifted, the edge restarted; the centre consumes with de-duplication by recordId. Every
 * record the edge had selected more than the flush window before the kill (spool flushInterval +
 * batchMaxAge + a processing margin) must arrive exactly once, and no record twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiscardPolicy, RetentionPolicy, StorageType, jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { systemClock } from '../src/common/clock.ts';
import { MetricsRegistry } from '../src/common/metrics.ts';
import { loadPrefixTable } from '../src/common/prefixes/index.ts';
import type { DecodedRecord } from '../src/common/schema/index.ts';
import { createDecoderSession } from '../src/collect/decode/index.ts';
import { makeRecordId } from '../src/select/index.ts';
import {
  createExporterFleet,
  createTcpOutput,
  type ExportedMessage,
} from '../src/simulate/exporters/index.ts';
import { createJetStreamBus } from '../src/transport/jetstream/bus.ts';
import { deleteStreams, testNatsServer, testToken } from '../src/transport/testing.ts';
import { edgeFlows, ROOT, startEdgeChild, testAddresses, writeEdgeConfig } from './helpers/edge.ts';

const server = await testNatsServer();
const dir = mkdtempSync(join(tmpdir(), 'acd-edge-kill-'));
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Records selected longer ago than this before the kill must have been spooled (flush 100 ms + batch 100 ms + margin). */
const WINDOW_MS = 1500;

describe.skipIf(server === undefined)('acd edge across SIGKILL', () => {
  it('delivers every record spooled before the kill exactly once after a restart', async () => {
    const url = server!.url;
    const t = testToken();
    const prefix = `k${t}`;
    const streams = { data: `K${t}_SEL`, control: `K${t}_CTL`, stats: `K${t}_STAT` };
    const table = (await loadPrefixTable({ cacheDir: join(ROOT, 'data', 'cache') })).table;
    const addrs = testAddresses(table);
    // The data stream, small: full after a few batches, so the rest stays in the spool.
    const nc = await connect({ servers: url });
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    await jsm.streams.add({
      name: streams.data,
      subjects: [`${prefix}.sel.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.New,
      max_bytes: 150_000,
      duplicate_window: nanos(120_000),
    });
    const data = join(dir, 'data');
    const cfg = writeEdgeConfig(dir, {
      collect: { listen: ['tcp://127.0.0.1:0'] },
      select: { mode: 'demo', domesticCountry: 'JP' },
      edge: {
        providerId: 'isp-kill',
        keyStore: { dir: join(data, 'keys') },
        bus: {
          servers: [url],
          subjectPrefix: prefix,
          streams,
          manageStreams: true,
          publishTimeout: '1s',
          retryDelay: '300ms',
          duplicateWindow: '2m',
        },
        spool: { dir: join(data, 'spool'), keyFile: join(data, 'spool.key'), flushInterval: '100ms' },
        revocationsDir: join(data, 'revocations'),
        prefixCacheDir: join(ROOT, 'data', 'cache'),
        batchRecords: 500,
        batchMaxAge: '100ms',
        drainTimeout: '5s',
      },
    });
    const centre = createJetStreamBus(
      {},
      { servers: url, subjectPrefix: prefix, streams, duplicateWindowMs: 120_000 },
    );
    const counts = new Map<string, number>();
    let duplicatesDropped = 0;
    let rawDelivered = 0;
    const sent: { m: ExportedMessage; at: number }[] = [];
    let killedAt = 0;
    try {
      // First run: killed mid-stream.
      const first = startEdgeChild(cfg, { cwd: dir, logFile: join(dir, 'first.log') });
      const port = Number((await first.waitFor(/listening on tcp:\/\/127\.0\.0\.1:(\d+)/))[1]);
      await first.waitFor(/bus: connected/);
      const fleet = createExporterFleet({
        exporters: [
          {
            id: 'r1',
            address: '127.0.0.41',
            format: 'ipfix',
            observationDomainId: 7,
            samplingInterval: 1,
            transport: 'tcp',
          },
        ],
        seed: 5,
        output: createTcpOutput('127.0.0.1', port),
        onMessage: (m) => {
          if (killedAt === 0) sent.push({ m, at: Date.now() });
        },
      });
      await fleet.start();
      const start = Date.now();
      let k = 0;
      while (Date.now() - start < 4000) {
        const t0 = Date.now();
        for (const { fields } of edgeFlows(150, addrs, t0 - 150, k)) {
          fleet.submit(0, fields, Date.now());
          k++;
        }
        fleet.flushAll(Date.now());
        await sleep(40);
        if (killedAt === 0 && Date.now() - start > 3000) {
          first.proc.kill('SIGKILL');
          killedAt = Date.now();
        }
      }
      expect((await first.exited).signal).toBe('SIGKILL');
      await fleet.stop().catch(() => undefined);
      expect(first.lines.some((l) => l.includes('publish failed'))).toBe(true); // the stream was full: batches were spooled

      // Which records were selected before the window: decode what was sent, as the edge does.
      const session = createDecoderSession(
        { clock: systemClock, metrics: new MetricsRegistry() },
        {
          templateTimeoutMs: 3_600_000,
          pendingMaxSets: 4096,
          pendingMaxAgeMs: 3_600_000,
          silenceAlarmMs: 0,
          samplingOverrides: {},
        },
      );
      const expected = new Set<string>();
      let late = 0;
      for (const { m, at } of sent) {
        const recs: DecodedRecord[] = [];
        session.decode(
          { receivedAt: at, exporter: { address: '127.0.0.41', port: 0 }, transport: 'tcp', bytes: m.bytes },
          { record: (r) => recs.push(r) },
        );
        for (const r of recs) {
          if (r.recordType !== 'flow') continue;
          const f = r.fields;
          const src = (f.sourceIPv4Address ?? f.sourceIPv6Address) as string;
          const dst = (f.destinationIPv4Address ?? f.destinationIPv6Address) as string;
          if (table.isDomestic(src, 'JP') && table.isDomestic(dst, 'JP')) continue; // dropped by law
          const id = makeRecordId(
            'isp-kill',
            '127.0.0.41',
            r.observation.observationDomainId,
            r.observation.sequence,
            r.recordIndex,
          );
          if (at < killedAt - WINDOW_MS) expected.add(id);
          else late++;
        }
      }
      expect(expected.size).toBeGreaterThan(3000);

      // Lift the limit and restart: the spool replays in order with the original batch ids.
      await jsm.streams.update(streams.data, { max_bytes: -1 });
      const second = startEdgeChild(cfg, { cwd: dir, logFile: join(dir, 'second.log') });
      await second.waitFor(/bus: connected/);
      await centre.start();
      await centre.subscribe('centre', (b) => {
        duplicatesDropped += b.duplicatesDropped;
        rawDelivered += b.records.length + b.duplicatesDropped;
        for (const r of b.records) counts.set(r.recordId, (counts.get(r.recordId) ?? 0) + 1);
        return Promise.resolve();
      });
      const deadline = Date.now() + 60_000;
      while ([...expected].some((id) => !counts.has(id)) && Date.now() < deadline) await sleep(200);
      await sleep(1000);
      second.proc.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);

      const missing = [...expected].filter((id) => !counts.has(id));
      expect(missing).toEqual([]);
      expect([...counts.entries()].filter(([, c]) => c !== 1)).toEqual([]);
      console.log(
        JSON.stringify({
          sentMessages: sent.length,
          expectedBeforeWindow: expected.size,
          selectedInWindowOrAfter: late,
          delivered: counts.size,
          rawDelivered,
          duplicatesDropped,
        }),
      );
    } finally {
      await centre.stop().catch(() => undefined);
      await nc.close();
      await deleteStreams(url, Object.values(streams));
    }
  }, 180_000);
});
