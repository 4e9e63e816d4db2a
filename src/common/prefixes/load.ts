/**
 * Loads the packaged border and ASN sources (`@ip-location-db/geo-whois-asn-country` and
 * `@ip-location-db/asn`, IPv4 + IPv6 "num" CSVs) into a `PrefixTable`, through a binary cache
 * under `data/cache/` keyed by both package versions: parsing the CSVs takes a few seconds, reading
 * the cache tens of milliseconds. A missing, stale or corrupt cache is rebuilt; failing to write
 * one is reported, not fatal (a read-only deployment still starts, just slower).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { AsnTableBuilder, CountryTableBuilder } from './build.ts';
import { CACHE_FORMAT, deserializeTables, serializeTables } from './cache.ts';
import { parseAsnCsv, parseCountryCsv } from './csv.ts';
import { parseDelegated, type DelegatedResult } from './delegated.ts';
import { AcdError } from '../errors.ts';
import { PrefixSourceError } from './errors.ts';
import { PrefixTable } from './table.ts';
import type { AsnTable, CountryTable, SourceVersion } from './types.ts';

/** npm name of the country source. */
export const COUNTRY_PACKAGE = '@ip-location-db/geo-whois-asn-country';
/** npm name of the ASN source. */
export const ASN_PACKAGE = '@ip-location-db/asn';
/** Default cache directory (relative to the working directory, like the rest of `./data`). */
export const DEFAULT_CACHE_DIR = 'data/cache';

/** Options of `loadPrefixTable`. */
export interface LoadPrefixOptions {
  /** Cache directory; `false` disables the cache (always parse). Default `data/cache`. */
  cacheDir?: string | false;
  /** Directory of the country package (default: resolved from node_modules). */
  countryPackageDir?: string;
  /** Directory of the ASN package (default: resolved from node_modules). */
  asnPackageDir?: string;
}

/** What `loadPrefixTable` did, for start-up logs and the benchmark. */
export interface LoadReport {
  from: 'cache' | 'csv';
  /** Wall time of the whole load, ms. */
  ms: number;
  /** Cache file read or written, if any. */
  cacheFile?: string;
  /** Why the cache was not read (absent, stale, corrupt) or could not be written. */
  cacheNote?: string;
  /** Rows in the sources (csv) and in the flattened table. */
  rows?: { csv: number; table: number };
}

function packageDir(name: string, override: string | undefined): string {
  if (override !== undefined) return override;
  try {
    return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
  } catch (err) {
    throw new PrefixSourceError(`package ${name} is not installed (npm install)`, { cause: err });
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new PrefixSourceError(`cannot read ${path}`, { cause: err });
  }
}

async function packageVersion(dir: string, name: string): Promise<SourceVersion> {
  const text = await readText(join(dir, 'package.json'));
  let version: unknown;
  try {
    version = (JSON.parse(text) as { version?: unknown }).version;
  } catch (err) {
    throw new PrefixSourceError(`${dir}/package.json is not JSON`, { cause: err });
  }
  if (typeof version !== 'string' || !/^[0-9A-Za-z.+-]{1,64}$/.test(version))
    throw new PrefixSourceError(`${dir}/package.json has no usable version`);
  return { source: name, version };
}

/** Parses the packaged CSVs (no cache). Exposed for the benchmark and tests. */
export async function parsePackagedTables(
  countryDir: string,
  asnDir: string,
): Promise<{ country: CountryTable; asn: AsnTable; csvRows: number }> {
  const [cv, av] = await Promise.all([
    packageVersion(countryDir, COUNTRY_PACKAGE),
    packageVersion(asnDir, ASN_PACKAGE),
  ]);
  const files = {
    c4: join(countryDir, 'geo-whois-asn-country-ipv4-num.csv'),
    c6: join(countryDir, 'geo-whois-asn-country-ipv6-num.csv'),
    a4: join(asnDir, 'asn-ipv4-num.csv'),
    a6: join(asnDir, 'asn-ipv6-num.csv'),
  };
  const [c4, c6, a4, a6] = await Promise.all([
    readText(files.c4),
    readText(files.c6),
    readText(files.a4),
    readText(files.a6),
  ]);
  const cb = new CountryTableBuilder();
  const ab = new AsnTableBuilder();
  let csvRows = parseCountryCsv(c4, files.c4, 4, cb);
  csvRows += parseCountryCsv(c6, files.c6, 6, cb);
  csvRows += parseAsnCsv(a4, files.a4, 4, ab);
  csvRows += parseAsnCsv(a6, files.a6, 6, ab);
  return { country: cb.build(cv), asn: ab.build(av), csvRows };
}

const slug = (s: string): string => s.replace(/[^0-9A-Za-z.-]+/g, '_');

/**
 * Loads the packaged table (from the cache when it matches both package versions). Throws
 * `PrefixSourceError` when a package is missing and `PrefixParseError` when a CSV is malformed.
 */
export async function loadPrefixTable(
  options: LoadPrefixOptions = {},
): Promise<{ table: PrefixTable; report: LoadReport }> {
  const t0 = performance.now();
  const countryDir = packageDir(COUNTRY_PACKAGE, options.countryPackageDir);
  const asnDir = packageDir(ASN_PACKAGE, options.asnPackageDir);
  const cacheDir = options.cacheDir === undefined ? DEFAULT_CACHE_DIR : options.cacheDir;
  let cacheFile: string | undefined;
  let cacheNote: string | undefined;
  if (cacheDir !== false) {
    const [cv, av] = await Promise.all([
      packageVersion(countryDir, COUNTRY_PACKAGE),
      packageVersion(asnDir, ASN_PACKAGE),
    ]);
    cacheFile = resolve(
      cacheDir,
      `prefixes-f${CACHE_FORMAT}-country-${slug(cv.version)}-asn-${slug(av.version)}.bin`,
    );
    try {
      const { country, asn } = deserializeTables(await readFile(cacheFile));
      // The file name carries the versions; the header must agree (a renamed file is not trusted).
      if (country.version.version === cv.version && asn.version.version === av.version) {
        return {
          table: new PrefixTable(country, asn),
          report: { from: 'cache', ms: performance.now() - t0, cacheFile },
        };
      }
      cacheNote = 'cache header versions differ from the file name';
    } catch (err) {
      cacheNote = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no cache yet' : (err as Error).message;
    }
  }
  const { country, asn, csvRows } = await parsePackagedTables(countryDir, asnDir);
  if (cacheFile !== undefined) {
    try {
      await mkdir(dirname(cacheFile), { recursive: true });
      // Write then rename, so a concurrent reader never sees half a file.
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      await writeFile(tmp, serializeTables(country, asn));
      await rename(tmp, cacheFile);
    } catch (err) {
      cacheNote = `cache not written: ${err instanceof AcdError ? err.message : (err as Error).message}`;
    }
  }
  const report: LoadReport = {
    from: 'csv',
    ms: performance.now() - t0,
    rows: {
      csv: csvRows,
      table: country.v4Values.length + country.v6Values.length + asn.v4Asn.length + asn.v6Asn.length,
    },
  };
  if (cacheFile !== undefined) report.cacheFile = cacheFile;
  if (cacheNote !== undefined) report.cacheNote = cacheNote;
  return { table: new PrefixTable(country, asn), report };
}

/**
 * Replaces the country half of `base` with a delegated(-extended) file (what
 * `acd prefixes update FILE` needs); the ASN half stays. Throws `PrefixParseError`.
 */
export async function loadDelegatedCountry(
  base: PrefixTable,
  file: string,
): Promise<{ table: PrefixTable; result: DelegatedResult }> {
  const result = parseDelegated(await readText(file), { source: file });
  return { table: new PrefixTable(result.table, base.asn), result };
}
