/**
 * `createStore(config)`: the one place that maps `store.type` to an implementation. The store is
 * returned closed; the caller opens it (constructors do nothing, CONVENTIONS).
 */
import type { Logger } from '../common/logging.ts';
import type { MetricsRegistry } from '../common/metrics.ts';
import { resolveStoreConfig, type StoreConfigInput } from './config.ts';
import { DuckDbStore } from './duckdb/store.ts';
import { MemoryStore } from './memory/store.ts';
import type { Store } from './types.ts';

/** What a store may be given by its owner. */
export interface StoreDeps {
  metrics?: MetricsRegistry;
  logger?: Logger;
}

/** Creates the configured store (closed). Throws `ConfigError` for a bad configuration. */
export function createStore(config: StoreConfigInput = {}, deps: StoreDeps = {}): Store {
  const c = resolveStoreConfig(config);
  switch (c.type) {
    case 'memory':
      return new MemoryStore({
        maxRecords: c.maxMemoryRecords,
        maxEvidence: c.maxMemoryEvidence,
        ...(deps.metrics ? { metrics: deps.metrics } : {}),
      });
    case 'duckdb':
      return new DuckDbStore({ config: c, ...deps });
  }
}
