/** The centre's HTTP API (issue 7): what the CLI wiring and other components may use. */
export { createServer, isLoopbackHost, DOCS_PREFIX, OPENAPI_PATH } from './server.ts';
export type { ApiServer, ServeAddress, ServeApp } from './server.ts';
export { ServeConfigSchema, defaultServeConfig, type ServeConfig } from './config.ts';
export {
  createTokenAuth,
  demoTokenEntry,
  generateToken,
  DEMO_TOKEN_ENV,
  type Actor,
  type Principal,
  type TokenAuth,
  type TokenEntry,
} from './auth.ts';
export { createEventHub, type EventHub, type EventType, type HubEvent } from './events.ts';
export {
  ROLES,
  PURPOSES,
  PUBLIC,
  requires,
  routeAccess,
  type Purpose,
  type Role,
  type RouteAccess,
} from './access.ts';
export {
  BadCursorError,
  ForbiddenError,
  IncidentTransitionError,
  InsecureBindError,
  NotFoundError,
  RateLimitedError,
  TlsConfigError,
  UnauthorisedError,
  UnavailableError,
  ValidationError,
} from './errors.ts';
export { alertJson, incidentItemJson, incidentJson, ruleJson, selectedRecordJson } from './json.ts';
export type {
  ExporterHealth,
  FeedView,
  IndicatorView,
  LiveView,
  Overview,
  OverviewTotals,
  ProviderView,
  Readiness,
  ServeActions,
  ServeDeps,
} from './types.ts';
