/**
 * Named limits on everything an exporter controls (CONVENTIONS habit 3). Every length or count read
 * from the wire is checked against the buffer and against one of these; each comment says why the
 * value is what it is. Tests assert against these constants.
 */

/**
 * Sets (IPFIX) or flowsets (v9) looked at in one message. Real exporters send a handful; a 64 KiB
 * message could hold 16383 empty sets, which only burns CPU, so parsing stops (malformed) beyond this.
 */
export const MAX_SETS_PER_MESSAGE = 1024;

/**
 * Fields in one template. IANA defines about 500 elements and the largest real templates (nProbe,
 * Cisco NSEL, Palo Alto) carry 100-200 fields; 512 leaves room for vendor templates while bounding
 * the size of the code compiled per template (a 64 KiB message could otherwise declare 16000 fields).
 */
export const MAX_FIELDS_PER_TEMPLATE = 512;

/**
 * Bytes of one variable-length string or octet array. URLs, user agents, certificate names and DNS
 * payloads fit in 16 KiB; longer values are garbage or an attempt to make the collector build huge
 * strings per record. Longer fields make the record malformed.
 */
export const MAX_VARIABLE_LENGTH = 16384;

/**
 * Nesting depth of RFC 6313 structured data (a list inside a list...). The RFC's own examples go two
 * deep; each level multiplies work, and unbounded recursion would exhaust the stack.
 */
export const MAX_LIST_DEPTH = 4;

/** Elements decoded from one structured-data list (all levels of one field together). */
export const MAX_LIST_ELEMENTS = 4096;

/**
 * Records decoded from one data set. A 64 KiB set of 4-byte records holds 16383; anything beyond is
 * a template with near-empty records, which only multiplies per-record work.
 */
export const MAX_RECORDS_PER_SET = 16384;

/**
 * Records in one NetFlow v5 packet. Cisco documents 30, but some exporters send more; the real bound
 * is what one UDP datagram can carry ((65535 - 24) / 48).
 */
export const NETFLOW5_MAX_RECORDS = 1364;

/**
 * Templates held per session across all exporters (each costs its field list and compiled code).
 * Far above what a national collection point sees (exporters x domains x ~10 templates), low enough
 * that a flood of template ids cannot exhaust memory. New templates beyond it are refused (malformed).
 */
export const MAX_TEMPLATES = 65536;

/** Exporter/observation-domain states held per session (sequence, sampling, statistics). */
export const MAX_DOMAINS = 16384;

/** Samplers/selectors remembered per exporter/domain (options data can name any 64-bit id). */
export const MAX_SAMPLERS_PER_DOMAIN = 1024;

/**
 * Bytes of data sets held while waiting for their template, per session, on top of the configured
 * `pendingMaxSets`: 64 sets of 64 KiB would otherwise be 4 MiB per flood.
 */
export const MAX_PENDING_BYTES = 16 * 1024 * 1024;

/**
 * Distinct compiled template shapes cached (shared by every exporter sending the same field list).
 * Beyond it the cache is cleared; templates recompile on next use.
 */
export const MAX_COMPILED_SHAPES = 4096;

/**
 * How far back (in sequence units) a message may arrive and still count as reordered rather than
 * as an exporter restart. IPFIX and v5 count records, so the window spans a few hundred messages.
 */
export const SEQUENCE_REORDER_WINDOW_RECORDS = 65536;

/** The same for NetFlow v9, whose sequence counts export packets. */
export const SEQUENCE_REORDER_WINDOW_PACKETS = 1024;

/**
 * A v5/v9 sysUptime that goes back by more than this (ms) means the device rebooted; reordered
 * messages are only seconds old, so 60 s leaves them alone.
 */
export const UPTIME_RESTART_SLACK_MS = 60_000;

/**
 * A `clock-offset` event is raised when an exporter's clock offset first becomes known and then
 * whenever it moved by more than this since the last event (export times have 1 s resolution).
 */
export const CLOCK_OFFSET_EVENT_MS = 5_000;
