/**
 * Public surface of the retention job (issue 8, R-RET-1, R-RET-2, R-NF-2): the job and its
 * scheduler, holds from approved retention-extension cases, signed deletion certificates and their
 * verification, the API routes and the configuration.
 */
export { RetentionHoldError, CertificateFileError, CertificateInvalidError } from './errors.ts';
export {
  RetentionConfigSchema,
  resolveRetentionConfig,
  DEFAULT_RETENTION_INTERVAL_MS,
  type RetentionConfig,
  type RetentionConfigInput,
} from './config.ts';
export {
  createRetentionJob,
  RETENTION_SYSTEM_ACTOR,
  type RetentionJob,
  type RetentionJobDeps,
  type RetentionPurger,
  type CertificateSigner,
  type RunBy,
  type RetentionRun,
  type RetentionStatus,
  type PartitionStatus,
  type LastRun,
} from './job.ts';
export {
  collectHolds,
  holdOfCase,
  MAX_EXTENSION_CASES,
  MAX_HOLD_DAYS,
  MAX_HOLD_INCIDENTS,
  type RetentionHold,
} from './holds.ts';
export {
  signCertificate,
  verifyCertificate,
  appendCertificateFile,
  readCertificateFile,
  certificateFileOf,
  DeletionCertificateSchema,
  CERTIFICATE_FORMAT,
  MAX_CERTIFICATE_FILE_BYTES,
  type DeletionCertificate,
  type CertificateVerdict,
} from './certificate.ts';
export { retentionPlugin, certificateJson, RETENTION_PATHS, RetentionStatusSchema } from './routes.ts';
export { retentionMetrics, type RetentionMetrics } from './metrics.ts';
