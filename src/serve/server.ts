/**
 * The centre's HTTP server (issue 7, DESIGN section 3 `serve/`): one fastify app with the REST
 * API, server-sent events, the OpenAPI document and its page, `/metrics`, health probes and the
 * dashboard's static files. Created inert; `start()` checks the binding (plain HTTP only on
 * loopback), loads the TLS pair and listens; `stop()` ends event streams and closes every socket.
 */
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { LifecycleError } from '../common/errors.ts';
import type { Lifecycle } from '../common/lifecycle.ts';
import { PUBLIC, decideAccess, isPurpose, routeAccess, type RouteAccess } from './access.ts';
import { parseBearer, type Actor, type Principal } from './auth.ts';
import type { ServeConfig } from './config.ts';
import {
  CsrfError,
  ForbiddenError,
  InsecureBindError,
  NotFoundError,
  RateLimitedError,
  TlsConfigError,
  UnauthorisedError,
  ValidationError,
} from './errors.ts';
import { createServeMetrics, type ServeMetrics } from './metrics.ts';
import { pathOf, problemErrorHandler, sendProblem, toProblem } from './problem.ts';
import { registerApiRoutes } from './routes/api.ts';
import { createSseManager, registerEventRoutes, type SseManager } from './routes/events.ts';
import { registerSessionRoutes } from './routes/session.ts';
import { registerSystemRoutes } from './routes/system.ts';
import {
  CSRF_HEADER,
  SESSION_COOKIE,
  createLoginLimiter,
  createSessionManager,
  parseCookieHeader,
  type Session,
  type SessionManager,
} from './session.ts';
import type { ServeDeps } from './types.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route and for which purposes (access.ts); absent = denied. */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** The authenticated caller and purpose; null on public routes. */
    actor: Actor | null;
    /** The dashboard session the request was authenticated by; null for tokens and public routes. */
    acdSession: Session | null;
    /** Selected records the response hands out (routes that return them set it; R-OVS-4). */
    acdItems: number | null;
  }
}

/** The fastify instance with the typebox type provider, as routes see it. */
export type ServeApp = FastifyInstance<
  HttpServer,
  IncomingMessage,
  ServerResponse,
  FastifyInstance['log'],
  TypeBoxTypeProvider
>;

/** Where the server listens once started. */
export interface ServeAddress {
  host: string;
  port: number;
  /** Base URL (`http://127.0.0.1:8080`, `https://…`). */
  url: string;
}

/** The API server. */
export interface ApiServer extends Lifecycle {
  /** The fastify app (for `app.inject` in tests and route enumeration). */
  readonly app: ServeApp;
  /** The listening address; undefined before `start()`. */
  address(): ServeAddress | undefined;
  /**
   * Every route registered (complete once `app.ready()` resolved), with its access declaration:
   * what the access-control tests of issue 8 enumerate. HEAD twins of GET routes included.
   */
  routes(): RouteInfo[];
  /** The dashboard sessions (login, logout; a revoked user's sessions can be ended here). */
  readonly sessions: SessionManager;
}

/** A registered route and what it requires. */
export interface RouteInfo {
  method: string;
  url: string;
  access: RouteAccess | undefined;
}

/** URL prefix of the OpenAPI page (its static assets live under it). */
export const DOCS_PREFIX = '/api/docs';
/** Path of the OpenAPI document. */
export const OPENAPI_PATH = '/api/openapi.json';

/** True for addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./i.test(h);
  return false;
}

/** Content-Security-Policy of the dashboard: own scripts and styles only, no inline scripts. */
const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'", 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  imgSrc: ["'self'", 'data:'],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
  upgradeInsecureRequests: null,
};

/**
 * The page at `/` when the dashboard has not been built: static HTML, no script, so the strict
 * CSP applies unchanged.
 */
const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>acd</title></head>
<body><h1>acd centre</h1>
<p>The dashboard is not built. Run <code>npm run build</code> (or <code>npm install</code>) and restart.</p>
<p>The API is available: <a href="${DOCS_PREFIX}">API documentation</a>, <a href="${OPENAPI_PATH}">OpenAPI document</a>.</p>
</body></html>
`;

function isPublicPluginRoute(url: string): boolean {
  return (
    url === '/' ||
    url === '/*' ||
    url === '/index.html' ||
    url.startsWith('/assets/') ||
    url === OPENAPI_PATH ||
    url === DOCS_PREFIX ||
    url.startsWith(`${DOCS_PREFIX}/`)
  );
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Methods that change nothing: no CSRF token needed. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Rate-limit key: a digest of the bearer value (never the token itself), else the client address. */
function rateLimitKey(request: FastifyRequest): string {
  const token = parseBearer(request.headers.authorization);
  if (token !== undefined) return 't:' + createHash('sha256').update(token).digest('base64url').slice(0, 22);
  return 'a:' + request.ip;
}

/** Creates the server (no I/O until `start()`). */
export function createServer(deps: ServeDeps, config: ServeConfig): ApiServer {
  const tls = config.tlsCert !== undefined || config.tlsKey !== undefined;
  const loopback = isLoopbackHost(config.host);
  const metrics: ServeMetrics = createServeMetrics(deps.metrics);
  const logger = deps.logger.child({ component: 'serve' });

  // The https server is made without a certificate; `start()` reads the pair and installs it
  // with `setSecureContext`, so construction does no I/O and `app.inject` works without TLS.
  let rawServer: HttpServer | HttpsServer | undefined;
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    serverFactory: (handler) => {
      rawServer = tls ? createHttpsServer({}, handler) : createHttpServer(handler);
      // fastify types the raw server as http.Server; an https.Server answers the same API.
      return rawServer;
    },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as ServeApp;

  const sse: SseManager = createSseManager(deps, config, metrics, logger);

  app.decorateRequest('actor', null);
  app.decorateRequest('acdSession', null);
  app.decorateRequest('acdItems', null);
  const sessions = createSessionManager(deps.clock, {
    idleMs: config.session.idle,
    maxAgeMs: config.session.maxAge,
    maxSessions: config.session.maxSessions,
  });
  const loginLimiter = createLoginLimiter(deps.clock, {
    freeFailures: config.login.freeFailures,
    baseDelayMs: config.login.baseDelay,
    maxDelayMs: config.login.maxDelay,
    maxKeys: 100_000,
  });
  app.setErrorHandler(problemErrorHandler(logger, metrics.problems));
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const err = new NotFoundError('route', pathOf(request.url));
    metrics.problems.labels({ code: err.code }).inc();
    return sendProblem(reply, toProblem(err, pathOf(request.url)), err);
  });

  // Routes registered by plugins (docs page, static files) carry no access declaration of their
  // own: the public ones of issue 7 are marked here, by exact path or prefix, before they exist.
  const routes: RouteInfo[] = [];
  app.addHook('onRoute', (route) => {
    if (routeAccess(route.config) === undefined && isPublicPluginRoute(route.url)) {
      route.config = { ...(route.config ?? {}), access: PUBLIC };
    }
    for (const method of Array.isArray(route.method) ? route.method : [route.method])
      routes.push({ method, url: route.url, access: routeAccess(route.config) });
  });

  app.addHook('onResponse', (request, reply, done) => {
    metrics.requests.labels({ status: `${Math.floor(reply.statusCode / 100)}xx` }).inc();
    // Every authenticated request is audited by route pattern (never the URL: no query values).
    const actor = request.actor;
    if (deps.audit && actor) {
      const params = request.params;
      const objectIds =
        params && typeof params === 'object'
          ? Object.values(params as Record<string, unknown>).filter((v): v is string => typeof v === 'string')
          : [];
      deps.audit({
        session: actor.via === 'session' ? `session:${actor.user}` : `token:${actor.user}`,
        actor: actor.user,
        role: actor.role,
        purpose: actor.purpose,
        method: request.method,
        route: request.routeOptions.url ?? '(unknown)',
        statusCode: reply.statusCode,
        objectIds,
        ...(request.acdItems !== null ? { items: request.acdItems } : {}),
      });
    }
    done();
  });

  void app.register(fastifyHelmet, {
    contentSecurityPolicy: { directives: CSP_DIRECTIVES },
    // HSTS means nothing over plain HTTP (browsers ignore it) and would confuse a later http://.
    hsts: tls ? { maxAge: 31_536_000 } : false,
    crossOriginEmbedderPolicy: false,
  });

  if (config.rateLimit.max > 0) {
    void app.register(fastifyRateLimit, {
      global: false,
      max: config.rateLimit.max,
      timeWindow: config.rateLimit.window,
      keyGenerator: rateLimitKey,
      errorResponseBuilder: (_req, context) => {
        metrics.rateLimited.inc();
        return new RateLimitedError(Math.max(1, Math.ceil(context.ttl / 1000)));
      },
    });
  }

  // Everything with access rules lives in one child context whose first hooks are the rate limit
  // (so guessing tokens is limited too) and then authentication.
  void app.register(async (api: ServeApp) => {
    if (config.rateLimit.max > 0) api.addHook('onRequest', api.rateLimit());
    api.addHook('onRequest', (request, _reply, done) => {
      try {
        authenticate(request);
        done();
      } catch (err) {
        done(err as Error);
      }
    });
    // A bearer token wins over a session cookie; a cookie session is re-checked against the user
    // directory on every request, so revoking a user ends their sessions at once.
    function authenticate(request: FastifyRequest): void {
      const access = routeAccess(request.routeOptions.config);
      if (access !== undefined && access.public === true) return;
      let principal: Principal | undefined;
      let session: Session | undefined;
      if (request.headers.authorization !== undefined) {
        const token = parseBearer(request.headers.authorization);
        principal = token === undefined ? undefined : deps.auth.authenticate(token);
      } else {
        const cookie = parseCookieHeader(request.headers.cookie).get(SESSION_COOKIE);
        session = cookie === undefined ? undefined : sessions.resolve(cookie);
        if (session !== undefined) {
          principal = deps.users?.principal(session.user);
          if (principal === undefined) sessions.destroy(session.id);
        }
      }
      if (principal === undefined) {
        metrics.authFailures.inc();
        throw new UnauthorisedError();
      }
      // Denied by default: a route that forgot to declare its access is not reachable.
      if (access === undefined) throw new ForbiddenError('this route declares no access rules');
      if (session !== undefined && !SAFE_METHODS.has(request.method)) {
        const h = request.headers[CSRF_HEADER];
        if (!sessions.checkCsrf(session, Array.isArray(h) ? h[0] : h)) throw new CsrfError();
      }
      const header = request.headers['x-acd-purpose'];
      let purpose = principal.defaultPurpose;
      if (header !== undefined) {
        const value = Array.isArray(header) ? header[0] : header;
        if (value === undefined || !isPurpose(value))
          throw new ValidationError('header.x-acd-purpose', 'unknown purpose');
        purpose = value;
      }
      const decision = decideAccess(access, principal, purpose);
      if (!decision.ok) {
        metrics.accessDenied.inc();
        throw new ForbiddenError(decision.reason);
      }
      const actor: Actor = {
        user: principal.user,
        role: principal.role,
        purpose,
        via: session === undefined ? 'token' : 'session',
      };
      if (principal.organisation !== undefined) actor.organisation = principal.organisation;
      request.actor = actor;
      request.acdSession = session ?? null;
    }

    await api.register(fastifySwagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'acd centre API',
          version: '1',
          description:
            'The national centre API: situation overview, selected-record queries, alerts, incidents, statistics and live events. Errors are RFC 9457 problem details. Send `Authorization: Bearer <token>` (or use the session cookie of `POST /api/session/login`, with `X-CSRF-Token` on changes) and optionally `X-ACD-Purpose`; every route is limited to roles and purposes (403 otherwise).',
        },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer' },
            session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
          },
        },
        security: [{ bearer: [] }, { session: [] }],
      },
    });
    await api.register(fastifySwaggerUi, {
      routePrefix: DOCS_PREFIX,
      // Swagger UI sets inline styles; only its own pages get this relaxation.
      transformStaticCSP: (header) => header.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
    });
    api.get(OPENAPI_PATH, { config: { access: PUBLIC }, schema: { hide: true } }, () => api.swagger());

    registerSystemRoutes(api, deps, { loopback });
    registerSessionRoutes(api, deps, { sessions, limiter: loginLimiter, secure: tls, config, metrics });
    registerApiRoutes(api, deps);
    for (const plugin of deps.plugins ?? []) plugin(api, deps);
    registerEventRoutes(api, sse);

    const dir = deps.dashboardDir;
    if (dir !== undefined && (await isFile(join(dir, 'index.html')))) {
      await api.register(fastifyStatic, { root: dir, prefix: '/', index: ['index.html'] });
    } else {
      api.get('/', { config: { access: PUBLIC }, schema: { hide: true } }, (_req, reply) =>
        reply.type('text/html; charset=utf-8').send(NOT_BUILT_PAGE),
      );
    }
  });

  app.addHook('preClose', (done) => {
    sse.closeAll();
    done();
  });

  let state: 'new' | 'starting' | 'started' | 'stopped' = 'new';
  let bound: ServeAddress | undefined;

  async function installTls(): Promise<void> {
    if (config.tlsCert === undefined)
      throw new TlsConfigError('serve.tlsCert', 'missing: serve.tlsKey is set');
    if (config.tlsKey === undefined)
      throw new TlsConfigError('serve.tlsKey', 'missing: serve.tlsCert is set');
    const read = async (key: string, path: string): Promise<Buffer> => {
      try {
        return await readFile(path);
      } catch (err) {
        throw new TlsConfigError(key, `cannot read ${path} (${(err as Error).message})`, { cause: err });
      }
    };
    const cert = await read('serve.tlsCert', config.tlsCert);
    const key = await read('serve.tlsKey', config.tlsKey);
    try {
      (rawServer as HttpsServer).setSecureContext({ cert, key });
    } catch (err) {
      throw new TlsConfigError(
        'serve.tlsKey',
        `not a usable certificate/key pair (${(err as Error).message})`,
        {
          cause: err,
        },
      );
    }
  }

  return {
    app,
    address: () => bound,
    routes: () => [...routes],
    sessions,
    async start() {
      if (state !== 'new') throw new LifecycleError(`serve: start() called when ${state}`);
      state = 'starting';
      if (!loopback && !tls)
        throw new InsecureBindError(
          'serve.host',
          `${config.host} is not a loopback address: plain HTTP is only served on loopback; set serve.tlsCert and serve.tlsKey to listen on it`,
        );
      await app.ready();
      if (tls) await installTls();
      await app.listen({ host: config.host, port: config.port });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : config.port;
      const hostText = isIP(config.host) === 6 ? `[${config.host}]` : config.host;
      bound = { host: config.host, port, url: `${tls ? 'https' : 'http'}://${hostText}:${port}` };
      sse.start();
      state = 'started';
      logger.info({ url: bound.url, tls }, 'api listening');
    },
    async stop() {
      if (state === 'stopped') return;
      state = 'stopped';
      sse.stop();
      await app.close();
    },
  };
}
