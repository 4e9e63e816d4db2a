/**
 * Re-identification at the live edge (R-OVS-2; DESIGN section 6; docs/edge.md): a signed,
 * dual-authorised request arrives on the control direction (`reident-request`), the edge checks it
 * (`createReidentifier`: signatures with the `reidentification` scope, two distinct signers, this
 * provider, not expired, purpose and case id), checks that every (record, pseudonym) pair it names
 * is one this edge actually selected and sent, refuses a request id it already answered, and
 * publishes the clear addresses of exactly the named records on the answer subject. Refusals are
 * published as typed refusals (error code only). Nothing here logs an address: log lines carry the
 * request id, the record count and the outcome.
 *
 * Why the pseudonym index: Crypto-PAn is a bijection, so the key reveals *any* pseudonym. Without
 * the index, a request naming one legitimate record id with someone else's pseudonym would reveal
 * that other person: "named records only" needs the edge to know which pseudonyms each record
 * carried. The index holds a keyed 53-bit digest of (record id, key epoch, pseudonym) for the most
 * recent `indexEntries` pseudonymised endpoints, in memory only (no address, clear or pseudonymised,
 * is kept); records older than that, or selected before a restart, are refused
 * (`ERR_REID_RECORD_UNKNOWN`): the edge fails closed.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Clock } from '../../common/clock.ts';
import { AcdError, ConfigError } from '../../common/errors.ts';
import type { Logger } from '../../common/logging.ts';
import { formatIpv4, formatIpv6, tryParseAddress } from '../../common/prefixes/index.ts';
import type { SelectedRecord } from '../../common/schema/selected.ts';
import {
  ReidentificationError,
  type Reidentifier,
  type ReidentifiedAddress,
} from '../../select/pseudonymise/index.ts';
import type { Bus, ControlMessage, DeliveredControl } from '../../transport/index.ts';
import { writeFileAtomic } from '../../common/files.ts';

/**
 * Largest request payload read: the schema allows 1000 named records of ~400 bytes plus a few
 * signatures; anything much larger is not a request and is refused before parsing.
 */
export const MAX_REID_REQUEST_BYTES = 2 * 1024 * 1024;
/**
 * Answered request ids remembered (each until its request expires, at most 7 days). Requests are
 * rare, signed by two people; when this many are unexpired, new ones are refused rather than
 * forgetting an id whose replay would then be answered.
 */
export const MAX_ANSWERED_REQUESTS = 100_000;
/** Largest replay-state file read at start (100,000 entries of ~200 bytes). */
const MAX_STATE_FILE_BYTES = 32 * 1024 * 1024;
/** Media type of the answers this edge publishes. */
export const REID_ANSWER_CONTENT_TYPE = 'application/acd-reident-answer+json';
/** Request ids as the schema allows them; anything else is not echoed in a refusal. */
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Codes of {@link EdgeReidentificationError} (added to those of `ReidentificationError`). */
export type EdgeReidentificationErrorCode =
  'ERR_REID_REPLAY' | 'ERR_REID_RECORD_UNKNOWN' | 'ERR_REID_REPLAY_MEMORY_FULL';

/**
 * A request the live edge refuses for a reason only the running edge can know: its id was already
 * answered (`ERR_REID_REPLAY`), it names a (record, pseudonym) pair this edge did not select or no
 * longer indexes (`ERR_REID_RECORD_UNKNOWN`), or too many unexpired answered ids are remembered
 * (`ERR_REID_REPLAY_MEMORY_FULL`).
 */
export class EdgeReidentificationError extends AcdError {
  declare readonly code: EdgeReidentificationErrorCode;
  constructor(code: EdgeReidentificationErrorCode, message: string) {
    super(code, message);
  }
}

/** One answer as published on `acd.ctl.<provider>.answer` (JSON payload of a `reident-answer`). */
export type ReidentificationAnswerBody =
  | {
      type: 'reidentification-answer';
      outcome: 'answered';
      requestId: string;
      caseId: string;
      results: ReidentifiedAddress[];
    }
  | {
      type: 'reidentification-answer';
      outcome: 'refused';
      /** The request's id when it could be read (it may be unauthenticated for some refusals). */
      requestId?: string;
      code: string;
    };

function canonical(text: string): string | undefined {
  const a = tryParseAddress(text);
  if (!a) return undefined;
  return a.version === 4 ? formatIpv4(a.w0) : formatIpv6(a.w0, a.w1, a.w2, a.w3);
}

function mixString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 0x5bd1e995);
    h ^= h >>> 15;
  }
  return h;
}

function finalise(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Which (record id, key epoch, pseudonym) triples this edge selected recently. Two generations of
 * keyed 53-bit digests: at least the newest `capacity / 2` and at most `capacity` entries are
 * remembered, with O(1) insertion and lookup and no per-entry eviction bookkeeping. The seeds are
 * random per process, so the centre cannot compute digests and forge a collision offline.
 */
export class PseudonymIndex {
  readonly capacity: number;
  #cur = new Set<number>();
  #prev = new Set<number>();
  readonly #half: number;
  readonly #s1: number;
  readonly #s2: number;

  constructor(capacity: number, seed: Uint8Array = randomBytes(8)) {
    this.capacity = capacity;
    this.#half = Math.max(1, Math.ceil(capacity / 2));
    const v = new DataView(seed.buffer, seed.byteOffset, seed.byteLength);
    this.#s1 = v.getUint32(0);
    this.#s2 = v.getUint32(4);
  }

  #digest(recordId: string, epoch: number, pseudonym: string): number {
    const tail = `\u0000${epoch}\u0000`;
    const h1 = finalise(mixString(mixString(mixString(this.#s1, recordId), tail), pseudonym));
    const h2 = finalise(mixString(mixString(mixString(this.#s2 ^ 0x9e3779b9, recordId), tail), pseudonym));
    // 21 + 32 bits: an exact double, so the Set compares numbers, not strings.
    return (h1 >>> 11) * 0x1_0000_0000 + h2;
  }

  /** Remembers one pseudonym of one record (canonical text, as the selector writes it). */
  add(recordId: string, epoch: number, pseudonym: string): void {
    if (this.capacity === 0) return;
    if (this.#cur.size >= this.#half) {
      this.#prev = this.#cur;
      this.#cur = new Set<number>();
    }
    this.#cur.add(this.#digest(recordId, epoch, pseudonym));
  }

  /** True when this edge selected `recordId` under `epoch` with `pseudonym` (any text form). */
  has(recordId: string, epoch: number, pseudonym: string): boolean {
    const c = canonical(pseudonym);
    if (c === undefined) return false;
    const d = this.#digest(recordId, epoch, c);
    return this.#cur.has(d) || this.#prev.has(d);
  }

  /** Indexes the pseudonymised endpoints of a selected record (hot path: no allocation per field). */
  note(r: SelectedRecord): void {
    const f = r.fields;
    const epoch = r.provenance.keyEpoch;
    if (r.source.pseudonymised) {
      const a = f.sourceIPv4Address ?? f.sourceIPv6Address;
      if (typeof a === 'string') this.add(r.recordId, epoch, a);
    }
    if (r.destination.pseudonymised) {
      const a = f.destinationIPv4Address ?? f.destinationIPv6Address;
      if (typeof a === 'string') this.add(r.recordId, epoch, a);
    }
  }

  /** Entries currently remembered. */
  get size(): number {
    return this.#cur.size + this.#prev.size;
  }
}

/** Dependencies of {@link createEdgeReidentification}. */
export interface EdgeReidentificationDeps {
  reidentifier: Reidentifier;
  index: PseudonymIndex;
  clock: Clock;
  logger: Logger;
  providerId: string;
  /** The bus the answers go to (read at each answer: the edge may create it after this). */
  bus: () => Bus | undefined;
  /** Where answered request ids are kept across restarts (no addresses; empty: memory only). */
  stateFile: string;
}

/** Counters (numbers only) for the edge's statistics. */
export interface EdgeReidentificationStats {
  answered: number;
  refused: number;
  recordsRevealed: number;
}

/** The re-identification service of the live edge. */
export interface EdgeReidentification {
  /** Reads the answered request ids kept by an earlier run. */
  load(): Promise<void>;
  /** Handles one `reident-request`; throws only when the answer could not be published (redelivery). */
  handle(m: DeliveredControl): Promise<void>;
  stats(): EdgeReidentificationStats;
}

interface Answered {
  requestId: string;
  expiresAt: number;
  messageId: string;
}

/** Creates the live edge's re-identification handler. No I/O until `load()`/`handle()`. */
export function createEdgeReidentification(deps: EdgeReidentificationDeps): EdgeReidentification {
  const { clock, logger } = deps;
  const answered = new Map<string, Answered>();
  const counts: EdgeReidentificationStats = { answered: 0, refused: 0, recordsRevealed: 0 };

  function prune(): void {
    const now = clock.now();
    for (const [id, a] of answered) if (a.expiresAt <= now) answered.delete(id);
  }

  async function persist(): Promise<void> {
    if (deps.stateFile === '') return;
    const body = { version: 1, answered: [...answered.values()] };
    await writeFileAtomic(deps.stateFile, `${JSON.stringify(body)}\n`);
  }

  async function publish(m: DeliveredControl, body: ReidentificationAnswerBody): Promise<void> {
    const bus = deps.bus();
    if (!bus) throw new AcdError('ERR_REID_NO_BUS', 'no bus to answer on');
    const reply: ControlMessage = {
      messageId: `${deps.providerId}.reid.${m.messageId}`.slice(0, 256),
      kind: 'reident-answer',
      from: deps.providerId,
      issuedAt: clock.now(),
      correlationId: m.messageId,
      contentType: REID_ANSWER_CONTENT_TYPE,
      payload: new TextEncoder().encode(JSON.stringify(body)),
    };
    await bus.publishControlAnswer(deps.providerId, reply);
  }

  async function refuse(m: DeliveredControl, requestId: string | undefined, err: AcdError): Promise<void> {
    counts.refused++;
    logger.warn(
      { messageId: m.messageId, requestId, outcome: 'refused', code: err.code },
      'reid: request refused',
    );
    await publish(m, {
      type: 'reidentification-answer',
      outcome: 'refused',
      ...(requestId !== undefined ? { requestId } : {}),
      code: err.code,
    });
  }

  return {
    async load(): Promise<void> {
      if (deps.stateFile === '') return;
      let text: string;
      try {
        text = await readFile(deps.stateFile, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw new ConfigError('edge.reidentification.stateFile', `cannot read ${deps.stateFile}`, {
          cause: err,
        });
      }
      // Fail closed: forgetting answered ids would let their replays through.
      try {
        if (text.length > MAX_STATE_FILE_BYTES) throw new Error('too large');
        const parsed = JSON.parse(text) as { answered?: unknown };
        if (!Array.isArray(parsed.answered)) throw new Error('no answered list');
        for (const a of parsed.answered as Partial<Answered>[])
          if (
            typeof a.requestId === 'string' &&
            typeof a.expiresAt === 'number' &&
            typeof a.messageId === 'string'
          )
            answered.set(a.requestId, {
              requestId: a.requestId,
              expiresAt: a.expiresAt,
              messageId: a.messageId,
            });
          else throw new Error('bad entry');
      } catch (err) {
        throw new ConfigError(
          'edge.reidentification.stateFile',
          `${deps.stateFile} is not a re-identification state file (${(err as Error).message})`,
        );
      }
      prune();
    },

    async handle(m: DeliveredControl): Promise<void> {
      prune();
      let doc: unknown;
      try {
        if (m.payload.byteLength > MAX_REID_REQUEST_BYTES) throw new Error('too large');
        doc = JSON.parse(new TextDecoder().decode(m.payload)) as unknown;
      } catch {
        await refuse(m, undefined, new ReidentificationError('ERR_REID_INVALID', 'not a JSON document'));
        return;
      }
      const claimed = (doc as { payload?: { id?: unknown } } | null)?.payload?.id;
      let requestId = typeof claimed === 'string' && ID_RE.test(claimed) ? claimed : undefined;
      let results: ReidentifiedAddress[];
      let caseId: string;
      let entry: Answered;
      try {
        const req = deps.reidentifier.authorise(doc);
        const p = req.payload;
        requestId = p.id;
        const seen = answered.get(p.id);
        // A redelivery of the envelope that was answered (the answer may not have reached the
        // bus) is answered again; the same request in any other envelope is a replay.
        const redelivery = seen !== undefined && seen.messageId === m.messageId && m.deliveryCount > 1;
        if (seen && !redelivery)
          throw new EdgeReidentificationError('ERR_REID_REPLAY', 'this request was already answered');
        if (!seen && answered.size >= MAX_ANSWERED_REQUESTS)
          throw new EdgeReidentificationError(
            'ERR_REID_REPLAY_MEMORY_FULL',
            'too many unexpired answered requests are remembered',
          );
        for (const r of p.records)
          for (const a of r.addresses)
            if (!deps.index.has(r.recordId, r.keyEpoch, a))
              throw new EdgeReidentificationError(
                'ERR_REID_RECORD_UNKNOWN',
                'a named record and pseudonym were not selected by this edge (or are no longer indexed)',
              );
        results = [];
        for (const r of p.records)
          for (const a of r.addresses) results.push(deps.reidentifier.resolve(req, r.recordId, a));
        caseId = p.caseId;
        entry = { requestId: p.id, expiresAt: Date.parse(p.expiresAt), messageId: m.messageId };
      } catch (err) {
        if (!(err instanceof AcdError)) throw err;
        await refuse(m, requestId, err);
        return;
      }
      // Remembered (and kept on disk) before the answer leaves: a crash in between must not
      // leave a request that can be answered twice.
      answered.set(entry.requestId, entry);
      await persist();
      await publish(m, {
        type: 'reidentification-answer',
        outcome: 'answered',
        requestId: entry.requestId,
        caseId,
        results,
      });
      counts.answered++;
      counts.recordsRevealed += results.length;
      logger.warn(
        { messageId: m.messageId, requestId: entry.requestId, records: results.length, outcome: 'answered' },
        'reid: request answered',
      );
    },

    stats(): EdgeReidentificationStats {
      return { ...counts };
    },
  };
}
