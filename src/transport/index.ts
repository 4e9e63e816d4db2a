/** Public surface of the transport: the bus interface, both implementations, the spool. */
export type {
  Bus,
  BatchHandler,
  ControlHandler,
  ControlKind,
  ControlMessage,
  DeliveredBatch,
  DeliveredControl,
  EncodedBatch,
  JsonValue,
  OutgoingBatch,
  PublishAck,
  StatsHandler,
  StatsMessage,
  SubscribeOptions,
  Subscription,
} from './bus.ts';
export { ALL_PROVIDERS, CONTROL_KINDS, MAX_PARTITIONS, Subjects, checkProviderId } from './bus.ts';
export { decodeBatch, encodeBatch, MAX_BATCH_BYTES, MAX_BATCH_RECORDS, type DecodedBatch } from './codec.ts';
export { RecordDeduper, DEFAULT_DEDUP, type DedupOptions } from './dedup.ts';
export * from './errors.ts';
export { createMemoryBus, type BusDeps, type MemoryBusOptions } from './memory/bus.ts';
export {
  createJetStreamBus,
  DEFAULT_STREAMS,
  type JetStreamBusOptions,
  type StreamNames,
} from './jetstream/bus.ts';
export {
  createSpool,
  createSpoolKey,
  loadSpoolKey,
  Spool,
  type SpoolDeps,
  type SpoolOptions,
} from './spool/spool.ts';
export {
  createSpooledPublisher,
  SpooledPublisher,
  type SendResult,
  type SpooledPublisherOptions,
} from './spool/publisher.ts';
export { busMetrics, spoolMetrics, type BusMetrics, type SpoolMetrics } from './metrics.ts';
