/**
 * Packing of export messages into transferable batches: the generator's worker thread encodes
 * messages and hands them to the sending thread in one `ArrayBuffer` per batch (moved, not
 * copied). Layout per message: u16 exporter index, u16 length, u32 records, f64 export time (epoch
 * ms), then the message bytes.
 */

/** Bytes of the per-message header. */
export const BATCH_ENTRY_HEADER = 16;
/** Default batch capacity: large enough that posting costs little, small enough to keep latency low. */
export const BATCH_BYTES = 256 * 1024;

/** One message as unpacked from a batch (the bytes are a view into the batch). */
export interface BatchEntry {
  exporterIndex: number;
  records: number;
  timeMs: number;
  bytes: Uint8Array;
}

/** Appends messages to a batch buffer; `take()` returns the filled buffer and starts a new one. */
export class BatchWriter {
  private buf: ArrayBuffer;
  private view: DataView;
  private bytes: Uint8Array;
  private pos = 0;
  /** Messages and records in the current batch. */
  count = 0;
  records = 0;

  constructor(private readonly capacity = BATCH_BYTES) {
    this.buf = new ArrayBuffer(capacity);
    this.view = new DataView(this.buf);
    this.bytes = new Uint8Array(this.buf);
  }

  /** True when a message of `len` bytes no longer fits. */
  wouldOverflow(len: number): boolean {
    return this.pos + BATCH_ENTRY_HEADER + len > this.capacity;
  }

  /** Appends one message (messages are at most 65535 bytes: UDP datagrams and MTU-sized frames). */
  add(exporterIndex: number, records: number, timeMs: number, msg: Uint8Array): void {
    const v = this.view;
    v.setUint16(this.pos, exporterIndex);
    v.setUint16(this.pos + 2, msg.length);
    v.setUint32(this.pos + 4, records);
    v.setFloat64(this.pos + 8, timeMs);
    this.bytes.set(msg, this.pos + BATCH_ENTRY_HEADER);
    this.pos += BATCH_ENTRY_HEADER + msg.length;
    this.count++;
    this.records += records;
  }

  get size(): number {
    return this.pos;
  }

  /** The filled part as its own buffer (to transfer), and a fresh buffer for what follows. */
  take(): { buffer: ArrayBuffer; size: number; count: number; records: number } {
    const out = {
      buffer: this.buf.slice(0, this.pos),
      size: this.pos,
      count: this.count,
      records: this.records,
    };
    this.pos = 0;
    this.count = 0;
    this.records = 0;
    return out;
  }
}

/** Reads the messages of a batch in order. */
export class BatchReader {
  private readonly view: DataView;
  private readonly bytes: Uint8Array;
  private pos = 0;

  constructor(
    buffer: ArrayBuffer,
    private readonly size: number,
  ) {
    this.view = new DataView(buffer);
    this.bytes = new Uint8Array(buffer);
  }

  /** True when every message has been read. */
  get done(): boolean {
    return this.pos >= this.size;
  }

  /** Export time of the next message (call only when not `done`). */
  peekTime(): number {
    return this.view.getFloat64(this.pos + 8);
  }

  /** The next message. */
  next(): BatchEntry {
    const v = this.view;
    const len = v.getUint16(this.pos + 2);
    const e: BatchEntry = {
      exporterIndex: v.getUint16(this.pos),
      records: v.getUint32(this.pos + 4),
      timeMs: v.getFloat64(this.pos + 8),
      bytes: this.bytes.subarray(this.pos + BATCH_ENTRY_HEADER, this.pos + BATCH_ENTRY_HEADER + len),
    };
    this.pos += BATCH_ENTRY_HEADER + len;
    return e;
  }
}
