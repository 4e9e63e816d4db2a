/**
 * Child process of the SIGKILL test (crash.test.ts): an edge that spools and publishes batches to
 * JetStream. Configuration comes as JSON in ACD_CRASH_CHILD. It prints one line per event:
 * `batch <seq> <index>` when a batch is spooled, `safe <seq> disk` when it is durable (flushed to
 * disk), `safe <seq> ack` when the bus acknowledged it, `done` when it has nothing left to send. `publishDelayMs` slows
 * publishing so that batches accumulate in the spool before the parent kills the process.
 */
import type { Bus, EncodedBatch, PublishAck } from '../../bus.ts';
import { createJetStreamBus } from '../../jetstream/bus.ts';
import { sampleRecords } from '../../testing.ts';
import { createSpooledPublisher } from '../publisher.ts';
import { createSpool } from '../spool.ts';

interface ChildConfig {
  url: string;
  prefix: string;
  streams: { data: string; control: string; stats: string };
  spoolDir: string;
  keyFile: string;
  batches: number;
  recordsPerBatch: number;
  paceMs: number;
  publishDelayMs: number;
}

const cfg = JSON.parse(process.env.ACD_CRASH_CHILD ?? '{}') as ChildConfig;
const out = (line: string): void => {
  process.stdout.write(line + '\n');
};

const real = createJetStreamBus({}, { servers: cfg.url, subjectPrefix: cfg.prefix, streams: cfg.streams, manageStreams: false });
const bus: Bus = Object.assign(Object.create(real) as Bus, {
  publishEncoded: async (b: EncodedBatch): Promise<PublishAck> => {
    await new Promise((r) => setTimeout(r, cfg.publishDelayMs));
    return real.publishEncoded(b);
  },
});
const spool = createSpool(
  { dir: cfg.spoolDir, keyFile: cfg.keyFile, instanceId: 'edge1', flushIntervalMs: 50, flushBatches: 16 },
  { onDurable: (seqs) => seqs.forEach((s) => out(`safe ${s} disk`)) },
);
const publisher = createSpooledPublisher({ bus, spool, onAck: (seq) => out(`safe ${seq} ack`) }, { maxInFlight: 4, retryMs: 200 });

await real.start();
await publisher.start();
for (let i = 0; i < cfg.batches; i++) {
  const r = publisher.send('prov-a', i % 3, sampleRecords('prov-a', cfg.recordsPerBatch, i * cfg.recordsPerBatch));
  if (r.accepted) out(`batch ${r.seq} ${i}`);
  await new Promise((res) => setTimeout(res, cfg.paceMs));
}
await publisher.drain(60_000);
await publisher.stop();
await real.stop();
out('done');
