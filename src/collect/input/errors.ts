import { AcdError } from '../../common/errors.ts';

/**
 * A capture file whose structure cannot be followed: unknown magic number, a record or block
 * length beyond the limits, a pcapng block whose trailing length disagrees. Classic pcap has no
 * markers to resynchronise on, so reading stops at the first such error; it is reported as a value
 * (the reader's `error`), not thrown.
 */
export class CaptureFormatError extends AcdError {
  /** Byte offset in the capture at which the problem was found. */
  readonly offset: number;
  constructor(message: string, offset: number, options?: { cause?: unknown }) {
    super('ERR_CAPTURE_FORMAT', message, options);
    this.offset = offset;
  }
}

/** Why an IPFIX-over-TCP byte stream cannot be framed any further. */
export type FramingErrorReason = 'bad-version' | 'too-short' | 'too-long';

/**
 * An IPFIX-over-TCP stream that lost framing (RFC 7011 section 10.4: messages back to back, each
 * delimited only by its header's length). There is no way to find the next message boundary
 * reliably, so the listener closes the connection when it sees this.
 */
export class IpfixFramingError extends AcdError {
  readonly reason: FramingErrorReason;
  /** Offset in the stream (bytes since the framer started) of the bad header. */
  readonly offset: number;
  constructor(reason: FramingErrorReason, message: string, offset: number) {
    super('ERR_IPFIX_FRAMING', message);
    this.reason = reason;
    this.offset = offset;
  }
}
