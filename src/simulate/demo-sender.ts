/**
 * A small built-in exporter fleet for `acd demo` until the synthetic country (src/simulate, issue 4)
 * lands: each exporter sends real NetFlow v5, NetFlow v9 or IPFIX datagrams over UDP from its own
 * loopback address, with correct sequence numbers and periodic template refreshes, at a steady
 * rate. Flows are plausible but not a traffic model.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Fields } from '../common/schema/index.ts';
import type { Clock } from '../common/clock.ts';
import type { Lifecycle } from '../common/lifecycle.ts';
import {
  encodeIpfixMessage,
  encodeNetflow5Message,
  encodeNetflow9Message,
  type EncodeTemplate,
} from './encode/index.ts';

/** One simulated exporter. */
export interface DemoExporter {
  /** Source address to bind (127.0.0.x on loopback). */
  address: string;
  format: 'ipfix' | 'netflow9' | 'netflow5';
  observationDomainId: number;
  /** Flow records per second this exporter sends. */
  rate: number;
}

/** Options of the demo sender. */
export interface DemoSenderOptions {
  target: { host: string; port: number };
  exporters: DemoExporter[];
  /** Seed of the deterministic flow generator. */
  seed?: number;
}

/** Counters of what was sent. */
export interface DemoSenderStats {
  datagrams: number;
  records: number;
  sendErrors: number;
}

const IPFIX_TEMPLATE: EncodeTemplate = {
  templateId: 256,
  fields: [
    'sourceIPv4Address',
    'destinationIPv4Address',
    'sourceTransportPort',
    'destinationTransportPort',
    'protocolIdentifier',
    'tcpControlBits',
    'octetDeltaCount',
    'packetDeltaCount',
    'flowStartMilliseconds',
    'flowEndMilliseconds',
    'ingressInterface',
    'egressInterface',
    'minimumTTL',
    'maximumTTL',
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
    'tcpControlBits',
    { name: 'octetDeltaCount', length: 4 },
    { name: 'packetDeltaCount', length: 4 },
    'flowStartSysUpTime',
    'flowEndSysUpTime',
    { name: 'ingressInterface', length: 2 },
    { name: 'egressInterface', length: 2 },
  ],
};

/** Records per message: fits a 1500-byte MTU with the templates above. */
const RECORDS_PER_MESSAGE = { ipfix: 24, netflow9: 28, netflow5: 30 } as const;
/** Templates are re-sent every this many messages, as real exporters refresh them. */
const TEMPLATE_EVERY = 64;
const TICK_MS = 20;

/** A deterministic 32-bit generator (mulberry32), so demo traffic is reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVICES = [
  { port: 443, proto: 6, weight: 55 },
  { port: 80, proto: 6, weight: 12 },
  { port: 53, proto: 17, weight: 18 },
  { port: 123, proto: 17, weight: 3 },
  { port: 25, proto: 6, weight: 2 },
  { port: 22, proto: 6, weight: 2 },
  { port: 3478, proto: 17, weight: 8 },
];
const SERVICE_TOTAL = SERVICES.reduce((s, x) => s + x.weight, 0);

/** Creates the sender; `start()` binds the sockets and begins sending. */
export function createDemoSender(
  deps: { clock: Clock },
  opts: DemoSenderOptions,
): Lifecycle & { stats(): DemoSenderStats } {
  const stats: DemoSenderStats = { datagrams: 0, records: 0, sendErrors: 0 };
  const rand = rng(opts.seed ?? 1);
  const bootTime = deps.clock.now();
  interface State {
    ex: DemoExporter;
    socket: Socket;
    sequence: number;
    messages: number;
    owed: number;
  }
  const states: State[] = [];
  let timer: NodeJS.Timeout | undefined;
  let last = 0;

  const ip = (a: number, b: number): string =>
    `${a}.${b}.${Math.floor(rand() * 256)}.${1 + Math.floor(rand() * 254)}`;

  function flow(now: number): Fields {
    let pick = rand() * SERVICE_TOTAL;
    let svc = SERVICES[0]!;
    for (const s of SERVICES) {
      pick -= s.weight;
      if (pick <= 0) {
        svc = s;
        break;
      }
    }
    // Heavy-tailed sizes: a Pareto draw for packets, 60-1400 bytes each.
    const packets = Math.max(1, Math.min(100_000, Math.floor(1 / Math.pow(1 - rand() * 0.999, 1.3))));
    const octets = packets * (60 + Math.floor(rand() * 1340));
    const dur = Math.floor(rand() * 30_000);
    const outbound = rand() < 0.5;
    const client = ip(133, Math.floor(rand() * 256));
    const server = ip(rand() < 0.5 ? 104 : 151, Math.floor(rand() * 256));
    const cport = 1024 + Math.floor(rand() * 64_000);
    return {
      sourceIPv4Address: outbound ? client : server,
      destinationIPv4Address: outbound ? server : client,
      sourceTransportPort: outbound ? cport : svc.port,
      destinationTransportPort: outbound ? svc.port : cport,
      protocolIdentifier: svc.proto,
      tcpControlBits: svc.proto === 6 ? 0x1b : 0,
      octetDeltaCount: octets,
      packetDeltaCount: packets,
      flowStartMilliseconds: now - dur - 1000,
      flowEndMilliseconds: now - 1000,
      flowStartSysUpTime: Math.max(0, now - dur - 1000 - bootTime),
      flowEndSysUpTime: Math.max(0, now - 1000 - bootTime),
      ingressInterface: 1 + Math.floor(rand() * 4),
      egressInterface: 1 + Math.floor(rand() * 4),
      minimumTTL: 48 + Math.floor(rand() * 16),
      maximumTTL: 64,
    };
  }

  function message(s: State, now: number, count: number): Uint8Array {
    const records: Fields[] = [];
    for (let i = 0; i < count; i++) records.push(flow(now));
    const withTemplate = s.messages % TEMPLATE_EVERY === 0;
    s.messages++;
    const sysUptime = now - bootTime;
    switch (s.ex.format) {
      case 'ipfix': {
        const m = encodeIpfixMessage({
          observationDomainId: s.ex.observationDomainId,
          sequence: s.sequence,
          exportTime: now,
          sets: [
            ...(withTemplate ? [{ kind: 'template' as const, templates: [IPFIX_TEMPLATE] }] : []),
            { kind: 'data' as const, template: IPFIX_TEMPLATE, records },
          ],
        });
        s.sequence = (s.sequence + count) >>> 0;
        return m;
      }
      case 'netflow9': {
        const m = encodeNetflow9Message({
          sourceId: s.ex.observationDomainId,
          sequence: s.sequence,
          exportTime: now,
          sysUptime,
          sets: [
            ...(withTemplate ? [{ kind: 'template' as const, templates: [V9_TEMPLATE] }] : []),
            { kind: 'data' as const, template: V9_TEMPLATE, records },
          ],
        });
        s.sequence = (s.sequence + 1) >>> 0;
        return m;
      }
      case 'netflow5': {
        const m = encodeNetflow5Message({
          sequence: s.sequence,
          exportTime: now,
          sysUptime,
          samplingInterval: 1,
          engineType: 0,
          engineId: s.ex.observationDomainId & 0xff,
          records,
        });
        s.sequence = (s.sequence + count) >>> 0;
        return m;
      }
    }
  }

  function tick(): void {
    const now = deps.clock.now();
    const elapsed = Math.min(1000, now - last);
    last = now;
    for (const s of states) {
      s.owed += (s.ex.rate * elapsed) / 1000;
      const per = RECORDS_PER_MESSAGE[s.ex.format];
      while (s.owed >= 1) {
        const n = Math.min(per, Math.floor(s.owed));
        s.owed -= n;
        const bytes = message(s, now, n);
        stats.datagrams++;
        stats.records += n;
        s.socket.send(bytes, opts.target.port, opts.target.host, (err) => {
          if (err) stats.sendErrors++;
        });
      }
    }
  }

  return {
    async start() {
      for (const ex of opts.exporters) {
        const socket = createSocket(ex.address.includes(':') ? 'udp6' : 'udp4');
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind(0, ex.address, () => {
            socket.off('error', reject);
            resolve();
          });
        });
        socket.on('error', () => stats.sendErrors++);
        states.push({ ex, socket, sequence: 0, messages: 0, owed: 0 });
      }
      last = deps.clock.now();
      timer = setInterval(tick, TICK_MS);
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await Promise.all(states.map((s) => new Promise<void>((r) => s.socket.close(() => r()))));
      states.length = 0;
    },
    stats: () => ({ ...stats }),
  };
}
