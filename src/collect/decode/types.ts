import type { DecodedRecord, RawDatagram, FlowBatch } from '../../common/schema/index.ts';

/** Export protocols this decoder session handles. */
export type ExportFormat = 'netflow5' | 'netflow9' | 'ipfix' | 'sflow5';

/**
 * Recoverable anomalies seen while decoding (CONVENTIONS habit 4). Every kind feeds a counter;
 * none is thrown. Events never carry record contents, only identities and numbers.
 */
export type DecodeEvent =
  | { kind: 'malformed'; protocol: string; exporter: string; reason: string; offset: number }
  | { kind: 'unsupported-version'; exporter: string; version: number }
  | { kind: 'template-missing'; exporter: string; observationDomainId: number; templateId: number }
  | {
      kind: 'template-added';
      exporter: string;
      observationDomainId: number;
      templateId: number;
      options: boolean;
    }
  | { kind: 'template-changed'; exporter: string; observationDomainId: number; templateId: number }
  | { kind: 'template-withdrawn'; exporter: string; observationDomainId: number; templateId: number }
  | { kind: 'template-expired'; exporter: string; observationDomainId: number; templateId: number }
  | { kind: 'pending-buffered'; exporter: string; observationDomainId: number; templateId: number }
  | {
      kind: 'pending-dropped';
      exporter: string;
      observationDomainId: number;
      templateId: number;
      reason: string;
    }
  | {
      kind: 'pending-decoded';
      exporter: string;
      observationDomainId: number;
      templateId: number;
      records: number;
    }
  | {
      kind: 'sequence-gap';
      exporter: string;
      observationDomainId: number;
      expected: number;
      received: number;
      lost: number;
    }
  | {
      kind: 'sequence-reorder';
      exporter: string;
      observationDomainId: number;
      expected: number;
      received: number;
    }
  | { kind: 'exporter-restart'; exporter: string; observationDomainId: number }
  | {
      kind: 'sampling-changed';
      exporter: string;
      observationDomainId: number;
      samplerId: number;
      interval: number;
    }
  | { kind: 'exporter-silent'; exporter: string; observationDomainId: number; silentForMs: number }
  | { kind: 'clock-offset'; exporter: string; observationDomainId: number; offsetMs: number }
  /** sFlow: a sample sequence number (per agent, sub-agent, data source and sample kind) jumped ahead. */
  | {
      kind: 'sample-sequence-gap';
      exporter: string;
      observationDomainId: number;
      sourceIdType: number;
      sourceIdIndex: number;
      sampleKind: 'flow' | 'counters';
      expected: number;
      received: number;
      lost: number;
    }
  /** sFlow: a sample arrived with an older sequence number than expected (reordered or duplicated). */
  | {
      kind: 'sample-sequence-reorder';
      exporter: string;
      observationDomainId: number;
      sourceIdType: number;
      sourceIdIndex: number;
      sampleKind: 'flow' | 'counters';
      expected: number;
      received: number;
    }
  /** sFlow: a data source restarted its sample numbering (a far step back); tracking starts over. */
  | {
      kind: 'sample-sequence-reset';
      exporter: string;
      observationDomainId: number;
      sourceIdType: number;
      sourceIdIndex: number;
      sampleKind: 'flow' | 'counters';
      expected: number;
      received: number;
    }
  /** sFlow: the agent's drop counter of a flow sampler grew (samples lost for lack of resources). */
  | {
      kind: 'sampling-drops';
      exporter: string;
      observationDomainId: number;
      sourceIdType: number;
      sourceIdIndex: number;
      drops: number;
    };

/** Where decoded records and events go. */
export interface DecodeSink {
  record(r: DecodedRecord): void;
  event?(e: DecodeEvent): void;
}

/** Where the hot path puts flows: the decoder calls `flush()` when `batch` is full, then keeps going. */
export interface BatchSink {
  readonly batch: FlowBatch;
  /** Hands the full batch on; must leave `batch` empty (e.g. by calling `batch.clear()`). */
  flush(): void;
}

/** Settings of a decoder session (see src/collect/config.ts for the documented schema). */
export interface DecoderSessionOptions {
  /** Templates not refreshed for this long are dropped (ms). RFC 7011 leaves it to the collector. */
  templateTimeoutMs: number;
  /** Data sets held while their template is unknown, per session (bounded; oldest dropped first). */
  pendingMaxSets: number;
  /** How long a pending data set waits for its template before it is dropped (ms). */
  pendingMaxAgeMs: number;
  /** An exporter/domain silent for this long raises `exporter-silent` (ms; 0 disables). */
  silenceAlarmMs: number;
  /** Per-exporter sampling overrides: exporter address -> interval (applies when the export says nothing). */
  samplingOverrides: Record<string, number>;
}

/**
 * A decoder session: one template/sequence/sampling state for many exporters, kept apart per
 * exporter address and observation domain. `decode` produces full records; `decodeToBatch` the
 * columnar hot-path representation from the same compiled templates. Neither throws.
 */
export interface DecoderSession {
  /**
   * Decodes one export message (any supported version, recognised from its header: NetFlow v5,
   * v9, IPFIX, or an sFlow v5 datagram, whose first 32-bit word is 5).
   */
  decode(d: RawDatagram, sink: DecodeSink): void;
  /**
   * Decodes flows into the batch sink; options records, sFlow counter records and events still go
   * to `sink` when given.
   */
  decodeToBatch(d: RawDatagram, out: BatchSink, sink?: DecodeSink): void;
  /** Housekeeping at wall time `nowMs`: template expiry, pending timeouts, silence alarms. */
  tick(nowMs: number, sink?: DecodeSink): void;
  /** Serialisable template and sampling state (persisted so a restart loses nothing). */
  exportState(): DecoderState;
  /** Restores state saved by `exportState`; invalid input throws `DecoderStateError`. */
  importState(state: unknown): void;
  /** Per exporter/observation-domain statistics (sequence accounting, clock offset, silence). */
  exporters(): ExporterStats[];
}

/**
 * Statistics of one exporter address + observation domain (sFlow: agent address + sub-agent id),
 * as tracked by a decoder session. Each protocol is tracked apart: an address that sends both
 * IPFIX and sFlow (or v9) has one entry per protocol.
 */
export interface ExporterStats {
  exporter: string;
  observationDomainId: number;
  /** Protocol of the messages counted here. */
  protocol: ExportFormat;
  /** Reception time of the last message (epoch ms). */
  lastSeen: number;
  datagrams: number;
  records: number;
  /**
   * Missing by sequence number, net of late arrivals: flows (v5), export packets (v9), data
   * records (IPFIX) or datagrams (sFlow), each protocol's own unit.
   */
  lost: number;
  /** Messages that arrived late, within the reorder window. */
  reordered: number;
  /** Exporter restarts detected (large backward sequence jump, or sysUptime going back). */
  restarts: number;
  /** Last measured receivedAt - export time (ms); null before the first message, and for sFlow (no wall clock). */
  clockOffsetMs: number | null;
  /** True while a silence alarm is raised (cleared by the next message). */
  silent: boolean;
  /** Templates held for this exporter/domain (0 for v5 and sFlow). */
  templates: number;
}

/**
 * Persisted session state: JSON-serialisable, versioned. sFlow needs none: every datagram carries
 * its sampling rate, and its sequence tracking starts over harmlessly after a restart.
 */
export interface DecoderState {
  version: 1;
  savedAt: number;
  templates: PersistedTemplate[];
  sampling: {
    exporter: string;
    /** The protocol whose options data taught the rate; absent in older state (read as IPFIX). */
    protocol?: 'netflow9' | 'ipfix';
    observationDomainId: number;
    samplerId: number;
    interval: number;
  }[];
}

/** One template as received (field specifiers only), enough to recompile it. */
export interface PersistedTemplate {
  exporter: string;
  protocol: 'netflow9' | 'ipfix';
  observationDomainId: number;
  templateId: number;
  /** Number of scope fields at the start of `fields` (options templates), else 0. */
  scopeCount: number;
  fields: { id: number; length: number; enterprise: number }[];
  lastSeen: number;
}
