/** The critical-infrastructure operators registry file (DESIGN section 6) and its sectors. */
export {
  OPERATORS_SCHEMA_ID,
  OperatorsFileSchema,
  operatorsFileToJson,
  readOperatorsFile,
  validateOperatorsFile,
  type OperatorsFile,
} from './file.ts';
export { OperatorsFileError } from './errors.ts';
export { SECTORS, type Sector } from './sectors.ts';
