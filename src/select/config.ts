/**
 * Configuration of lawful selection at the edge (REQUIREMENTS R-FEED, R-SEL; DESIGN sections 5-6):
 * the mode, the domestic country, the feeds with their legal channel and basis, the documents and
 * keys that prove the basis, and how quickly a feed stops after its basis ends. Declared once with
 * typebox; `resolveSelectionConfig` applies defaults and checks the rules a schema cannot express,
 * throwing `ConfigError` with the failing key (`select.feeds.1.agreementId`).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { Duration, parseDuration, Section } from '../common/config.ts';
import { ConfigError } from '../common/errors.ts';
import { LEGAL_CHANNELS, type LegalChannel } from '../common/schema/legal.ts';
import { TrustedKeyConfigSchema } from '../common/signing/trust.ts';
import { tryParseAddress, formatAddress } from '../common/prefixes/index.ts';

const Id = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' });

/** Channels whose basis is a commission approval (R-FEED-1). */
export const APPROVAL_CHANNELS: readonly LegalChannel[] = [
  'transit-foreign-to-foreign',
  'specified-foreign-to-domestic',
  'specified-domestic-to-foreign',
];
/** Channels whose basis is a signed operator agreement (DESIGN section 5). */
export const AGREEMENT_CHANNELS: readonly LegalChannel[] = [
  'agreement-foreign-to-domestic',
  'operator-telemetry',
];

/** Most feeds per edge: each record is tried against every feed of its exporter. */
export const MAX_FEEDS = 64;
/** Most exporters listed per feed. */
export const MAX_FEED_EXPORTERS = 10_000;

/** One ingest feed (R-FEED-1): exactly one channel and its basis. */
export const FeedConfigSchema = Type.Object(
  {
    id: Type.String({ ...Id, description: 'Feed id, unique on this edge; stamped as provenance.feedId.' }),
    providerId: Type.String({
      ...Id,
      description: 'The provider the feed belongs to (provenance.providerId).',
    }),
    channel: Type.Union(
      LEGAL_CHANNELS.map((c) => Type.Literal(c)),
      { description: 'The one legal channel of the feed.' },
    ),
    approvalIds: Type.Optional(
      Type.Array(Id, {
        minItems: 1,
        maxItems: 64,
        uniqueItems: true,
        description:
          'Commission approvals whose selectors the feed applies (required for transit and specified channels; optional selectors for agreement channels).',
      }),
    ),
    agreementId: Type.Optional(
      Type.String({
        ...Id,
        description:
          'The signed operator agreement (required for agreement-foreign-to-domestic and operator-telemetry).',
      }),
    ),
    exporters: Type.Union(
      [
        Type.Literal('all'),
        Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
          minItems: 1,
          maxItems: MAX_FEED_EXPORTERS,
        }),
      ],
      {
        description:
          "Exporter identities (addresses as the collector reports them, `file`, `unix:PATH`) whose records belong to the feed, or 'all'.",
      },
    ),
    recordTypes: Type.Optional(
      Type.Array(Type.Union([Type.Literal('flow'), Type.Literal('dns')]), {
        minItems: 1,
        uniqueItems: true,
        description: 'Record types the feed takes (default both).',
      }),
    ),
  },
  { additionalProperties: false },
);
/** One feed. */
export type FeedConfig = Static<typeof FeedConfigSchema>;

/** Mode of the edge: demonstration documents are accepted only in `demo` and `eval` (DESIGN section 5). */
export type SelectionMode = 'production' | 'demo' | 'eval';

/** The `select` section. */
export const SelectionConfigSchema = Section(
  {
    mode: Type.Union([Type.Literal('production'), Type.Literal('demo'), Type.Literal('eval')], {
      default: 'production',
      description: 'production refuses demonstration keys and documents; demo and eval accept them.',
    }),
    domesticCountry: Type.String({
      pattern: '^[A-Z]{2}$',
      default: 'JP',
      description: 'ISO 3166 alpha-2 code of the country whose space is domestic.',
    }),
    stopGraceMs: Duration({
      default: '1m',
      minimumMs: 0,
      description:
        'How long after an approval or agreement ends (expiry or revocation) its feed may still take records whose event time lies inside the window; then it stops.',
    }),
    maxClockSkewMs: Duration({
      default: '5m',
      description:
        'How far a signed document may be dated in the future (clock skew between centre and edge).',
    }),
    feeds: Type.Array(FeedConfigSchema, {
      default: [],
      maxItems: MAX_FEEDS,
      description: 'The feeds of this edge.',
    }),
    trustedKeys: Type.Array(TrustedKeyConfigSchema, {
      default: [],
      description: 'Commission public keys trusted for approvals, agreements and revocations.',
    }),
    documents: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'Files of signed approvals, agreements and revocations (JSON, one document or an array).',
    }),
    indicatorLists: Type.Record(
      Type.String({ minLength: 1, maxLength: 500 }),
      Type.String({ minLength: 1 }),
      {
        default: {},
        description:
          'listRef of an indicator-list selector -> file with one address, prefix or domain per line.',
      },
    ),
    exporterAliases: Type.Record(Type.String({ minLength: 1, maxLength: 200 }), Id, {
      default: {},
      description:
        'Exporter identity -> name used in record ids instead of the identity, so router addresses do not travel.',
    }),
    operatorsFile: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Operators file (critical-infrastructure registry): narrows agreements to active operators and adds their waivers.',
      }),
    ),
    legalParametersFile: Type.Optional(
      Type.String({ minLength: 1, description: 'Override file of legal parameters (adds versions).' }),
    ),
  },
  'Lawful automatic selection at the provider edge (src/select).',
);
/** The `select` section, resolved (durations in ms). */
export type SelectionConfig = Static<typeof SelectionConfigSchema>;

function pointerKey(prefix: string, pointer: string): string {
  const rest = pointer
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
  return rest ? `${prefix}.${rest}` : prefix;
}

/**
 * Canonical form of an exporter identity: addresses in canonical text (so `2001:DB8::1` in the
 * configuration matches `2001:db8::1` from the collector); anything else as written.
 */
export function canonicalExporter(e: string): string {
  const a = tryParseAddress(e);
  return a ? formatAddress(a) : e;
}

/**
 * Applies defaults, converts durations and checks the section. `prefix` is the key path of the
 * section in the root configuration (for error keys). Throws `ConfigError` naming the failing key.
 */
export function resolveSelectionConfig(value: unknown, prefix = 'select'): SelectionConfig {
  const v = structuredClone(value ?? {}) as Record<string, unknown>;
  for (const k of ['stopGraceMs', 'maxClockSkewMs']) {
    if (k in v && typeof v[k] !== 'number') {
      const ms = parseDuration(v[k]);
      if (ms === undefined) throw new ConfigError(`${prefix}.${k}`, 'not a duration (use e.g. 30s, 10m)');
      v[k] = ms;
    }
  }
  const withDefaults = Value.Default(SelectionConfigSchema, v) as Record<string, unknown>;
  for (const k of ['stopGraceMs', 'maxClockSkewMs'])
    if (typeof withDefaults[k] === 'string') withDefaults[k] = parseDuration(withDefaults[k]);
  const first = Value.Errors(SelectionConfigSchema, withDefaults).First();
  if (first) {
    const unknown = first.message.includes('Unexpected property');
    throw new ConfigError(
      pointerKey(prefix, first.path),
      unknown ? 'unknown key' : first.message.toLowerCase(),
    );
  }
  const c = withDefaults as SelectionConfig;
  checkFeeds(c.feeds, prefix);
  return c;
}

/** The rules of R-FEED-1 that a schema cannot say. */
function checkFeeds(feeds: readonly FeedConfig[], prefix: string): void {
  const ids = new Set<string>();
  feeds.forEach((f, i) => {
    const at = `${prefix}.feeds.${i}`;
    if (ids.has(f.id)) throw new ConfigError(`${at}.id`, `duplicate feed id ${f.id}`);
    ids.add(f.id);
    if (APPROVAL_CHANNELS.includes(f.channel)) {
      if (f.approvalIds === undefined)
        throw new ConfigError(
          `${at}.approvalIds`,
          `channel ${f.channel} needs at least one commission approval`,
        );
      if (f.agreementId !== undefined)
        throw new ConfigError(`${at}.agreementId`, `channel ${f.channel} is not an agreement channel`);
    } else if (f.agreementId === undefined) {
      throw new ConfigError(`${at}.agreementId`, `channel ${f.channel} needs a signed operator agreement`);
    }
    if (f.exporters !== 'all') {
      const seen = new Set<string>();
      f.exporters.forEach((e, j) => {
        const c = canonicalExporter(e);
        if (seen.has(c)) throw new ConfigError(`${at}.exporters.${j}`, 'listed twice');
        seen.add(c);
      });
    }
  });
}
