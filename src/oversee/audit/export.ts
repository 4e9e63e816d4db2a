/**
 * Reading the chain back: every stored entry (for local verification) and the export file
 * (format.ts describes its lines) of a period, pinned at both ends by signed checkpoints.
 */
import { isoTime } from '../../common/clock.ts';
import type { SigningKey } from '../../common/signing/index.ts';
import { MAX_LIMIT, type AuditRecord, type Store } from '../../store/types.ts';
import { Value } from '@sinclair/typebox/value';
import { CheckpointSchema, readCheckpointFile, type Checkpoint } from './checkpoint.ts';
import { AuditExportError } from './errors.ts';
import { signHeader, type ExportHeader } from './format.ts';

/** Most entries one export (or one local verification) holds in memory. */
export const MAX_EXPORT_ENTRIES = 5_000_000;

/** Every stored entry from `fromSeq` on, in order. Throws `AuditExportError` beyond the limit. */
export async function readAllAudit(store: Store, fromSeq = 1): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for (let seq = fromSeq; ;) {
    const page = await store.readAudit(seq, MAX_LIMIT);
    out.push(...page);
    if (out.length > MAX_EXPORT_ENTRIES)
      throw new AuditExportError(`more than ${MAX_EXPORT_ENTRIES} entries`);
    if (page.length < MAX_LIMIT) return out;
    seq += page.length;
  }
}

/** The valid checkpoints of the file, one per seq (the first), in file order. */
export async function readCheckpoints(file: string): Promise<Checkpoint[]> {
  const seen = new Set<number>();
  const out: Checkpoint[] = [];
  for (const { value } of await readCheckpointFile(file)) {
    if (!Value.Check(CheckpointSchema, value) || seen.has(value.seq)) continue;
    seen.add(value.seq);
    out.push(value);
  }
  return out;
}

/** Options of {@link buildExport}. */
export interface ExportOptions {
  /** Period of entry times `[from, to)`, epoch ms; open ends when absent. */
  from?: number;
  to?: number;
  /** Who exports (recorded in the signed header). */
  exportedBy: string;
  /** The centre's audit key: signs the header. */
  key: SigningKey;
  now: number;
}

/** The export: its lines (without newlines) and header. */
export interface AuditExport {
  header: ExportHeader;
  lines: string[];
  /** Entries of the requested period (the file also holds those up to the pinning checkpoints). */
  inPeriod: number;
}

/** Builds the export of a period from the store and the checkpoint file. */
export async function buildExport(
  store: Store,
  checkpointFile: string,
  o: ExportOptions,
): Promise<AuditExport> {
  const all = await readAllAudit(store);
  const cps = (await readCheckpoints(checkpointFile)).filter((c) => c.seq >= 1);
  const inPeriod = all.filter(
    (e) => (o.from === undefined || e.at >= o.from) && (o.to === undefined || e.at < o.to),
  );
  const last = all[all.length - 1]?.seq ?? 0;
  let firstSeq = last + 1;
  let lastSeq = last;
  const a = inPeriod[0];
  const b = inPeriod[inPeriod.length - 1];
  if (a && b) {
    const before = cps.filter((c) => c.seq < a.seq).pop();
    const after = cps.find((c) => c.seq >= b.seq);
    firstSeq = before ? before.seq + 1 : 1;
    lastSeq = after ? after.seq : last;
  }
  const chosen = inPeriod.length === 0 ? [] : cps.filter((c) => c.seq >= firstSeq - 1 && c.seq <= lastSeq);
  const header = signHeader(
    {
      type: 'header',
      format: 'acd.audit-export/1',
      exportedAt: isoTime(o.now),
      exportedBy: o.exportedBy,
      from: o.from === undefined ? null : isoTime(o.from),
      to: o.to === undefined ? null : isoTime(o.to),
      firstSeq,
      lastSeq,
      checkpointSeqs: chosen.map((c) => c.seq),
    },
    o.key,
  );
  const lines = [JSON.stringify(header)];
  const bySeq = new Map(chosen.map((c) => [c.seq, c]));
  const anchor = bySeq.get(firstSeq - 1);
  if (anchor) lines.push(JSON.stringify({ type: 'checkpoint', ...anchor }));
  for (const e of all) {
    if (e.seq < firstSeq || e.seq > lastSeq) continue;
    lines.push(JSON.stringify({ type: 'entry', ...e }));
    const cp = bySeq.get(e.seq);
    if (cp) lines.push(JSON.stringify({ type: 'checkpoint', ...cp }));
  }
  return { header, lines, inPeriod: inPeriod.length };
}
