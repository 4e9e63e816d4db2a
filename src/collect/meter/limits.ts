/**
 * Named limits and default timeouts of the flow meter (CONVENTIONS habit 3). Each says why it is
 * what it is; the options of `config.ts` may change the defaults within the bounds given here.
 */

/**
 * Default active timeout: a flow still running after this long is exported and continues as a
 * new record. 60 s is what softflowd's `-t maxlife` is usually set to on routers and what nProbe
 * and most NetFlow exporters default to (Cisco's 30 min default is far too coarse for detection
 * that works on minutes).
 */
export const DEFAULT_ACTIVE_TIMEOUT_MS = 60_000;

/**
 * Default idle timeout: a flow that saw no packet for this long is exported and forgotten. 15 s
 * is the common router default (Cisco, Juniper) and nProbe's; long enough for interactive TCP
 * sessions with think time to stay one flow, short enough to free table slots quickly.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 15_000;

/**
 * Default idle timeout of ICMP flows and of UDP flows to or from a DNS port. Both are
 * request/response exchanges that finish within a round-trip or a resolver retry (dig and stub
 * resolvers wait 2-5 s before retrying, ping sends every second), so a longer wait only keeps
 * slots of flows that are over; in a DNS-heavy capture these are the bulk of the table. A
 * retry or the next ping after more than this is a new exchange and a new flow, as in Zeek.
 */
export const DEFAULT_SHORT_IDLE_TIMEOUT_MS = 5_000;

/**
 * Default grace period after a TCP flow ended (both FINs seen, or an RST): the final ACK of the
 * closing handshake and retransmitted FINs/RSTs arrive within a round-trip, and they belong to
 * the flow that ended rather than to a new one. A new SYN on the same 5-tuple during the grace
 * period ends the old flow at once (port reuse).
 */
export const DEFAULT_TCP_END_GRACE_MS = 2_000;

/**
 * Default bound on concurrent flows. A flow costs about 300 bytes in the table (its key string,
 * counters and list links), so 262,144 flows are about 80 MB: enough for a capture of a busy
 * access link at the default timeouts, and a fixed ceiling whatever the capture holds (a scan or
 * a flood creates one flow per packet). When the table is full the flow closest to its idle
 * expiry is exported early (`evicted`).
 */
export const DEFAULT_MAX_FLOWS = 262_144;

/** Largest accepted `maxFlows`: 16 M flows would already need several GB of memory. */
export const MAX_FLOWS_LIMIT = 16_777_216;

/** Longest accepted timeout (one week, softflowd's longest default lifetime). */
export const MAX_TIMEOUT_MS = 7 * 24 * 3600 * 1000;

/**
 * IP fragments are attributed to the flow of their first fragment through a small table keyed by
 * (addresses, protocol, fragment id). Fragments of one datagram arrive within milliseconds; 30 s
 * is the reassembly timeout of RFC 791's suggestion and of Linux (`ipfrag_time`).
 */
export const FRAGMENT_TRACK_TIMEOUT_MS = 30_000;

/**
 * Fragmented datagrams tracked at once. Fragmentation is rare in today's traffic (path MTU
 * discovery), so a few thousand in flight means an attack on reassembly; the oldest entry is
 * dropped first and its later fragments are metered under ports 0, as softflowd does.
 */
export const MAX_FRAGMENT_TRACK = 4_096;

/**
 * DNS messages read from one TCP segment (each behind its 2-byte length prefix, RFC 7766 allows
 * pipelining several). Bounds the loop for a segment of many tiny length prefixes.
 */
export const MAX_DNS_MESSAGES_PER_SEGMENT = 64;

/** The DNS port (RFC 1035); DNS over TLS/HTTPS is encrypted and yields no DNS events. */
export const DNS_PORT = 53;

/** Most DNS ports that may be configured (a set that is looked up per packet). */
export const MAX_DNS_PORTS = 16;
