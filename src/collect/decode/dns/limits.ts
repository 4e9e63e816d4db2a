/**
 * Named limits on everything the DNS parser reads from untrusted bytes (CONVENTIONS habit 3).
 * Each value says why it is what it is; the property tests assert against these constants.
 */

/**
 * Largest DNS message accepted. Over TCP a message is prefixed by a 16-bit length (RFC 1035
 * section 4.2.2) and over UDP it cannot exceed the 16-bit datagram length either, so no real
 * message is longer; longer inputs are cut here and reported as malformed.
 */
export const MAX_DNS_MESSAGE_BYTES = 65_535;

/** Size of the fixed DNS header (RFC 1035 section 4.1.1). */
export const DNS_HEADER_BYTES = 12;

/**
 * Compression pointers followed while reading one name. A pointer must point to a prior
 * occurrence (RFC 1035 section 4.1.4), so chains are short in real messages: one pointer per name
 * is the norm, a few when suffixes are shared. Pointers are also required to go strictly backwards,
 * which already rules out loops; this cap bounds the work a crafted chain of backward pointers can
 * cause per name (otherwise quadratic in the message size).
 */
export const MAX_POINTER_HOPS = 32;

/** Longest name in wire form, length octets and the root label included (RFC 1035 section 2.3.4). */
export const MAX_NAME_WIRE_BYTES = 255;

/**
 * Most labels in one name: a 255-octet name of one-character labels has 127 of them (each costs
 * two octets, plus the root octet), so no valid name has more.
 */
export const MAX_LABELS = 127;

/**
 * Records read per section (question, answer, authority, additional). The smallest record is 11
 * octets, so a 64 KiB message could claim about 6,000; real responses carry a few dozen, and large
 * DNS-over-TCP answers a few hundred. Zone transfers exceed this, but they are not client traffic
 * this collector is meant to describe. A header claiming more is reported as malformed and the
 * section is read up to this count only.
 */
export const MAX_RECORDS_PER_SECTION = 1024;

/**
 * Answer records copied into an event's `dnsAnswers`. Detection needs the addresses and CNAME
 * targets of ordinary answers; a response with more answers still counts them all
 * (`dnsAnswerCount`) but only this many are kept, so one message cannot make an event huge.
 */
export const MAX_ANSWERS_KEPT = 32;

/**
 * EDNS options walked in one OPT record. Options are skipped (only counted), and the walk is also
 * bounded by the record's length; this caps the loop for a record of many empty options.
 */
export const MAX_EDNS_OPTIONS = 64;
