/** Components with I/O are created inert and started/stopped explicitly (CONVENTIONS habit 1). */
export interface Lifecycle {
  start(): Promise<void>;
  /** Stops cleanly: drains queues, flushes output, closes sockets. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts components in order; if one fails, stops those already started (in reverse) and rethrows. */
export async function startAll(components: readonly Lifecycle[]): Promise<void> {
  const started: Lifecycle[] = [];
  try {
    for (const c of components) {
      await c.start();
      started.push(c);
    }
  } catch (err) {
    await stopAll(started);
    throw err;
  }
}

/** Stops components in reverse order, continuing past failures; rethrows the first failure. */
export async function stopAll(components: readonly Lifecycle[]): Promise<void> {
  let first: unknown;
  for (const c of [...components].reverse()) {
    try {
      await c.stop();
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined)
    throw first instanceof Error ? first : new Error('component failed to stop', { cause: first });
}
