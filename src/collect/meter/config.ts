/**
 * Options of the flow meter: every field documented, with defaults and bounds from `limits.ts`.
 * `resolveFlowMeterOptions` checks them once, naming the offending key (CONVENTIONS habit 8).
 */
import { ConfigError } from '../../common/errors.ts';
import {
  DEFAULT_ACTIVE_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_FLOWS,
  DEFAULT_SHORT_IDLE_TIMEOUT_MS,
  DEFAULT_TCP_END_GRACE_MS,
  DNS_PORT,
  MAX_DNS_PORTS,
  MAX_FLOWS_LIMIT,
  MAX_TIMEOUT_MS,
} from './limits.ts';

/** Options of `createFlowMeter` (all optional). */
export interface FlowMeterOptions {
  /**
   * A flow running longer than this (capture time, from its first packet) is exported with
   * `flowEndReason` 2 and continues as a new record with the same orientation. Default 60 s.
   */
  activeTimeoutMs?: number;
  /** A flow without packets for longer than this is exported (`flowEndReason` 1). Default 15 s. */
  idleTimeoutMs?: number;
  /**
   * Idle timeout of ICMP/ICMPv6 flows and of UDP flows with a DNS port on either side: these are
   * request/response exchanges that are over within seconds. Default 5 s.
   */
  shortIdleTimeoutMs?: number;
  /**
   * A TCP flow whose both FINs or an RST were seen is exported this long after its last packet
   * (`flowEndReason` 3). Default 2 s.
   */
  tcpEndGraceMs?: number;
  /**
   * Most flows held at once; when a new flow would exceed it, the flow closest to its idle expiry
   * is exported early (`flowEndReason` 5, counted as `evicted`). Default 262,144.
   */
  maxFlows?: number;
  /**
   * `observation.exporter` of every record. Default `capture`: with observation domain = the
   * capture's interface id and sequence = the meter's export counter, metering the same capture
   * again gives the same record ids (replay-stable, DESIGN section 6).
   */
  exporter?: string;
  /** Turn DNS messages on the DNS ports into `DnsEvent`s (default true). */
  dnsEvents?: boolean;
  /** UDP/TCP ports whose payloads are parsed as DNS (default [53]; at most 16). */
  dnsPorts?: readonly number[];
}

/** Options after defaults and checks. */
export interface ResolvedFlowMeterOptions {
  activeTimeoutMs: number;
  idleTimeoutMs: number;
  shortIdleTimeoutMs: number;
  tcpEndGraceMs: number;
  maxFlows: number;
  exporter: string;
  dnsEvents: boolean;
  dnsPorts: ReadonlySet<number>;
}

function timeout(key: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v < 0 || v > MAX_TIMEOUT_MS) {
    throw new ConfigError(`meter.${key}`, `must be a number of milliseconds between 0 and ${MAX_TIMEOUT_MS}`);
  }
  return v;
}

/** Applies defaults and checks bounds; throws `ConfigError` naming the key (`meter.maxFlows`). */
export function resolveFlowMeterOptions(o: FlowMeterOptions = {}): ResolvedFlowMeterOptions {
  const maxFlows = o.maxFlows ?? DEFAULT_MAX_FLOWS;
  if (!Number.isInteger(maxFlows) || maxFlows < 1 || maxFlows > MAX_FLOWS_LIMIT) {
    throw new ConfigError('meter.maxFlows', `must be an integer between 1 and ${MAX_FLOWS_LIMIT}`);
  }
  const ports = o.dnsPorts ?? [DNS_PORT];
  if (ports.length > MAX_DNS_PORTS || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    throw new ConfigError('meter.dnsPorts', `must be at most ${MAX_DNS_PORTS} ports between 1 and 65535`);
  }
  const exporter = o.exporter ?? 'capture';
  if (exporter.length === 0) throw new ConfigError('meter.exporter', 'must not be empty');
  return {
    activeTimeoutMs: timeout('activeTimeoutMs', o.activeTimeoutMs, DEFAULT_ACTIVE_TIMEOUT_MS),
    idleTimeoutMs: timeout('idleTimeoutMs', o.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS),
    shortIdleTimeoutMs: timeout('shortIdleTimeoutMs', o.shortIdleTimeoutMs, DEFAULT_SHORT_IDLE_TIMEOUT_MS),
    tcpEndGraceMs: timeout('tcpEndGraceMs', o.tcpEndGraceMs, DEFAULT_TCP_END_GRACE_MS),
    maxFlows,
    exporter,
    dnsEvents: o.dnsEvents ?? true,
    dnsPorts: new Set(ports),
  };
}
