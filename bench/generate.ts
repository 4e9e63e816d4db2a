/**
 * Generator benchmark (issue 4): records/s the exporter fleet produces on one core, per format,
 *
 *  - `encode`: pre-encoded — records through the exporters into an in-memory output that only
 *    counts (sampling, batching, templates, sequence numbers, encoding; no I/O);
 *  - `live`: the same, sent over UDP to a local sink socket as fast as the pacer allows (no rate
 *    limit; the output's in-flight bound applies back-pressure).
 *
 * Records come from a fixed pool of plausible flows (or DNS events for dnstap), two exporters per
 * format, unsampled, so records/s counts records in = records out. Rates are wall-clock and
 * CPU-second (process.cpuUsage) medians over rounds; the machine is shared, so the CPU rate is what
 * one core does. dnstap has no UDP transport, so its live row is absent.
 *
 * Run: `node --import tsx bench/generate.ts` (or `npm run bench:generate`). Environment:
 * BENCH_ROUNDS (default 3), BENCH_SECONDS per round (default 1), BENCH_ONLY (a format).
 * Prints one JSON object per row on stdout, then a one-line summary.
 */
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

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const ONLY = process.env.BENCH_ONLY;
const FORMATS: ExporterFormat[] = ['ipfix', 'netflow9', 'netflow5', 'sflow5', 'dnstap'];

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
  const rows = [];
  for (const format of FORMATS) {
    if (ONLY && ONLY !== format) continue;
    const pool = format === 'dnstap' ? dns : format === 'netflow5' ? flows4 : flows;
    rows.push(await measure(format, 'encode', pool, sink.address().port));
    if (format !== 'dnstap') rows.push(await measure(format, 'live', pool, sink.address().port));
    for (const r of rows.slice(-2)) if (r.format === format) console.log(JSON.stringify(r));
  }
  sink.close();
  const fmt = (n: number): string => `${(n / 1000).toFixed(0)}k`;
  console.log(
    'generate: ' +
      rows
        .map(
          (r) => `${r.format}/${r.mode} ${fmt(r.recordsPerSecond)}/s (${fmt(r.recordsPerCpuSecond)}/cpu-s)`,
        )
        .join(', ') +
      ` — sink saw ${received} datagrams`,
  );
}

await main();
