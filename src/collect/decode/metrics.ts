import type { Counter, Gauge, MetricsRegistry } from '../../common/metrics.ts';

/** Reasons a message, set or record is counted as malformed (the `reason` label; a closed set). */
export const MALFORMED_REASONS = [
  'short-header',
  'length-mismatch',
  'set-length',
  'too-many-sets',
  'reserved-set-id',
  'template-truncated',
  'template-id',
  'template-too-many-fields',
  'template-scope-count',
  'template-empty-record',
  'template-limit',
  'record-truncated',
  'varlen-too-long',
  'too-many-records',
  'list-too-deep',
  'list-too-many-elements',
  'list-malformed',
  'list-template-missing',
  'v5-count',
  'domain-limit',
  /** sFlow: a malformed datagram, sample or record (the event's `reason` says which). */
  'sflow',
] as const;

/** One of `MALFORMED_REASONS`. */
export type MalformedReason = (typeof MALFORMED_REASONS)[number];

/** The protocols of this decoder session (the `protocol` label). */
export const DECODE_PROTOCOLS = ['netflow5', 'netflow9', 'ipfix', 'sflow5'] as const;
/** One of `DECODE_PROTOCOLS`. */
export type DecodeProtocol = (typeof DECODE_PROTOCOLS)[number];
type Proto = DecodeProtocol;

/**
 * Decoder metrics, registered on the given registry (rendered with prefix `acd_`, counters with
 * suffix `_total`):
 *
 * - `decode_datagrams{protocol}` — export messages decoded, by protocol.
 * - `decode_records{protocol,type}` — records produced, by protocol and record type
 *   (flow|options; sflow5: flow|counters).
 * - `decode_malformed{reason}` — malformed messages, sets, templates or records, by reason.
 * - `decode_unsupported_versions` — messages whose version is not 5, 9 or 10.
 * - `decode_templates_added`, `decode_templates_changed`, `decode_templates_withdrawn`,
 *   `decode_templates_expired` — template lifecycle; gauge `decode_templates_held`.
 * - `decode_pending_buffered`, `decode_pending_decoded` — data sets held for a missing template and
 *   decoded once it arrived; `decode_pending_dropped{reason}` (overflow|timeout).
 * - `decode_sequence_lost{protocol}` — records (v5, IPFIX), export packets (v9) or datagrams
 *   (sFlow) missing by sequence number.
 * - `decode_sequence_reordered{protocol}` — messages that arrived late within the reorder window.
 * - `decode_exporter_restarts{protocol}` — sequence or uptime jumps read as exporter restarts.
 * - `decode_exporters_silent` — silence alarms raised (one per silence).
 * - `decode_sampling_changes` — sampling rates learnt or changed from options data.
 * - `decode_sflow_samples_lost` — sFlow samples missing by their per-source sequence numbers.
 * - `decode_sflow_sampling_drops` — samples the sFlow agents dropped (their drop counters' growth).
 * - `decode_sflow_state_evicted{what}` — sFlow agents or data sources forgotten at the state limits.
 *
 * Label children are resolved once here; the decoder increments plain objects.
 */
export class DecoderMetrics {
  readonly datagrams: Record<Proto, Counter>;
  readonly flows: Record<Proto, Counter>;
  readonly options: Record<Proto, Counter>;
  readonly malformed: Record<MalformedReason, Counter>;
  readonly unsupported: Counter;
  readonly templatesAdded: Counter;
  readonly templatesChanged: Counter;
  readonly templatesWithdrawn: Counter;
  readonly templatesExpired: Counter;
  readonly templatesHeld: Gauge;
  readonly pendingBuffered: Counter;
  readonly pendingDecoded: Counter;
  readonly pendingDropped: Record<'overflow' | 'timeout', Counter>;
  readonly lost: Record<Proto, Counter>;
  readonly reordered: Record<Proto, Counter>;
  readonly restarts: Record<Proto, Counter>;
  readonly silent: Counter;
  readonly samplingChanges: Counter;
  /** sFlow counter records (the `counters` record type exists for sFlow only). */
  readonly counters: Counter;
  readonly sflowSamplesLost: Counter;
  readonly sflowSamplingDrops: Counter;
  readonly sflowAgentsEvicted: Counter;
  readonly sflowSourcesEvicted: Counter;

  constructor(reg: MetricsRegistry, templatesHeld: () => number) {
    const perProto = (c: Counter, extra: Record<string, string> = {}): Record<Proto, Counter> => ({
      netflow5: c.labels({ protocol: 'netflow5', ...extra }),
      netflow9: c.labels({ protocol: 'netflow9', ...extra }),
      ipfix: c.labels({ protocol: 'ipfix', ...extra }),
      sflow5: c.labels({ protocol: 'sflow5', ...extra }),
    });
    this.datagrams = perProto(reg.counter('decode_datagrams', 'Export messages decoded, by protocol.'));
    const records = reg.counter('decode_records', 'Records decoded, by protocol and record type.');
    this.flows = perProto(records, { type: 'flow' });
    this.options = perProto(records, { type: 'options' });
    this.counters = records.labels({ protocol: 'sflow5', type: 'counters' });
    const malformed = reg.counter('decode_malformed', 'Malformed messages, sets, templates or records.');
    this.malformed = Object.fromEntries(
      MALFORMED_REASONS.map((r) => [r, malformed.labels({ reason: r })]),
    ) as Record<MalformedReason, Counter>;
    this.unsupported = reg.counter('decode_unsupported_versions', 'Messages of an unsupported version.');
    this.templatesAdded = reg.counter('decode_templates_added', 'Templates learnt.');
    this.templatesChanged = reg.counter('decode_templates_changed', 'Templates redefined with other fields.');
    this.templatesWithdrawn = reg.counter('decode_templates_withdrawn', 'Templates withdrawn by exporters.');
    this.templatesExpired = reg.counter('decode_templates_expired', 'Templates dropped after the timeout.');
    this.templatesHeld = reg.gauge('decode_templates_held', 'Templates currently held.', templatesHeld);
    this.pendingBuffered = reg.counter('decode_pending_buffered', 'Data sets held for a missing template.');
    this.pendingDecoded = reg.counter('decode_pending_decoded', 'Held data sets decoded after all.');
    const dropped = reg.counter('decode_pending_dropped', 'Held data sets dropped, by reason.');
    this.pendingDropped = {
      overflow: dropped.labels({ reason: 'overflow' }),
      timeout: dropped.labels({ reason: 'timeout' }),
    };
    this.lost = perProto(reg.counter('decode_sequence_lost', 'Records/packets missing by sequence number.'));
    this.reordered = perProto(reg.counter('decode_sequence_reordered', 'Messages that arrived late.'));
    this.restarts = perProto(reg.counter('decode_exporter_restarts', 'Exporter restarts detected.'));
    this.silent = reg.counter('decode_exporters_silent', 'Exporter silence alarms raised.');
    this.samplingChanges = reg.counter('decode_sampling_changes', 'Sampling rates learnt or changed.');
    this.sflowSamplesLost = reg.counter(
      'decode_sflow_samples_lost',
      'sFlow samples missing by sequence number.',
    );
    this.sflowSamplingDrops = reg.counter('decode_sflow_sampling_drops', 'Samples dropped by sFlow agents.');
    const evicted = reg.counter(
      'decode_sflow_state_evicted',
      'sFlow agents or sources forgotten at a limit.',
    );
    this.sflowAgentsEvicted = evicted.labels({ what: 'agent' });
    this.sflowSourcesEvicted = evicted.labels({ what: 'source' });
  }
}
