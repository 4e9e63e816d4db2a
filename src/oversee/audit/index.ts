/**
 * Public surface of the tamper-evident audit log (issue 8, R-OVS-3): the hash chain, signed
 * checkpoints, aggregation of live-view reads, verification, the export file and the centre's hooks.
 */
export {
  AuditInputError,
  AuditClosedError,
  CheckpointFileError,
  AuditExportError,
  AuditChainBrokenError,
} from './errors.ts';
export { AuditConfigSchema, resolveAuditConfig, type AuditConfig, type AuditConfigInput } from './config.ts';
export {
  auditHash,
  auditPreimage,
  auditEntryId,
  AuditRecordSchema,
  MAX_AUDIT_DETAIL_BYTES,
  MAX_AUDIT_NAME,
  MAX_AUDIT_OBJECT_ID,
  MAX_AUDIT_OBJECT_IDS,
} from './chain.ts';
export {
  signCheckpoint,
  checkpointFault,
  appendCheckpointFile,
  readCheckpointFile,
  lastCheckpointInFile,
  ndjsonLines,
  CheckpointSchema,
  CHECKPOINT_FORMAT,
  CHECKPOINT_CONTENT_TYPE,
  MAX_CHECKPOINT_FILE_BYTES,
  type Checkpoint,
  type Located,
} from './checkpoint.ts';
export {
  createAuditLog,
  normaliseAuditInput,
  type NormalisedInput,
  type AuditLog,
  type AuditLogDeps,
  type AuditInput,
  type AuditKeySource,
  type ReadSession,
} from './log.ts';
export {
  verifyChain,
  verifyExport,
  MAX_EXPORT_BYTES,
  MAX_EXPORT_LINE_BYTES,
  type ChainProblem,
  type ChainProblemKind,
  type ChainVerdict,
  type VerifyChainOptions,
} from './verify.ts';
export { EXPORT_FORMAT, ExportHeaderSchema, signHeader, headerFault, type ExportHeader } from './format.ts';
export {
  buildExport,
  readAllAudit,
  readCheckpoints,
  MAX_EXPORT_ENTRIES,
  type AuditExport,
  type ExportOptions,
} from './export.ts';
export { createAuditHooks, type AuditHooks, type AuditHooksOptions, type AuditedRequest } from './hooks.ts';
export {
  auditPlugin,
  auditEntryJson,
  parseAuditCursor,
  verifyStoredChain,
  DEFAULT_AUDIT_PAGE,
  type AuditPluginDeps,
  type AuditPublicKeySource,
  type AuditVerifyResponse,
  type AuditEntryJson,
} from './routes.ts';
