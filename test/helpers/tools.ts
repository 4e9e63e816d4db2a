/**
 * Helpers for tests that use real external tools: nfcapd/nfdump as the reference collector,
 * softflowd/pmacctd as exporters, tshark as an independent dissector. Tests that need a tool skip
 * with a message when it is missing, except under `ACD_REQUIRE_SERVICES=1` (set by `.ci/run`),
 * where a missing tool is a failure (CONVENTIONS habit 11).
 */
import { spawn, execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import dgram from 'node:dgram';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { AcdError } from '../../src/common/errors.ts';

const execFileAsync = promisify(execFile);

/** A tool that a test needs is not installed (only thrown under `ACD_REQUIRE_SERVICES=1`). */
export class MissingToolError extends AcdError {
  /** The executable's name. */
  readonly tool: string;
  constructor(tool: string) {
    super('ERR_TOOL_MISSING', `${tool} is not installed (ACD_REQUIRE_SERVICES=1 requires it)`);
    this.tool = tool;
  }
}

/** An external tool did not start, did not become ready, or failed. */
export class ToolError extends AcdError {
  /** The executable's name. */
  readonly tool: string;
  constructor(tool: string, message: string, options?: { cause?: unknown }) {
    super('ERR_TOOL_FAILED', `${tool}: ${message}`, options);
    this.tool = tool;
  }
}

/**
 * Directories searched besides `PATH`: Debian installs softflowd, pmacctd and sshd in sbin
 * directories, which are not on the `PATH` of unprivileged users.
 */
const EXTRA_BIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

const toolPaths = new Map<string, string | undefined>();

/** Absolute path of an executable found on `PATH` (or in sbin directories); cached per name. */
export function toolPath(name: string): string | undefined {
  if (toolPaths.has(name)) return toolPaths.get(name);
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), ...EXTRA_BIN_DIRS].filter((d) => d !== '');
  let found: string | undefined;
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      found = candidate;
      break;
    } catch {
      // not in this directory
    }
  }
  toolPaths.set(name, found);
  return found;
}

/** True when the executable `name` is installed. */
export function hasTool(name: string): boolean {
  return toolPath(name) !== undefined;
}

/** True when missing services and tools must fail tests instead of skipping them. */
export function servicesRequired(): boolean {
  return process.env['ACD_REQUIRE_SERVICES'] === '1';
}

/** The part of vitest's test context that {@link requireTool} uses. */
export interface SkipContext {
  skip(note?: string): never;
}

/**
 * Ensures that every named tool is installed. When one is missing: throws
 * {@link MissingToolError} under `ACD_REQUIRE_SERVICES=1`; otherwise skips the running test
 * through `ctx.skip` with a message naming the tool and the Debian package list, or, without a
 * context, returns false so the caller can skip (`describe.runIf(requireTool('nfcapd'))`).
 */
export function requireTool(names: string | readonly string[], ctx?: SkipContext): boolean {
  const missing = (typeof names === 'string' ? [names] : names).filter((n) => !hasTool(n));
  if (missing.length === 0) return true;
  if (servicesRequired()) throw new MissingToolError(missing.join(', '));
  const note = `skipped: ${missing.join(', ')} not installed (apt-get install softflowd pmacct nfdump tcpdump tshark)`;
  if (ctx !== undefined) ctx.skip(note);
  console.warn(note);
  return false;
}

/** Options of {@link freeUdpPort}. */
export interface FreePortOptions {
  host?: string;
}

/**
 * A UDP port that was free a moment ago on `host` (the OS picks it). Another program can take it
 * before the caller binds it; the window is short and tests retry through {@link runNfcapd}.
 */
export async function freeUdpPort(options: FreePortOptions = {}): Promise<number> {
  const host = options.host ?? '127.0.0.1';
  const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, host, () => resolve());
    });
    return sock.address().port;
  } finally {
    sock.close();
  }
}

/** Options of {@link runNfcapd}. */
export interface NfcapdOptions {
  /** UDP port; chosen free by the OS when absent. */
  port?: number;
  /** Address to bind; `127.0.0.1` by default. */
  host?: string;
  /** Directory for the flow files; a fresh temporary directory by default. */
  dir?: string;
  /** Socket receive buffer in bytes (`-B`), for load tests. */
  receiveBufferBytes?: number;
  /** How long to wait for nfcapd to bind, in ms. */
  readyTimeoutMs?: number;
}

/** A running nfcapd; see {@link runNfcapd}. */
export interface NfcapdHandle {
  host: string;
  port: number;
  /** Where nfcapd writes its files; read it with {@link nfdumpCsv} after `stop()`. */
  dir: string;
  /** The process, for tests that watch it. */
  process: ChildProcess;
  /** Everything nfcapd printed (it logs to stderr/stdout when not daemonised). */
  output(): string;
  /** Stops nfcapd with SIGTERM, which makes it flush and close its current file; idempotent. */
  stop(): Promise<void>;
  /** Stops nfcapd if needed and deletes the directory when this helper created it. */
  dispose(): Promise<void>;
}

/** nfcapd's rotation interval (`-t`): long, so that a test's flows stay in one file until stop. */
const NFCAPD_ROTATION_S = 3600;
/** How long stop() waits for nfcapd to exit after SIGTERM before SIGKILL. */
const NFCAPD_STOP_TIMEOUT_MS = 10_000;

/**
 * Starts `nfcapd -b HOST -p PORT -w DIR -t 3600` in the foreground and resolves once it has bound
 * its socket (it prints "Bound to ..."). The port is chosen free unless given.
 */
export async function runNfcapd(options: NfcapdOptions = {}): Promise<NfcapdHandle> {
  const exe = toolPath('nfcapd');
  if (exe === undefined) throw new ToolError('nfcapd', 'not installed');
  const host = options.host ?? '127.0.0.1';
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'acd-nfcapd-')));
  const port = options.port ?? (await freeUdpPort({ host }));
  const args = ['-b', host, '-p', String(port), '-w', dir, '-t', String(NFCAPD_ROTATION_S)];
  if (host.includes(':')) args.push('-6');
  if (options.receiveBufferBytes !== undefined) args.push('-B', String(options.receiveBufferBytes));
  const child = spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let running = true;
  void exited.then(() => {
    running = false;
  });

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new ToolError('nfcapd', `did not bind within ${options.readyTimeoutMs ?? 5000} ms: ${out}`));
    }, options.readyTimeoutMs ?? 5000);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString('utf8');
      if (/Bound to/i.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new ToolError('nfcapd', 'could not start', { cause: err }));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new ToolError('nfcapd', `exited with ${code} before binding: ${out}`));
    });
  });

  const stop = async (): Promise<void> => {
    if (!running) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), NFCAPD_STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };
  return {
    host,
    port,
    dir,
    process: child,
    output: () => out,
    stop,
    dispose: async () => {
      await stop();
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The nfdump `fmt:` tokens of the fixtures' `*.nfdump.csv` files, in their column order. */
export const NFDUMP_COLUMNS = [
  'ts',
  'te',
  'pr',
  'sa',
  'sp',
  'da',
  'dp',
  'flg',
  'pkt',
  'byt',
  'opkt',
  'obyt',
] as const;

/** One row of nfdump output: fmt token (without `%`) -> printed value, trimmed. */
export type NfdumpRow = Record<string, string>;

/**
 * Runs `nfdump -q -N -R DIR -O tstart -o "fmt:%ts,%te,..."` (times in UTC) and returns the rows,
 * keyed by the fmt tokens (`ts`, `sa`, `pkt`, ...). `format` lists the tokens; by default
 * {@link NFDUMP_COLUMNS}.
 */
export async function nfdumpCsv(
  dir: string,
  format: readonly string[] = NFDUMP_COLUMNS,
): Promise<NfdumpRow[]> {
  const exe = toolPath('nfdump');
  if (exe === undefined) throw new ToolError('nfdump', 'not installed');
  const fmt = 'fmt:' + format.map((t) => `%${t}`).join(',');
  try {
    const { stdout } = await execFileAsync(exe, ['-q', '-N', '-R', dir, '-O', 'tstart', '-o', fmt], {
      env: { ...process.env, TZ: 'UTC' },
      maxBuffer: 256 * 1024 * 1024,
    });
    return parseCsvRows(stdout, format);
  } catch (err) {
    throw new ToolError('nfdump', `reading ${dir} failed`, { cause: err });
  }
}

/**
 * Parses a fixture's `*.nfdump.csv` (a header line of fmt tokens, then rows; see
 * src/collect/decode/testdata/README.md; the header names `pkt`/`byt` as `ipkt`/`ibyt`).
 */
export function parseNfdumpCsv(text: string): NfdumpRow[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift();
  if (header === undefined) return [];
  const names = header.split(',').map((h) => (h === 'ipkt' ? 'pkt' : h === 'ibyt' ? 'byt' : h.trim()));
  return parseCsvRows(lines.join('\n'), names);
}

function parseCsvRows(text: string, names: readonly string[]): NfdumpRow[] {
  const rows: NfdumpRow[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const cells = line.split(',');
    const row: NfdumpRow = {};
    names.forEach((name, i) => {
      row[name] = (cells[i] ?? '').trim();
    });
    rows.push(row);
  }
  return rows;
}

/** A flow as nfdump printed it with {@link NFDUMP_COLUMNS}, with numbers parsed. */
export interface NfdumpFlow {
  /** First and last packet, epoch ms (nfdump prints milliseconds, here in UTC). */
  startMs: number;
  endMs: number;
  protocol: number;
  srcAddr: string;
  srcPort: number;
  dstAddr: string;
  /** nfdump prints ICMP type and code as `type.code` in the destination port column. */
  dstPort: string;
  /** TCP flags as nfdump prints them (`...AP.SF`; dots for unset flags). */
  flags: string;
  packets: number;
  bytes: number;
  /** Reverse-direction counters (RFC 5103 biflows); 0 otherwise. */
  outPackets: number;
  outBytes: number;
}

/** Converts nfdump's `2026-11-25 18:12:29.438` (printed with TZ=UTC) to epoch ms. */
export function nfdumpTimeToMs(text: string): number {
  return Date.parse(text.replace(' ', 'T') + 'Z');
}

/** Turns a row with the {@link NFDUMP_COLUMNS} tokens into an {@link NfdumpFlow}. */
export function toNfdumpFlow(row: NfdumpRow): NfdumpFlow {
  const num = (k: string): number => Number(row[k] ?? 'NaN');
  return {
    startMs: nfdumpTimeToMs(row['ts'] ?? ''),
    endMs: nfdumpTimeToMs(row['te'] ?? ''),
    protocol: num('pr'),
    srcAddr: row['sa'] ?? '',
    srcPort: num('sp'),
    dstAddr: row['da'] ?? '',
    dstPort: row['dp'] ?? '',
    flags: row['flg'] ?? '',
    packets: num('pkt'),
    bytes: num('byt'),
    outPackets: num('opkt'),
    outBytes: num('obyt'),
  };
}

/** Options of {@link sendUdp}. */
export interface SendUdpOptions {
  /**
   * Source address to bind (e.g. `127.0.0.2`), so that a collector sees a distinct exporter;
   * loopback owns all of 127.0.0.0/8.
   */
  from?: string;
  /** Source port; the OS picks one by default. */
  fromPort?: number;
  /**
   * Pause after every `pauseEvery` datagrams (a macrotask), so that a burst does not overflow the
   * receiver's socket buffer on a loaded 2-core machine; 0 disables pausing. Default 64.
   */
  pauseEvery?: number;
}

/**
 * Sends the datagrams in order from one socket to HOST:PORT and resolves when all were handed to
 * the kernel. Delivery is not guaranteed (UDP): assert on sequence-corrected counts.
 */
export async function sendUdp(
  host: string,
  port: number,
  datagrams: readonly Uint8Array[],
  options: SendUdpOptions = {},
): Promise<void> {
  const v6 = host.includes(':') || (options.from?.includes(':') ?? false);
  const sock = dgram.createSocket(v6 ? 'udp6' : 'udp4');
  const pauseEvery = options.pauseEvery ?? 64;
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(options.fromPort ?? 0, options.from, () => resolve());
    });
    let i = 0;
    for (const d of datagrams) {
      await new Promise<void>((resolve, reject) => {
        sock.send(d, port, host, (err) => (err ? reject(err) : resolve()));
      });
      i++;
      if (pauseEvery > 0 && i % pauseEvery === 0) await new Promise<void>((r) => setImmediate(r));
    }
  } finally {
    sock.close();
  }
}
