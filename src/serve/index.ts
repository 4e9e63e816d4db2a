/** The centre's HTTP API (issue 7): what the CLI wiring and other components may use. */
export { createServer, isLoopbackHost, DOCS_PREFIX, OPENAPI_PATH } from './server.ts';
export type { ApiServer, ServeAddress, ServeApp } from './server.ts';
export { ServeConfigSchema, defaultServeConfig, type ServeConfig } from './config.ts';
export {
  createTokenAuth,
  demoTokenEntry,
  demoRoleTokenEntries,
  DEMO_ROLE_TOKEN_ENVS,
  generateToken,
  tokenDigest,
  parseBearer,
  DEMO_TOKEN_ENV,
  MIN_TOKEN_LENGTH,
  MAX_TOKEN_LENGTH,
  type Actor,
  type Principal,
  type TokenAuth,
  type TokenEntry,
  type UserDirectory,
  type UserSummary,
} from './auth.ts';
export { SESSION_COOKIE, CSRF_COOKIE, CSRF_HEADER } from './session.ts';
export { createEventHub, type EventHub, type EventType, type HubEvent } from './events.ts';
export {
  ROLES,
  PURPOSES,
  PUBLIC,
  ACCESS,
  ROLE_PURPOSES,
  ORGANISATION_ROLES,
  decideAccess,
  defaultPurposeOf,
  isPurpose,
  isRole,
  requires,
  routeAccess,
  type AccessDecision,
  type Purpose,
  type Role,
  type RouteAccess,
} from './access.ts';
export {
  BadCursorError,
  CsrfError,
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
