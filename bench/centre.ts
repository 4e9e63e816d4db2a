/**
 * `npm run bench:centre [-- --records N --batch B --seconds S]`: the national centre (issue 7,
 * "Benchmarks"), in one process as `acd demo` runs it: memory bus → centre (detection with every
 * detector, correlation, coalesced appends) → DuckDB store in a temporary directory, plus the API.
 * Prints one JSON line per measurement and a summary on stderr:
 * - ingest: selected records/s from the bus to the store (every record durably appended, so every
 *   batch acknowledged) with detection on; the records are realistic selected flows and DNS events
 *   of three providers with a SYN flood in them, published as edges would (batches of B records);
 * - api: p50/p95/p99 latency and requests/s of `GET /api/incidents?limit=20` and
 *   `GET /api/overview` under `autocannon` (10 connections, S seconds each, rate limit off) while
 *   the centre ingests at the same time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { systemClock } from '../src/common/clock.ts';
import { createLogger } from '../src/common/logging.ts';
import { MetricsRegistry } from '../src/common/metrics.ts';
import type { SelectedRecord } from '../src/common/schema/selected.ts';
import { resolveCorrelateConfig } from '../src/correlate/index.ts';
import { resolveDetectConfig } from '../src/detect/index.ts';
import { createCentre } from '../src/cli/centre/centre.ts';
import { createEventHub, createServer, createTokenAuth, defaultServeConfig } from '../src/serve/index.ts';
import { createStore } from '../src/store/index.ts';
import { dnsRecord, flowRecord } from '../src/store/testing.ts';
import { createMemoryBus } from '../src/transport/index.ts';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('--records', 300_000);
const B = arg('--batch', 500);
const SECONDS = arg('--seconds', 10);
const TOKEN = 'bench-centre-token-0123456789abcdef';
const emit = (o: Record<string, unknown>): void => {
  process.stdout.write(JSON.stringify(o) + '\n');
};

const COUNTRIES = ['US', 'CN', 'RU', 'DE', 'NL', 'BR', 'KR', 'IN', 'FR', 'GB'];
const PORTS = [443, 80, 53, 22, 23, 3389, 445, 8080, 25, 123];
const START = Date.now() - 3_600_000;

/** `n` records from index `first` over one hour of event time; every 50th second a SYN flood. */
function records(n: number, first: number): SelectedRecord[] {
  const out: SelectedRecord[] = [];
  for (let k = 0; k < n; k++) {
    const i = first + k;
    const t = START + Math.floor((i / (2 * N)) * 3_600_000);
    const providerId = `provider-${(i % 3) + 1}`;
    if (i % 10 === 9) {
      out.push(dnsRecord({ t, qname: `host${i % 5000}.example${i % 50}.com`, index: i, providerId }));
      continue;
    }
    const x = (i * 2_654_435_761) >>> 0;
    const flood = i % 4 === 0 && Math.floor((t - START) / 1000) % 50 === 0;
    const r = flood
      ? flowRecord({
          t,
          index: i,
          providerId,
          channel: 'agreement-foreign-to-domestic',
          src: `198.51.${(x >>> 8) & 255}.${x & 255}`,
          srcCountry: COUNTRIES[x % COUNTRIES.length]!,
          dst: '10.20.30.40',
          dstCountry: 'JP',
          dstPort: 80,
          packets: 200,
          octets: 8000,
        })
      : flowRecord({
          t,
          index: i,
          providerId,
          src: `10.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`,
          dst: `203.0.${(x >>> 4) & 255}.${(x >>> 12) & 255}`,
          dstPort: PORTS[(x >>> 3) % PORTS.length]!,
          dstCountry: COUNTRIES[(x >>> 5) % COUNTRIES.length]!,
          octets: 200 + (x % 100_000),
          packets: 1 + (x % 80),
        });
    if (flood) r.fields.tcpControlBits = 2;
    out.push(r);
  }
  return out;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'acd-bench-centre-'));
  const logger = createLogger({ level: 'warn' });
  const metrics = new MetricsRegistry();
  const bus = createMemoryBus({ clock: systemClock });
  const store = createStore({ type: 'duckdb', path: join(dir, 'acd.duckdb') }, { metrics });
  const events = createEventHub(10_000);
  await bus.start();
  await store.open();
  const centre = createCentre(
    { clock: systemClock, logger, metrics, bus, store, events },
    {
      detect: resolveDetectConfig(),
      correlate: resolveCorrelateConfig(),
      evidenceRetentionMs: 30 * 86_400_000,
      consumer: 'centre',
    },
  );
  await centre.start();
  const base = defaultServeConfig({ host: '127.0.0.1', port: 0 });
  const server = createServer(
    {
      store,
      live: centre.live,
      actions: centre.actions,
      events,
      metrics,
      auth: createTokenAuth([{ token: TOKEN, user: 'bench', role: 'analyst', defaultPurpose: 'monitoring' }]),
      clock: systemClock,
      logger,
    },
    { ...base, rateLimit: { ...base.rateLimit, max: 0 } },
  );
  await server.start();
  const url = server.address()?.url ?? '';
  const sent = { records: 0, batches: 0 };
  /** Batches built before the clock starts, so that the ingest figure is the centre's alone. */
  const prepared: SelectedRecord[][] = [];
  for (let i = 0; i < N; i += B) prepared.push(records(Math.min(B, N - i), i));
  /** Publishes `n` records as edges would, keeping at most `ahead` records unstored on the bus. */
  async function publish(n: number, ahead: number, stop?: () => boolean): Promise<void> {
    const end = sent.records + n;
    while (sent.records < end && !(stop?.() ?? false)) {
      if (sent.records - centre.stats().stored > ahead) {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      const rs = prepared[sent.batches] ?? records(Math.min(B, end - sent.records), sent.records);
      const p = sent.batches % 3;
      await bus.publishBatch(`provider-${p + 1}`, p, {
        batchId: `provider-${p + 1}.bench.${sent.batches}`,
        records: rs,
      });
      sent.records += rs.length;
      sent.batches++;
    }
  }
  const waitStored = async (): Promise<void> => {
    while (centre.stats().stored < sent.records) await new Promise((r) => setTimeout(r, 5));
  };

  // Ingest alone.
  const t0 = performance.now();
  await publish(N, 50_000);
  await waitStored();
  const s = (performance.now() - t0) / 1000;
  await centre.flush();
  const st = centre.stats();
  const ingest = {
    bench: 'centre-ingest',
    records: N,
    batch: B,
    seconds: Math.round(s * 100) / 100,
    recordsPerSecond: Math.round(N / s),
    appends: st.appends,
    recordsPerAppend: Math.round(st.stored / Math.max(1, st.appends)),
    evidence: st.evidence,
    alerts: st.alerts,
    incidents: st.incidents,
  };
  emit(ingest);

  // The API under autocannon while the centre keeps ingesting.
  const api: Record<string, unknown>[] = [];
  for (const path of ['/api/incidents?limit=20', '/api/overview']) {
    let done = false;
    const load = publish(10 * N, 20_000, () => done);
    const times: number[] = [];
    const before = sent.records;
    const tl = performance.now();
    const r = await new Promise<autocannon.Result>((resolve, reject) => {
      const inst = autocannon(
        {
          url: url + path,
          connections: 10,
          duration: SECONDS,
          headers: { authorization: `Bearer ${TOKEN}` },
        },
        (err, result) =>
          err ? reject(err instanceof Error ? err : new TypeError(String(err))) : resolve(result),
      );
      inst.on('response', (_c, _status, _bytes, ms) => times.push(ms));
    });
    done = true;
    await load;
    await waitStored();
    const ingested = sent.records - before;
    times.sort((a, b) => a - b);
    const m = {
      bench: 'centre-api',
      path,
      requests: r.requests.total,
      requestsPerSecond: Math.round(r.requests.average),
      non2xx: r.non2xx,
      errors: r.errors,
      p50Ms: round1(percentile(times, 50)),
      p95Ms: round1(percentile(times, 95)),
      p99Ms: round1(percentile(times, 99)),
      ingestRecordsPerSecond: Math.round(ingested / ((performance.now() - tl) / 1000)),
    };
    emit(m);
    api.push(m);
  }
  emit({ bench: 'centre-machine', loadavg: loadavg().map((x) => Math.round(x * 100) / 100) });
  await server.stop();
  await centre.stop();
  await bus.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  process.stderr.write(
    `centre: ${ingest.recordsPerSecond.toLocaleString('en')} selected records/s bus → DuckDB with detection ` +
      `(${ingest.recordsPerAppend} records per append, ${ingest.incidents} incidents); API under load: ` +
      api
        .map((a) => `${String(a.path)} p95 ${String(a.p95Ms)} ms (${String(a.requestsPerSecond)} req/s)`)
        .join(', ') +
      `; load average ${loadavg()[0]!.toFixed(1)}\n`,
  );
}

await main();
