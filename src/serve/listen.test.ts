/**
 * The server over real sockets: listening, server-sent events with catch-up and heartbeats, clean
 * stop with open streams, the loopback rule and HTTPS with a certificate made by openssl.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../common/errors.ts';
import { defaultServeConfig, type ServeConfig } from './config.ts';
import { InsecureBindError, TlsConfigError } from './errors.ts';
import { createServer, type ApiServer } from './server.ts';
import { testDeps, tokenOf } from './testing.ts';

const auth = { authorization: `Bearer ${tokenOf('analyst')}` };

/** An open event stream: everything received so far, and a way to wait for more. */
interface Stream {
  res: IncomingMessage;
  text(): string;
  /** Parsed events (`id`, `event`, `data`) received so far. */
  events(): { id: string; event: string; data: string }[];
  waitFor(pred: (text: string) => boolean): Promise<void>;
  ended: Promise<void>;
  close(): void;
}

function openStream(url: string, headers: Record<string, string>): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { ...auth, accept: 'text/event-stream', ...headers } }, (res) => {
      let buf = '';
      const waiters: (() => void)[] = [];
      res.setEncoding('utf8');
      const ended = new Promise<void>((r) => res.on('close', () => r()));
      res.on('data', (chunk: string) => {
        buf += chunk;
        for (const w of waiters.splice(0)) w();
      });
      resolve({
        res,
        text: () => buf,
        events: () =>
          buf
            .split('\n\n')
            .map((block) => {
              const e = { id: '', event: '', data: '' };
              for (const line of block.split('\n')) {
                const m = /^(id|event|data): (.*)$/.exec(line);
                if (m) e[m[1] as 'id' | 'event' | 'data'] = m[2] ?? '';
              }
              return e;
            })
            .filter((e) => e.event !== ''),
        waitFor: async (pred) => {
          while (!pred(buf)) await new Promise<void>((r) => waiters.push(r));
        },
        ended,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('serve: over a real socket', () => {
  const servers: ApiServer[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function start(overrides: Partial<ServeConfig> = {}) {
    const deps = testDeps();
    const base = defaultServeConfig();
    const server = createServer(deps, {
      ...base,
      port: 0,
      ...overrides,
      sse: { ...base.sse, heartbeat: 50, statsInterval: 0, ...overrides.sse },
    });
    servers.push(server);
    return { deps, server };
  }

  it('listens on an ephemeral loopback port and answers', async () => {
    const { server, deps } = start();
    await deps.store.open();
    await server.start();
    const addr = server.address();
    expect(addr?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await get(`${addr?.url}/healthz`);
    expect(res).toEqual({ status: 200, body: '{"status":"ok"}' });
    const list = await get(`${addr?.url}/api/incidents`, auth);
    expect(list).toEqual({ status: 200, body: '{"items":[],"next":null}' });
    await deps.store.close();
  });

  it('streams live events with ids, replays after Last-Event-ID, sends heartbeats', async () => {
    const { server, deps } = start();
    await server.start();
    const url = `${server.address()?.url}/api/events`;
    const a = await openStream(url, {});
    expect(a.res.statusCode).toBe(200);
    expect(a.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(a.res.headers['cache-control']).toBe('no-cache, no-transform');
    expect(a.res.headers['content-security-policy']).toBeDefined(); // security headers survive hijacking
    await a.waitFor((t) => t.includes(': connected'));

    const s1 = deps.events.publish('alert', { id: 'al-1' });
    const s2 = deps.events.publish('incident', { id: 'in-1' });
    await a.waitFor((t) => t.includes('"in-1"'));
    expect(a.events()).toEqual([
      { id: String(s1), event: 'alert', data: '{"id":"al-1"}' },
      { id: String(s2), event: 'incident', data: '{"id":"in-1"}' },
    ]);
    await a.waitFor((t) => t.includes(': heartbeat'));
    a.close();

    // Missed while away: one event; a reconnect with Last-Event-ID = s2 gets exactly it, then live.
    const s3 = deps.events.publish('alert', { id: 'al-2' });
    const b = await openStream(url, { 'last-event-id': String(s2) });
    await b.waitFor((t) => t.includes('"al-2"'));
    const s4 = deps.events.publish('alert', { id: 'al-3' });
    await b.waitFor((t) => t.includes('"al-3"'));
    expect(b.events().map((e) => Number(e.id))).toEqual([s3, s4]);
    b.close();

    // The query form for clients that cannot set headers.
    const c = await openStream(`${url}?lastEventId=${s1}`, {});
    await c.waitFor((t) => t.includes('"al-3"'));
    expect(c.events().map((e) => Number(e.id))).toEqual([s2, s3, s4]);
    c.close();
  });

  it('sends stats events on its own interval when configured to', async () => {
    const { server } = start({ sse: { ...defaultServeConfig().sse, heartbeat: 15_000, statsInterval: 20 } });
    await server.start();
    const s = await openStream(`${server.address()?.url}/api/events`, {});
    await s.waitFor((t) => t.includes('event: stats'));
    const stats = s.events().find((e) => e.event === 'stats');
    expect(JSON.parse(stats?.data ?? '{}')).toMatchObject({
      totals: { records: 1200 },
      providers: [{ id: 'prov-a', recordsPerSecond: 40 }],
    });
    s.close();
  });

  it('refuses the event stream without a token (401) and beyond maxClients (429)', async () => {
    const { server } = start({
      sse: { ...defaultServeConfig().sse, heartbeat: 15_000, statsInterval: 0, maxClients: 1 },
    });
    await server.start();
    const url = `${server.address()?.url}/api/events`;
    expect((await get(url)).status).toBe(401);
    const first = await openStream(url, {});
    await first.waitFor((t) => t.includes(': connected'));
    expect((await get(url, auth)).status).toBe(429);
    first.close();
  });

  it('stop() ends open event streams and closes the listener', async () => {
    const { server } = start();
    await server.start();
    const url = server.address()?.url ?? '';
    const s = await openStream(`${url}/api/events`, {});
    await s.waitFor((t) => t.includes(': connected'));
    await server.stop();
    await s.ended;
    await expect(get(`${url}/healthz`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('refuses plain HTTP on a non-loopback address, naming the key', async () => {
    const { server } = start({ host: '0.0.0.0' });
    const err = await server.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InsecureBindError);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toBe('serve.host');
  });

  it('refuses half a TLS configuration and unreadable files, naming the key', async () => {
    const half = start({ tlsCert: '/nonexistent/cert.pem' }).server;
    await expect(half.start()).rejects.toSatisfy(
      (e) => e instanceof TlsConfigError && e.key === 'serve.tlsKey',
    );
    const missing = start({ tlsCert: '/nonexistent/cert.pem', tlsKey: '/nonexistent/key.pem' }).server;
    await expect(missing.start()).rejects.toSatisfy(
      (e) => e instanceof TlsConfigError && e.key === 'serve.tlsCert',
    );
  });

  it('speaks HTTPS with a certificate and key (self-signed by openssl), with HSTS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acd-serve-tls-'));
    dirs.push(dir);
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const { server } = start({ tlsCert: cert, tlsKey: key });
    await server.start();
    const url = server.address()?.url ?? '';
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await new Promise<{ status: number; hsts: unknown; body: string }>((resolve, reject) => {
      const req = httpsRequest(`${url}/api/me`, { ca: readFileSync(cert), headers: auth }, (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (body += c));
        r.on('end', () =>
          resolve({ status: r.statusCode ?? 0, hsts: r.headers['strict-transport-security'], body }),
        );
      });
      req.on('error', reject);
      req.end();
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ user: 'analyst-1' });
    expect(res.hsts).toMatch(/max-age=31536000/);
    // Plain HTTP to the TLS port does not get an answer from the API.
    const plain = await get(`${url.replace('https', 'http')}/healthz`).catch(() => ({ status: 0, body: '' }));
    expect(plain.status === 0 || plain.status === 400).toBe(true);
  });
});
