import type { DecodedRecord } from '../../../common/schema/index.ts';

/**
 * Text formats recognised by content (never by file name). The Zeek kinds differ by log and by
 * writer (tab-separated with `#` headers, or one JSON object per line); the CSV kinds say which
 * tool wrote them.
 */
export type TextKind =
  'zeek-conn-tsv' | 'zeek-dns-tsv' | 'zeek-conn-json' | 'zeek-dns-json' | 'argus-csv' | 'nfdump-csv';

/** All text kinds, for exhaustive tests and CLI help. */
export const TEXT_KINDS: readonly TextKind[] = [
  'zeek-conn-tsv',
  'zeek-dns-tsv',
  'zeek-conn-json',
  'zeek-dns-json',
  'argus-csv',
  'nfdump-csv',
];

/**
 * Why a line was not turned into a record. Stable codes that feed counters; they never carry the
 * line's content (it may hold addresses).
 */
export type LineErrorReason =
  | 'too-long' // longer than MAX_TEXT_LINE_BYTES
  | 'no-header' // a data line before any header that names its columns
  | 'bad-header' // a header line that cannot be used (too many or duplicate columns, no address column)
  | 'column-count' // fewer columns than the header names
  | 'bad-json' // not one JSON object
  | 'bad-address' // an address column that is not an IPv4/IPv6 address
  | 'bad-number' // a numeric column that is not a number in range
  | 'bad-time' // a time column that cannot be placed on the calendar
  | 'missing-field'; // a required column is empty or unset

/** Why a well-formed line yields no record (not an error: counted apart). */
export type LineSkipReason =
  | 'summary' // nfdump's trailer (`Summary`, `flows,bytes,...` and its values)
  | 'management' // Argus management/status records (`man`)
  | 'other-log'; // a Zeek line of another log than the one being read (e.g. dns in a conn stream)

/**
 * Typed events of a text import (CONVENTIONS habit 4): every kind feeds a counter, none is thrown.
 * `line` is the 1-based line number in the input.
 */
export type TextEvent =
  | { kind: 'malformed-line'; format: TextKind; line: number; reason: LineErrorReason; column?: string }
  | { kind: 'skipped-line'; format: TextKind; line: number; reason: LineSkipReason }
  | { kind: 'header'; format: TextKind; line: number; columns: number };

/** What one line parser returns: a record, a header taken in, nothing to do, a skip or an error. */
export type LineResult<H> =
  | { kind: 'record'; record: DecodedRecord }
  | { kind: 'header'; header: H }
  | { kind: 'none' }
  | { kind: 'skip'; reason: LineSkipReason }
  | { kind: 'error'; reason: LineErrorReason; column?: string };

/** Counters of one import, filled in by the reader as it goes. */
export interface TextImportStats {
  lines: number;
  records: number;
  malformed: number;
  skipped: number;
}
