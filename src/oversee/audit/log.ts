/**
 * The audit log (issue 8, R-OVS-3): `append` adds hash-chained entries to the store, one chain,
 * serialised (concurrent appends are queued and written in batches, in call order); signed
 * checkpoints of the head go to an append-only file and, when a bus is given, to the bus; reads
 * of live views are aggregated per (session, minute).
 *
 * Checkpoints are written every `checkpointEveryEntries` entries, at least every
 * `checkpointIntervalMs` while the head moves (checked on each append and by a timer), and on
 * `stop()`. On the bus a checkpoint travels on the control direction to `all` edges as a `notice`
 * envelope (content type `application/acd-audit-checkpoint+json`, payload the checkpoint JSON):
 * that direction is durable and held outside the centre's store, which is the point; edges log
 * and ignore notices they do not handle.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../common/clock.ts';
import type { Lifecycle } from '../../common/lifecycle.ts';
import { silentLogger, type Logger } from '../../common/logging.ts';
import { canonicalize, type SigningKey } from '../../common/signing/index.ts';
import type { Bus } from '../../transport/bus.ts';
import { ALL_PROVIDERS } from '../../transport/bus.ts';
import type { AuditRecord, Store } from '../../store/types.ts';
import {
  auditHash,
  MAX_AUDIT_DETAIL_BYTES,
  MAX_AUDIT_NAME,
  MAX_AUDIT_OBJECT_ID,
  MAX_AUDIT_OBJECT_IDS,
} from './chain.ts';
import {
  appendCheckpointFile,
  CHECKPOINT_CONTENT_TYPE,
  lastCheckpointInFile,
  signCheckpoint,
  type Checkpoint,
} from './checkpoint.ts';
import { resolveAuditConfig, type AuditConfigInput } from './config.ts';
import { AuditClosedError, AuditInputError } from './errors.ts';

/** What one audited action says (the log adds `seq`, `at`, `prev`, `hash`). */
export interface AuditInput {
  /** Who: a user name, token id, `local-admin`, `centre`. */
  actor: string;
  role: string;
  /** Declared purpose code (`X-ACD-Purpose`). */
  purpose: string;
  /** What, e.g. `GET /api/v1/incidents/:id`, `case.approve`, `retention.run`. */
  action: string;
  /** Ids of the objects concerned (records, cases, incidents); never addresses in clear. */
  objectIds?: readonly string[];
  /** JSON facts (codes, counts, references); never record content. */
  detail?: Record<string, unknown>;
}

/** A session whose reads of live views are counted instead of logged one by one. */
export interface ReadSession {
  /** Session or token id. */
  id: string;
  actor: string;
  role: string;
  purpose: string;
}

/** Where the log gets its checkpoint key: looked up at every checkpoint, so a rotation takes effect. */
export interface AuditKeySource {
  signingKey(purpose: 'audit'): Promise<SigningKey>;
}

/** Dependencies of {@link createAuditLog}. */
export interface AuditLogDeps {
  store: Store;
  clock: Clock;
  keys: AuditKeySource;
  /** The append-only checkpoint file (NDJSON). */
  checkpointFile: string;
  bus?: Bus;
  logger?: Logger;
}

/** The audit log. */
export interface AuditLog extends Lifecycle {
  /** Appends one entry (after any earlier call's); resolves with it once stored. Throws `AuditInputError`. */
  append(input: AuditInput): Promise<AuditRecord>;
  /** Counts one read of `route` by `session`; written as one entry per (session, minute). */
  recordRead(session: ReadSession, route: string): void;
  /** Writes the aggregated reads of every minute that has ended (all of them with `all`). */
  flushReads(all?: boolean): Promise<void>;
  /** Signs and writes a checkpoint of the head now, unless the head is already pinned. */
  checkpoint(): Promise<Checkpoint | undefined>;
  /** The head: last seq and hash (seq 0, hash '' for an empty chain). */
  head(): { seq: number; hash: string };
}

interface Pending {
  input: NormalisedInput;
  at: number;
  resolve: (r: AuditRecord) => void;
  reject: (e: unknown) => void;
}

interface ReadBucket {
  session: ReadSession;
  minute: number;
  count: number;
  routes: Map<string, number>;
}

const MINUTE = 60_000;

function checkName(field: string, v: unknown): string {
  if (typeof v !== 'string') throw new AuditInputError(field, 'must be a string');
  if (v.length > MAX_AUDIT_NAME) throw new AuditInputError(field, `longer than ${MAX_AUDIT_NAME}`);
  return v;
}

/** An input after validation: a private copy. */
export interface NormalisedInput {
  actor: string;
  role: string;
  purpose: string;
  action: string;
  objectIds: string[];
  detail: Record<string, unknown>;
}

/** Validates and copies an input (the copy is what gets hashed: later edits by the caller change nothing). */
export function normaliseAuditInput(input: AuditInput): NormalisedInput {
  const objectIds = input.objectIds ?? [];
  if (objectIds.length > MAX_AUDIT_OBJECT_IDS)
    throw new AuditInputError('objectIds', `more than ${MAX_AUDIT_OBJECT_IDS}`);
  for (const id of objectIds)
    if (typeof id !== 'string' || id.length > MAX_AUDIT_OBJECT_ID)
      throw new AuditInputError('objectIds', `each id is a string of at most ${MAX_AUDIT_OBJECT_ID}`);
  let detailText: string;
  try {
    detailText = canonicalize(input.detail ?? {});
  } catch (err) {
    throw new AuditInputError('detail', 'not JSON', { cause: err });
  }
  if (Buffer.byteLength(detailText) > MAX_AUDIT_DETAIL_BYTES)
    throw new AuditInputError('detail', `larger than ${MAX_AUDIT_DETAIL_BYTES} bytes`);
  return {
    actor: checkName('actor', input.actor),
    role: checkName('role', input.role),
    purpose: checkName('purpose', input.purpose),
    action: checkName('action', input.action),
    objectIds: [...objectIds],
    detail: JSON.parse(detailText) as Record<string, unknown>,
  };
}

/** Creates the audit log (inert until `start()`). Throws `ConfigError` for a bad configuration. */
export function createAuditLog(deps: AuditLogDeps, config: AuditConfigInput = {}): AuditLog {
  const cfg = resolveAuditConfig(config);
  const { store, clock, keys, checkpointFile, bus } = deps;
  const log = deps.logger ?? silentLogger;
  let state: 'new' | 'running' | 'stopped' = 'new';
  let headSeq = 0;
  let headHash = '';
  let pinnedSeq = 0;
  let lastCheckpointAt = 0;
  let queue: Pending[] = [];
  let draining = false;
  let drained: Promise<void> = Promise.resolve();
  let checkpointing: Promise<Checkpoint | undefined> = Promise.resolve(undefined);
  let timer: NodeJS.Timeout | undefined;
  const reads = new Map<string, ReadBucket>();
  let lastReadMinute = 0;

  // `draining` is cleared in the same synchronous step that finds the queue empty, so an append
  // arriving after that starts a new drain instead of waiting for one that has ended, and two
  // drains never run at once (one chain).
  async function drain(): Promise<void> {
    try {
      await drainLoop();
    } catch (err) {
      // Not reached with validated inputs; never leave the queue without a drainer.
      draining = false;
      log.error({ err: (err as Error).message }, 'audit: append loop failed');
    }
  }

  async function drainLoop(): Promise<void> {
    // Checked and cleared in one synchronous step: the loop ends with no await in between.
    for (;;) {
      if (queue.length === 0) {
        draining = false;
        return;
      }
      const batch = queue;
      queue = [];
      const records: AuditRecord[] = [];
      let seq = headSeq;
      let prev = headHash;
      for (const p of batch) {
        seq++;
        const body = { seq, at: p.at, ...p.input, prev };
        const rec: AuditRecord = { ...body, hash: auditHash(body) };
        records.push(rec);
        prev = rec.hash;
      }
      try {
        await store.appendAudit(records);
      } catch (err) {
        // The head did not move: later appends continue from the stored chain.
        for (const p of batch) p.reject(err);
        continue;
      }
      headSeq = seq;
      headHash = prev;
      // Before resolving: an append that triggers a checkpoint resolves once it is pinned.
      if (
        headSeq - pinnedSeq >= cfg.checkpointEveryEntries ||
        clock.now() - lastCheckpointAt >= cfg.checkpointIntervalMs
      )
        await checkpoint().catch((err: unknown) =>
          log.error({ err: (err as Error).message }, 'audit: checkpoint failed'),
        );
      batch.forEach((p, i) => p.resolve(records[i] as AuditRecord));
    }
  }

  function enqueue(input: NormalisedInput): Promise<AuditRecord> {
    if (state !== 'running') return Promise.reject(new AuditClosedError('audit log is not running'));
    return new Promise<AuditRecord>((resolve, reject) => {
      queue.push({ input, at: clock.now(), resolve, reject });
      if (!draining) {
        draining = true;
        drained = drain();
      }
    });
  }

  function checkpoint(): Promise<Checkpoint | undefined> {
    checkpointing = checkpointing.then(async () => {
      if (headSeq === pinnedSeq) return undefined;
      const seq = headSeq;
      const hash = headHash;
      const at = clock.now();
      const cp = signCheckpoint({ seq, hash }, at, await keys.signingKey('audit'));
      await appendCheckpointFile(checkpointFile, cp);
      pinnedSeq = seq;
      lastCheckpointAt = at;
      if (bus) {
        try {
          await bus.publishControl(ALL_PROVIDERS, {
            messageId: `audit-checkpoint-${seq}-${randomUUID()}`,
            kind: 'notice',
            from: 'centre',
            issuedAt: at,
            contentType: CHECKPOINT_CONTENT_TYPE,
            payload: new TextEncoder().encode(JSON.stringify(cp)),
          });
        } catch (err) {
          // The file holds it; the bus copy is a second witness, not a precondition.
          log.warn({ err: (err as Error).message, seq }, 'audit: checkpoint not published on the bus');
        }
      }
      return cp;
    });
    return checkpointing;
  }

  async function flushReads(all = false): Promise<void> {
    const due = Math.floor(clock.now() / MINUTE) * MINUTE;
    const out = [...reads.entries()].filter(([, b]) => all || b.minute < due);
    for (const [k] of out) reads.delete(k);
    await Promise.all(
      out.map(([, b]) =>
        enqueue(
          normaliseAuditInput({
            actor: b.session.actor,
            role: b.session.role,
            purpose: b.session.purpose,
            action: 'read.aggregate',
            objectIds: [],
            detail: {
              session: b.session.id,
              minute: new Date(b.minute).toISOString(),
              reads: b.count,
              routes: Object.fromEntries(b.routes),
            },
          }),
        ),
      ),
    );
  }

  return {
    async start() {
      if (state !== 'new') return;
      const last = await store.lastAudit();
      headSeq = last?.seq ?? 0;
      headHash = last?.hash ?? '';
      const cp = await lastCheckpointInFile(checkpointFile);
      if (cp && cp.seq === headSeq && cp.hash === headHash) {
        pinnedSeq = cp.seq;
        lastCheckpointAt = Date.parse(cp.at);
      } else pinnedSeq = -1; // the head is not pinned yet (fresh file, or entries after the last checkpoint)
      state = 'running';
      timer = setInterval(
        () => {
          void flushReads()
            .then(() =>
              headSeq !== pinnedSeq && clock.now() - lastCheckpointAt >= cfg.checkpointIntervalMs
                ? checkpoint()
                : undefined,
            )
            .catch((err: unknown) =>
              log.error({ err: (err as Error).message }, 'audit: periodic work failed'),
            );
        },
        Math.min(cfg.checkpointIntervalMs, MINUTE),
      );
      timer.unref();
    },
    async stop() {
      if (state !== 'running') return;
      if (timer) clearInterval(timer);
      await flushReads(true);
      state = 'stopped';
      await drained;
      await checkpoint();
    },
    append(input) {
      try {
        return enqueue(normaliseAuditInput(input));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new AuditInputError('input', String(err)));
      }
    },
    recordRead(session, route) {
      if (state !== 'running') return;
      const minute = Math.floor(clock.now() / MINUTE) * MINUTE;
      const key = `${session.id}\u0000${session.actor}\u0000${session.role}\u0000${session.purpose}\u0000${minute}`;
      let b = reads.get(key);
      if (!b) {
        if (reads.size >= cfg.maxReadSessions)
          void flushReads(true).catch((err: unknown) =>
            log.error({ err: (err as Error).message }, 'audit: aggregated reads not written'),
          );
        b = { session: { ...session }, minute, count: 0, routes: new Map() };
        reads.set(key, b);
      }
      b.count++;
      const name =
        b.routes.has(route) || b.routes.size < cfg.maxRoutesPerRead ? route.slice(0, MAX_AUDIT_NAME) : '*';
      b.routes.set(name, (b.routes.get(name) ?? 0) + 1);
      if (minute > lastReadMinute) {
        lastReadMinute = minute;
        void flushReads().catch((err: unknown) =>
          log.error({ err: (err as Error).message }, 'audit: aggregated reads not written'),
        );
      }
    },
    flushReads,
    checkpoint() {
      if (state === 'new') return Promise.reject(new AuditClosedError('audit log is not started'));
      return checkpoint();
    },
    head: () => ({ seq: headSeq, hash: headHash }),
  };
}
