/**
 * Configuration of `acd centre`: one YAML file with sections `bus`, `store`, `serve`, `detect`,
 * `correlate` and `centre` (and `ACD_…` environment overrides, as every acd configuration). The
 * `bus` section is the edge's (`edge.bus`): the same JetStream servers, subjects and credentials.
 */
import { readFile, stat } from 'node:fs/promises';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../../common/errors.ts';
import { Duration, loadConfig, Section, type ConfigSource } from '../../common/config.ts';
import { CorrelateConfigSchema } from '../../correlate/index.ts';
import { DetectConfigSchema } from '../../detect/index.ts';
import { ServeConfigSchema } from '../../serve/index.ts';
import { PURPOSES, ROLES } from '../../serve/access.ts';
import type { TokenEntry } from '../../serve/auth.ts';
import { MAX_TOKEN_LENGTH, MIN_TOKEN_LENGTH } from '../../serve/auth.ts';
import { StoreConfigSchema } from '../../store/config.ts';
import { AuditConfigSchema } from '../../oversee/audit/config.ts';
import { ReidentifyConfigSchema } from '../../oversee/reidentify/config.ts';
import { EdgeConfigSchema } from '../edge/config.ts';
import { DEFAULT_INGEST } from './centre.ts';

function optionalSection<T extends TSchema>(schema: T): T {
  return { ...schema, default: {} };
}

/** The `centre` section: what only the centre process has. */
export const CentreSectionSchema = Section(
  {
    consumer: Type.String({
      default: 'centre',
      pattern: '^[A-Za-z0-9_-]{1,64}$',
      description: 'Durable bus consumer name (a restarted centre resumes where it acknowledged).',
    }),
    operatorsFile: Type.String({
      default: '',
      description: 'Operators registry (JSON, as written by acd generate --operators-out); empty: none.',
    }),
    indicatorsFile: Type.String({
      default: '',
      description: 'Indicator feed (CSV) for the indicator detector; empty: none.',
    }),
    tokensFile: Type.String({
      default: '',
      description:
        'API tokens: a JSON array of {token, user, role, defaultPurpose, purposes?} (mode 0600). Empty: ACD_DEMO_TOKEN or a generated analyst token.',
    }),
    evidenceRetention: Duration({
      default: '30d',
      minimumMs: 3_600_000,
      description: 'How long evidence is kept after its window ends.',
    }),
    retentionInterval: Duration({
      default: '1h',
      minimumMs: 60_000,
      description:
        'How often the retention job runs: it deletes what is past its deadline (records, evidence, alerts, incidents, rollups, caches) and issues a signed deletion certificate.',
    }),
    legalParametersFile: Type.String({
      default: '',
      description:
        'Override file of legal parameters (adds versions with effective dates: retention, deadlines, approval kinds); empty: the shipped table.',
    }),
    ingest: Section(
      {
        parallel: Type.Integer({
          minimum: 1,
          maximum: 256,
          default: DEFAULT_INGEST.parallel,
          description:
            'Bus subscribers of the data consumer: batches in flight that can share one store append.',
        }),
        appendInterval: Duration({
          default: `${DEFAULT_INGEST.appendIntervalMs}ms`,
          minimumMs: 1,
          description:
            'Records are appended at the latest this long after the first one waits (acknowledged after).',
        }),
        appendMaxRecords: Type.Integer({
          minimum: 1,
          maximum: 1_000_000,
          default: DEFAULT_INGEST.appendMaxRecords,
          description: 'Append as soon as this many records wait.',
        }),
      },
      'Coalescing of record appends across bus batches.',
    ),
    statusInterval: Duration({ default: '1s', minimumMs: 100, description: 'Status line refresh.' }),
  },
  'The centre process.',
);

/** The whole `acd centre` configuration. */
export const CentreConfigSchema = Type.Object(
  {
    bus: optionalSection(EdgeConfigSchema.properties.bus),
    store: optionalSection(StoreConfigSchema),
    serve: optionalSection(ServeConfigSchema),
    detect: optionalSection(DetectConfigSchema),
    correlate: optionalSection(CorrelateConfigSchema),
    audit: optionalSection(AuditConfigSchema),
    reidentification: optionalSection(ReidentifyConfigSchema),
    centre: CentreSectionSchema,
  },
  { additionalProperties: false, default: {} },
);

/** A loaded centre configuration. */
export type CentreConfig = Static<typeof CentreConfigSchema>;

/** Loads the centre's configuration from a YAML file (optional) and the environment. */
export function loadCentreConfig(source: ConfigSource = {}): CentreConfig {
  return loadConfig(CentreConfigSchema, source);
}

/** Largest tokens file read (bytes) and entries accepted. */
export const MAX_TOKENS_FILE_BYTES = 1 << 20;
export const MAX_TOKENS = 10_000;

const TokenEntrySchema = Type.Object(
  {
    token: Type.String({ minLength: MIN_TOKEN_LENGTH, maxLength: MAX_TOKEN_LENGTH }),
    user: Type.String({ minLength: 1, maxLength: 128 }),
    role: Type.Union(ROLES.map((r) => Type.Literal(r))),
    defaultPurpose: Type.Union(PURPOSES.map((p) => Type.Literal(p))),
    purposes: Type.Optional(Type.Array(Type.Union(PURPOSES.map((p) => Type.Literal(p))), { maxItems: 16 })),
  },
  { additionalProperties: false },
);
const TokensSchema = Type.Array(TokenEntrySchema, { maxItems: MAX_TOKENS });

/** Parses a tokens file's text (untrusted shape; bounded). Throws `ConfigError` naming the key. */
export function parseTokens(text: string): TokenEntry[] {
  if (text.length > MAX_TOKENS_FILE_BYTES)
    throw new ConfigError('centre.tokensFile', `larger than ${MAX_TOKENS_FILE_BYTES} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('centre.tokensFile', 'not JSON', { cause: err });
  }
  if (!Value.Check(TokensSchema, v)) {
    const first = Value.Errors(TokensSchema, v).First();
    throw new ConfigError('centre.tokensFile', `${first?.path || '(root)'}: ${first?.message ?? 'invalid'}`);
  }
  const seen = new Set<string>();
  for (const e of v) {
    if (seen.has(e.token)) throw new ConfigError('centre.tokensFile', `duplicate token of ${e.user}`);
    seen.add(e.token);
  }
  return v;
}

/** Reads and parses the tokens file. */
export async function readTokensFile(path: string): Promise<TokenEntry[]> {
  const s = await stat(path);
  if (s.size > MAX_TOKENS_FILE_BYTES)
    throw new ConfigError('centre.tokensFile', `${path} is larger than ${MAX_TOKENS_FILE_BYTES} bytes`);
  return parseTokens(await readFile(path, 'utf8'));
}
