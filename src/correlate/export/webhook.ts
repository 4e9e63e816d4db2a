/**
 * Webhooks: alerts and incidents POSTed as JSON (the NDJSON line shape, ndjson.ts) to an HTTP(S)
 * receiver, one body per request, in order.
 *
 * - Never blocks detection: `send` only queues; the queue is bounded (`maxQueue`) and bodies
 *   beyond it are dropped and counted.
 * - Retries network errors, timeouts, 5xx, 408, 425 and 429 with exponential backoff
 *   (`backoffBaseMs · 2^(attempt−1)`, at most `backoffMaxMs`, with jitter in [d/2, d]) up to
 *   `maxAttempts`; other 4xx answers are final (dropped, counted).
 * - Headers: `Content-Type: application/json`, `X-Acd-Delivery` (a per-body id that stays the same
 *   across retries, so receivers can de-duplicate), `X-Acd-Timestamp` (epoch ms of the attempt),
 *   and with a secret `X-Acd-Signature: sha256=<hex HMAC-SHA-256 of "<timestamp>.<body>">`; the
 *   timestamp inside the signature lets receivers refuse replays.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Alert, Incident } from '../../common/schema/alert.ts';
import { systemClock, type Clock } from '../../common/clock.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import { silentLogger, type Logger } from '../../common/logging.ts';
import type { WebhookConfig } from '../config.ts';
import { ExportClosedError } from '../errors.ts';
import { exportMetrics, type ExportMetrics } from '../metrics.ts';
import { alertToJson, incidentToJson, type Json } from './ndjson.ts';

/** Header names (lower-case, as Node reports them). */
export const WEBHOOK_HEADERS = {
  signature: 'x-acd-signature',
  timestamp: 'x-acd-timestamp',
  delivery: 'x-acd-delivery',
} as const;

/** The signature header value for a body sent at `timestamp`. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** Collaborators of a webhook sender. */
export interface WebhookSenderDeps {
  clock?: Clock;
  metrics?: MetricsRegistry;
  logger?: Logger;
  /** Name of this sink in metrics. */
  name?: string;
  /** Extra TLS trust (PEM) for https receivers with a private CA. */
  ca?: string | Buffer;
}

/** Sends alerts and incidents to one webhook receiver. */
export interface WebhookSender {
  /** Queues an alert; never blocks, never throws for transport problems. */
  sendAlert(a: Alert): void;
  /** Queues an incident. */
  sendIncident(i: Incident): void;
  /** Queues any JSON body. */
  send(body: Json): void;
  /** Resolves when the queue is empty and nothing is in flight. */
  idle(): Promise<void>;
  /** Stops accepting; waits up to `drainMs` for the queue, then drops what is left (counted). */
  stop(drainMs?: number): Promise<void>;
  /**
   * Drops bodies queued before `t` (epoch ms, the sender's clock) and returns how many: the
   * retention job's purger of the retry queue (R-RET-1). A body in flight is dropped once its
   * attempt ends, whatever the outcome.
   */
  purgeBefore(t: number): number;
  /** Bodies waiting (including the one in flight). */
  readonly queued: number;
}

interface Item {
  body: string;
  delivery: string;
  attempts: number;
  /** When it was queued (the sender's clock). */
  queuedAt: number;
}

type Outcome = 'ok' | 'retry' | 'final';

class WebhookSenderImpl implements WebhookSender {
  private readonly cfg: WebhookConfig;
  private readonly clock: Clock;
  private readonly m: ExportMetrics;
  private readonly log: Logger;
  private readonly url: URL;
  private readonly ca: string | Buffer | undefined;
  private readonly queue: Item[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(cfg: WebhookConfig, deps: WebhookSenderDeps) {
    this.cfg = cfg;
    this.clock = deps.clock ?? systemClock;
    this.m = exportMetrics(deps.metrics ?? new MetricsRegistry(), 'webhook', deps.name ?? 'webhook');
    this.log = deps.logger ?? silentLogger;
    this.url = new URL(cfg.url);
    this.ca = deps.ca;
  }

  get queued(): number {
    return this.queue.length;
  }

  send(body: Json): void {
    if (this.stopped) throw new ExportClosedError('webhook sender');
    if (this.queue.length >= this.cfg.maxQueue) {
      this.m.dropped.inc();
      return;
    }
    this.queue.push({
      body: JSON.stringify(body),
      delivery: randomUUID(),
      attempts: 0,
      queuedAt: this.clock.now(),
    });
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
  }

  sendAlert(a: Alert): void {
    this.send(alertToJson(a));
  }

  sendIncident(i: Incident): void {
    this.send(incidentToJson(i));
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private backoff(attempt: number): number {
    const d = Math.min(this.cfg.backoffMaxMs, this.cfg.backoffBaseMs * 2 ** (attempt - 1));
    return d / 2 + Math.random() * (d / 2);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0 && !this.stopped) {
      const item = this.queue[0];
      if (!item) break;
      item.attempts++;
      const outcome = await this.attempt(item);
      // purged by retention while in flight: already counted and gone from the queue
      if (this.queue[0] !== item) continue;
      if (outcome === 'ok') {
        this.m.sent.inc();
        this.queue.shift();
      } else if (outcome === 'final' || item.attempts >= this.cfg.maxAttempts) {
        this.m.dropped.inc();
        this.log.warn({ delivery: item.delivery, attempts: item.attempts, outcome }, 'webhook: body dropped');
        this.queue.shift();
      } else {
        this.m.retries.inc();
        await this.sleep(this.backoff(item.attempts));
      }
    }
  }

  private attempt(item: Item): Promise<Outcome> {
    const timestamp = String(this.clock.now());
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(item.body)),
      'user-agent': 'acd-webhook/1',
      [WEBHOOK_HEADERS.timestamp]: timestamp,
      [WEBHOOK_HEADERS.delivery]: item.delivery,
    };
    if (this.cfg.secret !== undefined)
      headers[WEBHOOK_HEADERS.signature] = webhookSignature(this.cfg.secret, timestamp, item.body);
    const https = this.url.protocol === 'https:';
    const request = https ? httpsRequest : httpRequest;
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const done = (o: Outcome): void => {
        if (settled) return;
        settled = true;
        resolve(o);
      };
      const req = request(
        this.url,
        {
          method: 'POST',
          headers,
          timeout: this.cfg.timeoutMs,
          ...(https && this.ca ? { ca: this.ca } : {}),
        },
        (res: IncomingMessage) => {
          res.resume();
          const status = res.statusCode ?? 0;
          res.on('end', () => {
            if (status >= 200 && status < 300) done('ok');
            else {
              this.m.errors.inc();
              const retry = status >= 500 || status === 408 || status === 425 || status === 429;
              done(retry ? 'retry' : 'final');
            }
          });
          res.on('error', () => {
            this.m.errors.inc();
            done('retry');
          });
        },
      );
      req.on('timeout', () => req.destroy());
      req.on('error', (err) => {
        this.m.errors.inc();
        this.log.debug({ err: err.message }, 'webhook: request failed');
        done('retry');
      });
      req.end(item.body);
    });
  }

  purgeBefore(t: number): number {
    const before = this.queue.length;
    const keep = this.queue.filter((i) => i.queuedAt >= t);
    this.queue.length = 0;
    this.queue.push(...keep);
    const purged = before - keep.length;
    if (purged > 0) this.m.dropped.inc(purged);
    return purged;
  }

  async stop(drainMs = 5000): Promise<void> {
    if (this.stopped) return;
    const running = this.running;
    if (running) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise<void>((r) => (t = setTimeout(r, drainMs)))]);
      clearTimeout(t);
    }
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
    await this.running;
    this.m.dropped.inc(this.queue.length);
    this.queue.length = 0;
  }
}

/** Creates a webhook sender (no I/O until something is sent). */
export function createWebhookSender(cfg: WebhookConfig, deps: WebhookSenderDeps = {}): WebhookSender {
  return new WebhookSenderImpl(cfg, deps);
}
