/**
 * `npm run bench:edge`: the provider edge end to end — IPFIX over loopback UDP in, selection
 * (border classification, allow-list, Crypto-PAn, provenance), batches through the encrypted spool,
 * NATS JetStream out (127.0.0.1:4222, or a private nats-server; streams of its own, deleted after).
 * At increasing rates, for `BENCH_DURATION_S` seconds each, it counts what was sent, what the edge
 * took in (its selection `in`), what it dropped in its queue or the kernel (sequence numbers),
 * what it selected and what JetStream acknowledged; a rate is lossless when every record sent went
 * through selection and every selected record was acknowledged by the bus. Prints one JSON line per
 * rate and a summary line with the highest lossless rate.
 *
 * Traffic: one exporter, 30 flow records per 1400-byte datagram, the mix of test/helpers/edge.ts
 * (Japanese subscribers ↔ foreign hosts, foreign↔foreign transit, some domestic↔domestic that the
 * law drops), under the demonstration feed set (keep all traffic each channel allows). The sender
 * runs in this process from pre-encoded datagrams, so it competes with the edge for the 2 cores:
 * the figure is a floor for a machine where exporters are elsewhere.
 *
 * Options (environment): BENCH_RATES=20000,50000,... records/s; BENCH_DURATION_S=3.
 */
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/common/clock.ts';
import { loadAcdConfig } from '../src/cli/config.ts';
import { silentLogger } from '../src/common/logging.ts';
import { MetricsRegistry } from '../src/common/metrics.ts';
import { loadPrefixTable } from '../src/common/prefixes/index.ts';
import { createEdge } from '../src/cli/edge/edge.ts';
import { demoSetup } from '../src/cli/edge/selection.ts';
import { encodeIpfixMessage, type EncodeTemplate } from '../src/simulate/encode/index.ts';
import { deleteStreams, testNatsServer, testToken } from '../src/transport/testing.ts';
import { edgeFlows, testAddresses } from '../test/helpers/edge.ts';

const RATES = (process.env.BENCH_RATES ?? '20000,50000,100000,150000,200000,300000').split(',').map(Number);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 3);
const PER_MESSAGE = 30;
const emit = (o: Record<string, unknown>): void => void process.stdout.write(JSON.stringify(o) + '\n');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const TEMPLATE: EncodeTemplate = {
  templateId: 300,
  fields: [
    'sourceIPv4Address',
    'destinationIPv4Address',
    'sourceTransportPort',
    'destinationTransportPort',
    'protocolIdentifier',
    'tcpControlBits',
    'octetDeltaCount',
    'packetDeltaCount',
    'flowStartMilliseconds',
    'flowEndMilliseconds',
  ],
};

async function main(): Promise<void> {
  const server = await testNatsServer();
  if (!server) {
    process.stderr.write('bench:edge: no NATS JetStream reachable and none could be started\n');
    process.exitCode = 1;
    return;
  }
  const t = testToken();
  const streams = { data: `B${t}_SEL`, control: `B${t}_CTL`, stats: `B${t}_STAT` };
  const dir = mkdtempSync(join(tmpdir(), 'acd-bench-edge-'));
  const table = (await loadPrefixTable()).table;
  const addrs = testAddresses(table, 64);
  // IPv4 only (one template): the outbound6 kind becomes outbound.
  const flows = edgeFlows(PER_MESSAGE * 400, addrs, Date.now()).map(({ fields }) => {
    if (fields.sourceIPv6Address === undefined) return fields;
    return { ...fields, sourceIPv4Address: addrs.domestic4[0]!, destinationIPv4Address: addrs.foreign4[0]! };
  });
  const config = loadAcdConfig({ env: {} });
  const edgeConfig = {
    ...config.edge,
    providerId: 'bench',
    keyStore: { ...config.edge.keyStore, dir: join(dir, 'keys') },
    bus: { ...config.edge.bus, servers: [server.url], subjectPrefix: `b${t}`, streams, manageStreams: true },
    spool: { ...config.edge.spool, dir: join(dir, 'spool'), keyFile: join(dir, 'spool.key') },
    revocationsDir: join(dir, 'revocations'),
  };
  const metrics = new MetricsRegistry();
  const edge = createEdge(
    { clock: systemClock, logger: silentLogger, metrics },
    {
      edge: edgeConfig,
      collect: { ...config.collect, listen: ['udp://127.0.0.1:0'], queueCapacity: 262_144 },
      setup: demoSetup('JP', 'bench'),
      table,
      tableSource: { kind: 'packaged' },
    },
  );
  await edge.start();
  const port = edge.addresses()[0]!.port;
  const sock = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 * 1024 * 1024 });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  let seq = 0;
  const send = (b: Uint8Array): Promise<void> =>
    new Promise((resolve) => sock.send(b, port, '127.0.0.1', () => resolve()));
  await send(
    encodeIpfixMessage({
      observationDomainId: 1,
      sequence: 0,
      exportTime: Date.now(),
      sets: [{ kind: 'template', templates: [TEMPLATE] }],
    }),
  );
  let best = 0;
  let sentTotal = 0;
  const results: Record<string, unknown>[] = [];
  try {
    for (const rate of RATES) {
      const before = edge.stats();
      const t0 = performance.now();
      const messagesPerSec = rate / PER_MESSAGE;
      let sent = 0;
      let k = 0;
      while (performance.now() - t0 < DURATION_S * 1000) {
        const due = Math.floor(((performance.now() - t0) / 1000) * messagesPerSec);
        const pending: Promise<void>[] = [];
        while (sent < due) {
          const recs = [];
          for (let i = 0; i < PER_MESSAGE; i++) recs.push(flows[(k++ * 7) % flows.length]!);
          pending.push(
            send(
              encodeIpfixMessage({
                observationDomainId: 1,
                sequence: seq,
                exportTime: Date.now(),
                sets: [{ kind: 'data', template: TEMPLATE, records: recs }],
              }),
            ),
          );
          seq += PER_MESSAGE;
          sent++;
        }
        await Promise.all(pending);
        await sleep(5);
      }
      const seconds = (performance.now() - t0) / 1000;
      const records = sent * PER_MESSAGE;
      sentTotal += records;
      // Settle: the queue drains, partial batches go out, the bus acknowledges.
      const settleEnd = Date.now() + 10_000;
      let after = edge.stats();
      while (Date.now() < settleEnd) {
        await sleep(250);
        after = edge.stats();
        if (after.in - before.in >= records && after.spoolPending === 0) break;
      }
      await sleep(500);
      after = edge.stats();
      const took = after.in - before.in;
      const lossless =
        took === records && after.spoolPending === 0 && after.spoolFullDropped === before.spoolFullDropped;
      const r = {
        bench: 'edge',
        rate,
        achievedRate: Math.round(records / seconds),
        sent: records,
        selectionIn: took,
        selected: after.selected - before.selected,
        queueDropped: after.collector.dropped - before.collector.dropped,
        sequenceLost: after.collector.sequenceLost - before.collector.sequenceLost,
        batchesAcked: after.acks - before.acks,
        spoolPending: after.spoolPending,
        lossless,
      };
      results.push(r);
      emit(r);
      if (lossless) best = Math.max(best, rate);
      else if (results.length >= 2 && results.slice(-2).every((x) => !x.lossless)) break;
    }
  } finally {
    sock.close();
    await edge.stop();
    await deleteStreams(server.url, Object.values(streams)).catch(() => undefined);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  emit({ bench: 'edge-summary', highestLosslessRate: best, records: sentTotal });
  process.stderr.write(
    `bench:edge: highest lossless rate ${best} records/s (UDP in -> selection -> spool -> JetStream acknowledged; sender in-process)\n`,
  );
}

await main();
