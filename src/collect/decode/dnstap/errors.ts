import { AcdError } from '../../../common/errors.ts';

/** Why bytes are not a valid protobuf encoding (as far as the dnstap reader needs to know). */
export type ProtobufErrorReason =
  'truncated' | 'varint-too-long' | 'bad-wire-type' | 'bad-field-number' | 'too-many-fields';

/** A protobuf encoding the reader cannot follow. Returned as a value by the dnstap decoder. */
export class ProtobufError extends AcdError {
  readonly reason: ProtobufErrorReason;
  /** Offset in the frame where the problem was found. */
  readonly offset: number;
  constructor(reason: ProtobufErrorReason, message: string, offset: number) {
    super('ERR_PROTOBUF_MALFORMED', message);
    this.reason = reason;
    this.offset = offset;
  }
}

/** Why a dnstap payload was not turned into an event (beyond protobuf encoding errors). */
export type DnstapErrorReason = ProtobufErrorReason | 'not-a-message' | 'missing-message-type';

/** A dnstap payload that decodes as protobuf but is not a usable `Dnstap` message. */
export class DnstapError extends AcdError {
  readonly reason: DnstapErrorReason;
  readonly offset: number;
  constructor(reason: DnstapErrorReason, message: string, offset: number, options?: { cause?: unknown }) {
    super('ERR_DNSTAP_MALFORMED', message, options);
    this.reason = reason;
    this.offset = offset;
  }
}

/** Why a Frame Streams byte stream cannot be followed any further. */
export type FrameStreamErrorReason =
  | 'frame-too-long'
  | 'bad-control-length'
  | 'bad-control-type'
  | 'bad-control-field'
  | 'content-type-too-long'
  | 'content-type-mismatch'
  | 'unexpected-control'
  | 'unexpected-data'
  | 'truncated';

/**
 * A Frame Streams stream that broke the protocol (framing or handshake). Frame Streams has no
 * markers to resynchronise on, so the stream (connection or file) ends at the first such error;
 * readers report it as a value (`error`), never throw it.
 */
export class FrameStreamError extends AcdError {
  readonly reason: FrameStreamErrorReason;
  /** Bytes into the stream at which the problem was found. */
  readonly offset: number;
  constructor(reason: FrameStreamErrorReason, message: string, offset: number) {
    super('ERR_FRAME_STREAM', message);
    this.reason = reason;
    this.offset = offset;
  }
}
