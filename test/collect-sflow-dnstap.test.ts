/**
 * End-to-end tests of `acd collect` with the listeners of issue 3 over real sockets: sFlow v5 over
 * UDP (`sflow://`), dnstap over a unix socket (`dnstap+unix:`) and over TCP (`dnstap+tcp://`).
 * The bytes are real: pmacct's sfprobe datagrams (src/collect/decode/testdata/README.md) and the
 * dnstap stream unbound wrote (src/collect/decode/dnstap/testdata/README.md), sent with the
 * bidirectional Frame Streams handshake; with unbound installed, a live resolver sends its own
 * stream. Expected records come from decoding the same bytes offline, so the test checks the
 * listeners, the collector's wiring and the NDJSON output, not the decoders again.
 */
import { execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { systemClock } from '../src/common/clock.ts';
import { silentLogger } from '../src/common/logging.ts';
import { MetricsRegistry } from '../src/common/metrics.ts';
import type { DecodedRecord, RawDatagram } from '../src/common/schema/index.ts';
import { createCollector, defaultCollectConfig } from '../src/collect/collector.ts';
import {
  createFrameStreamReceiver,
  decodeDnstapFrame,
  encodeControlFrame,
  CONTROL,
  DNSTAP_CONTENT_TYPE,
} from '../src/collect/decode/dnstap/index.ts';
import { createDecoderSession } from '../src/collect/decode/session.ts';
import type { DecodeEvent } from '../src/collect/decode/types.ts';
import { toNdjsonObject, type NdjsonObject } from '../src/collect/output/ndjson.ts';
import { connectFrameStreamSender, type FrameStreamTarget } from '../src/simulate/encode/framestream.ts';
import { fixtureDatagrams } from './helpers/traffic.ts';
import { freeUdpPort, requireTool, toolPath } from './helpers/tools.ts';

const execFileAsync = promisify(execFile);

/** The 48 dnstap payloads unbound sent (19 client queries and responses, resolver/forwarder traffic). */
const DNSTAP_PAYLOADS = createFrameStreamReceiver({ bidirectional: false }).push(
  new Uint8Array(
    readFileSync(new URL('../src/collect/decode/dnstap/testdata/unbound-1.17.1.fstrm', import.meta.url)),
  ),
).data;

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function tempDir(): Promise<string> {
  // Short: unix socket paths are limited to 107 bytes.
  const dir = await mkdtemp(join(tmpdir(), 'acd-sd-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const until = async (cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** Sends datagrams from `source`, yielding now and then so the receiver keeps up on 2 cores. */
async function sendUdp(port: number, datagrams: readonly Uint8Array[], source = '127.0.0.1'): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, source, () => r()));
  for (const [i, d] of datagrams.entries()) {
    await new Promise<void>((resolve, reject) =>
      s.send(d, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
    );
    if (i % 8 === 7) await new Promise((r) => setTimeout(r, 1));
  }
  await new Promise<void>((r) => s.close(() => r()));
}

/** A resolver's dnstap session: handshake, the frames, STOP, FINISH. */
async function sendDnstap(target: FrameStreamTarget, payloads: readonly Uint8Array[]): Promise<void> {
  const sender = await connectFrameStreamSender(target);
  for (const p of payloads) if (!sender.send(p)) await sender.drain();
  await sender.close();
}

/** What the decoder session makes of the sfprobe datagrams, per datagram sequence number. */
function referenceSflow(datagrams: readonly RawDatagram[]): Map<number, DecodedRecord[]> {
  const session = createDecoderSession(
    { clock: systemClock, metrics: new MetricsRegistry() },
    {
      templateTimeoutMs: 1_800_000,
      pendingMaxSets: 16,
      pendingMaxAgeMs: 60_000,
      silenceAlarmMs: 0,
      samplingOverrides: {},
    },
  );
  const bySequence = new Map<number, DecodedRecord[]>();
  for (const d of datagrams) {
    session.decode(d, {
      record(r) {
        const list = bySequence.get(r.observation.sequence) ?? [];
        list.push(r);
        bySequence.set(r.observation.sequence, list);
      },
    });
  }
  return bySequence;
}

/**
 * The NDJSON object of a record without what depends on when or how it arrived: the exporter and
 * sequence of dnstap events are the listener's, and sFlow's flow times come from the arrival time
 * (sFlow samples carry none).
 */
function comparable(o: NdjsonObject): NdjsonObject {
  const {
    exportTime: _e,
    sequence: _s,
    exporter: _x,
    flowStartMilliseconds: _f,
    flowEndMilliseconds: _g,
    ...rest
  } = o;
  return rest;
}

/** Captures a writable's text. */
function textSink(): { stream: Writable; text: () => string } {
  let t = '';
  const stream = new Writable({
    write(c: Buffer, _e, cb): void {
      t += c.toString();
      cb();
    },
  });
  return { stream, text: () => t };
}

/** Runs `acd collect` in process until `abort()`; resolves the exit code then. */
function runCollect(args: string[]): { stderr: () => string; abort: () => void; done: Promise<number> } {
  const err = textSink();
  const abort = new AbortController();
  const done = main(['collect', ...args], {
    signal: abort.signal,
    stdout: textSink().stream,
    stderr: err.stream,
    logger: silentLogger,
    interactive: false,
  });
  return { stderr: err.text, abort: () => abort.abort(), done };
}

function listening(stderr: string, scheme: string): string[] {
  return [...stderr.matchAll(new RegExp(`listening on (${scheme.replace(/\+/g, '\\+')}\\S+)`, 'g'))].map(
    (m) => m[1]!,
  );
}

describe('acd collect with sflow:// and dnstap listeners', () => {
  it('writes pmacct sFlow samples and unbound dnstap events from unix and TCP senders to one NDJSON file', async () => {
    const dir = await tempDir();
    const sock = join(dir, 'x.sock');
    const out = join(dir, 'out.ndjson');
    const run = runCollect([
      '--listen',
      'sflow://127.0.0.1:0',
      '--listen',
      `dnstap+unix:${sock}`,
      '--listen',
      'dnstap+tcp://127.0.0.1:0',
      '--out',
      out,
    ]);
    cleanup.push(async () => {
      run.abort();
      await run.done;
    });
    await until(() => /listening on dnstap\+tcp:/.test(run.stderr()), 10_000, 'listeners bound');
    const sflowUrl = listening(run.stderr(), 'sflow://')[0]!;
    const tcpUrl = listening(run.stderr(), 'dnstap+tcp://')[0]!;
    expect(listening(run.stderr(), 'dnstap+unix:')).toEqual([`dnstap+unix:${sock}`]);
    expect(sflowUrl).toMatch(/^sflow:\/\/127\.0\.0\.1:\d+$/);
    expect(tcpUrl).toMatch(/^dnstap\+tcp:\/\/127\.0\.0\.1:\d+$/);
    const sflowPort = Number(/:(\d+)$/.exec(sflowUrl)![1]);
    const dnstapPort = Number(/:(\d+)$/.exec(tcpUrl)![1]);
    expect(dnstapPort).toBeGreaterThan(0);

    const datagrams = await fixtureDatagrams('pmacct-sfprobe');
    const sentAt = Date.now();
    await sendUdp(
      sflowPort,
      datagrams.map((d) => d.bytes),
    );
    await Promise.all([
      sendDnstap({ path: sock }, DNSTAP_PAYLOADS),
      sendDnstap({ host: '127.0.0.1', port: dnstapPort }, DNSTAP_PAYLOADS),
    ]);
    await new Promise((r) => setTimeout(r, 200));
    run.abort();
    expect(await run.done).toBe(0);
    expect(existsSync(sock)).toBe(false);

    const summary = JSON.parse(/summary (\{.*\})/.exec(run.stderr())![1]!) as {
      records: number;
      dns: number;
      datagrams: number;
      dnstapFrames: number;
      events: Record<string, number>;
    };
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
    const objs = lines.map((l) => JSON.parse(l) as NdjsonObject);
    expect(objs).toHaveLength(summary.records);

    // sFlow: every sample of every datagram that arrived, as the session decodes it offline.
    const sflow = objs.filter((o) => o.protocol === 'sflow5');
    const reference = referenceSflow(datagrams);
    expect([...reference.values()].flat()).toHaveLength(379); // tshark's count (EXPECTED.md)
    const arrived = new Set(sflow.map((o) => o.sequence as number));
    expect(arrived.size).toBe(summary.datagrams);
    // Loopback on a loaded machine may drop a datagram now and then (MACHINE-NOTES).
    expect(arrived.size).toBeGreaterThanOrEqual(datagrams.length - 2);
    const expected = [...arrived].flatMap((seq) => reference.get(seq) ?? []);
    expect(sflow.map(comparable)).toEqual(expected.map((r) => comparable(toNdjsonObject(r))));
    expect(sflow[0]).toMatchObject({ recordType: 'flow', exporter: '127.0.0.1', samplingInterval: 1 });
    const start = Date.parse(sflow[0]!.flowStartMilliseconds as string);
    expect(start).toBeGreaterThanOrEqual(sentAt - 1000);
    expect(start).toBeLessThanOrEqual(Date.now());
    expect(summary.events['malformed'] ?? 0).toBe(0);

    // dnstap: 48 events from each sender, in order, equal to the offline decoding of the frames.
    const dns = objs.filter((o) => o.recordType === 'dns');
    expect(dns).toHaveLength(2 * 48);
    expect(summary.dns).toBe(96);
    expect(summary.dnstapFrames).toBe(96);
    const offline = DNSTAP_PAYLOADS.map((p, i) =>
      comparable(toNdjsonObject(decodeDnstapFrame(p, { exporter: 'x', sequence: i }).event!)),
    );
    const fromUnix = dns.filter((o) => o.exporter === `unix:${sock}`);
    const fromTcp = dns.filter((o) => o.exporter === '127.0.0.1');
    for (const got of [fromUnix, fromTcp]) {
      expect(got.map(comparable)).toEqual(offline);
      expect(got.every((o) => o.protocol === 'dnstap')).toBe(true);
    }
    expect(fromUnix.map((o) => o.sequence)).toEqual([...Array(48).keys()]);
    const response = fromTcp.find((o) => o.dnsMessageType === 'CLIENT_RESPONSE');
    expect(response).toMatchObject({
      dnsQueryName: 'www.lab.test',
      dnsQueryTypeName: 'A',
      dnsResponseCodeName: 'NOERROR',
      dnsFlags: 'qr aa rd ra',
    });
  }, 60_000);

  it('counts dnstap traffic in stats and metrics, lists the bound addresses, and cleans up at stop', async () => {
    const dir = await tempDir();
    const sock = join(dir, 'c.sock');
    // A socket file left by a crashed run (a process killed while listening) is replaced.
    const crashed = spawn(
      process.execPath,
      ['-e', `require('net').createServer().listen(${JSON.stringify(sock)})`],
      {
        stdio: 'ignore',
      },
    );
    await until(() => existsSync(sock), 10_000, 'stale socket file');
    crashed.kill('SIGKILL');
    await new Promise<void>((r) =>
      crashed.exitCode !== null || crashed.signalCode !== null ? r() : crashed.once('exit', () => r()),
    );
    expect(existsSync(sock)).toBe(true);
    const got: DecodedRecord[] = [];
    const events: DecodeEvent[] = [];
    const metrics = new MetricsRegistry();
    const collector = createCollector(
      { clock: systemClock, logger: silentLogger, metrics },
      {
        ...defaultCollectConfig(),
        listen: ['sflow://127.0.0.1:0', `dnstap+unix:${sock}`, 'dnstap+tcp://127.0.0.1:0'],
        recvBufferBytes: 1 << 20,
        onRecord: (r) => got.push(r),
        onEvent: (e) => events.push(e),
      },
    );
    await collector.start();
    let stopped = false;
    cleanup.push(async () => {
      if (!stopped) await collector.stop();
    });
    const addrs = collector.addresses();
    expect(addrs.map((a) => a.kind)).toEqual(['sflow', 'dnstap+unix', 'dnstap+tcp']);
    expect(addrs[1]).toEqual({
      kind: 'dnstap+unix',
      configured: `dnstap+unix:${sock}`,
      url: `dnstap+unix:${sock}`,
      address: sock,
      port: 0,
    });
    const tcp = addrs[2]!;
    expect(tcp.port).toBeGreaterThan(0);
    expect(tcp.url).toBe(`dnstap+tcp://127.0.0.1:${tcp.port}`);
    expect(addrs[0]!.url).toBe(`sflow://127.0.0.1:${addrs[0]!.port}`);

    // One sender with an undecodable payload among real ones, one sender over TCP.
    await sendDnstap({ path: sock }, [Uint8Array.of(0xff, 0xff), ...DNSTAP_PAYLOADS.slice(0, 10)]);
    await sendDnstap({ host: '127.0.0.1', port: tcp.port }, DNSTAP_PAYLOADS.slice(10, 15));
    await until(() => got.length === 15, 10_000, '15 dns events');
    // A sender that connects and stays open shows in the connection count.
    const idle = net.connect(sock);
    idle.on('error', () => undefined);
    const idleClosed = new Promise<void>((r) => idle.once('close', () => r()));
    await new Promise<void>((r) => idle.once('connect', () => r()));
    idle.resume();
    idle.write(encodeControlFrame(CONTROL.READY, [DNSTAP_CONTENT_TYPE]));
    await until(() => collector.stats().dnstapConnections === 1, 5000, 'an open dnstap connection');

    const s = collector.stats();
    expect(s).toMatchObject({ records: 15, dns: 15, flows: 0, dnstapFrames: 16, exporters: 2 });
    expect(s.events).toEqual({ malformed: 1 });
    expect(events).toMatchObject([{ kind: 'malformed', protocol: 'dnstap', exporter: `unix:${sock}` }]);
    expect(s.bytes).toBeGreaterThan(0);
    const snap = metrics.snapshot();
    expect(snap).toMatchObject({
      'collect_records{type="dns"}': 15,
      collect_dnstap_frames: 16,
      collect_dnstap_events: 15,
      collect_dnstap_malformed: 1,
      collect_dnstap_connections_accepted: 3,
      collect_dnstap_connections: 1,
      'collect_decode_events{kind="malformed"}': 1,
    });
    expect(metrics.renderPrometheus()).toContain('acd_collect_dnstap_frames_total 16');

    await collector.stop();
    stopped = true;
    await idleClosed; // stop closed the open sender's connection

    expect(existsSync(sock)).toBe(false);
    const refused = await new Promise<boolean>((resolve) => {
      const c = net.connect(tcp.port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(false);
      });
      c.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    expect(metrics.snapshot().collect_dnstap_connections).toBe(0);
  }, 30_000);

  it('refuses bad dnstap and sflow URLs with exit code 2', async () => {
    for (const url of ['dnstap+unix:', 'dnstap+tcp://localhost:6000', 'sflow://0.0.0.0']) {
      const err = textSink();
      const code = await main(['collect', '--listen', url], {
        signal: new AbortController().signal,
        stderr: err.stream,
        logger: silentLogger,
      });
      expect(code).toBe(2);
      expect(err.text()).toContain(url);
    }
  });

  it('documents the new listeners in --help', async () => {
    const out = textSink();
    expect(await main(['collect', '--help'], { stdout: out.stream, logger: silentLogger })).toBe(0);
    for (const s of [
      'sflow://HOST:PORT',
      'dnstap+unix:PATH',
      'dnstap+tcp://HOST:PORT',
      'dnstap+unix:/run/acd/dnstap.sock',
    ])
      expect(out.text()).toContain(s);
  });
});

describe('acd collect with a live unbound sending dnstap', () => {
  it('receives the client queries and responses of real dig lookups over the unix socket', async (ctx) => {
    requireTool(['unbound', 'dig'], ctx);
    const dir = await tempDir();
    const sock = join(dir, 'u.sock');
    const out = join(dir, 'dns.ndjson');
    const run = runCollect(['--listen', `dnstap+unix:${sock}`, '--out', out]);
    cleanup.push(async () => {
      run.abort();
      await run.done;
    });
    await until(() => /listening on dnstap\+unix:/.test(run.stderr()), 10_000, 'listener bound');

    const port = await freeUdpPort();
    const closedPort = await freeUdpPort();
    const conf = join(dir, 'unbound.conf');
    await writeFile(
      conf,
      [
        'server:',
        `  interface: 127.0.0.1@${port}`,
        `  port: ${port}`,
        '  do-daemonize: no',
        '  use-syslog: no',
        '  logfile: ""',
        '  username: ""',
        '  chroot: ""',
        `  directory: "${dir}"`,
        `  pidfile: "${join(dir, 'unbound.pid')}"`,
        '  do-not-query-localhost: no',
        '  module-config: "iterator"',
        '  local-zone: "lab.test." static',
        '  local-data: "www.lab.test. 300 IN A 192.0.2.10"',
        '  local-data: "www.lab.test. 300 IN AAAA 2001:db8::10"',
        'forward-zone:',
        '  name: "."',
        `  forward-addr: 127.0.0.1@${closedPort}`,
        'dnstap:',
        '  dnstap-enable: yes',
        `  dnstap-socket-path: "${sock}"`,
        '  dnstap-send-identity: yes',
        '  dnstap-identity: "must-not-appear"',
        '  dnstap-log-client-query-messages: yes',
        '  dnstap-log-client-response-messages: yes',
        '',
      ].join('\n'),
    );
    const child = spawn(toolPath('unbound')!, ['-d', '-c', conf], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    cleanup.push(async () => {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    });
    const dig = async (...args: string[]): Promise<string> => {
      // unbound needs a moment to start: retry until it answers.
      const t0 = Date.now();
      for (;;) {
        try {
          const { stdout } = await execFileAsync(
            toolPath('dig')!,
            ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=1', ...args],
            { timeout: 5000 },
          );
          if (/status: /.test(stdout)) return stdout;
        } catch {
          // not answering yet
        }
        if (Date.now() - t0 > 15_000) throw new Error(`unbound did not answer dig ${args.join(' ')}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    expect(await dig('www.lab.test', 'A')).toContain('192.0.2.10');
    expect(await dig('www.lab.test', 'AAAA')).toContain('2001:db8::10');
    expect(await dig('nothere.lab.test', 'A')).toContain('NXDOMAIN');

    // unbound's dnstap thread sends in batches; the output file is flushed every second.
    const fileText = async (): Promise<string> => readFile(out, 'utf8').catch(() => '');
    const t0 = Date.now();
    while ((await fileText()).split('CLIENT_RESPONSE').length - 1 < 3) {
      if (Date.now() - t0 > 20_000) throw new Error('unbound did not send 3 client responses over dnstap');
      await new Promise((r) => setTimeout(r, 100));
    }
    // unbound sends STOP when it exits (and the listener answers FINISH).
    child.kill('SIGTERM');
    await exited;
    await new Promise((r) => setTimeout(r, 300));
    run.abort();
    expect(await run.done).toBe(0);
    const objs = (await readFile(out, 'utf8'))
      .trimEnd()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as NdjsonObject);
    const responses = objs.filter((o) => o.dnsMessageType === 'CLIENT_RESPONSE');
    const queries = objs.filter((o) => o.dnsMessageType === 'CLIENT_QUERY');
    expect(queries.length).toBeGreaterThanOrEqual(3);
    expect(responses.length).toBeGreaterThanOrEqual(3);
    for (const o of objs)
      expect(o).toMatchObject({ recordType: 'dns', protocol: 'dnstap', exporter: `unix:${sock}` });
    expect(responses).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          dnsQueryName: 'www.lab.test',
          dnsQueryTypeName: 'A',
          dnsResponseCodeName: 'NOERROR',
          dnsAnswers: [{ name: 'www.lab.test', type: 1, ttl: 300, data: '192.0.2.10' }],
          sourceIPv4Address: '127.0.0.1',
          destinationTransportPort: port,
        }),
        expect.objectContaining({
          dnsQueryName: 'www.lab.test',
          dnsQueryTypeName: 'AAAA',
          dnsAnswers: [{ name: 'www.lab.test', type: 28, ttl: 300, data: '2001:db8::10' }],
        }),
        expect.objectContaining({ dnsQueryName: 'nothere.lab.test', dnsResponseCodeName: 'NXDOMAIN' }),
      ]),
    );
    for (const r of responses) expect((r.dnsFlags as string).split(' ')).toContain('qr');
    expect(JSON.stringify(objs)).not.toContain('must-not-appear');
    const summary = JSON.parse(/summary (\{.*\})/.exec(run.stderr())![1]!) as { dns: number };
    expect(summary.dns).toBe(objs.length);
  }, 60_000);
});
