import type { Counter, Gauge, MetricsRegistry } from '../common/metrics.ts';

/**
 * Counters of a bus (either implementation). Created once per registry and kept as fields so the
 * publish and delivery paths increment plain objects.
 */
export interface BusMetrics {
  /** Batches the bus durably accepted (including duplicates it recognised). */
  readonly batchesPublished: Counter;
  /** Records in those batches. */
  readonly recordsPublished: Counter;
  /** Publishes the bus recognised as a repeated batch id (duplicate window) and did not store again. */
  readonly publishDuplicates: Counter;
  /** Publishes that failed (the caller keeps the batch in its spool). */
  readonly publishErrors: Counter;
  /** Batch deliveries to data handlers (including redeliveries). */
  readonly batchesDelivered: Counter;
  /** Records handed to data handlers after de-duplication. */
  readonly recordsDelivered: Counter;
  /** Records removed by the centre's record-id de-duplication. */
  readonly recordsDeduplicated: Counter;
  /** Deliveries whose handler threw: negatively acknowledged for redelivery. */
  readonly handlerFailures: Counter;
  /** Deliveries that were redeliveries. */
  readonly redeliveries: Counter;
  /** Messages that could not be decoded: terminated (never redelivered) and counted. */
  readonly malformed: Counter;
  /** Control envelopes published (both ways). */
  readonly controlPublished: Counter;
  /** Control envelopes delivered to handlers. */
  readonly controlDelivered: Counter;
  /** Statistics messages published. */
  readonly statsPublished: Counter;
  /** Statistics messages delivered. */
  readonly statsDelivered: Counter;
  /** Connection losses seen by the client. */
  readonly disconnects: Counter;
  /** Reconnections after a loss. */
  readonly reconnects: Counter;
}

/** Registers (or returns) the bus counters in `registry`, labelled by bus kind. */
export function busMetrics(registry: MetricsRegistry, kind: string): BusMetrics {
  const c = (name: string, help: string): Counter =>
    registry.counter(`bus_${name}`, help).labels({ bus: kind });
  return {
    batchesPublished: c('batches_published', 'Batches durably accepted by the bus.'),
    recordsPublished: c('records_published', 'Records in batches accepted by the bus.'),
    publishDuplicates: c(
      'publish_duplicates',
      'Publishes recognised as duplicates by the bus (batch id in the duplicate window).',
    ),
    publishErrors: c('publish_errors', 'Publishes that failed and stay in the spool.'),
    batchesDelivered: c('batches_delivered', 'Batch deliveries to handlers, redeliveries included.'),
    recordsDelivered: c('records_delivered', 'Records handed to handlers after de-duplication.'),
    recordsDeduplicated: c('records_deduplicated', 'Records removed by record-id de-duplication.'),
    handlerFailures: c('handler_failures', 'Deliveries whose handler failed (redelivered later).'),
    redeliveries: c('redeliveries', 'Deliveries that were redeliveries.'),
    malformed: c('malformed_messages', 'Messages that could not be decoded (terminated, not redelivered).'),
    controlPublished: c('control_published', 'Control envelopes published.'),
    controlDelivered: c('control_delivered', 'Control envelopes delivered to handlers.'),
    statsPublished: c('stats_published', 'Statistics messages published.'),
    statsDelivered: c('stats_delivered', 'Statistics messages delivered to handlers.'),
    disconnects: c('disconnects', 'Connection losses.'),
    reconnects: c('reconnects', 'Reconnections after a connection loss.'),
  };
}

/** Counters and gauges of the edge spool and the spooled publisher. */
export interface SpoolMetrics {
  /** Batches appended to the spool. */
  readonly appended: Counter;
  /** Batches written to disk (appended batches acknowledged before the flush are never written). */
  readonly written: Counter;
  /** Bytes written to segment files. */
  readonly writtenBytes: Counter;
  /** fsync calls. */
  readonly fsyncs: Counter;
  /** Batches acknowledged by the bus and released. */
  readonly acked: Counter;
  /** Segment files deleted because all their batches were acknowledged. */
  readonly segmentsDeleted: Counter;
  /** Batches refused because the spool was full (alarm). */
  readonly fullRejected: Counter;
  /** Records in batches refused because the spool was full. */
  readonly fullRejectedRecords: Counter;
  /** Torn or unauthenticated frames found and ignored at recovery. */
  readonly tornFrames: Counter;
  /** Batches recovered from disk at start. */
  readonly recovered: Counter;
  /** Batches published again after a failure or restart (in order). */
  readonly replayed: Counter;
  /** Failed publish attempts of the spooled publisher. */
  readonly publishFailures: Counter;
  /** Bytes held (segment files plus unwritten buffer). */
  readonly bytes: Gauge;
  /** Batches not yet acknowledged. */
  readonly pending: Gauge;
  /** 1 while the spool is full (alarm raised), else 0. */
  readonly full: Gauge;
}

/** Registers (or returns) the spool metrics in `registry`. */
export function spoolMetrics(registry: MetricsRegistry): SpoolMetrics {
  const c = (name: string, help: string): Counter => registry.counter(`spool_${name}`, help);
  return {
    appended: c('appended_batches', 'Batches appended to the spool.'),
    written: c('written_batches', 'Batches written to disk (not acknowledged before the flush).'),
    writtenBytes: c('written_bytes', 'Bytes written to spool segments.'),
    fsyncs: c('fsyncs', 'fsync calls on spool files.'),
    acked: c('acked_batches', 'Batches acknowledged by the bus and released.'),
    segmentsDeleted: c('segments_deleted', 'Segments deleted after all their batches were acknowledged.'),
    fullRejected: c('full_rejected_batches', 'Batches refused because the spool was full.'),
    fullRejectedRecords: c('full_rejected_records', 'Records in batches refused because the spool was full.'),
    tornFrames: c('torn_frames', 'Torn or unauthenticated frames ignored at recovery.'),
    recovered: c('recovered_batches', 'Batches recovered from disk at start.'),
    replayed: c('replayed_batches', 'Batches published again after a failure or restart.'),
    publishFailures: c('publish_failures', 'Failed publish attempts (batches stay spooled).'),
    bytes: registry.gauge('spool_bytes', 'Bytes held by the spool.'),
    pending: registry.gauge('spool_pending_batches', 'Batches not yet acknowledged by the bus.'),
    full: registry.gauge('spool_full', '1 while the spool is full, else 0.'),
  };
}
