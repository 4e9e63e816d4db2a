/**
 * The bus between provider edges and the national centre (DESIGN sections 1, 3 and 6).
 *
 * Three directions, each a family of subjects under one prefix (default `acd`):
 * - data, edge → centre: `acd.sel.<provider>.<partition>` carries compact binary batches of
 *   `SelectedRecord`s (codec.ts), each with a replay-stable `batchId`;
 * - control, centre → edges: `acd.ctl.<provider>` (and `acd.ctl.all` for every edge) carries typed
 *   JSON envelopes (approvals, revocations, re-identification requests); answers travel back
 *   edge → centre on `acd.ctl.<provider>.answer`;
 * - statistics and health, edge → centre: `acd.stat.<provider>` (per-batch selection statistics,
 *   exporter health; R-SEL-5).
 *
 * Every direction is durable and at-least-once: a consumer acknowledges a message only after its
 * handler resolved; a handler that throws (or a consumer that stops before acknowledging) gets
 * the message again. Duplicates are therefore possible and are removed twice: by the bus (the
 * JetStream duplicate window keyed on `batchId`) and by the centre (bounded `recordId`
 * de-duplication, dedup.ts). README.md in this folder gives the window arithmetic.
 */
import type { Lifecycle } from '../common/lifecycle.ts';
import type { SelectedRecord } from '../common/schema/selected.ts';
import type { RecordDeduper } from './dedup.ts';
import { InvalidSubjectTokenError } from './errors.ts';

/** The reserved target of `publishControl` that reaches every edge. */
export const ALL_PROVIDERS = 'all';

/**
 * Provider ids, consumer names and subject prefixes become NATS subject tokens and durable
 * consumer names, so they are restricted to characters that are safe in both (no `.`, `*`, `>`,
 * whitespace) and to 64 characters, which keeps subjects and permission lists readable.
 */
const TOKEN_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * Partitions per provider are bounded because each is a subject (and, for workers that own
 * partitions, a consumer); 4096 is far more than any centre deployment needs.
 */
export const MAX_PARTITIONS = 4096;

/** Throws `InvalidSubjectTokenError` unless `value` is usable as a provider id or consumer name. */
export function checkToken(what: string, value: string): void {
  if (!TOKEN_RE.test(value)) throw new InvalidSubjectTokenError(what, value);
}

/** Throws unless `providerId` is a valid token and not the reserved broadcast target. */
export function checkProviderId(providerId: string): void {
  checkToken('provider id', providerId);
  if (providerId === ALL_PROVIDERS) throw new InvalidSubjectTokenError('provider id', providerId);
}

/** Throws unless `partition` is an integer in [0, MAX_PARTITIONS). */
export function checkPartition(partition: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition >= MAX_PARTITIONS)
    throw new InvalidSubjectTokenError('partition', String(partition));
}

/** Builds the subjects of one bus; the prefix lets tests run beside production on one server. */
export class Subjects {
  constructor(readonly prefix = 'acd') {
    checkToken('subject prefix', prefix);
  }
  /** `acd.sel.<provider>.<partition>`. */
  data(providerId: string, partition: number): string {
    return `${this.prefix}.sel.${providerId}.${partition}`;
  }
  /** Every data subject (`acd.sel.>`), or one partition of every provider (`acd.sel.*.<n>`). */
  dataFilter(partition?: number): string {
    return partition === undefined ? `${this.prefix}.sel.>` : `${this.prefix}.sel.*.${partition}`;
  }
  /** `acd.ctl.<provider>` or `acd.ctl.all`. */
  control(target: string): string {
    return `${this.prefix}.ctl.${target}`;
  }
  /** `acd.ctl.<provider>.answer`: answers travelling edge → centre. */
  controlAnswer(providerId: string): string {
    return `${this.prefix}.ctl.${providerId}.answer`;
  }
  /** Every answer subject. */
  controlAnswerFilter(): string {
    return `${this.prefix}.ctl.*.answer`;
  }
  /** Every control subject (stream binding). */
  controlAll(): string {
    return `${this.prefix}.ctl.>`;
  }
  /** `acd.stat.<provider>`. */
  stats(providerId: string): string {
    return `${this.prefix}.stat.${providerId}`;
  }
  /** Every statistics subject. */
  statsAll(): string {
    return `${this.prefix}.stat.*`;
  }
}

/** A batch as the edge hands it to the bus: the id is allocated by the edge (spool or allocator). */
export interface OutgoingBatch {
  /** Replay-stable id: `<provider>.<edge instance>.<counter>`; the bus's duplicate key. */
  batchId: string;
  records: readonly SelectedRecord[];
}

/** A batch already encoded (codec.ts), as the spool stores and replays it without re-encoding. */
export interface EncodedBatch {
  batchId: string;
  providerId: string;
  partition: number;
  recordCount: number;
  bytes: Uint8Array;
}

/** What the bus answers once it durably accepted a batch. */
export interface PublishAck {
  /** True when the bus already had this batch id (a replay inside the duplicate window). */
  duplicate: boolean;
  /** Stream sequence of the stored message (the original one for a duplicate). */
  sequence: number;
}

/** A batch handed to a centre-side handler. */
export interface DeliveredBatch {
  batchId: string;
  providerId: string;
  partition: number;
  /** When the edge encoded the batch (epoch ms). */
  createdAt: number;
  /** The records, minus those the centre's de-duplication had already seen. */
  records: SelectedRecord[];
  /** Records removed by de-duplication in this delivery. */
  duplicatesDropped: number;
  /** 1 for the first delivery, more for redeliveries. */
  deliveryCount: number;
}

/** Centre-side handler; the batch is acknowledged only after the returned promise resolves. */
export type BatchHandler = (batch: DeliveredBatch) => Promise<void>;

/** Options of a data subscription. */
export interface SubscribeOptions {
  /** Consume one partition only (`acd.sel.*.<n>`); a worker owning several subscribes several times. */
  partition?: number;
  /**
   * Remove records whose `recordId` was already handled (dedup.ts). Default true; pass false to see
   * raw deliveries (tests, diagnostics). Shared between subscriptions when the same instance is passed.
   */
  dedup?: boolean | RecordDeduper;
}

/** A running subscription. */
export interface Subscription {
  /** Stops receiving; unacknowledged messages are redelivered to the next subscriber of the name. */
  stop(): Promise<void>;
}

/** Kinds of control envelopes (DESIGN section 6). */
export type ControlKind =
  'approval' | 'revocation' | 'agreement' | 'reident-request' | 'reident-answer' | 'notice';

/** Every control kind, for validation. */
export const CONTROL_KINDS: readonly ControlKind[] = [
  'approval',
  'revocation',
  'agreement',
  'reident-request',
  'reident-answer',
  'notice',
];

/**
 * A control envelope. The bus neither parses nor verifies `payload`: it is the signed document
 * (RFC 8785 canonical JSON + Ed25519, verified by the receiver), carried as opaque bytes (base64 in
 * the JSON envelope on the wire).
 */
export interface ControlMessage {
  /** Unique id; receivers use it to ignore redeliveries (handlers must be idempotent). */
  messageId: string;
  kind: ControlKind;
  /** Sender: `centre` or the provider id. */
  from: string;
  /** When the sender created the envelope (epoch ms). */
  issuedAt: number;
  /** For answers: the `messageId` of the request answered. */
  correlationId?: string;
  /** Media type of `payload`, e.g. `application/acd-approval+json`. */
  contentType: string;
  /** Signed document bytes, opaque to the bus. */
  payload: Uint8Array;
}

/** A control envelope as received, with the subject's target (`<provider>` or `all`). */
export interface DeliveredControl extends ControlMessage {
  /** The provider the message was addressed to, or `all`. */
  target: string;
  deliveryCount: number;
}

/** Handler of control messages; acknowledged after the promise resolves. */
export type ControlHandler = (message: DeliveredControl) => Promise<void>;

/** A JSON value (statistics bodies). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * A statistics or health message from an edge (R-SEL-5): `selection` carries one batch's counts
 * (in, selected, dropped by reason), `health` the exporters' state. The body's fields are defined
 * by the selection component; the bus only requires JSON.
 */
export interface StatsMessage {
  kind: 'selection' | 'health';
  providerId: string;
  /** When measured (epoch ms). */
  at: number;
  /** For `selection`: the batch the counts describe. */
  batchId?: string;
  body: { [key: string]: JsonValue };
}

/** Handler of statistics; acknowledged after the promise resolves. */
export type StatsHandler = (message: StatsMessage) => Promise<void>;

/**
 * The bus. Edges call `publishBatch`, `publishStats`, `publishControlAnswer` and
 * `subscribeControl`; the centre calls `subscribe`, `subscribeStats`, `subscribeControlAnswers`
 * and `publishControl`. `start()` connects (and, where configured, creates the streams);
 * `stop()` stops every subscription and closes the connection.
 */
export interface Bus extends Lifecycle {
  /** `memory` or `jetstream`. */
  readonly kind: string;
  /** Subject names of this bus. */
  readonly subjects: Subjects;
  /** Encodes and publishes a batch; resolves once the bus durably accepted it. */
  publishBatch(providerId: string, partition: number, batch: OutgoingBatch): Promise<PublishAck>;
  /** Publishes an already encoded batch (spool replay). */
  publishEncoded(batch: EncodedBatch): Promise<PublishAck>;
  /** Durable consumer `consumerName` of the data direction with explicit acknowledgement. */
  subscribe(consumerName: string, handler: BatchHandler, options?: SubscribeOptions): Promise<Subscription>;
  /** Centre → edge(s): `target` is a provider id or `all`. */
  publishControl(target: string, message: ControlMessage): Promise<void>;
  /** Edge side: messages addressed to `providerId` and to `all`, durably (missed ones arrive later). */
  subscribeControl(providerId: string, handler: ControlHandler): Promise<Subscription>;
  /** Edge → centre: an answer (e.g. a re-identification answer). */
  publishControlAnswer(providerId: string, message: ControlMessage): Promise<void>;
  /** Centre side: answers of every provider, on durable consumer `consumerName`. */
  subscribeControlAnswers(consumerName: string, handler: ControlHandler): Promise<Subscription>;
  /** Edge → centre statistics/health. */
  publishStats(providerId: string, message: StatsMessage): Promise<void>;
  /** Centre side: statistics of every provider, on durable consumer `consumerName`. */
  subscribeStats(consumerName: string, handler: StatsHandler): Promise<Subscription>;
}
