/**
 * `node --import tsx bench/oversight.ts [--audit N] [--records N] [--days D] [--cases N]`: the
 * oversight services on an embedded DuckDB store (files under a temp dir).
 * Prints one JSON line per measurement and a summary on stderr:
 * - audit log: entries/s appended through `createAuditLog` (hash chain, serialised appends,
 *   signed checkpoints every 1,000 entries to the checkpoint file), and entries/s of a full
 *   `verifyChain` (reading the store and the checkpoint file, checking every hash, link and signature);
 * - retention: one run of the retention job over `--records` selected records spread over `--days`
 *   retention days with half the days expired (drop, re-count proof, signed certificate), and the
 *   idempotent second run;
 * - transparency report: build time over `--cases` stored approval cases and communications.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../src/common/clock.ts';
import { shippedLegalParameters } from '../src/common/legal/index.ts';
import { silentLogger } from '../src/common/logging.ts';
import { createAuditLog, readAllAudit, readCheckpointFile, verifyChain } from '../src/oversee/audit/index.ts';
import { KeyStore } from '../src/oversee/keys/index.ts';
import { buildTransparencyReport } from '../src/oversee/report/index.ts';
import { reportFixture, loadFixture } from '../src/oversee/report/testing.ts';
import { createRetentionJob } from '../src/oversee/retention/index.ts';
import { DuckDbStore } from '../src/store/duckdb/store.ts';
import { flowRecord } from '../src/store/testing.ts';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const AUDIT = arg('--audit', 20_000);
const RECORDS = arg('--records', 200_000);
const DAYS = arg('--days', 20);
const CASES = arg('--cases', 2000);
const DAY = 86_400_000;
const results: Record<string, number> = {};
const emit = (o: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify(o) + '\n');
};
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

const dir = mkdtempSync(join(tmpdir(), 'acd-bench-oversight-'));
try {
  // ---- audit log -------------------------------------------------------------------------------
  {
    const clock = new ManualClock(Date.UTC(2026, 2, 1));
    const data = join(dir, 'audit');
    const store = new DuckDbStore({ config: { path: join(data, 'acd.duckdb') } });
    await store.open();
    const keys = new KeyStore(join(data, 'keys'), clock);
    await keys.init();
    const checkpointFile = join(data, 'audit', 'checkpoints.ndjson');
    const log = createAuditLog(
      { store, clock, keys, checkpointFile, logger: silentLogger },
      { checkpointEveryEntries: 1000 },
    );
    await log.start();
    let t0 = process.hrtime.bigint();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < AUDIT; i++) {
      clock.advance(10);
      pending.push(
        log.append({
          actor: `analyst-${i % 17}`,
          role: 'analyst',
          purpose: 'incident-handling',
          action: i % 5 === 0 ? 'incident.transition' : 'GET /api/incidents/:id',
          objectIds: [`in-${i % 997}`],
          detail: { session: `s-${i % 31}`, status: 200 },
        }),
      );
      if (pending.length >= 500) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    await log.stop();
    const appendMs = ms(t0);
    results.auditAppendPerS = Math.round(AUDIT / (appendMs / 1000));
    emit({ bench: 'audit.append', entries: AUDIT, ms: Math.round(appendMs), perS: results.auditAppendPerS });

    t0 = process.hrtime.bigint();
    const entries = (await readAllAudit(store)).map((e) => ({ line: e.seq, value: e }));
    const verdict = verifyChain(entries, await readCheckpointFile(checkpointFile), await keys.publicKeys(), {
      firstSeq: 1,
    });
    const verifyMs = ms(t0);
    if (!verdict.ok) throw new Error(`chain does not verify: ${verdict.problem.message}`);
    results.auditVerifyPerS = Math.round(entries.length / (verifyMs / 1000));
    emit({
      bench: 'audit.verify',
      entries: entries.length,
      ms: Math.round(verifyMs),
      perS: results.auditVerifyPerS,
    });
    await store.close();
  }

  // ---- retention -------------------------------------------------------------------------------
  {
    const start = Date.UTC(2026, 0, 1);
    // Records of `DAYS` retention days (deadline = event time + 2 years, the shipped retention of
    // the channel); the run happens when the first half of the days has expired.
    const RETAIN = 2 * 365 * DAY;
    const now = start + Math.floor(DAYS / 2) * DAY + RETAIN + 1;
    const clock = new ManualClock(now);
    const data = join(dir, 'retention');
    const store = new DuckDbStore({ config: { path: join(data, 'acd.duckdb') } });
    await store.open();
    const keys = new KeyStore(join(data, 'keys'), clock);
    await keys.init();
    const perBatch = 5000;
    for (let off = 0; off < RECORDS; off += perBatch) {
      const batch = [];
      for (let i = off; i < Math.min(RECORDS, off + perBatch); i++)
        batch.push(
          flowRecord({
            t: start + Math.floor((i / RECORDS) * DAYS * DAY),
            index: i,
            channel: 'specified-domestic-to-foreign',
            dstPort: 443,
            retainUntil: start + Math.floor((i / RECORDS) * DAYS * DAY) + RETAIN,
          }),
        );
      await store.appendRecords(batch);
    }
    const job = createRetentionJob({
      store,
      clock,
      legal: shippedLegalParameters(),
      signer: { key: () => keys.signingKey('audit') },
      dataDir: data,
      logger: silentLogger,
    });
    let t0 = process.hrtime.bigint();
    const run = await job.run();
    const runMs = ms(t0);
    t0 = process.hrtime.bigint();
    const again = await job.run();
    const againMs = ms(t0);
    if (run.result.remainingRows !== 0 || again.deleted !== 0 || run.certificate === null)
      throw new Error('retention did not prove its deletion or was not idempotent');
    results.retentionRowsPerS = Math.round(run.deleted / (runMs / 1000));
    emit({
      bench: 'retention.run',
      records: RECORDS,
      days: DAYS,
      deleted: run.deleted,
      partitionsDropped: run.result.dropped.length,
      ms: Math.round(runMs),
      rowsPerS: results.retentionRowsPerS,
      secondRunMs: Math.round(againMs),
    });
    await store.close();
  }

  // ---- transparency report ----------------------------------------------------------------------
  {
    const start = Date.UTC(2026, 0, 1);
    const clock = new ManualClock(start + 120 * DAY);
    const store = new DuckDbStore({ config: { path: join(dir, 'report', 'acd.duckdb') } });
    await store.open();
    const fx = reportFixture(7, start, 90, {
      cases: CASES,
      communications: Math.round(CASES / 4),
      reids: Math.round(CASES / 10),
      incidents: CASES,
      alerts: CASES * 2,
      records: 10_000,
      audit: 2000,
    });
    await loadFixture(store, fx);
    const t0 = process.hrtime.bigint();
    const report = await buildTransparencyReport(store, {
      from: start + 30 * DAY,
      to: start + 60 * DAY,
      legal: shippedLegalParameters(),
      clock,
    });
    const buildMs = ms(t0);
    results.reportMs = Math.round(buildMs);
    emit({ bench: 'report.build', cases: CASES, ms: results.reportMs, format: report.format });
    await store.close();
  }
  process.stderr.write(`oversight: ${JSON.stringify(results)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
