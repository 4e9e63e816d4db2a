/**
 * Legal parameters as versioned data with effective dates (REQUIREMENTS R-NF-2, R-RET-1;
 * DESIGN section 6).
 */
export { LegalParameterError } from './errors.ts';
export {
  addLegalDuration,
  parseLegalDuration,
  maxLegalDurationMs,
  LEGAL_DURATION_PATTERN,
  type LegalDuration,
  type LegalDurationUnit,
} from './duration.ts';
export {
  LegalParameterTable,
  LegalParameters,
  LegalParameterFileSchema,
  LegalParameterVersionSchema,
  LEGAL_PARAMETERS_FORMAT,
  DEADLINE_NAMES,
  REPORT_SECTIONS,
  type ReportSectionName,
  validateLegalParameterFile,
  type DeadlineName,
  type LegalParameterFile,
} from './table.ts';
export {
  loadLegalParameters,
  legalParametersFrom,
  shippedLegalParameters,
  shippedLegalParameterFile,
  SHIPPED_LEGAL_PARAMETERS,
} from './load.ts';
