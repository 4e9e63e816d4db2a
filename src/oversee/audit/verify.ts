/**
 * Verification of the audit chain: `verifyChain` checks entries against their hashes, links,
 * gap-free sequence and the signed checkpoints, and returns the first bad entry (never throws);
 * `verifyExport` does the same for an export file (export.ts describes its lines).
 *
 * Kinds of problem, in the order they are tested on each entry:
 * - `modified`: an entry's content no longer matches its hash, its hash is not the one the next
 *   entry links to, a checkpoint pins another hash, or a line is not JSON / not an entry;
 * - `reordered`: an entry or checkpoint is out of place (the expected one comes later);
 * - `missing`: the expected entry (or a checkpoint the export header lists) is absent;
 * - `truncated`: a signed checkpoint (or the signed export header) names entries past the last one;
 * - `bad-checkpoint-signature`: a checkpoint is malformed, signed by an unknown or non-audit key,
 *   by a key not valid at its time, or its signature does not verify.
 */
import { Value } from '@sinclair/typebox/value';
import type { AuditRecord } from '../../store/types.ts';
import type { PublicKeyInfo } from '../keys/index.ts';
import { auditEntryId, auditHash, AuditRecordSchema } from './chain.ts';
import { checkpointFault, ndjsonLines, type Checkpoint, type Located } from './checkpoint.ts';
import { headerFault, type ExportHeader } from './format.ts';
import { AuditExportError } from './errors.ts';

/** How an audit chain is broken. */
export type ChainProblemKind =
  'modified' | 'missing' | 'reordered' | 'truncated' | 'bad-checkpoint-signature';

/** The first bad entry found. */
export interface ChainProblem {
  kind: ChainProblemKind;
  /** 1-based line of the file (an export, or the checkpoint file); for store entries, the position (= seq). */
  line: number;
  /** Sequence number concerned, when known. */
  seq?: number;
  /** `audit-<seq>`, `checkpoint-<seq>` or `header`. */
  id: string;
  message: string;
}

/** Outcome of a verification. */
export type ChainVerdict =
  | {
      ok: true;
      entries: number;
      checkpoints: number;
      firstSeq: number | undefined;
      lastSeq: number | undefined;
      /** Highest seq pinned by a valid checkpoint. */
      lastCheckpointSeq: number | undefined;
      /** Entries after the last checkpoint (a cut among them would go unnoticed). */
      uncovered: number;
    }
  | { ok: false; problem: ChainProblem };

/** Options of {@link verifyChain}. */
export interface VerifyChainOptions {
  /** Entries and checkpoints are lines of one file: a checkpoint sits right after its entry. */
  interleaved?: boolean;
  /** The last entry must be pinned by a checkpoint (exports always end at one). */
  requireCoveredTail?: boolean;
  /** Seq the first entry must have (1 for a whole chain); default: whatever it has. */
  firstSeq?: number;
  /** Line reported for a cut tail: the first line past the input. */
  endLine?: number;
}

/** Largest export file verified (bytes). */
export const MAX_EXPORT_BYTES = 1024 * 1024 * 1024;
/** Largest line of an export (bytes; an entry is bounded by the chain limits far below this). */
export const MAX_EXPORT_LINE_BYTES = 1024 * 1024;

interface Parsed {
  line: number;
  rec: AuditRecord;
}

function seqOf(v: unknown): number | undefined {
  if (typeof v !== 'object' || v === null || !('seq' in v)) return undefined;
  return Number.isSafeInteger(v.seq) ? (v.seq as number) : undefined;
}

function problem(
  kind: ChainProblemKind,
  line: number,
  seq: number | undefined,
  id: string,
  message: string,
): ChainProblem {
  return seq === undefined ? { kind, line, id, message } : { kind, line, seq, id, message };
}

function entryProblem(
  kind: ChainProblemKind,
  line: number,
  seq: number | undefined,
  what: string,
): ChainProblem {
  const id = seq === undefined ? `line-${line}` : auditEntryId(seq);
  return problem(kind, line, seq, id, `line ${line} (${id}): ${what}`);
}

/** Entries in order: hashes, gap-free seq, links. Returns the first problem and the parsed entries. */
function entryPass(
  entries: readonly Located[],
  opts: VerifyChainOptions,
  anchor: Checkpoint | undefined,
): { problem: ChainProblem | undefined; parsed: Parsed[] } {
  const positions = new Map<number, number>();
  entries.forEach((x, i) => {
    const s = seqOf(x.value);
    if (s !== undefined && !positions.has(s)) positions.set(s, i);
  });
  const parsed: Parsed[] = [];
  let expected = opts.firstSeq;
  let prevHash: string | undefined = anchor ? anchor.hash : expected === 1 ? '' : undefined;
  let prevLine: number | undefined;
  for (let i = 0; i < entries.length; i++) {
    const { line, value } = entries[i] as Located;
    const seq = seqOf(value);
    if (!Value.Check(AuditRecordSchema, value))
      return { problem: entryProblem('modified', line, seq, 'not a well-formed audit entry'), parsed };
    const rec: AuditRecord = value;
    let h: string;
    try {
      h = auditHash(rec);
    } catch {
      return { problem: entryProblem('modified', line, rec.seq, 'detail is not canonical JSON'), parsed };
    }
    if (h !== rec.hash)
      return { problem: entryProblem('modified', line, rec.seq, 'content does not match its hash'), parsed };
    if (expected !== undefined && rec.seq !== expected) {
      const later = positions.get(expected);
      if (rec.seq < expected || (later !== undefined && later > i))
        return {
          problem: entryProblem('reordered', line, rec.seq, `seq ${rec.seq} where ${expected} was expected`),
          parsed,
        };
      return {
        problem: problem(
          'missing',
          line,
          expected,
          auditEntryId(expected),
          `line ${line}: entries ${expected}..${rec.seq - 1} are missing before ${auditEntryId(rec.seq)}`,
        ),
        parsed,
      };
    }
    if ((rec.seq === 1) !== (rec.prev === ''))
      return {
        problem: entryProblem('modified', line, rec.seq, 'link to the previous entry is wrong'),
        parsed,
      };
    if (prevHash !== undefined && rec.prev !== prevHash) {
      const p =
        prevLine !== undefined
          ? entryProblem(
              'modified',
              prevLine,
              rec.seq - 1,
              `hash differs from the link of ${auditEntryId(rec.seq)}`,
            )
          : entryProblem('modified', line, rec.seq, 'does not link to the checkpoint before it');
      return { problem: p, parsed };
    }
    parsed.push({ line, rec });
    expected = rec.seq + 1;
    prevHash = rec.hash;
    prevLine = line;
  }
  return { problem: undefined, parsed };
}

/**
 * Verifies a chain (entries in their stored or exported order) against signed checkpoints and
 * the public keys (`audit` purpose). Returns ok or the first bad entry; never throws.
 */
export function verifyChain(
  entries: readonly Located[],
  checkpoints: readonly Located[],
  publicKeys: readonly PublicKeyInfo[],
  options: VerifyChainOptions = {},
): ChainVerdict {
  try {
    return verifyUnsafe(entries, checkpoints, publicKeys, options);
  } catch (err) {
    // Defensive: every check above is total, but a verifier must answer, not crash.
    return {
      ok: false,
      problem: problem('modified', 0, undefined, 'unknown', `verification failed: ${(err as Error).message}`),
    };
  }
}

function verifyUnsafe(
  entries: readonly Located[],
  checkpoints: readonly Located[],
  publicKeys: readonly PublicKeyInfo[],
  opts: VerifyChainOptions,
): ChainVerdict {
  const firstEntryLine = entries[0]?.line ?? Infinity;
  // The anchor: a checkpoint placed before the first entry, pinning the entry before the range.
  let anchor: Checkpoint | undefined;
  if (opts.interleaved && opts.firstSeq !== undefined && opts.firstSeq > 1) {
    const a = checkpoints.find((c) => c.line < firstEntryLine && seqOf(c.value) === (opts.firstSeq ?? 0) - 1);
    if (a && checkpointFault(a.value, publicKeys) === undefined) anchor = a.value as Checkpoint;
  }
  const { problem: p1, parsed } = entryPass(entries, opts, anchor);
  const bySeq = new Map<number, Parsed>();
  for (const p of parsed) bySeq.set(p.rec.seq, p);
  const minSeq = parsed[0]?.rec.seq;
  const maxSeq = parsed[parsed.length - 1]?.rec.seq;
  const endLine = opts.endLine ?? (entries[entries.length - 1]?.line ?? 0) + 1;

  let p2: ChainProblem | undefined;
  let lastCp = -1;
  let pinned: number | undefined;
  let valid = 0;
  for (const { line, value } of checkpoints) {
    const cpSeq = seqOf(value);
    const id = `checkpoint-${cpSeq ?? '?'}`;
    if (value === undefined) {
      p2 = problem('modified', line, cpSeq, id, `line ${line}: not JSON`);
      break;
    }
    const fault = checkpointFault(value, publicKeys);
    if (fault !== undefined) {
      p2 = problem('bad-checkpoint-signature', line, cpSeq, id, `line ${line} (${id}): ${fault}`);
      break;
    }
    const cp = value as Checkpoint;
    if (cp.seq < lastCp) {
      p2 = problem(
        'reordered',
        line,
        cp.seq,
        id,
        `line ${line} (${id}): after the checkpoint of seq ${lastCp}`,
      );
      break;
    }
    lastCp = cp.seq;
    valid++;
    if (minSeq === undefined || maxSeq === undefined) continue;
    const pinnedEntry = bySeq.get(cp.seq);
    if (cp.seq > maxSeq) {
      if (p1 !== undefined) break; // entries broke off early; the entry problem says where
      p2 = problem(
        'truncated',
        endLine,
        maxSeq + 1,
        auditEntryId(maxSeq + 1),
        `entries ${maxSeq + 1}..${cp.seq} were cut (the checkpoint at line ${line} pins seq ${cp.seq})`,
      );
      break;
    }
    if (cp.seq >= minSeq && !pinnedEntry) {
      p2 = problem(
        'missing',
        line,
        cp.seq,
        auditEntryId(cp.seq),
        `line ${line}: ${auditEntryId(cp.seq)}, pinned by ${id}, is missing`,
      );
      break;
    }
    if (opts.interleaved) {
      const before = lastEntryBefore(parsed, line);
      const want = cp.seq === minSeq - 1 ? undefined : cp.seq;
      const got = before?.rec.seq;
      if (got !== want) {
        const at =
          want !== undefined && got !== undefined && got > want
            ? (bySeq.get(want)?.line ?? line - 1) + 1
            : line;
        p2 = problem(
          'reordered',
          at,
          cp.seq,
          id,
          `line ${at}: ${id} is not right after ${auditEntryId(cp.seq)}`,
        );
        break;
      }
    }
    if (pinnedEntry) {
      if (pinnedEntry.rec.hash !== cp.hash) {
        p2 = entryProblem(
          'modified',
          pinnedEntry.line,
          cp.seq,
          `hash differs from the signed checkpoint at line ${line}`,
        );
        break;
      }
      pinned = cp.seq;
    } else if (cp.seq === minSeq - 1) {
      const first = parsed[0] as Parsed;
      if (first.rec.prev !== cp.hash) {
        p2 = entryProblem(
          'modified',
          first.line,
          minSeq,
          `does not link to the signed checkpoint at line ${line}`,
        );
        break;
      }
    }
  }
  if (
    p1 === undefined &&
    p2 === undefined &&
    opts.requireCoveredTail &&
    maxSeq !== undefined &&
    (pinned === undefined || pinned < maxSeq)
  )
    p2 = problem(
      'truncated',
      endLine,
      maxSeq,
      `checkpoint-${maxSeq}`,
      `line ${endLine}: no signed checkpoint pins the last entry ${auditEntryId(maxSeq)} (the tail was cut)`,
    );
  const first = [p1, p2]
    .filter((p): p is ChainProblem => p !== undefined)
    .sort((a, b) => (opts.interleaved ? a.line - b.line : 0))[0];
  if (first) return { ok: false, problem: first };
  return {
    ok: true,
    entries: parsed.length,
    checkpoints: valid,
    firstSeq: minSeq,
    lastSeq: maxSeq,
    lastCheckpointSeq: pinned,
    uncovered: maxSeq === undefined ? 0 : maxSeq - (pinned ?? (minSeq ?? 1) - 1),
  };
}

function lastEntryBefore(parsed: readonly Parsed[], line: number): Parsed | undefined {
  let lo = 0;
  let hi = parsed.length; // first index with line > `line`
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((parsed[mid] as Parsed).line < line) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? parsed[lo - 1] : undefined;
}

/**
 * Verifies an export file (text) offline with the given public keys. Returns ok or the first bad
 * line; throws only `AuditExportError` for a file too large to verify.
 */
export function verifyExport(text: string, publicKeys: readonly PublicKeyInfo[]): ChainVerdict {
  if (text.length > MAX_EXPORT_BYTES)
    throw new AuditExportError(`export larger than ${MAX_EXPORT_BYTES} bytes`);
  const lines = ndjsonLines(text, MAX_EXPORT_LINE_BYTES);
  const lastLine = lines[lines.length - 1]?.line ?? 0;
  const endLine = lastLine + 1;
  const head = lines[0];
  const typeOf = (v: unknown): unknown =>
    typeof v === 'object' && v !== null && 'type' in v ? v.type : undefined;
  if (!head || typeOf(head.value) !== 'header') {
    const elsewhere = lines.find((l) => typeOf(l.value) === 'header');
    const line = head?.line ?? 1;
    return {
      ok: false,
      problem: problem(
        head?.value === undefined && head ? 'modified' : elsewhere ? 'reordered' : 'missing',
        line,
        undefined,
        'header',
        `line ${line}: the export header is ${head?.value === undefined && head ? 'not JSON' : elsewhere ? `at line ${elsewhere.line}` : 'missing'}`,
      ),
    };
  }
  const fault = headerFault(head.value, publicKeys);
  if (fault !== undefined)
    return {
      ok: false,
      problem: problem('modified', head.line, undefined, 'header', `line ${head.line} (header): ${fault}`),
    };
  const header = head.value as ExportHeader;
  const entries: Located[] = [];
  const checkpoints: Located[] = [];
  for (const l of lines.slice(1)) {
    const t = typeOf(l.value);
    if (t === 'checkpoint' && typeof l.value === 'object' && l.value !== null) {
      const { type: _t, ...cp } = l.value as Record<string, unknown>;
      checkpoints.push({ line: l.line, value: cp });
    } else if (t === 'entry' && typeof l.value === 'object' && l.value !== null) {
      const { type: _t, ...e } = l.value as Record<string, unknown>;
      entries.push({ line: l.line, value: e });
    } else if (t === 'header') {
      return {
        ok: false,
        problem: problem('modified', l.line, undefined, 'header', `line ${l.line}: a second header`),
      };
    } else {
      // Not a line of ours: counted as an entry so that the entry pass names it.
      entries.push({ line: l.line, value: l.value });
    }
  }
  const v = verifyChain(entries, checkpoints, publicKeys, {
    interleaved: true,
    requireCoveredTail: header.lastSeq >= header.firstSeq,
    firstSeq: header.firstSeq,
    endLine,
  });
  const anchorSeq = header.firstSeq - 1;
  if (!v.ok) return v;
  if (
    header.firstSeq > 1 &&
    !checkpoints.some((c) => seqOf(c.value) === anchorSeq && c.line < (entries[0]?.line ?? Infinity))
  )
    return {
      ok: false,
      problem: problem(
        'missing',
        2,
        anchorSeq,
        `checkpoint-${anchorSeq}`,
        `line 2: the checkpoint of seq ${anchorSeq} before the first entry is missing`,
      ),
    };
  const lastSeq = v.lastSeq ?? header.firstSeq - 1;
  if (lastSeq < header.lastSeq)
    return {
      ok: false,
      problem: problem(
        'truncated',
        endLine,
        lastSeq + 1,
        auditEntryId(lastSeq + 1),
        `line ${endLine}: entries ${lastSeq + 1}..${header.lastSeq} listed by the signed header were cut`,
      ),
    };
  if (lastSeq > header.lastSeq) {
    const extra = entries.find((e) => (seqOf(e.value) ?? 0) > header.lastSeq);
    const line = extra?.line ?? endLine;
    return {
      ok: false,
      problem: entryProblem('modified', line, header.lastSeq + 1, 'not listed by the signed header'),
    };
  }
  const present = new Map<number, number>();
  for (const c of checkpoints) {
    const s = seqOf(c.value);
    if (s !== undefined && !present.has(s)) present.set(s, c.line);
  }
  const entryLine = new Map<number, number>();
  for (const e of entries) {
    const s = seqOf(e.value);
    if (s !== undefined) entryLine.set(s, e.line);
  }
  for (const s of header.checkpointSeqs) {
    if (present.has(s)) continue;
    const line = s === anchorSeq ? 2 : (entryLine.get(s) ?? endLine - 1) + 1;
    return {
      ok: false,
      problem: problem(
        'missing',
        line,
        s,
        `checkpoint-${s}`,
        `line ${line}: checkpoint-${s} listed by the signed header is missing`,
      ),
    };
  }
  if (present.size !== checkpoints.length || present.size !== header.checkpointSeqs.length) {
    const listed = new Set(header.checkpointSeqs);
    const seen = new Set<number>();
    const extra = checkpoints.find((c) => {
      const s = seqOf(c.value) ?? -1;
      const dup = seen.has(s);
      seen.add(s);
      return dup || !listed.has(s);
    });
    const line = extra?.line ?? 1;
    return {
      ok: false,
      problem: problem(
        'modified',
        line,
        undefined,
        'checkpoint',
        `line ${line}: a checkpoint not listed by the signed header`,
      ),
    };
  }
  return v;
}
