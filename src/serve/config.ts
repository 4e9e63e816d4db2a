/**
 * Configuration of the centre's HTTP API (`serve` section): where it listens, TLS, rate limits,
 * request limits and the live-event stream. Plain HTTP is only allowed on loopback addresses; the
 * check happens at start-up (`createServer(...).start()`), naming the key.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Duration, Section, loadConfig } from '../common/config.ts';

/** The `serve` section. */
export const ServeConfigSchema = Section(
  {
    host: Type.String({
      minLength: 1,
      maxLength: 255,
      default: '127.0.0.1',
      description:
        'Address to listen on. Plain HTTP is refused on non-loopback addresses: give serve.tlsCert and serve.tlsKey to listen elsewhere.',
    }),
    port: Type.Integer({
      minimum: 0,
      maximum: 65_535,
      default: 8080,
      description: 'TCP port to listen on (0 = any free port).',
    }),
    tlsCert: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'PEM certificate (chain) file; with serve.tlsKey the API speaks HTTPS only.',
      }),
    ),
    tlsKey: Type.Optional(
      Type.String({ minLength: 1, description: 'PEM private key file of serve.tlsCert.' }),
    ),
    rateLimit: Section(
      {
        max: Type.Integer({
          minimum: 0,
          maximum: 1_000_000,
          default: 1200,
          description:
            'Requests allowed per token (or per client address without a token) per window; 0 disables rate limiting (benchmarks).',
        }),
        window: Duration({
          default: '1m',
          minimumMs: 1000,
          description: 'Length of the rate-limit window.',
        }),
      },
      'Rate limits per token, or per client address for requests without a token.',
    ),
    bodyLimitBytes: Type.Integer({
      minimum: 1024,
      maximum: 16 * 1024 * 1024,
      default: 64 * 1024,
      description: 'Largest request body accepted (the API only takes small JSON bodies).',
    }),
    session: Section(
      {
        idle: Duration({
          default: '30m',
          minimumMs: 1000,
          description: 'A dashboard session ends after this long without a request.',
        }),
        maxAge: Duration({
          default: '12h',
          minimumMs: 1000,
          description: 'A dashboard session ends this long after login, active or not.',
        }),
        maxSessions: Type.Integer({
          minimum: 1,
          maximum: 1_000_000,
          default: 10_000,
          description: 'Sessions held at once; the oldest is ended beyond.',
        }),
      },
      'Dashboard sessions after a password login (POST /api/session/login); held in memory.',
    ),
    login: Section(
      {
        freeFailures: Type.Integer({
          minimum: 1,
          maximum: 100,
          default: 5,
          description:
            'Failed logins per user and per client address at which backoff starts (the n-th failure locks for baseDelay).',
        }),
        baseDelay: Duration({
          default: '1s',
          minimumMs: 1,
          description: 'First lock-out after the free failures; doubles with each further failure.',
        }),
        maxDelay: Duration({
          default: '15m',
          minimumMs: 1,
          description: 'Longest lock-out of a user or address.',
        }),
      },
      'Rate limit of password logins, per user and per client address, with exponential backoff.',
    ),
    sse: Section(
      {
        ringSize: Type.Integer({
          minimum: 16,
          maximum: 1_000_000,
          default: 4096,
          description:
            'Live events kept for Last-Event-ID catch-up; a client that was away longer gets what is left.',
        }),
        heartbeat: Duration({
          default: '15s',
          minimumMs: 10,
          description:
            'Interval of heartbeat comments on idle event streams (keeps proxies from closing them).',
        }),
        statsInterval: Duration({
          default: '1s',
          description:
            'Interval of `stats` events (overview totals and per-provider rates) published by the server; 0 when the centre publishes its own.',
        }),
        maxClients: Type.Integer({
          minimum: 1,
          maximum: 10_000,
          default: 256,
          description: 'Concurrent event-stream connections; more are refused with 429.',
        }),
        maxBufferedBytes: Type.Integer({
          minimum: 65_536,
          maximum: 256 * 1024 * 1024,
          default: 4 * 1024 * 1024,
          description:
            'Bytes queued for a slow event-stream client before it is disconnected (it reconnects with Last-Event-ID).',
        }),
      },
      'Server-sent live events (/api/events).',
    ),
  },
  'The HTTP API and dashboard server of the centre.',
);

/** A loaded `serve` section (durations in ms). */
export type ServeConfig = Static<typeof ServeConfigSchema>;

/** The defaults, with optional overrides (for tests and embedding). */
export function defaultServeConfig(overrides: Partial<ServeConfig> = {}): ServeConfig {
  // Through `loadConfig` so durations are normalised to ms exactly as from a file.
  const base = loadConfig(Type.Object({ serve: ServeConfigSchema }), { env: {} }).serve;
  return { ...base, ...overrides };
}
