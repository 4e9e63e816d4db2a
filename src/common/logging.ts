import { pino, type Logger } from 'pino';

export type { Logger };

/** Options for the process logger. */
export interface LogOptions {
  level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Destination file descriptor; logs go to stderr (2) so stdout stays data-only (DESIGN section 7). */
  fd?: number;
}

/**
 * Creates the structured logger. Messages are lower-case; record contents never appear at info
 * level and raw pre-selection data never appears at all (R-SEL-1).
 */
export function createLogger(opts: LogOptions = {}): Logger {
  return pino(
    { level: opts.level ?? process.env.ACD_LOG_LEVEL ?? 'info', base: undefined },
    pino.destination({ fd: opts.fd ?? 2, sync: true }),
  );
}

/** A logger that discards everything; for tests and pure library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
