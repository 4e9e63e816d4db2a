/**
 * The centre API as the CLI's commands see it (`acd cases`, `acd communications`,
 * `acd reidentify`): a bearer token from `ACD_TOKEN`, `--api URL` and `--purpose` options, JSON or
 * NDJSON on stdout, and RFC 9457 problem answers turned into `ApiProblemError` (exit 1, naming
 * the stable code). Usage problems (no token, a bad URL or option) are `UsageError` (exit 2).
 */
import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { AcdError, InputError, UsageError } from '../common/errors.ts';
import type { CliContext } from './context.ts';

/** Where a running centre's API listens by default. */
export const DEFAULT_API = 'http://127.0.0.1:8080';
/** The environment variable holding the bearer token. */
export const TOKEN_ENV = 'ACD_TOKEN';
/** How long one API call may take. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Pages `list --all` follows at most (100 000 items at the largest page size). */
const MAX_PAGES = 100;

/** The options every API command takes (see {@link apiOptions}). */
export interface ApiOptions {
  api: string;
  purpose?: string;
}

/** An error answer of the API (RFC 9457 problem), with its stable code. */
export class ApiProblemError extends AcdError {
  readonly status: number;
  constructor(status: number, code: string, detail: string) {
    super(code, `${status}: ${detail}`);
    this.status = status;
  }
}

/** One API call: method, path (with query) and an optional JSON body; resolves to the JSON answer. */
export type ApiCall = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/**
 * A small client of the centre API for the CLI (data on stdout, logs on stderr). Throws
 * `UsageError` when the token is missing or `--api` is not an http(s) URL.
 */
export function apiClient(ctx: CliContext, opts: ApiOptions, env: NodeJS.ProcessEnv = process.env): ApiCall {
  const token = env[TOKEN_ENV];
  if (token === undefined || token === '')
    throw new UsageError(`set ${TOKEN_ENV} to an API token (acd users token create …)`);
  let base: URL;
  try {
    base = new URL(opts.api);
  } catch {
    throw new UsageError(`--api: not a URL: ${opts.api}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new UsageError('--api: http or https only');
  return async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, base);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(opts.purpose !== undefined ? { 'x-acd-purpose': opts.purpose } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
      });
    } catch (err) {
      throw new AcdError(
        'ERR_UNAVAILABLE',
        `cannot reach the centre at ${base.origin} (${(err as Error).message})`,
        {
          cause: err,
        },
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? null : (JSON.parse(text) as unknown);
    } catch {
      throw new AcdError(
        'ERR_UNAVAILABLE',
        `${method} ${url.pathname}: the answer is not JSON (${res.status})`,
      );
    }
    if (!res.ok) {
      const p = (typeof json === 'object' && json !== null ? json : {}) as {
        code?: unknown;
        detail?: unknown;
      };
      throw new ApiProblemError(
        res.status,
        typeof p.code === 'string' ? p.code : 'ERR_HTTP',
        typeof p.detail === 'string' ? p.detail : res.statusText || 'request failed',
      );
    }
    return json as T;
  };
}

/** Writes one value as indented JSON on stdout. */
export function printJson(ctx: CliContext, v: unknown): void {
  ctx.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
}

/**
 * Prints a paged list (`{ items, next }`) as NDJSON, one item per line, following `next` when
 * `all` is set (at most `MAX_PAGES` pages); the count goes to stderr.
 */
export async function listAll(
  ctx: CliContext,
  call: ApiCall,
  path: string,
  query: URLSearchParams,
  all: boolean,
): Promise<void> {
  let cursor: string | null = null;
  let pages = 0;
  let n = 0;
  do {
    const q = new URLSearchParams(query);
    if (cursor !== null) q.set('cursor', cursor);
    const page: { items: unknown[]; next: string | null } = await call('GET', `${path}?${q.toString()}`);
    // NDJSON: one item per line, so that `jq` and `grep` work on long lists.
    for (const item of page.items) ctx.stdout.write(`${JSON.stringify(item)}\n`);
    n += page.items.length;
    cursor = page.next;
    pages++;
  } while (all && cursor !== null && pages < MAX_PAGES);
  ctx.stderr.write(`acd: ${n} items${cursor !== null ? ' (more: use --all)' : ''}\n`);
}

/** `value` when it is one of `allowed` (or undefined); a `UsageError` naming the option otherwise. */
export function choice(
  name: string,
  value: string | undefined,
  allowed: readonly string[],
): string | undefined {
  if (value !== undefined && !allowed.includes(value))
    throw new UsageError(`${name}: one of ${allowed.join(', ')}`);
  return value;
}

/** The `--limit` option as a query value: a positive integer, capped at the API's 1000. */
export function limitOf(s: string | undefined): string {
  const n = Number(s ?? '100');
  if (!Number.isInteger(n) || n < 1) throw new UsageError('--limit: a positive integer');
  return String(Math.min(n, 1000));
}

/** Reads a small text file (`InputError` when it is missing, unreadable or over `maxBytes`). */
export async function readSmallFile(path: string, maxBytes: number): Promise<string> {
  try {
    if ((await stat(path)).size > maxBytes) throw new InputError(path, 'too large');
    return await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof AcdError) throw err;
    throw new InputError(path, 'cannot read', { cause: err });
  }
}

/**
 * Adds `--api` and `--purpose` to an API command. Without `defaultPurpose` the token's default
 * purpose applies; commands whose routes accept one purpose only pass it here.
 */
export function apiOptions(cmd: Command, defaultPurpose?: string): Command {
  return cmd
    .option('--api <url>', 'the centre API', DEFAULT_API)
    .option(
      '--purpose <purpose>',
      defaultPurpose === undefined ? 'X-ACD-Purpose (default: the token’s default purpose)' : 'X-ACD-Purpose',
      defaultPurpose,
    );
}
