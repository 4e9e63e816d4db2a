import type { Writable } from 'node:stream';
import type { Clock } from '../common/clock.ts';
import type { Logger } from '../common/logging.ts';

/** What every command gets from `main`: streams, clock and logger, injectable for tests. */
export interface CliContext {
  stdout: Writable;
  stderr: Writable;
  clock: Clock;
  logger: Logger;
  /** True when stderr is a terminal: progress and status lines are drawn only then. */
  interactive: boolean;
  /** Resolves when SIGINT/SIGTERM arrives (or the test aborts). */
  signal: AbortSignal;
}
