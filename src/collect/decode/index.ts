/**
 * Public surface of the flow-export decoders (CONVENTIONS habit 7): the session, its types and
 * errors, the named limits, value formatters and the metric names. Everything else is internal.
 */
export { createDecoderSession, type DecoderSessionDeps } from './session.ts';
export type {
  BatchSink,
  DecodeEvent,
  DecodeSink,
  DecoderSession,
  DecoderSessionOptions,
  DecoderState,
  ExportFormat,
  ExporterStats,
  PersistedTemplate,
} from './types.ts';
export { DecoderStateError } from './errors.ts';
export * from './limits.ts';
export { MALFORMED_REASONS, type MalformedReason } from './metrics.ts';
export { V9_SCOPE_NAMES } from './netflow9.ts';
export { ipv4At, ipv4String, ipv6At, ipv6FromWords, macAt, hexAt } from './values.ts';
