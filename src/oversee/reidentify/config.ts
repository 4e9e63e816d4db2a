/**
 * Configuration of the centre's re-identification service (typebox: bounds, defaults, a
 * description per field). `resolveReidentifyConfig` fills defaults and names the first bad key
 * (`reidentification.<key>`).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../../common/errors.ts';
import { MAX_REID_VALIDITY_MS } from '../../common/schema/approval.ts';

/** Schema of the `reidentification` section. */
export const ReidentifyConfigSchema = Type.Object(
  {
    requestValidityMs: Type.Integer({
      minimum: 60_000,
      maximum: MAX_REID_VALIDITY_MS,
      default: 86_400_000,
      description:
        'How long a request waits for its second authorisation and its answer (it never outlives its case); then it expires.',
    }),
    revealWindowMs: Type.Integer({
      minimum: 60_000,
      maximum: 30 * 86_400_000,
      default: 86_400_000,
      description:
        'After the answer arrives, how long the requester and the second authoriser may reveal it (each once); then the wrapped keys are destroyed.',
    }),
    maxRecords: Type.Integer({
      minimum: 1,
      maximum: 200,
      default: 50,
      description:
        'Records one request may name (R-OVS-2: named records, never bulk; also keeps the audit entry, which lists every record id, bounded).',
    }),
    consumerName: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$',
      default: 'centre-reidentification',
      description: 'Durable consumer of the answer subjects (acd.ctl.*.answer).',
    }),
    expiryIntervalMs: Type.Integer({
      minimum: 1000,
      maximum: 3_600_000,
      default: 60_000,
      description: 'How often unanswered requests and closed reveal windows are looked for.',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Dual-authorised re-identification from the centre (R-OVS-2).',
  },
);

/** Resolved configuration. */
export type ReidentifyConfig = Static<typeof ReidentifyConfigSchema>;

/** Configuration as written (every field optional). */
export type ReidentifyConfigInput = Partial<ReidentifyConfig>;

/** Fills defaults and validates; throws `ConfigError` naming `reidentification.<key>`. */
export function resolveReidentifyConfig(partial: ReidentifyConfigInput = {}): ReidentifyConfig {
  const value = Value.Default(ReidentifyConfigSchema, structuredClone(partial)) as ReidentifyConfig;
  const first = Value.Errors(ReidentifyConfigSchema, value).First();
  if (first) {
    const key = first.path.split('/').filter(Boolean).join('.') || '(root)';
    throw new ConfigError(`reidentification.${key}`, first.message);
  }
  return value;
}
