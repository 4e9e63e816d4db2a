/**
 * The injectable clock. Every component reads wall time through a `Clock` so that tests and the
 * simulator can control it (DESIGN section 6, "Time").
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Monotonic milliseconds for measuring durations; unrelated to wall time. */
  monotonic(): number;
}

/** The real system clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

/** A clock that only moves when told to; for tests. */
export class ManualClock implements Clock {
  private t: number;
  private m = 0;
  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.t = startMs;
  }
  now(): number {
    return this.t;
  }
  monotonic(): number {
    return this.m;
  }
  /** Moves both wall and monotonic time forward by `ms`. */
  advance(ms: number): void {
    this.t += ms;
    this.m += ms;
  }
  /** Sets wall time; monotonic time is unaffected. */
  set(ms: number): void {
    this.t = ms;
  }
}

/** Formats epoch milliseconds as ISO 8601 UTC with milliseconds (DESIGN section 7). */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
