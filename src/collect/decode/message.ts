/**
 * The seam between the protocol walkers (netflow5.ts, netflow9.ts, ipfix.ts), which only parse
 * headers and set structure, and the session, which owns all state (templates, sampling, sequence).
 */
import type { FieldSpecifier } from './template.ts';
import type { MalformedReason } from './metrics.ts';

/** The template-based export protocols of this session (sFlow has its own decoder, sflow/). */
export type Protocol = 'netflow5' | 'netflow9' | 'ipfix';

/** Callbacks a walker drives; implemented by the session. */
export interface MessageHandler {
  /**
   * Starts a message with what the walker read from its header (scalars rather than an object:
   * this runs once per datagram on the hot path). `exportMs` is the export time (epoch ms),
   * `sysUptime` the v5/v9 header uptime (ms; NaN for IPFIX). Returns false when the message must
   * be dropped (e.g. the domain limit is reached).
   */
  begin(
    protocol: Protocol,
    observationDomainId: number,
    sequence: number,
    exportMs: number,
    sysUptime: number,
  ): boolean;
  /** A (options) template record; `scopeCount` > 0 marks options templates. */
  template(templateId: number, scopeCount: number, specs: FieldSpecifier[]): void;
  /** IPFIX template withdrawal (ids 2 / 3 withdraw all templates / options templates). */
  withdraw(templateId: number, options: boolean): void;
  /** A data set with its body at [start, end) of `b`. */
  data(setId: number, b: Uint8Array, start: number, end: number): void;
  /** Something malformed at `offset` of the message. */
  malformed(reason: MalformedReason, offset: number): void;
}
