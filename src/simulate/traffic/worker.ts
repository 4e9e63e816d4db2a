/**
 * The generator's worker thread (live output): runs the engine as fast as the sending thread
 * lets it, packing export messages into transferable batches. It stays at most `maxAheadBytes`
 * ahead of what the sender has acknowledged, so memory stays bounded on endless runs.
 *
 * Protocol (parent → worker): `ack {bytes}`, `reset {index}` (a TCP exporter reconnected),
 * `limit {bytes}` (a new bound on what may be ahead), `stop`. Worker → parent: `ready {exporters, truth, endMs, sliceMs}`, `batch {buffer, size,
 * count, records}`, `done {stats}`, `error {message}`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BatchWriter } from './batch.ts';
import { createTrafficEngine, type EngineOptions } from './engine.ts';
import { loadPrefixTable } from '../../common/prefixes/index.ts';
import { SCENARIO_REGISTRY } from './registry.ts';

/** What the parent passes as `workerData`. */
export interface WorkerInput {
  engine: Omit<EngineOptions, 'observe' | 'registry' | 'table'>;
  /** Load the prefix table in the worker (class instances cannot be passed): its cache directory. */
  tableCacheDir?: string | false;
  maxAheadBytes: number;
}

/** Messages the parent sends. */
export type ToWorker =
  | { type: 'ack'; bytes: number }
  | { type: 'reset'; index: number }
  | { type: 'limit'; bytes: number }
  | { type: 'stop' };

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const input = workerData as WorkerInput;
  const table =
    input.tableCacheDir !== undefined
      ? (await loadPrefixTable({ cacheDir: input.tableCacheDir })).table
      : undefined;
  const writer = new BatchWriter();
  const post = (): void => {
    if (writer.count === 0) return;
    const b = writer.take();
    outstanding += b.size;
    port.postMessage({ type: 'batch', ...b }, [b.buffer]);
  };
  const engine = createTrafficEngine(
    { ...input.engine, registry: SCENARIO_REGISTRY, ...(table ? { table } : {}) },
    (m) => {
      if (writer.wouldOverflow(m.bytes.length)) post();
      writer.add(m.exporterIndex, m.records, m.timeMs, m.bytes);
    },
  );
  let outstanding = 0;
  let maxAhead = input.maxAheadBytes;
  let stopping = false;
  let wake: (() => void) | undefined;
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'ack') outstanding -= msg.bytes;
    else if (msg.type === 'reset') engine.resetSession(msg.index);
    else if (msg.type === 'limit') maxAhead = msg.bytes;
    else stopping = true;
    wake?.();
  });
  port.postMessage({
    type: 'ready',
    exporters: engine.exporters,
    truth: engine.truth,
    endMs: engine.endMs,
    sliceMs: engine.sliceMs,
  });
  const immediate = (): Promise<void> => new Promise((r) => setImmediate(r));
  for (;;) {
    if (stopping) {
      engine.finish();
      break;
    }
    if (outstanding >= maxAhead) {
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
      continue;
    }
    const more = engine.step();
    post();
    if (!more) break;
    // Let acknowledgements and stop requests in.
    await immediate();
  }
  post();
  port.postMessage({ type: 'done', stats: engine.stats() });
}

main().catch((err: unknown) => {
  parentPort?.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
});
