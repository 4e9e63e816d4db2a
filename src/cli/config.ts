import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Section, loadConfig, type ConfigSource } from '../common/config.ts';
import { CollectConfigSchema } from '../collect/config.ts';
import { SelectionConfigSchema, resolveSelectionConfig } from '../select/config.ts';
import { EdgeConfigSchema } from './edge/config.ts';
import { DetectConfigSchema } from '../detect/config.ts';
import { CorrelateConfigSchema } from '../correlate/config.ts';
import { StoreConfigSchema } from '../store/config.ts';
import { ServeConfigSchema } from '../serve/config.ts';
import { AuditConfigSchema } from '../oversee/audit/config.ts';
import { RetentionConfigSchema } from '../oversee/retention/config.ts';
import { ReidentifyConfigSchema } from '../oversee/reidentify/config.ts';

/** The `log` section. */
const LogConfigSchema = Section(
  {
    level: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info', description: 'Minimum level of log lines written to stderr.' },
    ),
  },
  'Logging.',
);

/** A section schema that may be left out of the file (every key has a default). */
function optionalSection<T extends TSchema>(schema: T): T {
  return { ...schema, default: {} };
}

/** The whole configuration of acd: one section per component. */
export const AcdConfigSchema = Type.Object(
  {
    log: LogConfigSchema,
    collect: CollectConfigSchema,
    select: SelectionConfigSchema,
    edge: EdgeConfigSchema,
    detect: optionalSection(DetectConfigSchema),
    correlate: optionalSection(CorrelateConfigSchema),
    store: optionalSection(StoreConfigSchema),
    serve: optionalSection(ServeConfigSchema),
    audit: optionalSection(AuditConfigSchema),
    retention: optionalSection(RetentionConfigSchema),
    reidentification: optionalSection(ReidentifyConfigSchema),
  },
  { additionalProperties: false, default: {} },
);

/** A loaded configuration. */
export type AcdConfig = Static<typeof AcdConfigSchema>;

/** Loads the configuration from a YAML file (optional) and `ACD_…` environment overrides. */
export function loadAcdConfig(source: ConfigSource = {}): AcdConfig {
  const config = loadConfig(AcdConfigSchema, source);
  // Rules a schema cannot express (one basis per channel, unique feed ids), named by key.
  config.select = resolveSelectionConfig(config.select, 'select');
  return config;
}
