/**
 * Builds the records of src/common/schema/record.ts for text imports. A text line has no exporter
 * message around it, so the observation is fixed: exporter `file` (as for raw export files),
 * observation domain 0, template 0, sequence = the line number, record index 0. Line numbers are
 * unique within a file, so record ids stay unique; `exportTime` is the record's own end or event
 * time (the earliest moment it could have been exported), 0 when the line has none.
 */
import type { DnsEvent, Fields, FlowRecord, RecordProtocol } from '../../../common/schema/index.ts';
import type { ParsedIp } from './values.ts';

/** Exporter identity of every text-import record (DESIGN section 2: files count as `file`). */
export const TEXT_EXPORTER = 'file';

/** One bidirectional or unidirectional flow from one line. Text imports are never sampled here. */
export function textFlow(protocol: RecordProtocol, line: number, fields: Fields): FlowRecord {
  const end = fields.flowEndMilliseconds;
  return {
    recordType: 'flow',
    protocol,
    observation: {
      exporter: TEXT_EXPORTER,
      observationDomainId: 0,
      templateId: 0,
      sequence: line,
      exportTime: typeof end === 'number' ? end : 0,
    },
    recordIndex: 0,
    samplingInterval: 1,
    fields,
  };
}

/** One DNS transaction from one line. */
export function textDns(protocol: RecordProtocol, line: number, fields: Fields): DnsEvent {
  const t = fields.eventTime;
  return {
    recordType: 'dns',
    protocol,
    observation: {
      exporter: TEXT_EXPORTER,
      observationDomainId: 0,
      templateId: 0,
      sequence: line,
      exportTime: typeof t === 'number' ? t : 0,
    },
    recordIndex: 0,
    fields,
  };
}

/** Sets `sourceIPv4Address`/`sourceIPv6Address` (or the destination pair) by address family. */
export function putAddress(f: Fields, side: 'source' | 'destination', ip: ParsedIp): void {
  f[ip.family === 4 ? `${side}IPv4Address` : `${side}IPv6Address`] = ip.text;
}

/** Sets the ICMP type and code fields of the address family (IANA 176/177, 178/179, 32/139). */
export function putIcmp(f: Fields, family: 4 | 6, type: number, code: number): void {
  if (family === 4) {
    f.icmpTypeIPv4 = type;
    f.icmpCodeIPv4 = code;
    f.icmpTypeCodeIPv4 = type * 256 + code;
  } else {
    f.icmpTypeIPv6 = type;
    f.icmpCodeIPv6 = code;
    f.icmpTypeCodeIPv6 = type * 256 + code;
  }
}

/** a - b for counters that may be decimal strings beyond 2^53; `undefined` when negative. */
export function counterDiff(a: number | string, b: number | string): number | string | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a >= b ? a - b : undefined;
  const d = BigInt(a) - BigInt(b);
  if (d < 0n) return undefined;
  return d <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(d) : d.toString();
}
