/**
 * Streams a text import into records: bytes -> bounded lines -> the format's line parser. Reads
 * chunk by chunk (a file path or any iterable of chunks), so memory stays bounded by one chunk plus
 * one line whatever the file size. Malformed lines are counted and reported as typed events with
 * their line number, never thrown; only an unreadable file (InputError) or, when asked to
 * recognise the format, unrecognisable content (TextFormatError) ends the import with an error.
 */
import { createReadStream } from 'node:fs';
import { InputError } from '../../../common/errors.ts';
import type { DecodedRecord } from '../../../common/schema/index.ts';
import { FILE_READ_CHUNK_BYTES } from '../limits.ts';
import { parseArgusLine, type ArgusHeader } from './argus.ts';
import { TextFormatError } from './errors.ts';
import { TEXT_SNIFF_BYTES } from './limits.ts';
import { LineSplitter } from './lines.ts';
import { parseNfdumpLine, type NfdumpHeader } from './nfdump.ts';
import { sniffText } from './sniff.ts';
import type { LineResult, TextEvent, TextImportStats, TextKind } from './types.ts';
import { initialZeekTsvState, parseZeekJsonLine, parseZeekTsvLine } from './zeek.ts';

/** A stateful line parser for one stream of one kind. */
export interface TextLineParser {
  readonly kind: TextKind;
  line(text: string, line: number): LineResult<unknown>;
}

/** Creates the line parser of a kind, holding its header state. */
export function createTextLineParser(kind: TextKind): TextLineParser {
  switch (kind) {
    case 'zeek-conn-tsv':
    case 'zeek-dns-tsv': {
      const state = initialZeekTsvState();
      return { kind, line: (text, n) => parseZeekTsvLine(state, text, n) };
    }
    case 'zeek-conn-json':
    case 'zeek-dns-json': {
      const state = { log: kind === 'zeek-conn-json' ? ('conn' as const) : ('dns' as const) };
      return { kind, line: (text, n) => parseZeekJsonLine(state, text, n) };
    }
    case 'argus-csv': {
      let header: ArgusHeader | undefined;
      return {
        kind,
        line(text, n) {
          const r = parseArgusLine(header, text, n);
          if (r.kind === 'header') header = r.header;
          return r;
        },
      };
    }
    case 'nfdump-csv': {
      let header: NfdumpHeader | undefined;
      return {
        kind,
        line(text, n) {
          const r = parseNfdumpLine(header, text, n);
          if (r.kind === 'header') header = r.header;
          return r;
        },
      };
    }
  }
}

/** Options of {@link readTextRecords}. */
export interface ReadTextOptions {
  /** Receives every malformed/skipped line and header as it is met. */
  onEvent?: (e: TextEvent) => void;
  /** Filled in while reading (lines, records, malformed, skipped). */
  stats?: TextImportStats;
  /** Longest line kept; defaults to MAX_TEXT_LINE_BYTES (tests lower it). */
  maxLineBytes?: number;
  /** File name used in errors when `source` is an iterable. */
  name?: string;
}

/** A file path, or chunks of its bytes (strings are taken as UTF-8 text). */
export type TextSource = string | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

const encoder = new TextEncoder();

async function* chunksOf(source: TextSource, name: string): AsyncGenerator<Uint8Array> {
  if (typeof source === 'string') {
    const stream = createReadStream(source, { highWaterMark: FILE_READ_CHUNK_BYTES });
    try {
      for await (const c of stream) yield c as Uint8Array;
    } catch (cause) {
      throw new InputError(name, 'cannot read file', { cause });
    } finally {
      stream.destroy();
    }
    return;
  }
  for await (const c of source) yield typeof c === 'string' ? encoder.encode(c) : c;
}

/**
 * Reads a Zeek conn/dns log, an Argus CSV or an nfdump CSV and yields its records in line order.
 * `kind: 'auto'` recognises the format from the first {@link TEXT_SNIFF_BYTES} (content only) and
 * throws TextFormatError when it is none of them.
 */
export async function* readTextRecords(
  source: TextSource,
  kind: TextKind | 'auto',
  options: ReadTextOptions = {},
): AsyncGenerator<DecodedRecord> {
  const name = options.name ?? (typeof source === 'string' ? source : '<stream>');
  const stats = options.stats ?? { lines: 0, records: 0, malformed: 0, skipped: 0 };
  const onEvent = options.onEvent;
  const splitter = new LineSplitter(options.maxLineBytes);
  const chunks = chunksOf(source, name);
  let parser: TextLineParser | undefined = kind === 'auto' ? undefined : createTextLineParser(kind);
  const held: Uint8Array[] = [];
  let heldBytes = 0;

  function* feed(
    lines: Iterable<{ line: number; text: string } | { line: number; tooLong: true }>,
  ): Generator<DecodedRecord> {
    const p = parser!;
    for (const l of lines) {
      stats.lines++;
      if ('tooLong' in l) {
        stats.malformed++;
        onEvent?.({ kind: 'malformed-line', format: p.kind, line: l.line, reason: 'too-long' });
        continue;
      }
      const r = p.line(l.text, l.line);
      switch (r.kind) {
        case 'record':
          stats.records++;
          yield r.record;
          break;
        case 'error':
          stats.malformed++;
          onEvent?.({
            kind: 'malformed-line',
            format: p.kind,
            line: l.line,
            reason: r.reason,
            ...(r.column === undefined ? {} : { column: r.column }),
          });
          break;
        case 'skip':
          stats.skipped++;
          onEvent?.({ kind: 'skipped-line', format: p.kind, line: l.line, reason: r.reason });
          break;
        case 'header': {
          const columns = headerColumns(r.header);
          onEvent?.({ kind: 'header', format: p.kind, line: l.line, columns });
          break;
        }
        case 'none':
          break;
      }
    }
  }

  const start = (complete: boolean): void => {
    const head = new Uint8Array(heldBytes);
    let o = 0;
    for (const c of held) {
      head.set(c, o);
      o += c.length;
    }
    const k = sniffText(head.subarray(0, TEXT_SNIFF_BYTES), complete && heldBytes <= TEXT_SNIFF_BYTES);
    if (!k) throw new TextFormatError(`${name}: not a Zeek conn/dns log, Argus CSV or nfdump CSV`);
    parser = createTextLineParser(k);
  };

  for await (const chunk of chunks) {
    if (!parser) {
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes < TEXT_SNIFF_BYTES) continue;
      start(false);
      for (const c of held.splice(0)) yield* feed(splitter.push(c));
      continue;
    }
    yield* feed(splitter.push(chunk));
  }
  if (!parser) {
    start(true);
    for (const c of held.splice(0)) yield* feed(splitter.push(c));
  }
  yield* feed(splitter.end());
}

function headerColumns(h: unknown): number {
  if (typeof h === 'object' && h !== null) {
    if ('columns' in h && typeof h.columns === 'number') return h.columns;
    if ('fields' in h && Array.isArray(h.fields)) return h.fields.length;
  }
  return 0;
}
