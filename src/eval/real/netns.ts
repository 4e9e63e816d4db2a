/**
 * The lab topology: two network namespaces made by the harness, joined by one veth pair, with
 * documentation addresses so nothing could be mistaken for (or leak to) a real network.
 *
 *   attacker ns  198.51.100.7/32 ── veth ── 203.0.113.10/32  victim ns
 *                routes 203.0.113.0/24, 192.0.2.0/24 → veth   route 198.51.100.0/24 → veth
 *                                                             local 192.0.2.0/24 (answers for all)
 *
 * The victim namespace answers for the whole of 192.0.2.0/24 (an AnyIP `local` route), so a
 * horizontal scan gets a real answer (RST) from each of its 254 targets. IPv6 is off in both
 * namespaces so router solicitations do not enter the captures.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { RealEvalError } from './errors.ts';

const execFileP = promisify(execFile);

/** Address of the attacking host (every tool's client side). */
export const ATTACKER_ADDRESS = '198.51.100.7';
/** Address of the victim host (every server, the flood target, the scanned host). */
export const VICTIM_ADDRESS = '203.0.113.10';
/** Prefix the victim namespace answers for in full: targets of the horizontal scan. */
export const SWEEP_PREFIX = '192.0.2.0/24';
/** Namespace names start with this; the owner pid follows, so stale ones can be told apart. */
export const NETNS_PREFIX = 'acd-ev-';
/** Time limit of one `ip` command. */
const IP_TIMEOUT_MS = 10_000;

/** Names and addresses of one run's topology. */
export interface Topology {
  attackerNs: string;
  victimNs: string;
  /** veth end in the attacker namespace. */
  attackerIf: string;
  /** veth end in the victim namespace (where tcpdump listens). */
  victimIf: string;
  attacker: string;
  victim: string;
  sweepPrefix: string;
}

/** Picks fresh names (owner pid + random tag); nothing is created yet. */
export function planTopology(): Topology {
  const tag = randomBytes(3).toString('hex');
  const base = `${NETNS_PREFIX}${process.pid}-${tag}`;
  return {
    attackerNs: `${base}-a`,
    victimNs: `${base}-v`,
    // Interface names are limited to 15 bytes.
    attackerIf: `ae${tag}`,
    victimIf: `ve${tag}`,
    attacker: ATTACKER_ADDRESS,
    victim: VICTIM_ADDRESS,
    sweepPrefix: SWEEP_PREFIX,
  };
}

async function ip(args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await execFileP('ip', args, { timeout: IP_TIMEOUT_MS, encoding: 'utf8' });
    return stdout;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new RealEvalError(`ip ${args.join(' ')}: ${detail}`, { cause: err });
  }
}

async function nsExec(ns: string, args: readonly string[]): Promise<void> {
  await ip(['netns', 'exec', ns, ...args]);
}

/** Creates the namespaces, the veth pair, addresses and routes of `t`. */
export async function createTopology(t: Topology): Promise<void> {
  await ip(['netns', 'add', t.attackerNs]);
  await ip(['netns', 'add', t.victimNs]);
  // Created inside the attacker namespace straight away, so no end ever sits in the host namespace
  // for longer than one command.
  await ip([
    '-n',
    t.attackerNs,
    'link',
    'add',
    t.attackerIf,
    'type',
    'veth',
    'peer',
    'name',
    t.victimIf,
    'netns',
    t.victimNs,
  ]);
  for (const ns of [t.attackerNs, t.victimNs]) {
    await nsExec(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    await nsExec(ns, ['sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
    await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  await ip(['-n', t.attackerNs, 'addr', 'add', `${t.attacker}/32`, 'dev', t.attackerIf]);
  await ip(['-n', t.victimNs, 'addr', 'add', `${t.victim}/32`, 'dev', t.victimIf]);
  await ip(['-n', t.attackerNs, 'link', 'set', t.attackerIf, 'up']);
  await ip(['-n', t.victimNs, 'link', 'set', t.victimIf, 'up']);
  await ip(['-n', t.attackerNs, 'route', 'add', prefix24(t.victim), 'dev', t.attackerIf]);
  await ip(['-n', t.attackerNs, 'route', 'add', t.sweepPrefix, 'dev', t.attackerIf]);
  await ip(['-n', t.victimNs, 'route', 'add', prefix24(t.attacker), 'dev', t.victimIf]);
  await ip(['-n', t.victimNs, 'route', 'add', 'local', t.sweepPrefix, 'dev', 'lo']);
}

function prefix24(addr: string): string {
  return `${addr.split('.').slice(0, 3).join('.')}.0/24`;
}

async function listNamespaces(): Promise<string[]> {
  const out = await ip(['netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n !== '');
}

async function killNamespace(ns: string): Promise<void> {
  // Every process still inside is one the harness started (the namespace is its own): kill them
  // by pid, or the namespace would outlive its deletion.
  let pids: string[] = [];
  try {
    pids = (await ip(['netns', 'pids', ns])).split(/\s+/).filter((p) => /^\d+$/.test(p));
  } catch {
    // namespace already gone
  }
  for (const p of pids) {
    try {
      process.kill(Number(p), 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  try {
    await ip(['netns', 'del', ns]);
  } catch {
    // not created, or already deleted
  }
}

/** Removes whatever of `t` exists: processes inside, namespaces, and with them the veth pair. */
export async function destroyTopology(t: Topology): Promise<void> {
  const existing = new Set(await listNamespaces().catch(() => [] as string[]));
  for (const ns of [t.attackerNs, t.victimNs]) if (existing.has(ns)) await killNamespace(ns);
}

/**
 * Removes namespaces of earlier runs whose owner process no longer exists (a run killed with
 * SIGKILL cannot clean up after itself). Namespaces of live runs are left alone.
 */
export async function sweepStaleNamespaces(): Promise<string[]> {
  const removed: string[] = [];
  for (const ns of await listNamespaces()) {
    const m = /^acd-ev-(\d+)-[0-9a-f]{6}-[av]$/.exec(ns);
    if (!m) continue;
    const owner = Number(m[1]);
    if (owner === process.pid || processExists(owner)) continue;
    await killNamespace(ns);
    removed.push(ns);
  }
  return removed;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
