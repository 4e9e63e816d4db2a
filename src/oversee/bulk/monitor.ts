/**
 * Bulk-access monitor (issue 8, REQUIREMENTS R-OVS-4): counts, per actor, the selected records
 * the API handed out (record queries, evidence reads) and the exports made (audit exports,
 * reports) over a sliding window; when a count goes above its threshold it raises one alert for
 * that actor, then stays quiet for that actor and kind for a whole window and starts counting
 * afresh, so a long bulk read raises one alert per window, not one per request.
 *
 * Memory is bounded: each (actor, kind) keeps at most `BUCKETS_PER_WINDOW + 1` time buckets, and
 * at most `maxActors` actors are tracked (the least recently active one is forgotten first).
 * Counting is synchronous and never throws; `onAlert` is called synchronously and must not throw
 * (the default handler, `alertCommission`, does its I/O in the background).
 */
import type { Clock } from '../../common/clock.ts';

/** Thresholds (config `audit.bulkAccess`). */
export interface BulkAccessThresholds {
  /** Selected records one actor may receive within `windowMs` before an alert. */
  records: number;
  /** Exports one actor may make within `windowMs` before an alert. */
  exports: number;
  /** The sliding window, ms. */
  windowMs: number;
}

/** What is counted. */
export type BulkAccessKind = 'records' | 'exports';

/** Who accessed (as the audit log names them). */
export interface BulkAccessActor {
  actor: string;
  role: string;
  purpose: string;
}

/** One alert: `count` items of `kind` within the window ending at `at`, above `threshold`. */
export interface BulkAccessAlert extends BulkAccessActor {
  kind: BulkAccessKind;
  count: number;
  threshold: number;
  windowMs: number;
  /** Start of the counted window (the oldest counted bucket), epoch ms. */
  windowStart: number;
  /** When the threshold was crossed, epoch ms. */
  at: number;
}

/** Options of {@link createBulkAccessMonitor}. */
export interface BulkAccessMonitorOptions {
  clock: Clock;
  thresholds: BulkAccessThresholds;
  onAlert: (alert: BulkAccessAlert) => void;
  /** Actors tracked at once (default 10,000). */
  maxActors?: number;
}

/** The monitor. */
export interface BulkAccessMonitor {
  /** Counts `n` selected records handed to `who` (n ≤ 0 or not finite is ignored). */
  recordItems(who: BulkAccessActor, n: number): void;
  /** Counts one export (or `n`) by `who`. */
  recordExport(who: BulkAccessActor, n?: number): void;
  /** The current window count of `actor` for `kind` (for status views and tests). */
  count(actor: string, kind: BulkAccessKind): number;
  /** Actors currently tracked. */
  readonly actors: number;
}

/** Buckets a window is cut into: the window slides in steps of `windowMs / 60`. */
export const BUCKETS_PER_WINDOW = 60;
/** Default bound of tracked actors. */
export const DEFAULT_MAX_ACTORS = 10_000;

interface Counter {
  /** Bucket start times and counts, oldest first. */
  starts: number[];
  counts: number[];
  sum: number;
  /** When the last alert was raised (epoch ms), or -Infinity. */
  alertedAt: number;
}

interface ActorState {
  who: BulkAccessActor;
  records: Counter;
  exports: Counter;
}

function counter(): Counter {
  return { starts: [], counts: [], sum: 0, alertedAt: -Infinity };
}

/** Creates a monitor (no timers, no I/O). */
export function createBulkAccessMonitor(options: BulkAccessMonitorOptions): BulkAccessMonitor {
  const { clock, thresholds, onAlert } = options;
  const maxActors = options.maxActors ?? DEFAULT_MAX_ACTORS;
  const windowMs = thresholds.windowMs;
  const step = Math.max(1, Math.floor(windowMs / BUCKETS_PER_WINDOW));
  // A Map keeps insertion order: re-inserting on every use makes the first key the least recent.
  const actors = new Map<string, ActorState>();

  function expire(c: Counter, now: number): void {
    // A bucket counts while any of it lies inside (now − windowMs, now].
    while (c.starts.length > 0 && c.starts[0]! + step <= now - windowMs) {
      c.starts.shift();
      c.sum -= c.counts.shift()!;
    }
  }

  function stateOf(who: BulkAccessActor): ActorState {
    let s = actors.get(who.actor);
    if (s !== undefined) actors.delete(who.actor);
    else {
      s = { who, records: counter(), exports: counter() };
      if (actors.size >= maxActors) {
        const oldest = actors.keys().next().value;
        if (oldest !== undefined) actors.delete(oldest);
      }
    }
    // The latest role and purpose are the ones reported.
    s.who = { actor: who.actor, role: who.role, purpose: who.purpose };
    actors.set(who.actor, s);
    return s;
  }

  function add(who: BulkAccessActor, kind: BulkAccessKind, n: number): void {
    if (!Number.isFinite(n) || n <= 0) return;
    const now = clock.now();
    const s = stateOf(who);
    const c = s[kind];
    expire(c, now);
    const bucket = now - (now % step);
    const last = c.starts.length - 1;
    if (last >= 0 && c.starts[last] === bucket) c.counts[last]! += n;
    else {
      c.starts.push(bucket);
      c.counts.push(n);
    }
    c.sum += n;
    const threshold = kind === 'records' ? thresholds.records : thresholds.exports;
    if (c.sum <= threshold || now - c.alertedAt < windowMs) return;
    const alert: BulkAccessAlert = {
      ...s.who,
      kind,
      count: c.sum,
      threshold,
      windowMs,
      windowStart: Math.max(c.starts[0] ?? now, now - windowMs),
      at: now,
    };
    // Start afresh: the next alert needs the threshold crossed again, a window later at the soonest.
    c.alertedAt = now;
    c.starts = [];
    c.counts = [];
    c.sum = 0;
    onAlert(alert);
  }

  return {
    recordItems: (who, n) => add(who, 'records', n),
    recordExport: (who, n = 1) => add(who, 'exports', n),
    count(actor, kind) {
      const s = actors.get(actor);
      if (s === undefined) return 0;
      expire(s[kind], clock.now());
      return s[kind].sum;
    },
    get actors() {
      return actors.size;
    },
  };
}
