/**
 * Crypto-PAn benchmark (issue 5, R-SEL-4): addresses/s on one core for IPv4 and IPv6, cold
 * (1,000,000 distinct random addresses, every one a cache miss) and warm (a working set that fits
 * the cache, every lookup a hit), through the single-address API and the batch API. Prints one
 * JSON line per measurement, then a one-line summary on stderr.
 *
 *   node --import tsx bench/cryptopan.ts [--n 1000000]
 */
import { randomBytes } from 'node:crypto';
import { CryptoPan } from '../src/select/pseudonymise/cryptopan.ts';

const argN = process.argv.indexOf('--n');
const N = argN > 0 ? Number(process.argv[argN + 1]) : 1_000_000;
/** Working set of the warm runs: well inside the default 65,536-entry cache. */
const WARM_SET = 16_384;

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

interface Row {
  bench: 'cryptopan';
  family: 4 | 6;
  api: 'single' | 'batch';
  cache: 'cold' | 'warm';
  n: number;
  perSec: number;
  hitRate: number;
}

function main(): void {
  const r = rng(7);
  const v4 = new Uint32Array(N);
  for (let i = 0; i < N; i++) v4[i] = r();
  const v6 = new Uint32Array(N * 4);
  for (let i = 0; i < N * 4; i++) v6[i] = r();
  const out4 = new Uint32Array(N);
  const out6 = new Uint32Array(N * 4);
  const rows: Row[] = [];

  const measure = (
    family: 4 | 6,
    api: 'single' | 'batch',
    cache: 'cold' | 'warm',
    fn: (cp: CryptoPan) => void,
  ): void => {
    const cp = new CryptoPan(randomBytes(32));
    if (cache === 'warm')
      fn(cp); // fills the cache and warms the JIT
    else {
      // Warm the JIT on other addresses, then empty the cache so every measured lookup misses.
      const w = new Uint32Array(4096 * 4).map(() => r());
      if (family === 4) cp.pseudonymise4Many(w.subarray(0, 4096), new Uint32Array(4096));
      else cp.pseudonymise6Many(w, new Uint32Array(w.length));
      cp.clearCache();
    }
    const before = cp.stats();
    const t0 = performance.now();
    fn(cp);
    const s = (performance.now() - t0) / 1000;
    const after = cp.stats();
    const hits = family === 4 ? after.hits4 - before.hits4 : after.hits6 - before.hits6;
    const misses = family === 4 ? after.misses4 - before.misses4 : after.misses6 - before.misses6;
    const n = hits + misses;
    const row: Row = {
      bench: 'cryptopan',
      family,
      api,
      cache,
      n,
      perSec: Math.round(n / s),
      hitRate: n ? hits / n : 0,
    };
    rows.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  };

  const n6 = Math.min(N, 250_000); // IPv6 cold costs 112 AES blocks per address: keep the run short
  measure(4, 'single', 'cold', (cp) => {
    for (let i = 0; i < N; i++) out4[i] = cp.pseudonymise4(v4[i]!);
  });
  measure(4, 'batch', 'cold', (cp) => cp.pseudonymise4Many(v4, out4, N));
  measure(4, 'single', 'warm', (cp) => {
    for (let i = 0; i < N; i++) out4[i] = cp.pseudonymise4(v4[i & (WARM_SET - 1)]!);
  });
  measure(4, 'batch', 'warm', (cp) => {
    for (let o = 0; o < N; o += WARM_SET)
      cp.pseudonymise4Many(v4.subarray(0, WARM_SET), out4.subarray(o), Math.min(WARM_SET, N - o));
  });
  measure(6, 'single', 'cold', (cp) => {
    for (let i = 0; i < n6; i++) cp.pseudonymise6(v6, out6, i * 4, i * 4);
  });
  measure(6, 'batch', 'cold', (cp) => cp.pseudonymise6Many(v6, out6, n6));
  measure(6, 'single', 'warm', (cp) => {
    for (let i = 0; i < N; i++) cp.pseudonymise6(v6, out6, (i & (WARM_SET - 1)) * 4, 0);
  });
  measure(6, 'batch', 'warm', (cp) => {
    for (let o = 0; o < N; o += WARM_SET)
      cp.pseudonymise6Many(v6.subarray(0, WARM_SET * 4), out6, Math.min(WARM_SET, N - o));
  });

  const get = (f: 4 | 6, api: string, c: string): string =>
    `${((rows.find((x) => x.family === f && x.api === api && x.cache === c)?.perSec ?? 0) / 1e6).toFixed(2)}M`;
  process.stderr.write(
    `cryptopan addresses/s (one core): IPv4 cold ${get(4, 'single', 'cold')} single / ${get(4, 'batch', 'cold')} batch, ` +
      `warm ${get(4, 'single', 'warm')} / ${get(4, 'batch', 'warm')}; IPv6 cold ${get(6, 'single', 'cold')} / ${get(6, 'batch', 'cold')}, ` +
      `warm ${get(6, 'single', 'warm')} / ${get(6, 'batch', 'warm')}\n`,
  );
}

main();
