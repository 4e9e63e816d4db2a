/**
 * The embedded deployment's provider edges (`acd demo`, `acd eval`): one live edge per simulated
 * provider, each with its own collector (UDP for flow exports, TCP for dnstap), its own key store
 * and spool under the data directory, all publishing to one bus that the centre in the same
 * process consumes. Selection runs the demonstration feed set in `demo` or `eval` mode (DESIGN
 * section 5), exactly as a stand-alone `acd edge` would.
 */
import { join } from 'node:path';
import type { Clock } from '../../common/clock.ts';
import type { Logger } from '../../common/logging.ts';
import type { MetricsRegistry } from '../../common/metrics.ts';
import type { OperatorsFile } from '../../common/operators/index.ts';
import type { PrefixTable } from '../../common/prefixes/index.ts';
import type { Bus } from '../../transport/index.ts';
import type { Routes } from '../../simulate/exporters/index.ts';
import { loadAcdConfig, type AcdConfig } from '../config.ts';
import { createEdge, type Edge } from '../edge/edge.ts';
import { demoSetup } from '../edge/selection.ts';

/** One provider's edge and where its collector listens. */
export interface EmbeddedEdge {
  providerId: string;
  edge: Edge;
  /** UDP flow-export listener and dnstap TCP listener. */
  udp: { host: string; port: number };
  dnstap: { host: string; port: number };
}

/** Inputs of {@link startEmbeddedEdges}. */
export interface EmbeddedEdgesOptions {
  providerIds: readonly string[];
  bus: Bus;
  table: PrefixTable;
  dataDir: string;
  mode: 'demo' | 'eval';
  /** ISO alpha-2; default JP. */
  domesticCountry?: string;
  operators?: OperatorsFile;
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
  /** Batch age before an edge publishes (ms); small values make the demo feel live. */
  batchMaxAgeMs?: number;
}

/** Where and how a local edge keeps its state (embedded edges and tests of live edges). */
export interface LocalEdgeOptions {
  providerId: string;
  /** This edge's own directory: keys/, spool/, spool.key, revocations/, reidentification.json. */
  dir: string;
  /** Border-table cache directory. */
  cacheDir: string;
  listen: string[];
  instanceId?: string;
  batchMaxAgeMs?: number;
  drainTimeoutMs?: number;
}

/** The configuration of an edge on this machine (defaults otherwise; no environment overrides). */
export function localEdgeConfig(o: LocalEdgeOptions): AcdConfig {
  const config = loadAcdConfig({ env: {} });
  config.collect.listen = o.listen;
  const e = config.edge;
  e.providerId = o.providerId;
  if (o.instanceId !== undefined) e.instanceId = o.instanceId;
  e.keyStore.dir = join(o.dir, 'keys');
  e.spool.dir = join(o.dir, 'spool');
  e.spool.keyFile = join(o.dir, 'spool.key');
  e.revocationsDir = join(o.dir, 'revocations');
  e.reidentification.stateFile = join(o.dir, 'reidentification.json');
  e.prefixCacheDir = o.cacheDir;
  if (o.batchMaxAgeMs !== undefined) e.batchMaxAge = o.batchMaxAgeMs;
  if (o.drainTimeoutMs !== undefined) e.drainTimeout = o.drainTimeoutMs;
  return config;
}

/** Starts one edge per provider; stops those already started when one fails. */
export async function startEmbeddedEdges(o: EmbeddedEdgesOptions): Promise<EmbeddedEdge[]> {
  const out: EmbeddedEdge[] = [];
  try {
    for (const providerId of o.providerIds) {
      const config = localEdgeConfig({
        providerId,
        dir: join(o.dataDir, 'edges', providerId),
        cacheDir: join(o.dataDir, 'cache'),
        listen: ['udp://127.0.0.1:0', 'dnstap+tcp://127.0.0.1:0'],
        instanceId: 'embedded',
        batchMaxAgeMs: o.batchMaxAgeMs ?? 200,
        drainTimeoutMs: 5000,
      });
      const e = config.edge;
      const setup = demoSetup(o.domesticCountry ?? 'JP', providerId, o.mode);
      if (o.operators) setup.operators = o.operators;
      const edge = createEdge(
        { clock: o.clock, logger: o.logger.child({ edge: providerId }), metrics: o.metrics, bus: o.bus },
        { edge: e, collect: config.collect, setup, table: o.table, tableSource: { kind: 'packaged' } },
      );
      await edge.start();
      const addrs = edge.addresses();
      const udp = addrs.find((a) => a.url.startsWith('udp://'));
      const tap = addrs.find((a) => a.url.startsWith('dnstap'));
      if (!udp || !tap) throw new TypeError(`edge ${providerId}: listeners did not start`);
      out.push({
        providerId,
        edge,
        udp: { host: udp.address, port: udp.port },
        dnstap: { host: tap.address, port: tap.port },
      });
    }
  } catch (err) {
    await stopEmbeddedEdges(out);
    throw err;
  }
  return out;
}

/** Routes for the generator: each provider's exporters send to its own edge. */
export function edgeRoutes(edges: readonly EmbeddedEdge[], kind: 'udp' | 'dnstap'): Routes {
  const r: Routes = {};
  for (const e of edges) r[e.providerId] = kind === 'udp' ? e.udp : e.dnstap;
  return r;
}

/** Stops every edge (each drains its queue and spool onto the bus). */
export async function stopEmbeddedEdges(edges: readonly EmbeddedEdge[]): Promise<void> {
  await Promise.allSettled(edges.map((e) => e.edge.stop()));
}
