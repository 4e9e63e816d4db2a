import { afterEach, describe, expect, it } from 'vitest';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { ManualClock } from '../../common/clock.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import type { Alert, Incident } from '../../common/schema/alert.ts';
import { resolveCorrelateConfig, resolveSyslogConfig } from '../config.ts';
import { createCorrelator } from '../correlator.ts';
import { evidence, T0 } from '../testing.ts';
import { alertToSyslog, createSyslogSender, octetFrame, type SyslogHeader } from './syslog.ts';

/** A strict-enough RFC 5424 parser for the tests: header, one SD element, BOM-prefixed MSG. */
function parse5424(buf: Buffer) {
  const text = buf.toString('utf8');
  const m = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\[.*?[^\\]\]|-) ?(.*)$/s.exec(text);
  if (!m) throw new Error(`not RFC 5424: ${text}`);
  const [, pri, timestamp, hostname, appName, procId, msgId, sdText, msg] = m;
  const sdm = /^\[(\S+)(.*)\]$/s.exec(sdText ?? '');
  const params: Record<string, string> = {};
  for (const p of (sdm?.[2] ?? '').matchAll(/ ([^= \]"]{1,32})="((?:[^"\\]|\\.)*)"/g))
    params[p[1] ?? ''] = (p[2] ?? '').replace(/\\(["\\\]])/g, '$1');
  return {
    pri: Number(pri),
    timestamp,
    hostname,
    appName,
    procId,
    msgId,
    sdId: sdm?.[1],
    params,
    bom: (msg ?? '').startsWith('\ufeff'),
    msg: (msg ?? '').replace(/^\ufeff/, ''),
  };
}

/** Splits an octet-counted TCP stream (RFC 6587 3.4.1) into messages. */
function unframe(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < stream.length) {
    const sp = stream.indexOf(0x20, at);
    const len = Number(stream.subarray(at, sp).toString('ascii'));
    if (sp < 0 || sp + 1 + len > stream.length) break; // incomplete frame: wait for more bytes
    out.push(stream.subarray(sp + 1, sp + 1 + len));
    at = sp + 1 + len;
  }
  return out;
}

function sample(): { alert: Alert; incident: Incident } {
  const c = createCorrelator(resolveCorrelateConfig(), { clock: new ManualClock(T0) });
  c.push(
    evidence({
      detector: 'brute-force',
      subject: '2001:db8::5',
      counterpart: '198.51.100.1',
      severity: 'high',
    }),
  );
  const s = c.snapshot();
  const alert = s.alerts[0];
  const incident = s.incidents[0];
  if (!alert || !incident) throw new Error('no alert');
  return { alert, incident };
}

const header: SyslogHeader = {
  facility: 16,
  hostname: 'centre-1',
  appName: 'acd',
  procId: '42',
  enterpriseNumber: 32473,
  maxMessageBytes: 2048,
};

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

describe('syslog formatting (RFC 5424)', () => {
  it('writes PRI, header, the acd@32473 structured data and the summary with a BOM', () => {
    const { alert } = sample();
    const p = parse5424(alertToSyslog(alert, T0 + 5, header).bytes);
    expect(p).toMatchObject({
      pri: 16 * 8 + 3,
      timestamp: '2026-01-01T00:00:00.005Z',
      hostname: 'centre-1',
      appName: 'acd',
      procId: '42',
      msgId: 'alert',
      sdId: 'acd@32473',
      bom: true,
      msg: alert.summary,
    });
    expect(p.params).toMatchObject({
      id: alert.id,
      detector: 'brute-force',
      subject: '2001:db8::5',
      severity: 'high',
      counterparts: '198.51.100.1',
      firstSeen: '2026-01-01T00:00:00.000Z',
    });
  });

  it('escapes SD values and cuts long text at a character boundary', () => {
    const { alert } = sample();
    const odd = { ...alert, subject: 'a"b]c\\d', summary: 'ü'.repeat(2000) };
    const m = alertToSyslog(odd, T0, { ...header, maxMessageBytes: 600 });
    expect(m.truncated).toBe(true);
    expect(m.bytes.length).toBeLessThanOrEqual(600);
    const p = parse5424(m.bytes);
    expect(p.params.subject).toBe('a"b]c\\d');
    expect(p.msg).toMatch(/^ü+$/);
  });

  it('frames with octet counting', () => {
    expect(octetFrame(Buffer.from('<13>1 - - - - - -')).toString()).toBe('17 <13>1 - - - - - -');
  });
});

describe('syslog sender', () => {
  it('sends alerts and incidents over UDP to a real socket', async () => {
    const rx: UdpSocket = createSocket('udp4');
    rx.bind(0, '127.0.0.1');
    await once(rx, 'listening');
    cleanup.push(() => new Promise((r) => rx.close(() => r())));
    const got: Buffer[] = [];
    const two = new Promise<void>((resolve) =>
      rx.on('message', (b) => {
        got.push(b);
        if (got.length === 2) resolve();
      }),
    );
    const metrics = new MetricsRegistry();
    const s = createSyslogSender(
      resolveSyslogConfig({ transport: 'udp', host: '127.0.0.1', port: rx.address().port, hostname: 'h' }),
      { metrics, clock: new ManualClock(T0) },
    );
    await s.start();
    const { alert, incident } = sample();
    s.sendAlert(alert);
    s.sendIncident(incident);
    await two;
    await s.stop();
    const parsed = got.map(parse5424).sort((a, b) => (a.msgId ?? '').localeCompare(b.msgId ?? ''));
    expect(parsed.map((p) => p.msgId)).toEqual(['alert', 'incident']);
    expect(parsed[1]?.params).toMatchObject({ id: incident.id, state: 'new', alerts: alert.id });
    expect(metrics.snapshot()['export_sent{kind="syslog",sink="syslog"}']).toBe(2);
  });

  it('sends over TCP with octet-counting framing, queueing until the receiver listens', async () => {
    // Find a free port, then start the sender before anything listens there.
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const s = createSyslogSender(
      resolveSyslogConfig({ transport: 'tcp', host: '127.0.0.1', port, reconnectMs: 20 }),
    );
    await s.start();
    const { alert, incident } = sample();
    s.sendAlert(alert);
    s.sendIncident(incident);
    s.sendAlert(alert);
    expect(s.queued).toBe(3);

    const chunks: Buffer[] = [];
    const server: Server = createServer((sock) => sock.on('data', (d: Buffer) => chunks.push(d)));
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    cleanup.push(() => new Promise((r) => server.close(() => r())));
    while (Buffer.concat(chunks).length === 0 || unframe(Buffer.concat(chunks)).length < 3)
      await new Promise((r) => setTimeout(r, 10));
    await s.stop();
    const msgs = unframe(Buffer.concat(chunks)).map(parse5424);
    expect(msgs.map((m) => m.msgId)).toEqual(['alert', 'incident', 'alert']);
    expect(msgs[0]?.params.id).toBe(alert.id);
  });
});
