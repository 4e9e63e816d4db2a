/**
 * The sender of `bench:collect`. Preferred: Debian's `tcpreplay` (C, a few percent of a core at
 * the rates measured) replaying a pre-built pcap of the IPFIX stream onto `lo`. Fallback, when
 * tcpreplay is not installed or there is no local non-loopback IPv4 address to send to: a Node
 * sender in its own child process (`node-sender.ts`), which costs far more CPU and tops out near
 * 1.2 M records/s here, so the collectors then compete with it for the cores. Senders run
 * detached (own session, so their own scheduler autogroup, apart from the collector's).
 */
import { spawn, spawnSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { EXPORTER_ADDRESS, RECORDS_PER_MESSAGE, TEMPLATE_EVERY } from './ipfix-stream.ts';

/** How to get tcpreplay when it is missing (said in the benchmark's output). */
export const TCPREPLAY_INSTALL_HINT = 'apt-get install -y tcpreplay';

/** Frames in one loop unit of the pcap: a template, then `TEMPLATE_EVERY` data messages. */
export const FRAMES_PER_UNIT = TEMPLATE_EVERY + 1;
/** Flow records in one loop unit. */
export const RECORDS_PER_UNIT = TEMPLATE_EVERY * RECORDS_PER_MESSAGE;

/** What a send reports. */
export interface SendResult {
  /** Data records sent (templates excluded). */
  records: number;
  /** Wall time of the send, seconds. */
  seconds: number;
  /** CPU seconds the sender process used (user + system; includes loopback delivery it drives). */
  cpuSeconds: number;
}

/** Whether `tcpreplay` is on the PATH. */
export function hasTcpreplay(): boolean {
  return spawnSync('sh', ['-c', 'command -v tcpreplay'], { encoding: 'utf8' }).stdout.trim() !== '';
}

/**
 * A local IPv4 address that is not on `lo` (frames replayed on `lo` must be addressed to one: see
 * `EXPORTER_ADDRESS`), or null when the host has none.
 */
export function localNonLoopbackIpv4(): string | null {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal && a.address !== EXPORTER_ADDRESS) return a.address;
    }
  }
  return null;
}

function parseTime(stderr: string): { user: number; sys: number } {
  // Written by `/usr/bin/time -f`; absent when it is not installed.
  const m = /^TIME (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/m.exec(stderr);
  return m ? { user: Number(m[1]), sys: Number(m[2]) } : { user: NaN, sys: NaN };
}

/**
 * Replays `units` loop units of `pcap` (looping the file as needed) at `recordsPerSecond`. The
 * pacing sends a burst every millisecond (`--pps-multi`), as a busy exporter flushes its cache,
 * and sleeps with nanosleep in between (tcpreplay's default timer spins a whole core).
 */
export async function tcpreplaySend(
  pcap: string,
  units: number,
  recordsPerSecond: number,
): Promise<SendResult> {
  const frames = units * FRAMES_PER_UNIT;
  const pps = Math.max(
    1,
    Math.round((recordsPerSecond / RECORDS_PER_MESSAGE) * (FRAMES_PER_UNIT / TEMPLATE_EVERY)),
  );
  const multi = Math.max(1, Math.round(pps / 1000));
  const haveTime =
    spawnSync('sh', ['-c', 'command -v /usr/bin/time'], { encoding: 'utf8' }).stdout.trim() !== '';
  const argv = [
    'tcpreplay',
    '-i',
    'lo',
    '-K',
    '-T',
    'nano',
    '--loop=0',
    `--limit=${frames}`,
    `--pps=${pps}`,
    `--pps-multi=${multi}`,
    pcap,
  ];
  const cmd = haveTime ? ['/usr/bin/time', '-f', 'TIME %U %S', ...argv] : argv;
  const child = spawn(cmd[0]!, cmd.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const actual = /Actual: (\d+) packets \(\d+ bytes\) sent in (\d+(?:\.\d+)?) seconds/.exec(out);
  if (code !== 0 || !actual) throw new Error(`tcpreplay failed (${code}): ${out}${err}`);
  const sentFrames = Number(actual[1]);
  if (sentFrames !== frames) throw new Error(`tcpreplay sent ${sentFrames} of ${frames} frames: ${out}`);
  const t = parseTime(err);
  return { records: units * RECORDS_PER_UNIT, seconds: Number(actual[2]), cpuSeconds: t.user + t.sys };
}

/** Sends `units` loop units from a Node child process over a connected UDP socket (the fallback). */
export async function nodeSend(
  host: string,
  port: number,
  units: number,
  recordsPerSecond: number,
): Promise<SendResult> {
  const script = fileURLToPath(new URL('./node-sender.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', script, host, String(port), String(units * TEMPLATE_EVERY), String(recordsPerSecond)],
    { detached: true, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`node sender failed (${code})`);
  const r = JSON.parse(out) as { seconds: number; cpuSeconds: number };
  return { records: units * RECORDS_PER_UNIT, seconds: r.seconds, cpuSeconds: r.cpuSeconds };
}
