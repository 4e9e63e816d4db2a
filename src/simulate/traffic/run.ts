/**
 * Running the engine against an output.
 *
 * - **File** (`runToFile`): the engine runs in this thread as fast as it can and every message is
 *   written in order (pcap for flow formats, Frame Streams for dnstap): same options, same bytes.
 * - **Live** (`runLive`, UDP or TCP): the engine runs in a worker thread and encodes ahead; this
 *   thread only sends, releasing each message when wall time reaches its export time
 *   (`start + (wall − t0) × speed`). Generation and sending then use a core each, and the send rate
 *   is as steady as the traffic model. When the worker is slower than the requested rate, the run
 *   first pre-encodes: it starts sending once the whole run is encoded, once `maxAheadBytes` are
 *   buffered, or once the worker has shown it keeps up; a starved sender is reported.
 */
import { Worker } from 'node:worker_threads';
import {
  createOutput,
  type ExportedMessage,
  type ExporterConfig,
  type FleetOutput,
  type OutputTarget,
} from '../exporters/index.ts';
import { DEFAULT_CACHE_DIR } from '../../common/prefixes/index.ts';
import { BatchReader } from './batch.ts';
import { createTrafficEngine, type EngineOptions, type EngineStats } from './engine.ts';
import { TrafficWorkerError } from './errors.ts';
import type { TruthLine } from './types.ts';
import type { ToWorker, WorkerInput } from './worker.ts';

/** Progress of a run (reported about once a second). */
export interface RunProgress {
  phase: 'pre-encoding' | 'sending' | 'writing';
  /** Records (flows, samples or DNS messages) sent or written so far, and messages. */
  records: number;
  messages: number;
  /** Records per wall second over the last interval and over the whole sending phase. */
  recentRate: number;
  rate: number;
  /** Event time of the last message sent, epoch ms. */
  eventTimeMs: number;
  /** Records encoded but not yet sent (live). */
  buffered: number;
  elapsedMs: number;
}

/** The outcome of a run. */
export interface RunResult {
  records: number;
  messages: number;
  bytes: number;
  /** Wall time of the sending (or writing) phase, ms, and the records per second achieved. */
  elapsedMs: number;
  rate: number;
  /** Wall time spent pre-encoding before sending started (live). */
  preEncodeMs: number;
  /** Times the sender had nothing to send although a message was due (live: worker too slow). */
  starved: number;
  engine: EngineStats;
  truth: TruthLine[];
  exporters: ExporterConfig[];
  output: FleetOutput['stats'];
  reason: 'complete' | 'aborted';
}

/** Common options of both runs. */
export interface RunOptions {
  engine: EngineOptions;
  target: OutputTarget;
  signal?: AbortSignal;
  onProgress?: (p: RunProgress) => void;
  /** Called once the exporters and truth are known, before any record is generated. */
  onReady?: (info: { exporters: readonly ExporterConfig[]; truth: readonly TruthLine[] }) => void;
  progressIntervalMs?: number;
}

/** Live options. */
export interface LiveOptions extends RunOptions {
  /** Most encoded bytes held ahead of the sender (default 512 MiB). */
  maxAheadBytes?: number;
  /** Wall rate (records/s) the run is expected to reach; used to decide how long to pre-encode. */
  expectedRate?: number;
  /** Cache directory of the prefix table, loaded again in the worker when `engine.table` is set. */
  tableCacheDir?: string | false;
}

const DEFAULT_MAX_AHEAD = 512 * 1024 * 1024;
/** The worker "keeps up" when it encodes this much faster than the expected rate... */
const KEEP_UP_MARGIN = 1.25;
/** ...measured over at least this many records buffered (about a second at the rate). */
const MIN_LEAD_SECONDS = 1;

/** While sending, the worker stays at most this many seconds of records ahead (or 4 MiB). */
const LEAD_SECONDS = 5;
const MIN_AHEAD_BYTES = 4 * 1024 * 1024;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const immediate = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Runs the engine into a file output (pcap / Frame Streams), as fast as possible. */
export async function runToFile(o: RunOptions): Promise<RunResult> {
  if (o.target.kind !== 'file') throw new TrafficWorkerError('runToFile needs a file target');
  const output = createOutput(o.target, o.engine.format);
  let records = 0;
  let messages = 0;
  let bytes = 0;
  let lastTime = o.engine.startMs;
  const engine = createTrafficEngine(o.engine, (m: ExportedMessage) => {
    records += m.records;
    messages++;
    bytes += m.bytes.length;
    lastTime = m.timeMs;
    output.write(m);
  });
  const exporters = [...engine.exporters];
  o.onReady?.({ exporters, truth: engine.truth });
  await output.open(exporters, () => {});
  const t0 = performance.now();
  let lastReport = t0;
  let lastRecords = 0;
  let reason: RunResult['reason'] = 'complete';
  const every = o.progressIntervalMs ?? 1000;
  try {
    for (;;) {
      if (o.signal?.aborted) {
        engine.finish();
        reason = 'aborted';
        break;
      }
      const more = engine.step();
      if (output.congested()) await output.drain();
      const now = performance.now();
      if (now - lastReport >= every) {
        o.onProgress?.({
          phase: 'writing',
          records,
          messages,
          recentRate: ((records - lastRecords) * 1000) / (now - lastReport),
          rate: (records * 1000) / (now - t0),
          eventTimeMs: lastTime,
          buffered: 0,
          elapsedMs: now - t0,
        });
        lastReport = now;
        lastRecords = records;
        await immediate();
      }
      if (!more) break;
    }
  } finally {
    await output.close();
  }
  const elapsedMs = performance.now() - t0;
  return {
    records,
    messages,
    bytes,
    elapsedMs,
    rate: elapsedMs > 0 ? (records * 1000) / elapsedMs : 0,
    preEncodeMs: 0,
    starved: 0,
    engine: engine.stats(),
    truth: [...engine.truth],
    exporters,
    output: { ...output.stats },
    reason,
  };
}

interface Queued {
  reader: BatchReader;
  size: number;
  records: number;
}

/** Spawns the worker thread (`worker-entry.mjs` registers tsx there, then loads worker.ts). */
function spawnWorker(input: WorkerInput): Worker {
  return new Worker(new URL('./worker-entry.mjs', import.meta.url), { workerData: input });
}

/** Runs the engine in a worker and sends its messages over UDP or TCP, paced by event time. */
export async function runLive(o: LiveOptions): Promise<RunResult> {
  if (o.target.kind === 'file') throw new TrafficWorkerError('runLive needs a udp:// or tcp:// target');
  const speed = o.engine.speed ?? 1;
  const maxAhead = o.maxAheadBytes ?? DEFAULT_MAX_AHEAD;
  const { observe: _observe, registry: _registry, table, ...engineData } = o.engine;
  const worker = spawnWorker({
    engine: engineData,
    maxAheadBytes: maxAhead,
    ...(table ? { tableCacheDir: o.tableCacheDir ?? DEFAULT_CACHE_DIR } : {}),
  });
  const queue: Queued[] = [];
  let queuedRecords = 0;
  let queuedBytes = 0;
  let producedRecords = 0;
  let workerDone = false;
  let engineStats: EngineStats | undefined;
  let failure: Error | undefined;
  // Set from worker callbacks; read through a function so that narrowing does not hide it.
  const failed = (): Error | undefined => failure;
  let notify: (() => void) | undefined;
  let ready: { exporters: ExporterConfig[]; truth: TruthLine[]; endMs: number } | undefined;
  const wakeUp = (): void => {
    const n = notify;
    notify = undefined;
    n?.();
  };
  const waitForWorker = (): Promise<void> => new Promise<void>((r) => (notify = r));
  worker.on('message', (msg: { type: string } & Record<string, unknown>) => {
    switch (msg.type) {
      case 'ready':
        ready = msg as unknown as typeof ready;
        break;
      case 'batch': {
        const size = msg.size as number;
        const records = msg.records as number;
        queue.push({ reader: new BatchReader(msg.buffer as ArrayBuffer, size), size, records });
        queuedRecords += records;
        queuedBytes += size;
        producedRecords += records;
        break;
      }
      case 'done':
        workerDone = true;
        engineStats = msg.stats as EngineStats;
        break;
      case 'error':
        failure = new TrafficWorkerError(String(msg.message));
        workerDone = true;
        break;
    }
    wakeUp();
  });
  worker.on('error', (err) => {
    failure = new TrafficWorkerError('generator worker failed', { cause: err });
    workerDone = true;
    wakeUp();
  });
  worker.on('exit', () => {
    workerDone = true;
    wakeUp();
  });
  const send = (m: ToWorker): void => worker.postMessage(m);

  let output: FleetOutput | undefined;
  try {
    while (!ready && !workerDone) await waitForWorker();
    if (failed()) throw failed()!;
    if (!ready) throw new TrafficWorkerError('generator worker exited before it was ready');
    const exporters = ready.exporters;
    o.onReady?.({ exporters, truth: ready.truth });
    output = createOutput(o.target, o.engine.format);
    await output.open(exporters, (i) => send({ type: 'reset', index: i }));

    // Pre-encoding: until the run is encoded, the buffer is full, or the worker keeps up.
    const p0 = performance.now();
    const expected = o.expectedRate ?? 0;
    let lastReport = p0;
    for (;;) {
      if (failed()) throw failed()!;
      if (workerDone || o.signal?.aborted) break;
      if (queuedBytes >= maxAhead * 0.9) break;
      const el = (performance.now() - p0) / 1000;
      const produced = el > 0 ? producedRecords / el : 0;
      if (
        queuedRecords >= expected * MIN_LEAD_SECONDS &&
        (expected === 0 || produced >= expected * KEEP_UP_MARGIN)
      )
        break;
      const now = performance.now();
      if (now - lastReport >= (o.progressIntervalMs ?? 1000)) {
        lastReport = now;
        o.onProgress?.({
          phase: 'pre-encoding',
          records: 0,
          messages: 0,
          recentRate: produced,
          rate: produced,
          eventTimeMs: o.engine.startMs,
          buffered: queuedRecords,
          elapsedMs: now - p0,
        });
      }
      await Promise.race([waitForWorker(), sleep(100)]);
    }
    const preEncodeMs = performance.now() - p0;
    // From now on the worker need not run further ahead than a few seconds of sending (or what
    // is already buffered): an endless slow run then does not encode hours of traffic in advance.
    if (!workerDone && expected > 0 && queuedRecords > 0) {
      const perRecord = queuedBytes / queuedRecords;
      const lead = Math.max(queuedBytes, MIN_AHEAD_BYTES, LEAD_SECONDS * expected * perRecord);
      send({ type: 'limit', bytes: Math.min(maxAhead, Math.ceil(lead)) });
    }

    // Sending, paced by export time.
    let records = 0;
    let messages = 0;
    let bytes = 0;
    let starved = 0;
    let lastEvent = o.engine.startMs;
    const t0 = performance.now();
    lastReport = t0;
    let lastRecords = 0;
    const every = o.progressIntervalMs ?? 1000;
    let reason: RunResult['reason'] = 'complete';
    for (;;) {
      if (failed()) throw failed()!;
      if (o.signal?.aborted) {
        reason = 'aborted';
        break;
      }
      const now = performance.now();
      const due = o.engine.startMs + (now - t0) * speed;
      let head = queue[0];
      while (head && !output.congested()) {
        if (head.reader.done) {
          queue.shift();
          queuedBytes -= head.size;
          send({ type: 'ack', bytes: head.size });
          head = queue[0];
          continue;
        }
        if (head.reader.peekTime() > due) break;
        const e = head.reader.next();
        const ex = exporters[e.exporterIndex]!;
        output.write({
          exporter: ex,
          exporterIndex: e.exporterIndex,
          bytes: e.bytes,
          timeMs: e.timeMs,
          records: e.records,
        });
        records += e.records;
        queuedRecords -= e.records;
        messages++;
        bytes += e.bytes.length;
        lastEvent = e.timeMs;
      }
      if (now - lastReport >= every) {
        o.onProgress?.({
          phase: 'sending',
          records,
          messages,
          recentRate: ((records - lastRecords) * 1000) / (now - lastReport),
          rate: (records * 1000) / (now - t0),
          eventTimeMs: lastEvent,
          buffered: queuedRecords,
          elapsedMs: now - t0,
        });
        lastReport = now;
        lastRecords = records;
      }
      if (output.congested()) {
        await output.drain();
        continue;
      }
      head = queue[0];
      if (!head) {
        if (workerDone) break;
        // Nothing encoded yet although time runs on: the worker is behind.
        if (ready.endMs > due) starved++;
        await waitForWorker();
        continue;
      }
      if (head.reader.done) continue;
      // The next message is not due yet. Sleep rather than spin on setImmediate: at 200 k/s a
      // message falls due about every 0.1 ms, and polling for each one kept this thread busy
      // (and allocating) the whole time, which takes the CPU the generator worker needs on a
      // two-core machine. Export times are whole milliseconds, so waking about once a
      // millisecond and sending what has fallen due does not change any second's count.
      const waitMs = (head.reader.peekTime() - due) / speed;
      await sleep(Math.min(50, Math.max(1, waitMs - 1)));
    }
    if (reason === 'aborted') send({ type: 'stop' });
    else if (!workerDone) send({ type: 'stop' });
    const elapsedMs = performance.now() - t0;
    // Wait briefly for the worker's final statistics.
    const deadline = performance.now() + 2000;
    while (!engineStats && !failure && performance.now() < deadline)
      await Promise.race([waitForWorker(), sleep(50)]);
    return {
      records,
      messages,
      bytes,
      elapsedMs,
      rate: elapsedMs > 0 ? (records * 1000) / elapsedMs : 0,
      preEncodeMs,
      starved,
      engine: engineStats ?? emptyEngineStats(lastEvent),
      truth: ready.truth,
      exporters,
      output: { ...output.stats },
      reason,
    };
  } finally {
    await output?.close();
    await worker.terminate();
  }
}

function emptyEngineStats(eventTimeMs: number): EngineStats {
  return {
    generated: 0,
    exported: 0,
    sampledOut: 0,
    otherKind: 0,
    unroutable: 0,
    unexportable: 0,
    messages: 0,
    bytes: 0,
    eventTimeMs,
    labels: {},
  };
}
