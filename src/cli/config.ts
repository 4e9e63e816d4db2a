import { Type, type Static } from '@sinclair/typebox';
import { Section, loadConfig, type ConfigSource } from '../common/config.ts';
import { CollectConfigSchema } from '../collect/config.ts';
import { SelectionConfigSchema, resolveSelectionConfig } from '../select/config.ts';
import { EdgeConfigSchema } from './edge/config.ts';

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

/** The whole configuration of acd: one section per component. */
export const AcdConfigSchema = Type.Object(
  {
    log: LogConfigSchema,
    collect: CollectConfigSchema,
    select: SelectionConfigSchema,
    edge: EdgeConfigSchema,
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
