/**
 * The border/ASN table the edge classifies endpoints with (R-FEED-3): the packaged registry table,
 * or the file `acd prefixes update` wrote from a newer RIR delegated-extended file. The file is the
 * binary cache format of src/common/prefixes/cache.ts, replaced atomically, so a running edge can
 * re-read it at any moment and never sees half a table.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  deserializeTables,
  loadPrefixTable,
  serializeTables,
  PrefixTable,
} from '../../common/prefixes/index.ts';
import { PrefixSourceError } from '../../common/prefixes/errors.ts';

/** Where the table in use came from. */
export interface EdgeTableSource {
  kind: 'file' | 'packaged';
  /** The table file, for `file`. */
  path?: string;
  /** Modification time of the file when read (ms), to notice a newer one. */
  mtimeMs?: number;
}

/** Reads a table file written by {@link writePrefixTableFile}. Throws `PrefixSourceError`. */
export async function readPrefixTableFile(path: string): Promise<{ table: PrefixTable; mtimeMs: number }> {
  let bytes: Buffer;
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(path)).mtimeMs;
    bytes = await readFile(path);
  } catch (err) {
    throw new PrefixSourceError(`cannot read prefix table ${path}`, { cause: err });
  }
  const { country, asn } = deserializeTables(bytes);
  return { table: new PrefixTable(country, asn), mtimeMs };
}

/**
 * The table the edge starts with: `prefixTableFile` when set and present, else the packaged table
 * (through its cache). A configured file that does not exist yet is not an error: the operator may
 * configure the path before the first `acd prefixes update`; `note` says so for the log.
 */
export async function loadEdgePrefixTable(o: {
  prefixTableFile: string;
  prefixCacheDir: string;
}): Promise<{ table: PrefixTable; source: EdgeTableSource; note?: string }> {
  if (o.prefixTableFile !== '') {
    let exists = true;
    try {
      await stat(o.prefixTableFile);
    } catch {
      exists = false;
    }
    if (exists) {
      const { table, mtimeMs } = await readPrefixTableFile(o.prefixTableFile);
      return { table, source: { kind: 'file', path: o.prefixTableFile, mtimeMs } };
    }
    const { table } = await loadPrefixTable({ cacheDir: o.prefixCacheDir });
    return {
      table,
      source: { kind: 'packaged' },
      note: `prefix table file ${o.prefixTableFile} does not exist yet (run acd prefixes update); using the packaged table`,
    };
  }
  const { table } = await loadPrefixTable({ cacheDir: o.prefixCacheDir });
  return { table, source: { kind: 'packaged' } };
}

/** Writes a table file atomically (temporary file, fsync, rename), mode 0644: it holds public data. */
export async function writePrefixTableFile(path: string, table: PrefixTable): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await rm(tmp, { force: true });
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    await fh.writeFile(serializeTables(table.country, table.asn));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/** Rows of `country` (IPv4 + IPv6) in a table: a table without any is not a border table. */
export function countryRows(table: PrefixTable, country: string): number {
  const idx = table.country.countries.indexOf(country);
  if (idx < 0) return 0;
  let n = 0;
  for (const v of table.country.v4Values) if (v === idx) n++;
  for (const v of table.country.v6Values) if (v === idx) n++;
  return n;
}
