/**
 * `npm run bench:collect`: the same IPFIX export stream over loopback UDP to nfdump's `nfcapd` and
 * to `acd collect`, at increasing rates; for each target the highest rate received with at least
 * 99.9 % of the records, and the ratio acd / nfcapd measured in the same run.
 *
 * Each (target, rate) step starts a fresh collector process (so the sender in this process never
 * shares its core), sends `duration` seconds of pre-encoded IPFIX messages (30 flow records each,
 * correct sequence numbers, template first and repeated), waits for the collector to settle,
 * stops it with SIGTERM and counts what it received: acd from the JSON summary line it prints on
 * stderr at stop, nfcapd with `nfdump -R DIR -I` on the file it writes at exit. Both get the same
 * socket receive buffer. Prints one JSON line per step and a summary line.
 *
 * Options (environment): BENCH_RATES=25000,50000,... records/s; BENCH_DURATION_S=2;
 * BENCH_TARGETS=nfcapd,acd,acd-ndjson (acd-ndjson also writes every record as NDJSON to a file,
 * the closer match to nfcapd, which writes its binary files).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeIpfixMessage } from '../src/simulate/encode/index.ts';
import type { EncodeTemplate } from '../src/simulate/encode/index.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RATES = (process.env.BENCH_RATES ?? '50000,100000,200000,400000,800000,1200000,1600000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 2);
const TARGETS = (process.env.BENCH_TARGETS ?? 'nfcapd,acd,acd-ndjson').split(',') as Target[];
/** Both collectors get the same receive buffer (the kernel caps it at net.core.rmem_max). */
const RCVBUF = 4 * 1024 * 1024;
const RECORDS_PER_MESSAGE = 30;
/** A template message is repeated every this many data messages, as exporters do. */
const TEMPLATE_EVERY = 2000;
const THRESHOLD = 0.999;
/** Time after the last datagram before the collector is stopped, for its queues to empty. */
const SETTLE_MS = 700;

type Target = 'nfcapd' | 'acd' | 'acd-ndjson';

const TEMPLATE: EncodeTemplate = {
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
  ],
};

/** Pre-encodes a step's stream: template, then data messages with consecutive sequence numbers. */
function encodeStream(messages: number, domain: number): Buffer[] {
  const t0 = Date.now();
  const records = [...Array(RECORDS_PER_MESSAGE).keys()].map((i) => ({
    sourceIPv4Address: `10.1.${i}.${(i * 7) % 250}`,
    destinationIPv4Address: `192.0.2.${i + 1}`,
    sourceTransportPort: 40000 + i,
    destinationTransportPort: 443,
    protocolIdentifier: 6,
    tcpControlBits: 0x1b,
    octetDeltaCount: 1500 * (i + 1),
    packetDeltaCount: i + 1,
    flowStartMilliseconds: t0 - 5000,
    flowEndMilliseconds: t0 - 1000,
  }));
  const template = Buffer.from(
    encodeIpfixMessage({
      observationDomainId: domain,
      sequence: 0,
      exportTime: t0,
      sets: [{ kind: 'template', templates: [TEMPLATE] }],
    }),
  );
  const data = Buffer.from(
    encodeIpfixMessage({
      observationDomainId: domain,
      sequence: 0,
      exportTime: t0,
      sets: [{ kind: 'data', template: TEMPLATE, records }],
    }),
  );
  const out: Buffer[] = [];
  const all = Buffer.alloc(data.length * messages);
  for (let i = 0; i < messages; i++) {
    if (i % TEMPLATE_EVERY === 0) {
      const t = Buffer.from(template);
      t.writeUInt32BE((i * RECORDS_PER_MESSAGE) >>> 0, 8); // templates carry the current sequence
      out.push(t);
    }
    const m = all.subarray(i * data.length, (i + 1) * data.length);
    data.copy(m);
    m.writeUInt32BE((i * RECORDS_PER_MESSAGE) >>> 0, 8);
    out.push(m);
  }
  return out;
}

/**
 * Sends the stream at `rate` records/s: each event-loop turn sends what is due by the clock (so a
 * sender that falls behind catches up in bursts, as a busy exporter does). No per-send callback:
 * it costs more than the send itself. Returns how long sending took, to tell whether the sender
 * kept up.
 */
async function send(port: number, stream: Buffer[], rate: number): Promise<{ seconds: number }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.connect(port, '127.0.0.1', () => r()));
  const perMs = rate / RECORDS_PER_MESSAGE / 1000;
  const start = performance.now();
  let i = 0;
  await new Promise<void>((resolve) => {
    const loop = (): void => {
      const due = Math.min(stream.length, Math.floor((performance.now() - start) * perMs) + 1);
      while (i < due) sock.send(stream[i++]!);
      if (i >= stream.length) resolve();
      else setImmediate(loop);
    };
    loop();
  });
  const seconds = (performance.now() - start) / 1000;
  await new Promise<void>((r) => sock.close(() => r()));
  return { seconds };
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => {
    if (child.exitCode !== null) r(child.exitCode);
    else child.once('exit', (code) => r(code));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function run(cmd: string, args: string[]): Promise<string> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  await exited(child);
  return out;
}

interface StepResult {
  received: number;
  extra: Record<string, number>;
}

/** One step against nfcapd: fresh process and directory, send, stop, count with nfdump. */
async function stepNfcapd(rate: number, stream: Buffer[]): Promise<StepResult & { seconds: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'acd-bench-nfcapd-'));
  const port = await freeUdpPort();
  const child = spawn(
    'nfcapd',
    ['-b', '127.0.0.1', '-p', String(port), '-w', dir, '-B', String(RCVBUF), '-t', '3600'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  child.stderr?.on('data', (c: Buffer) => (log += c.toString()));
  await sleep(400); // nfcapd prints nothing reliable when ready; it binds within milliseconds
  if (child.exitCode !== null) throw new Error(`nfcapd exited: ${log}`);
  const { seconds } = await send(port, stream, rate);
  await sleep(SETTLE_MS);
  child.kill('SIGTERM');
  await exited(child);
  const info = await run('nfdump', ['-R', dir, '-I', '-N']);
  await rm(dir, { recursive: true, force: true });
  const flows = /^Flows:\s+(\d+)/m.exec(info);
  if (!flows) throw new Error(`cannot read nfdump -I output: ${info}`);
  return { received: Number(flows[1]), extra: {}, seconds };
}

interface AcdSummary {
  flows: number;
  dropped: number;
  sequenceLost: number;
  datagrams: number;
}

/** One step against `acd collect` in its own process: counts from its summary line at stop. */
async function stepAcd(
  rate: number,
  stream: Buffer[],
  ndjson: boolean,
): Promise<StepResult & { seconds: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'acd-bench-acd-'));
  const args = ['collect', '--listen', 'udp://127.0.0.1:0', '--rcvbuf', String(RCVBUF), '--queue', '65536'];
  if (ndjson) args.push('--out', join(dir, 'flows.ndjson'));
  const child = spawn(join(ROOT, 'bin/acd'), args, {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ACD_LOG_LEVEL: 'error' },
  });
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr?.on('data', (c: Buffer) => {
      log += c.toString();
      const m = /listening on udp:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', () => reject(new Error(`acd collect exited: ${log}`)));
  });
  const { seconds } = await send(port, stream, rate);
  await sleep(SETTLE_MS);
  child.kill('SIGTERM');
  await exited(child);
  const m = /summary (\{.*\})/.exec(log);
  if (!m) throw new Error(`no summary from acd collect: ${log}`);
  const s = JSON.parse(m[1]!) as AcdSummary;
  if (process.env.BENCH_DEBUG) console.error(m[1]);
  const extra: Record<string, number> = { dropped: s.dropped, sequenceLost: s.sequenceLost };
  if (ndjson) extra.ndjsonBytes = (await stat(join(dir, 'flows.ndjson'))).size;
  await rm(dir, { recursive: true, force: true });
  return { received: s.flows, extra, seconds };
}

async function main(): Promise<void> {
  const best: Partial<Record<Target, number>> = {};
  const started = performance.now();
  for (const target of TARGETS) {
    if (target === 'nfcapd') {
      const which = await run('sh', ['-c', 'command -v nfcapd; command -v nfdump']);
      if (!which.includes('nfcapd') || !which.includes('nfdump')) {
        console.log(
          JSON.stringify({ target, skipped: 'nfcapd/nfdump not installed (apt-get install nfdump)' }),
        );
        continue;
      }
    }
    let failures = 0;
    for (const rate of RATES) {
      const messages = Math.ceil((rate * DURATION_S) / RECORDS_PER_MESSAGE);
      const stream = encodeStream(messages, 1);
      const sent = messages * RECORDS_PER_MESSAGE;
      const r =
        target === 'nfcapd'
          ? await stepNfcapd(rate, stream)
          : await stepAcd(rate, stream, target === 'acd-ndjson');
      const ratio = r.received / sent;
      const ok = ratio >= THRESHOLD;
      console.log(
        JSON.stringify({
          target,
          rate,
          sent,
          received: r.received,
          receivedRatio: Number(ratio.toFixed(5)),
          achievedRate: Math.round(sent / r.seconds),
          ok,
          ...r.extra,
        }),
      );
      if (ok && r.seconds <= DURATION_S * 1.1) best[target] = Math.max(best[target] ?? 0, rate);
      // Two failed rates in a row: higher ones will fail too; save the time.
      failures = ok ? 0 : failures + 1;
      if (failures >= 2) break;
    }
  }
  const nf = best.nfcapd;
  const summary = {
    summary: 'bench:collect',
    threshold: THRESHOLD,
    durationS: DURATION_S,
    recordsPerDatagram: RECORDS_PER_MESSAGE,
    rcvbufBytes: RCVBUF,
    highestLosslessRate: best,
    ratioAcdToNfcapd: nf && best.acd ? Number((best.acd / nf).toFixed(2)) : null,
    ratioAcdNdjsonToNfcapd: nf && best['acd-ndjson'] ? Number((best['acd-ndjson'] / nf).toFixed(2)) : null,
    seconds: Math.round((performance.now() - started) / 1000),
  };
  console.log(JSON.stringify(summary));
}

await main();
