/**
 * What both bus implementations do with one received message: decode, de-duplicate, call the
 * handler, and decide the acknowledgement. Kept in one place so that the memory bus (embedded
 * demo, tests) and JetStream behave the same way.
 */
import type { Logger } from '../common/logging.ts';
import type { BatchHandler, ControlHandler, StatsHandler } from './bus.ts';
import { decodeBatch } from './codec.ts';
import type { RecordDeduper } from './dedup.ts';
import { decodeControl, decodeStats } from './envelope.ts';
import type { BusMetrics } from './metrics.ts';

/** Acknowledge, negatively acknowledge (redeliver later) or terminate (never redeliver). */
export type Outcome = 'ack' | 'nak' | 'term';

/** Decodes a data message and runs the handler; malformed messages are terminated and counted. */
export async function deliverBatch(
  bytes: Uint8Array,
  deliveryCount: number,
  handler: BatchHandler,
  dedup: RecordDeduper | undefined,
  metrics: BusMetrics,
  logger: Logger,
): Promise<Outcome> {
  let decoded;
  try {
    decoded = decodeBatch(bytes);
  } catch (err) {
    metrics.malformed.inc();
    logger.warn({ err }, 'bus: malformed batch terminated');
    return 'term';
  }
  metrics.batchesDelivered.inc();
  if (deliveryCount > 1) metrics.redeliveries.inc();
  const all = decoded.records;
  const fresh = dedup ? dedup.filter(decoded.batchId, decoded.partition, all) : all;
  const dropped = all.length - fresh.length;
  if (dropped > 0) metrics.recordsDeduplicated.inc(dropped);
  if (fresh.length === 0 && all.length > 0) return 'ack';
  try {
    await handler({
      batchId: decoded.batchId,
      providerId: decoded.providerId,
      partition: decoded.partition,
      createdAt: decoded.createdAt,
      records: fresh,
      duplicatesDropped: dropped,
      deliveryCount,
    });
  } catch (err) {
    metrics.handlerFailures.inc();
    logger.debug({ err, batchId: decoded.batchId }, 'bus: batch handler failed, redelivering');
    return 'nak';
  }
  dedup?.commit(decoded.batchId, decoded.partition, fresh);
  metrics.recordsDelivered.inc(fresh.length);
  return 'ack';
}

/** Decodes a control envelope and runs the handler. */
export async function deliverControl(
  bytes: Uint8Array,
  target: string,
  deliveryCount: number,
  handler: ControlHandler,
  metrics: BusMetrics,
  logger: Logger,
): Promise<Outcome> {
  let m;
  try {
    m = decodeControl(bytes);
  } catch (err) {
    metrics.malformed.inc();
    logger.warn({ err }, 'bus: malformed control envelope terminated');
    return 'term';
  }
  if (deliveryCount > 1) metrics.redeliveries.inc();
  try {
    await handler({ ...m, target, deliveryCount });
  } catch (err) {
    metrics.handlerFailures.inc();
    logger.debug({ err, messageId: m.messageId }, 'bus: control handler failed, redelivering');
    return 'nak';
  }
  metrics.controlDelivered.inc();
  return 'ack';
}

/** Decodes a statistics message and runs the handler. */
export async function deliverStats(
  bytes: Uint8Array,
  deliveryCount: number,
  handler: StatsHandler,
  metrics: BusMetrics,
  logger: Logger,
): Promise<Outcome> {
  let m;
  try {
    m = decodeStats(bytes);
  } catch (err) {
    metrics.malformed.inc();
    logger.warn({ err }, 'bus: malformed stats message terminated');
    return 'term';
  }
  if (deliveryCount > 1) metrics.redeliveries.inc();
  try {
    await handler(m);
  } catch (err) {
    metrics.handlerFailures.inc();
    logger.debug({ err }, 'bus: stats handler failed, redelivering');
    return 'nak';
  }
  metrics.statsDelivered.inc();
  return 'ack';
}

/** The `target` token of a control subject `<prefix>.ctl.<target>[.answer]`. */
export function controlTarget(subject: string): string {
  const parts = subject.split('.');
  return parts[2] ?? '';
}
