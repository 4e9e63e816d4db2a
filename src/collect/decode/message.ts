/**
 * The seam between the protocol walkers (netflow5.ts, netflow9.ts, ipfix.ts), which only parse
 * headers and set structure, and the session, which owns all state (templates, sampling, sequence).
 */
import type { FieldSpecifier } from './template.ts';
import type { MalformedReason } from './metrics.ts';

/** The export protocols of this session. */
export type Protocol = 'netflow5' | 'netflow9' | 'ipfix';

/** What the walker read from a message header. */
export interface MessageHeader {
  protocol: Protocol;
  observationDomainId: number;
  sequence: number;
  /** Export time (epoch ms). */
  exportMs: number;
  /** v5/v9 sysUptime (ms); NaN for IPFIX. */
  sysUptime: number;
}

/** Callbacks a walker drives; implemented by the session. */
export interface MessageHandler {
  /** Starts a message; false when it must be dropped (e.g. the domain limit is reached). */
  begin(h: MessageHeader): boolean;
  /** A (options) template record; `scopeCount` > 0 marks options templates. */
  template(templateId: number, scopeCount: number, specs: FieldSpecifier[]): void;
  /** IPFIX template withdrawal (ids 2 / 3 withdraw all templates / options templates). */
  withdraw(templateId: number, options: boolean): void;
  /** A data set with its body at [start, end) of `b`. */
  data(setId: number, b: Uint8Array, start: number, end: number): void;
  /** Something malformed at `offset` of the message. */
  malformed(reason: MalformedReason, offset: number): void;
}
