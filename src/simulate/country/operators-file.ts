/**
 * The simulator's side of the operators file: the file of a synthetic country. The schema,
 * validation and reading live in src/common/operators (the centre and the edges load the file).
 */
import { writeFile } from 'node:fs/promises';
import {
  OPERATORS_SCHEMA_ID,
  operatorsFileToJson,
  type OperatorsFile,
} from '../../common/operators/index.ts';
import type { CountryModel } from './model.ts';

export {
  OPERATORS_SCHEMA_ID,
  OperatorsFileSchema,
  operatorsFileToJson,
  readOperatorsFile,
  validateOperatorsFile,
  type OperatorsFile,
} from '../../common/operators/index.ts';

/** The operators file of a model (what `writeOperatorsFile` writes). */
export function operatorsFileOf(model: CountryModel): OperatorsFile {
  return {
    schema: OPERATORS_SCHEMA_ID,
    domesticCountry: model.domesticCountry,
    generatedBy: { tool: 'acd generate', seed: model.seed, tableVersion: model.tableVersion },
    providers: model.providers.map((p) => ({ id: p.id, name: p.name, asn: p.asn })),
    operators: model.operators,
  };
}

/** Writes the operators file of a model. */
export async function writeOperatorsFile(path: string, model: CountryModel): Promise<void> {
  await writeFile(path, operatorsFileToJson(operatorsFileOf(model)));
}
