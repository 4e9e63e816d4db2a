/**
 * Reading what the selection engine needs from files (the only I/O of selection; the CLI calls
 * it, the engine itself does none): signed documents, indicator lists, the operators file, the
 * legal-parameter override and the trusted keys. Errors name the configuration key or the file;
 * none contains file contents beyond what a key path says.
 */
import { readFile, stat } from 'node:fs/promises';
import { ConfigError } from '../common/errors.ts';
import { loadLegalParameters, type LegalParameterTable } from '../common/legal/index.ts';
import { TrustedKeyError, TrustedKeySet } from '../common/signing/index.ts';
import { MAX_PAYLOAD_BYTES } from '../common/signing/index.ts';
import { readOperatorsFile } from '../common/operators/index.ts';
import type { SelectionConfig } from './config.ts';
import type { OperatorRegistry } from './feeds.ts';

/** Largest documents file read: a few maximal documents. */
export const MAX_DOCUMENT_FILE_BYTES = 4 * MAX_PAYLOAD_BYTES;
/** Largest indicator list file read (a few million indicators). */
export const MAX_INDICATOR_FILE_BYTES = 256 * 1024 * 1024;

/** Everything the engine needs besides the prefix table, keys and clock. */
export interface SelectionInputs {
  documents: unknown[];
  indicatorLists: Record<string, string[]>;
  operators: OperatorRegistry | undefined;
  legal: LegalParameterTable;
  trustedKeys: TrustedKeySet;
}

async function readBounded(path: string, max: number, key: string): Promise<string> {
  try {
    const st = await stat(path);
    if (st.size > max) throw new ConfigError(key, `${path} is larger than ${max} bytes`);
    return await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(key, `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause: err,
    });
  }
}

/** Parses an indicator list file: one value per line; blank lines and `#` comments ignored. */
export function parseIndicatorList(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const v = line.replace(/#.*$/, '').trim();
    if (v.length > 0) out.push(v);
  }
  return out;
}

/** Reads the files named by the `select` section. `prefix` is the section's key path. */
export async function loadSelectionInputs(
  config: SelectionConfig,
  prefix = 'select',
): Promise<SelectionInputs> {
  const documents: unknown[] = [];
  for (const [i, path] of config.documents.entries()) {
    const key = `${prefix}.documents.${i}`;
    const text = await readBounded(path, MAX_DOCUMENT_FILE_BYTES, key);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(key, `${path} is not JSON`, { cause: err });
    }
    if (Array.isArray(value)) documents.push(...(value as unknown[]));
    else documents.push(value);
  }
  const indicatorLists: Record<string, string[]> = {};
  for (const [ref, path] of Object.entries(config.indicatorLists)) {
    indicatorLists[ref] = parseIndicatorList(
      await readBounded(path, MAX_INDICATOR_FILE_BYTES, `${prefix}.indicatorLists.${ref}`),
    );
  }
  const operators =
    config.operatorsFile !== undefined ? await readOperatorsFile(config.operatorsFile) : undefined;
  const legal = await loadLegalParameters(config.legalParametersFile);
  let trustedKeys: TrustedKeySet;
  try {
    trustedKeys = TrustedKeySet.fromConfig(config.trustedKeys);
  } catch (err) {
    if (err instanceof TrustedKeyError)
      throw new ConfigError(`${prefix}.${err.key.replace(/\[(\d+)\]/g, '.$1')}`, err.message, { cause: err });
    throw err;
  }
  return { documents, indicatorLists, operators, legal, trustedKeys };
}
