/**
 * Flow-meter benchmark (issue 3): packets/s and flow records/s metering a large in-memory capture
 * on one core. The corpus is the real src/collect/decode/testdata/traffic.pcap (DNS, HTTP, SSH,
 * ICMP over IPv4/IPv6) replicated COPIES times with the client addresses rewritten per copy
 * (10.a.b.1 / 10.a.b.2, fd00:acd::a:b...) and each copy started 10 ms after the previous one, so
 * thousands of flows are open at once and every copy's flows are distinct.
 *
 * Run: `node --import tsx bench/meter.ts`. Environment: BENCH_ROUNDS (default 5), BENCH_COPIES
 * (default 500). Prints one JSON object per row on stdout, then a one-line summary.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DecodedRecord } from '../src/common/schema/index.ts';
import { createCaptureReader } from '../src/collect/input/pcap.ts';
import { createFlowMeter, type FlowMeterOptions } from '../src/collect/meter/index.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const COPIES = Number(process.env.BENCH_COPIES ?? 500);
const FIXTURE = fileURLToPath(new URL('../src/collect/decode/testdata/traffic.pcap', import.meta.url));

interface Pkt {
  ts: number;
  linkType: number;
  data: Uint8Array;
}

function loadCorpus(): Pkt[] {
  const reader = createCaptureReader();
  const out = reader.push(readFileSync(FIXTURE));
  // new Uint8Array(view) copies; Buffer#slice (the reader hands out Buffer views here) would not.
  const base = out.packets.map((p) => ({
    ts: p.timestampMs,
    linkType: p.linkType,
    data: new Uint8Array(p.data),
  }));
  const all: Pkt[] = [];
  for (let k = 0; k < COPIES; k++) {
    const a = (k >> 8) & 255;
    const b = k & 255;
    for (const p of base) {
      const d = new Uint8Array(p.data);
      const type = (d[12]! << 8) | d[13]!;
      if (type === 0x0800) {
        // Clients 127.0.0.1 and 127.0.0.2 become 10.a.b.1 and 10.a.b.2 (servers stay).
        for (const o of [26, 30]) {
          if (d[o] === 127 && d[o + 1] === 0 && d[o + 2] === 0 && (d[o + 3] === 1 || d[o + 3] === 2)) {
            d[o] = 10;
            d[o + 1] = a;
            d[o + 2] = b;
          }
        }
      } else if (type === 0x86dd) {
        // Clients ::1 and fd00:acd::1: bytes 12-13 of the address carry the copy number.
        for (const o of [22, 38]) {
          if (d[o + 15] === 1 && d[o + 14] === 0 && d[o + 13] === 0) {
            d[o + 12] = a;
            d[o + 13] = b;
          }
        }
      }
      all.push({ ts: p.ts + k * 10, linkType: p.linkType, data: d });
    }
  }
  all.sort((x, y) => x.ts - y.ts);
  return all;
}

interface Row {
  bench: 'meter';
  mode: string;
  packets: number;
  flowRecords: number;
  dnsEvents: number;
  maxActiveFlows: number;
  rounds: number;
  packetsPerCpuSec: number;
  flowsPerCpuSec: number;
  recordsPerCpuSec: number;
  nsPerPacket: number;
  heapMB: number;
}

function pass(corpus: Pkt[], opts: FlowMeterOptions): { flows: number; dns: number; maxActive: number } {
  let flows = 0;
  let dns = 0;
  const m = createFlowMeter(opts, {
    record(r: DecodedRecord): void {
      if (r.recordType === 'flow') flows++;
      else dns++;
    },
  });
  for (const p of corpus) m.packet(p.ts, p.linkType, p.data);
  m.flush();
  return { flows, dns, maxActive: m.stats.maxActiveFlows };
}

function measure(corpus: Pkt[], mode: string, opts: FlowMeterOptions): Row {
  // Warm-up: two passes, so that V8 has optimised the meter and the DNS parser.
  pass(corpus, opts);
  pass(corpus, opts);
  let cpu = 0;
  let last = { flows: 0, dns: 0, maxActive: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    last = pass(corpus, opts);
    const c = process.cpuUsage(c0);
    cpu += (c.user + c.system) / 1e6;
  }
  const perRound = cpu / ROUNDS;
  return {
    bench: 'meter',
    mode,
    packets: corpus.length,
    flowRecords: last.flows,
    dnsEvents: last.dns,
    maxActiveFlows: last.maxActive,
    rounds: ROUNDS,
    packetsPerCpuSec: Math.round(corpus.length / perRound),
    flowsPerCpuSec: Math.round(last.flows / perRound),
    recordsPerCpuSec: Math.round((last.flows + last.dns) / perRound),
    nsPerPacket: Math.round((perRound * 1e9) / corpus.length),
    heapMB: Math.round(process.memoryUsage().heapUsed / 1e6),
  };
}

const corpus = loadCorpus();
const rows = [
  measure(corpus, 'flows+dns', {}),
  measure(corpus, 'flows-only', { dnsEvents: false }),
  // A small table: most flows are evicted early, the worst case for table churn.
  measure(corpus, 'flows-only-maxflows-1024', { dnsEvents: false, maxFlows: 1024 }),
];
for (const r of rows) console.log(JSON.stringify(r));
const [full, flowsOnly, small] = rows as [Row, Row, Row];
console.log(
  `meter on one core (${corpus.length} packets, ${full.flowRecords} flows, ${full.dnsEvents} DNS events): ` +
    `${(full.packetsPerCpuSec / 1e6).toFixed(2)} M packets/s and ${(full.flowsPerCpuSec / 1e3).toFixed(0)} k flows/s with DNS, ` +
    `${(flowsOnly.packetsPerCpuSec / 1e6).toFixed(2)} M packets/s without, ` +
    `${(small.packetsPerCpuSec / 1e6).toFixed(2)} M packets/s with maxFlows 1024 (evicting)`,
);
