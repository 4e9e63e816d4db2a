/**
 * Named limits for the text imports (Zeek logs, Argus CSV, nfdump CSV). Every line, column and
 * list read from an untrusted file is checked against one of these (CONVENTIONS habit 3); the
 * property tests assert against the constants, so changing one here changes what they check.
 */

/**
 * Longest line accepted, in bytes, without its line break. The longest legitimate lines are Zeek
 * dns.log entries with many answers and nfdump's 48-column CSV, a few hundred bytes to a few KiB;
 * 64 KiB leaves room for odd datasets while bounding what one line can make the reader buffer.
 * Longer lines are skipped whole (up to the next line break) with a `malformed-line` event.
 */
export const MAX_TEXT_LINE_BYTES = 64 * 1024;

/**
 * Bytes the content sniffer looks at. Zeek's eight header lines take about 700 bytes and a CSV
 * header about 300, so 8 KiB always holds a header and the first data line.
 */
export const TEXT_SNIFF_BYTES = 8 * 1024;

/**
 * Columns accepted in a header (Zeek `#fields`, CSV header row). nfdump 1.7's full CSV has 48
 * columns and Zeek's conn.log about 25 (more with policy scripts); 512 bounds the per-line column
 * table whatever a file claims.
 */
export const MAX_TEXT_COLUMNS = 512;

/**
 * Elements kept from one Zeek set or vector (DNS answers, TTLs, tunnel parents). A DNS response
 * that fits a 64 KiB message cannot hold many more than a few thousand records; real ones hold a
 * handful. Further elements are dropped and the record is still produced.
 */
export const MAX_ZEEK_LIST_ELEMENTS = 256;

/**
 * Longest Zeek JSON line parsed by the sniffer (the reader uses {@link MAX_TEXT_LINE_BYTES}).
 * Only the first complete line is parsed, so this is the same bound.
 */
export const MAX_SNIFF_JSON_BYTES = MAX_TEXT_LINE_BYTES;
