import type { Counter, Gauge, MetricsRegistry } from '../common/metrics.ts';

/**
 * Counters of the live collection path (listeners, queue, collector, output). Created once per
 * registry and kept as fields so the hot path increments plain objects (no lookups per packet).
 * Names carry the `collect_` prefix so they never collide with the decoder session's own counters.
 */
export interface CollectMetrics {
  /** UDP datagrams handed to the queue by the socket callbacks (accepted or dropped). */
  readonly udpDatagrams: Counter;
  /** Bytes of those UDP datagrams. */
  readonly udpBytes: Counter;
  /** Socket errors reported by UDP listeners (the listener keeps running). */
  readonly udpErrors: Counter;
  /** TCP connections accepted. */
  readonly tcpAccepted: Counter;
  /** TCP connections refused because `maxConnections` were already open. */
  readonly tcpRejected: Counter;
  /** TCP connections closed because the framer found the stream corrupt. */
  readonly tcpCorrupt: Counter;
  /** TCP connections closed after `idleTimeoutMs` without data. */
  readonly tcpIdleClosed: Counter;
  /** TCP connections closed for any reason. */
  readonly tcpClosed: Counter;
  /** IPFIX messages framed off TCP streams. */
  readonly tcpMessages: Counter;
  /** Bytes read from TCP streams. */
  readonly tcpBytes: Counter;
  /** Times a TCP socket was paused because the queue was (nearly) full: back-pressure, not loss. */
  readonly tcpPaused: Counter;
  /** Open TCP connections. */
  readonly tcpConnections: Gauge;
  /** Messages accepted into the queue. */
  readonly queueEnqueued: Counter;
  /** Messages dropped because the queue was full (UDP only; TCP pushes back instead). */
  readonly queueDropped: Counter;
  /** Messages taken off the queue and decoded. */
  readonly queueDrained: Counter;
  /** Messages waiting in the queue. */
  readonly queueDepth: Gauge;
  /** dnstap sender connections accepted. */
  readonly dnstapAccepted: Counter;
  /** dnstap connections refused because the listener's connection limit was reached. */
  readonly dnstapRejected: Counter;
  /** dnstap connections closed for any reason. */
  readonly dnstapClosed: Counter;
  /** dnstap connections closed because the stream broke Frame Streams. */
  readonly dnstapCorrupt: Counter;
  /** dnstap connections closed for not completing the handshake in time (or idle). */
  readonly dnstapTimedOut: Counter;
  /** Bytes read from dnstap connections. */
  readonly dnstapBytes: Counter;
  /** dnstap data frames read. */
  readonly dnstapFrames: Counter;
  /** DNS events decoded from dnstap frames. */
  readonly dnstapEvents: Counter;
  /** dnstap frames that were not usable, plus DNS messages in them that could not be read fully. */
  readonly dnstapMalformed: Counter;
  /** Open dnstap sender connections. */
  readonly dnstapConnections: Gauge;
  /** Records decoded, labelled by `type` (flow, options, counters, dns, ...). */
  readonly records: Counter;
  /** Decoder events, labelled by `kind` (sequence-gap, template-missing, ...). */
  readonly events: Counter;
  /** Records the exporters' sequence numbers say were lost before reaching us. */
  readonly sequenceLost: Counter;
  /** Records written to the output. */
  readonly outputRecords: Counter;
  /** Times the output stream asked us to wait (`write()` returned false). */
  readonly outputBackpressure: Counter;
  /** Template state files written / failed. */
  readonly stateSaved: Counter;
  readonly stateErrors: Counter;
}

/** Creates (or finds, on a shared registry) the collection counters. */
export function createCollectMetrics(m: MetricsRegistry): CollectMetrics {
  return {
    udpDatagrams: m.counter('collect_udp_datagrams', 'UDP datagrams received by the listeners'),
    udpBytes: m.counter('collect_udp_bytes', 'bytes of UDP datagrams received'),
    udpErrors: m.counter('collect_udp_errors', 'UDP socket errors'),
    tcpAccepted: m.counter('collect_tcp_connections_accepted', 'TCP connections accepted'),
    tcpRejected: m.counter('collect_tcp_connections_rejected', 'TCP connections refused at the limit'),
    tcpCorrupt: m.counter('collect_tcp_connections_corrupt', 'TCP connections closed on a corrupt stream'),
    tcpIdleClosed: m.counter('collect_tcp_connections_idle', 'TCP connections closed when idle'),
    tcpClosed: m.counter('collect_tcp_connections_closed', 'TCP connections closed'),
    tcpMessages: m.counter('collect_tcp_messages', 'messages framed off TCP streams'),
    tcpBytes: m.counter('collect_tcp_bytes', 'bytes read from TCP streams'),
    tcpPaused: m.counter('collect_tcp_paused', 'TCP sockets paused by queue back-pressure'),
    tcpConnections: m.gauge('collect_tcp_connections', 'open TCP connections'),
    queueEnqueued: m.counter('collect_queue_enqueued', 'messages accepted into the decode queue'),
    queueDropped: m.counter(
      'collect_queue_dropped',
      'messages dropped because the decode queue (or the native UDP reader ring) was full',
    ),
    queueDrained: m.counter('collect_queue_drained', 'messages taken off the decode queue'),
    queueDepth: m.gauge('collect_queue_depth', 'messages waiting in the decode queue'),
    dnstapAccepted: m.counter('collect_dnstap_connections_accepted', 'dnstap connections accepted'),
    dnstapRejected: m.counter(
      'collect_dnstap_connections_rejected',
      'dnstap connections refused at the limit',
    ),
    dnstapClosed: m.counter('collect_dnstap_connections_closed', 'dnstap connections closed'),
    dnstapCorrupt: m.counter(
      'collect_dnstap_connections_corrupt',
      'dnstap connections closed on a stream that broke Frame Streams',
    ),
    dnstapTimedOut: m.counter(
      'collect_dnstap_connections_timed_out',
      'dnstap connections closed for an unfinished handshake or idleness',
    ),
    dnstapBytes: m.counter('collect_dnstap_bytes', 'bytes read from dnstap connections'),
    dnstapFrames: m.counter('collect_dnstap_frames', 'dnstap data frames read'),
    dnstapEvents: m.counter('collect_dnstap_events', 'DNS events decoded from dnstap frames'),
    dnstapMalformed: m.counter(
      'collect_dnstap_malformed',
      'dnstap frames or DNS messages that could not be read',
    ),
    dnstapConnections: m.gauge('collect_dnstap_connections', 'open dnstap connections'),
    records: m.counter('collect_records', 'records decoded by type'),
    events: m.counter('collect_decode_events', 'decoder events by kind'),
    sequenceLost: m.counter('collect_sequence_lost', 'records lost upstream according to sequence numbers'),
    outputRecords: m.counter('collect_output_records', 'records written to the output'),
    outputBackpressure: m.counter('collect_output_backpressure', 'times the output stream was full'),
    stateSaved: m.counter('collect_state_saved', 'template state files written'),
    stateErrors: m.counter('collect_state_errors', 'template state files that could not be read or written'),
  };
}

/**
 * Lets a warning through at most `max` times per `windowMs` and counts the rest, so that a
 * misbehaving or hostile peer cannot flood the log (CONVENTIONS habit 5). What is not logged is
 * still counted by the caller's counters.
 */
export class LogLimiter {
  private windowStart = -Infinity;
  private inWindow = 0;
  /** Warnings suppressed since the last one let through. */
  suppressed = 0;

  constructor(
    private readonly now: () => number,
    private readonly max = 10,
    private readonly windowMs = 60_000,
  ) {}

  /** True when the caller may log now; the caller should include `suppressed` and then reset it. */
  allow(): boolean {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      this.windowStart = t;
      this.inWindow = 0;
    }
    if (this.inWindow < this.max) {
      this.inWindow++;
      return true;
    }
    this.suppressed++;
    return false;
  }

  /** Returns and resets the number of suppressed warnings (to report alongside the next one). */
  takeSuppressed(): number {
    const n = this.suppressed;
    this.suppressed = 0;
    return n;
  }
}
