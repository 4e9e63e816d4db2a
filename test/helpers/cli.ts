/**
 * Runs `acd …` in process (through `main`, as `./bin/acd` does) with captured stdout/stderr and
 * an optional API token in `ACD_TOKEN`, for the CLI tests; `capture()` for tests that pass their own
 * streams. Not used by production code.
 */
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.ts';
import type { Clock } from '../../src/common/clock.ts';
import { createLogger } from '../../src/common/logging.ts';

/** What one run of `acd` produced. */
export interface AcdRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A writable stream that keeps what is written, and the text so far. */
export function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/**
 * Runs `acd argv…` in process with `token` in `ACD_TOKEN` (`null`: unset; `undefined`: left as it
 * is), restoring the variable afterwards. Runs must not overlap (the environment is process-wide).
 */
export async function runAcd(
  token: string | null | undefined,
  clock: Clock,
  argv: readonly string[],
): Promise<AcdRun> {
  const out = capture();
  const err = capture();
  const before = process.env.ACD_TOKEN;
  if (token === null) delete process.env.ACD_TOKEN;
  else if (token !== undefined) process.env.ACD_TOKEN = token;
  try {
    const code = await main([...argv], {
      stdout: out.stream,
      stderr: err.stream,
      clock,
      logger: createLogger({ level: 'silent' }),
      interactive: false,
      signal: new AbortController().signal,
    });
    return { code, stdout: out.text(), stderr: err.text() };
  } finally {
    if (before === undefined) delete process.env.ACD_TOKEN;
    else process.env.ACD_TOKEN = before;
  }
}

/** `acd …` in process on `clock`, with the environment as it is (for commands that need no token). */
export function acdOn(clock: Clock): (...argv: string[]) => Promise<AcdRun> {
  return (...argv) => runAcd(undefined, clock, argv);
}
