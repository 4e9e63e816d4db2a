/**
 * Decoder benchmark (issues 2 and 3): records/s through one decoder session on one core, into full
 * records (`decode`) and into the columnar `FlowBatch` (`decodeToBatch`), for in-memory corpora of
 *
 *  - `mixed`: IPFIX and NetFlow v9 datagrams with mixed templates (IPv4 and IPv6, different field
 *    orders, reduced-size counters, biflow) from 8 exporters — the corpus of issue 2's targets
 *    (>= 3 M records/s full, >= 10 M records/s batch);
 *  - `ipfix` and `netflow9`: the same templates, one protocol each;
 *  - `ipfix-v4-18-fields`: the single realistic IPv4 template;
 *  - `sflow5`: the corpus of bench/decode-sflow.ts (flow samples with 128-byte raw headers decoded
 *    down to TCP/UDP, extended switch/router/gateway data, counter samples) through the session;
 *
 * then runs bench/meter.ts (the pcap flow meter) in a child process and passes its rows on.
 *
 * A shared machine makes wall-clock rates noisy, so every row gives both the median over rounds of
 * records per wall-clock second and of records per CPU-second of this process (process.cpuUsage),
 * and the load average when it ran. The targets are judged on the CPU-second rate: it is what one
 * core does when it is not shared.
 *
 * Run: `node --import tsx bench/decode.ts` (or `npm run bench:decode`). Environment:
 * BENCH_ROUNDS (default 7), BENCH_SECONDS per round (default 1), BENCH_ONLY (a corpus, a mode or
 * `corpus:mode`; `meter` for the meter rows only), BENCH_METER=0 skips the meter.
 * Prints one JSON object per row on stdout, then a one-line summary.
 */
import { execFile } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../src/common/clock.ts';
import { MetricsRegistry } from '../src/common/metrics.ts';
import { FlowBatch, type DecodedRecord, type Fields, type RawDatagram } from '../src/common/schema/index.ts';
import { createDecoderSession } from '../src/collect/decode/index.ts';
import type { DecoderSession } from '../src/collect/decode/index.ts';
import { buildSflowCorpus } from './decode-sflow.ts';
import {
  encodeIpfixMessage,
  encodeNetflow9Message,
  type EncodeTemplate,
} from '../src/simulate/encode/index.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const MTU_PAYLOAD = 1400;

/** Deterministic PRNG so that every run decodes the same corpus. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(42);
const int = (n: number): number => Math.floor(rand() * n);
const ip4 = (): string => `${10 + int(200)}.${int(256)}.${int(256)}.${int(256)}`;
const ip6 = (): string =>
  `2001:db8:${int(65536).toString(16)}::${int(65536).toString(16)}:${int(65536).toString(16)}`;

const T0 = Date.UTC(2026, 0, 1);

function flow(v6: boolean): Fields {
  const start = T0 + int(60_000);
  return {
    sourceIPv4Address: ip4(),
    destinationIPv4Address: ip4(),
    ipNextHopIPv4Address: ip4(),
    sourceIPv6Address: ip6(),
    destinationIPv6Address: ip6(),
    sourceTransportPort: int(65536),
    destinationTransportPort: [53, 80, 443, 22, 123][int(5)]!,
    protocolIdentifier: v6 ? 17 : [6, 17, 1][int(3)]!,
    tcpControlBits: int(64),
    octetDeltaCount: 40 + int(1_500_000),
    packetDeltaCount: 1 + int(1000),
    reverseOctetDeltaCount: int(1_000_000),
    reversePacketDeltaCount: int(800),
    flowStartMilliseconds: start,
    flowEndMilliseconds: start + int(30_000),
    flowStartSysUpTime: 1_000_000 + int(50_000),
    flowEndSysUpTime: 1_050_000 + int(10_000),
    ingressInterface: int(64),
    egressInterface: int(64),
    minimumTTL: 1 + int(128),
    maximumTTL: 129 + int(126),
    ipClassOfService: int(256),
    bgpSourceAsNumber: int(65536),
    bgpDestinationAsNumber: int(65536),
    sourceIPv4PrefixLength: int(33),
    destinationIPv4PrefixLength: int(33),
    flowLabelIPv6: int(1 << 20),
  };
}

/** IPFIX, IPv4, 18 fields, full-size counters: the "realistic template". */
const IPFIX_V4: EncodeTemplate = {
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
    'ipClassOfService',
    'bgpSourceAsNumber',
    'bgpDestinationAsNumber',
    'ipNextHopIPv4Address',
  ],
};
/** IPFIX, IPv4, another order, reduced-size (4-byte) counters and 2-byte interfaces. */
const IPFIX_V4_REDUCED: EncodeTemplate = {
  templateId: 257,
  fields: [
    'protocolIdentifier',
    'destinationIPv4Address',
    'destinationTransportPort',
    'sourceIPv4Address',
    'sourceTransportPort',
    { name: 'packetDeltaCount', length: 4 },
    { name: 'octetDeltaCount', length: 4 },
    'flowStartMilliseconds',
    'flowEndMilliseconds',
    { name: 'tcpControlBits', length: 1 },
    { name: 'ingressInterface', length: 2 },
    { name: 'egressInterface', length: 2 },
    'sourceIPv4PrefixLength',
    'destinationIPv4PrefixLength',
    'ipClassOfService',
  ],
};
/** IPFIX, IPv6, 16 fields. */
const IPFIX_V6: EncodeTemplate = {
  templateId: 258,
  fields: [
    'sourceIPv6Address',
    'destinationIPv6Address',
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
    'flowLabelIPv6',
    'ipClassOfService',
  ],
};
/** IPFIX biflow (RFC 5103 reverse counters), IPv4. */
const IPFIX_BIFLOW: EncodeTemplate = {
  templateId: 259,
  fields: [
    'sourceIPv4Address',
    'destinationIPv4Address',
    'sourceTransportPort',
    'destinationTransportPort',
    'protocolIdentifier',
    'octetDeltaCount',
    'packetDeltaCount',
    'reverseOctetDeltaCount',
    'reversePacketDeltaCount',
    'flowStartMilliseconds',
    'flowEndMilliseconds',
    'ingressInterface',
    'egressInterface',
    'tcpControlBits',
    'minimumTTL',
    'maximumTTL',
  ],
};
/** NetFlow v9, IPv4, sysUptime-relative times, Cisco-typical lengths. */
const V9_V4: EncodeTemplate = {
  templateId: 300,
  fields: [
    'sourceIPv4Address',
    'destinationIPv4Address',
    'ipNextHopIPv4Address',
    { name: 'ingressInterface', length: 2 },
    { name: 'egressInterface', length: 2 },
    { name: 'packetDeltaCount', length: 4 },
    { name: 'octetDeltaCount', length: 4 },
    'flowStartSysUpTime',
    'flowEndSysUpTime',
    'sourceTransportPort',
    'destinationTransportPort',
    { name: 'tcpControlBits', length: 1 },
    'protocolIdentifier',
    'ipClassOfService',
    { name: 'bgpSourceAsNumber', length: 2 },
    { name: 'bgpDestinationAsNumber', length: 2 },
    'sourceIPv4PrefixLength',
    'destinationIPv4PrefixLength',
  ],
};
/** NetFlow v9, IPv6. */
const V9_V6: EncodeTemplate = {
  templateId: 301,
  fields: [
    'sourceIPv6Address',
    'destinationIPv6Address',
    { name: 'ingressInterface', length: 2 },
    { name: 'egressInterface', length: 2 },
    { name: 'packetDeltaCount', length: 4 },
    { name: 'octetDeltaCount', length: 4 },
    'flowStartSysUpTime',
    'flowEndSysUpTime',
    'sourceTransportPort',
    'destinationTransportPort',
    { name: 'tcpControlBits', length: 1 },
    'protocolIdentifier',
    'flowLabelIPv6',
  ],
};

const IPFIX_TEMPLATES = [IPFIX_V4, IPFIX_V4_REDUCED, IPFIX_V6, IPFIX_BIFLOW];
const V9_TEMPLATES = [V9_V4, V9_V6];

function recordLength(t: EncodeTemplate, v9: boolean): number {
  // Encode one record to learn its size (templates here are fixed-length).
  const one = v9
    ? encodeNetflow9Message({
        sourceId: 0,
        sequence: 0,
        exportTime: 0,
        sysUptime: 0,
        sets: [{ kind: 'data', template: t, records: [flow(false)], padding: 0 }],
      })
    : encodeIpfixMessage({
        observationDomainId: 0,
        sequence: 0,
        exportTime: 0,
        sets: [{ kind: 'data', template: t, records: [flow(false)] }],
      });
  return one.length - (v9 ? 20 : 16) - 4;
}

interface Corpus {
  name: string;
  /** What is counted: flow records only for sFlow (counter records are not flows). */
  unit: 'records' | 'flows';
  datagrams: RawDatagram[];
  templates: RawDatagram[];
  records: number;
}

function buildCorpus(
  name: string,
  withIpfix: boolean,
  withV9: boolean,
  exporters: number,
  messages: number,
): Corpus {
  const datagrams: RawDatagram[] = [];
  const templates: RawDatagram[] = [];
  let records = 0;
  const kinds: { t: EncodeTemplate; v9: boolean; v6: boolean }[] = [];
  if (withIpfix) for (const t of IPFIX_TEMPLATES) kinds.push({ t, v9: false, v6: t === IPFIX_V6 });
  if (withV9) for (const t of V9_TEMPLATES) kinds.push({ t, v9: true, v6: t === V9_V6 });
  const per = new Map(kinds.map((k) => [k.t, Math.floor((MTU_PAYLOAD - 24) / recordLength(k.t, k.v9))]));
  for (let e = 0; e < exporters; e++) {
    const address = `192.0.2.${e + 1}`;
    const dg = (bytes: Uint8Array): RawDatagram => ({
      receivedAt: T0 + 60_000,
      exporter: { address, port: 4739 },
      transport: 'udp',
      bytes,
    });
    templates.push(
      dg(
        encodeIpfixMessage({
          observationDomainId: e,
          sequence: 0,
          exportTime: T0,
          sets: [{ kind: 'template', templates: IPFIX_TEMPLATES }],
        }),
      ),
      dg(
        encodeNetflow9Message({
          sourceId: e,
          sequence: 0,
          exportTime: T0,
          sysUptime: 1_100_000,
          sets: [{ kind: 'template', templates: V9_TEMPLATES }],
        }),
      ),
    );
    let ipfixSeq = 0;
    let v9Seq = 1;
    for (let i = 0; i < messages; i++) {
      const k = kinds[i % kinds.length]!;
      const n = per.get(k.t)!;
      const recs = Array.from({ length: n }, () => flow(k.v6));
      records += n;
      if (k.v9) {
        datagrams.push(
          dg(
            encodeNetflow9Message({
              sourceId: e,
              sequence: v9Seq++,
              exportTime: T0 + 60_000,
              sysUptime: 1_100_000,
              sets: [{ kind: 'data', template: k.t, records: recs }],
            }),
          ),
        );
      } else {
        datagrams.push(
          dg(
            encodeIpfixMessage({
              observationDomainId: e,
              sequence: ipfixSeq,
              exportTime: T0 + 60_000,
              sets: [{ kind: 'data', template: k.t, records: recs }],
            }),
          ),
        );
        ipfixSeq += n;
      }
    }
  }
  return { name, unit: 'records', datagrams, templates, records };
}

function newSession(): DecoderSession {
  return createDecoderSession(
    { clock: new ManualClock(T0), metrics: new MetricsRegistry() },
    {
      templateTimeoutMs: 3_600_000,
      pendingMaxSets: 64,
      pendingMaxAgeMs: 60_000,
      silenceAlarmMs: 0,
      samplingOverrides: {},
    },
  );
}

/** The sFlow corpus of bench/decode-sflow.ts as datagrams from the agents' own addresses. */
function sflowCorpus(): Corpus {
  const c = buildSflowCorpus();
  return {
    name: 'sflow5',
    unit: 'flows',
    templates: [],
    records: c.flows,
    datagrams: c.datagrams.map((d) => ({
      receivedAt: T0 + 60_000,
      exporter: { address: d.exporter, port: 6343 },
      transport: 'udp',
      bytes: d.bytes,
    })),
  };
}

/** A corpus of the single realistic IPv4 template, for comparison with the targets. */
function ipfix18Corpus(): Corpus {
  const c: Corpus = { name: 'ipfix-v4-18-fields', unit: 'records', datagrams: [], templates: [], records: 0 };
  const dg = (bytes: Uint8Array): RawDatagram => ({
    receivedAt: T0 + 60_000,
    exporter: { address: '192.0.2.1', port: 4739 },
    transport: 'udp',
    bytes,
  });
  c.templates.push(
    dg(
      encodeIpfixMessage({
        observationDomainId: 0,
        sequence: 0,
        exportTime: T0,
        sets: [{ kind: 'template', templates: [IPFIX_V4] }],
      }),
    ),
  );
  const per = Math.floor((MTU_PAYLOAD - 24) / recordLength(IPFIX_V4, false));
  for (let i = 0; i < 2000; i++) {
    const recs = Array.from({ length: per }, () => flow(false));
    c.datagrams.push(
      dg(
        encodeIpfixMessage({
          observationDomainId: 0,
          sequence: i * per,
          exportTime: T0 + 60_000,
          sets: [{ kind: 'data', template: IPFIX_V4, records: recs }],
        }),
      ),
    );
    c.records += per;
  }
  return c;
}

let gcCount = 0;
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcCount++;
    gcMs += e.duration;
  }
}).observe({ entryTypes: ['gc'] });

/** GC entries reach the observer asynchronously: lets those of earlier work arrive. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 100));

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One benchmark row (one JSON line). */
export interface DecodeBenchRow {
  bench: 'decode';
  corpus: string;
  mode: 'full' | 'batch';
  /** Records counted over all rounds (sFlow: flow records; its counter records are not counted). */
  records: number;
  rounds: number;
  /** Median over rounds of records per CPU-second of this process: what one unshared core does. */
  recordsPerCpuSec: number;
  /** Median over rounds of records per wall-clock second (lower when the machine is shared). */
  recordsPerSec: number;
  minRecordsPerSec: number;
  maxRecordsPerSec: number;
  /** Median share of one core this process got while measuring (CPU time / wall time). */
  cpuShare: number;
  datagramsPerCpuSec: number;
  gcPerMillionRecords: number;
  gcMsPerMillionRecords: number;
  /** 1-minute load average before and after the row (the machine has `cores` cores). */
  loadavg: [number, number];
  cores: number;
}

async function measure(c: Corpus, mode: 'full' | 'batch'): Promise<DecodeBenchRow> {
  const load0 = loadavg()[0]!;
  const s = newSession();
  let flows = 0;
  let last: DecodedRecord | null = null;
  const sink = {
    record(r: DecodedRecord): void {
      if (r.recordType === 'flow') flows++;
      last = r;
    },
  };
  const batch = new FlowBatch(4096);
  let checksum = 0;
  const out = {
    batch,
    flush(): void {
      flows += batch.length;
      checksum += batch.octets[batch.length - 1] ?? 0;
      batch.clear();
    },
  };
  const ds = c.datagrams;
  for (const t of c.templates) s.decode(t, sink);
  const pass = (): number => {
    const before = flows;
    if (mode === 'full') for (let k = 0; k < ds.length; k++) s.decode(ds[k]!, sink);
    else {
      for (let k = 0; k < ds.length; k++) s.decodeToBatch(ds[k]!, out);
      out.flush();
    }
    return flows - before;
  };
  // Warm-up: let V8 optimise the compiled templates and the session.
  const warmEnd = performance.now() + 500;
  while (performance.now() < warmEnd) pass();
  await settle();
  const rates: number[] = [];
  const cpuRates: number[] = [];
  const shares: number[] = [];
  const dgRates: number[] = [];
  let total = 0;
  const gc0 = gcCount;
  const gcMs0 = gcMs;
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    let passes = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let t1 = t0;
    while (t1 - t0 < SECONDS * 1000) {
      n += pass();
      passes++;
      t1 = performance.now();
    }
    const cpu = process.cpuUsage(c0);
    const wall = (t1 - t0) / 1000;
    const cpuSec = (cpu.user + cpu.system) / 1e6;
    rates.push(n / wall);
    cpuRates.push(n / cpuSec);
    shares.push(cpuSec / wall);
    dgRates.push((passes * ds.length) / cpuSec);
    total += n;
  }
  await settle();
  if (last === null && checksum < 0) console.error('unreachable');
  return {
    bench: 'decode',
    corpus: c.name,
    mode,
    records: total,
    rounds: ROUNDS,
    recordsPerCpuSec: Math.round(median(cpuRates)),
    recordsPerSec: Math.round(median(rates)),
    minRecordsPerSec: Math.round(Math.min(...rates)),
    maxRecordsPerSec: Math.round(Math.max(...rates)),
    cpuShare: +median(shares).toFixed(2),
    datagramsPerCpuSec: Math.round(median(dgRates)),
    gcPerMillionRecords: +(((gcCount - gc0) / total) * 1e6).toFixed(2),
    gcMsPerMillionRecords: +(((gcMs - gcMs0) / total) * 1e6).toFixed(2),
    loadavg: [+load0.toFixed(2), +loadavg()[0]!.toFixed(2)],
    cores: availableParallelism(),
  };
}

/** Runs bench/meter.ts (it runs at import, exporting nothing) in a child; its stdout lines. */
function meterRows(): Promise<string[]> {
  const script = fileURLToPath(new URL('./meter.ts', import.meta.url));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script],
      { maxBuffer: 16 * 1024 * 1024, env: { ...process.env, BENCH_ROUNDS: process.env.BENCH_METER_ROUNDS } },
      (err, stdout, stderr) => {
        if (err) {
          console.error(`bench/meter.ts failed: ${err.message}\n${stderr}`);
          resolve([]);
          return;
        }
        resolve(stdout.split('\n').filter((l) => l.trim() !== ''));
      },
    );
  });
}

/** Builds the corpora, measures every row, prints JSON lines and the summary. */
async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY ?? '';
  const wanted = (corpus: string, mode?: string): boolean =>
    only === '' || only === corpus || only === mode || only === `${corpus}:${mode}`;
  const builders: [string, () => Corpus][] = [
    ['mixed', () => buildCorpus('mixed', true, true, 8, 300)],
    ['ipfix', () => buildCorpus('ipfix', true, false, 8, 200)],
    ['netflow9', () => buildCorpus('netflow9', false, true, 8, 200)],
    ['ipfix-v4-18-fields', ipfix18Corpus],
    ['sflow5', sflowCorpus],
  ];
  const rows: DecodeBenchRow[] = [];
  for (const [name, build] of builders) {
    if (!wanted(name, 'full') && !wanted(name, 'batch')) continue;
    const c = build();
    for (const mode of ['full', 'batch'] as const) {
      if (!wanted(name, mode)) continue;
      const row = await measure(c, mode);
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  }
  let meter = '';
  if (process.env.BENCH_METER !== '0' && (only === '' || only === 'meter')) {
    const lines = await meterRows();
    for (const l of lines) if (l.startsWith('{')) console.log(l);
    const first = lines.find((l) => l.startsWith('{') && l.includes('"flows+dns"'));
    if (first) {
      const r = JSON.parse(first) as { recordsPerCpuSec?: number; packetsPerCpuSec?: number };
      meter = `; pcap meter ${((r.packetsPerCpuSec ?? 0) / 1e6).toFixed(2)} M packets/cpu-s`;
    }
  }
  const get = (corpus: string, mode: string): DecodeBenchRow | undefined =>
    rows.find((r) => r.corpus === corpus && r.mode === mode);
  const fmt = (corpus: string, mode: string): string => {
    const r = get(corpus, mode);
    return r
      ? `${(r.recordsPerCpuSec / 1e6).toFixed(2)} M/cpu-s (${(r.recordsPerSec / 1e6).toFixed(2)} M/s wall)`
      : 'n/a';
  };
  const full = get('mixed', 'full')?.recordsPerCpuSec ?? 0;
  const batchRate = get('mixed', 'batch')?.recordsPerCpuSec ?? 0;
  const verdict = `${full >= 3e6 ? 'met' : 'NOT met'}/${batchRate >= 10e6 ? 'met' : 'NOT met'}`;
  const [l1, l5, l15] = loadavg();
  console.log(
    `decode, one core, median of ${ROUNDS} rounds: mixed IPFIX+v9 full ${fmt('mixed', 'full')} (target 3), ` +
      `batch ${fmt('mixed', 'batch')} (target 10) [${verdict}]; ` +
      `ipfix full ${fmt('ipfix', 'full')}, batch ${fmt('ipfix', 'batch')}; ` +
      `netflow9 full ${fmt('netflow9', 'full')}, batch ${fmt('netflow9', 'batch')}; ` +
      `ipfix 18-field full ${fmt('ipfix-v4-18-fields', 'full')}, batch ${fmt('ipfix-v4-18-fields', 'batch')}; ` +
      `sflow5 flows full ${fmt('sflow5', 'full')}, batch ${fmt('sflow5', 'batch')}${meter}; ` +
      `loadavg ${l1!.toFixed(2)} ${l5!.toFixed(2)} ${l15!.toFixed(2)} on ${availableParallelism()} cores`,
  );
}

await main();
