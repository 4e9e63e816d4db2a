/**
 * JSON envelopes of the control and statistics directions. Control payloads are opaque signed
 * bytes carried as base64; receivers validate the envelope shape here and the signature themselves.
 */
import {
  CONTROL_KINDS,
  type ControlKind,
  type ControlMessage,
  type JsonValue,
  type StatsMessage,
} from './bus.ts';
import { EnvelopeError } from './errors.ts';

/**
 * Control envelopes carry signed documents of a few kilobytes; 256 KiB leaves room for batches of
 * named records in re-identification answers while keeping a hostile message cheap to refuse.
 */
export const MAX_ENVELOPE_BYTES = 256 * 1024;

const enc = new TextEncoder();
const dec = new TextDecoder();

interface ControlWire {
  v: 1;
  messageId: string;
  kind: ControlKind;
  from: string;
  issuedAt: number;
  correlationId?: string;
  contentType: string;
  payload: string;
}

/** Serialises a control envelope. */
export function encodeControl(m: ControlMessage): Uint8Array {
  const wire: ControlWire = {
    v: 1,
    messageId: m.messageId,
    kind: m.kind,
    from: m.from,
    issuedAt: m.issuedAt,
    ...(m.correlationId !== undefined ? { correlationId: m.correlationId } : {}),
    contentType: m.contentType,
    payload: Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength).toString('base64'),
  };
  const bytes = enc.encode(JSON.stringify(wire));
  if (bytes.length > MAX_ENVELOPE_BYTES)
    throw new EnvelopeError(`control envelope of ${bytes.length} bytes too large`);
  return bytes;
}

function parseObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  if (bytes.length > MAX_ENVELOPE_BYTES) throw new EnvelopeError(`${what} envelope too large`);
  let v: unknown;
  try {
    v = JSON.parse(dec.decode(bytes));
  } catch (err) {
    throw new EnvelopeError(`${what} envelope is not JSON`, { cause: err });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new EnvelopeError(`${what} envelope is not an object`);
  return v as Record<string, unknown>;
}

/** Parses and validates a control envelope; `EnvelopeError` when malformed. */
export function decodeControl(bytes: Uint8Array): ControlMessage {
  const o = parseObject(bytes, 'control');
  const { v, messageId, kind, from, issuedAt, correlationId, contentType, payload } = o;
  if (
    v !== 1 ||
    typeof messageId !== 'string' ||
    typeof kind !== 'string' ||
    !(CONTROL_KINDS as readonly string[]).includes(kind) ||
    typeof from !== 'string' ||
    typeof issuedAt !== 'number' ||
    (correlationId !== undefined && typeof correlationId !== 'string') ||
    typeof contentType !== 'string' ||
    typeof payload !== 'string'
  )
    throw new EnvelopeError('control envelope fields');
  return {
    messageId,
    kind: kind as ControlKind,
    from,
    issuedAt,
    ...(correlationId !== undefined ? { correlationId } : {}),
    contentType,
    payload: new Uint8Array(Buffer.from(payload, 'base64')),
  };
}

/** Serialises a statistics message. */
export function encodeStats(m: StatsMessage): Uint8Array {
  const bytes = enc.encode(JSON.stringify({ v: 1, ...m }));
  if (bytes.length > MAX_ENVELOPE_BYTES)
    throw new EnvelopeError(`stats envelope of ${bytes.length} bytes too large`);
  return bytes;
}

/** Parses and validates a statistics message. */
export function decodeStats(bytes: Uint8Array): StatsMessage {
  const o = parseObject(bytes, 'stats');
  const { v, kind, providerId, at, batchId, body } = o;
  if (
    v !== 1 ||
    (kind !== 'selection' && kind !== 'health') ||
    typeof providerId !== 'string' ||
    typeof at !== 'number' ||
    (batchId !== undefined && typeof batchId !== 'string') ||
    typeof body !== 'object' ||
    body === null ||
    Array.isArray(body)
  )
    throw new EnvelopeError('stats envelope fields');
  return {
    kind,
    providerId,
    at,
    ...(batchId !== undefined ? { batchId } : {}),
    body: body as { [key: string]: JsonValue },
  };
}
