import { CONTROL, CONTROL_FIELD_CONTENT_TYPE } from './frame-stream.ts';
import { DNSTAP_CONTENT_TYPE, MAX_CONTROL_FRAME_BYTES, MIN_CONTROL_FRAME_BYTES } from './limits.ts';

/**
 * True when `head` (the first bytes of a file) starts like a dnstap Frame Streams file: an escape,
 * a plausible control length, a START control frame, and, when it names one, the dnstap content
 * type. For recognising dnstap files by content in `acd decode`; needs 12 bytes, 42 to check the
 * content type.
 */
export function looksLikeDnstapStream(head: Uint8Array): boolean {
  if (head.length < 12) return false;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (dv.getUint32(0) !== 0) return false;
  const clen = dv.getUint32(4);
  if (clen < MIN_CONTROL_FRAME_BYTES || clen > MAX_CONTROL_FRAME_BYTES) return false;
  if (dv.getUint32(8) !== CONTROL.START) return false;
  if (clen === 4 || head.length < 20) return true;
  if (dv.getUint32(12) !== CONTROL_FIELD_CONTENT_TYPE) return false;
  const n = dv.getUint32(16);
  if (n !== DNSTAP_CONTENT_TYPE.length || head.length < 20 + n) return n === DNSTAP_CONTENT_TYPE.length;
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(head[20 + i]!);
  return s === DNSTAP_CONTENT_TYPE;
}
