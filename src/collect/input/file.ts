/**
 * Reads export files: pcap/pcapng captures of flow exports and raw export files, recognised by
 * content. Streams the file in chunks (bounded memory whatever its size) and yields one
 * {@link RawDatagram} per export message, counting everything it skips.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { InputError } from '../../common/errors.ts';
import type { RawDatagram } from '../../common/schema/raw.ts';
import { CaptureFormatError } from './errors.ts';
import { FILE_READ_CHUNK_BYTES, MIN_IPFIX_MESSAGE_BYTES, SNIFF_BYTES } from './limits.ts';
import { createPacketDecoder, type PacketEvent, type PacketSkipReason } from './packet.ts';
import { createCaptureReader, type CaptureEvent } from './pcap.ts';
import { createRawExportSplitter, type RawFileEvent } from './rawfile.ts';
import { checkExportHeader, recogniseExportDatagram, sniff, type SniffResult } from './sniff.ts';
import { createTcpReassembler, type TcpEvent, type TcpStreamMessage } from './tcp-reassembly.ts';

/**
 * UDP destination ports whose payloads are taken as exports without structural checks: the
 * common NetFlow (2055, 2056, 9995, 9996, 9999), IPFIX (4739) and sFlow (6343) collector ports.
 */
export const DEFAULT_EXPORT_UDP_PORTS: readonly number[] = [2055, 2056, 4739, 9995, 9996, 6343, 9999];

/** TCP destination ports followed as IPFIX-over-TCP streams (4739 is IANA's IPFIX port). */
export const DEFAULT_EXPORT_TCP_PORTS: readonly number[] = [4739];

/** Options of {@link readExportFile}. */
export interface ReadExportFileOptions {
  /** UDP destination ports taken as exports (default {@link DEFAULT_EXPORT_UDP_PORTS}). */
  udpPorts?: Iterable<number>;
  /** TCP destination ports followed as IPFIX streams (default {@link DEFAULT_EXPORT_TCP_PORTS}). */
  tcpPorts?: Iterable<number>;
  /**
   * Also take UDP payloads and TCP streams on other ports when they are structurally export
   * messages (default true).
   */
  recogniseByStructure?: boolean;
  /** Bytes per read (default {@link FILE_READ_CHUNK_BYTES}). */
  chunkBytes?: number;
  /** Counters, updated in place while reading (pass one to watch progress). */
  stats?: FileReadStats;
  /** Called with every typed event (for logging at a rate limit, or tests). */
  onEvent?: (event: FileInputEvent) => void;
}

/** Why a captured packet gave no datagram. */
export type FileSkipReason = PacketSkipReason | 'not-export';

/** Every typed event the file reader reports. */
export type FileInputEvent =
  | CaptureEvent
  | PacketEvent
  | TcpEvent
  | RawFileEvent
  | { kind: 'capture-format-error'; error: CaptureFormatError };

/** Counters of one file read. */
export interface FileReadStats {
  /** The file's kind, once sniffed. */
  kind: SniffResult['kind'] | undefined;
  bytesRead: number;
  /** Packets read from a capture. */
  packets: number;
  /** Datagrams yielded. */
  datagrams: number;
  /** Of which framed off TCP streams. */
  tcpMessages: number;
  /** Packets that gave no datagram, per reason. */
  skipped: Partial<Record<FileSkipReason, number>>;
  /** Events per kind. */
  events: Partial<Record<FileInputEvent['kind'], number>>;
  /** Set when a capture became unreadable part-way; what was read before it was yielded. */
  formatError: CaptureFormatError | undefined;
}

/** A fresh, zeroed {@link FileReadStats}. */
export function newFileReadStats(): FileReadStats {
  return {
    kind: undefined,
    bytesRead: 0,
    packets: 0,
    datagrams: 0,
    tcpMessages: 0,
    skipped: {},
    events: {},
    formatError: undefined,
  };
}

/**
 * Reads one file and yields its export messages in file order. Captures: UDP payloads to the
 * configured ports or recognised by structure, IPFIX messages reassembled from TCP streams;
 * `exporter` is the packet's source, `transport: 'pcap'`, `receivedAt` the capture time. Raw export
 * files: `exporter` `{address: 'file', port: 0}`, `transport: 'file'`, `receivedAt` the file's
 * modification time. An empty file yields nothing.
 *
 * Throws {@link InputError} naming the file when it cannot be opened or read, or is of no known
 * kind. A capture that becomes unreadable part-way (corrupt record length) ends the read with
 * `stats.formatError` set and a `capture-format-error` event, keeping what was read before.
 */
export async function* readExportFile(
  path: string,
  options: ReadExportFileOptions = {},
): AsyncGenerator<RawDatagram, FileReadStats, undefined> {
  const stats = options.stats ?? newFileReadStats();
  const onEvent = options.onEvent;
  const note = (e: FileInputEvent): void => {
    stats.events[e.kind] = (stats.events[e.kind] ?? 0) + 1;
    onEvent?.(e);
  };
  let mtimeMs: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new InputError(path, 'not a regular file');
    mtimeMs = Math.floor(st.mtimeMs);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(path, `cannot read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, {
      cause: err,
    });
  }
  const stream = createReadStream(path, { highWaterMark: options.chunkBytes ?? FILE_READ_CHUNK_BYTES });
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const nextChunk = async (): Promise<Uint8Array | undefined> => {
    try {
      const r = await chunks.next();
      if (r.done) return undefined;
      stats.bytesRead += r.value.length;
      return r.value;
    } catch (err) {
      throw new InputError(path, `cannot read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, {
        cause: err,
      });
    }
  };

  try {
    // Gather enough bytes to recognise the format (a short file may have fewer).
    const first: Uint8Array[] = [];
    let have = 0;
    let eof = false;
    while (have < SNIFF_BYTES) {
      const c = await nextChunk();
      if (c === undefined) {
        eof = true;
        break;
      }
      first.push(c);
      have += c.length;
    }
    const head = Buffer.concat(first, have);
    const kind = sniff(head.subarray(0, Math.min(have, SNIFF_BYTES)));
    stats.kind = kind.kind;
    if (kind.kind === 'unknown') {
      if (kind.reason === 'empty') return stats;
      throw new InputError(path, 'not a pcap, pcapng or raw NetFlow/IPFIX export file', {
        cause: new CaptureFormatError('unrecognised content', 0),
      });
    }
    const rest = async function* (): AsyncGenerator<Uint8Array> {
      for (const c of first) yield c;
      if (eof) return;
      for (let c = await nextChunk(); c !== undefined; c = await nextChunk()) yield c;
    };

    if (kind.kind === 'raw-export') {
      const splitter = createRawExportSplitter();
      const toDatagrams = (out: ReturnType<typeof splitter.push>): RawDatagram[] => {
        for (const e of out.events) note(e);
        return out.messages.map((m) => ({
          receivedAt: mtimeMs,
          exporter: { address: 'file', port: 0 },
          transport: 'file',
          // Copy: a view would keep the whole read buffer alive while a decoder holds the message.
          bytes: new Uint8Array(m.bytes), // copy (Buffer#slice would be a view of the read chunk)
        }));
      };
      for await (const c of rest()) {
        const ds = toDatagrams(splitter.push(c));
        stats.datagrams += ds.length;
        yield* ds;
      }
      const ds = toDatagrams(splitter.end());
      stats.datagrams += ds.length;
      yield* ds;
      return stats;
    }

    // pcap or pcapng
    const udpPorts = new Set(options.udpPorts ?? DEFAULT_EXPORT_UDP_PORTS);
    const tcpPorts = new Set(options.tcpPorts ?? DEFAULT_EXPORT_TCP_PORTS);
    const byStructure = options.recogniseByStructure ?? true;
    const reader = createCaptureReader();
    const decoder = createPacketDecoder();
    const tcp = createTcpReassembler();
    const packetEvents: PacketEvent[] = [];
    const skip = (reason: FileSkipReason): void => {
      stats.skipped[reason] = (stats.skipped[reason] ?? 0) + 1;
    };
    const fromTcp = (messages: TcpStreamMessage[], events: TcpEvent[], batch: RawDatagram[]): void => {
      for (const e of events) note(e);
      for (const m of messages) {
        batch.push({
          receivedAt: Math.floor(m.timestampMs),
          exporter: { address: m.srcAddress, port: m.srcPort },
          transport: 'pcap',
          bytes: m.bytes,
        });
        stats.tcpMessages++;
      }
    };
    const handle = (out: ReturnType<typeof reader.push>): RawDatagram[] => {
      const batch: RawDatagram[] = [];
      for (const e of out.events) note(e);
      for (const pkt of out.packets) {
        stats.packets++;
        const r = decoder.decode(pkt.linkType, pkt.data, pkt.timestampMs, packetEvents);
        for (const e of packetEvents) note(e);
        packetEvents.length = 0;
        if (!r.ok) {
          skip(r.reason);
          continue;
        }
        const p = r.packet;
        if (p.protocol === 17) {
          if (udpPorts.has(p.dstPort) || (byStructure && recogniseExportDatagram(p.payload) !== undefined)) {
            batch.push({
              receivedAt: Math.floor(pkt.timestampMs),
              exporter: { address: p.srcAddress, port: p.srcPort },
              transport: 'pcap',
              bytes: p.reassembled ? p.payload : new Uint8Array(p.payload),
            });
          } else skip('not-export');
          continue;
        }
        const follow =
          tcpPorts.has(p.dstPort) ||
          tcp.has(p) ||
          (byStructure && p.payload.length > 0 && isIpfixStart(p.payload));
        if (!follow) {
          skip('not-export');
          continue;
        }
        const t = tcp.push(p, pkt.timestampMs);
        fromTcp(t.messages, t.events, batch);
      }
      stats.datagrams += batch.length;
      return batch;
    };
    for await (const c of rest()) {
      yield* handle(reader.push(c));
      if (reader.error) break;
    }
    const tail = handle(reader.end());
    if (reader.error) {
      stats.formatError = reader.error;
      note({ kind: 'capture-format-error', error: reader.error });
    }
    decoder.flush(packetEvents);
    for (const e of packetEvents) note(e);
    const t = tcp.flush();
    fromTcp(t.messages, t.events, tail);
    stats.datagrams += t.messages.length;
    yield* tail;
    return stats;
  } finally {
    stream.destroy();
  }
}

/**
 * Whether a TCP payload plausibly starts an IPFIX message. A first segment may be shorter than the
 * 20 bytes the full header check needs (exporters write the header separately), so then version 10
 * and a length within the limits suffice.
 */
function isIpfixStart(b: Uint8Array): boolean {
  const h = checkExportHeader(b, 0);
  if (h === 'more') {
    const length = ((b[2] ?? 0) << 8) | (b[3] ?? 0);
    return b.length >= 4 && b[0] === 0 && b[1] === 10 && length >= MIN_IPFIX_MESSAGE_BYTES;
  }
  return h !== 'no' && h.kind === 'ipfix';
}
