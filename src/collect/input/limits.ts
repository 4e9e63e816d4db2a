/**
 * Named limits for every length, count and age the file inputs read from untrusted bytes
 * (CONVENTIONS habit 3). Each value says why it is what it is; tests assert against these
 * constants, so changing one here changes what the property tests check.
 */

/**
 * Largest captured length accepted for one classic pcap record. libpcap's own maximum snapshot
 * length is 262144 bytes; a larger record length means the file is corrupt, and since classic pcap
 * has no block markers the reader cannot resynchronise after it.
 */
export const MAX_PCAP_RECORD_BYTES = 262_144;

/**
 * Largest pcapng block accepted. libpcap and Wireshark refuse blocks above 16 MiB for the same
 * reason: a block is buffered whole before it is parsed, so this bounds the reader's memory.
 */
export const MAX_PCAPNG_BLOCK_BYTES = 16 * 1024 * 1024;

/**
 * Interfaces (IDBs) remembered per pcapng section. Real captures have a handful; the cap keeps a
 * hostile file from growing the interface table without bound. Packets naming a later interface
 * are skipped with an event.
 */
export const MAX_PCAPNG_INTERFACES = 1024;

/**
 * Largest if_tsresol exponent honoured (10^-n or 2^-n seconds). Beyond 10^-18 or 2^-63 the
 * resolution is finer than any clock and the arithmetic stops being meaningful; such interfaces
 * fall back to microseconds with an event.
 */
export const MAX_TSRESOL_DECIMAL_EXPONENT = 18;
/** Binary counterpart of {@link MAX_TSRESOL_DECIMAL_EXPONENT}. */
export const MAX_TSRESOL_BINARY_EXPONENT = 63;

/**
 * VLAN tags (802.1Q, 802.1ad QinQ and the older 0x9100 tag) peeled off one Ethernet frame. QinQ
 * uses two; four leaves room for unusual provider stacks while bounding the loop.
 */
export const MAX_VLAN_TAGS = 4;

/**
 * IPv6 extension headers walked before the transport header. RFC 8200 section 4.1 recommends an
 * order in which each header appears at most once (destination options twice), i.e. at most 7.
 */
export const MAX_IPV6_EXTENSION_HEADERS = 8;

/**
 * Largest datagram reassembled from fragments: the IPv4 total-length field and the IPv6 payload
 * length are 16-bit, so no legitimate reassembled payload is longer.
 */
export const MAX_REASSEMBLED_BYTES = 65_535;

/**
 * Datagrams being reassembled at once. An exporter sending large IPFIX/v9 datagrams over a
 * 1500-byte MTU has at most a few in flight; the cap bounds memory when a capture holds many
 * unrelated incomplete fragments (the oldest is dropped with an event).
 */
export const MAX_FRAGMENT_DATAGRAMS = 1024;

/** Fragments accepted for one datagram: a 64 KiB datagram over a 576-byte MTU needs about 120. */
export const MAX_FRAGMENTS_PER_DATAGRAM = 128;

/**
 * Bytes held in all incomplete datagrams together (roughly 64 maximal datagrams), so fragment
 * state stays small even when MAX_FRAGMENT_DATAGRAMS is reached with large fragments.
 */
export const MAX_FRAGMENT_BYTES_TOTAL = 4 * 1024 * 1024;

/**
 * How long (capture time) an incomplete datagram waits for its other fragments: the Linux default
 * (net.ipv4.ipfrag_time) is 30 s; RFC 8200 asks IPv6 to wait 60 s, a capture rarely needs more.
 */
export const FRAGMENT_TIMEOUT_MS = 30_000;

/**
 * Largest IPFIX message accepted from a TCP stream. The header's length field is 16-bit, so this
 * is also the protocol maximum; a smaller configured value rejects bigger messages earlier.
 */
export const MAX_IPFIX_MESSAGE_BYTES = 65_535;

/** Smallest IPFIX message: the 16-byte message header alone (RFC 7011 section 3.1). */
export const MIN_IPFIX_MESSAGE_BYTES = 16;

/**
 * TCP connections followed at once while reading a capture. IPFIX-over-TCP exporters keep one
 * long-lived connection each; the cap bounds state when a capture holds many unrelated streams
 * (the least recently active connection is dropped with an event).
 */
export const MAX_TCP_CONNECTIONS = 4096;

/**
 * Out-of-order segments held per TCP connection while waiting for a missing one. A capture shows
 * at most a window's worth of reordering; beyond this the gap is declared lost and the stream
 * resynchronises on the next plausible IPFIX header.
 */
export const MAX_TCP_OUT_OF_ORDER_SEGMENTS = 64;

/** Out-of-order payload bytes held per connection (one typical 64 KiB receive window, twice). */
export const MAX_TCP_OUT_OF_ORDER_BYTES = 128 * 1024;

/**
 * A followed TCP connection with no segment for this long (capture time) is forgotten; the
 * IPFIX-over-TCP listener's default idle timeout is 10 minutes, too.
 */
export const TCP_IDLE_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Records in one NetFlow v5 datagram: Cisco's format documentation allows 1 to 30, which keeps a
 * datagram under a 1500-byte MTU (24 + 30 * 48 = 1464).
 */
export const MAX_NETFLOW5_RECORDS = 30;

/** NetFlow v5 header and record sizes (fixed by the format). */
export const NETFLOW5_HEADER_BYTES = 24;
/** See {@link NETFLOW5_HEADER_BYTES}. */
export const NETFLOW5_RECORD_BYTES = 48;

/** NetFlow v9 packet header size (RFC 3954 section 5.1). */
export const NETFLOW9_HEADER_BYTES = 20;

/**
 * Largest NetFlow v9 message cut out of a raw file. v9 travels in one UDP datagram, whose payload
 * cannot exceed 65,507 bytes over IPv4; a flowset walk longer than this has lost its way and is cut
 * with an event.
 */
export const MAX_NETFLOW9_MESSAGE_BYTES = 65_535;

/**
 * Bytes read from a file per read call. Large enough that system-call overhead is negligible,
 * small enough that memory stays bounded whatever the file size.
 */
export const FILE_READ_CHUNK_BYTES = 1024 * 1024;

/** Bytes the content sniffer needs to tell the formats apart (the longest check is 24 bytes). */
export const SNIFF_BYTES = 64;
