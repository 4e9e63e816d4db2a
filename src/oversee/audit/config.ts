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
  },
  { additionalProperties: false, default: {}, description: 'The tamper-evident audit log (issue 8).' },
);

/** Resolved audit configuration. */
export type AuditConfig = Static<typeof AuditConfigSchema>;

/** Audit configuration as written (every field optional). */
export type AuditConfigInput = Partial<AuditConfig>;

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
