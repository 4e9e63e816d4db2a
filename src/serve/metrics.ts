/**
 * Counters of the API server (rendered `acd_serve_…`). Labels are status classes, problem codes
 * and event types only — never paths with ids, tokens or query values.
 */
import type { Counter, Gauge, MetricsRegistry } from '../common/metrics.ts';

/** The server's counters, created once per registry. */
export interface ServeMetrics {
  /** Responses by status class (`2xx`, `4xx` …). */
  readonly requests: Counter;
  /** Problem responses by code. */
  readonly problems: Counter;
  /** Requests refused for a missing or unknown token. */
  readonly authFailures: Counter;
  /** Requests refused by the rate limit. */
  readonly rateLimited: Counter;
  /** Authenticated requests refused for their role or purpose (403). */
  readonly accessDenied: Counter;
  /** Password logins, by outcome (`ok`, `refused`, `limited`). */
  readonly logins: Counter;
  /** Events written to event-stream clients, by type. */
  readonly sseEvents: Counter;
  /** Events replayed to reconnecting clients. */
  readonly sseReplayed: Counter;
  /** Event-stream clients disconnected because they did not keep up. */
  readonly sseSlowClients: Counter;
  /** Connected event-stream clients. */
  readonly sseClients: Gauge;
}

/** Creates (or reuses) the server's metrics in `registry`. */
export function createServeMetrics(registry: MetricsRegistry): ServeMetrics {
  return {
    requests: registry.counter('serve_requests', 'HTTP responses, by status class.'),
    problems: registry.counter('serve_problems', 'Problem (error) responses, by code.'),
    authFailures: registry.counter('serve_auth_failures', 'Requests without a valid bearer token.'),
    rateLimited: registry.counter('serve_rate_limited', 'Requests refused by the rate limit.'),
    accessDenied: registry.counter(
      'serve_access_denied',
      'Authenticated requests refused for their role or purpose.',
    ),
    logins: registry.counter('serve_logins', 'Password logins, by outcome (ok, refused, limited).'),
    sseEvents: registry.counter('serve_sse_events', 'Live events written to event-stream clients, by type.'),
    sseReplayed: registry.counter('serve_sse_replayed', 'Live events replayed after Last-Event-ID.'),
    sseSlowClients: registry.counter(
      'serve_sse_slow_clients',
      'Event-stream clients disconnected for not keeping up.',
    ),
    sseClients: registry.gauge('serve_sse_clients', 'Connected event-stream clients.'),
  };
}
