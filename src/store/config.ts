/**
 * Store configuration (typebox: bounds, defaults, a description per field). `resolveStoreConfig`
 * fills defaults and names the first bad key in a `ConfigError` (`store.<path>`).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../common/errors.ts';

/** Schema of the `store` section. */
export const StoreConfigSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('duckdb'), Type.Literal('memory')], {
      default: 'duckdb',
      description: 'Implementation: the embedded DuckDB database (default) or memory (tests, `acd analyze`).',
    }),
    path: Type.String({
      minLength: 1,
      maxLength: 4096,
      default: './data/acd.duckdb',
      description: 'DuckDB database file (its directory is created); `:memory:` keeps it in memory (tests).',
    }),
    appendBatchRows: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      default: 20_000,
      description:
        'Largest number of records written in one transaction; bigger appends are split (bounds the memory of one write).',
    }),
    maxMemoryRecords: Type.Integer({
      minimum: 1,
      maximum: 50_000_000,
      default: 1_000_000,
      description: 'Memory store only: records kept; the oldest appended are evicted (counted) beyond it.',
    }),
    maxMemoryEvidence: Type.Integer({
      minimum: 1,
      maximum: 10_000_000,
      default: 200_000,
      description: 'Memory store only: evidence items kept; the oldest are evicted beyond it.',
    }),
    readConnections: Type.Integer({
      minimum: 1,
      maximum: 16,
      default: 2,
      description: 'DuckDB only: connections for concurrent reads (writes use one connection of their own).',
    }),
    threads: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 2,
      description: 'DuckDB only: worker threads of the database (this machine has 2 cores).',
    }),
    memoryLimitMiB: Type.Integer({
      minimum: 64,
      maximum: 1_048_576,
      default: 1024,
      description: 'DuckDB only: memory limit of the database in MiB.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'The centre store.' },
);

/** Resolved store configuration. */
export type StoreConfig = Static<typeof StoreConfigSchema>;

/** Store configuration as written (every field optional). */
export type StoreConfigInput = Partial<StoreConfig>;

/** Fills defaults and validates; throws `ConfigError` naming `store.<key>`. */
export function resolveStoreConfig(partial: StoreConfigInput = {}): StoreConfig {
  const value = Value.Default(StoreConfigSchema, structuredClone(partial)) as StoreConfig;
  const first = Value.Errors(StoreConfigSchema, value).First();
  if (first) {
    const key = first.path.split('/').filter(Boolean).join('.') || '(root)';
    throw new ConfigError(`store.${key}`, first.message);
  }
  return value;
}
