/**
 * The one call the centre (and the demo) makes: the service over the local key store's personal
 * keys, its seal secret under the data directory, and the API plugin. `start()` the service with
 * the other components and add `plugin` to `ServeDeps.plugins`.
 */
import { join } from 'node:path';
import type { Clock } from '../../common/clock.ts';
import type { Logger } from '../../common/logging.ts';
import type { MetricsRegistry } from '../../common/metrics.ts';
import type { ServePlugin } from '../../serve/types.ts';
import type { Store } from '../../store/types.ts';
import type { Bus } from '../../transport/bus.ts';
import type { AuditInput } from '../audit/log.ts';
import type { KeyStore } from '../keys/index.ts';
import type { ReidentifyConfigInput } from './config.ts';
import { reidentificationPlugin } from './plugin.ts';
import { createReidentificationService, type ReidentificationService } from './service.ts';

/** Where the seal secret lives under the data directory. */
export function sealKeyFileOf(dataDir: string): string {
  return join(dataDir, 'reidentification', 'seal.key');
}

/** Inputs of {@link createCentreReidentification}. */
export interface CentreReidentificationOptions {
  store: Store;
  clock: Clock;
  bus: Pick<Bus, 'publishControl' | 'subscribeControlAnswers'>;
  /** The centre's key store (`acd keys`): personal keys from `acd keys add-signer <user>`. */
  keys: KeyStore;
  /** The data directory (`DATA/reidentification/seal.key` is created there). */
  dataDir: string;
  audit?: (input: AuditInput) => Promise<unknown>;
  logger: Logger;
  metrics?: MetricsRegistry;
  /** Demo mode only: demo-analyst and demo-supervisor sign with the demonstration keys. */
  demo?: boolean;
  config?: ReidentifyConfigInput;
}

/** The service and its routes. */
export function createCentreReidentification(o: CentreReidentificationOptions): {
  service: ReidentificationService;
  plugin: ServePlugin;
} {
  const service = createReidentificationService(
    {
      store: o.store,
      clock: o.clock,
      bus: o.bus,
      signerFor: (user) => o.keys.personalSigningKey(user),
      ...(o.audit !== undefined ? { audit: o.audit } : {}),
      logger: o.logger,
      sealKeyFile: sealKeyFileOf(o.dataDir),
      ...(o.metrics !== undefined ? { metrics: o.metrics } : {}),
      ...(o.demo !== undefined ? { demo: o.demo } : {}),
    },
    o.config,
  );
  return { service, plugin: reidentificationPlugin(service) };
}
