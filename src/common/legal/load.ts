/**
 * Loading the legal-parameter table: the file shipped with the code (`parameters.json`, beside
 * this module) plus an optional override file (JSON or YAML) that adds versions, e.g. when a
 * Cabinet order fixes a number. Reading is the only I/O; validation names the failing key.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { LegalParameterError } from './errors.ts';
import { LegalParameterTable, validateLegalParameterFile, type LegalParameterFile } from './table.ts';

/** Label of the shipped file in error keys. */
export const SHIPPED_LEGAL_PARAMETERS = 'parameters.json';

const SHIPPED_URL = new URL('./parameters.json', import.meta.url);

function parseText(text: string, label: string): LegalParameterFile {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new LegalParameterError(label, 'neither JSON nor YAML', { cause: err });
  }
  return validateLegalParameterFile(value, label);
}

/** The shipped file, parsed and validated (synchronous: it is small and part of the code). */
export function shippedLegalParameterFile(): LegalParameterFile {
  let text: string;
  try {
    text = readFileSync(SHIPPED_URL, 'utf8');
  } catch (err) {
    throw new LegalParameterError(SHIPPED_LEGAL_PARAMETERS, 'cannot read the shipped legal parameters', {
      cause: err,
    });
  }
  return parseText(text, SHIPPED_LEGAL_PARAMETERS);
}

/** The table of the shipped file alone (offline tools, tests, demo). */
export function shippedLegalParameters(): LegalParameterTable {
  return new LegalParameterTable([{ label: SHIPPED_LEGAL_PARAMETERS, file: shippedLegalParameterFile() }]);
}

/**
 * Loads the shipped table plus `overrideFile` (JSON or YAML with the same format) when given.
 * Throws `LegalParameterError` naming the file and key.
 */
export async function loadLegalParameters(overrideFile?: string): Promise<LegalParameterTable> {
  const files = [{ label: SHIPPED_LEGAL_PARAMETERS, file: shippedLegalParameterFile() }];
  if (overrideFile !== undefined) {
    let text: string;
    try {
      text = await readFile(overrideFile, 'utf8');
    } catch (err) {
      throw new LegalParameterError(overrideFile, 'cannot read the legal-parameter override', { cause: err });
    }
    files.push({ label: overrideFile, file: parseText(text, overrideFile) });
  }
  return new LegalParameterTable(files);
}

/** Builds a table from in-memory files (tests, `acd config check`). */
export function legalParametersFrom(
  files: readonly { label: string; value: unknown }[],
): LegalParameterTable {
  return new LegalParameterTable(
    files.map((f) => ({ label: f.label, file: validateLegalParameterFile(f.value, f.label) })),
  );
}
