/**
 * `GET /api/events`: server-sent events (`text/event-stream`). Each event carries `id: <seq>`;
 * a client reconnecting with `Last-Event-ID` (or `?lastEventId=`) first gets the retained events it
 * missed, then live ones. Heartbeat comments keep idle connections open through proxies; a client
 * that does not read is disconnected once `maxBufferedBytes` are queued for it (it reconnects and
 * catches up). `stop()` ends every stream so the server closes without hanging connections.
 */
import type { ServerResponse } from 'node:http';
import { Type } from '@sinclair/typebox';
import type { Logger } from '../../common/logging.ts';
import { RateLimitedError } from '../errors.ts';
import { formatEvent, parseLastEventId, type HubEvent } from '../events.ts';
import type { ServeConfig } from '../config.ts';
import type { ServeMetrics } from '../metrics.ts';
import { ProblemResponses } from '../schemas.ts';
import type { ServeApp } from '../server.ts';
import type { ServeDeps } from '../types.ts';
import { ACCESS } from '../access.ts';

/** The open event streams and the timers that feed them. */
export interface SseManager {
  /** Starts the heartbeat and statistics timers. */
  start(): void;
  /** Stops the timers and ends every stream. */
  stop(): void;
  /** Ends every stream (the server is closing). */
  closeAll(): void;
  /** Adds a stream (the caller checked `full`). */
  add(res: ServerResponse, afterSeq: number | undefined): void;
  /** Connected streams. */
  readonly clients: number;
  /** True when `maxClients` streams are open. */
  readonly full: boolean;
}

/** Creates the manager (no timers until `start()`). */
export function createSseManager(
  deps: ServeDeps,
  config: ServeConfig,
  metrics: ServeMetrics,
  logger: Logger,
): SseManager {
  const clients = new Map<ServerResponse, () => void>();
  let heartbeat: NodeJS.Timeout | undefined;
  let stats: NodeJS.Timeout | undefined;
  let statsBusy = false;

  function drop(res: ServerResponse): void {
    const unsubscribe = clients.get(res);
    if (unsubscribe === undefined) return;
    clients.delete(res);
    unsubscribe();
    metrics.sseClients.set(clients.size);
    if (!res.writableEnded) res.end();
  }

  function write(res: ServerResponse, text: string): void {
    if (res.writableEnded || res.destroyed) return;
    res.write(text);
    if (res.writableLength > config.sse.maxBufferedBytes) {
      metrics.sseSlowClients.inc();
      logger.debug('event-stream client too slow, disconnected');
      drop(res);
      res.destroy();
    }
  }

  async function publishStats(): Promise<void> {
    // Only when someone listens, and never two overlapping reads of the live view.
    if (clients.size === 0 || statsBusy) return;
    statsBusy = true;
    try {
      const o = await deps.live.overview();
      deps.events.publish(
        'stats',
        {
          at: new Date(deps.clock.now()).toISOString(),
          totals: o.totals,
          providers: o.providers.map((p) => ({ id: p.id, recordsPerSecond: p.recordsPerSecond })),
        },
        { retain: false },
      );
    } catch (err) {
      logger.warn({ err }, 'live statistics unavailable');
    } finally {
      statsBusy = false;
    }
  }

  return {
    start() {
      heartbeat = setInterval(() => {
        for (const res of clients.keys()) write(res, ': heartbeat\n\n');
      }, config.sse.heartbeat);
      heartbeat.unref();
      if (config.sse.statsInterval > 0) {
        stats = setInterval(() => void publishStats(), config.sse.statsInterval);
        stats.unref();
      }
    },
    stop() {
      if (heartbeat) clearInterval(heartbeat);
      if (stats) clearInterval(stats);
      heartbeat = stats = undefined;
      this.closeAll();
    },
    closeAll() {
      for (const res of [...clients.keys()]) drop(res);
    },
    add(res, afterSeq) {
      const send = (e: HubEvent): void => {
        metrics.sseEvents.labels({ type: e.type }).inc();
        write(res, formatEvent(e));
      };
      // Subscribe before replaying so nothing published in between is lost; live events that
      // the replay already covered are skipped by sequence number.
      let replayedUpTo = 0;
      const unsubscribe = deps.events.subscribe((e) => {
        if (e.seq > replayedUpTo) send(e);
      });
      clients.set(res, unsubscribe);
      metrics.sseClients.set(clients.size);
      res.on('close', () => drop(res));
      // `retry:` tells the browser how soon to reconnect after the server went away.
      write(res, 'retry: 2000\n: connected\n\n');
      if (afterSeq !== undefined) {
        // A sequence number from before a restart (larger than any now) replays everything held.
        const from = afterSeq > deps.events.lastSeq ? 0 : afterSeq;
        for (const e of deps.events.since(from)) {
          metrics.sseReplayed.inc();
          send(e);
          replayedUpTo = e.seq;
        }
      }
    },
    get clients() {
      return clients.size;
    },
    get full() {
      return clients.size >= config.sse.maxClients;
    },
  };
}

/** Registers `GET /api/events`. */
export function registerEventRoutes(app: ServeApp, sse: SseManager): void {
  app.get(
    '/api/events',
    {
      config: { access: ACCESS.live },
      schema: {
        tags: ['situation'],
        summary:
          'Live events (text/event-stream): `alert`, `incident`, `stats` (every second); `id:` = sequence; Last-Event-ID catch-up; heartbeat comments.',
        querystring: Type.Object({
          lastEventId: Type.Optional(Type.String({ maxLength: 20 })),
        }),
        produces: ['text/event-stream'],
        response: { ...ProblemResponses },
      },
    },
    (request, reply) => {
      const header = request.headers['last-event-id'];
      const afterSeq = parseLastEventId(
        (Array.isArray(header) ? header[0] : header) ?? request.query.lastEventId,
      );
      if (sse.full) throw new RateLimitedError(10);
      // Headers set by hooks (security headers) are already on `reply.raw`; write them now.
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.flushHeaders();
      sse.add(res, afterSeq);
    },
  );
}
