/**
 * Streaming reader for classic pcap (both byte orders, micro- and nanosecond magic, and the old
 * Kuznetzov variant) and pcapng (sections of either byte order, IDBs with per-interface link
 * type, `if_tsresol` and `if_tsoffset`, EPB, SPB, the obsolete PB; other blocks skipped). Pure:
 * bytes in, packets and typed events out; bounded memory (one record or block at a time).
 */
import { CaptureFormatError } from './errors.ts';
import { ByteQueue } from './framing.ts';
import {
  MAX_PCAPNG_BLOCK_BYTES,
  MAX_PCAPNG_INTERFACES,
  MAX_PCAP_RECORD_BYTES,
  MAX_TSRESOL_BINARY_EXPONENT,
  MAX_TSRESOL_DECIMAL_EXPONENT,
} from './limits.ts';

/** One packet read from a capture. */
export interface CapturedPacket {
  /**
   * Capture time in epoch milliseconds (may have a fraction). Simple Packet Blocks carry no time:
   * they get the previous packet's time in the section (0 if none), as documented by pcapng.
   */
  timestampMs: number;
  /** LINKTYPE_ value of the packet's interface (lower 16 bits of the pcap header field). */
  linkType: number;
  /** pcapng interface id within its section; 0 for classic pcap. */
  interfaceId: number;
  /** The captured bytes (a view; never modified by the reader). */
  data: Uint8Array;
  /** Length of the packet on the wire; larger than `data.length` when the snapshot cut it. */
  originalLength: number;
}

/** Recoverable anomalies reported by the capture reader; each feeds a counter. */
export type CaptureEvent =
  | { kind: 'truncated-file'; offset: number; bytes: number }
  | { kind: 'block-skipped'; offset: number; blockType: number }
  | { kind: 'section-skipped'; offset: number; majorVersion: number }
  | { kind: 'unknown-interface'; offset: number; interfaceId: number }
  | { kind: 'too-many-interfaces'; offset: number }
  | { kind: 'bad-tsresol'; offset: number; value: number }
  | { kind: 'malformed-block'; offset: number; blockType: number; reason: string };

/** What one `push` or `end` produced. */
export interface CaptureOutput {
  packets: CapturedPacket[];
  events: CaptureEvent[];
}

/** Streaming capture reader; see {@link createCaptureReader}. */
export interface CaptureReader {
  /** Adds file bytes; returns the packets and events they completed. */
  push(chunk: Uint8Array): CaptureOutput;
  /** Signals end of file: leftover bytes become a `truncated-file` event. */
  end(): CaptureOutput;
  /** Detected format once the header is read. */
  readonly format: 'pcap' | 'pcapng' | undefined;
  /** Set when the capture's structure cannot be followed; reading then stops. */
  readonly error: CaptureFormatError | undefined;
}

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const PB = 0x00000002;
const SPB = 0x00000003;
const EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_ENDOFOPT = 0;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;

interface Interface {
  linkType: number;
  snapLen: number;
  /** Timestamp units per millisecond. */
  unitsPerMs: number;
  offsetMs: number;
}

/**
 * Creates a reader for pcap or pcapng, recognised from the first bytes. Unknown magic puts the
 * reader in error state with a {@link CaptureFormatError} (returned, not thrown).
 */
export function createCaptureReader(): CaptureReader {
  const q = new ByteQueue();
  let format: 'pcap' | 'pcapng' | undefined;
  let error: CaptureFormatError | undefined;
  let offset = 0; // file offset of the queue's first byte

  // classic pcap state
  let le = false;
  let nanos = false;
  let recordHeaderBytes = 16;
  let pcapLinkType = 0;

  // pcapng state
  let sectionLe = false;
  let skippingSection = false;
  let interfaces: Interface[] = [];
  let lastTimestampMs = 0;

  function fail(message: string): void {
    error = new CaptureFormatError(message, offset);
    q.clear();
  }

  function readHeader(): boolean {
    const h = q.peek(4);
    if (h === undefined) return false;
    const dv = new DataView(h.buffer, h.byteOffset, 4);
    const be = dv.getUint32(0, false);
    if (be === SHB) {
      format = 'pcapng';
      return true;
    }
    const magics: Record<number, [boolean, boolean, number]> = {
      0xa1b2c3d4: [false, false, 16],
      0xd4c3b2a1: [true, false, 16],
      0xa1b23c4d: [false, true, 16],
      0x4d3cb2a1: [true, true, 16],
      0xa1b2cd34: [false, false, 24],
      0x34cdb2a1: [true, false, 24],
    };
    const m = magics[be];
    if (m === undefined) {
      fail(`not a pcap or pcapng capture (magic 0x${be.toString(16).padStart(8, '0')})`);
      return false;
    }
    const full = q.peek(24);
    if (full === undefined) return false;
    [le, nanos, recordHeaderBytes] = m;
    const fdv = new DataView(full.buffer, full.byteOffset, 24);
    // The link type is the low 16 bits; the upper bits carry FCS information (pcap draft).
    pcapLinkType = fdv.getUint32(20, le) & 0xffff;
    format = 'pcap';
    q.skip(24);
    offset += 24;
    return true;
  }

  function pcapRecord(out: CaptureOutput): boolean {
    const h = q.peek(recordHeaderBytes);
    if (h === undefined) return false;
    const dv = new DataView(h.buffer, h.byteOffset, recordHeaderBytes);
    const sec = dv.getUint32(0, le);
    const frac = dv.getUint32(4, le);
    const inclLen = dv.getUint32(8, le);
    const origLen = dv.getUint32(12, le);
    if (inclLen > MAX_PCAP_RECORD_BYTES) {
      fail(`pcap record length ${inclLen} exceeds ${MAX_PCAP_RECORD_BYTES}`);
      return false;
    }
    const rec = q.peek(recordHeaderBytes + inclLen);
    if (rec === undefined) return false;
    q.skip(recordHeaderBytes + inclLen);
    offset += recordHeaderBytes + inclLen;
    out.packets.push({
      timestampMs: sec * 1000 + (nanos ? frac / 1e6 : frac / 1e3),
      linkType: pcapLinkType,
      interfaceId: 0,
      data: rec.subarray(recordHeaderBytes),
      originalLength: Math.max(origLen, inclLen),
    });
    return true;
  }

  function pcapngBlock(out: CaptureOutput): boolean {
    const h = q.peek(12);
    if (h === undefined) return false;
    const dv = new DataView(h.buffer, h.byteOffset, 12);
    const type = dv.getUint32(0, sectionLe);
    if (type === SHB) {
      const bom = dv.getUint32(8, false);
      if (bom === BYTE_ORDER_MAGIC) sectionLe = false;
      else if (bom === 0x4d3c2b1a) sectionLe = true;
      else {
        fail(`pcapng section header with bad byte-order magic 0x${bom.toString(16)}`);
        return false;
      }
    }
    const blockType = dv.getUint32(0, sectionLe);
    const len = dv.getUint32(4, sectionLe);
    if (len < 12 || len % 4 !== 0 || len > MAX_PCAPNG_BLOCK_BYTES) {
      fail(`pcapng block length ${len} invalid (multiple of 4, 12..${MAX_PCAPNG_BLOCK_BYTES})`);
      return false;
    }
    const block = q.peek(len);
    if (block === undefined) return false;
    const bdv = new DataView(block.buffer, block.byteOffset, len);
    if (bdv.getUint32(len - 4, sectionLe) !== len) {
      fail(`pcapng block trailing length disagrees with ${len}`);
      return false;
    }
    const blockOffset = offset;
    q.skip(len);
    offset += len;
    if (blockType === SHB) {
      if (len < 28) {
        fail('pcapng section header block too short');
        return false;
      }
      const major = bdv.getUint16(12, sectionLe);
      interfaces = [];
      lastTimestampMs = 0;
      skippingSection = major !== 1;
      if (skippingSection)
        out.events.push({ kind: 'section-skipped', offset: blockOffset, majorVersion: major });
      return true;
    }
    if (skippingSection) return true;
    switch (blockType) {
      case IDB:
        readIdb(block, bdv, blockOffset, out);
        break;
      case EPB:
      case PB:
        readPacketBlock(blockType, block, bdv, blockOffset, out);
        break;
      case SPB:
        readSpb(block, bdv, blockOffset, out);
        break;
      default:
        out.events.push({ kind: 'block-skipped', offset: blockOffset, blockType });
    }
    return true;
  }

  function readIdb(block: Uint8Array, dv: DataView, at: number, out: CaptureOutput): void {
    if (block.length < 20) {
      out.events.push({ kind: 'malformed-block', offset: at, blockType: IDB, reason: 'short' });
      return;
    }
    if (interfaces.length >= MAX_PCAPNG_INTERFACES) {
      out.events.push({ kind: 'too-many-interfaces', offset: at });
      return;
    }
    const iface: Interface = {
      linkType: dv.getUint16(8, sectionLe),
      snapLen: dv.getUint32(12, sectionLe),
      unitsPerMs: 1000,
      offsetMs: 0,
    };
    // Options: code, length, value padded to 4 bytes; each step advances >= 4 bytes.
    let o = 16;
    const end = block.length - 4;
    while (o + 4 <= end) {
      const code = dv.getUint16(o, sectionLe);
      const olen = dv.getUint16(o + 2, sectionLe);
      if (code === OPT_ENDOFOPT) break;
      if (o + 4 + olen > end) {
        out.events.push({
          kind: 'malformed-block',
          offset: at,
          blockType: IDB,
          reason: 'option overruns block',
        });
        break;
      }
      if (code === IF_TSRESOL && olen >= 1) {
        const v = dv.getUint8(o + 4);
        const exp = v & 0x7f;
        if (v & 0x80) {
          if (exp <= MAX_TSRESOL_BINARY_EXPONENT) iface.unitsPerMs = 2 ** exp / 1000;
          else out.events.push({ kind: 'bad-tsresol', offset: at, value: v });
        } else if (exp <= MAX_TSRESOL_DECIMAL_EXPONENT) {
          iface.unitsPerMs = 10 ** exp / 1000;
        } else out.events.push({ kind: 'bad-tsresol', offset: at, value: v });
      } else if (code === IF_TSOFFSET && olen >= 8) {
        // Seconds, signed 64-bit; read as two halves to stay in Number.
        const hi = sectionLe ? dv.getInt32(o + 8, true) : dv.getInt32(o + 4, false);
        const lo = sectionLe ? dv.getUint32(o + 4, true) : dv.getUint32(o + 8, false);
        iface.offsetMs = (hi * 4294967296 + lo) * 1000;
      }
      o += 4 + ((olen + 3) & ~3);
    }
    interfaces.push(iface);
  }

  function timestamp(iface: Interface, high: number, low: number): number {
    const units = high * 4294967296 + low;
    if (units <= Number.MAX_SAFE_INTEGER) return units / iface.unitsPerMs + iface.offsetMs;
    // Nanosecond clocks pass 2^53 units; split in exact integer arithmetic to keep the millisecond.
    const t = (BigInt(high) << 32n) | BigInt(low);
    const perMs = iface.unitsPerMs;
    if (!Number.isSafeInteger(perMs)) return units / perMs + iface.offsetMs;
    const per = BigInt(perMs);
    return Number(t / per) + Number(t % per) / perMs + iface.offsetMs;
  }

  function readPacketBlock(
    type: number,
    block: Uint8Array,
    dv: DataView,
    at: number,
    out: CaptureOutput,
  ): void {
    // EPB: if id u32, ts high, ts low, caplen, origlen (body 20); PB: if id u16, drops u16, then same.
    if (block.length < 32) {
      out.events.push({ kind: 'malformed-block', offset: at, blockType: type, reason: 'short' });
      return;
    }
    const ifId = type === EPB ? dv.getUint32(8, sectionLe) : dv.getUint16(8, sectionLe);
    const high = dv.getUint32(12, sectionLe);
    const low = dv.getUint32(16, sectionLe);
    const capLen = dv.getUint32(20, sectionLe);
    const origLen = dv.getUint32(24, sectionLe);
    if (capLen > block.length - 32) {
      out.events.push({
        kind: 'malformed-block',
        offset: at,
        blockType: type,
        reason: 'captured length overruns block',
      });
      return;
    }
    const iface = interfaces[ifId];
    if (iface === undefined) {
      out.events.push({ kind: 'unknown-interface', offset: at, interfaceId: ifId });
      return;
    }
    lastTimestampMs = timestamp(iface, high, low);
    out.packets.push({
      timestampMs: lastTimestampMs,
      linkType: iface.linkType,
      interfaceId: ifId,
      data: block.subarray(28, 28 + capLen),
      originalLength: Math.max(origLen, capLen),
    });
  }

  function readSpb(block: Uint8Array, dv: DataView, at: number, out: CaptureOutput): void {
    if (block.length < 16) {
      out.events.push({ kind: 'malformed-block', offset: at, blockType: SPB, reason: 'short' });
      return;
    }
    const iface = interfaces[0];
    if (iface === undefined) {
      out.events.push({ kind: 'unknown-interface', offset: at, interfaceId: 0 });
      return;
    }
    const origLen = dv.getUint32(8, sectionLe);
    // The captured length is implied: the original length cut by the snapshot length and the block.
    let capLen = Math.min(origLen, block.length - 16);
    if (iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen);
    out.packets.push({
      timestampMs: lastTimestampMs,
      linkType: iface.linkType,
      interfaceId: 0,
      data: block.subarray(12, 12 + capLen),
      originalLength: Math.max(origLen, capLen),
    });
  }

  function run(out: CaptureOutput): CaptureOutput {
    // Every successful step consumes at least 12 bytes; a step that needs more bytes returns false.
    while (!error) {
      if (format === undefined) {
        if (!readHeader()) break;
        continue;
      }
      const progressed = format === 'pcap' ? pcapRecord(out) : pcapngBlock(out);
      if (!progressed) break;
    }
    return out;
  }

  return {
    push(chunk) {
      if (error) return { packets: [], events: [] };
      q.push(chunk);
      return run({ packets: [], events: [] });
    },
    end() {
      const out: CaptureOutput = { packets: [], events: [] };
      if (error) return out;
      if (format === undefined && q.length > 0) {
        fail(`capture too short to hold a header (${q.length} bytes)`);
        return out;
      }
      if (q.length > 0) {
        out.events.push({ kind: 'truncated-file', offset, bytes: q.length });
        offset += q.length;
        q.clear();
      }
      return out;
    },
    get format() {
      return format;
    },
    get error() {
      return error;
    },
  };
}
