/**
 * Generator benchmark (issue 4): records/s the exporter fleet produces on one core, per format,
 *
 *  - `encode`: pre-encoded — records through the exporters into an in-memory output that only
 *    counts (sampling, batching, templates, sequence numbers, encoding; no I/O);
 *  - `live`: the same, sent over UDP to a local sink socket as fast as the pacer allows (no rate
 *    limit; the output's in-flight bound applies back-pressure).
 *
 * Records come from a fixed pool of plausible flows (or DNS events for dnstap), two exporters per
 * format, unsampled, so records/s counts records in = records out.
 *
 * Then the whole generator (src/simulate/traffic): the synthetic country's background model plus
 * encoding, per flow format —
 *
 *  - `model-encode`: the engine into memory on this thread (records/s one core generates and
 *    encodes: what pre-encoding costs);
 *  - `model-live`: `runLive` with a worker thread generating and encoding ahead and this thread
 *    sending over UDP to a sink, paced at BENCH_RATE (default 200,000 flows/s, flat daily curve)
 *    for BENCH_STEADY_SECONDS (default 10), NetFlow v9 (BENCH_LIVE_FORMATS=netflow9,ipfix for both):
 *    a sink in another process counts data records per wall second (template and options records
 *    excluded), and the row reports the worst full second's deviation from the rate (the issue
 *    asks for ±2 %), the pre-encoding time, loss and the CPU-seconds per second both threads use. Rates are wall-clock and
 * CPU-second (process.cpuUsage) medians over rounds; the machine is shared, so the CPU rate is what
 * one core does. dnstap has no UDP transport, so its live row is absent.
 *
 * Run: `node --import tsx bench/generate.ts` (or `npm run bench:generate`). Environment:
 * BENCH_ROUNDS (default 3), BENCH_SECONDS per round (default 1), BENCH_ONLY (a format, or `model`
 * for the generator rows only, or `fleet` for the fleet rows only), BENCH_RATE, BENCH_STEADY_SECONDS,
 * BENCH_LIVE_FORMATS.
 * Prints one JSON object per row on stdout, then a one-line summary.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { loadavg } from 'node:os';
import type { Fields } from '../src/common/schema/index.ts';
import {
  createExporterFleet,
  createUdpOutput,
  runPaced,
  type ExporterConfig,
  type ExporterFormat,
} from '../src/simulate/exporters/index.ts';
import { cyclingSource, memoryOutput, testFlows } from '../src/simulate/exporters/testing.ts';
import { loadPrefixTable } from '../src/common/prefixes/index.ts';
import { buildCountryModel, type CountryModel } from '../src/simulate/country/index.ts';
import { createTrafficEngine, FLAT_PROFILE, runLive } from '../src/simulate/traffic/index.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const ONLY = process.env.BENCH_ONLY;
const FORMATS: ExporterFormat[] = ['ipfix', 'netflow9', 'netflow5', 'sflow5', 'dnstap'];
const RATE = Number(process.env.BENCH_RATE ?? 200_000);
const STEADY_SECONDS = Number(process.env.BENCH_STEADY_SECONDS ?? 10);
const START = Date.UTC(2026, 3, 1, 3);
const LIVE_FORMATS = (process.env.BENCH_LIVE_FORMATS ?? 'netflow9').split(',') as ('netflow9' | 'ipfix')[];

/** The whole generator into memory on this thread: background model + routing + encoding. */
async function modelEncode(model: CountryModel, format: ExporterFormat) {
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let records = 0;
    const engine = createTrafficEngine(
      { model, seed: 1 + r, startMs: START, format, rate: 100_000, sampling: 1, diurnal: FLAT_PROFILE },
      (m) => (records += m.records),
    );
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < SECONDS * 1000) engine.step();
    const c = process.cpuUsage(c0);
    wall.push((records * 1000) / (performance.now() - t0));
    cpu.push((records * 1e6) / (c.user + c.system));
    await new Promise((res) => setImmediate(res));
  }
  return {
    bench: 'generate',
    format,
    mode: 'model-encode',
    recordsPerSecond: Math.round(median(wall)),
    recordsPerCpuSecond: Math.round(median(cpu)),
    rounds: ROUNDS,
    seconds: SECONDS,
    load1: loadavg()[0],
  };
}

/**
 * A UDP sink in its own process (so that its clock is not disturbed by the sender's event loop):
 * counts NetFlow v9 / IPFIX *data* records per wall second from the first datagram (record sizes
 * from the templates in the stream, so template and options records are not counted) and prints
 * them as JSON when no datagram arrived for a second.
 */
const SINK_CODE = `
const dgram = require('node:dgram');
const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 32 * 1024 * 1024 });
const per = []; let t0 = 0; let last = 0; let total = 0;
const sizes = new Map();
s.on('message', (b, from) => {
  const now = performance.now(); if (!t0) t0 = now; last = now;
  const i = Math.floor((now - t0) / 1000);
  const v9 = b.readUInt16BE(0) === 9; let o = v9 ? 20 : 16; let n = 0;
  while (o + 4 <= b.length) {
    const id = b.readUInt16BE(o), len = b.readUInt16BE(o + 2); if (len < 4) break;
    if (id === (v9 ? 0 : 2)) {
      for (let p = o + 4; p + 4 <= o + len; ) {
        const tid = b.readUInt16BE(p), fc = b.readUInt16BE(p + 2); let sz = 0; p += 4;
        for (let k = 0; k < fc; k++) { const f = b.readUInt16BE(p); sz += b.readUInt16BE(p + 2); p += !v9 && (f & 0x8000) ? 8 : 4; }
        sizes.set(from.address + '/' + tid, sz);
      }
    } else if (id >= 256) { const sz = sizes.get(from.address + '/' + id); if (sz) n += Math.floor((len - 4) / sz); }
    o += len;
  }
  per[i] = (per[i] || 0) + n; total += n;
});
s.bind(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: s.address().port }) + '\\n'));
setInterval(() => {
  if (t0 && performance.now() - last > 1000) {
    process.stdout.write(JSON.stringify({ per: Array.from(per, (x) => x || 0), total }) + '\\n');
    process.exit(0);
  }
}, 200);
`;

/** Live at a fixed rate: worker generates/encodes, this thread sends; the sink measures steadiness. */
async function modelLive(model: CountryModel, format: 'netflow9' | 'ipfix') {
  const child = spawn(process.execPath, ['-e', SINK_CODE], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  let wake: (() => void) | undefined;
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
      buf = buf.slice(i + 1);
      wake?.();
    }
  });
  const next = async (): Promise<Record<string, unknown>> => {
    while (lines.length === 0) await new Promise<void>((r) => (wake = r));
    return lines.shift()!;
  };
  const port = (await next()).port as number;
  const c0 = process.cpuUsage();
  const res = await runLive({
    engine: {
      model,
      seed: 1,
      startMs: START,
      format,
      rate: RATE,
      sampling: 1,
      diurnal: FLAT_PROFILE,
      endMs: START + STEADY_SECONDS * 1000,
    },
    target: { kind: 'udp', host: '127.0.0.1', port },
    expectedRate: RATE,
  });
  // Both threads (generator worker and sender), start-up and pre-encoding included.
  const c = process.cpuUsage(c0);
  const report = await next();
  const perSecond = report.per as number[];
  const received = report.total as number;
  // Full seconds only (the last one is partial).
  const full = perSecond.slice(0, Math.floor(res.elapsedMs / 1000));
  const worst = full.reduce((m, x) => Math.max(m, Math.abs(x - RATE) / RATE), 0);
  return {
    bench: 'generate',
    format,
    mode: 'model-live',
    rate: RATE,
    seconds: STEADY_SECONDS,
    recordsSent: res.records,
    recordsReceived: received,
    recordsPerSecond: Math.round(res.rate),
    worstSecondDeviation: Math.round(worst * 10000) / 10000,
    perSecond: full,
    preEncodeSeconds: Math.round(res.preEncodeMs) / 1000,
    starved: res.starved,
    cpuSecondsPerSecond: Math.round(((c.user + c.system) / 1e6 / (res.elapsedMs / 1000)) * 100) / 100,
    load1: loadavg()[0],
  };
}

function dnsEvents(n: number): Fields[] {
  const out: Fields[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      dnsMessageType: i % 2 ? 'CLIENT_RESPONSE' : 'CLIENT_QUERY',
      sourceIPv4Address: `10.0.${(i >> 8) & 255}.${i & 255}`,
      destinationIPv4Address: '10.255.0.53',
      sourceTransportPort: 1024 + (i % 60000),
      destinationTransportPort: 53,
      eventTime: Date.UTC(2026, 0, 1) + i,
      dnsId: i & 0xffff,
      dnsQueryName: `host${i % 977}.example${i % 13}.jp`,
      dnsQueryType: i % 3 ? 1 : 28,
      dnsResponseCode: i % 10 === 0 ? 3 : 0,
      dnsAnswers:
        i % 10 === 0 ? [] : [{ type: i % 3 ? 1 : 28, ttl: 300, data: i % 3 ? '192.0.2.1' : '2001:db8::1' }],
    });
  }
  return out;
}

function exporters(format: ExporterFormat): ExporterConfig[] {
  return [1, 2].map((i) => ({
    id: `b${i}`,
    address: `127.0.0.${60 + i}`,
    format,
    observationDomainId: i,
    samplingInterval: 1,
  }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function measure(format: ExporterFormat, mode: 'encode' | 'live', pool: Fields[], sinkPort: number) {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const output = mode === 'encode' ? memoryOutput(false) : createUdpOutput('127.0.0.1', sinkPort);
    const fleet = createExporterFleet({ seed: 1, output, exporters: exporters(format) });
    await fleet.start();
    const c0 = process.cpuUsage();
    const res = await runPaced(fleet, cyclingSource(pool, 2), {
      startMs: Date.UTC(2026, 0, 1),
      asFastAsPossible: mode === 'encode',
      durationMs: SECONDS * 1000,
      ...(mode === 'encode' ? { maxRecords: Number.POSITIVE_INFINITY } : {}),
    });
    await fleet.stop();
    const c = process.cpuUsage(c0);
    wall.push(res.rate);
    cpu.push((res.records * 1e6) / (c.user + c.system));
  }
  return {
    bench: 'generate',
    format,
    mode,
    recordsPerSecond: Math.round(median(wall)),
    recordsPerCpuSecond: Math.round(median(cpu)),
    rounds: ROUNDS,
    seconds: SECONDS,
    load1: loadavg()[0],
  };
}

async function main(): Promise<void> {
  const sink = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
  let received = 0;
  sink.on('message', () => received++);
  const flows = testFlows(50_000, { ipv6Share: 0.1 });
  const flows4 = testFlows(50_000);
  const dns = dnsEvents(20_000);
  const rows: { format: string; mode: string; recordsPerSecond: number; recordsPerCpuSecond?: number }[] = [];
  for (const format of ONLY === 'model' ? [] : FORMATS) {
    if (ONLY && ONLY !== 'fleet' && ONLY !== format) continue;
    const pool = format === 'dnstap' ? dns : format === 'netflow5' ? flows4 : flows;
    rows.push(await measure(format, 'encode', pool, sink.address().port));
    if (format !== 'dnstap') rows.push(await measure(format, 'live', pool, sink.address().port));
    for (const r of rows.slice(-2)) if (r.format === format) console.log(JSON.stringify(r));
  }
  const lives: Awaited<ReturnType<typeof modelLive>>[] = [];
  if (!ONLY || ONLY === 'model') {
    const { table } = await loadPrefixTable();
    const model = buildCountryModel(table, { seed: 1 });
    for (const format of ['ipfix', 'netflow9', 'netflow5', 'sflow5'] as const) {
      const row = await modelEncode(model, format);
      rows.push(row);
      console.log(JSON.stringify(row));
    }
    for (const format of LIVE_FORMATS) {
      const live = await modelLive(model, format);
      lives.push(live);
      console.log(JSON.stringify(live));
    }
  }
  sink.close();
  const fmt = (n: number): string => `${(n / 1000).toFixed(0)}k`;
  console.log(
    'generate: ' +
      rows
        .map(
          (r) =>
            `${r.format}/${r.mode} ${fmt(r.recordsPerSecond)}/s (${fmt(r.recordsPerCpuSecond ?? 0)}/cpu-s)`,
        )
        .join(', ') +
      ` — sink saw ${received} datagrams` +
      lives
        .map(
          (live) =>
            `; live ${live.format} ${fmt(live.rate)}/s target: ${fmt(live.recordsPerSecond)}/s sent for ` +
            `${live.seconds}s, worst second ${(live.worstSecondDeviation * 100).toFixed(1)} % off, ` +
            `${live.preEncodeSeconds}s pre-encoding, ${live.cpuSecondsPerSecond} CPU-s/s`,
        )
        .join(''),
  );
}

await main();
