/**
 * Audit-log configuration (typebox: bounds, defaults, a description per field).
 * `resolveAuditConfig` fills defaults and names the first bad key (`audit.<key>`).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../../common/errors.ts';

/** Schema of the `audit` section. */
export const AuditConfigSchema = Type.Object(
  {
    checkpointEveryEntries: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      default: 1000,
      description: 'A signed checkpoint of the chain head after this many entries since the last one.',
    }),
    checkpointIntervalMs: Type.Integer({
      minimum: 1000,
      maximum: 86_400_000,
      default: 60_000,
      description:
        'A signed checkpoint at least this often while the head moves: bounds how many trailing entries a truncation could remove unnoticed.',
    }),
    maxReadSessions: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      default: 10_000,
      description:
        'Aggregated-read buckets (session × minute) held in memory; beyond it the open buckets are written early.',
    }),
    maxRoutesPerRead: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 50,
      description: 'Distinct routes counted by name in one aggregated-read entry; the rest count under "*".',
    }),
    bulkAccess: Type.Object(
      {
        records: Type.Integer({
          minimum: 1,
          maximum: 1_000_000_000,
          default: 10_000,
          description:
            'Selected records one actor may receive through the API within the window before the commission liaison is alerted (R-OVS-4).',
        }),
        exports: Type.Integer({
          minimum: 1,
          maximum: 1_000_000,
          default: 20,
          description:
            'Exports (audit exports, reports) one actor may make within the window before an alert.',
        }),
        windowMs: Type.Integer({
          minimum: 60_000,
          maximum: 7 * 86_400_000,
          default: 600_000,
          description:
            'Sliding window of the bulk-access counts; at most one alert per actor and kind per window.',
        }),
      },
      {
        additionalProperties: false,
        default: {},
        description:
          'Bulk-access alerts to the commission liaison (R-OVS-4, src/oversee/bulk): `records` (1 … 10^9, default 10000) selected records or `exports` (1 … 10^6, default 20) per actor within `windowMs` (60000 … 604800000, default 600000 = 10 min); at most one alert per actor and kind per window.',
      },
    ),
  },
  { additionalProperties: false, default: {}, description: 'The tamper-evident audit log (issue 8).' },
);

/** Resolved audit configuration. */
export type AuditConfig = Static<typeof AuditConfigSchema>;

/** Audit configuration as written (every field optional, also inside `bulkAccess`). */
export type AuditConfigInput = Partial<Omit<AuditConfig, 'bulkAccess'>> & {
  bulkAccess?: Partial<AuditConfig['bulkAccess']>;
};

/** Fills defaults and validates; throws `ConfigError` naming `audit.<key>`. */
export function resolveAuditConfig(partial: AuditConfigInput = {}): AuditConfig {
  const value = Value.Default(AuditConfigSchema, structuredClone(partial)) as AuditConfig;
  const first = Value.Errors(AuditConfigSchema, value).First();
  if (first) {
    const key = first.path.split('/').filter(Boolean).join('.') || '(root)';
    throw new ConfigError(`audit.${key}`, first.message);
  }
  return value;
}
