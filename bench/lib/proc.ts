/**
 * Linux /proc readings for the benchmarks: CPU time of a process and its descendants (a collector
 * may run worker processes), the load average (to tell a quiet machine from a busy one), and the
 * kernel's per-socket UDP drop counter (datagrams lost before the collector read them).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second of /proc/PID/stat times (USER_HZ, 100 on every Linux build in use). */
export const CLOCK_TICKS_PER_SECOND = 100;

/** `/proc/loadavg` as printed, or null off Linux. */
export function loadavg(): string | null {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    return null;
  }
}

interface ProcStat {
  ppid: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields start after the last ')'.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

/**
 * CPU seconds (user + system) used so far by `pid` and all its live descendants. Children that
 * already exited are not included (their time only reaches the parent when it reaps them).
 */
export function treeCpuSeconds(pid: number): number {
  const parentOf = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    const p = Number(name);
    if (!Number.isInteger(p)) continue;
    const st = readStat(p);
    if (st) parentOf.set(p, st);
  }
  const inTree = new Set<number>([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, st] of parentOf) {
      if (!inTree.has(p) && inTree.has(st.ppid)) {
        inTree.add(p);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const p of inTree) ticks += parentOf.get(p)?.ticks ?? 0;
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/**
 * Datagrams the kernel dropped on the IPv4 UDP socket(s) bound to `port` (the `drops` column of
 * /proc/net/udp: receive buffer full). Null when no such socket is listed.
 */
export function udpSocketDrops(port: number): number | null {
  let text: string;
  try {
    text = readFileSync('/proc/net/udp', 'utf8');
  } catch {
    return null;
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let drops: number | null = null;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13 || !f[1]?.endsWith(`:${hexPort}`)) continue;
    drops = (drops ?? 0) + Number(f[f.length - 1]);
  }
  return drops;
}
