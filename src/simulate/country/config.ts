/**
 * Parameters of the synthetic country. Every field has a default; `resolveCountryConfig` fills
 * them in and checks bounds, naming the bad key.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../../common/errors.ts';

/** Flow export formats an exporter can be configured with. */
export const EXPORT_FORMATS = ['ipfix', 'netflow9', 'netflow5', 'sflow5'] as const;

/** Schema of the country parameters (defaults included). */
export const CountryConfigSchema = Type.Object(
  {
    seed: Type.Integer({
      minimum: 0,
      maximum: 0xffffffff,
      default: 1,
      description: 'Random seed: same seed and table → identical model.',
    }),
    domesticCountry: Type.String({
      pattern: '^[A-Z]{2}$',
      default: 'JP',
      description: 'ISO 3166 alpha-2 code of the domestic country.',
    }),
    providers: Type.Integer({
      minimum: 1,
      maximum: 20,
      default: 3,
      description: 'Number of domestic providers (largest domestic ASNs by address space).',
    }),
    providerAsns: Type.Array(Type.Integer({ minimum: 1, maximum: 0xffffffff }), {
      default: [],
      description: 'Explicit provider ASNs (domestic, in the ASN table); empty = choose the largest.',
    }),
    exportersPerProvider: Type.Integer({
      minimum: 1,
      maximum: 16,
      default: 2,
      description: 'Flow exporters per provider (each on its own 127.0.0.x).',
    }),
    exportFormat: Type.Union(
      EXPORT_FORMATS.map((f) => Type.Literal(f)),
      { default: 'ipfix', description: 'Default export format of every exporter.' },
    ),
    samplingRates: Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), {
      minItems: 1,
      default: [1, 100, 1000],
      description: 'Packet sampling rates (1-in-N) that exporters are given, chosen per exporter.',
    }),
    subscribersV4: Type.Integer({
      minimum: 1,
      maximum: 100000,
      default: 200,
      description: 'IPv4 subscribers per provider.',
    }),
    subscribersV6: Type.Integer({
      minimum: 0,
      maximum: 100000,
      default: 50,
      description: 'IPv6 subscribers per provider (if it has IPv6 space).',
    }),
    serversPerProvider: Type.Integer({
      minimum: 0,
      maximum: 1000,
      default: 10,
      description: 'Servers (web, mail, DNS) per provider.',
    }),
    resolversPerProvider: Type.Integer({
      minimum: 1,
      maximum: 16,
      default: 2,
      description: 'Recursive resolvers per provider.',
    }),
    foreignHosts: Type.Integer({
      minimum: 1,
      maximum: 100000,
      default: 400,
      description: 'Foreign hosts sampled from other countries.',
    }),
    foreignV6Share: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.2,
      description: 'Share of foreign hosts with IPv6 addresses.',
    }),
    foreignCountryWeights: Type.Record(Type.String({ pattern: '^[A-Z]{2}$' }), Type.Number({ minimum: 0 }), {
      default: { US: 30, CN: 14, KR: 8, DE: 8, NL: 7, RU: 7, BR: 5, SG: 6, GB: 7, FR: 6, IN: 4, VN: 3 },
      description: 'Relative weight of each foreign country when sampling hosts.',
    }),
    cloudHostsPerOrg: Type.Integer({
      minimum: 0,
      maximum: 1000,
      default: 8,
      description: 'Hosts per cloud/CDN organisation (Amazon, Google, Microsoft, Cloudflare, Akamai).',
    }),
    operatorsPerSector: Type.Integer({
      minimum: 1,
      maximum: 50,
      default: 3,
      description: 'Critical-infrastructure operators per sector.',
    }),
    referenceDate: Type.String({
      pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
      default: '2026-04-01',
      description: 'Date agreements are dated against (no wall clock, so the model is reproducible).',
    }),
  },
  { additionalProperties: false },
);

/** The country parameters, defaults applied. */
export type CountryConfig = Static<typeof CountryConfigSchema>;

/** Fills defaults into a partial configuration and validates it; throws `ConfigError` naming the key. */
export function resolveCountryConfig(partial: Partial<CountryConfig> = {}): CountryConfig {
  const value = Value.Default(CountryConfigSchema, structuredClone(partial));
  const first = Value.Errors(CountryConfigSchema, value).First();
  if (first) {
    const key = first.path.split('/').filter(Boolean).join('.') || '(root)';
    throw new ConfigError(`country.${key}`, first.message);
  }
  return value as CountryConfig;
}
