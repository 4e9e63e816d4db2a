/**
 * Offline reading: every file kind acd understands, in the given order, through ONE decoder
 * session (templates from an earlier file apply to later ones). Used by `acd decode` and, later, by
 * `acd edge --input` and `acd analyze`. Formats are recognised by content, never by file name.
 */
import { open } from 'node:fs/promises';
import type { DecodedRecord } from '../common/schema/index.ts';
import { InputError, UsageError } from '../common/errors.ts';
import type { DecodeEvent, DecoderSession } from './decode/types.ts';
import { newFileReadStats, readExportFile, type FileInputEvent, type FileReadStats } from './input/file.ts';
import { sniff } from './input/sniff.ts';
import { readTextRecords, sniffText, type TextEvent, type TextImportStats } from './input/text/index.ts';
import { readDnstapFile } from './input/dnstap.ts';
import { looksLikeDnstapStream } from './decode/dnstap/index.ts';
import { newTrafficFileStats, readTrafficFile } from './meter/index.ts';

/** How a capture is read: flow exports in it, or the traffic itself through the flow meter. */
export type InputKind = 'auto' | 'export' | 'traffic';

/** What was recognised in one file. */
export type FileKind = 'pcap' | 'pcapng' | 'raw-export' | 'text' | 'dnstap' | 'traffic';

/** Per-file summary for the stderr report. */
export interface FileSummary {
  path: string;
  kind: FileKind | undefined;
  detail: string;
  /** Units read: export messages, captured packets (traffic), or dnstap frames. */
  datagrams: number;
  records: number;
  /** Packets or lines skipped (not exports, malformed text lines, malformed dnstap frames). */
  skipped: number;
  error?: string;
}

/** Options of {@link readRecordsFromFiles}. */
export interface OfflineReadOptions {
  session: DecoderSession;
  inputKind?: InputKind;
  /** Decoder events (malformed, template missing, sequence gaps…), for counters or logs. */
  onDecodeEvent?: (e: DecodeEvent) => void;
  /** Input events (skipped packets, malformed lines…). */
  onInputEvent?: (e: FileInputEvent | TextEvent) => void;
  /** Called once per file when it has been read (or failed). */
  onFileDone?: (s: FileSummary) => void;
  /** When true (default), a file that cannot be read is reported and the next one is read. */
  continueOnError?: boolean;
}

const HEAD_BYTES = 8192;

async function readHead(path: string): Promise<Uint8Array> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new InputError(path, `cannot open: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, {
      cause: err,
    });
  }
  try {
    const buf = new Uint8Array(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } catch (err) {
    throw new InputError(path, `cannot read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, {
      cause: err,
    });
  } finally {
    await fh.close();
  }
}

/**
 * Reads the files in order and yields their records. Throws `InputError` for an unreadable or
 * unrecognised file unless `continueOnError` (default) — then the file is reported through
 * `onFileDone` with `error` set and reading goes on; the caller decides the exit code.
 */
export async function* readRecordsFromFiles(
  paths: readonly string[],
  opts: OfflineReadOptions,
): AsyncGenerator<DecodedRecord, FileSummary[], undefined> {
  const summaries: FileSummary[] = [];
  const inputKind = opts.inputKind ?? 'auto';
  for (const path of paths) {
    const summary: FileSummary = { path, kind: undefined, detail: '', datagrams: 0, records: 0, skipped: 0 };
    try {
      const head = await readHead(path);
      const s = sniff(head);
      const capture = s.kind === 'pcap' || s.kind === 'pcapng';
      if (capture && inputKind === 'traffic') {
        summary.kind = 'traffic';
        yield* readTraffic(path, opts, summary);
      } else if (capture || s.kind === 'raw-export') {
        if (inputKind === 'traffic')
          throw new UsageError(`${path}: --input-kind traffic needs a pcap or pcapng capture`);
        summary.kind = s.kind;
        yield* readExports(path, opts, summary);
        // A capture with no decodable export in it is traffic (unless exports were forced):
        // nothing has been yielded from it, so it is read again through the flow meter.
        if (capture && inputKind === 'auto' && summary.records === 0) {
          summary.kind = 'traffic';
          summary.datagrams = 0;
          summary.skipped = 0;
          delete summary.error;
          yield* readTraffic(path, opts, summary);
        }
      } else if (looksLikeDnstapStream(head)) {
        summary.kind = 'dnstap';
        const counters = { bytes: 0, frames: 0, events: 0, malformed: 0 };
        for await (const r of readDnstapFile(path, {
          counters,
          ...(opts.onDecodeEvent ? { onDecodeEvent: opts.onDecodeEvent } : {}),
        })) {
          summary.records++;
          yield r;
        }
        summary.datagrams = counters.frames;
        summary.skipped = counters.malformed;
      } else {
        if (inputKind !== 'auto')
          throw new UsageError(`${path}: --input-kind ${inputKind} needs a capture or export file`);
        const text = sniffText(head, head.length < HEAD_BYTES);
        if (text === undefined) {
          throw new InputError(
            path,
            'not a recognised format (flow exports, capture, Zeek, Argus or nfdump text)',
          );
        }
        summary.kind = 'text';
        summary.detail = text;
        const textStats: TextImportStats = { lines: 0, records: 0, malformed: 0, skipped: 0 };
        for await (const r of readTextRecords(path, text, {
          stats: textStats,
          onEvent: (e: TextEvent) => {
            if (e.kind === 'malformed-line') summary.skipped++;
            opts.onInputEvent?.(e);
          },
        })) {
          summary.records++;
          yield r;
        }
        summary.datagrams = textStats.lines;
      }
    } catch (err) {
      if (err instanceof UsageError || opts.continueOnError === false) throw err;
      summary.error = err instanceof Error ? err.message : String(err);
    }
    summaries.push(summary);
    opts.onFileDone?.(summary);
  }
  return summaries;
}

async function* readTraffic(
  path: string,
  opts: OfflineReadOptions,
  summary: FileSummary,
): AsyncGenerator<DecodedRecord, void, undefined> {
  const stats = newTrafficFileStats();
  for await (const r of readTrafficFile(path, { stats })) {
    summary.records++;
    yield r;
  }
  summary.datagrams = stats.packets;
  summary.detail = 'flow meter';
  if (stats.formatError) summary.error = `capture unreadable part-way: ${stats.formatError.message}`;
}

async function* readExports(
  path: string,
  opts: OfflineReadOptions,
  summary: FileSummary,
): AsyncGenerator<DecodedRecord, void, undefined> {
  const stats: FileReadStats = newFileReadStats();
  const pending: DecodedRecord[] = [];
  const sink = {
    record: (r: DecodedRecord) => {
      pending.push(r);
    },
    event: opts.onDecodeEvent,
  };
  const gen = readExportFile(path, { stats, ...(opts.onInputEvent ? { onEvent: opts.onInputEvent } : {}) });
  for await (const d of gen) {
    summary.datagrams++;
    opts.session.decode(d, sink);
    if (pending.length > 0) {
      summary.records += pending.length;
      yield* pending;
      pending.length = 0;
    }
  }
  summary.skipped = Object.values(stats.skipped).reduce((a, b) => a + (b ?? 0), 0);
  summary.detail = stats.kind ?? '';
  if (stats.formatError)
    summary.error = `capture unreadable after ${stats.packets} packets: ${stats.formatError.message}`;
}
