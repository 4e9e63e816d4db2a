/**
 * Named limits of the sFlow v5 decoder (CONVENTIONS habit 3). Every length and count read from a
 * datagram is checked against the bytes at hand and against one of these; each says why.
 */

/**
 * Largest datagram decoded. sFlow travels in one UDP datagram, so nothing longer is a real
 * datagram; every length inside a datagram is therefore also bounded by this.
 */
export const SFLOW_MAX_DATAGRAM_BYTES = 65_535;

/**
 * Samples in one datagram. Agents fill a datagram up to the path MTU (about ten samples in 1400
 * bytes, about 60 in a 9000-byte jumbo frame); a 64 KiB datagram of empty samples would hold 8000,
 * which only burns CPU, so a larger count makes the datagram malformed.
 */
export const SFLOW_MAX_SAMPLES = 512;

/**
 * Records in one flow or counter sample. A flow sample carries a header and a few extended
 * records; Host sFlow counter samples carry a dozen or two. Beyond this the sample is malformed.
 */
export const SFLOW_MAX_RECORDS_PER_SAMPLE = 256;

/**
 * Bytes of a sampled packet header. Agents keep 128 by default and at most a full frame; more than
 * a jumbo frame (9216) is not a header. Only the headers at its start are read, never the payload.
 */
export const SFLOW_MAX_HEADER_BYTES = 9216;

/**
 * AS path segments (AS_SEQUENCE / AS_SET) decoded from an extended gateway record. Real paths have
 * one or two; the rest of the record is skipped by its length.
 */
export const SFLOW_MAX_AS_PATH_SEGMENTS = 16;

/**
 * AS numbers kept from an extended gateway path (all segments together). Internet paths are below
 * 20 hops even with prepending; 64 keeps prepended paths whole while bounding the array per record.
 * Longer paths are cut (the destination AS, the last one, is still reported).
 */
export const SFLOW_MAX_AS_PATH_LENGTH = 64;

/**
 * BGP communities kept from an extended gateway record. Routes at large exchanges carry tens to a
 * few hundred; longer lists are cut to bound the array built per record.
 */
export const SFLOW_MAX_COMMUNITIES = 256;

/**
 * Bytes kept of an extended user/URL string. sFlow does not bound them; user names and hosts are
 * short, URLs rarely exceed 2 KiB. Longer strings are cut to bound the string built per record.
 */
export const SFLOW_MAX_STRING_BYTES = 2048;

/**
 * Agents (agent address + sub-agent) whose sequence state is kept per decoder state. The agent
 * address is read from the datagram, so a forged flood could otherwise grow the map without bound;
 * the least recently seen agent is forgotten first.
 */
export const SFLOW_MAX_AGENTS = 16_384;

/**
 * Sample sources (ifIndex/VLAN/entity data sources, flow and counter samplers kept apart) tracked
 * per agent. A large chassis has a few thousand ports; the oldest source is forgotten first.
 */
export const SFLOW_MAX_SOURCES_PER_AGENT = 8_192;

/**
 * How far back (in datagrams) a datagram sequence number may be and still count as reordered; a
 * larger step back without an uptime reset means the agent restarted its numbering.
 */
export const SFLOW_DATAGRAM_REORDER_WINDOW = 1024;

/**
 * The same for sample sequence numbers (per source; counts samples of that source). Only applies
 * to samples of a datagram that itself came out of order; samples of in-order datagrams that step
 * back are sampler restarts.
 */
export const SFLOW_SAMPLE_REORDER_WINDOW = 4096;

/**
 * An agent uptime that goes back by more than this (ms) means the agent rebooted; reordered
 * datagrams are only seconds old, so 60 s leaves them alone.
 */
export const SFLOW_UPTIME_RESTART_SLACK_MS = 60_000;

/**
 * Uptime is a 32-bit millisecond counter that wraps after 49.7 days: a step from within this
 * distance of 2^32 to within this distance of 0 is a wrap, not a reboot.
 */
export const SFLOW_UPTIME_WRAP_WINDOW_MS = 24 * 3600 * 1000;
