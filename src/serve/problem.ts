/**
 * The one place where errors become HTTP responses: RFC 9457 problem details
 * (`application/problem+json`) with the stable `code`. Internal errors answer 500 with a generic
 * detail; their message and stack only go to the log.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AcdError, errorCode } from '../common/errors.ts';
import type { Logger } from '../common/logging.ts';
import type { Counter } from '../common/metrics.ts';
import { RateLimitedError } from './errors.ts';

/** Problem details as sent. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance: string;
}

/** Media type of problem responses. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Status of each known code. */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  ERR_VALIDATION: 400,
  ERR_BAD_CURSOR: 400,
  ERR_STORE_BAD_CURSOR: 400,
  ERR_STORE_BAD_QUERY: 400,
  ERR_SUPPRESSION_RULE: 400,
  ERR_UNAUTHORISED: 401,
  ERR_FORBIDDEN: 403,
  ERR_CSRF: 403,
  ERR_NOT_FOUND: 404,
  ERR_INCIDENT_TRANSITION: 409,
  ERR_CONFLICT: 409,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_RATE_LIMITED: 429,
  ERR_UNAVAILABLE: 503,
  ERR_STORE_CLOSED: 503,
  // Re-identification (src/oversee/reidentify/errors.ts); *_NOT_FOUND and *_TRANSITION map by convention.
  ERR_REID_SAME_PERSON: 409,
  ERR_REID_NO_SIGNING_KEY: 403,
  ERR_REID_CASE_NOT_APPROVED: 409,
  ERR_REID_RECORD_MISMATCH: 400,
  ERR_REID_REQUEST_INVALID: 400,
  ERR_REID_NOT_PARTY: 403,
  ERR_REID_ALREADY_REVEALED: 409,
  ERR_REID_REVEAL_EXPIRED: 409,
  ERR_REID_UNAVAILABLE: 503,
};

/**
 * The status of an `AcdError` code: the table, then conventions that let other components' codes
 * map without this file knowing them (`…_NOT_FOUND` 404, `…_CURSOR…` 400 (a store's bad cursor),
 * `…_TRANSITION` 409); anything else is an internal error (500).
 */
export function statusOfCode(code: string): number {
  const s = STATUS_BY_CODE[code];
  if (s !== undefined) return s;
  if (code.endsWith('_NOT_FOUND')) return 404;
  if (code.includes('_CURSOR')) return 400;
  if (code.endsWith('_TRANSITION')) return 409;
  return 500;
}

/** Fastify's own errors that are the client's fault, and what they become. */
const FASTIFY_CODES: Readonly<Record<string, { code: string; status: number }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'ERR_PAYLOAD_TOO_LARGE', status: 413 },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'ERR_UNSUPPORTED_MEDIA_TYPE', status: 415 },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'ERR_VALIDATION', status: 400 },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'ERR_VALIDATION', status: 400 },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'ERR_VALIDATION', status: 400 },
  FST_ERR_VALIDATION: { code: 'ERR_VALIDATION', status: 400 },
};

/** The problem for an error (pure; `instance` is the request path without its query). */
export function toProblem(err: unknown, path: string): Problem {
  let status = 500;
  let code = 'ERR_INTERNAL';
  let detail = 'internal error';
  if (err instanceof AcdError) {
    code = err.code;
    status = statusOfCode(code);
    if (status < 500 || status === 503) detail = err.message;
  } else if (typeof err === 'object' && err !== null) {
    const fe = err as Partial<FastifyError>;
    const known = typeof fe.code === 'string' ? FASTIFY_CODES[fe.code] : undefined;
    if (fe.validation !== undefined || known) {
      code = known?.code ?? 'ERR_VALIDATION';
      status = known?.status ?? 400;
      detail = typeof fe.message === 'string' ? fe.message : 'invalid request';
    } else if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      // Another client error raised by a plugin (e.g. 406 from static): keep its status.
      status = fe.statusCode;
      code = 'ERR_REQUEST';
      detail = typeof fe.message === 'string' ? fe.message : 'bad request';
    }
  }
  return {
    type: `urn:acd:problem:${code}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    code,
    instance: path,
  };
}

/** Request path without the query string (queries may hold addresses, so instances never do). */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Sends a problem (status, content type, `Retry-After` for 429). */
export function sendProblem(reply: FastifyReply, problem: Problem, err?: unknown): FastifyReply {
  if (err instanceof RateLimitedError) reply.header('retry-after', String(err.retryAfterSeconds));
  if (problem.status === 401) reply.header('www-authenticate', 'Bearer realm="acd"');
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** Builds the fastify error handler. */
export function problemErrorHandler(logger: Logger, problems: Counter) {
  return function handler(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const problem = toProblem(err, pathOf(request.url));
    problems.labels({ code: problem.code }).inc();
    if (problem.status >= 500 && problem.status !== 503) {
      logger.error({ err, code: errorCode(err), route: request.routeOptions.url }, 'request failed');
    } else {
      logger.debug({ code: problem.code, route: request.routeOptions.url }, 'request refused');
    }
    return sendProblem(reply, problem, err);
  };
}
