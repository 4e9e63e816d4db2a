/**
 * On-disk format of the edge spool: segment files of encrypted frames.
 *
 * Segment file `seg-<first seq, 16 digits>.spool`:
 *   header (48 bytes): magic `ACDSPOOL` (8) | format version (1) | reserved (7) | salt (32)
 *   frames:            ciphertext length L (u32 BE) | ciphertext (L) | GCM tag (16)
 *
 * Encryption (AES-256-GCM, node:crypto): each segment has its own key, derived from the edge key
 * with HKDF-SHA256 over the segment's random 32-byte salt (info `acd-spool-segment-v1`). The IV of
 * frame i is 4 zero bytes followed by i as a u64 BE: unique under that key because a segment
 * numbers its frames 0, 1, 2, … and is never appended to after a restart (a restart opens a new
 * segment with a new salt, hence a new key). The additional authenticated data is the header plus
 * the frame index, so frames cannot be reordered or moved between segments undetected.
 *
 * Crash safety: a frame torn by a crash (partial length, partial body or tag) or altered fails the
 * length check or authentication; recovery keeps the frames before it and truncates the file there.
 *
 * Plaintext of a frame: version (1) | seq (u48 BE) | batchId length (1) | batchId | providerId
 * length (1) | providerId | partition (u16 BE) | record count (u32 BE) | encoded batch (rest).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { EncodedBatch } from '../bus.ts';
import { MAX_BATCH_BYTES } from '../codec.ts';

/** Header length in bytes. */
export const HEADER_BYTES = 48;
const MAGIC = Buffer.from('ACDSPOOL', 'latin1');
/** Segment format version. */
export const SPOOL_FORMAT_VERSION = 1;
const TAG_BYTES = 16;
/** Bytes around each frame's ciphertext (length prefix and tag). */
export const FRAME_OVERHEAD = 4 + TAG_BYTES;
/**
 * Largest ciphertext a frame may declare: one maximal encoded batch plus its plaintext header.
 * A longer length field can only come from a torn or corrupt file and ends recovery of the segment
 * rather than making it allocate or read an attacker-sized buffer.
 */
export const MAX_FRAME_CIPHERTEXT = MAX_BATCH_BYTES + 1024;

/** A spooled batch as stored. */
export interface SpooledFrame extends EncodedBatch {
  seq: number;
}

/** Builds a segment header with a fresh salt; returns it with the segment's derived key. */
export function newHeader(edgeKey: Buffer): { header: Buffer; key: Buffer } {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header[8] = SPOOL_FORMAT_VERSION;
  randomBytes(32).copy(header, 16);
  return { header, key: segmentKey(edgeKey, header) };
}

/** The segment key of a header (HKDF-SHA256 of the edge key over the header's salt). */
export function segmentKey(edgeKey: Buffer, header: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', edgeKey, header.subarray(16, 48), 'acd-spool-segment-v1', 32));
}

/** True when `buf` starts with a header this version understands. */
export function validHeader(buf: Buffer): boolean {
  return buf.length >= HEADER_BYTES && buf.subarray(0, 8).equals(MAGIC) && buf[8] === SPOOL_FORMAT_VERSION;
}

function iv(index: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeBigUInt64BE(BigInt(index), 4);
  return b;
}

function aad(header: Buffer, index: number): Buffer {
  const b = Buffer.alloc(HEADER_BYTES + 4);
  header.copy(b, 0, 0, HEADER_BYTES);
  b.writeUInt32BE(index >>> 0, HEADER_BYTES);
  return b;
}

/** Encrypts one batch as frame `index` of the segment with `header`/`key`. */
export function sealFrame(key: Buffer, header: Buffer, index: number, f: SpooledFrame): Buffer {
  const id = Buffer.from(f.batchId, 'utf8');
  const prov = Buffer.from(f.providerId, 'utf8');
  const head = Buffer.alloc(1 + 6 + 1 + id.length + 1 + prov.length + 2 + 4);
  let o = 0;
  head[o++] = 1;
  head.writeUIntBE(f.seq, o, 6);
  o += 6;
  head[o++] = id.length;
  id.copy(head, o);
  o += id.length;
  head[o++] = prov.length;
  prov.copy(head, o);
  o += prov.length;
  head.writeUInt16BE(f.partition, o);
  o += 2;
  head.writeUInt32BE(f.recordCount, o);
  const cipher = createCipheriv('aes-256-gcm', key, iv(index));
  cipher.setAAD(aad(header, index));
  const c1 = cipher.update(head);
  const c2 = cipher.update(f.bytes);
  const c3 = cipher.final();
  const len = c1.length + c2.length + c3.length;
  const out = Buffer.alloc(4 + len + TAG_BYTES);
  out.writeUInt32BE(len, 0);
  c1.copy(out, 4);
  c2.copy(out, 4 + c1.length);
  c3.copy(out, 4 + c1.length + c2.length);
  cipher.getAuthTag().copy(out, 4 + len);
  return out;
}

/** Result of reading the frame at an offset. */
export type OpenResult =
  { ok: true; frame: SpooledFrame; next: number } | { ok: false; reason: 'torn' | 'auth' | 'malformed' };

/** Reads, authenticates and decrypts the frame at `offset` of a segment buffer. */
export function openFrame(
  key: Buffer,
  header: Buffer,
  index: number,
  buf: Buffer,
  offset: number,
): OpenResult {
  if (offset + FRAME_OVERHEAD > buf.length) return { ok: false, reason: 'torn' };
  const len = buf.readUInt32BE(offset);
  if (len > MAX_FRAME_CIPHERTEXT) return { ok: false, reason: 'malformed' };
  if (offset + 4 + len + TAG_BYTES > buf.length) return { ok: false, reason: 'torn' };
  let plain: Buffer;
  try {
    const d = createDecipheriv('aes-256-gcm', key, iv(index));
    d.setAAD(aad(header, index));
    d.setAuthTag(buf.subarray(offset + 4 + len, offset + 4 + len + TAG_BYTES));
    plain = Buffer.concat([d.update(buf.subarray(offset + 4, offset + 4 + len)), d.final()]);
  } catch {
    return { ok: false, reason: 'auth' };
  }
  // Authenticated, so written by this edge; the checks below guard against a format bug only.
  if (plain.length < 15 || plain[0] !== 1) return { ok: false, reason: 'malformed' };
  let o = 1;
  const seq = plain.readUIntBE(o, 6);
  o += 6;
  const idLen = plain[o++]!;
  if (o + idLen + 1 > plain.length) return { ok: false, reason: 'malformed' };
  const batchId = plain.toString('utf8', o, o + idLen);
  o += idLen;
  const provLen = plain[o++]!;
  if (o + provLen + 6 > plain.length) return { ok: false, reason: 'malformed' };
  const providerId = plain.toString('utf8', o, o + provLen);
  o += provLen;
  const partition = plain.readUInt16BE(o);
  o += 2;
  const recordCount = plain.readUInt32BE(o);
  o += 4;
  const bytes = new Uint8Array(plain.buffer, plain.byteOffset + o, plain.length - o);
  return {
    ok: true,
    frame: { seq, batchId, providerId, partition, recordCount, bytes },
    next: offset + 4 + len + TAG_BYTES,
  };
}
