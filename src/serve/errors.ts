/**
 * Errors of the HTTP API. Every error that reaches a client goes through one handler
 * (`problem.ts`), which maps the stable `code` to an HTTP status and an RFC 9457 problem; callers
 * of `ServeDeps.actions` throw these (or any `AcdError` whose code the table knows).
 */
import { AcdError, ConfigError } from '../common/errors.ts';

/** A request parameter or body that is not acceptable (400). */
export class ValidationError extends AcdError {
  /** The parameter at fault (`query.from`, `body.reason` …). */
  readonly parameter: string;
  constructor(parameter: string, message: string) {
    super('ERR_VALIDATION', `${parameter}: ${message}`);
    this.parameter = parameter;
  }
}

/** No valid bearer token or session cookie (401); also a refused login. */
export class UnauthorisedError extends AcdError {
  constructor(message = 'a valid bearer token or session is required') {
    super('ERR_UNAUTHORISED', message);
  }
}

/** The caller is known but may not do this (403); issue 8 raises it for roles and purposes. */
export class ForbiddenError extends AcdError {
  constructor(message: string) {
    super('ERR_FORBIDDEN', message);
  }
}

/** A cookie-authenticated state-changing request without the session's CSRF token (403). */
export class CsrfError extends AcdError {
  constructor(message = 'the X-CSRF-Token header does not match the session') {
    super('ERR_CSRF', message);
  }
}

/** The addressed object does not exist (404). */
export class NotFoundError extends AcdError {
  /** What was looked for (`alert`, `incident`, `suppression`, `route`). */
  readonly kind: string;
  constructor(kind: string, id: string) {
    super('ERR_NOT_FOUND', `${kind} ${JSON.stringify(id)} not found`);
    this.kind = kind;
  }
}

/** A state change that the incident lifecycle does not allow (409). */
export class IncidentTransitionError extends AcdError {
  constructor(from: string, to: string) {
    super('ERR_INCIDENT_TRANSITION', `an incident cannot go from ${from} to ${to}`);
  }
}

/** A pagination cursor that was not issued by this server or no longer applies (400). */
export class BadCursorError extends AcdError {
  constructor(message = 'the cursor is not valid for this query') {
    super('ERR_BAD_CURSOR', message);
  }
}

/** Too many requests for this token or address in the current window (429). */
export class RateLimitedError extends AcdError {
  /** Seconds until the window resets. */
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super('ERR_RATE_LIMITED', `rate limit exceeded, retry in ${retryAfterSeconds} s`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A dependency the request needs (store, live view) is not available right now (503). */
export class UnavailableError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_UNAVAILABLE', message, options);
  }
}

/**
 * Plain HTTP requested on a non-loopback address, or half a TLS configuration: refused at
 * start-up. A `ConfigError` (code `ERR_CONFIG_INVALID`) so the CLI reports it like any bad key.
 */
export class InsecureBindError extends ConfigError {
  constructor(key: string, message: string) {
    super(key, message);
  }
}

/** The TLS certificate or key could not be read or does not form a usable pair. */
export class TlsConfigError extends ConfigError {
  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super(key, message, options);
  }
}
