/**
 * IPFIX-over-TCP stream framing (RFC 7011 section 10.4): messages follow each other back to back
 * and only the header's length field says where one ends. Also home of {@link ByteQueue}, the
 * chunk buffer every streaming reader in this folder uses.
 */
import { IpfixFramingError } from './errors.ts';
import { MAX_IPFIX_MESSAGE_BYTES, MIN_IPFIX_MESSAGE_BYTES } from './limits.ts';
import { checkExportHeader } from './sniff.ts';

/**
 * A queue of byte chunks read from a stream. `peek`/`take` return a view into a chunk when the
 * bytes lie in one chunk and copy only when they span chunks; the merged copy replaces the pieces
 * so that no byte is copied twice by repeated peeks. Chunks handed in are never modified, so views
 * handed out stay valid after later pushes.
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0;
  private total = 0;

  /** Bytes available. */
  get length(): number {
    return this.total;
  }

  /** Appends a chunk (kept by reference, not copied). */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** The first `n` bytes as one contiguous array, or undefined when fewer are available. */
  peek(n: number): Uint8Array | undefined {
    if (n > this.total) return undefined;
    const first = this.chunks[0];
    if (first === undefined) return new Uint8Array(0);
    if (first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = new Uint8Array(n);
    let filled = 0;
    let used = 0; // chunks fully consumed into `out`
    let rest: Uint8Array | undefined;
    for (let i = 0; filled < n; i++) {
      const c = this.chunks[i];
      if (c === undefined) break;
      const from = i === 0 ? this.head : 0;
      const want = Math.min(n - filled, c.length - from);
      out.set(c.subarray(from, from + want), filled);
      filled += want;
      used = i + 1;
      if (from + want < c.length) rest = c.subarray(from + want);
    }
    const replacement = rest ? [out, rest] : [out];
    this.chunks.splice(0, used, ...replacement);
    this.head = 0;
    return out;
  }

  /** Removes and returns the first `n` bytes (see {@link peek}), or undefined when too few. */
  take(n: number): Uint8Array | undefined {
    const out = this.peek(n);
    if (out !== undefined) this.skip(n);
    return out;
  }

  /** Discards up to `n` bytes; returns how many were discarded. */
  skip(n: number): number {
    let left = Math.min(n, this.total);
    const done = left;
    while (left > 0) {
      const c = this.chunks[0];
      if (c === undefined) break;
      const inChunk = c.length - this.head;
      if (inChunk > left) {
        this.head += left;
        left = 0;
      } else {
        left -= inChunk;
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.total -= done;
    return done;
  }

  /** Drops everything. */
  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.total = 0;
  }
}

/** Options of {@link createIpfixFramer}. */
export interface IpfixFramerOptions {
  /** Largest message accepted; at most (and by default) {@link MAX_IPFIX_MESSAGE_BYTES}. */
  maxMessageBytes?: number;
  /**
   * Start by skipping bytes up to the first plausible IPFIX header instead of expecting one at
   * offset 0. For captures that start in the middle of a connection; a live listener never sets it.
   */
  syncOnStart?: boolean;
}

/** Splits an IPFIX-over-TCP byte stream into messages. */
export interface IpfixFramer {
  /**
   * Adds stream bytes; returns the messages completed by them, in order. Messages inside one chunk
   * are views into it; a message spanning chunks is copied once. Returns nothing once in error.
   */
  push(chunk: Uint8Array): Uint8Array[];
  /**
   * Forgets buffered bytes and skips to the next plausible IPFIX header: used by TCP reassembly
   * after a gap in a captured stream. Clears a framing error.
   */
  resync(): void;
  /** Set when the stream lost framing; the connection should then be closed. */
  readonly error: IpfixFramingError | undefined;
  /** Bytes held waiting for the rest of a message. */
  readonly buffered: number;
  /** Stream bytes consumed so far (framed or skipped). */
  readonly offset: number;
  /** Bytes skipped while looking for a header (after `syncOnStart` or `resync`). */
  readonly skippedBytes: number;
  /** Messages returned so far. */
  readonly messages: number;
}

/**
 * Creates a framer. Error state (typed {@link IpfixFramingError}) on a header whose version is not
 * 10, or whose length is below 16 or above the limit: the stream cannot be resynchronised reliably,
 * so a listener closes the connection.
 */
export function createIpfixFramer(options: IpfixFramerOptions = {}): IpfixFramer {
  const max = Math.min(options.maxMessageBytes ?? MAX_IPFIX_MESSAGE_BYTES, MAX_IPFIX_MESSAGE_BYTES);
  const q = new ByteQueue();
  let syncing = options.syncOnStart ?? false;
  let error: IpfixFramingError | undefined;
  let offset = 0;
  let skipped = 0;
  let messages = 0;

  /** Drops bytes until a plausible header starts the queue; false when more bytes are needed. */
  function sync(): boolean {
    const all = q.peek(q.length);
    if (all === undefined) return false;
    let i = 0;
    for (; i < all.length; i++) {
      const h = checkExportHeader(all, i);
      if (h === 'more') break;
      if (h !== 'no' && h.kind === 'ipfix' && h.length <= max) {
        drop(i);
        syncing = false;
        return true;
      }
    }
    drop(i);
    return false;
  }
  function drop(n: number): void {
    const d = q.skip(n);
    skipped += d;
    offset += d;
  }

  return {
    push(chunk) {
      if (error) return [];
      q.push(chunk);
      const out: Uint8Array[] = [];
      // Each iteration consumes a whole message (>= 16 bytes) or returns, so this terminates.
      while (true) {
        if (syncing && !sync()) return out;
        const hdr = q.peek(4);
        if (hdr === undefined) return out;
        const version = ((hdr[0] ?? 0) << 8) | (hdr[1] ?? 0);
        const length = ((hdr[2] ?? 0) << 8) | (hdr[3] ?? 0);
        if (version !== 10) {
          error = new IpfixFramingError('bad-version', `ipfix stream: version ${version}`, offset);
        } else if (length < MIN_IPFIX_MESSAGE_BYTES) {
          error = new IpfixFramingError('too-short', `ipfix stream: message length ${length}`, offset);
        } else if (length > max) {
          error = new IpfixFramingError('too-long', `ipfix stream: message length ${length}`, offset);
        }
        if (error) {
          q.clear();
          return out;
        }
        const msg = q.take(length);
        if (msg === undefined) return out;
        offset += length;
        messages++;
        out.push(msg);
      }
    },
    resync() {
      q.clear();
      error = undefined;
      syncing = true;
    },
    get error() {
      return error;
    },
    get buffered() {
      return q.length;
    },
    get offset() {
      return offset;
    },
    get skippedBytes() {
      return skipped;
    },
    get messages() {
      return messages;
    },
  };
}
