/**
 * The in-process bus of the embedded deployment and of tests: the same subjects, encoding,
 * acknowledgement, redelivery and duplicate-window semantics as JetStream (stream.ts), without a
 * server. Nothing survives the process, which is fine where edges and centre share that process.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { systemClock, type Clock } from '../../common/clock.ts';
import { silentLogger, type Logger } from '../../common/logging.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import {
  ALL_PROVIDERS,
  checkPartition,
  checkProviderId,
  checkToken,
  Subjects,
  type BatchHandler,
  type Bus,
  type ControlHandler,
  type ControlMessage,
  type EncodedBatch,
  type OutgoingBatch,
  type PublishAck,
  type StatsHandler,
  type StatsMessage,
  type SubscribeOptions,
  type Subscription,
} from '../bus.ts';
import { encodeBatch } from '../codec.ts';
import { DEFAULT_DEDUP, RecordDeduper, type DedupOptions } from '../dedup.ts';
import { controlTarget, deliverBatch, deliverControl, deliverStats, type Outcome } from '../deliver.ts';
import { encodeControl, encodeStats } from '../envelope.ts';
import { BusPublishError, BusUnavailableError } from '../errors.ts';
import { busMetrics, type BusMetrics } from '../metrics.ts';
import { MemoryStream, type Delivery, type MemoryConsumer } from './stream.ts';

/** Options of the memory bus. */
export interface MemoryBusOptions {
  /** Subject prefix (default `acd`). */
  subjectPrefix?: string;
  /** Batch ids remembered for duplicate detection (default 1 h, as the JetStream default here). */
  duplicateWindowMs?: number;
  /** Bytes the data stream holds before publishes fail and edges spool (default 256 MiB). */
  maxBytes?: number;
  /** Delay before a failed delivery is redelivered (default 1 s). */
  redeliveryDelayMs?: number;
  /** Record-id de-duplication bounds of data subscriptions. */
  dedup?: DedupOptions;
}

/** Dependencies shared by both bus implementations. */
export interface BusDeps {
  clock?: Clock;
  metrics?: MetricsRegistry;
  logger?: Logger;
}

/** Deliveries processed before yielding to the event loop, so publishers are not starved. */
const YIELD_EVERY = 64;

class MemoryBus implements Bus {
  readonly kind = 'memory';
  readonly subjects: Subjects;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly m: BusMetrics;
  private readonly data: MemoryStream;
  private readonly control: MemoryStream;
  private readonly stats: MemoryStream;
  private readonly subs = new Set<Subscription>();
  private running = false;
  private readonly redeliveryDelayMs: number;
  private readonly dedupOptions: DedupOptions;

  constructor(deps: BusDeps, options: MemoryBusOptions) {
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger;
    this.m = busMetrics(deps.metrics ?? new MetricsRegistry(), 'memory');
    this.subjects = new Subjects(options.subjectPrefix ?? 'acd');
    this.redeliveryDelayMs = options.redeliveryDelayMs ?? 1000;
    this.dedupOptions = options.dedup ?? DEFAULT_DEDUP;
    const window = options.duplicateWindowMs ?? 3_600_000;
    const s = this.subjects;
    this.data = new MemoryStream(
      'data',
      {
        subjects: [s.dataFilter()],
        duplicateWindowMs: window,
        maxBytes: options.maxBytes ?? 256 * 1024 * 1024,
        retention: 'interest',
        discard: 'new',
      },
      this.clock,
    );
    this.control = new MemoryStream(
      'control',
      {
        subjects: [s.controlAll()],
        duplicateWindowMs: window,
        maxBytes: 64 * 1024 * 1024,
        retention: 'limits',
        discard: 'old',
      },
      this.clock,
    );
    this.stats = new MemoryStream(
      'stats',
      {
        subjects: [s.statsAll()],
        duplicateWindowMs: window,
        maxBytes: 64 * 1024 * 1024,
        retention: 'limits',
        discard: 'old',
      },
      this.clock,
    );
  }

  start(): Promise<void> {
    // After a stop, messages that were pending (their redelivery timers cancelled) become ready.
    for (const st of [this.data, this.control, this.stats])
      for (const c of st.consumers.values()) c.requeueAll();
    this.running = true;
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await Promise.all([...this.subs].map((s) => s.stop()));
    this.data.close();
    this.control.close();
    this.stats.close();
  }

  private check(): void {
    if (!this.running) throw new BusUnavailableError('memory bus not started');
  }

  publishBatch(providerId: string, partition: number, batch: OutgoingBatch): Promise<PublishAck> {
    checkProviderId(providerId);
    checkPartition(partition);
    return this.publishEncoded(
      encodeBatch(providerId, partition, batch.batchId, batch.records, this.clock.now()),
    );
  }

  publishEncoded(batch: EncodedBatch): Promise<PublishAck> {
    try {
      this.check();
      checkProviderId(batch.providerId);
      checkPartition(batch.partition);
      const ack = this.data.publish(
        this.subjects.data(batch.providerId, batch.partition),
        batch.bytes,
        batch.batchId,
      );
      this.m.batchesPublished.inc();
      if (ack.duplicate) this.m.publishDuplicates.inc();
      else this.m.recordsPublished.inc(batch.recordCount);
      return Promise.resolve(ack);
    } catch (err) {
      this.m.publishErrors.inc();
      return Promise.reject(
        err instanceof BusPublishError || err instanceof BusUnavailableError
          ? err
          : new BusPublishError('publish failed', { cause: err }),
      );
    }
  }

  subscribe(
    consumerName: string,
    handler: BatchHandler,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    this.check();
    checkToken('consumer name', consumerName);
    if (options.partition !== undefined) checkPartition(options.partition);
    const dedup =
      options.dedup === false
        ? undefined
        : options.dedup === true || options.dedup === undefined
          ? new RecordDeduper(this.dedupOptions)
          : options.dedup;
    const consumer = this.data.consumer(consumerName, this.subjects.dataFilter(options.partition));
    return Promise.resolve(
      this.pump(consumer, (d) =>
        deliverBatch(d.msg.data, d.deliveryCount, handler, dedup, this.m, this.logger),
      ),
    );
  }

  publishControl(target: string, message: ControlMessage): Promise<void> {
    this.check();
    if (target !== ALL_PROVIDERS) checkProviderId(target);
    this.control.publish(this.subjects.control(target), encodeControl(message), message.messageId);
    this.m.controlPublished.inc();
    return Promise.resolve();
  }

  async subscribeControl(providerId: string, handler: ControlHandler): Promise<Subscription> {
    this.check();
    checkProviderId(providerId);
    const onMsg = (d: Delivery): Promise<Outcome> =>
      deliverControl(d.msg.data, controlTarget(d.msg.subject), d.deliveryCount, handler, this.m, this.logger);
    const own = this.pump(
      this.control.consumer(`ctl-${providerId}`, this.subjects.control(providerId)),
      onMsg,
    );
    const all = this.pump(
      this.control.consumer(`ctl-${providerId}-all`, this.subjects.control(ALL_PROVIDERS)),
      onMsg,
    );
    return Promise.resolve({
      stop: async () => {
        await Promise.all([own.stop(), all.stop()]);
      },
    });
  }

  publishControlAnswer(providerId: string, message: ControlMessage): Promise<void> {
    this.check();
    checkProviderId(providerId);
    this.control.publish(this.subjects.controlAnswer(providerId), encodeControl(message), message.messageId);
    this.m.controlPublished.inc();
    return Promise.resolve();
  }

  subscribeControlAnswers(consumerName: string, handler: ControlHandler): Promise<Subscription> {
    this.check();
    checkToken('consumer name', consumerName);
    const c = this.control.consumer(consumerName, this.subjects.controlAnswerFilter());
    return Promise.resolve(
      this.pump(c, (d) =>
        deliverControl(
          d.msg.data,
          controlTarget(d.msg.subject),
          d.deliveryCount,
          handler,
          this.m,
          this.logger,
        ),
      ),
    );
  }

  publishStats(providerId: string, message: StatsMessage): Promise<void> {
    this.check();
    checkProviderId(providerId);
    this.stats.publish(this.subjects.stats(providerId), encodeStats(message));
    this.m.statsPublished.inc();
    return Promise.resolve();
  }

  subscribeStats(consumerName: string, handler: StatsHandler): Promise<Subscription> {
    this.check();
    checkToken('consumer name', consumerName);
    const c = this.stats.consumer(consumerName, this.subjects.statsAll());
    return Promise.resolve(
      this.pump(c, (d) => deliverStats(d.msg.data, d.deliveryCount, handler, this.m, this.logger)),
    );
  }

  /**
   * One subscriber loop: takes the consumer's next message, runs it, acknowledges per outcome.
   * Stopping lets the current handler finish (and acknowledges it); messages never taken stay
   * with the durable consumer for the next subscriber.
   */
  private pump(consumer: MemoryConsumer, onMsg: (d: Delivery) => Promise<Outcome>): Subscription {
    let stopped = false;
    const loop = async (): Promise<void> => {
      let n = 0;
      while (!stopped) {
        const d = consumer.take();
        if (!d) {
          await consumer.wait();
          continue;
        }
        let outcome: Outcome;
        try {
          outcome = await onMsg(d);
        } catch (err) {
          // deliver* never throw; this is a safety net that keeps the loop alive.
          this.logger.error({ err }, 'bus: delivery failed unexpectedly');
          outcome = 'nak';
        }
        if (outcome === 'ack') consumer.ack(d.msg.seq);
        else if (outcome === 'term') consumer.term(d.msg.seq);
        else consumer.nak(d.msg.seq, this.redeliveryDelayMs);
        if (++n % YIELD_EVERY === 0) await yieldToLoop();
      }
    };
    const done = loop();
    const sub: Subscription = {
      stop: async () => {
        if (stopped) return done;
        stopped = true;
        consumer.wake();
        await done;
        this.subs.delete(sub);
      },
    };
    this.subs.add(sub);
    return sub;
  }
}

/** Creates the in-process bus (constructor does no I/O; call `start()`). */
export function createMemoryBus(deps: BusDeps = {}, options: MemoryBusOptions = {}): Bus {
  return new MemoryBus(deps, options);
}
