/** Public surface of the centre store: the interface, both implementations, configuration. */
export * from './types.ts';
export { StoreError, type StoreErrorCode } from './errors.ts';
export { resolveStoreConfig, StoreConfigSchema, type StoreConfig, type StoreConfigInput } from './config.ts';
export { storeMetrics, type StoreMetrics } from './metrics.ts';
export { recordTime, retentionDay } from './shape.ts';
export { MemoryStore, type MemoryStoreOptions } from './memory/store.ts';
export { DuckDbStore, type DuckDbStoreOptions } from './duckdb/store.ts';
export { createStore, type StoreDeps } from './registry.ts';
