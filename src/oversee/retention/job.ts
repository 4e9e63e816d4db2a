/**
 * The retention job (issue 8, R-RET-1, R-RET-2, R-NF-2). One run:
 *
 * 1. reads the legal-parameter version in force at the run (`parametersAt(now)`: a version dated
 *    in the future changes nothing today) and computes the cutoff of derived data,
 *    `derivedBefore = now − retention.default` (calendar arithmetic in UTC). Alerts, incidents and
 *    rollups mix records of every channel and carry no channel of their own, so they take the
 *    default retention, not a channel's;
 * 2. collects the holds of approved, unexpired `retention-extension` cases (holds.ts) — the only
 *    way to keep data past its deadline;
 * 3. gets the signing key first (no key, no deletion: every deletion is certified);
 * 4. lets the store delete expired partitions (except held days) and derived rows older than the
 *    cutoff (except held incidents and their alerts), with its re-count proof, then asks every
 *    registered purger (export queues, caches) to drop items older than the cutoff;
 * 5. when anything was deleted, issues a `DeletionCertificateBody` signed with the audit key,
 *    stores it as a case record (`deletion-certificate`, state `issued`), appends it to
 *    `DATA/retention/certificates.ndjson` and audits `retention.delete` with the counts (never an
 *    address). A run that deletes nothing issues no certificate: there is nothing to prove, and an
 *    hourly job would otherwise bury the real certificates.
 *
 * Runs are serialised (a run asked for while one is going waits for it and then runs).
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../common/clock.ts';
import type { LegalParameterTable, LegalParameters } from '../../common/legal/index.ts';
import { addLegalDuration } from '../../common/legal/index.ts';
import type { Lifecycle } from '../../common/lifecycle.ts';
import { silentLogger, type Logger } from '../../common/logging.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import { LEGAL_CHANNELS, type LegalChannel } from '../../common/schema/legal.ts';
import type { DeletionCertificateBody } from '../../common/schema/case.ts';
import type { SigningKey } from '../../common/signing/index.ts';
import type { Partition, RetentionResult, Store } from '../../store/types.ts';
import type { AuditInput } from '../audit/index.ts';
import { appendCertificateFile, certificateFileOf, signCertificate } from './certificate.ts';
import { resolveRetentionConfig, type RetentionConfigInput } from './config.ts';
import { RetentionHoldError } from './errors.ts';
import { collectHolds, type RetentionHold } from './holds.ts';
import { retentionMetrics, type RetentionMetrics } from './metrics.ts';

const DAY_MS = 86_400_000;
/** Longest real-time wait between two checks of the clock by the scheduler. */
const MAX_TICK_MS = 60_000;

/** Something outside the store that holds copies of data: an export queue, a cache, a replay buffer. */
export interface RetentionPurger {
  /** Name in certificate counts (`sse-replay`, `webhook-queue`); `[A-Za-z0-9._-]`, ≤ 64. */
  name: string;
  /** Drops every item older than `before` (epoch ms) and returns how many it dropped. */
  purge(before: number): number | Promise<number>;
}

/** Where the job gets the key that signs certificates (the centre's `audit` key). */
export interface CertificateSigner {
  key(): Promise<SigningKey>;
}

/** Who asked for a run (audited as such). */
export interface RunBy {
  actor: string;
  role: string;
  purpose: string;
}

/** The scheduler's identity in the audit log. */
export const RETENTION_SYSTEM_ACTOR: RunBy = { actor: 'centre', role: 'system', purpose: 'administration' };

/** Dependencies of {@link createRetentionJob}. */
export interface RetentionJobDeps {
  store: Store;
  clock: Clock;
  legal: LegalParameterTable;
  signer: CertificateSigner;
  /** Certificates go to `<dataDir>/retention/certificates.ndjson`. */
  dataDir: string;
  purgers?: readonly RetentionPurger[];
  /** Called once per certifying run with the `retention.delete` entry (the audit log's append). */
  audit?: (input: AuditInput) => void;
  logger?: Logger;
  metrics?: MetricsRegistry;
}

/** What one run did. */
export interface RetentionRun {
  at: number;
  parameterVersion: string;
  derivedBefore: number;
  holds: RetentionHold[];
  /** The store's result (partitions, per-table counts, proof). */
  result: RetentionResult;
  /** Items dropped per purger. */
  purged: Record<string, number>;
  /** Every deleted row or item, over tables and purgers. */
  deleted: number;
  /** The certificate, or null when the run deleted nothing. */
  certificate: DeletionCertificateBody | null;
}

/** The last run in this process, for status pages. */
export interface LastRun {
  at: number;
  ok: boolean;
  /** Error code when the run failed. */
  error?: string;
  deleted: number;
  certificateId: string | null;
  counts: Record<string, number>;
  remainingRows: number;
  derivedBefore: number | null;
  parameterVersion: string | null;
  holds: string[];
}

/** A partition as the status shows it. */
export interface PartitionStatus extends Partition {
  /** When the retention day ends (epoch ms): the partition is due for deletion from then on. */
  expiresAt: number;
  /** Past `expiresAt` (deleted at the next run unless held). */
  expired: boolean;
  /** Kept by a retention extension in force. */
  held: boolean;
}

/** What `status()` reports. */
export interface RetentionStatus {
  now: number;
  parameterVersion: string;
  /** Retention per channel (legal duration text) of the version in force. */
  retention: Record<LegalChannel, string>;
  /** `retention.default`: the retention of derived data. */
  derivedRetention: string;
  /** The cutoff a run now would use for derived data. */
  derivedBefore: number;
  partitions: PartitionStatus[];
  holds: RetentionHold[];
  /** Why the holds cannot be read (runs are refused until it is fixed); null when they can. */
  holdError: string | null;
  lastRun: LastRun | null;
  lastCertificate: DeletionCertificateBody | null;
  /** Next scheduled run (epoch ms); null when the scheduler is not started. */
  nextRunAt: number | null;
  intervalMs: number;
}

/** The retention job. */
export interface RetentionJob extends Lifecycle {
  /** One run now (after any run in progress). */
  run(by?: RunBy): Promise<RetentionRun>;
  status(): Promise<RetentionStatus>;
  /** The certificate file. */
  readonly certificateFile: string;
}

/** `now` minus the legal duration `d` (calendar units in UTC). */
function minusLegal(now: number, p: LegalParameters): number {
  const d = p.retentionDefault;
  return addLegalDuration(now, { ...d, amount: -d.amount });
}

function certificateId(at: number): string {
  const stamp = new Date(at)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return `dc-${stamp}-${randomBytes(4).toString('hex')}`;
}

const PURGER_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** Creates the retention job (no I/O until `run()` or `start()`). */
export function createRetentionJob(deps: RetentionJobDeps, config: RetentionConfigInput = {}): RetentionJob {
  const cfg = resolveRetentionConfig(config);
  const { store, clock, legal, signer } = deps;
  const log = deps.logger ?? silentLogger;
  const m: RetentionMetrics = retentionMetrics(deps.metrics ?? new MetricsRegistry());
  const purgers = [...(deps.purgers ?? [])];
  for (const p of purgers)
    if (!PURGER_NAME.test(p.name))
      throw new RangeError(`purger name ${JSON.stringify(p.name)} is not [A-Za-z0-9._-]{1,64}`);
  const certificateFile = certificateFileOf(deps.dataDir);
  let chain: Promise<unknown> = Promise.resolve();
  let lastRun: LastRun | null = null;
  let nextRunAt: number | null = null;
  let timer: NodeJS.Timeout | undefined;
  let running = false;

  async function runOnce(by: RunBy): Promise<RetentionRun> {
    const at = clock.now();
    const params = legal.parametersAt(at);
    const derivedBefore = minusLegal(at, params);
    const holds = await collectHolds(store, at);
    const key = await signer.key();
    const heldDays = [...new Set(holds.flatMap((h) => h.days))];
    const heldIncidents = [...new Set(holds.flatMap((h) => h.incidentIds))];
    const result = await store.enforceRetention(at, { derivedBefore, heldDays, heldIncidents });
    const purged: Record<string, number> = {};
    for (const p of purgers) purged[p.name] = (purged[p.name] ?? 0) + (await p.purge(derivedBefore));
    const counts: Record<string, number> = { ...result.counts, ...purged };
    const deleted = Object.values(counts).reduce((x, n) => x + n, 0);
    let certificate: DeletionCertificateBody | null = null;
    if (deleted > 0) {
      const days = result.dropped.map((p) => p.day).sort();
      certificate = signCertificate(
        {
          id: certificateId(at),
          runAt: at,
          period: { firstDay: days[0] ?? null, lastDay: days[days.length - 1] ?? null },
          counts,
          remainingRows: result.remainingRows,
          derivedBefore,
          parameterVersion: params.version,
          holds: holds.map((h) => h.caseId),
        },
        key,
      );
      await store.putCase({
        id: certificate.id,
        kind: 'deletion-certificate',
        state: 'issued',
        createdAt: at,
        updatedAt: at,
        body: { ...certificate },
      });
      await appendCertificateFile(certificateFile, certificate);
      m.certificates.inc();
      deps.audit?.({
        ...by,
        action: 'retention.delete',
        objectIds: [certificate.id],
        detail: {
          counts,
          remainingRows: result.remainingRows,
          period: certificate.period,
          derivedBefore: new Date(derivedBefore).toISOString(),
          parameterVersion: params.version,
          holds: certificate.holds,
        },
      });
    }
    m.runs.inc();
    m.deleted.inc(deleted);
    if (result.remainingRows > 0)
      log.error({ remainingRows: result.remainingRows }, 'retention: rows remain after deletion');
    log.info(
      {
        deleted,
        counts,
        remainingRows: result.remainingRows,
        holds: holds.length,
        certificate: certificate?.id ?? null,
        parameterVersion: params.version,
      },
      'retention run finished',
    );
    lastRun = {
      at,
      ok: true,
      deleted,
      certificateId: certificate?.id ?? null,
      counts,
      remainingRows: result.remainingRows,
      derivedBefore,
      parameterVersion: params.version,
      holds: holds.map((h) => h.caseId),
    };
    return {
      at,
      parameterVersion: params.version,
      derivedBefore,
      holds,
      result,
      purged,
      deleted,
      certificate,
    };
  }

  function run(by: RunBy = RETENTION_SYSTEM_ACTOR): Promise<RetentionRun> {
    const go = async (): Promise<RetentionRun> => {
      try {
        return await runOnce(by);
      } catch (err) {
        m.failures.inc();
        const code =
          typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'ERR_INTERNAL';
        lastRun = {
          at: clock.now(),
          ok: false,
          error: code,
          deleted: 0,
          certificateId: null,
          counts: {},
          remainingRows: 0,
          derivedBefore: null,
          parameterVersion: null,
          holds: [],
        };
        throw err;
      }
    };
    const p = chain.then(go, go);
    chain = p.catch(() => undefined);
    return p;
  }

  function schedule(): void {
    if (!running || nextRunAt === null) return;
    const wait = Math.max(0, Math.min(MAX_TICK_MS, nextRunAt - clock.now()));
    timer = setTimeout(() => void tick(), wait);
    timer.unref();
  }

  async function tick(): Promise<void> {
    if (!running || nextRunAt === null) return;
    if (clock.now() >= nextRunAt) {
      try {
        await run();
      } catch (err) {
        log.error({ err: (err as Error).message, code: lastRun?.error }, 'retention run failed');
      }
      nextRunAt = clock.now() + cfg.intervalMs;
    }
    schedule();
  }

  async function lastCertificate(): Promise<DeletionCertificateBody | null> {
    const page = await store.listCases({ kind: 'deletion-certificate', limit: 1 });
    const c = page.items[0];
    return c ? (c.body as unknown as DeletionCertificateBody) : null;
  }

  return {
    certificateFile,
    run,
    async status() {
      const now = clock.now();
      const params = legal.parametersAt(now);
      let holds: RetentionHold[] = [];
      let holdError: string | null = null;
      try {
        holds = await collectHolds(store, now);
      } catch (err) {
        if (!(err instanceof RetentionHoldError)) throw err;
        holdError = err.message;
      }
      const heldDays = new Set(holds.flatMap((h) => h.days));
      const partitions = (await store.partitions()).map((p): PartitionStatus => {
        const expiresAt = Date.parse(`${p.day}T00:00:00.000Z`) + DAY_MS;
        return { ...p, expiresAt, expired: expiresAt <= now, held: heldDays.has(p.day) };
      });
      const retention = Object.fromEntries(
        LEGAL_CHANNELS.map((c) => [c, params.retention(c).text]),
      ) as Record<LegalChannel, string>;
      return {
        now,
        parameterVersion: params.version,
        retention,
        derivedRetention: params.retentionDefault.text,
        derivedBefore: minusLegal(now, params),
        partitions,
        holds,
        holdError,
        lastRun,
        lastCertificate: await lastCertificate(),
        nextRunAt,
        intervalMs: cfg.intervalMs,
      };
    },
    start() {
      if (running) return Promise.resolve();
      running = true;
      // the first run at start, like the centre's retention always did
      nextRunAt = clock.now();
      schedule();
      return Promise.resolve();
    },
    async stop() {
      running = false;
      nextRunAt = null;
      clearTimeout(timer);
      await chain;
    },
  };
}
