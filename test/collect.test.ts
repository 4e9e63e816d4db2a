/**
 * End-to-end tests of live collection over real sockets: IPFIX and NetFlow v9 over UDP, IPFIX over
 * TCP from several concurrent exporters, template state surviving a restart, and `acd collect`
 * run in process. UDP counts are checked corrected by the exporters' sequence numbers, because
 * the kernel may drop datagrams on a loaded 2-core machine (MACHINE-NOTES).
 */
import dgram from 'node:dgram';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { capture } from './helpers/cli.ts';
import { systemClock } from '../src/common/clock.ts';
import { silentLogger } from '../src/common/logging.ts';
import { MetricsRegistry } from '../src/common/metrics.ts';
import type { DecodedRecord, Fields } from '../src/common/schema/index.ts';
import { createCollector, defaultCollectConfig, type Collector } from '../src/collect/collector.ts';
import type { DecodeEvent } from '../src/collect/decode/types.ts';
import {
  encodeIpfixMessage,
  encodeNetflow9Message,
  type EncodeTemplate,
} from '../src/simulate/encode/index.ts';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);
const IPFIX_TEMPLATE: EncodeTemplate = {
  templateId: 300,
  fields: [
    'sourceIPv4Address',
    'destinationIPv4Address',
    'sourceTransportPort',
    'destinationTransportPort',
    'protocolIdentifier',
    'octetDeltaCount',
    'packetDeltaCount',
    'flowStartMilliseconds',
    'flowEndMilliseconds',
  ],
};
const V9_TEMPLATE: EncodeTemplate = {
  templateId: 260,
  fields: [
    'sourceIPv4Address',
    'destinationIPv4Address',
    'sourceTransportPort',
    'destinationTransportPort',
    'protocolIdentifier',
    'octetDeltaCount',
    'packetDeltaCount',
  ],
};

function records(n: number, seed: number): Fields[] {
  return [...Array(n).keys()].map((i) => ({
    sourceIPv4Address: `10.${seed & 0xff}.${i}.1`,
    destinationIPv4Address: '192.0.2.80',
    sourceTransportPort: 30000 + i,
    destinationTransportPort: 443,
    protocolIdentifier: 6,
    octetDeltaCount: 1000 + i,
    packetDeltaCount: 1 + i,
    flowStartMilliseconds: T0 - 2000,
    flowEndMilliseconds: T0 - 1000,
  }));
}

/** An IPFIX exporter's message stream: template first, then `messages` data messages of `per` records. */
function ipfixStream(domain: number, messages: number, per: number, withTemplate = true): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (withTemplate)
    out.push(
      encodeIpfixMessage({
        observationDomainId: domain,
        sequence: 0,
        exportTime: T0,
        sets: [{ kind: 'template', templates: [IPFIX_TEMPLATE] }],
      }),
    );
  for (let m = 0; m < messages; m++)
    out.push(
      encodeIpfixMessage({
        observationDomainId: domain,
        sequence: m * per,
        exportTime: T0 + m,
        sets: [{ kind: 'data', template: IPFIX_TEMPLATE, records: records(per, m) }],
      }),
    );
  return out;
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'acd-collect-test-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function until(cond: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends datagrams from a given source address (each exporter gets its own loopback address). */
async function sendUdp(from: string, port: number, msgs: Uint8Array[]): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind({ address: from, port: 0 }, () => r()));
  for (let i = 0; i < msgs.length; i++) {
    await new Promise<void>((r, j) => s.send(msgs[i]!, port, '127.0.0.1', (e) => (e ? j(e) : r())));
    if (i % 16 === 15) await new Promise((r) => setImmediate(r)); // be gentle with the kernel buffer
  }
  await new Promise<void>((r) => s.close(() => r()));
}

interface Harness {
  collector: Collector;
  got: DecodedRecord[];
  events: DecodeEvent[];
  udp: number;
  tcp: number;
}

async function startCollector(extra: { stateFile?: string } = {}): Promise<Harness> {
  const got: DecodedRecord[] = [];
  const events: DecodeEvent[] = [];
  const collector = createCollector(
    { clock: systemClock, logger: silentLogger, metrics: new MetricsRegistry() },
    {
      ...defaultCollectConfig(),
      listen: ['udp://127.0.0.1:0', 'tcp://127.0.0.1:0'],
      recvBufferBytes: 1 << 20,
      ...(extra.stateFile ? { stateFile: extra.stateFile } : {}),
      onRecord: (r) => got.push(r),
      onEvent: (e) => events.push(e),
    },
  );
  await collector.start();
  cleanup.push(() => collector.stop());
  const addrs = collector.addresses();
  return {
    collector,
    got,
    events,
    udp: addrs.find((a) => a.kind === 'udp')!.port,
    tcp: addrs.find((a) => a.kind === 'tcp')!.port,
  };
}

/**
 * Waits until every message the sockets received has been decoded and nothing new arrived for a
 * few polls: then the counts are final (UDP datagrams the kernel dropped never arrive).
 */
async function settled(c: Collector): Promise<void> {
  let last = -1;
  let stable = 0;
  await until(() => {
    const s = c.stats();
    const done = s.queueDepth === 0 && s.decoded + s.dropped === s.datagrams && s.datagrams > 0;
    stable = done && s.datagrams === last ? stable + 1 : 0;
    last = s.datagrams;
    return stable >= 5;
  });
}

function lostFor(events: DecodeEvent[], exporter: string): number {
  let lost = 0;
  for (const e of events) if (e.kind === 'sequence-gap' && e.exporter === exporter) lost += e.lost;
  return lost;
}

describe('acd collect (live, real sockets)', () => {
  it('decodes IPFIX and NetFlow v9 over UDP, exact up to the losses the sequence numbers report', async () => {
    const h = await startCollector();
    expect(h.udp).toBeGreaterThan(0);
    const per = 10;
    const ipfixMessages = 60;
    const v9Packets = 40;
    const v9 = [
      encodeNetflow9Message({
        sourceId: 9,
        sequence: 0,
        exportTime: T0,
        sysUptime: 100_000,
        sets: [{ kind: 'template', templates: [V9_TEMPLATE] }],
      }),
      ...[...Array(v9Packets).keys()].map((p) =>
        encodeNetflow9Message({
          sourceId: 9,
          sequence: p + 1, // v9 counts export packets
          exportTime: T0,
          sysUptime: 100_000 + p,
          sets: [
            {
              kind: 'data',
              template: V9_TEMPLATE,
              records: records(per, p).map(
                ({ flowStartMilliseconds: _s, flowEndMilliseconds: _e, ...f }) => f,
              ),
            },
          ],
        }),
      ),
    ];
    await Promise.all([
      sendUdp('127.0.0.2', h.udp, ipfixStream(1, ipfixMessages, per)),
      sendUdp('127.0.0.3', h.udp, v9),
    ]);
    const from = (exp: string): DecodedRecord[] => h.got.filter((r) => r.observation.exporter === exp);
    // IPFIX sequence numbers count records: received + reported lost = last sequence + its records.
    const ipfixCorrected = (): boolean => {
      const rs = from('127.0.0.2');
      if (rs.length === 0) return false;
      const maxSeq = Math.max(...rs.map((r) => r.observation.sequence));
      return rs.length + lostFor(h.events, '127.0.0.2') === maxSeq + per;
    };
    // NetFlow v9 sequence numbers count packets (lost records = lost packets x records per packet).
    const v9Corrected = (): boolean => {
      const rs = from('127.0.0.3');
      if (rs.length === 0) return false;
      const maxSeq = Math.max(...rs.map((r) => r.observation.sequence));
      return rs.length + lostFor(h.events, '127.0.0.3') * per === maxSeq * per;
    };
    await settled(h.collector);
    expect(ipfixCorrected()).toBe(true);
    expect(v9Corrected()).toBe(true);
    expect(from('127.0.0.2').length).toBeGreaterThan((ipfixMessages * per) / 2);
    expect(from('127.0.0.3').length).toBeGreaterThan((v9Packets * per) / 2);

    const r = from('127.0.0.2')[0]!;
    expect(r).toMatchObject({ recordType: 'flow', protocol: 'ipfix', samplingInterval: 1 });
    expect(r.observation).toMatchObject({ exporter: '127.0.0.2', observationDomainId: 1, templateId: 300 });
    expect(r.fields).toMatchObject({ destinationIPv4Address: '192.0.2.80', destinationTransportPort: 443 });
    const v = from('127.0.0.3')[0]!;
    expect(v).toMatchObject({
      protocol: 'netflow9',
      observation: { observationDomainId: 9, templateId: 260 },
    });

    const s = h.collector.stats();
    expect(s.exporters).toBe(2);
    expect(s.records).toBe(h.got.length);
    expect(s.dropped).toBe(0);
  });

  it('decodes IPFIX over TCP from concurrent exporters with messages split at odd offsets', async () => {
    const h = await startCollector();
    const exporters = 3;
    const messages = 25;
    const per = 7;
    await Promise.all(
      [...Array(exporters).keys()].map(async (e) => {
        const sock = net.connect({ port: h.tcp, host: '127.0.0.1', localAddress: `127.0.1.${e + 1}` });
        await new Promise<void>((r) => sock.once('connect', () => r()));
        const bytes = Buffer.concat(ipfixStream(100 + e, messages, per));
        const step = 97 + 2 * e; // odd sizes that never line up with message boundaries
        for (let i = 0; i < bytes.length; i += step) {
          sock.write(bytes.subarray(i, i + step));
          await new Promise((r) => setTimeout(r, 1));
        }
        sock.end();
      }),
    );
    await until(() => h.got.length === exporters * messages * per);
    for (let e = 0; e < exporters; e++) {
      const rs = h.got.filter((r) => r.observation.exporter === `127.0.1.${e + 1}`);
      expect(rs).toHaveLength(messages * per);
      expect(new Set(rs.map((r) => r.observation.observationDomainId))).toEqual(new Set([100 + e]));
      // In order per connection: sequence numbers never go backwards.
      const seqs = rs.map((r) => r.observation.sequence);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect(h.events.filter((e) => e.kind === 'sequence-gap')).toEqual([]);
  });

  it('restores templates from the state file so data sent before any template decodes after a restart', async () => {
    const dir = await tempDir();
    const stateFile = join(dir, 'state', 'templates.json');
    const first = await startCollector({ stateFile });
    await sendUdp('127.0.0.4', first.udp, ipfixStream(5, 1, 3));
    await until(() => first.got.length === 3);
    await first.collector.stop();
    expect((await stat(stateFile)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(stateFile, 'utf8')) as { templates: { templateId: number }[] };
    expect(saved.templates.map((t) => t.templateId)).toContain(300);

    const second = await startCollector({ stateFile });
    const dataOnly = ipfixStream(5, 3, 3, false).slice(1); // messages 1 and 2: sequences 3 and 6
    await sendUdp('127.0.0.4', second.udp, dataOnly);
    await settled(second.collector);
    expect(second.got.length).toBeGreaterThanOrEqual(3); // 6 unless the kernel dropped a datagram
    expect(second.events.filter((e) => e.kind === 'template-missing')).toEqual([]);
    expect(second.got[0]!.observation).toMatchObject({ exporter: '127.0.0.4', templateId: 300 });
  });

  it('runs `acd collect --out` in process: NDJSON out, summary on stderr, exit 0 on abort', async () => {
    const dir = await tempDir();
    const out = join(dir, 'flows.ndjson');
    const state = join(dir, 'state.json');
    let err = '';
    const stderr = new Writable({
      write(c: Buffer, _e, cb): void {
        err += c.toString();
        cb();
      },
    });
    const stdout = new Writable({ write: (_c, _e, cb): void => cb() });
    const abort = new AbortController();
    const done = main(
      ['collect', '--listen', 'udp://127.0.0.1:0', '--out', out, '--state', state, '--queue', '4096'],
      {
        signal: abort.signal,
        stdout,
        stderr,
        logger: silentLogger,
        interactive: false,
      },
    );
    await until(() => /listening on udp:\/\/127\.0\.0\.1:\d+/.test(err));
    const port = Number(/listening on udp:\/\/127\.0\.0\.1:(\d+)/.exec(err)![1]);
    const messages = 20;
    const per = 5;
    await sendUdp('127.0.0.5', port, ipfixStream(3, messages, per));
    await new Promise((r) => setTimeout(r, 300));
    abort.abort();
    expect(await done).toBe(0);

    const summary = JSON.parse(/summary (\{.*\})/.exec(err)![1]!) as {
      records: number;
      sequenceLost: number;
    };
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(summary.records);
    expect(summary.records).toBeGreaterThan(0);
    const objs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const maxSeq = Math.max(...objs.map((o) => o.sequence as number));
    expect(objs.length + summary.sequenceLost).toBe(maxSeq + per);
    expect(objs[0]).toMatchObject({
      recordType: 'flow',
      protocol: 'ipfix',
      exporter: '127.0.0.5',
      observationDomainId: 3,
      templateId: 300,
      samplingInterval: 1,
      destinationIPv4Address: '192.0.2.80',
      flowStartMilliseconds: new Date(T0 - 2000).toISOString(),
    });
    expect(objs[0]!.exportTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect((await stat(state)).mode & 0o777).toBe(0o600);
  });

  it('exits 2 with a clear message on a bad listen URL', async () => {
    let err = '';
    const stderr = new Writable({
      write(c: Buffer, _e, cb): void {
        err += c.toString();
        cb();
      },
    });
    const code = await main(['collect', '--listen', 'udp://localhost:2055'], {
      signal: new AbortController().signal,
      stderr,
      logger: silentLogger,
    });
    expect(code).toBe(2);
    expect(err).toContain('udp://localhost:2055');
  });

  it('reads the collect section of the configuration file and ACD_COLLECT__ overrides, naming a bad key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'acd-collect-config-'));
    try {
      const file = join(dir, 'acd.yaml');
      await writeFile(file, 'collect:\n  queueCapacity: 32\n');
      const run = async (env: Record<string, string>): Promise<{ code: number; err: string }> => {
        const err = capture();
        const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
        Object.assign(process.env, env);
        try {
          const code = await main(['collect', '--config', file, '--listen', 'udp://127.0.0.1:0'], {
            signal: AbortSignal.abort(),
            stderr: err.stream,
            logger: silentLogger,
          });
          return { code, err: err.text() };
        } finally {
          for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
          }
        }
      };
      // The file's value (32) is below the bound: the error names the key.
      const bad = await run({});
      expect(bad.code).not.toBe(0);
      expect(bad.err).toContain('collect.queueCapacity');
      // An environment override replaces it.
      const fixed = await run({ ACD_COLLECT__QUEUE_CAPACITY: '4096' });
      expect(fixed.err).not.toContain('collect.queueCapacity');
      expect(fixed.code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
