import type { Writable } from 'node:stream';
import type { Clock } from '../common/clock.ts';

/**
 * A status line on stderr for long-running commands (DESIGN section 7: progress on a terminal,
 * quiet in pipes). On a terminal the line is redrawn in place as often as `update` is called; in
 * a pipe or log file one line is written per `pipeIntervalMs` so logs stay readable.
 */

/** Interval between status lines when stderr is not a terminal. */
export const PIPE_STATUS_INTERVAL_MS = 10_000;

/** Options of a status line. */
export interface StatusLineOptions {
  stream: Writable;
  /** True when `stream` is a terminal: redraw in place. */
  interactive: boolean;
  clock: Clock;
  /** Minimum interval between lines when not interactive (default `PIPE_STATUS_INTERVAL_MS`). */
  pipeIntervalMs?: number;
  /** Prefix of every line, e.g. `acd collect: `. */
  prefix?: string;
}

/** ANSI: carriage return, then erase the whole line. */
const REDRAW = '\r\x1b[2K';

/** Draws a status line in place (terminal) or prints one periodically (pipe). */
export class StatusLine {
  private lastPrinted = -Infinity;
  private drawn = false;
  private readonly pipeIntervalMs: number;

  constructor(private readonly opts: StatusLineOptions) {
    this.pipeIntervalMs = opts.pipeIntervalMs ?? PIPE_STATUS_INTERVAL_MS;
  }

  /** Shows `text` now (terminal) or if the pipe interval has passed since the last line. */
  update(text: string): void {
    const line = (this.opts.prefix ?? '') + text;
    if (this.opts.interactive) {
      const cols = (this.opts.stream as Writable & { columns?: number }).columns;
      const shown = cols !== undefined && cols > 1 && line.length >= cols ? line.slice(0, cols - 1) : line;
      this.opts.stream.write(REDRAW + shown);
      this.drawn = true;
      return;
    }
    const now = this.opts.clock.monotonic();
    if (now - this.lastPrinted < this.pipeIntervalMs) return;
    this.lastPrinted = now;
    this.opts.stream.write(line + '\n');
  }

  /** Ends the in-place line so that what follows starts on a fresh line. */
  done(): void {
    if (this.drawn) this.opts.stream.write('\n');
    this.drawn = false;
  }
}

/** A compact human number: 950, 12.3k, 4.56M. */
export function humanCount(n: number): string {
  const a = Math.abs(n);
  if (a < 1000) return String(Math.round(n));
  if (a < 1e6) return `${(n / 1e3).toFixed(a < 1e4 ? 2 : 1)}k`;
  if (a < 1e9) return `${(n / 1e6).toFixed(a < 1e7 ? 2 : 1)}M`;
  return `${(n / 1e9).toFixed(2)}G`;
}

/**
 * Per-second rates of monotonically increasing counters between successive `sample` calls, on
 * the monotonic clock.
 */
export class RateMeter<K extends string> {
  private prev: Record<K, number> | undefined;
  private prevAt = 0;

  constructor(private readonly clock: Clock) {}

  /** Returns the rate of each counter since the previous call (0 on the first call). */
  sample(values: Record<K, number>): Record<K, number> {
    const now = this.clock.monotonic();
    const out = {} as Record<K, number>;
    const dt = (now - this.prevAt) / 1000;
    for (const k of Object.keys(values) as K[]) {
      const before = this.prev?.[k];
      out[k] = before === undefined || dt <= 0 ? 0 : (values[k] - before) / dt;
    }
    this.prev = { ...values };
    this.prevAt = now;
    return out;
  }
}
