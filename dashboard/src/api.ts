/**
 * The dashboard's only way to the centre: fetch with the bearer token or the session cookie (plus
 * its CSRF token on changes), JSON in and out, RFC 9457
 * problems turned into {@link ApiError}. A 401 clears the token and tells the app to show the
 * sign-in view.
 */
import { AcdError } from '../../src/common/errors.ts';
import { clearToken, credentialHeaders } from './auth.ts';
import type {
  ApiCase,
  AuditEntry,
  AuditVerdict,
  DeletionCertificate,
  OverdueResponse,
  PageResponse,
  Problem,
  RetentionStatus,
} from './types.ts';

/** The API answered with an error status; carries the problem details when there were any. */
export class ApiError extends AcdError {
  /** HTTP status. */
  readonly status: number;
  /** The problem document (title, detail, code …), or a synthetic one. */
  readonly problem: Problem;
  constructor(status: number, problem: Problem) {
    super(problem.code ?? `ERR_HTTP_${status}`, problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** Called when the API rejects the token (401): the app switches to the sign-in view. */
let onUnauthorised: () => void = () => undefined;

/** Registers what happens on a 401. */
export function setUnauthorisedHandler(fn: () => void): void {
  onUnauthorised = fn;
}

/** Headers for an authenticated request (bearer token, or the CSRF token of a session for changes). */
export function authHeaders(method = 'GET'): Record<string, string> {
  return credentialHeaders(method);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toProblem(status: number, statusText: string, body: unknown): Problem {
  if (!isRecord(body)) return { status, title: statusText || `HTTP ${status}` };
  const str = (k: string): string | undefined => (typeof body[k] === 'string' ? body[k] : undefined);
  const problem: Problem = { status };
  const title = str('title') ?? str('error');
  const detail = str('detail') ?? str('message');
  const code = str('code');
  const type = str('type');
  if (title !== undefined) problem.title = title;
  if (detail !== undefined) problem.detail = detail;
  if (code !== undefined) problem.code = code;
  if (type !== undefined) problem.type = type;
  return problem;
}

/** Sends a request; resolves with the parsed JSON body (undefined for 204). */
export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders(method) };
  const init: RequestInit = { method, headers };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text !== '') {
    try {
      parsed = JSON.parse(text) as unknown;
    } catch {
      parsed = undefined;
    }
  }
  if (!res.ok) {
    if (res.status === 401) {
      clearToken();
      onUnauthorised();
    }
    throw new ApiError(res.status, toProblem(res.status, res.statusText, parsed));
  }
  return parsed as T;
}

/** GET with query parameters (undefined and empty values left out). */
export function get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') qs.set(k, String(v));
  const s = qs.toString();
  return request<T>('GET', s === '' ? path : `${path}?${s}`);
}

/** POST a JSON body. */
export function post<T>(path: string, body: unknown): Promise<T> {
  return request<T>('POST', path, body);
}

/** One line for people: the problem's title, detail and code. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const p = err.problem;
    const parts = [p.title ?? `HTTP ${err.status}`];
    if (p.detail !== undefined && p.detail !== p.title) parts.push(p.detail);
    return `${parts.join(': ')} (${err.status}${p.code !== undefined ? ` ${p.code}` : ''})`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

// ---------------------------------------------------------------- oversight (issue 8)

/** `GET /api/cases`: approval cases, newest first, filtered by approval kind and state. */
export function listCases(q: {
  kind?: string;
  state?: string;
  limit?: number;
  cursor?: string;
}): Promise<PageResponse<ApiCase>> {
  return get<PageResponse<ApiCase>>('/api/cases', q);
}

/** `GET /api/cases/:id`. */
export function getCase(id: string): Promise<ApiCase> {
  return get<ApiCase>(`/api/cases/${encodeURIComponent(id)}`);
}

/** `POST /api/cases/:id/approve|reject` with the required reason; answers the updated case. */
export function decideCase(id: string, decision: 'approve' | 'reject', reason: string): Promise<ApiCase> {
  return post<ApiCase>(`/api/cases/${encodeURIComponent(id)}/${decision}`, { reason });
}

/** `GET /api/cases/overdue`: emergency notifications and responses past their deadline. */
export function overdueCases(): Promise<OverdueResponse> {
  return get<OverdueResponse>('/api/cases/overdue');
}

/** `GET /api/audit`: entries newest first; `action` is a prefix, `actor` exact. */
export function searchAudit(q: {
  from?: string;
  to?: string;
  actor?: string;
  action?: string;
  limit?: number;
  cursor?: string;
}): Promise<PageResponse<AuditEntry>> {
  return get<PageResponse<AuditEntry>>('/api/audit', q);
}

/** `POST /api/audit/verify`: the stored chain against the signed checkpoints. */
export function verifyAudit(): Promise<AuditVerdict> {
  return post<AuditVerdict>('/api/audit/verify', {});
}

/** `GET /api/retention`. */
export function retentionStatus(): Promise<RetentionStatus> {
  return get<RetentionStatus>('/api/retention');
}

/** `GET /api/retention/certificates`: deletion certificates, newest first. */
export function listCertificates(q: {
  limit?: number;
  cursor?: string;
}): Promise<PageResponse<DeletionCertificate>> {
  return get<PageResponse<DeletionCertificate>>('/api/retention/certificates', q);
}
