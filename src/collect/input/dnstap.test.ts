import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freeUdpPort, requireTool, toolPath } from '../../../test/helpers/tools.ts';
import { silentLogger } from '../../common/logging.ts';
import type { DnsEvent } from '../../common/schema/index.ts';
import {
  CONTROL,
  createFrameStreamReader,
  createFrameStreamReceiver,
  DNSTAP_CONTENT_TYPE,
  encodeControlFrame,
  encodeDataFrame,
  type Frame,
} from '../decode/dnstap/index.ts';
import type { DecodeEvent } from '../decode/types.ts';
import {
  createDnstapListener,
  readDnstapFile,
  type DnstapFileCounters,
  type DnstapListener,
} from './dnstap.ts';

const fixturePath = new URL('../decode/dnstap/testdata/unbound-1.17.1.fstrm', import.meta.url);
const fixture = new Uint8Array(readFileSync(fixturePath));
/** The 48 dnstap payloads unbound sent (testdata/README.md). */
const payloads = createFrameStreamReceiver({ bidirectional: false }).push(fixture).data;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'acd-dnstap-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Connects to the listener and collects the control frames it sends back. */
async function connect(
  target: { path: string } | { port: number },
): Promise<{ socket: net.Socket; control: Frame[]; closed: Promise<void> }> {
  const socket = 'path' in target ? net.connect(target.path) : net.connect(target.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const reader = createFrameStreamReader();
  const control: Frame[] = [];
  socket.on('data', (c: Buffer) => control.push(...reader.push(c)));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, control, closed };
}

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

/**
 * A Frame Streams sender as resolvers do it: READY, wait for ACCEPT, START, the data frames
 * (written in uneven pieces), STOP, wait for FINISH and the close.
 */
async function send(
  target: { path: string } | { port: number },
  frames: readonly Uint8Array[],
  piece = 97,
): Promise<Frame[]> {
  const c = await connect(target);
  c.socket.write(encodeControlFrame(CONTROL.READY, [DNSTAP_CONTENT_TYPE]));
  await until(() => c.control.length >= 1);
  c.socket.write(encodeControlFrame(CONTROL.START, [DNSTAP_CONTENT_TYPE]));
  const body = Buffer.concat(frames.map((f) => encodeDataFrame(f)));
  for (let o = 0; o < body.length; o += piece) {
    c.socket.write(body.subarray(o, o + piece));
    if ((o / piece) % 8 === 0) await new Promise((r) => setImmediate(r));
  }
  c.socket.write(encodeControlFrame(CONTROL.STOP));
  await c.closed;
  return c.control;
}

function listen(
  spec: Parameters<typeof createDnstapListener>[0],
  options = {},
): { l: DnstapListener; events: DnsEvent[]; anomalies: DecodeEvent[] } {
  const events: DnsEvent[] = [];
  const anomalies: DecodeEvent[] = [];
  const l = createDnstapListener(spec, {
    logger: silentLogger,
    onEvent: (e) => events.push(e),
    onDecodeEvent: (e) => anomalies.push(e),
    options,
  });
  return { l, events, anomalies };
}

describe('dnstap listener', () => {
  it('does the bidirectional handshake with several senders at once over a unix socket', async () => {
    const path = join(dir, 'dnstap.sock');
    const { l, events, anomalies } = listen({ kind: 'unix', path });
    await l.start();
    try {
      const replies = await Promise.all([1, 2, 3, 4].map((i) => send({ path }, payloads, 50 + i * 37)));
      for (const r of replies) {
        expect(r).toEqual([
          { kind: 'control', type: CONTROL.ACCEPT, contentTypes: [DNSTAP_CONTENT_TYPE] },
          { kind: 'control', type: CONTROL.FINISH, contentTypes: [] },
        ]);
      }
      await until(() => l.counters.connectionsClosed === 4);
      expect(events).toHaveLength(4 * 48);
      expect(anomalies).toEqual([]);
      expect(new Set(events.map((e) => e.observation.exporter))).toEqual(new Set([`unix:${path}`]));
      expect(new Set(events.map((e) => e.observation.sequence)).size).toBe(4 * 48);
      expect(l.counters).toMatchObject({
        connectionsAccepted: 4,
        connectionsCorrupt: 0,
        frames: 192,
        events: 192,
        malformed: 0,
      });
      expect(l.address()).toBe(path);
    } finally {
      await l.stop();
    }
  });

  it('does the same over TCP, with the peer address as the exporter', async () => {
    const { l, events } = listen({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    await l.start();
    try {
      const port = l.port();
      expect(port).toBeGreaterThan(0);
      await Promise.all([0, 1, 2].map((i) => send({ port }, payloads.slice(i * 10, i * 10 + 20))));
      await until(() => l.counters.connectionsClosed === 3);
      expect(events).toHaveLength(60);
      expect(new Set(events.map((e) => e.observation.exporter))).toEqual(new Set(['127.0.0.1']));
      expect(events.filter((e) => e.fields.dnsQueryName === 'www.lab.test').length).toBeGreaterThan(0);
    } finally {
      await l.stop();
    }
  });

  it('closes a sender that breaks Frame Streams and keeps serving the others', async () => {
    const path = join(dir, 'd.sock');
    const { l, events, anomalies } = listen({ kind: 'unix', path }, { maxFrameBytes: 4096 });
    await l.start();
    try {
      const bad = await connect({ path });
      bad.socket.write(encodeControlFrame(CONTROL.READY, [DNSTAP_CONTENT_TYPE]));
      await until(() => bad.control.length === 1);
      bad.socket.write(encodeControlFrame(CONTROL.START));
      bad.socket.write(Uint8Array.of(0, 1, 0, 0)); // a 65,536-byte frame: above the limit
      await bad.closed;
      await send({ path }, payloads.slice(0, 5));
      await until(() => l.counters.connectionsClosed === 2);
      expect(events).toHaveLength(5);
      expect(l.counters.connectionsCorrupt).toBe(1);
      expect(anomalies).toEqual([
        {
          kind: 'malformed',
          protocol: 'fstrm',
          exporter: `unix:${path}`,
          reason: 'frame-too-long',
          offset: 54,
        },
      ]);
    } finally {
      await l.stop();
    }
  });

  it('counts undecodable payloads and keeps the connection', async () => {
    const path = join(dir, 'm.sock');
    const { l, events, anomalies } = listen({ kind: 'unix', path });
    await l.start();
    try {
      await send({ path }, [Uint8Array.of(0xff, 0xff), payloads[0]!]);
      await until(() => l.counters.connectionsClosed === 1);
      expect(events).toHaveLength(1);
      expect(anomalies.map((a) => a.kind === 'malformed' && a.protocol)).toEqual(['dnstap']);
      expect(l.counters.malformed).toBe(1);
    } finally {
      await l.stop();
    }
  });

  it('refuses connections beyond maxConnections and drops senders that never finish the handshake', async () => {
    const path = join(dir, 'x.sock');
    const { l } = listen({ kind: 'unix', path }, { maxConnections: 1, handshakeTimeoutMs: 100 });
    await l.start();
    try {
      const first = await connect({ path });
      await until(() => l.connections === 1);
      const second = await connect({ path });
      await second.closed;
      await first.closed; // silent: closed by the handshake timeout
      expect(l.counters).toMatchObject({
        connectionsAccepted: 1,
        connectionsRejected: 1,
        connectionsTimedOut: 1,
      });
    } finally {
      await l.stop();
    }
  });

  it('cannot be started twice', async () => {
    const { l } = listen({ kind: 'unix', path: join(dir, 'y.sock') });
    await l.start();
    await expect(l.start()).rejects.toMatchObject({ code: 'ERR_LIFECYCLE' });
    await l.stop();
    await l.stop();
  });
});

describe('dnstap file reader', () => {
  it('reads the unbound capture in small chunks into the same events as the decoder', async () => {
    const counters: DnstapFileCounters = { bytes: 0, frames: 0, events: 0, malformed: 0 };
    const events: DnsEvent[] = [];
    for await (const e of readDnstapFile(fixturePath.pathname, { chunkBytes: 100, counters })) events.push(e);
    expect(events).toHaveLength(48);
    expect(events[1]?.fields).toMatchObject({
      dnsMessageType: 'CLIENT_RESPONSE',
      dnsQueryName: 'www.lab.test',
    });
    expect(events.map((e) => e.observation.sequence)).toEqual([...Array(48).keys()]);
    expect(counters).toEqual({ bytes: fixture.length, frames: 48, events: 48, malformed: 0, complete: true });
  });

  it('yields what precedes the cut of a file without STOP, and reports it', async () => {
    const path = join(dir, 'cut.fstrm');
    writeFileSync(path, fixture.subarray(0, 3000));
    const counters: DnstapFileCounters = { bytes: 0, frames: 0, events: 0, malformed: 0 };
    const anomalies: DecodeEvent[] = [];
    const events: DnsEvent[] = [];
    for await (const e of readDnstapFile(path, { counters, onDecodeEvent: (a) => anomalies.push(a) }))
      events.push(e);
    expect(events.length).toBeGreaterThan(10);
    expect(events.length).toBeLessThan(48);
    expect(counters.complete).toBe(false);
    expect(anomalies).toEqual([
      { kind: 'malformed', protocol: 'fstrm', exporter: 'file', reason: 'truncated', offset: 3000 },
    ]);
  });

  it('stops at a framing error and throws only when the file cannot be opened', async () => {
    const path = join(dir, 'bad.fstrm');
    writeFileSync(path, Buffer.from('this is not frame streams at all'));
    const counters: DnstapFileCounters = { bytes: 0, frames: 0, events: 0, malformed: 0 };
    const events: DnsEvent[] = [];
    for await (const e of readDnstapFile(path, { counters })) events.push(e);
    expect(events).toEqual([]);
    expect(counters.error?.code).toBe('ERR_FRAME_STREAM');
    const missing = readDnstapFile(join(dir, 'none.fstrm'));
    await expect(missing.next()).rejects.toMatchObject({ code: 'ERR_INPUT' });
  });
});

describe('dnstap listener with a real unbound', () => {
  it('receives client queries and responses from unbound over a unix socket', async (ctx) => {
    requireTool('unbound', ctx);
    const unbound = toolPath('unbound')!;
    const path = join(dir, 'dnstap.sock');
    const { l, events } = listen({ kind: 'unix', path });
    await l.start();
    const port = await freeUdpPort();
    const closedPort = await freeUdpPort();
    const conf = join(dir, 'unbound.conf');
    writeFileSync(
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
        'forward-zone:',
        '  name: "."',
        `  forward-addr: 127.0.0.1@${closedPort}`,
        'dnstap:',
        '  dnstap-enable: yes',
        `  dnstap-socket-path: "${path}"`,
        '  dnstap-send-identity: yes',
        '  dnstap-identity: "must-not-appear"',
        '  dnstap-log-client-query-messages: yes',
        '  dnstap-log-client-response-messages: yes',
        '',
      ].join('\n'),
    );
    const child = spawn(unbound, ['-d', '-c', conf], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const sock = dgram.createSocket('udp4');
    try {
      // The captured dig query for www.lab.test A, re-sent until unbound answers.
      const query = Buffer.from(
        (
          JSON.parse(
            readFileSync(new URL('../decode/dns/testdata/dig-messages.json', import.meta.url), 'utf8'),
          ) as { hex: string }[]
        )[0]!.hex,
        'hex',
      );
      let answered = false;
      sock.on('message', () => (answered = true));
      const t0 = Date.now();
      while (!answered && Date.now() - t0 < 10_000) {
        sock.send(query, port, '127.0.0.1');
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(answered).toBe(true);
      await until(() => events.some((e) => e.fields.dnsMessageType === 'CLIENT_RESPONSE'), 10_000);
      child.kill('SIGTERM');
      await exited;
      await until(() => l.counters.connectionsClosed >= 1, 10_000);
      expect(l.counters.connectionsCorrupt).toBe(0);
      const response = events.find((e) => e.fields.dnsMessageType === 'CLIENT_RESPONSE');
      expect(response?.fields).toMatchObject({
        dnsQueryName: 'www.lab.test',
        dnsAnswers: [{ name: 'www.lab.test', type: 1, ttl: 300, data: '192.0.2.10' }],
        sourceIPv4Address: '127.0.0.1',
        destinationTransportPort: port,
      });
      expect(JSON.stringify(events)).not.toContain('must-not-appear');
    } finally {
      sock.close();
      if (child.exitCode === null) child.kill('SIGKILL');
      await l.stop();
    }
  }, 30_000);
});
