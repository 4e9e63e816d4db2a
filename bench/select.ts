/**
 * Selection benchmark (issue 5): records/s through the edge's selection hot path — border
 * classification of both endpoints, feed/direction/window/selector decision, allow-listed column
 * copy, provenance and Crypto-PAn pseudonymisation (batch API) — on one core, over 1,000,000
 * distinct domestic addresses (real registry table, Japan domestic, demonstration feed set).
 * The cold pass starts with an empty Crypto-PAn cache (every domestic address is new); the warm
 * pass repeats the same addresses with the cache holding them. Materialising `SelectedRecord`
 * objects (strings) is measured separately: the bus carries the compact columnar form.
 * Prints one JSON line per measurement, then a one-line summary on stderr.
 *
 *   node --import tsx bench/select.ts [--n 1000000] [--batch 4096] [--repeat 3]
 */
import { ManualClock } from '../src/common/clock.ts';
import { shippedLegalParameters } from '../src/common/legal/index.ts';
import { loadPrefixTable } from '../src/common/prefixes/index.ts';
import { FlowBatch } from '../src/common/schema/batch.ts';
import { createSelectionEngine, demoSelectionConfig, ephemeralKeySource } from '../src/select/index.ts';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('--n', 1_000_000);
const BATCH = arg('--batch', 4096);
const N6 = Math.min(N, 250_000);
/** Warm passes are repeated and their median reported: the machine is shared, single runs are noisy. */
const REPEAT = Math.max(1, arg('--repeat', 3));

/** xorshift32: deterministic without allocation. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

interface Row {
  bench: 'select';
  family: 4 | 6;
  cache: 'cold' | 'warm';
  output: 'columnar' | 'records';
  n: number;
  selected: number;
  perSec: number;
  /** Records per second of process CPU time (less sensitive to other processes than wall time). */
  perCpuSec: number;
  /** Passes measured (the median of perSec is reported). */
  runs: number;
  cacheHitRate: number;
}

async function main(): Promise<void> {
  const { table, report } = await loadPrefixTable();
  process.stderr.write(
    `prefix table ${table.tableVersion} from ${report.from} in ${report.ms.toFixed(0)} ms\n`,
  );
  const jp = table.countryClass('JP');
  const us = table.countryClass('US');
  const c = table.country;
  const rowsOf = (cls: number): number[] => {
    const out: number[] = [];
    for (let i = 0; i < c.v4Values.length; i++) if (c.v4Values[i] === cls) out.push(i);
    return out;
  };
  const jpRows = rowsOf(jp);
  const usRows = rowsOf(us);
  const weights = jpRows.map((i) => c.v4Ends[i]! - c.v4Starts[i]! + 1);
  const total = weights.reduce((a, b) => a + b, 0);
  const r = rng(42);
  const pick = (rows: number[]): number => {
    const i = rows[r() % rows.length]!;
    return (c.v4Starts[i]! + (r() % (c.v4Ends[i]! - c.v4Starts[i]! + 1))) >>> 0;
  };
  // 1,000,000 distinct domestic addresses, spread over Japan's space in proportion to size.
  const seen = new Set<number>();
  const domestic = new Uint32Array(N);
  let k = 0;
  while (k < N) {
    let x = r() % total;
    let row = 0;
    while (x >= weights[row]!) x -= weights[row++]!;
    const a = (c.v4Starts[jpRows[row]!]! + x) >>> 0;
    if (!seen.has(a)) {
      seen.add(a);
      domestic[k++] = a;
    }
  }
  seen.clear();
  const foreign = Uint32Array.from({ length: 65_536 }, () => pick(usRows));
  process.stderr.write(`generated ${N} distinct domestic addresses out of ${total} in Japan's IPv4 space\n`);

  const demo = demoSelectionConfig('JP');
  const clock = new ManualClock(Date.parse('2026-03-01T00:00:00.000Z'));
  const keys = ephemeralKeySource(clock.now(), { cryptoPan: { cacheEntries: 1 << 22 } });
  const engine = createSelectionEngine(
    {
      table,
      legal: shippedLegalParameters(),
      keys,
      clock,
      trustedKeys: demo.trustedKeys,
      documents: demo.documents,
    },
    demo.config,
  );
  engine.activate();
  const cp = keys.key.cryptoPan;
  const batch = new FlowBatch(BATCH);
  const t0 = Date.parse('2026-02-28T00:00:00.000Z');

  const fill4 = (from: number, count: number): void => {
    batch.clear();
    const ex = batch.exporterId('192.0.2.10');
    for (let j = 0; j < count; j++) {
      const i = batch.add();
      const n = from + j;
      batch.ipVersion[i] = 4;
      batch.src[i * 4] = foreign[n & 0xffff]!;
      batch.dst[i * 4] = domestic[n]!;
      batch.proto[i] = 6;
      batch.srcPort[i] = 1024 + (n % 60000);
      batch.dstPort[i] = 443;
      batch.tcpFlags[i] = 0x1b;
      batch.octets[i] = 1500;
      batch.packets[i] = 3;
      batch.start[i] = t0 + n;
      batch.end[i] = t0 + n + 100;
      batch.exporterIndex[i] = ex;
      batch.observationDomainId[i] = 1;
      batch.sequence[i] = from;
      batch.recordIndex[i] = j;
    }
  };
  const v6dom = new Uint32Array(N6 * 4);
  for (let i = 0; i < N6; i++) {
    // Distinct addresses in 2001:200::/23 (WIDE, Japan) with random interface ids.
    v6dom[i * 4] = 0x20010200 | (i >>> 16);
    v6dom[i * 4 + 1] = (i & 0xffff) << 16;
    v6dom[i * 4 + 2] = r();
    v6dom[i * 4 + 3] = r();
  }
  const fill6 = (from: number, count: number): void => {
    batch.clear();
    const ex = batch.exporterId('192.0.2.10');
    for (let j = 0; j < count; j++) {
      const i = batch.add();
      const n = from + j;
      batch.ipVersion[i] = 6;
      batch.src[i * 4] = 0x26000000 | (n & 0xffff);
      batch.src[i * 4 + 3] = 1;
      batch.dst.set(v6dom.subarray(n * 4, n * 4 + 4), i * 4);
      batch.proto[i] = 17;
      batch.dstPort[i] = 53;
      batch.start[i] = t0 + n;
      batch.end[i] = t0 + n;
      batch.exporterIndex[i] = ex;
      batch.sequence[i] = from;
      batch.recordIndex[i] = j;
    }
  };

  const rows: Row[] = [];
  const once = (family: 4 | 6, cache: 'cold' | 'warm', output: 'columnar' | 'records', n: number): Row => {
    if (cache === 'cold') cp.clearCache();
    const s0 = cp.stats();
    let ms = 0;
    let cpuUs = 0;
    let selected = 0;
    for (let from = 0; from < n; from += BATCH) {
      const count = Math.min(BATCH, n - from);
      if (family === 4) fill4(from, count);
      else fill6(from, count);
      const u = process.cpuUsage();
      const t = performance.now();
      const res = engine.selectBatch(batch);
      if (output === 'records') res.selected.toRecords();
      ms += performance.now() - t;
      const du = process.cpuUsage(u);
      cpuUs += du.user + du.system;
      selected += res.stats.selected;
    }
    const s1 = cp.stats();
    const hits = family === 4 ? s1.hits4 - s0.hits4 : s1.hits6 - s0.hits6;
    const misses = family === 4 ? s1.misses4 - s0.misses4 : s1.misses6 - s0.misses6;
    return {
      bench: 'select',
      family,
      cache,
      output,
      n,
      selected,
      perSec: Math.round(n / (ms / 1000)),
      perCpuSec: Math.round(n / (cpuUs / 1e6)),
      runs: 1,
      cacheHitRate: hits + misses > 0 ? Number((hits / (hits + misses)).toFixed(4)) : 0,
    };
  };
  const pass = (family: 4 | 6, cache: 'cold' | 'warm', output: 'columnar' | 'records', n: number): void => {
    // A cold pass empties the cache first, so it cannot be repeated in place; warm passes can.
    const runs: Row[] = [];
    for (let k = 0; k < (cache === 'warm' ? REPEAT : 1); k++) runs.push(once(family, cache, output, n));
    runs.sort((a, b) => a.perSec - b.perSec);
    const row = { ...runs[runs.length >> 1]!, runs: runs.length };
    row.perCpuSec = [...runs].sort((a, b) => a.perCpuSec - b.perCpuSec)[runs.length >> 1]!.perCpuSec;
    rows.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  };

  // Warm the JIT on a small slice, then measure.
  pass(4, 'cold', 'columnar', Math.min(N, 50_000));
  rows.length = 0;
  pass(4, 'cold', 'columnar', N);
  pass(4, 'warm', 'columnar', N);
  pass(4, 'warm', 'records', N);
  pass(6, 'cold', 'columnar', N6);
  pass(6, 'warm', 'columnar', N6);

  const get = (f: 4 | 6, c: string, o: string): string =>
    `${((rows.find((x) => x.family === f && x.cache === c && x.output === o)?.perSec ?? 0) / 1e6).toFixed(2)}M`;
  process.stderr.write(
    `select records/s (one core, classification + decision + allow-list + Crypto-PAn): IPv4 over ${N} distinct domestic addresses ` +
      `cold ${get(4, 'cold', 'columnar')}, warm ${get(4, 'warm', 'columnar')} (target >= 1.00M warm); ` +
      `warm incl. SelectedRecord objects ${get(4, 'warm', 'records')}; IPv6 (${N6}) cold ${get(6, 'cold', 'columnar')}, warm ${get(6, 'warm', 'columnar')} ` +
      `(warm: median of ${REPEAT} passes)\n`,
  );
}

await main();
