/**
 * `node --import tsx bench/transport.ts [--batches N] [--records R]`: throughput of the transport.
 * Prints one JSON line per measurement and a one-line summary on stderr:
 * - codec: encode/decode records/s and bytes per record for batches of R (default 1000) records,
 *   against JSON as a baseline;
 * - memory bus: records/s from publish to handler (acknowledged), batches of R;
 * - JetStream bus (127.0.0.1:4222 or a private nats-server): publish with 32 batches in flight,
 *   and consume with the durable pull consumer, records/s each;
 * - spooled publisher to JetStream: records/s with the spool (write-ahead, fsync) in the path.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bus } from '../src/transport/bus.ts';
import { decodeBatch, encodeBatch } from '../src/transport/codec.ts';
import { createJetStreamBus } from '../src/transport/jetstream/bus.ts';
import { createMemoryBus } from '../src/transport/memory/bus.ts';
import { createSpooledPublisher } from '../src/transport/spool/publisher.ts';
import { createSpool, createSpoolKey } from '../src/transport/spool/spool.ts';
import { deleteStreams, sampleRecords, testNatsServer, testToken } from '../src/transport/testing.ts';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const BATCHES = arg('--batches', 200);
const R = arg('--records', 1000);
const results: Record<string, number> = {};
const emit = (o: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify(o) + '\n');
};

function codec(): void {
  const recs = sampleRecords('prov-a', R);
  const te = new TextEncoder();
  const td = new TextDecoder();
  for (let i = 0; i < 20; i++) decodeBatch(encodeBatch('prov-a', 0, 'b', recs, 1).bytes);
  const n = 100;
  let t = performance.now();
  let bytes = encodeBatch('prov-a', 0, 'b', recs, 1).bytes;
  for (let i = 0; i < n; i++) bytes = encodeBatch('prov-a', 0, 'b', recs, 1).bytes;
  const encMs = (performance.now() - t) / n;
  t = performance.now();
  for (let i = 0; i < n; i++) decodeBatch(bytes);
  const decMs = (performance.now() - t) / n;
  let json = te.encode(JSON.stringify(recs));
  t = performance.now();
  for (let i = 0; i < n; i++) json = te.encode(JSON.stringify(recs));
  const jEnc = (performance.now() - t) / n;
  t = performance.now();
  for (let i = 0; i < n; i++) JSON.parse(td.decode(json));
  const jDec = (performance.now() - t) / n;
  results.encodeRecordsPerSec = Math.round((R / encMs) * 1000);
  results.decodeRecordsPerSec = Math.round((R / decMs) * 1000);
  results.bytesPerRecord = Math.round(bytes.length / R);
  emit({
    bench: 'codec',
    records: R,
    bytes: bytes.length,
    bytesPerRecord: bytes.length / R,
    encodeMs: encMs,
    decodeMs: decMs,
    encodeRecordsPerSec: results.encodeRecordsPerSec,
    decodeRecordsPerSec: results.decodeRecordsPerSec,
  });
  emit({
    bench: 'codec-json-baseline',
    records: R,
    bytes: json.length,
    bytesPerRecord: json.length / R,
    encodeMs: jEnc,
    decodeMs: jDec,
  });
}

async function throughput(name: string, bus: Bus, inFlight: number): Promise<void> {
  const batches = Array.from({ length: BATCHES }, (_, i) => sampleRecords('prov-a', R, i * R));
  let received = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((r) => (done = r));
  const sub = await bus.subscribe(
    'bench',
    (b) => {
      received += b.records.length;
      if (received >= BATCHES * R) done();
      return Promise.resolve();
    },
    { dedup: false },
  );
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < BATCHES) {
      const i = next++;
      await bus.publishBatch('prov-a', i % 4, { batchId: `prov-a.bench.${i}`, records: batches[i]! });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const tPub = performance.now() - t0;
  await all;
  const tAll = performance.now() - t0;
  await sub.stop();
  const pub = Math.round(((BATCHES * R) / tPub) * 1000);
  const e2e = Math.round(((BATCHES * R) / tAll) * 1000);
  results[`${name}PublishRecordsPerSec`] = pub;
  results[`${name}EndToEndRecordsPerSec`] = e2e;
  emit({
    bench: `${name}-bus`,
    batches: BATCHES,
    recordsPerBatch: R,
    inFlight,
    publishMs: tPub,
    totalMs: tAll,
    publishRecordsPerSec: pub,
    endToEndRecordsPerSec: e2e,
  });
}

async function spooled(
  url: string,
  prefix: string,
  streams: { data: string; control: string; stats: string },
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'acd-bench-spool-'));
  try {
    createSpoolKey(join(dir, 'edge.key'), randomBytes(32));
    const bus = createJetStreamBus(
      {},
      { servers: url, subjectPrefix: prefix, streams, manageStreams: false },
    );
    await bus.start();
    const spool = createSpool({
      dir: join(dir, 'spool'),
      keyFile: join(dir, 'edge.key'),
      instanceId: 'bench',
    });
    const pub = createSpooledPublisher({ bus, spool }, { maxInFlight: 32 });
    await pub.start();
    const batches = Array.from({ length: BATCHES }, (_, i) => sampleRecords('prov-a', R, i * R));
    const t0 = performance.now();
    for (let i = 0; i < BATCHES; i++) {
      pub.send('prov-a', i % 4, batches[i]!);
      if (i % 32 === 31) await new Promise((r) => setImmediate(r));
    }
    await pub.drain(120_000);
    const ms = performance.now() - t0;
    await pub.stop();
    await bus.stop();
    results.spooledJetstreamRecordsPerSec = Math.round(((BATCHES * R) / ms) * 1000);
    emit({
      bench: 'spooled-publisher-jetstream',
      batches: BATCHES,
      recordsPerBatch: R,
      totalMs: ms,
      recordsPerSec: results.spooledJetstreamRecordsPerSec,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

codec();
const mem = createMemoryBus({}, { maxBytes: 2 * 1024 * 1024 * 1024 });
await mem.start();
await throughput('memory', mem, 1);
await mem.stop();

const server = await testNatsServer();
if (server) {
  const t = testToken();
  const streams = { data: `B${t}_SEL`, control: `B${t}_CTL`, stats: `B${t}_STAT` };
  const js = createJetStreamBus({}, { servers: server.url, subjectPrefix: `b${t}`, streams, prefetch: 64 });
  try {
    await js.start();
    await throughput('jetstream', js, 32);
    await js.stop();
    await spooled(server.url, `b${t}`, streams);
  } finally {
    await deleteStreams(server.url, Object.values(streams));
    await server.stop();
  }
} else {
  emit({ bench: 'jetstream-bus', skipped: 'no nats-server reachable or startable' });
}
process.stderr.write(
  `transport: codec ${results.bytesPerRecord} B/record, encode ${results.encodeRecordsPerSec} rec/s, decode ${results.decodeRecordsPerSec} rec/s; ` +
    `memory bus ${results.memoryEndToEndRecordsPerSec} rec/s; jetstream publish ${results.jetstreamPublishRecordsPerSec ?? '-'} rec/s, end-to-end ${results.jetstreamEndToEndRecordsPerSec ?? '-'} rec/s; ` +
    `spooled publisher → jetstream ${results.spooledJetstreamRecordsPerSec ?? '-'} rec/s (batches of ${R})\n`,
);
