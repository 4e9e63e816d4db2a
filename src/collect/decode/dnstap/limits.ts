/**
 * Named limits for the Frame Streams reader, the protobuf reader and the dnstap inputs
 * (CONVENTIONS habit 3). Each says why it is what it is; the property tests assert against them.
 */

/** The Frame Streams content type of dnstap payloads (dnstap.proto's `Dnstap` message). */
export const DNSTAP_CONTENT_TYPE = 'protobuf:dnstap.Dnstap';

/**
 * Default largest data frame accepted. A dnstap payload carries at most a query and a response
 * message (each at most 65,535 octets, the DNS-over-TCP maximum) plus addresses, times and short
 * strings; 256 KiB holds that with room for identity/version/extra, and caps what one connection
 * can make the reader buffer. A larger frame means a corrupt or hostile stream.
 */
export const DEFAULT_MAX_FRAME_BYTES = 256 * 1024;

/**
 * Largest control frame (after its length field). fstrm, the reference implementation, refuses
 * control frames above 512 octets; a READY with a few content types fits easily.
 */
export const MAX_CONTROL_FRAME_BYTES = 512;

/** Smallest control frame: the 4-octet control type alone. */
export const MIN_CONTROL_FRAME_BYTES = 4;

/**
 * Longest content-type string in a control frame. fstrm limits content types to 256 octets;
 * ours is 22.
 */
export const MAX_CONTENT_TYPE_BYTES = 256;

/**
 * Longest protobuf varint: 10 octets carry 64 bits (7 per octet). A longer one is malformed and
 * would otherwise let the reader run on.
 */
export const MAX_VARINT_BYTES = 10;

/**
 * Fields read from one protobuf message. The dnstap `Message` has 16 fields; senders repeat none,
 * but protobuf allows repeats and unknown fields, so this bounds the loop on a frame made of many
 * tiny fields (a 256 KiB frame could otherwise hold ~128k of them).
 */
export const MAX_PROTOBUF_FIELDS = 256;

/** Default limit on dnstap sender connections open at once; each holds up to one frame buffered. */
export const DEFAULT_DNSTAP_MAX_CONNECTIONS = 256;

/**
 * Default time a new connection has to complete the handshake (READY, then START). Resolvers send
 * READY immediately on connect; a peer that stays silent holds a slot for nothing.
 */
export const DEFAULT_DNSTAP_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Default idle timeout after the handshake (0 = none). A resolver with no client queries sends
 * nothing for as long as it is idle, so an idle sender is not a dead one; TCP keep-alive finds
 * dead peers instead.
 */
export const DEFAULT_DNSTAP_IDLE_TIMEOUT_MS = 0;

/** Bytes read from a dnstap file per read call: system-call overhead negligible, memory bounded. */
export const DNSTAP_FILE_CHUNK_BYTES = 256 * 1024;
