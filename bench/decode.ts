/**
 * Decoder benchmark (issue 2): records/s decoding a large in-memory corpus of IPFIX and NetFlow v9
 * datagrams with mixed templates (IPv4 and IPv6, different field orders, reduced-size counters,
 * biflow), on one core, into full `FlowRecord`s and into the columnar `FlowBatch`.
 *
 * Run: `node --import tsx bench/decode.ts` (or `npm run bench:decode`). Environment:
 * BENCH_ROUNDS (default 7), BENCH_SECONDS per round and mode (default 1).
 * Prints one JSON object per row on stdout, then a one-line summary.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { ManualClock } from '../src/common/clock.ts';
import { MetricsRegistry } from '../src/common/metrics.ts';
import { FlowBatch, type DecodedRecord, type Fields, type RawDatagram } from '../src/common/schema/index.ts';
import { createDecoderSession } from '../src/collect/decode/index.ts';
import type { DecoderSession } from '../src/collect/decode/index.ts';
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
  return { name, datagrams, templates, records };
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

let gcCount = 0;
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcCount++;
    gcMs += e.duration;
  }
}).observe({ entryTypes: ['gc'] });

interface Row {
  bench: 'decode';
  corpus: string;
  mode: 'full' | 'batch';
  records: number;
  rounds: number;
  /** Median over rounds of records per CPU-second of this process (robust on a shared machine). */
  recordsPerCpuSec: number;
  /** Median over rounds of records per wall-clock second. */
  recordsPerSec: number;
  minRecordsPerSec: number;
  maxRecordsPerSec: number;
  gcPerMillionRecords: number;
  gcMsPerMillionRecords: number;
}

async function measure(c: Corpus, mode: 'full' | 'batch'): Promise<Row> {
  const s = newSession();
  let sinkCount = 0;
  let last: DecodedRecord | null = null;
  const sink = {
    record(r: DecodedRecord): void {
      sinkCount++;
      last = r;
    },
  };
  const batch = new FlowBatch(4096);
  let batchRows = 0;
  let checksum = 0;
  const out = {
    batch,
    flush(): void {
      batchRows += batch.length;
      checksum += batch.octets[batch.length - 1]!;
      batch.clear();
    },
  };
  for (const t of c.templates) s.decode(t, sink);
  const pass = (): number => {
    const before = sinkCount + batchRows;
    if (mode === 'full') for (const d of c.datagrams) s.decode(d, sink);
    else {
      for (const d of c.datagrams) s.decodeToBatch(d, out);
      out.flush();
    }
    return sinkCount + batchRows - before;
  };
  // Warm-up: let V8 optimise the compiled templates.
  const warmEnd = performance.now() + 500;
  while (performance.now() < warmEnd) pass();
  const rates: number[] = [];
  const cpuRates: number[] = [];
  let total = 0;
  const gc0 = gcCount;
  const gcMs0 = gcMs;
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let t1 = t0;
    while (t1 - t0 < SECONDS * 1000) {
      n += pass();
      t1 = performance.now();
    }
    const c = process.cpuUsage(c0);
    rates.push(n / ((t1 - t0) / 1000));
    cpuRates.push(n / ((c.user + c.system) / 1e6));
    total += n;
  }
  rates.sort((a, b) => a - b);
  cpuRates.sort((a, b) => a - b);
  await new Promise((r) => setImmediate(r)); // let the GC observer report
  if (last === null && checksum < 0) console.error('unreachable');
  return {
    bench: 'decode',
    corpus: c.name,
    mode,
    records: total,
    rounds: ROUNDS,
    recordsPerCpuSec: Math.round(cpuRates[Math.floor(cpuRates.length / 2)]!),
    recordsPerSec: Math.round(rates[Math.floor(rates.length / 2)]!),
    minRecordsPerSec: Math.round(rates[0]!),
    maxRecordsPerSec: Math.round(rates[rates.length - 1]!),
    gcPerMillionRecords: +(((gcCount - gc0) / total) * 1e6).toFixed(2),
    gcMsPerMillionRecords: +(((gcMs - gcMs0) / total) * 1e6).toFixed(2),
  };
}

const corpora = [
  buildCorpus('mixed', true, true, 8, 300),
  buildCorpus('ipfix-v4-18-fields', true, false, 1, 0),
];
// A corpus of the single realistic IPv4 template, for comparison with the targets.
{
  const c = corpora[1]!;
  const per = Math.floor((MTU_PAYLOAD - 24) / recordLength(IPFIX_V4, false));
  for (let i = 0; i < 2000; i++) {
    const recs = Array.from({ length: per }, () => flow(false));
    c.datagrams.push({
      receivedAt: T0 + 60_000,
      exporter: { address: '192.0.2.1', port: 4739 },
      transport: 'udp',
      bytes: encodeIpfixMessage({
        observationDomainId: 0,
        sequence: i * per,
        exportTime: T0 + 60_000,
        sets: [{ kind: 'data', template: IPFIX_V4, records: recs }],
      }),
    });
    c.records += per;
  }
}

const rows: Row[] = [];
const only = process.env.BENCH_ONLY; // e.g. "mixed:batch"
for (const c of corpora) {
  for (const mode of ['full', 'batch'] as const) {
    if (only && only !== `${c.name}:${mode}` && only !== c.name && only !== mode) continue;
    const row = await measure(c, mode);
    rows.push(row);
    console.log(JSON.stringify(row));
  }
}
const get = (corpus: string, mode: string): number =>
  rows.find((r) => r.corpus === corpus && r.mode === mode)?.recordsPerCpuSec ?? 0;
const full = get('mixed', 'full');
const batch = get('mixed', 'batch');
console.log(
  `decode records per CPU-second (mixed IPFIX+v9 corpus): full records ${(full / 1e6).toFixed(2)} M/s (target 3), ` +
    `batch ${(batch / 1e6).toFixed(2)} M/s (target 10), batch/full ${(batch / full).toFixed(1)}x; ` +
    `IPFIX 18-field: full ${(get('ipfix-v4-18-fields', 'full') / 1e6).toFixed(2)} M/s, batch ${(get('ipfix-v4-18-fields', 'batch') / 1e6).toFixed(2)} M/s`,
);
