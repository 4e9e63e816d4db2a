/**
 * Retention-job configuration (typebox: bounds, defaults, a description per field).
 * `resolveRetentionConfig` fills defaults and names the first bad key (`retention.<key>`).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../../common/errors.ts';

/** Default time between two runs: one hour. */
export const DEFAULT_RETENTION_INTERVAL_MS = 3_600_000;

/** Schema of the `retention` section. */
export const RetentionConfigSchema = Type.Object(
  {
    intervalMs: Type.Integer({
      // More often than a minute only adds load (deadlines are whole days for partitions); less
      // often than a day would keep expired data for more than a day past its deadline.
      minimum: 60_000,
      maximum: 86_400_000,
      default: DEFAULT_RETENTION_INTERVAL_MS,
      description:
        'Time between two retention runs (the first runs at start): expired days, derived data, export queues and caches are deleted and a signed deletion certificate is issued.',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'The retention job and its signed deletion certificates (issue 8, R-RET).',
  },
);

/** Resolved retention configuration. */
export type RetentionConfig = Static<typeof RetentionConfigSchema>;

/** Retention configuration as written (every field optional). */
export type RetentionConfigInput = Partial<RetentionConfig>;

/** Fills defaults and validates; throws `ConfigError` naming `retention.<key>`. */
export function resolveRetentionConfig(partial: RetentionConfigInput = {}): RetentionConfig {
  const value = Value.Default(RetentionConfigSchema, structuredClone(partial)) as RetentionConfig;
  const first = Value.Errors(RetentionConfigSchema, value).First();
  if (first) {
    const key = first.path.split('/').filter(Boolean).join('.') || '(root)';
    throw new ConfigError(`retention.${key}`, first.message);
  }
  return value;
}
