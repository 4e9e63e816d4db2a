/**
 * Window arithmetic in event time. Windows are aligned to the epoch: a tumbling window of size S
 * holds [k·S, (k+1)·S); a sliding window of size S and hop H ends at every multiple of H and holds
 * [end − S, end). Detectors keep per-key state for the window(s) a record falls into and close
 * them when the watermark passes their end (`WindowTimer`), so a result is final once emitted.
 */

/** A window specification: tumbling when `hopMs === sizeMs`. */
export interface WindowSpec {
  sizeMs: number;
  hopMs: number;
}

/** Index of the tumbling window (or hop bucket) holding `t`. */
export function windowIndex(t: number, sizeMs: number): number {
  return Math.floor(t / sizeMs);
}

/** Start of the window with index `k`. */
export function windowStart(k: number, sizeMs: number): number {
  return k * sizeMs;
}

/**
 * Ends of the sliding windows that contain `t` (ascending), written to `out`; returns how many.
 * A tumbling spec yields exactly one.
 */
export function slidingWindowEnds(t: number, spec: WindowSpec, out: Float64Array): number {
  const first = Math.floor(t / spec.hopMs) * spec.hopMs + spec.hopMs;
  let n = 0;
  for (let end = first; end - spec.sizeMs <= t && n < out.length; end += spec.hopMs) out[n++] = end;
  return n;
}

/**
 * Tracks which hop-aligned boundaries the watermark has passed. `due(watermark)` returns the
 * index of the next boundary to close, or −1; call `closed()` after handling it. A jump over more
 * than `maxCatchUp` boundaries (an input gap of days) skips the empty ones in between.
 */
export class WindowTimer {
  /** Index k of the next boundary (end time (k+1)·hop); NaN until the first record. */
  next = NaN;

  constructor(
    readonly hopMs: number,
    readonly maxCatchUp = 64,
  ) {}

  /** Starts the timer at the window holding event time `t` (first record), if not started. */
  start(t: number): void {
    if (Number.isNaN(this.next)) this.next = Math.floor(t / this.hopMs);
  }

  /** End time of the next window to close. */
  get nextEnd(): number {
    return (this.next + 1) * this.hopMs;
  }

  /** Index of the next window to close if the watermark has passed its end, else −1. */
  due(watermark: number): number {
    if (Number.isNaN(this.next) || watermark < this.nextEnd) return -1;
    const wk = Math.floor(watermark / this.hopMs) - 1;
    if (wk - this.next > this.maxCatchUp) this.next = wk - this.maxCatchUp;
    return this.next;
  }

  /** Marks the window returned by `due` as closed. */
  closed(): void {
    this.next++;
  }

  /** Closes every window the watermark has passed, in order: `close(k)` then `closed()`. */
  closeDue(watermark: number, close: (window: number) => void): void {
    let k: number;
    while ((k = this.due(watermark)) >= 0) {
      close(k);
      this.closed();
    }
  }
}
