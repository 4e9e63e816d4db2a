/**
 * The synthetic country of the simulator (issue 4): providers, exporters, subscribers, foreign
 * hosts and critical-infrastructure operators, plus the operators file. See README.md.
 */
export { CountryConfigSchema, resolveCountryConfig, EXPORT_FORMATS, type CountryConfig } from './config.ts';
export { CountryModelError, OperatorsFileError } from './errors.ts';
export {
  buildCountryModel,
  countryModelToJson,
  type CountryModel,
  type Provider,
  type ProviderPrefix,
  type PrefixRole,
  type Exporter,
  type Server,
  type ForeignHost,
  type ForeignRole,
  type Operator,
  type OperatorRange,
  type ImportantSystem,
  type Contact,
  type Agreement,
} from './model.ts';
export {
  OPERATORS_SCHEMA_ID,
  OperatorsFileSchema,
  operatorsFileOf,
  operatorsFileToJson,
  readOperatorsFile,
  validateOperatorsFile,
  writeOperatorsFile,
  type OperatorsFile,
} from './operators-file.ts';
export { Rng } from './random.ts';
export { SECTORS, SECTOR_STYLE, type Sector } from './sectors.ts';
