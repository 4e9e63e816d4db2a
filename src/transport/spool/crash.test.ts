import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import type { Bus } from '../bus.ts';
import { until } from '../contract.ts';
import { createJetStreamBus } from '../jetstream/bus.ts';
import { deleteStreams, sampleRecords, testNatsServer, testToken } from '../testing.ts';
import { createSpoolKey } from './spool.ts';

const server = await testNatsServer();
const dir = mkdtempSync(join(tmpdir(), 'acd-crash-'));
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const CHILD = join(import.meta.dirname, 'testdata', 'crash-child.ts');

interface Run {
  batches: Map<number, number>;
  safe: Set<number>;
  acked: Set<number>;
  done: boolean;
}

function runChild(env: object, killAfterSafe?: number): Promise<Run> {
  const run: Run = { batches: new Map(), safe: new Set(), acked: new Set(), done: false };
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, ACD_CRASH_CHILD: JSON.stringify(env) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rl = createInterface({ input: child.stdout });
  rl.on('line', (line) => {
    const [kind, a, b] = line.split(' ');
    if (kind === 'batch') {
      run.batches.set(Number(a), Number(b));
      return maybeKill();
    }
    if (kind === 'safe') {
      run.safe.add(Number(a));
      if (b === 'ack') run.acked.add(Number(a));
    } else if (kind === 'done') run.done = true;
    maybeKill();
  });
  function maybeKill(): void {
    if (killAfterSafe !== undefined && run.safe.size >= killAfterSafe && child.exitCode === null)
      child.kill('SIGKILL');
  }
  const exited = new Promise((r) => child.once('exit', r));
  const closed = new Promise((r) => rl.once('close', r));
  return Promise.all([exited, closed]).then(() => run);
}

const skip = server ? undefined : 'no nats-server reachable and none could be started';
describe.skipIf(skip !== undefined)('edge spool across SIGKILL', () => {
  it('delivers every batch spooled before the kill exactly once after de-duplication', async () => {
    const url = server!.url;
    const t = testToken();
    const streams = { data: `T${t}_SEL`, control: `T${t}_CTL`, stats: `T${t}_STAT` };
    const keyFile = join(dir, 'edge.key');
    createSpoolKey(keyFile, randomBytes(32));
    const centre: Bus = createJetStreamBus(
      {},
      { servers: url, subjectPrefix: `t${t}`, streams, duplicateWindowMs: 120_000 },
    );
    await centre.start();
    try {
      const R = 50;
      const base = {
        url,
        prefix: `t${t}`,
        streams,
        spoolDir: join(dir, 'spool'),
        keyFile,
        recordsPerBatch: R,
        paceMs: 2,
        publishDelayMs: 40,
      };
      const first = await runChild({ ...base, batches: 600 }, 150);
      expect(first.done).toBe(false); // killed mid-stream
      // Spooled but not acknowledged when the process died: these must come from the replay.
      const unackedAtKill = [...first.batches.keys()].filter((s) => !first.acked.has(s)).length;
      const unsafeAtKill = [...first.batches.keys()].filter((s) => !first.safe.has(s)).length;
      expect(unackedAtKill).toBeGreaterThan(20);
      const second = await runChild({ ...base, batches: 0 });
      expect(second.done).toBe(true);

      const counts = new Map<string, number>();
      let raw = 0;
      const sub = await centre.subscribe('centre', (b) => {
        raw += b.records.length + b.duplicatesDropped;
        for (const r of b.records) counts.set(r.recordId, (counts.get(r.recordId) ?? 0) + 1);
        return Promise.resolve();
      });
      const expected = new Set<string>();
      for (const seq of first.safe) {
        const i = first.batches.get(seq);
        if (i === undefined) continue; // acknowledged before its `batch` line was read: still counted below
        for (const r of sampleRecords('prov-a', R, i * R)) expected.add(r.recordId);
      }
      await until(() => [...expected].every((id) => counts.has(id)), 30_000, 'every safe record');
      await new Promise((r) => setTimeout(r, 500));
      await sub.stop();
      expect(first.safe.size).toBeGreaterThanOrEqual(150);
      expect([...expected].filter((id) => counts.get(id) !== 1)).toEqual([]);
      expect([...counts.values()].every((c) => c === 1)).toBe(true);
      console.log(
        JSON.stringify({
          spooledBatches: first.batches.size,
          safeBatches: first.safe.size,
          unackedAtKill,
          unsafeAtKill,
          replayAcked: second.acked.size,
          deliveredRecords: counts.size,
          rawDelivered: raw,
        }),
      );
    } finally {
      await centre.stop();
      await deleteStreams(url, Object.values(streams));
    }
  }, 120_000);
});
