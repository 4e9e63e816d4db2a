import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { MetricsRegistry } from '../../common/metrics.ts';
import type { Alert } from '../../common/schema/alert.ts';
import { resolveCorrelateConfig, resolveWebhookConfig } from '../config.ts';
import { ExportClosedError } from '../errors.ts';
import { createCorrelator } from '../correlator.ts';
import { evidence } from '../testing.ts';
import { createWebhookSender, webhookSignature, WEBHOOK_HEADERS } from './webhook.ts';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

async function receiver(
  answer: (n: number) => number,
): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(parts).toString('utf8') });
      res.statusCode = answer(got.length);
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hook`, got, server };
}

function alert(): Alert {
  const c = createCorrelator(resolveCorrelateConfig());
  const a = c.push(evidence()).alerts[0];
  if (!a) throw new Error('no alert');
  return a;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

const secret = 'a-shared-secret-of-some-length';

describe('webhook sender', () => {
  it('retries a 500 with backoff and delivers on the 200, signed with HMAC-SHA-256', async () => {
    const r = await receiver((n) => (n === 1 ? 500 : 200));
    servers.push(r.server);
    const metrics = new MetricsRegistry();
    const w = createWebhookSender(resolveWebhookConfig({ url: r.url, secret, backoffBaseMs: 5 }), {
      metrics,
    });
    const a = alert();
    w.sendAlert(a);
    await w.idle();
    await w.stop();
    expect(r.got).toHaveLength(2);
    const [first, second] = r.got;
    expect(second?.body).toBe(first?.body);
    expect(second?.headers[WEBHOOK_HEADERS.delivery]).toBe(first?.headers[WEBHOOK_HEADERS.delivery]);
    const ts = String(second?.headers[WEBHOOK_HEADERS.timestamp]);
    expect(second?.headers[WEBHOOK_HEADERS.signature]).toBe(webhookSignature(secret, ts, second?.body ?? ''));
    expect(second?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(second?.body ?? '{}')).toMatchObject({ type: 'alert', id: a.id, subject: a.subject });
    const m = metrics.snapshot();
    expect(m['export_sent{kind="webhook",sink="webhook"}']).toBe(1);
    expect(m['export_retries{kind="webhook",sink="webhook"}']).toBe(1);
  });

  it('gives up after maxAttempts and on a final 4xx, counting drops, and keeps order', async () => {
    const r = await receiver((n) => (n <= 2 ? 503 : n === 3 ? 400 : 204));
    servers.push(r.server);
    const metrics = new MetricsRegistry();
    const w = createWebhookSender(resolveWebhookConfig({ url: r.url, maxAttempts: 2, backoffBaseMs: 1 }), {
      metrics,
    });
    w.send({ n: 1 });
    w.send({ n: 2 });
    w.send({ n: 3 });
    await w.idle();
    await w.stop();
    expect(r.got.map((g) => (JSON.parse(g.body) as { n: number }).n)).toEqual([1, 1, 2, 3]);
    expect(r.got[0]?.headers[WEBHOOK_HEADERS.signature]).toBeUndefined();
    const m = metrics.snapshot();
    expect(m['export_dropped{kind="webhook",sink="webhook"}']).toBe(2);
    expect(m['export_sent{kind="webhook",sink="webhook"}']).toBe(1);
  });

  it('never blocks: a full queue drops new bodies, an unreachable receiver is retried then dropped', async () => {
    const metrics = new MetricsRegistry();
    const w = createWebhookSender(
      resolveWebhookConfig({ url: 'http://127.0.0.1:9/none', maxQueue: 2, maxAttempts: 2, backoffBaseMs: 1 }),
      { metrics },
    );
    for (let k = 0; k < 5; k++) w.send({ k });
    expect(w.queued).toBeLessThanOrEqual(2);
    await w.idle();
    await w.stop();
    expect(metrics.snapshot()['export_dropped{kind="webhook",sink="webhook"}']).toBe(5);
    expect(() => w.send({})).toThrow(ExportClosedError);
  });
});
