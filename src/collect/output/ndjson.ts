import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { DecodedRecord, FieldValue, Fields } from '../../common/schema/index.ts';
import { ieByName } from '../decode/ie/registry.ts';
import { OutputError } from './errors.ts';

/**
 * The NDJSON form of decoded records, shared by `acd decode` and `acd collect --out`: one JSON
 * object per line with IANA field names at the top level, the record's kind and protocol, and the
 * observation flattened (DESIGN sections 2 and 7). Timestamps become ISO 8601 UTC strings with
 * milliseconds; everything else is printed as the decoder made it (canonical address strings,
 * counters as numbers up to 2^53-1 and decimal strings beyond).
 */

/** The JSON object of one record, before serialisation. */
export type NdjsonObject = Record<string, FieldValue | null>;

/** Keys the formatter sets itself; a decoded field of the same name never overrides them. */
const META_KEYS = new Set([
  'recordType',
  'protocol',
  'exporter',
  'observationDomainId',
  'templateId',
  'sequence',
  'exportTime',
  'samplingInterval',
  'scope',
]);

/** Keys every record carries (the record's kind and its flattened observation). */
const BASE_META_KEYS = new Set([
  'recordType',
  'protocol',
  'exporter',
  'observationDomainId',
  'templateId',
  'sequence',
  'exportTime',
]);

/** Largest |epoch ms| a JavaScript Date represents (ECMA-262 21.4.1.22); beyond it there is no ISO form. */
const MAX_DATE_MS = 8.64e15;

/**
 * Timestamps of DNS events, which have no IANA element: epoch ms in records, ISO on output like
 * every other time (DESIGN section 7).
 */
const DNS_TIME_FIELDS = ['eventTime', 'dnsQueryTime', 'dnsResponseTime'];

/** Whether a field holds a timestamp, by its information element's type; cached per name. */
const timeFields = new Map<string, boolean>(DNS_TIME_FIELDS.map((n) => [n, true]));
function isTimeField(name: string): boolean {
  let t = timeFields.get(name);
  if (t === undefined) {
    t = ieByName(name)?.type.startsWith('dateTime') ?? false;
    timeFields.set(name, t);
  }
  return t;
}

/**
 * Epoch milliseconds as ISO 8601 UTC with milliseconds. Values outside the range of a Date (which
 * a hostile exporter can send) stay numbers instead of throwing.
 */
export function isoOrNumber(ms: number): string | number {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) return ms;
  return new Date(Math.floor(ms)).toISOString();
}

/** Converts timestamp fields, recursing into structured data (RFC 6313 lists of records). */
function convertValue(name: string, v: FieldValue): FieldValue {
  if (typeof v === 'number') return isTimeField(name) ? isoOrNumber(v) : v;
  if (Array.isArray(v)) {
    let out: FieldValue[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const e = v[i]!;
      const c = convertValue(name, e);
      if (c !== e) (out ??= v.slice())[i] = c;
    }
    return out ?? v;
  }
  if (typeof v === 'object') return convertFields(v);
  return v;
}

function convertFields(fields: Fields): Fields {
  const out: Fields = {};
  for (const k in fields) out[k] = convertValue(k, fields[k]!);
  return out;
}

/** Builds the NDJSON object of a record (exported for `acd decode --format table` and tests). */
export function toNdjsonObject(r: DecodedRecord): NdjsonObject {
  const o = r.observation;
  const out: NdjsonObject = {
    recordType: r.recordType,
    protocol: r.protocol,
    exporter: o.exporter,
    observationDomainId: o.observationDomainId,
    templateId: o.templateId,
    sequence: o.sequence,
    exportTime: isoOrNumber(o.exportTime),
  };
  if (r.recordType === 'flow') out.samplingInterval = r.samplingInterval;
  if (r.recordType === 'options') out.scope = convertFields(r.scope);
  const f = r.fields;
  for (const k in f) {
    if (META_KEYS.has(k) && k in out) continue;
    out[k] = convertValue(k, f[k]!);
  }
  return out;
}

/**
 * ISO 8601 text of the minute last formatted (`2026-01-02T03:04:`): flow timestamps in a stream
 * cluster within minutes, so most conversions only append seconds and milliseconds. Measured
 * here: `Date#toISOString` is the largest single cost of formatting a flow record.
 */
let cachedMinute = Number.NaN;
/** 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z in epoch ms. */
const MIN_FOUR_DIGIT_YEAR_MS = -62_167_219_200_000;
const MAX_FOUR_DIGIT_YEAR_MS = 253_402_300_800_000;
let cachedMinutePrefix = '';

/** Like `isoOrNumber`, with a cache of the minute prefix; returns the quoted JSON string. */
function isoJson(ms: number): string {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) return jsonNumber(ms);
  const t = Math.floor(ms);
  // Outside years 0000-9999 ISO uses the six-digit extended year form: no fixed-width prefix.
  if (t < MIN_FOUR_DIGIT_YEAR_MS || t >= MAX_FOUR_DIGIT_YEAR_MS)
    return JSON.stringify(new Date(t).toISOString());
  const minute = Math.floor(t / 60_000);
  if (minute !== cachedMinute) {
    cachedMinute = minute;
    cachedMinutePrefix = new Date(minute * 60_000).toISOString().slice(0, 17);
  }
  const rest = t - minute * 60_000; // 0..59999
  const sec = Math.floor(rest / 1000);
  const milli = rest - sec * 1000;
  return (
    '"' +
    cachedMinutePrefix +
    (sec < 10 ? '0' : '') +
    sec +
    '.' +
    (milli < 10 ? '00' : milli < 100 ? '0' : '') +
    milli +
    'Z"'
  );
}

/** JSON has no NaN or Infinity; JSON.stringify prints them as null, and so do we. */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/** `,"name":` per field name, made once: names repeat for every record of a template. */
const keyPrefixes = new Map<string, string>();
function keyPrefix(name: string): string {
  let k = keyPrefixes.get(name);
  if (k === undefined) {
    k = ',' + JSON.stringify(name) + ':';
    keyPrefixes.set(name, k);
  }
  return k;
}

function fieldJson(name: string, v: FieldValue): string {
  if (typeof v === 'number') return isTimeField(name) ? isoJson(v) : jsonNumber(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return JSON.stringify(convertValue(name, v));
}

/**
 * One record as a JSON line without the trailing newline: the text of
 * `JSON.stringify(toNdjsonObject(r))`, built directly because the collector formats every record
 * it receives (no intermediate object, field-name prefixes cached, timestamps cached per minute).
 */
export function formatNdjson(r: DecodedRecord): string {
  const o = r.observation;
  let s =
    '{"recordType":' +
    JSON.stringify(r.recordType) +
    ',"protocol":' +
    JSON.stringify(r.protocol) +
    ',"exporter":' +
    JSON.stringify(o.exporter) +
    ',"observationDomainId":' +
    jsonNumber(o.observationDomainId) +
    ',"templateId":' +
    jsonNumber(o.templateId) +
    ',"sequence":' +
    jsonNumber(o.sequence) +
    ',"exportTime":' +
    isoJson(o.exportTime);
  const isFlow = r.recordType === 'flow';
  const isOptions = r.recordType === 'options';
  if (isFlow) s += ',"samplingInterval":' + jsonNumber(r.samplingInterval);
  if (isOptions) s += ',"scope":' + JSON.stringify(convertFields(r.scope));
  const f = r.fields;
  for (const k in f) {
    if (
      META_KEYS.has(k) &&
      (BASE_META_KEYS.has(k) || (isFlow && k === 'samplingInterval') || (isOptions && k === 'scope'))
    )
      continue;
    s += keyPrefix(k) + fieldJson(k, f[k]!);
  }
  return s + '}';
}

/** Where records go after decoding (an NDJSON writer, or a callback). */
export interface RecordOutput {
  write(r: DecodedRecord): void;
  /**
   * True while the destination asked us to wait: callers stop producing (the collector stops
   * draining its queue) until `onDrain` fires.
   */
  readonly backpressured: boolean;
  /** Calls `cb` once when `backpressured` turns false. */
  onDrain(cb: () => void): void;
  /** Writes what is buffered and waits until the stream accepted it. */
  flush(): Promise<void>;
  /** Flushes, then ends the stream if the writer owns it. */
  close(): Promise<void>;
}

/** Options of the NDJSON writer. */
export interface NdjsonWriterOptions {
  /** Lines are gathered into chunks of about this many bytes before `stream.write`. */
  chunkBytes?: number;
  /** End the stream on `close()` (false for stdout, which the process owns). */
  end?: boolean;
  /** Called with the number of records in each chunk handed to the stream (for counters). */
  onWritten?: (records: number) => void;
  /** Called each time the stream reports it is full. */
  onBackpressure?: () => void;
}

/**
 * Default chunk size: large enough that the per-write cost of a stream disappears, small enough
 * that a quiet collector's file is at most a few hundred records behind.
 */
export const DEFAULT_NDJSON_CHUNK_BYTES = 64 * 1024;

/**
 * Writes records as NDJSON to a stream, in chunks. When `stream.write` returns false the writer
 * keeps accepting the current chunk but reports `backpressured` until the stream emits `drain`,
 * so producers can stop instead of letting memory grow without bound. Partially filled chunks are
 * written by `flush()` (the collector calls it once a second and at stop).
 */
export class NdjsonWriter implements RecordOutput {
  private parts: string[] = [];
  private bytes = 0;
  private records = 0;
  private waiting = false;
  private drainWaiters: (() => void)[] = [];
  private closed = false;
  private failure: Error | undefined;
  private readonly chunkBytes: number;

  constructor(
    private readonly stream: Writable,
    private readonly opts: NdjsonWriterOptions = {},
  ) {
    this.chunkBytes = opts.chunkBytes ?? DEFAULT_NDJSON_CHUNK_BYTES;
    // A failing destination (disk full, closed pipe) must not crash the process through an
    // unhandled 'error' event: remember it, stop writing, and report it from flush()/close().
    stream.on('error', (err) => {
      this.failure ??= err;
      this.release();
    });
  }

  /** The stream's error, once it failed; records written after that are discarded. */
  get error(): Error | undefined {
    return this.failure;
  }

  get backpressured(): boolean {
    return this.waiting;
  }

  write(r: DecodedRecord): void {
    const line = formatNdjson(r) + '\n';
    this.parts.push(line);
    this.bytes += line.length;
    this.records++;
    if (this.bytes >= this.chunkBytes) this.writeChunk();
  }

  onDrain(cb: () => void): void {
    if (!this.waiting) cb();
    else this.drainWaiters.push(cb);
  }

  async flush(): Promise<void> {
    this.writeChunk();
    if (this.waiting) await new Promise<void>((resolve) => this.onDrain(resolve));
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    if (this.opts.end === false) return;
    await new Promise<void>((resolve, reject) => {
      this.stream.once('error', reject);
      this.stream.end(() => resolve());
    });
  }

  private release(): void {
    this.waiting = false;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private writeChunk(): void {
    if (this.parts.length === 0) return;
    if (this.failure) {
      this.parts = [];
      this.bytes = 0;
      this.records = 0;
      return;
    }
    const chunk = this.parts.join('');
    const n = this.records;
    this.parts = [];
    this.bytes = 0;
    this.records = 0;
    const ok = this.stream.write(chunk);
    this.opts.onWritten?.(n);
    if (!ok && !this.waiting) {
      this.waiting = true;
      this.opts.onBackpressure?.();
      this.stream.once('drain', () => this.release());
    }
  }
}

/**
 * Opens an NDJSON file for appending (so a restarted collector continues the same file) and
 * returns a writer that owns it. Fails with `OutputError` naming the file before anything starts.
 */
export async function openNdjsonFile(
  path: string,
  opts: Omit<NdjsonWriterOptions, 'end'> = {},
): Promise<NdjsonWriter> {
  try {
    const fh = await open(path, 'a', 0o640);
    // A 1 MiB buffer lets a burst of records go out in few writes before the stream asks us to wait.
    return new NdjsonWriter(fh.createWriteStream({ highWaterMark: 1 << 20 }), { ...opts, end: true });
  } catch (err) {
    throw new OutputError(path, `cannot open for writing: ${(err as Error).message}`, { cause: err });
  }
}
