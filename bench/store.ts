/**
 * `node --import tsx bench/store.ts [--records N] [--batch B]`: the centre store.
 * Prints one JSON line per measurement and a one-line summary on stderr:
 * - insertion technique on a raw records day table (same columns as the store's): DuckDB Appender
 *   with data chunks, INSERT … SELECT from read_json of a file, multi-row parameterised INSERT;
 * - DuckDbStore (file under a temp dir): records/s of batched `appendRecords` of realistic
 *   selected records (three providers, 10 % DNS events, sampled flows, one retention day per
 *   channel), rollups and partition catalogue included;
 * - query latency (p50/p95 over repeated runs) of a dashboard series (1-minute rollup, one hour),
 *   top-N (destination country and port over one hour), a filtered first page of records and an incident page.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  INTEGER,
  VARCHAR,
  DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { SelectedRecord } from '../src/common/schema/selected.ts';
import { RECORD_COLUMNS, recordsTableSql } from '../src/store/duckdb/migrations.ts';
import { DuckDbStore } from '../src/store/duckdb/store.ts';
import { recordKeys } from '../src/store/shape.ts';
import { alertOf, dnsRecord, flowRecord, incidentOf, T0 } from '../src/store/testing.ts';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('--records', 200_000);
const B = arg('--batch', 5000);
const results: Record<string, number> = {};
const emit = (o: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify(o) + '\n');
};

const COUNTRIES = ['US', 'CN', 'RU', 'DE', 'NL', 'BR', 'KR', 'IN', 'FR', 'GB'];
const PORTS = [443, 80, 53, 22, 23, 3389, 445, 8080, 25, 123];
/** Records over one hour of event time, like the edges' selected output. */
function records(n: number, first = 0): SelectedRecord[] {
  const out: SelectedRecord[] = [];
  for (let k = 0; k < n; k++) {
    const i = first + k;
    const t = T0 + Math.floor((i / N) * 3_600_000);
    const providerId = `prov-${'abc'[i % 3] ?? 'a'}`;
    if (i % 10 === 9) {
      out.push(dnsRecord({ t, qname: `host${i % 5000}.example${i % 50}.com`, index: i, providerId }));
      continue;
    }
    const x = (i * 2_654_435_761) >>> 0;
    out.push(
      flowRecord({
        t,
        index: i,
        providerId,
        src: `10.${x & 255}.${(x >> 8) & 255}.${(x >> 16) & 255}`,
        dst: `198.51.${(x >> 4) & 255}.${(x >> 12) & 255}`,
        dstPort: PORTS[x % PORTS.length] ?? 443,
        octets: 40 + (x % 150_000),
        packets: 1 + (x % 120),
        sampling: i % 3 === 0 ? 1000 : 1,
        srcCountry: 'JP',
        dstCountry: COUNTRIES[(x >> 3) % COUNTRIES.length] ?? 'US',
        dstAsn: 64_500 + ((x >> 5) % 400),
        channel: i % 2 === 0 ? 'specified-domestic-to-foreign' : 'transit-foreign-to-foreign',
      }),
    );
  }
  return out;
}

const TYPES: Record<string, DuckDBType> = { VARCHAR, BIGINT, INTEGER, BOOLEAN, DOUBLE };
function row(r: SelectedRecord): DuckDBValue[] {
  const k = recordKeys(r);
  const v = r.provenance;
  return [
    r.recordId,
    BigInt(k.t),
    r.recordType,
    r.protocol,
    v.providerId,
    v.feedId,
    v.channel,
    v.approvalId,
    JSON.stringify(v.selectorIds),
    v.tableVersion,
    v.parameterVersion,
    BigInt(v.keyEpoch),
    BigInt(v.selectedAt),
    BigInt(v.retainUntil),
    k.srcAddr,
    k.dstAddr,
    k.srcPort,
    k.dstPort,
    k.proto,
    k.qname,
    r.source.country,
    BigInt(r.source.asn),
    r.source.pseudonymised,
    r.destination.country,
    BigInt(r.destination.asn),
    r.destination.pseudonymised,
    k.packets,
    k.bytes,
    JSON.stringify(r.fields),
  ];
}

async function techniques(dir: string): Promise<void> {
  const inst = await DuckDBInstance.create(join(dir, 'raw.duckdb'), { threads: '2' });
  const c = await inst.connect();
  const types = RECORD_COLUMNS.map(([, t]) => TYPES[t] ?? VARCHAR);
  const names = RECORD_COLUMNS.map(([n]) => n);
  const n = Math.min(N, 20_000);
  const recs = records(n);
  const measure = async (name: string, count: number, f: () => Promise<void>): Promise<void> => {
    await c.run(`DROP TABLE IF EXISTS r`);
    await c.run(recordsTableSql('r'));
    const t = performance.now();
    await c.run('BEGIN TRANSACTION');
    await f();
    await c.run('COMMIT');
    const s = (performance.now() - t) / 1000;
    const rps = Math.round(count / s);
    results[`${name}RecordsPerSec`] = rps;
    emit({
      bench: 'insert-technique',
      technique: name,
      records: count,
      seconds: +s.toFixed(3),
      recordsPerSec: rps,
    });
  };
  await measure('appender', n, async () => {
    const cols = names.map(() => new Array<DuckDBValue>(n));
    recs.forEach((r, i) => row(r).forEach((v, j) => ((cols[j] as DuckDBValue[])[i] = v)));
    const ap = await c.createAppender('r');
    for (let off = 0; off < n; off += 2048) {
      const len = Math.min(2048, n - off);
      const ch = DuckDBDataChunk.create(types, len);
      ch.setColumns(cols.map((col) => col.slice(off, off + len)));
      ap.appendDataChunk(ch);
    }
    ap.flushSync();
    ap.closeSync();
  });
  await measure('readJson', n, async () => {
    const file = join(dir, 'batch.json');
    writeFileSync(
      file,
      JSON.stringify(
        recs.map((r): Record<string, unknown> => {
          const o: Record<string, unknown> = {};
          row(r).forEach((v, j) => (o[names[j] ?? ''] = typeof v === 'bigint' ? Number(v) : v));
          return o;
        }),
      ),
    );
    const spec = RECORD_COLUMNS.map(([c2, t]) => `${c2}: '${t}'`).join(', ');
    await c.run(`INSERT INTO r SELECT ${names.join(', ')} FROM read_json('${file}', columns = {${spec}})`);
  });
  const m = Math.min(n, 2000); // multi-row INSERT is far slower: a smaller sample
  await measure('multiRowInsert', m, async () => {
    const W = names.length;
    for (let off = 0; off < m; off += 200) {
      const len = Math.min(200, m - off);
      const params: DuckDBValue[] = [];
      const vals: string[] = [];
      for (let i = 0; i < len; i++) {
        vals.push('(' + names.map((_, j) => `$${i * W + j + 1}`).join(',') + ')');
        params.push(...row(recs[off + i] as SelectedRecord));
      }
      await c.run(`INSERT INTO r VALUES ${vals.join(',')}`, params);
    }
  });
  c.closeSync();
  inst.closeSync();
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return +(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0).toFixed(2);
}

async function latency(name: string, runs: number, f: () => Promise<unknown>): Promise<void> {
  await f();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await f();
    ms.push(performance.now() - t);
  }
  results[`${name}P50Ms`] = pct(ms, 50);
  results[`${name}P95Ms`] = pct(ms, 95);
  emit({ bench: 'query', query: name, runs, p50Ms: pct(ms, 50), p95Ms: pct(ms, 95) });
}

const dir = mkdtempSync(join(tmpdir(), 'acd-bench-store-'));
try {
  await techniques(dir);
  const path = join(dir, 'acd.duckdb');
  const store = new DuckDbStore({ config: { path } });
  await store.open();
  let appendMs = 0;
  for (let off = 0; off < N; off += B) {
    const batch = records(Math.min(B, N - off), off);
    const t = performance.now();
    await store.appendRecords(batch);
    appendMs += performance.now() - t;
  }
  results.storeAppendRecordsPerSec = Math.round(N / (appendMs / 1000));
  const alerts = Array.from({ length: 2000 }, (_, i) =>
    alertOf(`a${i}`, {
      firstSeen: T0 + i * 1000,
      incidentId: `i${i % 200}`,
      detector: i % 2 ? 'scan' : 'ddos',
    }),
  );
  let t = performance.now();
  await store.upsertAlerts(alerts);
  results.alertUpsertsPerSec = Math.round(alerts.length / ((performance.now() - t) / 1000));
  await store.upsertIncidents(
    Array.from({ length: 200 }, (_, i) =>
      incidentOf(`i${i}`, { firstSeen: T0 + i * 10_000, lastSeen: T0 + i * 10_000 + 60_000 }),
    ),
  );
  t = performance.now();
  await store.close();
  const closeMs = performance.now() - t;
  emit({
    bench: 'store-append',
    records: N,
    batch: B,
    seconds: +(appendMs / 1000).toFixed(3),
    recordsPerSec: results.storeAppendRecordsPerSec,
    alertUpsertsPerSec: results.alertUpsertsPerSec,
    checkpointOnCloseMs: Math.round(closeMs),
    bytesOnDisk: statSync(path).size,
    bytesPerRecord: Math.round(statSync(path).size / N),
  });
  await store.open();
  const hour = { from: T0, to: T0 + 3_600_000 };
  await latency('series1m', 30, () => store.series({ step: '1m', ...hour }));
  await latency('topDestinationCountry', 30, () =>
    store.top({ dimension: 'destinationCountry', ...hour, limit: 10 }),
  );
  await latency('topDestinationPort', 30, () =>
    store.top({ dimension: 'destinationPort', ...hour, limit: 10 }),
  );
  await latency('recordsPage', 30, () => store.queryRecords({ ...hour, limit: 100, port: 22 }));
  await latency('incidentsPage', 30, () => store.listIncidents({ limit: 50 }));
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stderr.write(
  `store: appender ${results.appenderRecordsPerSec} rec/s, read_json ${results.readJsonRecordsPerSec} rec/s, multi-row INSERT ${results.multiRowInsertRecordsPerSec} rec/s; ` +
    `DuckDbStore.appendRecords ${results.storeAppendRecordsPerSec} rec/s (batches of ${B}); ` +
    `p95 series(1m, 1 h) ${results.series1mP95Ms} ms, top-N country ${results.topDestinationCountryP95Ms} ms, port ${results.topDestinationPortP95Ms} ms, records page ${results.recordsPageP95Ms} ms, incidents page ${results.incidentsPageP95Ms} ms\n`,
);
