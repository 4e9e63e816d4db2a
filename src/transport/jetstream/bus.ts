/**
 * The distributed bus on NATS JetStream (`@nats-io/transport-node` + `@nats-io/jetstream` 3.x,
 * server 2.9 or later). Three streams bind the three subject families (data, control, statistics);
 * the data stream's duplicate window drops replayed batch ids (`Nats-Msg-Id` = batchId); consumers
 * are durable pull consumers with explicit acknowledgement, consumed in batches (`prefetch`).
 * Reconnection is the client's: it retries for ever; publishes that fail meanwhile are rejected and
 * stay in the edge's spool; consumers resume when the connection is back.
 *
 * Security (README.md, "NATS security"): TLS with a CA file, and per-provider users (password or
 * nkey) whose permissions allow publishing only on that provider's subjects; such an edge runs
 * with `manageStreams: false` and an `inboxPrefix` of its own.
 */
import {
  jetstream,
  jetstreamManager,
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import type {
  ConsumerConfig,
  JetStreamClient,
  JetStreamManager,
  JsMsg,
  StreamConfig,
} from '@nats-io/jetstream';
import {
  connect,
  nanos,
  nkeyAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
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
import type { BusDeps } from '../memory/bus.ts';
import { busMetrics, type BusMetrics } from '../metrics.ts';

/** Stream names of one bus (configurable so tests and several deployments share a server). */
export interface StreamNames {
  data: string;
  control: string;
  stats: string;
}

/** Options of the JetStream bus. */
export interface JetStreamBusOptions {
  /** Server URLs, e.g. `nats://127.0.0.1:4222` or `tls://nats.centre.example:4222`. */
  servers: string | string[];
  /** Subject prefix (default `acd`). */
  subjectPrefix?: string;
  /** Stream names (default `ACD_SEL`, `ACD_CTL`, `ACD_STAT`). */
  streams?: Partial<StreamNames>;
  /**
   * Create the streams when absent (default true). Edges with per-provider credentials set it to
   * false: the centre (an operator user) creates the streams.
   */
  manageStreams?: boolean;
  /** JetStream duplicate window of the data stream (default 1 h). */
  duplicateWindowMs?: number;
  /** Maximum age of data messages (default 7 days): the bus is a buffer, not the store. */
  maxAgeMs?: number;
  /** Bytes the data stream holds (default unlimited, -1); when full, publishes fail and edges spool. */
  maxBytes?: number;
  /** Stream replicas (1 on a single server, 3 on a cluster). */
  replicas?: number;
  /** How long a publish waits for the stream's acknowledgement (default 5 s). */
  publishTimeoutMs?: number;
  /** How long the server waits for an acknowledgement before redelivering (default 30 s). */
  ackWaitMs?: number;
  /** Delay before a negatively acknowledged (failed) delivery is redelivered (default 1 s). */
  redeliveryDelayMs?: number;
  /** Messages pulled per request by a consumer (default 64 batches). */
  prefetch?: number;
  /** Record-id de-duplication bounds. */
  dedup?: DedupOptions;
  /** TLS: CA to verify the server, and a client certificate when the server requires one. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** User and password (per provider). */
  user?: string;
  pass?: string;
  /** nkey seed (`SU…`) instead of a password. */
  nkeySeed?: string;
  /** Inbox prefix; a provider may only subscribe to its own inboxes (e.g. `_INBOX_prov-a`). */
  inboxPrefix?: string;
  /** Connection name shown by the server's monitoring. */
  name?: string;
  /** Wait between reconnection attempts (default 1 s). */
  reconnectWaitMs?: number;
}

/** Default stream names. */
export const DEFAULT_STREAMS: StreamNames = { data: 'ACD_SEL', control: 'ACD_CTL', stats: 'ACD_STAT' };

class JetStreamBus implements Bus {
  readonly kind = 'jetstream';
  readonly subjects: Subjects;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly m: BusMetrics;
  private readonly streams: StreamNames;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private jsm: JetStreamManager | undefined;
  private readonly subs = new Set<Subscription>();
  private statusLoop: Promise<void> | undefined;

  constructor(
    deps: BusDeps,
    private readonly o: JetStreamBusOptions,
  ) {
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger;
    this.m = busMetrics(deps.metrics ?? new MetricsRegistry(), 'jetstream');
    this.subjects = new Subjects(o.subjectPrefix ?? 'acd');
    this.streams = { ...DEFAULT_STREAMS, ...o.streams };
  }

  async start(): Promise<void> {
    if (this.nc) return;
    const opts: NodeConnectionOptions = {
      servers: this.o.servers,
      maxReconnectAttempts: -1,
      reconnectTimeWait: this.o.reconnectWaitMs ?? 1000,
      ...(this.o.name !== undefined ? { name: this.o.name } : {}),
      ...(this.o.inboxPrefix !== undefined ? { inboxPrefix: this.o.inboxPrefix } : {}),
      ...(this.o.user !== undefined ? { user: this.o.user, pass: this.o.pass ?? '' } : {}),
      ...(this.o.nkeySeed !== undefined
        ? { authenticator: nkeyAuthenticator(new TextEncoder().encode(this.o.nkeySeed)) }
        : {}),
      ...(this.o.tls ? { tls: { ...this.o.tls } } : {}),
    };
    let nc: NatsConnection;
    try {
      nc = await connect(opts);
    } catch (err) {
      throw new BusUnavailableError(`cannot connect to ${String(this.o.servers)}`, { cause: err });
    }
    this.nc = nc;
    this.js = jetstream(nc, { timeout: this.o.publishTimeoutMs ?? 5000 });
    this.statusLoop = (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') {
          this.m.disconnects.inc();
          this.logger.warn({ server: s.server }, 'bus: disconnected from nats');
        } else if (s.type === 'reconnect') {
          this.m.reconnects.inc();
          this.logger.info({ server: s.server }, 'bus: reconnected to nats');
        }
      }
    })().catch(() => undefined);
    try {
      this.jsm = await jetstreamManager(nc, { checkAPI: false });
      if (this.o.manageStreams ?? true) await this.ensureStreams();
    } catch (err) {
      await this.stop();
      throw err instanceof BusUnavailableError
        ? err
        : new BusUnavailableError('jetstream setup failed', { cause: err });
    }
  }

  private async ensureStreams(): Promise<void> {
    const s = this.subjects;
    const window = nanos(this.o.duplicateWindowMs ?? 3_600_000);
    await this.ensureStream({
      name: this.streams.data,
      subjects: [s.dataFilter()],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.New,
      max_age: nanos(this.o.maxAgeMs ?? 7 * 86_400_000),
      max_bytes: this.o.maxBytes ?? -1,
      duplicate_window: window,
      num_replicas: this.o.replicas ?? 1,
    });
    // Control and statistics are small; old ones are dropped first when a limit is reached.
    await this.ensureStream({
      name: this.streams.control,
      subjects: [s.controlAll()],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(30 * 86_400_000),
      duplicate_window: window,
      num_replicas: this.o.replicas ?? 1,
    });
    await this.ensureStream({
      name: this.streams.stats,
      subjects: [s.statsAll()],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(7 * 86_400_000),
      num_replicas: this.o.replicas ?? 1,
    });
  }

  private async ensureStream(cfg: Partial<StreamConfig> & { name: string }): Promise<void> {
    const jsm = this.jsm!;
    try {
      await jsm.streams.info(cfg.name);
      return;
    } catch {
      // Absent (or not visible): try to create it; a real problem surfaces from add().
    }
    try {
      await jsm.streams.add(cfg);
    } catch (err) {
      throw new BusUnavailableError(`cannot create stream ${cfg.name}`, { cause: err });
    }
  }

  async stop(): Promise<void> {
    const nc = this.nc;
    if (!nc) return;
    await Promise.all([...this.subs].map((s) => s.stop()));
    this.nc = undefined;
    this.js = undefined;
    this.jsm = undefined;
    try {
      await nc.drain();
    } catch {
      await nc.close().catch(() => undefined);
    }
    await this.statusLoop;
  }

  private client(): JetStreamClient {
    if (!this.js) throw new BusUnavailableError('jetstream bus not started');
    return this.js;
  }

  publishBatch(providerId: string, partition: number, batch: OutgoingBatch): Promise<PublishAck> {
    checkProviderId(providerId);
    checkPartition(partition);
    return this.publishEncoded(
      encodeBatch(providerId, partition, batch.batchId, batch.records, this.clock.now()),
    );
  }

  async publishEncoded(batch: EncodedBatch): Promise<PublishAck> {
    checkProviderId(batch.providerId);
    checkPartition(batch.partition);
    try {
      const ack = await this.client().publish(
        this.subjects.data(batch.providerId, batch.partition),
        batch.bytes,
        {
          msgID: batch.batchId,
          timeout: this.o.publishTimeoutMs ?? 5000,
        },
      );
      this.m.batchesPublished.inc();
      if (ack.duplicate) this.m.publishDuplicates.inc();
      else this.m.recordsPublished.inc(batch.recordCount);
      return { duplicate: ack.duplicate, sequence: ack.seq };
    } catch (err) {
      this.m.publishErrors.inc();
      if (err instanceof BusUnavailableError) throw err;
      throw new BusPublishError(`publish of ${batch.batchId} failed`, { cause: err });
    }
  }

  private async publishJson(subject: string, bytes: Uint8Array, msgId?: string): Promise<void> {
    try {
      await this.client().publish(subject, bytes, {
        ...(msgId !== undefined ? { msgID: msgId } : {}),
        timeout: this.o.publishTimeoutMs ?? 5000,
      });
    } catch (err) {
      if (err instanceof BusUnavailableError) throw err;
      throw new BusPublishError(`publish on ${subject} failed`, { cause: err });
    }
  }

  async subscribe(
    consumerName: string,
    handler: BatchHandler,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    checkToken('consumer name', consumerName);
    if (options.partition !== undefined) checkPartition(options.partition);
    const dedup =
      options.dedup === false
        ? undefined
        : options.dedup === true || options.dedup === undefined
          ? new RecordDeduper(this.o.dedup ?? DEFAULT_DEDUP)
          : options.dedup;
    return this.consume(this.streams.data, consumerName, this.subjects.dataFilter(options.partition), (msg) =>
      deliverBatch(msg.data, msg.info.deliveryCount, handler, dedup, this.m, this.logger),
    );
  }

  async publishControl(target: string, message: ControlMessage): Promise<void> {
    if (target !== ALL_PROVIDERS) checkProviderId(target);
    await this.publishJson(this.subjects.control(target), encodeControl(message), message.messageId);
    this.m.controlPublished.inc();
  }

  async subscribeControl(providerId: string, handler: ControlHandler): Promise<Subscription> {
    checkProviderId(providerId);
    const onMsg = (msg: JsMsg): Promise<Outcome> =>
      deliverControl(
        msg.data,
        controlTarget(msg.subject),
        msg.info.deliveryCount,
        handler,
        this.m,
        this.logger,
      );
    const own = await this.consume(
      this.streams.control,
      `ctl-${providerId}`,
      this.subjects.control(providerId),
      onMsg,
    );
    const all = await this.consume(
      this.streams.control,
      `ctl-${providerId}-all`,
      this.subjects.control(ALL_PROVIDERS),
      onMsg,
    ).catch(async (err: unknown) => {
      await own.stop();
      throw err;
    });
    return {
      stop: async () => {
        await Promise.all([own.stop(), all.stop()]);
      },
    };
  }

  async publishControlAnswer(providerId: string, message: ControlMessage): Promise<void> {
    checkProviderId(providerId);
    await this.publishJson(
      this.subjects.controlAnswer(providerId),
      encodeControl(message),
      message.messageId,
    );
    this.m.controlPublished.inc();
  }

  subscribeControlAnswers(consumerName: string, handler: ControlHandler): Promise<Subscription> {
    checkToken('consumer name', consumerName);
    return this.consume(this.streams.control, consumerName, this.subjects.controlAnswerFilter(), (msg) =>
      deliverControl(
        msg.data,
        controlTarget(msg.subject),
        msg.info.deliveryCount,
        handler,
        this.m,
        this.logger,
      ),
    );
  }

  async publishStats(providerId: string, message: StatsMessage): Promise<void> {
    checkProviderId(providerId);
    await this.publishJson(this.subjects.stats(providerId), encodeStats(message));
    this.m.statsPublished.inc();
  }

  subscribeStats(consumerName: string, handler: StatsHandler): Promise<Subscription> {
    checkToken('consumer name', consumerName);
    return this.consume(this.streams.stats, consumerName, this.subjects.statsAll(), (msg) =>
      deliverStats(msg.data, msg.info.deliveryCount, handler, this.m, this.logger),
    );
  }

  /** Creates the durable pull consumer when absent (needs create permission for that name/filter). */
  private async ensureConsumer(stream: string, name: string, filter: string): Promise<void> {
    const jsm = this.jsm;
    if (!jsm) throw new BusUnavailableError('jetstream bus not started');
    try {
      const info = await jsm.consumers.info(stream, name);
      if (info.config.filter_subject !== filter)
        throw new BusUnavailableError(
          `consumer ${name} exists with filter ${info.config.filter_subject}, not ${filter}`,
        );
      return;
    } catch (err) {
      if (err instanceof BusUnavailableError) throw err;
    }
    const cfg: Partial<ConsumerConfig> = {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: filter,
      ack_wait: nanos(this.o.ackWaitMs ?? 30_000),
      max_deliver: -1,
      max_ack_pending: 1024,
    };
    try {
      await jsm.consumers.add(stream, cfg);
    } catch (err) {
      throw new BusUnavailableError(`cannot create consumer ${name} on ${stream}`, { cause: err });
    }
  }

  /**
   * One subscriber: pulls batches of messages from the durable consumer and handles them one at a
   * time (so a partition's order is kept); acknowledges per outcome. Stopping lets the running
   * handler finish and negatively acknowledges (for immediate redelivery) whatever was prefetched
   * but not handled, so the next subscriber of the name does not wait for `ackWait`.
   */
  private async consume(
    stream: string,
    name: string,
    filter: string,
    onMsg: (m: JsMsg) => Promise<Outcome>,
  ): Promise<Subscription> {
    const js = this.client();
    await this.ensureConsumer(stream, name, filter);
    let consumer;
    try {
      consumer = await js.consumers.get(stream, name);
    } catch (err) {
      throw new BusUnavailableError(`cannot bind consumer ${name} on ${stream}`, { cause: err });
    }
    const iter = await consumer.consume({ max_messages: this.o.prefetch ?? 64 });
    let stopped = false;
    const delay = this.o.redeliveryDelayMs ?? 1000;
    const loop = (async () => {
      for await (const msg of iter) {
        if (stopped) {
          msg.nak();
          continue;
        }
        let outcome: Outcome;
        try {
          outcome = await onMsg(msg);
        } catch (err) {
          this.logger.error({ err }, 'bus: delivery failed unexpectedly');
          outcome = 'nak';
        }
        if (outcome === 'ack') msg.ack();
        else if (outcome === 'term') msg.term();
        else msg.nak(delay);
      }
    })().catch((err: unknown) => {
      this.logger.error({ err, consumer: name }, 'bus: consumer stopped on error');
    });
    const sub: Subscription = {
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await iter.close().catch(() => undefined);
        await loop;
        this.subs.delete(sub);
      },
    };
    this.subs.add(sub);
    return sub;
  }
}

/** Creates the JetStream bus (constructor does no I/O; `start()` connects). */
export function createJetStreamBus(deps: BusDeps, options: JetStreamBusOptions): Bus {
  return new JetStreamBus(deps, options);
}
