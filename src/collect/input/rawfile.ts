/**
 * Splits raw export files (messages back to back, as `nc -u -l > file` saves them) into
 * messages, streaming, with bounded memory.
 *
 * How message ends are found:
 * - IPFIX: the header's length field (and the sets must tile the message exactly);
 * - NetFlow v5: 24 + 48 * count;
 * - NetFlow v9 carries no length, and its `count` counts records, which cannot be told apart in
 *   data flowsets without the templates. So flowsets (id, length) are walked until the next two
 *   bytes are not a valid flowset id (0, 1 or >= 256) or the file ends. Versions 5, 9 and 10 are
 *   reserved flowset ids, so a following export header always ends the walk.
 *
 * Limits of the heuristic: garbage right after a v9 message whose first bytes look like a valid
 * flowset (id 0, 1 or >= 256 and a length that fits) is taken as part of that message (the decoder
 * then reports a malformed flowset); a walk longer than {@link MAX_NETFLOW9_MESSAGE_BYTES} is cut.
 * Garbage between messages is skipped byte by byte until a plausible header
 * ({@link checkExportHeader}) starts, and reported once per run as a `garbage` event.
 */
import { ByteQueue } from './framing.ts';
import { MAX_NETFLOW9_MESSAGE_BYTES, MIN_IPFIX_MESSAGE_BYTES, NETFLOW9_HEADER_BYTES } from './limits.ts';
import { checkExportHeader, isIpfixSetId, isNetflow9FlowsetId, type ExportKind } from './sniff.ts';

/** One message cut out of a raw export file. */
export interface RawExportMessage {
  protocol: ExportKind;
  /** File offset of the message. */
  offset: number;
  bytes: Uint8Array;
}

/** Anomalies met while splitting; each feeds a counter. */
export type RawFileEvent =
  | { kind: 'garbage'; offset: number; bytes: number }
  | { kind: 'truncated-message'; offset: number; bytes: number; protocol: ExportKind }
  /** A v9 walk reached the size limit; `bytes` is the length of the message emitted up to there. */
  | { kind: 'netflow9-cut'; offset: number; bytes: number };

/** What one `push` or `end` produced. */
export interface RawFileOutput {
  messages: RawExportMessage[];
  events: RawFileEvent[];
}

/** See {@link createRawExportSplitter}. */
export interface RawExportSplitter {
  /** Adds file bytes; returns the messages and events they completed. */
  push(chunk: Uint8Array): RawFileOutput;
  /** End of file: the rest becomes a last message, a truncated message or garbage. */
  end(): RawFileOutput;
}

function u16(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
}

/** Creates a splitter for one file. */
export function createRawExportSplitter(): RawExportSplitter {
  const q = new ByteQueue();
  let offset = 0;
  let garbageStart = -1;
  let garbageBytes = 0;
  /** Resume point of an unfinished v9 flowset walk (relative to the queue head), or 0. */
  let v9Pos = 0;

  function flushGarbage(out: RawFileOutput): void {
    if (garbageBytes > 0) out.events.push({ kind: 'garbage', offset: garbageStart, bytes: garbageBytes });
    garbageBytes = 0;
    garbageStart = -1;
  }
  function garbage(n: number): void {
    if (garbageBytes === 0) garbageStart = offset;
    garbageBytes += q.skip(n);
    offset += n;
  }
  function emit(protocol: ExportKind, length: number, out: RawFileOutput): void {
    flushGarbage(out);
    const bytes = q.take(length);
    if (bytes) out.messages.push({ protocol, offset, bytes });
    offset += length;
    v9Pos = 0;
  }
  function truncated(protocol: ExportKind, out: RawFileOutput): void {
    flushGarbage(out);
    out.events.push({ kind: 'truncated-message', offset, bytes: q.length, protocol });
    offset += q.skip(q.length);
    v9Pos = 0;
  }

  /** Skips bytes that cannot start a message; false when more bytes are needed to decide. */
  function scanGarbage(final: boolean): void {
    const all = q.peek(q.length);
    if (!all) return;
    let i = 1;
    for (; i < all.length; i++) {
      const h = checkExportHeader(all, i);
      if (h === 'more') {
        if (final) i = all.length;
        break;
      }
      if (h !== 'no') break;
    }
    garbage(i);
  }

  function ipfixTiles(b: Uint8Array): boolean {
    let o = MIN_IPFIX_MESSAGE_BYTES;
    // Each set is at least 4 bytes, so at most length / 4 steps.
    while (o < b.length) {
      if (b.length - o < 4) return false;
      const id = u16(b, o);
      const len = u16(b, o + 2);
      if (!isIpfixSetId(id) || len < 4 || o + len > b.length) return false;
      o += len;
    }
    return true;
  }

  /** Walks v9 flowsets; returns the message length, 'more', or 'truncated'. */
  function walkV9(final: boolean, out: RawFileOutput): number | 'more' | 'truncated' {
    const window = q.peek(Math.min(q.length, MAX_NETFLOW9_MESSAGE_BYTES + 2));
    if (!window) return 'more';
    const allVisible = window.length === q.length;
    let pos = Math.max(v9Pos, NETFLOW9_HEADER_BYTES);
    // Each step advances by a flowset length >= 4, so the walk is bounded by the window.
    while (true) {
      if (window.length - pos < 2) {
        if (allVisible && final) return pos;
        if (!allVisible) return pos; // only possible at the message size limit
        v9Pos = pos;
        return 'more';
      }
      const id = u16(window, pos);
      if (!isNetflow9FlowsetId(id)) return pos;
      if (window.length - pos < 4) {
        if (final && allVisible) return 'truncated';
        v9Pos = pos;
        return 'more';
      }
      const len = u16(window, pos + 2);
      if (len < 4) return pos;
      if (pos + len > MAX_NETFLOW9_MESSAGE_BYTES) {
        out.events.push({ kind: 'netflow9-cut', offset, bytes: pos });
        return pos;
      }
      if (pos + len > window.length) {
        if (final && allVisible) return 'truncated';
        v9Pos = pos;
        return 'more';
      }
      pos += len;
    }
  }

  function run(final: boolean): RawFileOutput {
    const out: RawFileOutput = { messages: [], events: [] };
    // Each iteration consumes bytes or returns to wait for more.
    while (q.length > 0) {
      const head = q.peek(Math.min(q.length, 24));
      if (!head) break;
      const h = checkExportHeader(head, 0);
      if (h === 'more') {
        if (!final) break;
        garbage(q.length);
        break;
      }
      if (h === 'no') {
        scanGarbage(final);
        continue;
      }
      if (h.kind === 'netflow9') {
        const r = walkV9(final, out);
        if (r === 'more') break;
        if (r === 'truncated') truncated('netflow9', out);
        else emit('netflow9', r, out);
        continue;
      }
      if (q.length < h.length) {
        if (!final) break;
        truncated(h.kind, out);
        break;
      }
      if (h.kind === 'ipfix') {
        const msg = q.peek(h.length);
        if (msg && !ipfixTiles(msg)) {
          garbage(1);
          continue;
        }
      }
      emit(h.kind, h.length, out);
    }
    if (final) flushGarbage(out);
    return out;
  }

  return {
    push(chunk) {
      q.push(chunk);
      return run(false);
    },
    end() {
      return run(true);
    },
  };
}
