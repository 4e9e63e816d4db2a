/**
 * Detection benchmark (issue 6): records/s/core with every detector on (`indicator` with a
 * generated indicator set of `--indicators N` entries), state bytes and Node heap while 10 million
 * distinct sources churn through state, and recall on attacks injected into the background (a
 * horizontal scanner, an SSH brute-forcer, a SYN flood, and an internal host beaconing to a
 * listed command-and-control address, which `beacon` and `indicator` must both report): recall
 * must be the same with and without churn.
 *
 * Input is generated straight into columnar batches (the hot-path representation); only detection
 * is timed (`processBatch`, or `pushFlowBatch` including the adapter copy for the `flowbatch`
 * run). Wall time and CPU time (process user + system) are both reported: on a shared machine the
 * CPU time is the steadier measure of records/s/core. Each detector's own CPU time (its
 * `onBatch`/`onWatermark`/`flush`) is reported as ns per record. Prints one JSON line per run, then a one-line summary on stderr.
 *
 *   node --import tsx bench/detect.ts [--records N] [--churn-records N] [--indicators N] [--warmup-records N]
 *
 * A discarded warm-up run of `--warmup-records` (default 300,000) pool records comes first.
 */
import { ManualClock } from '../src/common/clock.ts';
import { FlowBatch } from '../src/common/schema/batch.ts';
import type { IndicatorEntry } from '../src/common/indicators/index.ts';
import { formatIpv4 } from '../src/common/prefixes/address.ts';
import type { Evidence } from '../src/common/schema/evidence.ts';
import { createDetectionEngine, resolveDetectConfig } from '../src/detect/index.ts';
import type { DetectBatch, Detector } from '../src/detect/index.ts';

const T0 = Date.parse('2026-05-11T09:00:00.000Z');
const SPAN_MS = 600_000;

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

/** xorshift32. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

const SCANNER = 0xcb007101; // 203.0.113.1
const BRUTE = 0xcb007102; // 203.0.113.2
const VICTIM = 0xc0000263; // 192.0.2.99
const SSH_TARGET = 0xc0000216; // 192.0.2.22
const BEACON_HOST = 0x6440c801; // 100.64.200.1 (outside the background source pool)
const C2 = 0xcb007132; // 203.0.113.50, on the indicator list
const BEACON_PERIOD_MS = 15_000;

/**
 * A realistic indicator set of `n` entries: 80 % IPv4 addresses spread over the unicast space,
 * 5 % IPv4 /24s, 5 % IPv6 addresses, 10 % domains, plus the injected C2 address. None covers the
 * background's destinations (so background flows cost a filter test or a miss, not a match).
 */
function indicatorSet(n: number): IndicatorEntry[] {
  const r = rng(11);
  const out: IndicatorEntry[] = [{ value: formatIpv4(C2), type: 'ipv4', source: 'bench', confidence: 90 }];
  for (let i = 1; i < n; i++) {
    const k = i % 20;
    // Spread over 32.0.0.0–191.255.255.255: clear of the background (8.8.8.8, 16.0.0.0/8 churn
    // sources, 100.64.0.0/10, 192.0.0.0/16 destinations).
    let a = (0x20000000 + (r() % 0xa0000000)) >>> 0;
    if (a >>> 24 === 100) a = (a ^ 0x01000000) >>> 0;
    if (k < 16) out.push({ value: formatIpv4(a), type: 'ipv4', source: 'bench', confidence: 50 + (i % 50) });
    else if (k === 16)
      out.push({
        value: `${formatIpv4((a & 0xffffff00) >>> 0)}/24`,
        type: 'cidr',
        source: 'bench',
        confidence: 70,
      });
    else if (k === 17)
      out.push({
        value: `2001:db8:${(i & 0xffff).toString(16)}::${(r() & 0xffff).toString(16)}`,
        type: 'ipv6',
        source: 'bench',
        confidence: 60,
      });
    else out.push({ value: `c2-${i.toString(36)}.example`, type: 'domain', source: 'bench', confidence: 80 });
  }
  return out;
}

interface Row {
  src: number;
  dst: number;
  sport: number;
  dport: number;
  proto: number;
  flags: number;
  packets: number;
  octets: number;
  start: number;
  end: number;
}

/** Sets every field of the reused row (no allocation per record). */
function put(
  row: Row,
  src: number,
  dst: number,
  sport: number,
  dport: number,
  proto: number,
  flags: number,
  packets: number,
  octets: number,
  start: number,
  end: number,
): void {
  row.src = src;
  row.start = start;
  row.end = end;
  putService(row, dst, sport, dport, proto, flags, packets, octets);
}

/** Sets the destination, service and size fields of the reused row. */
function putService(
  row: Row,
  dst: number,
  sport: number,
  dport: number,
  proto: number,
  flags: number,
  packets: number,
  octets: number,
): void {
  row.dst = dst;
  row.sport = sport;
  row.dport = dport;
  row.proto = proto;
  row.flags = flags;
  row.packets = packets;
  row.octets = octets;
}

/**
 * The workload: background flows (web sessions, DNS, failed contacts) plus the three attacks, in
 * event-time order. `distinct` sources: `true` gives every background record a new source.
 */
function* workload(n: number, distinct: boolean): Generator<Row> {
  const r = rng(7);
  const row: Row = {
    src: 0,
    dst: 0,
    sport: 0,
    dport: 0,
    proto: 6,
    flags: 0,
    packets: 0,
    octets: 0,
    start: 0,
    end: 0,
  };
  const step = SPAN_MS / n;
  let nextScan = T0;
  let nextBrute = T0;
  let nextFlood = T0 + 300_000;
  let nextBeacon = T0 + 1_000;
  const floodEnd = T0 + 330_000;
  for (let i = 0; i < n; i++) {
    const t = T0 + i * step;
    while (nextScan <= t) {
      put(row, SCANNER, 0x0a000000 + (r() & 0xffffff), 54321, 22, 6, 2, 1, 40, nextScan, nextScan);
      nextScan += 50; // 20 probes/s
      yield row;
    }
    while (nextBrute <= t) {
      put(
        row,
        BRUTE,
        SSH_TARGET,
        32768 + (r() % 20000),
        22,
        6,
        27,
        14 + (r() % 6),
        3000 + (r() % 300),
        nextBrute - 4000,
        nextBrute,
      );
      nextBrute += 2000; // 30 attempts/min
      yield row;
    }
    while (nextFlood <= t && nextFlood < floodEnd) {
      put(
        row,
        0xc6336400 + (r() % 500),
        VICTIM,
        1024 + (r() % 60000),
        443,
        6,
        2,
        1,
        40,
        nextFlood,
        nextFlood,
      );
      nextFlood += 0.5; // 2,000 SYN/s
      yield row;
    }
    while (nextBeacon <= t) {
      put(
        row,
        BEACON_HOST,
        C2,
        32768 + (r() % 28000),
        443,
        6,
        27,
        8,
        1200 + (r() % 16),
        nextBeacon - 200,
        nextBeacon,
      );
      nextBeacon += BEACON_PERIOD_MS + (r() % 400) - 200; // ±200 ms jitter
      yield row;
    }
    const x = r();
    row.src = distinct ? 0x10000000 + i : 0x64400000 + (x % 100_000);
    row.start = t - (x % 5000);
    row.end = t;
    const kind = r() % 10; // independent of the source, so no background source only fails
    if (kind < 6) {
      putService(
        row,
        0xc0000000 + (r() & 0xfff),
        32768 + (x % 28000),
        443,
        6,
        27,
        10 + (x % 40),
        2000 + (x % 60_000),
      );
    } else if (kind < 9) {
      putService(row, 0x08080808, 32768 + (x % 28000), 53, 17, 0, 1, 70);
    } else {
      putService(row, 0xc0000000 + (r() & 0xffff), 32768 + (x % 28000), 80 + (x % 3), 6, 2, 1, 60);
    }
    yield row;
  }
}

interface RunResult {
  run: string;
  records: number;
  seconds: number;
  recordsPerSecond: number;
  cpuSeconds: number;
  recordsPerCpuSecond: number;
  distinctSources: string;
  stateBytes: Record<
    string,
    { used: number; reserved: number; budget: number; keys: number; evictions: number }
  >;
  heapUsedBytes: number;
  indicators: number;
  /** Each detector's own time (onBatch, onWatermark, flush) per record, in ns. */
  detectorNsPerRecord: Record<string, number>;
  recall: { scan: boolean; bruteForce: boolean; ddos: boolean; beacon: boolean; indicator: boolean };
  evidence: number;
  falsePositives: number;
  falsePositiveSample: string[];
}

/** CPU time of this process so far (user + system), in µs. */
function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Wraps every detector's batch, watermark and flush calls to accumulate its own time. */
function timeDetectors(detectors: readonly Detector[]): Map<string, number> {
  const spent = new Map<string, number>();
  for (const d of detectors) {
    spent.set(d.name, 0);
    const timed =
      <A extends unknown[]>(f: (...a: A) => void) =>
      (...a: A): void => {
        const t0 = cpuMicros();
        f(...a);
        spent.set(d.name, (spent.get(d.name) ?? 0) + cpuMicros() - t0);
      };
    const onBatch = d.onBatch?.bind(d);
    const onRecord = d.onRecord.bind(d);
    d.onBatch = timed(
      onBatch ??
        ((b: DetectBatch): void => {
          for (let i = 0; i < b.length; i++) if (b.skip[i] === 0) onRecord(b, i);
        }),
    );
    d.onWatermark = timed(d.onWatermark.bind(d));
    d.flush = timed(d.flush.bind(d));
  }
  return spent;
}

function run(
  name: string,
  n: number,
  distinct: boolean,
  viaFlowBatch: boolean,
  indicators: readonly IndicatorEntry[],
): RunResult {
  const evidence: Evidence[] = [];
  const cfg = resolveDetectConfig({});
  const engine = createDetectionEngine(cfg, {
    clock: new ManualClock(0),
    emit: (e) => evidence.push(e),
    indicators,
  });
  const spent = timeDetectors(engine.detectors);
  const p = engine.partition('127.0.0.2');
  const db: DetectBatch = engine.newBatch(4096);
  const fb = new FlowBatch(4096);
  fb.exporterId('127.0.0.2');
  let ns = 0n;
  let cpu = 0;
  let count = 0;
  const flushBatch = (): void => {
    const t0 = process.hrtime.bigint();
    const c0 = cpuMicros();
    if (viaFlowBatch) {
      engine.pushFlowBatch(fb);
      fb.clear();
    } else {
      engine.processBatch(db);
      db.clear();
    }
    cpu += cpuMicros() - c0;
    ns += process.hrtime.bigint() - t0;
  };
  for (const r of workload(n, distinct)) {
    count++;
    if (viaFlowBatch) {
      const i = fb.add();
      fb.ipVersion[i] = 4;
      fb.src[i * 4] = r.src;
      fb.dst[i * 4] = r.dst;
      fb.srcPort[i] = r.sport;
      fb.dstPort[i] = r.dport;
      fb.proto[i] = r.proto;
      fb.tcpFlags[i] = r.flags;
      fb.packets[i] = r.packets;
      fb.octets[i] = r.octets;
      fb.start[i] = r.start;
      fb.end[i] = r.end;
      fb.sequence[i] = count;
      if (fb.full) flushBatch();
    } else {
      const i = db.length++;
      db.ipVersion[i] = 4;
      const a = i * 4;
      db.src[a] = r.src;
      db.src[a + 1] = db.src[a + 2] = db.src[a + 3] = 0;
      db.dst[a] = r.dst;
      db.dst[a + 1] = db.dst[a + 2] = db.dst[a + 3] = 0;
      db.srcPort[i] = r.sport;
      db.dstPort[i] = r.dport;
      db.proto[i] = r.proto;
      db.tcpFlags[i] = r.flags;
      db.packets[i] = r.packets;
      db.octets[i] = r.octets;
      db.revPackets[i] = 0;
      db.start[i] = r.start;
      db.end[i] = r.end;
      db.time[i] = r.end;
      db.samplingInterval[i] = 1;
      db.partition[i] = p;
      db.skip[i] = 0;
      db.sequence[i] = count;
      db.ids[i] = undefined;
      if (db.full) flushBatch();
    }
  }
  flushBatch();
  const t0 = process.hrtime.bigint();
  const c0 = cpuMicros();
  engine.flush();
  cpu += cpuMicros() - c0;
  ns += process.hrtime.bigint() - t0;
  const s = engine.stats();
  const seconds = Number(ns) / 1e9;
  const stateBytes: RunResult['stateBytes'] = {};
  for (const [k, d] of Object.entries(s.detectors))
    stateBytes[k] = {
      used: d.bytesUsed,
      reserved: d.bytesReserved,
      budget: d.budgetBytes,
      keys: d.keys,
      evictions: d.evictions,
    };
  const hit = (det: string, subject: string): boolean =>
    evidence.some((e) => e.detector === det && e.subject === subject);
  const expected = new Set([
    'scan 203.0.113.1',
    'brute-force 203.0.113.2',
    'ddos 192.0.2.99',
    'beacon 100.64.200.1',
    'indicator 100.64.200.1',
  ]);
  const detectorNsPerRecord: Record<string, number> = {};
  for (const [k, v] of spent) detectorNsPerRecord[k] = Math.round(((v * 1000) / count) * 10) / 10;
  return {
    run: name,
    records: count,
    seconds: Math.round(seconds * 1000) / 1000,
    recordsPerSecond: Math.round(count / seconds),
    cpuSeconds: Math.round(cpu / 1000) / 1000,
    recordsPerCpuSecond: Math.round(count / (cpu / 1e6)),
    distinctSources: distinct ? `${n} (every background record a new source)` : '100000',
    stateBytes,
    heapUsedBytes: process.memoryUsage().heapUsed,
    indicators: indicators.length,
    detectorNsPerRecord,
    recall: {
      scan: hit('scan', '203.0.113.1'),
      bruteForce: hit('brute-force', '203.0.113.2'),
      ddos: hit('ddos', '192.0.2.99'),
      beacon: hit('beacon', '100.64.200.1'),
      indicator: hit('indicator', '100.64.200.1'),
    },
    evidence: evidence.length,
    falsePositives: evidence.filter((e) => !expected.has(`${e.detector} ${e.subject}`)).length,
    falsePositiveSample: evidence
      .filter((e) => !expected.has(`${e.detector} ${e.subject}`))
      .slice(0, 2)
      .map((e) => `${e.detector} ${e.subject} ${JSON.stringify(e.facts)}`),
  };
}

const n = arg('--records', 3_000_000);
const churn = arg('--churn-records', 10_000_000);
const iocs = indicatorSet(arg('--indicators', 5_000));
// Warm-up (discarded): the first run would otherwise also pay for compiling every detector's
// hot paths, which a long-running centre pays once.
run('warm-up', arg('--warmup-records', 300_000), false, false, iocs);
const results = [
  run('detectbatch', n, false, false, iocs),
  run('flowbatch', n, false, true, iocs),
  run('churn-10M-sources', churn, true, false, iocs),
];
for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
const [a, b, c] = results as [RunResult, RunResult, RunResult];
const mrs = (r: RunResult): string =>
  `${(r.recordsPerSecond / 1e6).toFixed(2)} / ${(r.recordsPerCpuSecond / 1e6).toFixed(2)}`;
const recall = (r: RunResult): string =>
  `${Object.values(r.recall).filter(Boolean).length}/${Object.keys(r.recall).length}`;
process.stderr.write(
  `detect (wall / CPU): ${mrs(a)} M rec/s/core (DetectBatch), ${mrs(b)} M rec/s/core (FlowBatch+adapter); ` +
    `churn ${c.records} records with ${churn} distinct sources: ${mrs(c)} M rec/s, state ${Math.round(Object.values(c.stateBytes).reduce((x, y) => x + y.used, 0) / 2 ** 20)} MiB used ` +
    `(budget ${Math.round(Object.values(c.stateBytes).reduce((x, y) => x + y.budget, 0) / 2 ** 20)} MiB), heap ${Math.round(c.heapUsedBytes / 2 ** 20)} MiB; ` +
    `recall ${recall(a)} / ${recall(b)} / ${recall(c)}, false positives ${a.falsePositives}/${b.falsePositives}/${c.falsePositives}\n`,
);
