/**
 * `npm run bench:collect`: the same IPFIX export stream over loopback UDP to nfdump's `nfcapd` and
 * to `acd collect`, at increasing rates; for each target the highest rate received with at least
 * 99.9 % of the records, and the ratio acd / nfcapd measured in the same run.
 *
 * Sender: `tcpreplay` (C) replays a pre-built pcap of the stream onto `lo` (install it with
 * `apt-get install -y tcpreplay`; without it a Node sender in a child process is used and the
 * output says so). The stream is one exporter: a template, then data messages of 30 flow records
 * (1400-byte datagrams) with consecutive sequence numbers, the template repeated every 2000
 * messages; the pcap holds 20 such units and is looped. Received records are each collector's own
 * count of flows (acd: its stop summary; nfcapd: `nfdump -I` on the file it writes at exit), never
 * inferred from sequence numbers, so the sequence restart at each loop of the file does not matter.
 *
 * Each (target, rate) step starts a fresh collector process while the other target is idle
 * (detached, in its own scheduler autogroup, as the sender is), leaves it idle `READY_IDLE_MS`,
 * warms it up with 60,000 records at 200,000/s, sends for `BENCH_DURATION_S` seconds at the rate,
 * waits `SETTLE_MS`, reads the kernel's drop counter of the socket, stops the collector and counts
 * (warm-up records included in both sent and received). Rates are tried in increasing order, the two targets
 * alternating at each rate (so a change of machine load hits both); a target stops after two
 * failed rates in a row. Both collectors get the same socket receive buffer.
 *
 * Output: one JSON line per step (target, rate, achieved rate, received %, CPU % of the collector
 * and of the sender, kernel drops, /proc/loadavg before the step) and a summary line with the
 * highest lossless rate per target and the ratio.
 *
 * Options (environment): BENCH_RATES=100000,200000,... records/s; BENCH_DURATION_S=3;
 * BENCH_TARGETS=nfcapd,acd (add acd-ndjson to also write every record as NDJSON, the closer match
 * to nfcapd writing its files; acd-dgram for acd reading its socket with Node's dgram instead of the
 * native recvmmsg reader, `collect.udpReader: dgram`); BENCH_BUDGET_S=220 (no step starts after this); BENCH_SENDER=node
 * forces the fallback sender; BENCH_ACD_ARGS adds arguments to `acd collect`;
 * BENCH_WARMUP_UNITS=1 (units of 60,000 records; 0 disables the warm-up).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeIpfixStream, RECORDS_PER_MESSAGE, writeStreamPcap } from './lib/ipfix-stream.ts';
import { loadavg, treeCpuSeconds, udpSocketDrops } from './lib/proc.ts';
import {
  hasTcpreplay,
  localNonLoopbackIpv4,
  nodeSend,
  RECORDS_PER_UNIT,
  tcpreplaySend,
  TCPREPLAY_INSTALL_HINT,
  type SendResult,
} from './lib/sender.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RATES = (
  process.env.BENCH_RATES ??
  '100000,200000,300000,400000,500000,600000,800000,1000000,1200000,1400000,1700000,2000000,2400000,2800000'
)
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 3);
const TARGETS = (process.env.BENCH_TARGETS ?? 'nfcapd,acd').split(',') as Target[];
const BUDGET_S = Number(process.env.BENCH_BUDGET_S ?? 220);
const EXTRA_ACD_ARGS = (process.env.BENCH_ACD_ARGS ?? '').split(' ').filter((a) => a !== '');
/** Both collectors get the same receive buffer (the kernel caps it at net.core.rmem_max). */
const RCVBUF = 4 * 1024 * 1024;
const THRESHOLD = 0.999;
/** Time after the last datagram before the collector is stopped, for its queues to empty. */
const SETTLE_MS = 700;
/** Loop units (template + 2000 data messages) in the pcap: 1.2 M records, 58 MB, looped as needed. */
const UNITS_IN_FILE = 20;
/** A step counts for the summary only if the sender reached this share of the asked rate. */
const SENDER_KEPT_UP = 0.95;

/** Idle time given to each collector once it listens (start-up work settles; same for both). */
const READY_IDLE_MS = 500;
/**
 * Records sent at `WARMUP_RATE` before each step's rate, counted in the step's totals: a fresh
 * process per step would otherwise also measure start-up (for acd, compiling the decoder while
 * the first datagrams arrive), which a collector running for days never sees.
 */
const WARMUP_UNITS = Number(process.env.BENCH_WARMUP_UNITS ?? 1);
const WARMUP_RATE = 200_000;

type Target = 'nfcapd' | 'acd' | 'acd-ndjson' | 'acd-dgram';

/**
 * Collector and sender processes run detached, each in its own session and so in its own
 * scheduler autogroup (Linux `sched_autogroup`): otherwise they share one CPU share with each
 * other and with this process, and on a busy machine the collector is starved by its own sender.
 * They are killed if the benchmark is interrupted.
 */
const children = new Set<ChildProcess>();
function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    for (const c of children) c.kill('SIGKILL');
    process.exit(130);
  });
}

interface Sender {
  kind: 'tcpreplay' | 'node';
  host: string;
  port: number;
  send(units: number, rate: number): Promise<SendResult>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r(child.exitCode);
    else child.once('exit', (code) => r(code));
  });
}

async function run(cmd: string, args: string[]): Promise<string> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  await exited(child);
  return out;
}

async function freeUdpPort(host: string): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, host, () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A running collector of one step. */
interface Running {
  child: ChildProcess;
  /** Stops it and returns the flows it received plus target-specific figures. */
  finish(): Promise<{ received: number; extra: Record<string, number> }>;
}

async function startNfcapd(host: string, port: number): Promise<Running> {
  const dir = await mkdtemp(join(tmpdir(), 'acd-bench-nfcapd-'));
  const child = spawn(
    'nfcapd',
    ['-b', host, '-p', String(port), '-w', dir, '-B', String(RCVBUF), '-t', '3600'],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  track(child);
  let log = '';
  child.stderr?.on('data', (c: Buffer) => (log += c.toString()));
  // nfcapd prints nothing reliable when ready: wait until its socket shows up in /proc/net/udp.
  for (let i = 0; i < 100 && udpSocketDrops(port) === null; i++) await sleep(20);
  await sleep(READY_IDLE_MS);
  if (child.exitCode !== null) throw new Error(`nfcapd exited: ${log}`);
  return {
    child,
    async finish() {
      child.kill('SIGTERM');
      await exited(child);
      const info = await run('nfdump', ['-R', dir, '-I', '-N']);
      await rm(dir, { recursive: true, force: true });
      const flows = /^Flows:\s+(\d+)/m.exec(info);
      if (!flows) throw new Error(`cannot read nfdump -I output: ${info}`);
      return { received: Number(flows[1]), extra: {} };
    },
  };
}

interface AcdSummary {
  flows: number;
  dropped: number;
  sequenceLost: number;
}

async function startAcd(host: string, port: number, ndjson: boolean, dgram: boolean): Promise<Running> {
  const dir = await mkdtemp(join(tmpdir(), 'acd-bench-acd-'));
  const args = [
    'collect',
    '--listen',
    `udp://${host}:${port}`,
    '--rcvbuf',
    String(RCVBUF),
    '--queue',
    '65536',
    ...EXTRA_ACD_ARGS,
  ];
  if (ndjson) args.push('--out', join(dir, 'flows.ndjson'));
  if (dgram) {
    // `acd collect --config` reads the acd configuration file; collection uses its collect section.
    await writeFile(join(dir, 'collect.yaml'), 'collect:\n  udpReader: dgram\n');
    args.push('--config', join(dir, 'collect.yaml'));
  }
  // The same V8 flag as bin/acd's shebang line (a larger young generation: fewer, shorter pauses).
  const child = spawn(process.execPath, ['--max-semi-space-size=64', join(ROOT, 'bin/acd'), ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ACD_LOG_LEVEL: 'error' },
  });
  track(child);
  let log = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (c: Buffer) => {
      log += c.toString();
      if (log.includes('listening on udp://')) resolve();
    });
    child.once('exit', () => reject(new Error(`acd collect exited: ${log}`)));
  });
  await sleep(READY_IDLE_MS);
  return {
    child,
    async finish() {
      child.kill('SIGTERM');
      await exited(child);
      const m = /summary (\{.*\})/.exec(log);
      if (!m) throw new Error(`no summary from acd collect: ${log}`);
      const s = JSON.parse(m[1]!) as AcdSummary;
      const extra: Record<string, number> = { queueDropped: s.dropped, sequenceLost: s.sequenceLost };
      if (ndjson) extra.ndjsonBytes = (await stat(join(dir, 'flows.ndjson'))).size;
      await rm(dir, { recursive: true, force: true });
      return { received: s.flows, extra };
    },
  };
}

/** Chooses the sender and builds what it replays. */
async function prepareSender(work: string): Promise<Sender> {
  const host = localNonLoopbackIpv4();
  if (process.env.BENCH_SENDER !== 'node' && hasTcpreplay() && host !== null) {
    const port = await freeUdpPort(host);
    const pcap = join(work, 'stream.pcap');
    const { payloads } = encodeIpfixStream(UNITS_IN_FILE * (RECORDS_PER_UNIT / RECORDS_PER_MESSAGE));
    await writeStreamPcap(pcap, payloads, host, port);
    return { kind: 'tcpreplay', host, port, send: (units, rate) => tcpreplaySend(pcap, units, rate) };
  }
  const why = !hasTcpreplay()
    ? `tcpreplay not installed (${TCPREPLAY_INSTALL_HINT})`
    : host === null
      ? 'no local non-loopback IPv4 address to replay to'
      : 'BENCH_SENDER=node';
  console.log(
    JSON.stringify({ note: `using the Node sender: ${why}; it competes with the collectors for CPU` }),
  );
  const port = await freeUdpPort('127.0.0.1');
  return {
    kind: 'node',
    host: '127.0.0.1',
    port,
    send: (units, rate) => nodeSend('127.0.0.1', port, units, rate),
  };
}

function readAutogroupSetting(): boolean | null {
  const r = spawnSync('cat', ['/proc/sys/kernel/sched_autogroup_enabled'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() === '1' : null;
}

async function main(): Promise<void> {
  const started = performance.now();
  const work = await mkdtemp(join(tmpdir(), 'acd-bench-collect-'));
  const loadStart = loadavg();
  const targets = [...TARGETS];
  if (targets.includes('nfcapd')) {
    const which = spawnSync('sh', ['-c', 'command -v nfcapd; command -v nfdump'], {
      encoding: 'utf8',
    }).stdout;
    if (!which.includes('nfcapd') || !which.includes('nfdump')) {
      console.log(
        JSON.stringify({
          target: 'nfcapd',
          skipped: 'nfcapd/nfdump not installed (apt-get install -y nfdump)',
        }),
      );
      targets.splice(targets.indexOf('nfcapd'), 1);
    }
  }
  const sender = await prepareSender(work);
  const best: Partial<Record<Target, number>> = {};
  const failures = new Map<Target, number>(targets.map((t) => [t, 0]));
  let budgetHit = false;
  try {
    for (const rate of RATES) {
      for (const target of targets) {
        if ((failures.get(target) ?? 0) >= 2) continue;
        if ((performance.now() - started) / 1000 > BUDGET_S) {
          budgetHit = true;
          break;
        }
        const units = Math.max(1, Math.round((rate * DURATION_S) / RECORDS_PER_UNIT));
        const load = loadavg();
        const running =
          target === 'nfcapd'
            ? await startNfcapd(sender.host, sender.port)
            : await startAcd(sender.host, sender.port, target === 'acd-ndjson', target === 'acd-dgram');
        const pid = running.child.pid ?? 0;
        const warm = WARMUP_UNITS > 0 ? await sender.send(WARMUP_UNITS, WARMUP_RATE) : undefined;
        const cpu0 = treeCpuSeconds(pid);
        const measured = await sender.send(units, rate);
        const sent = { ...measured, records: measured.records + (warm?.records ?? 0) };
        await sleep(SETTLE_MS);
        const cpu1 = treeCpuSeconds(pid);
        const kernelDrops = udpSocketDrops(sender.port);
        const r = await running.finish();
        const ratio = r.received / sent.records;
        const ok = ratio >= THRESHOLD;
        const achievedRate = Math.round(measured.records / measured.seconds);
        const keptUp = achievedRate >= rate * SENDER_KEPT_UP;
        console.log(
          JSON.stringify({
            target,
            rate,
            achievedRate,
            sent: sent.records,
            received: r.received,
            receivedPercent: Number((ratio * 100).toFixed(3)),
            ok,
            warmupRecords: warm?.records ?? 0,
            cpuPercent: Math.round(((cpu1 - cpu0) / measured.seconds) * 100),
            senderCpuPercent: Number.isNaN(measured.cpuSeconds)
              ? null
              : Math.round((measured.cpuSeconds / measured.seconds) * 100),
            kernelDrops,
            ...r.extra,
            loadavg: load,
          }),
        );
        // The lossless rate is what the sender really achieved (it may fall short of the ask).
        if (ok && keptUp) best[target] = Math.max(best[target] ?? 0, achievedRate);
        failures.set(target, ok ? 0 : (failures.get(target) ?? 0) + 1);
      }
      if (budgetHit) break;
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const nf = best.nfcapd;
  console.log(
    JSON.stringify({
      summary: 'bench:collect',
      sender: sender.kind,
      threshold: THRESHOLD,
      durationS: DURATION_S,
      warmupRecords: WARMUP_UNITS * RECORDS_PER_UNIT,
      autogroup: readAutogroupSetting(),
      recordsPerDatagram: RECORDS_PER_MESSAGE,
      rcvbufBytes: RCVBUF,
      cores: cpus().length,
      node: process.version,
      acdArgs: EXTRA_ACD_ARGS,
      highestLosslessRate: best,
      ratioAcdToNfcapd: nf && best.acd ? Number((best.acd / nf).toFixed(2)) : null,
      ratioAcdNdjsonToNfcapd: nf && best['acd-ndjson'] ? Number((best['acd-ndjson'] / nf).toFixed(2)) : null,
      ratioAcdDgramToNfcapd: nf && best['acd-dgram'] ? Number((best['acd-dgram'] / nf).toFixed(2)) : null,
      budgetHit,
      loadavgStart: loadStart,
      loadavgEnd: loadavg(),
      seconds: Math.round((performance.now() - started) / 1000),
    }),
  );
}

await main();
