/**
 * Configuration of correlation (section `correlate`) and of its exports (typebox schemas: bounds,
 * defaults and a description for every parameter). `resolveCorrelateConfig`, `resolveSyslogConfig`
 * and `resolveWebhookConfig` fill defaults and name the first bad key in a `ConfigError`. The
 * scoring formula that the `score.*` weights feed is documented in README.md and score.ts.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../common/errors.ts';

function int(min: number, max: number, def: number, description: string) {
  return Type.Integer({ minimum: min, maximum: max, default: def, description });
}
function num(min: number, max: number, def: number, description: string) {
  return Type.Number({ minimum: min, maximum: max, default: def, description });
}
function obj<T extends Record<string, TSchema>>(props: T, description: string) {
  return Type.Object(props, { default: {}, additionalProperties: false, description });
}

/** Weights and scales of the alert and incident score (score.ts). */
export const ScoreConfigSchema = obj(
  {
    repetitionWeight: num(0, 1, 0.3, 'Weight of repetition (evidence folded into the alert).'),
    durationWeight: num(0, 1, 0.15, 'Weight of duration (lastSeen \u2212 firstSeen).'),
    counterpartWeight: num(0, 1, 0.15, 'Weight of the number of counterparts (victims, servers).'),
    operatorWeight: num(
      0,
      1,
      0.4,
      'Weight of operator impact (1 when a critical-infrastructure operator is a victim, 0.5 when merely involved).',
    ),
    repetitionScale: num(
      0.1,
      1e6,
      4,
      'Evidence count scale: repetition term = 1 \u2212 exp(\u2212(evidenceCount \u2212 1) / scale).',
    ),
    durationScaleMs: int(
      1,
      30 * 86_400_000,
      3_600_000,
      'Duration scale: duration term = min(1, (lastSeen \u2212 firstSeen) / scale).',
    ),
    counterpartScale: num(
      0.1,
      1e6,
      8,
      'Counterpart scale: counterpart term = 1 \u2212 exp(\u2212(counterparts \u2212 1) / scale) (0 without counterparts).',
    ),
    suppressedFactor: num(
      0,
      1,
      0.2,
      'Multiplier applied to the score of an alert a suppression rule matched (down-ranked, not dropped).',
    ),
    campaignBoost: num(
      0,
      1,
      0.3,
      'Incident score = m + (1 \u2212 m) \u00b7 boost for a campaign, m the highest score of its unsuppressed alerts.',
    ),
  },
  'Alert and incident scoring.',
);

/** The `correlate` section. */
export const CorrelateConfigSchema = Type.Object(
  {
    alertGapMs: int(
      0,
      30 * 86_400_000,
      300_000,
      'Evidence of the same detector and subject whose window overlaps the alert or starts within this gap of its lastSeen folds into the alert.',
    ),
    minAlertSeverity: Type.Union(
      [Type.Literal('low'), Type.Literal('medium'), Type.Literal('high'), Type.Literal('critical')],
      {
        default: 'medium',
        description:
          'Evidence below this severity (as its detector rated it) does not open an alert; it still goes to the evidence store and folds into an open alert of the same detector and subject. Low is what detectors give look-alikes they down-rank (research scanners, backups, idle long connections).',
      },
    ),
    incidentGapMs: int(
      0,
      30 * 86_400_000,
      3_600_000,
      'An alert joins an incident it shares infrastructure, victims or sector with only when their event times are within this gap.',
    ),
    maxCounterparts: int(1, 10_000, 64, 'Counterparts kept per alert (deduplicated, first seen kept).'),
    evidenceHead: int(1, 1000, 5, 'Evidence items kept from the start of an alert (the first K).'),
    evidenceTail: int(1, 1000, 5, 'Evidence items kept from the end of an alert (the latest K).'),
    maxAlerts: int(
      16,
      10_000_000,
      100_000,
      'Alerts held in memory; beyond it the least recently updated alert is evicted (counted; its incident keeps its id).',
    ),
    maxIncidents: int(
      16,
      10_000_000,
      20_000,
      'Incidents held in memory; beyond it a closed incident (else the least recently updated) is evicted with its alerts (counted).',
    ),
    maxIncidentAlerts: int(
      2,
      1_000_000,
      10_000,
      'Alerts per incident; a full incident takes no more and new linked alerts start another incident.',
    ),
    maxIncidentMembers: int(
      1,
      100_000,
      1000,
      'Subjects and counterparts listed per incident (first seen kept; grouping still uses all of them).',
    ),
    groupBySector: Type.Boolean({
      default: true,
      description:
        'Group alerts whose victims are critical-infrastructure operators of the same sector (sector-wide campaigns).',
    }),
    campaignMinDetectors: int(
      2,
      9,
      2,
      'Distinct detectors (attack stages) among unsuppressed alerts that make an incident a campaign.',
    ),
    campaignMinVictims: int(
      2,
      1_000_000,
      5,
      'Distinct victim addresses among unsuppressed alerts that make an incident a campaign.',
    ),
    campaignMinSectors: int(
      2,
      15,
      2,
      'Distinct victim operators\u2019 sectors (or victim operators) that make an incident a campaign.',
    ),
    operatorRanges: Type.Union([Type.Literal('all'), Type.Literal('waived')], {
      default: 'all',
      description:
        "Which operator ranges addresses are matched against: 'all' for clear addresses (acd analyze, lab), 'waived' at a centre that sees pseudonyms (only ranges whose agreement waives pseudonymisation arrive in clear).",
    }),
    domainFacts: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      default: ['domain', 'registrableDomain', 'queryName', 'qname'],
      maxItems: 32,
      description:
        'Evidence fact names whose string values are DNS names matched against operators\u2019 domains.',
    }),
    operatorCacheEntries: int(0, 10_000_000, 65_536, 'Address \u2192 operator lookups remembered.'),
    score: ScoreConfigSchema,
  },
  { additionalProperties: false },
);

/** Resolved correlation configuration. */
export type CorrelateConfig = Static<typeof CorrelateConfigSchema>;
/** Scoring configuration. */
export type ScoreConfig = Static<typeof ScoreConfigSchema>;

/** A partial correlation configuration. */
export type CorrelateConfigInput = Partial<Omit<CorrelateConfig, 'score'>> & { score?: Partial<ScoreConfig> };

function check<T extends TSchema>(schema: T, section: string, partial: unknown): Static<T> {
  const value = Value.Default(schema, structuredClone(partial ?? {})) as Static<T>;
  const first = Value.Errors(schema, value).First();
  if (first) {
    const key = first.path.split('/').filter(Boolean).join('.') || '(root)';
    throw new ConfigError(`${section}.${key}`, first.message);
  }
  return value;
}

/** Fills defaults and validates; throws `ConfigError` naming the first bad key (`correlate.<key>`). */
export function resolveCorrelateConfig(partial: CorrelateConfigInput = {}): CorrelateConfig {
  const value = check(CorrelateConfigSchema, 'correlate', partial);
  const s = value.score;
  const sum = s.repetitionWeight + s.durationWeight + s.counterpartWeight + s.operatorWeight;
  if (sum > 1 + 1e-9)
    throw new ConfigError('correlate.score', `the four weights must sum to at most 1 (they sum to ${sum})`);
  if (value.maxIncidentAlerts > value.maxAlerts)
    throw new ConfigError('correlate.maxIncidentAlerts', 'must not exceed maxAlerts');
  return value;
}

/** Syslog (RFC 5424) sender parameters. */
export const SyslogConfigSchema = Type.Object(
  {
    transport: Type.Union([Type.Literal('udp'), Type.Literal('tcp')], {
      default: 'udp',
      description: "'udp' (RFC 5426, one message per datagram) or 'tcp' (RFC 6587 octet-counting framing).",
    }),
    host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Receiver host name or address.' }),
    port: int(1, 65_535, 514, 'Receiver port.'),
    facility: int(0, 23, 16, 'Syslog facility (16 = local0).'),
    hostname: Type.String({
      maxLength: 255,
      default: '',
      description: 'HOSTNAME field; empty = this machine\u2019s host name.',
    }),
    appName: Type.String({ minLength: 1, maxLength: 48, default: 'acd', description: 'APP-NAME field.' }),
    enterpriseNumber: int(
      1,
      2 ** 31 - 1,
      32473,
      'Private enterprise number of the SD-ID (`acd@<n>`); 32473 is the IANA documentation PEN (RFC 5612) until one is assigned.',
    ),
    maxMessageBytes: int(
      480,
      65_000,
      2048,
      'Largest message; longer ones have their MSG text truncated (RFC 5426: receivers must accept 480, should accept 2048).',
    ),
    queueSize: int(
      1,
      1_000_000,
      10_000,
      'Messages waiting for a TCP connection; beyond it they are dropped (counted).',
    ),
    reconnectMs: int(10, 600_000, 1000, 'First TCP reconnect delay (doubles up to 32\u00d7 this).'),
  },
  { additionalProperties: false },
);

/** Resolved syslog configuration. */
export type SyslogConfig = Static<typeof SyslogConfigSchema>;

/** Fills defaults and validates a syslog sender configuration (`correlate.syslog.<key>`). */
export function resolveSyslogConfig(partial: Partial<SyslogConfig> = {}): SyslogConfig {
  return check(SyslogConfigSchema, 'correlate.syslog', partial);
}

/** Webhook sender parameters. */
export const WebhookConfigSchema = Type.Object(
  {
    url: Type.String({ pattern: '^https?://', description: 'Receiver URL (http or https).' }),
    secret: Type.Optional(
      Type.String({
        minLength: 16,
        description:
          'HMAC-SHA-256 key: when set, requests carry `X-Acd-Signature: sha256=<hex>` over `<X-Acd-Timestamp>.<body>`.',
      }),
    ),
    maxQueue: int(
      1,
      1_000_000,
      10_000,
      'Bodies waiting to be sent; beyond it new ones are dropped (counted).',
    ),
    maxAttempts: int(1, 100, 6, 'Attempts per body (the first try included) before it is dropped (counted).'),
    backoffBaseMs: int(1, 600_000, 500, 'Delay before the first retry; doubled on each further retry.'),
    backoffMaxMs: int(1, 3_600_000, 30_000, 'Largest delay between retries.'),
    timeoutMs: int(100, 600_000, 10_000, 'Time allowed for one request (connect, send, response).'),
  },
  { additionalProperties: false },
);

/** Resolved webhook configuration. */
export type WebhookConfig = Static<typeof WebhookConfigSchema>;

/** Fills defaults and validates a webhook configuration (`correlate.webhook.<key>`). */
export function resolveWebhookConfig(partial: Partial<WebhookConfig> & { url: string }): WebhookConfig {
  return check(WebhookConfigSchema, 'correlate.webhook', partial);
}
