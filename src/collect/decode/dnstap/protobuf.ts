import { ProtobufError } from './errors.ts';
import { MAX_PROTOBUF_FIELDS, MAX_VARINT_BYTES } from './limits.ts';

/** Protobuf wire types (the low 3 bits of a field key). Groups (3, 4) are obsolete and refused. */
export const WIRE = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 } as const;

/**
 * A small, bounded protobuf reader: just what the dnstap schema needs (varint, length-delimited,
 * fixed32, fixed64). Hand-written rather than a generated codec because the schema is tiny, the
 * hot path wants no allocation per field, and every length must be checked against the buffer
 * and a named limit. Methods throw `ProtobufError`; the dnstap decoder catches it at its boundary.
 *
 * Use: `while (r.next()) switch (r.field) { case 1: x = r.varint(); break; default: r.skip(); }`
 * Each field's value must be consumed (read or skipped) before the next `next()`.
 */
export class ProtoReader {
  /** Number of the current field (after `next()` returned true). */
  field = 0;
  /** Wire type of the current field. */
  wire = 0;
  private pos: number;
  private fields = 0;

  constructor(
    private readonly b: Uint8Array,
    start = 0,
    private readonly end = b.length,
  ) {
    this.pos = start;
  }

  /** Position of the next unread octet. */
  get offset(): number {
    return this.pos;
  }

  /** Reads the next field key; false at the end of the message. */
  next(): boolean {
    if (this.pos >= this.end) return false;
    if (++this.fields > MAX_PROTOBUF_FIELDS) {
      throw new ProtobufError('too-many-fields', `more than ${MAX_PROTOBUF_FIELDS} fields`, this.pos);
    }
    const at = this.pos;
    const key = this.varint();
    this.wire = key % 8;
    this.field = Math.floor(key / 8);
    if (this.field < 1 || this.field > 0x1fffffff) {
      throw new ProtobufError('bad-field-number', `field number ${this.field}`, at);
    }
    if (this.wire === WIRE.SGROUP || this.wire === WIRE.EGROUP || this.wire > WIRE.I32) {
      throw new ProtobufError('bad-wire-type', `wire type ${this.wire}`, at);
    }
    return true;
  }

  /**
   * Reads a varint as a number. Values above 2^53 lose precision (no dnstap field holds one:
   * times are seconds since the epoch, ports and enums are small).
   */
  varint(): number {
    const b = this.b;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.pos >= this.end) throw new ProtobufError('truncated', 'varint runs past the end', this.pos);
      const c = b[this.pos++]!;
      result += (c & 0x7f) * mul;
      if (c < 0x80) return result;
      mul *= 128;
    }
    throw new ProtobufError('varint-too-long', `varint longer than ${MAX_VARINT_BYTES} bytes`, this.pos);
  }

  /** Reads a length-delimited value as a view into the buffer (no copy). */
  bytes(): Uint8Array {
    const at = this.pos;
    const len = this.varint();
    if (len > this.end - this.pos) {
      throw new ProtobufError('truncated', `length ${len} runs past the end`, at);
    }
    const v = this.b.subarray(this.pos, this.pos + len);
    this.pos += len;
    return v;
  }

  /** Reads a little-endian fixed32. */
  fixed32(): number {
    if (this.pos + 4 > this.end) throw new ProtobufError('truncated', 'fixed32 runs past the end', this.pos);
    const b = this.b;
    const p = this.pos;
    this.pos += 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  /** Reads a little-endian fixed64 as a number (precision lost above 2^53). */
  fixed64(): number {
    const lo = this.fixed32();
    const hi = this.fixed32();
    return hi * 2 ** 32 + lo;
  }

  /** Skips the current field's value according to its wire type. */
  skip(): void {
    switch (this.wire) {
      case WIRE.VARINT:
        this.varint();
        return;
      case WIRE.I64:
        this.fixed64();
        return;
      case WIRE.LEN:
        this.bytes();
        return;
      case WIRE.I32:
        this.fixed32();
        return;
      default:
        throw new ProtobufError('bad-wire-type', `wire type ${this.wire}`, this.pos);
    }
  }

  /**
   * Reads the current field as the scalar its schema declares, tolerating a sender that used
   * another numeric wire type; a length-delimited value where a number is expected is skipped
   * and yields undefined (protobuf's rule: a field of the wrong type is an unknown field).
   */
  number(): number | undefined {
    switch (this.wire) {
      case WIRE.VARINT:
        return this.varint();
      case WIRE.I32:
        return this.fixed32();
      case WIRE.I64:
        return this.fixed64();
      default:
        this.skip();
        return undefined;
    }
  }

  /** Reads the current field as bytes if it is length-delimited; otherwise skips it. */
  bytesOrSkip(): Uint8Array | undefined {
    if (this.wire === WIRE.LEN) return this.bytes();
    this.skip();
    return undefined;
  }
}

/** Writes protobuf encodings: for tests, fixtures and the simulator (never on the hot path). */
export class ProtoWriter {
  private readonly parts: number[] = [];

  /** Appends a varint field. */
  uint(field: number, v: number): this {
    this.key(field, WIRE.VARINT);
    this.rawVarint(v);
    return this;
  }

  /** Appends a fixed32 field. */
  fixed32(field: number, v: number): this {
    this.key(field, WIRE.I32);
    for (let i = 0; i < 4; i++) this.parts.push((v >>> (8 * i)) & 0xff);
    return this;
  }

  /** Appends a length-delimited field. */
  bytes(field: number, v: Uint8Array | string): this {
    const b = typeof v === 'string' ? new TextEncoder().encode(v) : v;
    this.key(field, WIRE.LEN);
    this.rawVarint(b.length);
    for (const x of b) this.parts.push(x);
    return this;
  }

  /** The encoded message. */
  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }

  private key(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  private rawVarint(v: number): void {
    let x = v;
    while (x >= 0x80) {
      this.parts.push((x % 128) | 0x80);
      x = Math.floor(x / 128);
    }
    this.parts.push(x);
  }
}
