/**
 * Prefix table benchmark: load time (CSV parse and cache read) and lookups/s for 1,000,000 random
 * IPv4 and IPv6 addresses on one core. Prints JSON, then a one-line summary on stderr.
 *
 *   node --import tsx bench/prefixes.ts [--no-parse]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPrefixTable, PrefixTable } from '../src/common/prefixes/index.ts';

const N = 1_000_000;

/** xorshift32: deterministic addresses without allocating. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

async function main(): Promise<void> {
  const skipParse = process.argv.includes('--no-parse');
  const dir = await mkdtemp(join(tmpdir(), 'acd-bench-prefixes-'));
  try {
    let parseMs: number | undefined;
    if (!skipParse) parseMs = (await loadPrefixTable({ cacheDir: dir })).report.ms;
    const { table, report } = await loadPrefixTable({ cacheDir: skipParse ? false : dir });
    const cacheMs = report.from === 'cache' ? report.ms : undefined;

    const r = rng(42);
    const v4 = new Uint32Array(N);
    for (let i = 0; i < N; i++) v4[i] = r();
    // IPv6: half uniformly in 2000::/3 (mostly unknown space), half inside real table rows so that
    // the search runs to the end of a populated region.
    const v6 = new Uint32Array(N * 4);
    const rows = table.country.v6Starts;
    const nRows = rows.length / 4;
    for (let i = 0; i < N; i++) {
      const o = i * 4;
      if (i & 1) {
        const k = (r() % nRows) * 4;
        v6[o] = rows[k]!;
        v6[o + 1] = rows[k + 1]!;
        v6[o + 2] = rows[k + 2]! ^ (r() & 0xffff);
        v6[o + 3] = r();
      } else {
        v6[o] = (0x20000000 | (r() & 0x1fffffff)) >>> 0;
        v6[o + 1] = r();
        v6[o + 2] = r();
        v6[o + 3] = r();
      }
    }

    const run = (fn: () => number): { perSec: number; checksum: number } => {
      fn(); // warm-up (JIT)
      const t0 = performance.now();
      const checksum = fn();
      return { perSec: Math.round(N / ((performance.now() - t0) / 1000)), checksum };
    };
    const jp = table.countryClass('JP');
    const c4 = run(() => {
      let s = 0;
      for (let i = 0; i < N; i++) s += table.classify4(v4[i]!);
      return s;
    });
    const c6 = run(() => {
      let s = 0;
      for (let i = 0; i < N; i++) {
        const o = i * 4;
        s += table.classify6(v6[o]!, v6[o + 1]!, v6[o + 2]!, v6[o + 3]!);
      }
      return s;
    });
    const a4 = run(() => {
      let s = 0;
      for (let i = 0; i < N; i++) s += table.asn4(v4[i]!);
      return s;
    });
    const a6 = run(() => {
      let s = 0;
      for (let i = 0; i < N; i++) {
        const o = i * 4;
        s += table.asn6(v6[o]!, v6[o + 1]!, v6[o + 2]!, v6[o + 3]!);
      }
      return s;
    });
    const dom4 = run(() => {
      let s = 0;
      for (let i = 0; i < N; i++) if (PrefixTable.isDomesticClass(table.classify4(v4[i]!), jp)) s++;
      return s;
    });
    const result = {
      bench: 'prefixes',
      tableVersion: table.tableVersion,
      rows: {
        countryV4: table.country.v4Values.length,
        countryV6: table.country.v6Values.length,
        asnV4: table.asn.v4Asn.length,
        asnV6: table.asn.v6Asn.length,
      },
      loadMs: { csvParseAndCacheWrite: parseMs, cacheRead: cacheMs },
      lookupsPerSec: {
        classify4: c4.perSec,
        classify6: c6.perSec,
        asn4: a4.perSec,
        asn6: a6.perSec,
        isDomestic4: dom4.perSec,
      },
      addresses: N,
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    process.stderr.write(
      `prefixes: classify4 ${(c4.perSec / 1e6).toFixed(1)} M/s, classify6 ${(c6.perSec / 1e6).toFixed(1)} M/s, ` +
        `asn4 ${(a4.perSec / 1e6).toFixed(1)} M/s, asn6 ${(a6.perSec / 1e6).toFixed(1)} M/s; ` +
        `load csv ${parseMs?.toFixed(0) ?? '-'} ms, cache ${cacheMs?.toFixed(0) ?? '-'} ms\n`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
