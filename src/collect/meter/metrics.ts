import type { Counter, Gauge, MetricsRegistry } from '../../common/metrics.ts';
import type { FlowEndReason } from './flow.ts';
import type { FlowMeterStats } from './meter.ts';

const REASONS: readonly FlowEndReason[] = ['idle', 'active', 'fin', 'rst', 'evicted', 'end'];

/** Why a frame was not metered (the `reason` label of `meter_packets_skipped`). */
const SKIP_REASONS = ['unsupported-link-type', 'non-ip', 'truncated', 'malformed', 'too-deep'] as const;

/**
 * Flow-meter metrics on a registry (rendered with prefix `acd_`, counters with suffix `_total`):
 *
 * - `meter_packets` — frames given to the meter; `meter_packets_metered`, `meter_octets_metered`.
 * - `meter_packets_skipped{reason}` — frames not metered (unsupported-link-type, non-ip,
 *   truncated, malformed, too-deep).
 * - `meter_fragments`, `meter_fragments_unattributed` — IP fragments, and those metered under
 *   ports 0 because their first fragment was not seen.
 * - `meter_flows_created`; `meter_flow_records{reason}` — records exported by end reason (idle,
 *   active, fin, rst, evicted, end).
 * - `meter_dns_messages`, `meter_dns_malformed`, `meter_dns_tcp_skipped`.
 * - gauge `meter_flows_active` — flows in the table.
 *
 * The meter keeps its own `FlowMeterStats` (plain numbers on the hot path); `update(stats)` adds
 * what changed since the previous call, so it can run per file, per chunk or on a timer.
 */
export class FlowMeterMetrics {
  private readonly packets: Counter;
  private readonly metered: Counter;
  private readonly octets: Counter;
  private readonly skipped: Record<(typeof SKIP_REASONS)[number], Counter>;
  private readonly fragments: Counter;
  private readonly fragmentsUnattributed: Counter;
  private readonly flowsCreated: Counter;
  private readonly records: Record<FlowEndReason, Counter>;
  private readonly dnsMessages: Counter;
  private readonly dnsMalformed: Counter;
  private readonly dnsTcpSkipped: Counter;
  private readonly active: Gauge;
  private last: Record<string, number> = {};

  constructor(registry: MetricsRegistry) {
    this.packets = registry.counter('meter_packets', 'Frames given to the flow meter.');
    this.metered = registry.counter('meter_packets_metered', 'Frames metered into flows.');
    this.octets = registry.counter('meter_octets_metered', 'IP-layer octets metered into flows.');
    const skipped = registry.counter('meter_packets_skipped', 'Frames not metered, by reason.');
    this.skipped = Object.fromEntries(SKIP_REASONS.map((r) => [r, skipped.labels({ reason: r })])) as Record<
      (typeof SKIP_REASONS)[number],
      Counter
    >;
    this.fragments = registry.counter('meter_fragments', 'IP fragments metered.');
    this.fragmentsUnattributed = registry.counter(
      'meter_fragments_unattributed',
      'Non-first IP fragments metered under ports 0 because their first fragment was not seen.',
    );
    this.flowsCreated = registry.counter('meter_flows_created', 'Flows created in the flow table.');
    const records = registry.counter('meter_flow_records', 'Flow records exported, by end reason.');
    this.records = Object.fromEntries(REASONS.map((r) => [r, records.labels({ reason: r })])) as Record<
      FlowEndReason,
      Counter
    >;
    this.dnsMessages = registry.counter('meter_dns_messages', 'DNS messages parsed from captured packets.');
    this.dnsMalformed = registry.counter('meter_dns_malformed', 'DNS messages malformed or cut short.');
    this.dnsTcpSkipped = registry.counter(
      'meter_dns_tcp_skipped',
      'TCP segments on a DNS port holding part of a message (not reassembled).',
    );
    this.active = registry.gauge('meter_flows_active', 'Flows in the flow table.');
  }

  /** Adds the change of `s` since the previous call (the first call adds everything). */
  update(s: FlowMeterStats): void {
    const add = (key: string, c: Counter, v: number): void => {
      c.inc(v - (this.last[key] ?? 0));
      this.last[key] = v;
    };
    add('packets', this.packets, s.packets);
    add('metered', this.metered, s.ipPackets);
    add('octets', this.octets, s.ipOctets);
    add('unsupported', this.skipped['unsupported-link-type'], s.unsupportedLinkType);
    add('nonIp', this.skipped['non-ip'], s.nonIp);
    add('truncated', this.skipped.truncated, s.truncated);
    add('malformed', this.skipped.malformed, s.malformed);
    add('tooDeep', this.skipped['too-deep'], s.tooDeep);
    add('fragments', this.fragments, s.fragments);
    add('fragmentsUnattributed', this.fragmentsUnattributed, s.fragmentsUnattributed);
    add('flowsCreated', this.flowsCreated, s.flowsCreated);
    for (const r of REASONS) add(`records.${r}`, this.records[r], s.flowsExpired[r]);
    add('dnsMessages', this.dnsMessages, s.dnsMessages);
    add('dnsMalformed', this.dnsMalformed, s.dnsMalformed);
    add('dnsTcpSkipped', this.dnsTcpSkipped, s.dnsTcpSkipped);
    this.active.set(s.activeFlows);
  }

  /** Forgets the previous stats: the next `update` starts from a new meter's zeroed counters. */
  reset(): void {
    this.last = {};
  }
}
