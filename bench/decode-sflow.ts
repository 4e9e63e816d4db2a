/**
 * sFlow v5 decoder benchmark (issue 3): records/s decoding a large in-memory corpus of sFlow v5
 * datagrams on one core, into full `FlowRecord`s and into the columnar `FlowBatch`.
 *
 * The corpus: 8 agents, datagrams filled up to a 1400-byte payload with flow samples (compact and
 * expanded) whose 128-byte raw headers are Ethernet (some 802.1Q-tagged) IPv4/IPv6 TCP/UDP, with
 * extended switch data on every sample and extended router + gateway data on a third of them, and
 * a counter sample (generic + ethernet counters) in every tenth datagram.
 *
 * Run: `node --import tsx bench/decode-sflow.ts`. Environment: BENCH_ROUNDS (default 7),
 * BENCH_SECONDS per round and mode (default 1), BENCH_ONLY (`full` or `batch`).
 * Prints one JSON object per row on stdout, then a one-line summary.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { FlowBatch } from '../src/common/schema/index.ts';
import type { DecodedRecord } from '../src/common/schema/index.ts';
import { buildFrame } from '../src/collect/decode/packet/testing.ts';
import type { FrameSpec } from '../src/collect/decode/packet/testing.ts';
import {
  createSflowState,
  decodeSflowDatagram,
  decodeSflowDatagramToBatch,
} from '../src/collect/decode/sflow/index.ts';
import { buildSflowDatagram } from '../src/collect/decode/sflow/testing.ts';
import type { FlowRecordSpec, SampleSpec } from '../src/collect/decode/sflow/testing.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const MTU_PAYLOAD = 1400;
const HEADER_BYTES = 128;
const AGENTS = 8;
const DATAGRAMS_PER_AGENT = 500;
const T0 = Date.UTC(2026, 0, 1);

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
const rand = rng(7);
const int = (n: number): number => Math.floor(rand() * n);
const ip4 = (): string => `${10 + int(200)}.${int(256)}.${int(256)}.${1 + int(254)}`;
const ip6 = (): string => `2001:db8:${int(65536).toString(16)}::${(1 + int(65535)).toString(16)}`;
const mac = (): string => Array.from({ length: 6 }, () => int(256).toString(16).padStart(2, '0')).join(':');

/** A sampled frame: Ethernet (tagged 1 in 4), IPv4 or IPv6 (1 in 3), TCP or UDP, then payload. */
function header(): { bytes: Uint8Array; frameLength: number } {
  const v6 = int(3) === 0;
  const tcp = int(4) !== 0;
  const transport = tcp
    ? {
        kind: 'tcp' as const,
        srcPort: 1024 + int(60000),
        dstPort: [443, 80, 22, 25][int(4)]!,
        seq: int(2 ** 32),
        flags: [0x10, 0x18, 0x02, 0x11][int(4)]!,
      }
    : { kind: 'udp' as const, srcPort: 1024 + int(60000), dstPort: [53, 123, 443, 4789][int(4)]! };
  const payloadLength = 100 + int(1300);
  const spec: FrameSpec = {
    ethernet: { src: mac(), dst: mac() },
    ...(int(4) === 0 ? { vlans: [{ id: 1 + int(4094), priority: int(8) }] } : {}),
    ip: v6
      ? { version: 6, src: ip6(), dst: ip6(), hopLimit: 32 + int(32), transport }
      : {
          version: 4,
          src: ip4(),
          dst: ip4(),
          ttl: 32 + int(32),
          tos: int(4) * 8,
          flags: 0x2,
          id: int(65536),
          transport,
        },
    payload: new Uint8Array(payloadLength),
  };
  const frame = buildFrame(spec);
  return { bytes: frame.subarray(0, HEADER_BYTES), frameLength: frame.length + 4 };
}

function flowSample(seq: number, index: number): SampleSpec {
  const h = header();
  const records: FlowRecordSpec[] = [
    { kind: 'header', protocol: 1, frameLength: h.frameLength, stripped: 4, header: h.bytes },
    { kind: 'switch', srcVlan: 1 + int(100), srcPriority: 0, dstVlan: 1 + int(100), dstPriority: 0 },
  ];
  if (int(3) === 0) {
    records.push(
      { kind: 'router', nextHop: ip4(), srcMask: 16 + int(9), dstMask: 16 + int(9) },
      {
        kind: 'gateway',
        nextHop: ip4(),
        as: 64500,
        srcAs: int(65536),
        srcPeerAs: int(65536),
        path: [{ type: 2, asns: Array.from({ length: 1 + int(4) }, () => int(400000)) }],
        communities: int(2) === 0 ? [] : [int(2 ** 32), int(2 ** 32)],
        localPref: 100,
      },
    );
  }
  return {
    kind: 'flow',
    expanded: int(4) === 0,
    seq,
    sourceIdType: 0,
    sourceIdIndex: index,
    rate: 1024,
    pool: seq * 1024,
    drops: 0,
    input: index,
    output: 1 + int(48),
    records,
  };
}

/** The sFlow corpus: datagrams with the agent address they come from. */
export interface SflowCorpus {
  datagrams: { bytes: Uint8Array; exporter: string }[];
  flows: number;
  counters: number;
  bytes: number;
}

/** Builds the deterministic corpus described at the top of this file (also used by bench/decode.ts). */
export function buildSflowCorpus(): SflowCorpus {
  const c: SflowCorpus = { datagrams: [], flows: 0, counters: 0, bytes: 0 };
  for (let a = 0; a < AGENTS; a++) {
    const agent = `192.0.2.${a + 1}`;
    const seqs = new Map<number, number>();
    for (let d = 0; d < DATAGRAMS_PER_AGENT; d++) {
      const samples: SampleSpec[] = [];
      let size = 28;
      if (d % 10 === 0) {
        samples.push({
          kind: 'counters',
          seq: d / 10 + 1,
          sourceIdType: 0,
          sourceIdIndex: 1,
          records: [
            {
              kind: 'generic',
              values: {
                ifIndex: 1,
                ifType: 6,
                ifSpeed: 10_000_000_000,
                ifDirection: 1,
                ifStatus: 3,
                ifInOctets: d * 1e6,
                ifInUcastPkts: d,
                ifInMulticastPkts: 0,
                ifInBroadcastPkts: 0,
                ifInDiscards: 0,
                ifInErrors: 0,
                ifInUnknownProtos: 0,
                ifOutOctets: d * 2e6,
                ifOutUcastPkts: d,
                ifOutMulticastPkts: 0,
                ifOutBroadcastPkts: 0,
                ifOutDiscards: 0,
                ifOutErrors: 0,
                ifPromiscuousMode: 2,
              },
            },
            { kind: 'ethernet', values: [] },
          ],
        });
        size += 8 + 12 + 8 + 88 + 8 + 52;
        c.counters++;
      }
      for (;;) {
        const index = 1 + int(48);
        const seq = (seqs.get(index) ?? 0) + 1;
        const s = flowSample(seq, index);
        const len =
          buildSflowDatagram({ agent, subAgentId: 0, sequence: 0, uptime: 0, samples: [s] }).length - 28;
        if (size + len > MTU_PAYLOAD) break;
        seqs.set(index, seq);
        samples.push(s);
        size += len;
        c.flows++;
      }
      const bytes = buildSflowDatagram({
        agent,
        subAgentId: 0,
        sequence: d + 1,
        uptime: 3_600_000 + d * 100,
        samples,
      });
      c.bytes += bytes.length;
      c.datagrams.push({ bytes, exporter: agent });
    }
  }
  return c;
}

let gcCount = 0;
let gcMs = 0;

interface Row {
  bench: 'decode-sflow';
  mode: 'full' | 'batch';
  /** Flow records (rows) decoded over all rounds; counter records are not counted. */
  records: number;
  rounds: number;
  /** Median over rounds of flow records per CPU-second of this process (robust on a shared machine). */
  recordsPerCpuSec: number;
  /** Median over rounds of flow records per wall-clock second. */
  recordsPerSec: number;
  minRecordsPerSec: number;
  maxRecordsPerSec: number;
  /** Median datagrams per wall-clock second. */
  datagramsPerSec: number;
  gcPerMillionRecords: number;
  gcMsPerMillionRecords: number;
}

async function measure(c: SflowCorpus, mode: 'full' | 'batch'): Promise<Row> {
  // A fresh sequence state per pass: the corpus repeats, and its sequence numbers would otherwise
  // step back at every pass (reorder events a real collector would not see).
  let state = createSflowState();
  let flows = 0;
  let last: DecodedRecord | null = null;
  const sink = {
    record(r: DecodedRecord): void {
      if (r.recordType === 'flow') flows++;
      last = r;
    },
    event(): void {},
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
  const receivedAt = T0 + 60_000;
  const pass = (): number => {
    const before = flows;
    state = createSflowState();
    if (mode === 'full') {
      for (const d of c.datagrams)
        decodeSflowDatagram(d.bytes, { exporter: d.exporter, receivedAt }, state, sink);
    } else {
      for (const d of c.datagrams)
        decodeSflowDatagramToBatch(d.bytes, { exporter: d.exporter, receivedAt }, state, out, sink);
      out.flush();
    }
    return flows - before;
  };
  const warmEnd = performance.now() + 500;
  while (performance.now() < warmEnd) pass();
  const rates: number[] = [];
  const cpuRates: number[] = [];
  const dgRates: number[] = [];
  let total = 0;
  // GC entries reach the observer asynchronously: let the warm-up's arrive before counting.
  await new Promise((r) => setTimeout(r, 100));
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
    const secs = (t1 - t0) / 1000;
    rates.push(n / secs);
    cpuRates.push(n / ((cpu.user + cpu.system) / 1e6));
    dgRates.push((passes * c.datagrams.length) / secs);
    total += n;
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  await new Promise((r) => setTimeout(r, 100)); // let the GC observer report
  if (last === null && checksum < 0) console.error('unreachable');
  return {
    bench: 'decode-sflow',
    mode,
    records: total,
    rounds: ROUNDS,
    recordsPerCpuSec: Math.round(median(cpuRates)),
    recordsPerSec: Math.round(median(rates)),
    minRecordsPerSec: Math.round(Math.min(...rates)),
    maxRecordsPerSec: Math.round(Math.max(...rates)),
    datagramsPerSec: Math.round(median(dgRates)),
    gcPerMillionRecords: +(((gcCount - gc0) / total) * 1e6).toFixed(2),
    gcMsPerMillionRecords: +(((gcMs - gcMs0) / total) * 1e6).toFixed(2),
  };
}

async function main(): Promise<void> {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcCount++;
      gcMs += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  const corpus = buildSflowCorpus();
  console.log(
    JSON.stringify({
      bench: 'decode-sflow',
      corpus: {
        datagrams: corpus.datagrams.length,
        flowSamples: corpus.flows,
        counterSamples: corpus.counters,
        bytes: corpus.bytes,
      },
    }),
  );
  const rows: Row[] = [];
  const only = process.env.BENCH_ONLY;
  for (const mode of ['full', 'batch'] as const) {
    if (only && only !== mode) continue;
    const row = await measure(corpus, mode);
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  console.log(
    `decode-sflow: ${rows.map((r) => `${r.mode} ${(r.recordsPerSec / 1e6).toFixed(2)} M records/s (${(r.recordsPerCpuSec / 1e6).toFixed(2)} M/cpu-s)`).join(', ')} ` +
      `on ${corpus.datagrams.length} datagrams of ${(corpus.flows / corpus.datagrams.length).toFixed(1)} flow samples, one core`,
  );
}

// Run only as a script: bench/decode.ts imports the corpus builder without running this bench.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
