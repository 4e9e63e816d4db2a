/**
 * Text imports (issue 3): Zeek conn.log/dns.log (TSV and JSON), Argus CSV (`ra -c ,`, CTU-13
 * binetflow) and `nfdump -o csv`. What other components may use; the rest is internal.
 */
export { readTextRecords, createTextLineParser } from './reader.ts';
export type { ReadTextOptions, TextLineParser, TextSource } from './reader.ts';
export { sniffText } from './sniff.ts';
export { TextFormatError } from './errors.ts';
export { TEXT_KINDS } from './types.ts';
export type {
  TextKind,
  TextEvent,
  TextImportStats,
  LineResult,
  LineErrorReason,
  LineSkipReason,
} from './types.ts';
export { parseZeekTsvLine, parseZeekJsonLine, initialZeekTsvState, DNS_FLAG_NAMES } from './zeek.ts';
export type { ZeekTsvState, ZeekJsonState, ZeekLog } from './zeek.ts';
export { parseArgusLine, parseArgusHeader } from './argus.ts';
export type { ArgusHeader } from './argus.ts';
export { parseNfdumpLine, parseNfdumpHeader } from './nfdump.ts';
export type { NfdumpHeader } from './nfdump.ts';
export { MAX_TEXT_LINE_BYTES, TEXT_SNIFF_BYTES, MAX_TEXT_COLUMNS, MAX_ZEEK_LIST_ELEMENTS } from './limits.ts';
