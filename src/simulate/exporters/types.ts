/**
 * Types of the simulated exporter fleet: what one exporter is (identity, format, sampling,
 * template refresh policy) and what it hands to outputs.
 */
import type { Fields } from '../../common/schema/index.ts';
import type { EncodeFieldSpec } from '../encode/types.ts';

/** Export formats the fleet speaks. */
export type ExporterFormat = 'ipfix' | 'netflow9' | 'netflow5' | 'sflow5' | 'dnstap';

/** Every format, in a stable order (for CLI validation and docs). */
export const EXPORTER_FORMATS: readonly ExporterFormat[] = [
  'ipfix',
  'netflow9',
  'netflow5',
  'sflow5',
  'dnstap',
];

/** Transport an exporter's messages travel on. */
export type ExporterTransport = 'udp' | 'tcp' | 'file';

/** One simulated exporter, as the country model describes it. */
export interface ExporterConfig {
  /** Stable identifier (e.g. `isp-a-edge-1`); also seeds the exporter's random generator. */
  id: string;
  /** Source address (127.0.0.x on loopback): collectors tell exporters apart by it. */
  address: string;
  format: ExporterFormat;
  /** IPFIX observation domain / NetFlow v9 source id / v5 engine id (low 8 bits) / sFlow sub-agent. */
  observationDomainId: number;
  /** 1-in-N packet sampling (1 = unsampled). */
  samplingInterval: number;
  /** Default `udp` (`tcp` only for IPFIX and dnstap). */
  transport?: ExporterTransport;
  /** Path MTU: messages are packed up to this size minus IP/UDP headers. Default 1500. */
  mtu?: number;
  /** Templates (and sampling options) are re-sent every this many messages (UDP; 0 = never). Default 20. */
  templateRefreshMessages?: number;
  /** ... and at least every this many seconds of event time (UDP; 0 = never). Default 30. */
  templateRefreshSeconds?: number;
  /** Event time (epoch ms) at which the device booted: sysUptime 0. Default: 3 days before the first record. */
  bootTimeMs?: number;
  /** Sampler (v9 samplerId) / selector (IPFIX selectorId) id referenced by data records. Default 1. */
  samplerId?: number;
  /** Override the data template fields (v9/IPFIX), per IP version. */
  templates?: { ipv4?: EncodeFieldSpec[]; ipv6?: EncodeFieldSpec[] };
  /** sFlow: bytes of sampled header per flow sample (default 128) and counter polling interval (s, default 20). */
  sflowHeaderBytes?: number;
  sflowCounterIntervalSeconds?: number;
  /** dnstap: server identity and version strings written into each payload. */
  dnstapIdentity?: string;
  dnstapVersion?: string;
}

/** Counters of one exporter. */
export interface ExporterStats {
  /** Records handed to the exporter. */
  offered: number;
  /** Records (flows, sFlow flow samples or DNS messages) that went out in messages. */
  exported: number;
  /** Flows not exported because sampling selected none of their packets. */
  sampledOut: number;
  /** Records the format cannot carry (IPv6 in NetFlow v5, DNS records to a flow exporter...). */
  unexportable: number;
  /** Records with values the encoder refused. */
  encodeErrors: number;
  /** Messages (datagrams, frames) produced, and their bytes. */
  messages: number;
  bytes: number;
  /** Template (re)sends. */
  templateSends: number;
}

/** One message an exporter produced, with the event time it was exported at. */
export interface ExportedMessage {
  exporter: ExporterConfig;
  /** Index of the exporter in its fleet. */
  exporterIndex: number;
  bytes: Uint8Array;
  /** Export time (event time, epoch ms). */
  timeMs: number;
  /** Records (flows / samples / DNS messages) in the message. */
  records: number;
}

/** What an exporter does with a finished message. */
export type EmitMessage = (m: ExportedMessage) => void;

/** The behaviour every simulated exporter has, whatever its format. */
export interface SimulatedExporter {
  readonly config: ExporterConfig;
  readonly stats: ExporterStats;
  /** Takes one record (IANA-named fields) at event time `now`; may emit a full message. */
  add(rec: Fields, now: number): void;
  /** Emits the open message, if any. */
  flush(now: number): void;
  /** Time-driven work: template refresh deadlines, sFlow counter samples; flushes messages older than `maxAgeMs`. */
  tick(now: number, maxAgeMs: number): void;
  /** A new transport session began (TCP reconnect): templates go out with the next message. */
  resetSession(): void;
}

/** A fresh, zeroed stats object. */
export function emptyStats(): ExporterStats {
  return {
    offered: 0,
    exported: 0,
    sampledOut: 0,
    unexportable: 0,
    encodeErrors: 0,
    messages: 0,
    bytes: 0,
    templateSends: 0,
  };
}
