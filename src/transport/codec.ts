/**
 * The binary batch format of the data direction: a 4-byte header (`ACB` + format version) and a
 * msgpack document in msgpackr's self-describing "sequential records" mode, with the provenance
 * hoisted: the parts of `Provenance` that are the same for a whole feed (provider, feed, channel,
 * approval, selectors, table/parameter versions, key epoch) are stored once per batch and each row
 * refers to them by index; `selectedAt` and `retainUntil` stay per record.
 *
 * Measured for 1000 realistic flow records (bench/transport.ts, 2 shared cores, noisy): 128 bytes
 * per record (JSON: 806); encode 0.19–0.48 M records/s, decode with validation and object
 * rebuilding 0.06–0.15 M records/s depending on machine load (msgpack unpacking alone ≈ 1.3 M/s
 * unloaded; the rest is building and checking `SelectedRecord` objects). Plain msgpack without
 * record structures was 670 bytes per record and decoded slower than JSON; a hand-written format
 * would have saved little more than the recordId prefix. Every message is
 * decodable on its own (a fresh Packr per batch: no structure shared across messages), because
 * consumers join, restart and receive redeliveries out of order.
 */
import { Packr } from 'msgpackr';
import type { Fields } from '../common/schema/record.ts';
import type { EndpointInfo, Provenance, SelectedRecord } from '../common/schema/selected.ts';
import type { EncodedBatch } from './bus.ts';
import { BatchDecodeError, BatchTooLargeError } from './errors.ts';

/** Header bytes: `A`, `C`, `B`, format version. */
const MAGIC0 = 0x41;
const MAGIC1 = 0x43;
const MAGIC2 = 0x42;
/** Format version; a decoder refuses any other. */
export const BATCH_FORMAT_VERSION = 1;

/**
 * Records per batch. The bus is efficient with hundreds to thousands per message (MACHINE-NOTES);
 * the bound keeps one message's decode time and memory small and predictable.
 */
export const MAX_BATCH_RECORDS = 10_000;

/**
 * Encoded bytes per batch: NATS refuses messages above the server's `max_payload`, 1 MiB by default;
 * at ~130 bytes per record that is ~7,000 records. Edges send batches of about 1000.
 */
export const MAX_BATCH_BYTES = 1024 * 1024;

/** Provider ids and batch ids longer than this are refused (they are subject tokens and keys). */
const MAX_ID_LENGTH = 256;

type ProvStatic = [string, string, string, string, string[], string, string, number];
type Row = [
  string,
  string,
  string,
  Fields,
  string,
  number,
  boolean,
  string,
  number,
  boolean,
  number,
  number,
  number,
];
type Doc = [string, string, number, number, ProvStatic[], Row[]];

function packr(): Packr {
  return new Packr({ useRecords: true, sequential: true });
}

function provKey(p: Provenance): string {
  return `${p.providerId}\u0000${p.feedId}\u0000${p.channel}\u0000${p.approvalId}\u0000${p.selectorIds.join('\u0001')}\u0000${p.tableVersion}\u0000${p.parameterVersion}\u0000${p.keyEpoch}`;
}

/**
 * Encodes a batch. Throws `BatchTooLargeError` above `MAX_BATCH_RECORDS` or `maxBytes`
 * (default `MAX_BATCH_BYTES`): the caller splits the batch.
 */
export function encodeBatch(
  providerId: string,
  partition: number,
  batchId: string,
  records: readonly SelectedRecord[],
  createdAt: number,
  maxBytes = MAX_BATCH_BYTES,
): EncodedBatch {
  if (records.length > MAX_BATCH_RECORDS)
    throw new BatchTooLargeError(`${records.length} records exceed ${MAX_BATCH_RECORDS} per batch`);
  const provIndex = new Map<string, number>();
  const provs: ProvStatic[] = [];
  const rows: Row[] = new Array<Row>(records.length);
  // Consecutive records usually share one provenance object; remember the last one to skip the key.
  let lastProv: Provenance | undefined;
  let lastIdx = -1;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const p = r.provenance;
    let idx = lastIdx;
    if (p !== lastProv) {
      const k = provKey(p);
      let j = provIndex.get(k);
      if (j === undefined) {
        j = provs.length;
        provIndex.set(k, j);
        provs.push([
          p.providerId,
          p.feedId,
          p.channel,
          p.approvalId,
          p.selectorIds,
          p.tableVersion,
          p.parameterVersion,
          p.keyEpoch,
        ]);
      }
      idx = j;
      lastProv = p;
      lastIdx = j;
    }
    rows[i] = [
      r.recordId,
      r.recordType,
      r.protocol,
      r.fields,
      r.source.country,
      r.source.asn,
      r.source.pseudonymised,
      r.destination.country,
      r.destination.asn,
      r.destination.pseudonymised,
      idx,
      p.selectedAt,
      p.retainUntil,
    ];
  }
  const doc: Doc = [batchId, providerId, partition, createdAt, provs, rows];
  const body = packr().pack(doc);
  const bytes = new Uint8Array(body.length + 4);
  bytes[0] = MAGIC0;
  bytes[1] = MAGIC1;
  bytes[2] = MAGIC2;
  bytes[3] = BATCH_FORMAT_VERSION;
  bytes.set(body, 4);
  if (bytes.length > maxBytes)
    throw new BatchTooLargeError(`encoded batch of ${bytes.length} bytes exceeds ${maxBytes}`);
  return { batchId, providerId, partition, recordCount: records.length, bytes };
}

/** A decoded batch. */
export interface DecodedBatch {
  batchId: string;
  providerId: string;
  partition: number;
  createdAt: number;
  records: SelectedRecord[];
}

function isStr(v: unknown, max = MAX_ID_LENGTH): v is string {
  return typeof v === 'string' && v.length <= max;
}
function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function fail(what: string): never {
  throw new BatchDecodeError(`malformed batch: ${what}`);
}

/**
 * Decodes and validates a batch (the centre treats bus content as untrusted input: a malformed
 * message is a `BatchDecodeError`, never an untyped exception).
 */
export function decodeBatch(bytes: Uint8Array): DecodedBatch {
  if (bytes.length < 5 || bytes[0] !== MAGIC0 || bytes[1] !== MAGIC1 || bytes[2] !== MAGIC2)
    fail('bad header');
  if (bytes[3] !== BATCH_FORMAT_VERSION) fail(`unsupported version ${bytes[3]}`);
  if (bytes.length > MAX_BATCH_BYTES * 4) fail('too large');
  let doc: unknown;
  try {
    doc = packr().unpack(bytes.subarray(4));
  } catch (err) {
    throw new BatchDecodeError('malformed batch: msgpack', { cause: err });
  }
  if (!Array.isArray(doc) || doc.length !== 6) fail('document');
  const [batchId, providerId, partition, createdAt, provs, rows] = doc as unknown[];
  if (!isStr(batchId) || !isStr(providerId) || !isNum(partition) || !isNum(createdAt)) fail('envelope');
  if (!Array.isArray(provs) || !Array.isArray(rows)) fail('tables');
  if (rows.length > MAX_BATCH_RECORDS) fail('too many records');
  const statics: Omit<Provenance, 'selectedAt' | 'retainUntil'>[] = [];
  for (const p of provs as unknown[]) {
    if (!Array.isArray(p) || p.length !== 8) fail('provenance');
    const [prov, feed, channel, approval, selectors, table, param, epoch] = p as unknown[];
    if (
      !isStr(prov) ||
      !isStr(feed) ||
      !isStr(channel) ||
      !isStr(approval) ||
      !Array.isArray(selectors) ||
      !selectors.every((s) => isStr(s)) ||
      !isStr(table) ||
      !isStr(param) ||
      !isNum(epoch)
    )
      fail('provenance fields');
    statics.push({
      providerId: prov,
      feedId: feed,
      channel: channel as Provenance['channel'],
      approvalId: approval,
      selectorIds: selectors,
      tableVersion: table,
      parameterVersion: param,
      keyEpoch: epoch,
    });
  }
  const records: SelectedRecord[] = new Array<SelectedRecord>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row: unknown = rows[i];
    if (!Array.isArray(row) || row.length !== 13) fail('row');
    const [id, type, proto, fields, sc, sa, sp, dc, da, dp, pi, selectedAt, retainUntil] = row as unknown[];
    if (!isStr(id) || (type !== 'flow' && type !== 'dns') || !isStr(proto, 32)) fail('row identity');
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) fail('row fields');
    if (
      !isStr(sc, 8) ||
      !isNum(sa) ||
      typeof sp !== 'boolean' ||
      !isStr(dc, 8) ||
      !isNum(da) ||
      typeof dp !== 'boolean'
    )
      fail('row endpoints');
    if (!isNum(pi) || !isNum(selectedAt) || !isNum(retainUntil)) fail('row provenance');
    const st = statics[pi];
    if (!st) fail('provenance index');
    const source: EndpointInfo = { country: sc, asn: sa, pseudonymised: sp };
    const destination: EndpointInfo = { country: dc, asn: da, pseudonymised: dp };
    records[i] = {
      recordId: id,
      recordType: type,
      protocol: proto as SelectedRecord['protocol'],
      fields: fields as Fields,
      source,
      destination,
      provenance: { ...st, selectedAt, retainUntil },
    };
  }
  return { batchId, providerId, partition, createdAt, records };
}
