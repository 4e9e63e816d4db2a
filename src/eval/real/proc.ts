/**
 * Child processes of the harness: each in its own process group (so a tool and anything it forks
 * are stopped together), each with a hard time limit, all tracked so that a failure, a timeout or an
 * abort stops every one of them.
 */
import { spawn } from 'node:child_process';
import { RealEvalError } from './errors.ts';

/** Bytes of stdout/stderr kept per child (the tail); tools such as hping3 can be chatty. */
export const MAX_OUTPUT_CHARS = 64 * 1024;
/** Time between SIGTERM and SIGKILL when stopping a process group. */
export const KILL_GRACE_MS = 2000;

/** How a child ended. */
export interface ProcResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the harness stopped it because its time limit passed. */
  timedOut: boolean;
}

/** Options of {@link ProcessGroups.start}. */
export interface StartOptions {
  /** Hard limit: the group gets SIGTERM, then SIGKILL, when it passes. */
  timeoutMs: number;
  cwd?: string;
}

/** A running child; see {@link ProcessGroups.start}. */
export interface Child {
  readonly pid: number;
  readonly command: string;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<ProcResult>;
  /** Resolves when `pattern` appears in stdout or stderr; rejects on exit or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
  /** Sends `signal` to the group, then SIGKILL after the grace period; resolves on exit. */
  stop(signal?: NodeJS.Signals): Promise<ProcResult>;
}

function appendTail(buf: string, chunk: string): string {
  const s = buf + chunk;
  return s.length > MAX_OUTPUT_CHARS ? s.slice(s.length - MAX_OUTPUT_CHARS) : s;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** Every child the harness started, so that one call stops whatever is still running. */
export class ProcessGroups {
  readonly #running = new Set<Child>();

  /** Starts `cmd args` detached in a new process group. */
  start(cmd: string, args: readonly string[], opts: StartOptions): Child {
    const command = [cmd, ...args].join(' ');
    const proc = spawn(cmd, args, {
      cwd: opts.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = proc.pid ?? -1;
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const watchers = new Set<() => void>();
    proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout = appendTail(stdout, d);
      for (const w of watchers) w();
    });
    proc.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = appendTail(stderr, d);
      for (const w of watchers) w();
    });
    let exitedFlag = false;
    let hardKill: NodeJS.Timeout | undefined;
    const timers: { limit?: NodeJS.Timeout } = {};
    const exited = new Promise<ProcResult>((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (exitedFlag) return;
        exitedFlag = true;
        clearTimeout(timers.limit);
        clearTimeout(hardKill);
        // The leader is gone; anything it forked into its group goes with it.
        if (pid > 0) killGroup(pid, 'SIGKILL');
        this.#running.delete(child);
        for (const w of watchers) w();
        resolve({ code, signal, stdout, stderr, timedOut });
      };
      proc.on('error', (err) => {
        stderr = appendTail(stderr, `spawn error: ${err.message}\n`);
        finish(null, null);
      });
      proc.on('close', finish);
    });
    const stop = (signal: NodeJS.Signals = 'SIGTERM'): Promise<ProcResult> => {
      if (!exitedFlag && pid > 0) {
        killGroup(pid, signal);
        clearTimeout(hardKill);
        hardKill = setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
        hardKill.unref();
      }
      return exited;
    };
    timers.limit = setTimeout(() => {
      timedOut = true;
      void stop('SIGTERM');
    }, opts.timeoutMs);
    timers.limit.unref();
    const waitFor = (pattern: RegExp, timeoutMs: number): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (pattern.test(stdout) || pattern.test(stderr)) done();
          else if (exitedFlag) done(new RealEvalError(`${cmd} exited before ready: ${stderr.slice(-500)}`));
        };
        const timer = setTimeout(
          () => done(new RealEvalError(`${cmd} not ready after ${timeoutMs} ms: ${stderr.slice(-500)}`)),
          timeoutMs,
        );
        const done = (err?: RealEvalError): void => {
          clearTimeout(timer);
          watchers.delete(check);
          if (err) reject(err);
          else resolve();
        };
        watchers.add(check);
        check();
      });
    const child: Child = { pid, command, exited, waitFor, stop };
    this.#running.add(child);
    return child;
  }

  /** Runs a command to completion; rejects unless it exits with one of `okCodes` in time. */
  async run(
    cmd: string,
    args: readonly string[],
    opts: StartOptions & { okCodes?: readonly number[] },
  ): Promise<ProcResult> {
    const r = await this.start(cmd, args, opts).exited;
    const ok = opts.okCodes ?? [0];
    if (r.timedOut || r.code === null || !ok.includes(r.code))
      throw new RealEvalError(
        `${[cmd, ...args].join(' ')} failed (${r.timedOut ? 'timed out' : `exit ${r.code ?? r.signal}`}): ${r.stderr.slice(-500)}`,
      );
    return r;
  }

  /** Number of children still running. */
  get size(): number {
    return this.#running.size;
  }

  /** Stops every child still running (SIGTERM, then SIGKILL) and waits for them. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#running].map((c) => c.stop('SIGTERM')));
  }
}
