/**
 * Public surface of the dnstap decoder: Frame Streams reader/receiver, the dnstap protobuf schema
 * and the conversion of dnstap frames into `DnsEvent`s.
 */
export {
  CONTROL,
  controlName,
  createFrameStreamReader,
  createFrameStreamReceiver,
  encodeControlFrame,
  encodeDataFrame,
} from './frame-stream.ts';
export type {
  Frame,
  FrameStreamPushResult,
  FrameStreamReader,
  FrameStreamReaderOptions,
  FrameStreamReceiver,
  FrameStreamReceiverOptions,
  FrameStreamState,
} from './frame-stream.ts';
export { decodeDnstapPayload, encodeDnstapPayload, MESSAGE_TYPE, SOCKET_FAMILY } from './schema.ts';
export type { DnstapDecodeResult, DnstapMessage, DnstapPayload, DnstapPolicy } from './schema.ts';
export { decodeDnstapFrame } from './event.ts';
export type { DnstapContext, DnstapEventResult } from './event.ts';
export { looksLikeDnstapStream } from './sniff.ts';
export { DnstapError, FrameStreamError, ProtobufError } from './errors.ts';
export type { DnstapErrorReason, FrameStreamErrorReason, ProtobufErrorReason } from './errors.ts';
export * from './limits.ts';
