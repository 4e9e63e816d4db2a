/**
 * Streams a traffic capture (pcap or pcapng) through the flow meter: the file is read in chunks
 * (bounded memory whatever its size), packets go to the meter in capture order, and the records
 * it exports are yielded as they come; at the end of the file every open flow is flushed.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { InputError } from '../../common/errors.ts';
import type { DecodedRecord } from '../../common/schema/index.ts';
import type { DecodeEvent } from '../decode/types.ts';
import type { CaptureFormatError } from '../input/errors.ts';
import { FILE_READ_CHUNK_BYTES } from '../input/limits.ts';
import { createCaptureReader, type CaptureEvent, type CaptureOutput } from '../input/pcap.ts';
import type { FlowMeterOptions } from './config.ts';
import { createFlowMeter, newFlowMeterStats, type FlowMeterStats } from './meter.ts';

/** Counters of one traffic-file read: the meter's plus the capture reader's. */
export interface TrafficFileStats extends FlowMeterStats {
  bytesRead: number;
  /** Capture-reader events per kind (truncated file, skipped blocks, ...). */
  captureEvents: Partial<Record<CaptureEvent['kind'], number>>;
  /** Set when the capture became unreadable part-way; what was read before it was metered. */
  formatError: CaptureFormatError | undefined;
}

/** A fresh, zeroed {@link TrafficFileStats}. */
export function newTrafficFileStats(): TrafficFileStats {
  return { ...newFlowMeterStats(), bytesRead: 0, captureEvents: {}, formatError: undefined };
}

/** Options of {@link readTrafficFile}: the meter's, plus reading and observation hooks. */
export interface ReadTrafficFileOptions extends FlowMeterOptions {
  /** Bytes per read (default FILE_READ_CHUNK_BYTES, 1 MiB). */
  chunkBytes?: number;
  /** Counters, updated in place while reading. */
  stats?: TrafficFileStats;
  /** Every capture-reader event and meter anomaly (malformed DNS, IP headers). */
  onEvent?: (e: CaptureEvent | DecodeEvent) => void;
}

/**
 * Meters one capture file and yields its flow records and DNS events in export order; the
 * generator's return value is the stats. Throws {@link InputError} naming the file when it cannot
 * be read or is not a pcap/pcapng capture. A capture that becomes unreadable part-way ends the
 * read with `stats.formatError` set, after flushing the flows of what was read. An empty file
 * yields nothing.
 */
export async function* readTrafficFile(
  path: string,
  options: ReadTrafficFileOptions = {},
): AsyncGenerator<DecodedRecord, TrafficFileStats, undefined> {
  const stats = options.stats ?? newTrafficFileStats();
  const onEvent = options.onEvent;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new InputError(path, 'not a regular file');
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(path, `cannot read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, {
      cause: err,
    });
  }
  const pending: DecodedRecord[] = [];
  const meter = createFlowMeter(
    { ...options, stats },
    { record: (r) => pending.push(r), ...(onEvent ? { event: onEvent } : {}) },
  );
  const reader = createCaptureReader();
  const feed = (o: CaptureOutput): void => {
    for (const e of o.events) {
      stats.captureEvents[e.kind] = (stats.captureEvents[e.kind] ?? 0) + 1;
      onEvent?.(e);
    }
    for (const p of o.packets) meter.packet(p.timestampMs, p.linkType, p.data, p.interfaceId);
  };
  const stream = createReadStream(path, { highWaterMark: options.chunkBytes ?? FILE_READ_CHUNK_BYTES });
  try {
    let any = false;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        stats.bytesRead += chunk.length;
        any = true;
        feed(reader.push(chunk));
        if (reader.error) {
          if (reader.format === undefined) {
            throw new InputError(path, 'not a pcap or pcapng capture', { cause: reader.error });
          }
          break;
        }
        yield* pending.splice(0);
      }
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(path, `cannot read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, {
        cause: err,
      });
    }
    if (!any) return stats;
    feed(reader.end());
    if (reader.error) {
      if (reader.format === undefined)
        throw new InputError(path, 'not a pcap or pcapng capture', { cause: reader.error });
      stats.formatError = reader.error;
    }
    meter.flush();
    yield* pending.splice(0);
    return stats;
  } finally {
    stream.destroy();
  }
}
