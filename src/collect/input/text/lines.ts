/**
 * Splits a byte stream into lines without ever holding more than one line (bounded by
 * {@link MAX_TEXT_LINE_BYTES}) plus the current chunk. Line breaks are LF or CRLF; a longer line
 * is skipped up to its line break and reported as too long, so a file without line breaks cannot
 * make the reader buffer it whole.
 */
import { MAX_TEXT_LINE_BYTES } from './limits.ts';

/** One line out of the splitter: its text, or a marker that it was too long to keep. */
export type SplitLine = { line: number; text: string } | { line: number; tooLong: true };

const LF = 0x0a;
const CR = 0x0d;

/** Incremental line splitter; `push` each chunk, then `end` once. Never throws. */
export class LineSplitter {
  private parts: Uint8Array[] = [];
  private partBytes = 0;
  private overflow = false;
  private lineNo = 0;
  private readonly decoder = new TextDecoder('utf-8');
  private readonly maxBytes: number;

  /** `maxBytes` defaults to {@link MAX_TEXT_LINE_BYTES}; tests use smaller values. */
  constructor(maxBytes: number = MAX_TEXT_LINE_BYTES) {
    this.maxBytes = maxBytes;
  }

  /** Lines completed by this chunk. */
  *push(chunk: Uint8Array): Generator<SplitLine> {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(LF, start);
      const end = nl === -1 ? chunk.length : nl;
      if (!this.overflow) {
        const len = end - start;
        // One byte of slack for a CR that the line break will strip.
        if (this.partBytes + len > this.maxBytes + 1) {
          this.overflow = true;
          this.parts = [];
          this.partBytes = 0;
        } else if (len > 0) {
          // Copy only what outlives this call (the unfinished tail); complete lines are decoded now.
          this.parts.push(nl === -1 ? chunk.slice(start, end) : chunk.subarray(start, end));
          this.partBytes += len;
        }
      }
      if (nl === -1) return;
      yield this.finish();
      start = nl + 1;
    }
  }

  /** The last line when the input does not end with a line break. */
  *end(): Generator<SplitLine> {
    if (this.partBytes > 0 || this.overflow) yield this.finish();
  }

  private finish(): SplitLine {
    this.lineNo++;
    const line = this.lineNo;
    if (this.overflow) {
      this.overflow = false;
      return { line, tooLong: true };
    }
    let bytes: Uint8Array;
    if (this.parts.length === 1) bytes = this.parts[0]!;
    else {
      bytes = new Uint8Array(this.partBytes);
      let o = 0;
      for (const p of this.parts) {
        bytes.set(p, o);
        o += p.length;
      }
    }
    this.parts = [];
    this.partBytes = 0;
    let n = bytes.length;
    if (n > 0 && bytes[n - 1] === CR) n--;
    if (n > this.maxBytes) return { line, tooLong: true };
    return { line, text: this.decoder.decode(bytes.subarray(0, n)) };
  }
}
