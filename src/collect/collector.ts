import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock } from '../common/clock.ts';
import { loadConfig } from '../common/config.ts';
import { LifecycleError } from '../common/errors.ts';
import { startAll, stopAll, type Lifecycle } from '../common/lifecycle.ts';
import type { Logger } from '../common/logging.ts';
import type { Counter, MetricsRegistry } from '../common/metrics.ts';
import {
  FlowBatch,
  type DecodedRecord,
  type DnsEvent,
  type RawDatagram,
  type RecordProtocol,
} from '../common/schema/index.ts';
import { CollectConfigSchema, type CollectConfig } from './config.ts';
import { createDecoderSession } from './decode/session.ts';
import type { BatchSink, DecodeEvent, DecoderSession, DecodeSink } from './decode/types.ts';
import { createDnstapListener, type DnstapCounters, type DnstapListener } from './input/dnstap.ts';
import { createIpfixFramer } from './input/framing.ts';
import { formatListenUrl, parseListenUrl, type ListenKind, type ListenSpec } from './input/listen-url.ts';
import { DatagramQueue } from './input/queue.ts';
import { createTcpListener, type TcpListener } from './input/tcp.ts';
import { createUdpListener, type UdpListener } from './input/udp.ts';
import { createCollectMetrics, LogLimiter, type CollectMetrics } from './metrics.ts';
import type { RecordOutput } from './output/ndjson.ts';

/**
 * The live collector: listeners -> bounded queue -> decoder session -> output. Sockets only
 * enqueue; the queue is drained in batches on the event loop; records go to an NDJSON writer, a
 * callback, or (with neither) only into counters, in which case flows are decoded into the
 * columnar hot-path batch and never become objects. Template state survives restarts through an
 * atomically replaced state file.
 *
 * sFlow (`sflow://`) uses the same UDP listener and queue; the session tells it apart by content.
 * dnstap listeners (`dnstap+unix:`, `dnstap+tcp://`) do not go through the queue: each connection
 * is a Frame Streams stream with its own handshake, which the dnstap input decodes frame by frame
 * into `DnsEvent`s (TCP flow control holds the resolver back while we are busy); those events go
 * to the same output, callback and counters as decoded records.
 */

/** What the collector needs from its surroundings. */
export interface CollectorDeps {
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
}

/**
 * Collector settings: the `collect` configuration section (durations in ms), where `listen` may
 * also hold already-parsed specs, plus where the records go.
 */
export interface CollectorConfig extends Omit<CollectConfig, 'listen'> {
  listen: readonly (string | ListenSpec)[];
  /** Receives every decoded record as NDJSON (or any `RecordOutput`); closed by `stop()`. */
  output?: RecordOutput;
  /** Called with every decoded record (after `output`). */
  onRecord?: (r: DecodedRecord) => void;
  /** Called with every decoder event (after counting). */
  onEvent?: (e: DecodeEvent) => void;
  /**
   * Hot-path consumer (the edge's selection): flows are decoded into the columnar batch and handed
   * over whole — when the batch is full, when the next message is of another protocol, and after
   * each drain turn — instead of becoming objects. Every row of one call has `protocol`. The
   * batch is reused after the call returns. Other records (options, sFlow counters, DNS events)
   * still go to `onRecord`.
   */
  onFlowBatch?: (batch: FlowBatch, protocol: RecordProtocol) => void;
  /** Messages decoded per event-loop turn (default `DEFAULT_DRAIN_BATCH`). */
  drainBatch?: number;
}

/**
 * Messages decoded per event-loop turn: enough to amortise the turn, few enough (a few ms of
 * work) that sockets are read again before their kernel buffers fill.
 */
export const DEFAULT_DRAIN_BATCH = 256;
/** Housekeeping period: template expiry, pending timeouts, silence alarms, output flush. */
export const TICK_INTERVAL_MS = 1000;
/**
 * Exporter addresses remembered for the `exporters` statistic. Spoofed UDP sources could
 * otherwise grow the set without bound; beyond the limit the figure stops growing.
 */
export const MAX_TRACKED_EXPORTERS = 65_536;

/**
 * Event-loop turns `stop()` waits for destroyed dnstap connections to report their close (they
 * take one or two); bounded so a misbehaving socket cannot hold the stop up.
 */
const MAX_CLOSE_TURNS = 20;

/** The `collect` defaults (schema defaults, durations in ms), for callers that set only a few keys. */
export function defaultCollectConfig(): CollectConfig {
  return loadConfig(CollectConfigSchema, { env: {} });
}

/** One bound listener. */
export interface BoundAddress {
  kind: ListenKind;
  /** The URL as configured. */
  configured: string;
  /** The URL with the real address and port (port 0 resolved). */
  url: string;
  address: string;
  port: number;
}

/** Counters of one collector, for status lines, summaries and tests. */
export interface CollectorStats {
  /** Messages received: UDP datagrams plus IPFIX messages framed off TCP (before any drop). */
  datagrams: number;
  /** Bytes received on all listeners. */
  bytes: number;
  /** Messages decoded. */
  decoded: number;
  /** Records decoded, all types (DNS events included). */
  records: number;
  flows: number;
  options: number;
  /** DNS events received from dnstap listeners (also counted in `records`). */
  dns: number;
  /** Messages dropped because the queue was full. */
  dropped: number;
  /** Records the exporters' sequence numbers say were lost upstream (or in the kernel). */
  sequenceLost: number;
  /** Distinct exporter addresses seen (capped at `MAX_TRACKED_EXPORTERS`). */
  exporters: number;
  queueDepth: number;
  tcpConnections: number;
  /** Open dnstap sender connections. */
  dnstapConnections: number;
  /** dnstap data frames received. */
  dnstapFrames: number;
  /** Decoder events by kind. */
  events: Record<string, number>;
}

/** A running (or runnable) collector. */
export interface Collector extends Lifecycle {
  /** The bound listeners; after `start()`. */
  addresses(): BoundAddress[];
  stats(): CollectorStats;
  /** The decoder session (for tests and for state inspection). */
  readonly session: DecoderSession;
  /** Saves the template state now (also done periodically and at stop). */
  saveState(): Promise<void>;
}

type Listener = UdpListener | TcpListener | DnstapListener;

/** One configured listener and, for dnstap, the counter values already copied into the metrics. */
interface ListenerEntry {
  spec: ListenSpec;
  listener: Listener;
  dnstap?: { listener: DnstapListener; synced: DnstapCounters };
}

/** Creates a collector. Parses its configuration but does no I/O until `start()`. */
export function createCollector(deps: CollectorDeps, config: CollectorConfig): Collector {
  const { clock, logger } = deps;
  const m: CollectMetrics = createCollectMetrics(deps.metrics);
  const specs: ListenSpec[] = config.listen.map((l) => (typeof l === 'string' ? parseListenUrl(l) : l));
  const session: DecoderSession = createDecoderSession(
    { clock, metrics: deps.metrics },
    {
      templateTimeoutMs: config.templateTimeout,
      pendingMaxSets: config.pendingMaxSets,
      pendingMaxAgeMs: config.pendingMaxAge,
      silenceAlarmMs: config.silenceAlarm,
      samplingOverrides: config.samplingOverrides,
    },
  );
  const output = config.output;
  const onRecord = config.onRecord;
  const onEvent = config.onEvent;
  const onFlowBatch = config.onFlowBatch;
  /**
   * Without an output or a record callback no record object is needed: decode to the columnar
   * batch (only counted, or handed to `onFlowBatch`).
   */
  const hotPath = output === undefined && (onRecord === undefined || onFlowBatch !== undefined);

  const exporters = new Set<string>();
  const recordCounters = new Map<string, Counter>();
  const eventCounters = new Map<string, Counter>();
  const eventCounts: Record<string, number> = {};
  const warnLimit = new LogLimiter(() => clock.monotonic());
  let records = 0;
  let flows = 0;
  let options = 0;
  let dns = 0;
  let sequenceLost = 0;
  let decoded = 0;

  function countRecord(type: string, n: number): void {
    let c = recordCounters.get(type);
    if (!c) {
      c = m.records.labels({ type });
      recordCounters.set(type, c);
    }
    c.inc(n);
    records += n;
    if (type === 'flow') flows += n;
    else if (type === 'options') options += n;
    else if (type === 'dns') dns += n;
  }

  const sink: DecodeSink = {
    record(r: DecodedRecord): void {
      countRecord(r.recordType, 1);
      if (output) {
        output.write(r);
      }
      onRecord?.(r);
    },
    event(e: DecodeEvent): void {
      let c = eventCounters.get(e.kind);
      if (!c) {
        c = m.events.labels({ kind: e.kind });
        eventCounters.set(e.kind, c);
      }
      c.inc();
      eventCounts[e.kind] = (eventCounts[e.kind] ?? 0) + 1;
      switch (e.kind) {
        case 'sequence-gap':
          sequenceLost += e.lost;
          m.sequenceLost.inc(e.lost);
          break;
        case 'malformed':
        case 'unsupported-version':
        case 'exporter-silent':
        case 'pending-dropped':
          if (warnLimit.allow())
            logger.warn({ ...e, suppressed: warnLimit.takeSuppressed() }, `decoder: ${e.kind}`);
          break;
        case 'exporter-restart':
          logger.info(
            { exporter: e.exporter, observationDomainId: e.observationDomainId },
            'exporter restarted',
          );
          break;
        default:
          logger.debug(e, `decoder: ${e.kind}`);
      }
      onEvent?.(e);
    },
  };

  const batch = new FlowBatch();
  /** Protocol of the rows in `batch` (for `onFlowBatch`). */
  let batchProtocol: RecordProtocol = 'ipfix';
  let flushScheduled = false;
  const batchSink: BatchSink = {
    batch,
    flush(): void {
      if (batch.length === 0) return;
      countRecord('flow', batch.length);
      if (onFlowBatch) {
        try {
          onFlowBatch(batch, batchProtocol);
        } catch (err) {
          if (warnLimit.allow()) logger.error({ err }, 'flow batch handler failed');
        }
      }
      batch.clear();
    },
  };
  /** Runs after the drain turn that left rows in the batch (a turn is itself a setImmediate). */
  const flushPending = (): void => {
    flushScheduled = false;
    batchSink.flush();
  };

  function handle(d: RawDatagram): void {
    decoded++;
    if (exporters.size < MAX_TRACKED_EXPORTERS) exporters.add(d.exporter.address);
    if (hotPath) {
      if (onFlowBatch) {
        const p = datagramProtocol(d.bytes);
        if (p !== batchProtocol) {
          batchSink.flush();
          batchProtocol = p;
        }
        session.decodeToBatch(d, batchSink, sink);
        if (batch.length > 0 && !flushScheduled) {
          flushScheduled = true;
          setImmediate(flushPending);
        }
        return;
      }
      session.decodeToBatch(d, batchSink, sink);
      if (batch.length > 0) batchSink.flush();
    } else {
      session.decode(d, sink);
    }
  }

  const queue = new DatagramQueue(
    m,
    { capacity: config.queueCapacity, batchSize: config.drainBatch ?? DEFAULT_DRAIN_BATCH },
    handle,
    (err) => {
      if (warnLimit.allow()) logger.error({ err }, 'record handler failed');
    },
  );
  if (output) {
    let waitingForDrain = false;
    queue.holdWhile(() => {
      if (!output.backpressured) return true;
      m.outputBackpressure.inc();
      if (!waitingForDrain) {
        waitingForDrain = true;
        output.onDrain(() => {
          waitingForDrain = false;
          queue.resume();
        });
      }
      return false;
    });
  }

  /**
   * A DNS event from a dnstap listener: counted and written like a decoded record. It is handled
   * in the socket's data callback, as the dnstap input delivers it; the writer buffers, and the
   * resolver's TCP stream is what slows down if we fall behind.
   */
  function dnsEvent(e: DnsEvent): void {
    if (exporters.size < MAX_TRACKED_EXPORTERS) exporters.add(e.observation.exporter);
    sink.record(e);
  }

  function dnstapEntry(spec: ListenSpec & { kind: 'dnstap+unix' | 'dnstap+tcp' }): ListenerEntry {
    const listener = createDnstapListener(
      spec.kind === 'dnstap+unix'
        ? { kind: 'unix', path: spec.path }
        : { kind: 'tcp', host: spec.host, port: spec.port },
      { logger, onEvent: dnsEvent, onDecodeEvent: (e) => sink.event?.(e) },
    );
    return { spec, listener, dnstap: { listener, synced: { ...listener.counters } } };
  }

  const listeners: ListenerEntry[] = specs.map((spec): ListenerEntry => {
    switch (spec.kind) {
      case 'udp':
      case 'sflow':
        return {
          spec,
          // sFlow datagrams take the same path as NetFlow/IPFIX: the session dispatches by content.
          listener: createUdpListener(
            { clock, logger, metrics: m },
            spec.kind === 'sflow' ? { ...spec, kind: 'udp' } : spec,
            (d) => queue.push(d),
            {
              recvBufferSize: config.recvBufferBytes,
              reader: config.udpReader,
              ringBytes: config.udpRingBytes,
              room: queue,
            },
          ),
        };
      case 'tcp':
        return {
          spec,
          listener: createTcpListener({ clock, logger, metrics: m }, spec, queue, {
            maxConnections: config.tcpMaxConnections,
            idleTimeoutMs: config.tcpIdleTimeout,
            createFramer: () => createIpfixFramer(),
          }),
        };
      case 'dnstap+unix':
      case 'dnstap+tcp':
        return dnstapEntry(spec);
      default: {
        const never: never = spec;
        throw new LifecycleError(`unsupported listener ${String(never)}`);
      }
    }
  });

  const dnstapEntries = listeners.flatMap((l) => (l.dnstap ? [l.dnstap] : []));

  /**
   * Copies what the dnstap listeners counted since the last call into the registry's counters
   * (the listeners keep plain counters of their own); done on every tick, on `stats()` and at stop.
   */
  function syncDnstapMetrics(): void {
    let open = 0;
    for (const d of dnstapEntries) {
      const c = d.listener.counters;
      const s = d.synced;
      m.dnstapAccepted.inc(c.connectionsAccepted - s.connectionsAccepted);
      m.dnstapRejected.inc(c.connectionsRejected - s.connectionsRejected);
      m.dnstapClosed.inc(c.connectionsClosed - s.connectionsClosed);
      m.dnstapCorrupt.inc(c.connectionsCorrupt - s.connectionsCorrupt);
      m.dnstapTimedOut.inc(c.connectionsTimedOut - s.connectionsTimedOut);
      m.dnstapBytes.inc(c.bytes - s.bytes);
      m.dnstapFrames.inc(c.frames - s.frames);
      m.dnstapEvents.inc(c.events - s.events);
      m.dnstapMalformed.inc(c.malformed - s.malformed);
      Object.assign(s, c);
      open += d.listener.connections;
    }
    m.dnstapConnections.set(open);
  }

  const stateFile = config.stateFile === '' ? undefined : config.stateFile;
  let state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  let tickTimer: NodeJS.Timeout | undefined;
  let saveTimer: NodeJS.Timeout | undefined;
  let saving: Promise<void> | undefined;
  let outputFailed = false;

  async function loadState(file: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        logger.info({ stateFile: file }, 'no template state yet');
        return;
      }
      m.stateErrors.inc();
      logger.warn(
        { stateFile: file, err: (err as Error).message },
        'cannot read template state; starting empty',
      );
      return;
    }
    try {
      session.importState(JSON.parse(text) as unknown);
      logger.info({ stateFile: file }, 'template state loaded');
    } catch (err) {
      // A damaged state file must not stop collection: data simply waits for the next template.
      m.stateErrors.inc();
      logger.warn({ stateFile: file, err: (err as Error).message }, 'invalid template state; starting empty');
    }
  }

  /** Writes the state to a temporary file (mode 0600), syncs it, then renames it over the old one. */
  async function writeState(file: string): Promise<void> {
    const text = JSON.stringify(session.exportState());
    const tmp = `${file}.${process.pid}.tmp`;
    await mkdir(dirname(file), { recursive: true });
    await rm(tmp, { force: true });
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    m.stateSaved.inc();
  }

  async function saveState(): Promise<void> {
    if (!stateFile) return;
    if (saving) return saving;
    saving = writeState(stateFile)
      .catch((err: unknown) => {
        m.stateErrors.inc();
        logger.warn({ stateFile, err: (err as Error).message }, 'cannot save template state');
      })
      .finally(() => {
        saving = undefined;
      });
    return saving;
  }

  function tick(): void {
    session.tick(clock.now(), sink);
    syncDnstapMetrics();
    if (output && !outputFailed) {
      output.flush().catch((err: unknown) => {
        outputFailed = true;
        logger.error({ err: (err as Error).message }, 'output failed; records are no longer written');
      });
    }
  }

  function boundAddresses(): BoundAddress[] {
    return listeners.map(({ spec, listener, dnstap }) => {
      // A dnstap listener reports a socket path or `host:port`; the others an address object.
      const a = dnstap
        ? spec.kind === 'dnstap+unix'
          ? { address: spec.path, port: 0 }
          : { address: bareHost(dnstap.listener.address()), port: dnstap.listener.port() }
        : (listener as UdpListener | TcpListener).address();
      return {
        kind: spec.kind,
        configured: spec.url,
        url: formatListenUrl(spec.kind, a.address, a.port),
        address: a.address,
        port: a.port,
      };
    });
  }

  return {
    session,

    async start(): Promise<void> {
      if (state !== 'new') throw new LifecycleError('collector already started');
      state = 'running';
      if (stateFile) await loadState(stateFile);
      try {
        await startAll(listeners.map((l) => l.listener));
      } catch (err) {
        state = 'stopped';
        throw err;
      }
      tickTimer = setInterval(tick, TICK_INTERVAL_MS);
      if (stateFile) saveTimer = setInterval(() => void saveState(), config.stateSaveInterval);
      logger.info({ listen: boundAddresses().map((a) => a.url) }, 'collecting');
    },

    async stop(): Promise<void> {
      if (state !== 'running') return;
      state = 'stopping';
      clearInterval(tickTimer);
      clearInterval(saveTimer);
      let failure: Error | undefined;
      const asError = (err: unknown): Error => (err instanceof Error ? err : new LifecycleError(String(err)));
      try {
        await stopAll(listeners.map((l) => l.listener));
      } catch (err) {
        failure = asError(err);
      }
      // Everything already received is decoded and written before the output closes.
      queue.drainAll();
      queue.close();
      batchSink.flush();
      // Destroyed dnstap connections report their 'close' an event-loop turn or two after the
      // server has closed; wait (boundedly) so the final counters include them.
      for (
        let turn = 0;
        turn < MAX_CLOSE_TURNS && dnstapEntries.some((d) => d.listener.connections > 0);
        turn++
      )
        await new Promise<void>((r) => setTimeout(r, 0));
      syncDnstapMetrics();
      if (output) {
        try {
          await output.close();
        } catch (err) {
          failure ??= asError(err);
        }
      }
      if (saving) await saving;
      await saveState();
      state = 'stopped';
      if (failure !== undefined) throw failure;
    },

    addresses(): BoundAddress[] {
      if (state === 'new') throw new LifecycleError('collector is not started');
      return boundAddresses();
    },

    stats(): CollectorStats {
      syncDnstapMetrics();
      return {
        datagrams: m.udpDatagrams.value + m.tcpMessages.value,
        bytes: m.udpBytes.value + m.tcpBytes.value + m.dnstapBytes.value,
        decoded,
        records,
        flows,
        options,
        dns,
        dropped: m.queueDropped.value,
        sequenceLost,
        exporters: exporters.size,
        queueDepth: queue.depth,
        tcpConnections: listeners.reduce(
          (n, l) => n + (l.spec.kind === 'tcp' ? (l.listener as TcpListener).connections() : 0),
          0,
        ),
        dnstapConnections: m.dnstapConnections.get(),
        dnstapFrames: m.dnstapFrames.value,
        events: { ...eventCounts },
      };
    },

    saveState,
  };
}

/** `host:port` or `[v6]:port` as the dnstap listener reports it -> the bare host. */
function bareHost(hostPort: string): string {
  const colon = hostPort.lastIndexOf(':');
  const host = colon < 0 ? hostPort : hostPort.slice(0, colon);
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * The export protocol of a message, from its first bytes: NetFlow v5/v9 and IPFIX start with a
 * 16-bit version (5, 9, 10); sFlow v5 with a 32-bit version 5 (so its first 16 bits are 0).
 */
function datagramProtocol(b: Uint8Array): RecordProtocol {
  const v = b.length >= 2 ? (b[0]! << 8) | b[1]! : -1;
  if (v === 10) return 'ipfix';
  if (v === 9) return 'netflow9';
  if (v === 5) return 'netflow5';
  return 'sflow5';
}
