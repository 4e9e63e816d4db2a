/**
 * Lawful automatic selection at the provider edge (REQUIREMENTS R-FEED, R-SEL, R-RET-1; DESIGN
 * sections 5-6). What other components may use; see README.md for the rules and their tests.
 */
export {
  createSelectionEngine,
  type SelectionEngine,
  type SelectionEngineDeps,
  type KeySource,
  type ProtocolOf,
  type BatchSelection,
  type RecordSelection,
} from './selector.ts';
export {
  SelectionConfigSchema,
  FeedConfigSchema,
  resolveSelectionConfig,
  canonicalExporter,
  APPROVAL_CHANNELS,
  AGREEMENT_CHANNELS,
  MAX_FEEDS,
  type SelectionConfig,
  type FeedConfig,
  type SelectionMode,
} from './config.ts';
export {
  type FeedEvent,
  type FeedStatus,
  type FeedState,
  type OperatorRegistry,
  type RevocationResult,
} from './feeds.ts';
export { FeedActivationError, RevocationRefusedError, type FeedActivationCode } from './errors.ts';
export {
  DROP_REASONS,
  addStats,
  type DropReason,
  type DropCounts,
  type SelectionStats,
  type FeedSelectionStats,
} from './stats.ts';
export { SelectedBatch, makeRecordId, type SelectionBasis, type BatchStamp } from './selected-batch.ts';
export {
  ALLOWED_FIELDS,
  ADDRESS_FIELDS,
  FLOW_FIELDS,
  DNS_FIELDS,
  SelectedRecordSchema,
  isValidSelectedRecord,
  selectedRecordProblem,
} from './allowlist.ts';
export { compileIndicators, IndicatorMatcher } from './selectors.ts';
export { AddressSet, DomainSet } from './sets.ts';
export { HASHED_NAME_SUFFIX } from './dns.ts';
export { demoSelectionConfig, type DemoSelection, type DemoSelectionOptions } from './demo.ts';
export { loadSelectionInputs, parseIndicatorList, type SelectionInputs } from './documents.ts';
export { ephemeralKeySource } from './keysource.ts';
