/**
 * The NDJSON form of selected records (`acd edge --input … --out FILE`): the `SelectedRecord`
 * shape of DESIGN section 2 (recordId, recordType, protocol, allow-listed `fields`, `source` and
 * `destination` with country/ASN/pseudonymised, `provenance`), with every timestamp as ISO 8601 UTC
 * with milliseconds (DESIGN section 7). Written so the commission can audit a sample of selection.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { FieldValue, Fields } from '../../common/schema/record.ts';
import type { SelectedRecord } from '../../common/schema/selected.ts';

/** Allow-listed fields that are instants (epoch ms after decoding); durations are not among them. */
const TIME_FIELDS: ReadonlySet<string> = new Set([
  'flowStartMilliseconds',
  'flowEndMilliseconds',
  'flowStartSeconds',
  'flowEndSeconds',
  'flowStartMicroseconds',
  'flowEndMicroseconds',
  'flowStartNanoseconds',
  'flowEndNanoseconds',
  'eventTime',
  'dnsQueryTime',
  'dnsResponseTime',
]);

/** Largest |epoch ms| a JavaScript Date represents; beyond it the number is printed as it is. */
const MAX_DATE_MS = 8.64e15;

function iso(v: FieldValue): FieldValue {
  return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_DATE_MS
    ? new Date(v).toISOString()
    : v;
}

/** The JSON object of one selected record (times as ISO strings). */
export function selectedRecordJson(r: SelectedRecord): Record<string, unknown> {
  const fields: Fields = {};
  for (const [k, v] of Object.entries(r.fields)) fields[k] = TIME_FIELDS.has(k) ? iso(v) : v;
  return {
    recordId: r.recordId,
    recordType: r.recordType,
    protocol: r.protocol,
    fields,
    source: r.source,
    destination: r.destination,
    provenance: {
      ...r.provenance,
      selectedAt: iso(r.provenance.selectedAt),
      retainUntil: iso(r.provenance.retainUntil),
    },
  };
}

/** A buffered NDJSON file of selected records that respects the stream's backpressure. */
export class SelectedNdjsonFile {
  private readonly stream: WriteStream;
  /** Records written. */
  count = 0;

  private constructor(stream: WriteStream) {
    this.stream = stream;
  }

  /** Opens (creates or truncates) `path` with mode 0640: selected records are not for everyone. */
  static async open(path: string): Promise<SelectedNdjsonFile> {
    const stream = createWriteStream(path, { flags: 'w', mode: 0o640 });
    await once(stream, 'open');
    return new SelectedNdjsonFile(stream);
  }

  /** Writes records; resolves when the stream can take more. */
  async write(records: readonly SelectedRecord[]): Promise<void> {
    if (records.length === 0) return;
    let text = '';
    for (const r of records) text += JSON.stringify(selectedRecordJson(r)) + '\n';
    this.count += records.length;
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.stream.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }
}
