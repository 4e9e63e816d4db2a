/**
 * The live provider edge (`acd edge --config edge.yaml`; DESIGN sections 1, 5, 6): collect →
 * select → batch → spool → bus, wired here because only `cli/` wires components.
 *
 * - Collection: the collector of src/collect (UDP/TCP/sFlow/dnstap listeners → bounded queue →
 *   decoder session). Flows arrive as columnar `FlowBatch`es (`onFlowBatch`), DNS events and
 *   late-decoded records as objects (`onRecord`); raw datagrams and decoded records stay in memory
 *   and are dropped after selection (R-SEL-1): nothing pre-selection is written or logged here.
 * - Selection: the engine of src/select with the edge's key store (created on first run, mode
 *   0600/0700; rotated after `keyStore.epochLifetime`; expired epochs destroyed).
 * - Batching: selected records are grouped per partition into batches of `batchRecords`, sent
 *   after `batchMaxAge` at the latest, through the spooled publisher (write-ahead encrypted spool,
 *   in-order replay, duplicate-safe batch ids).
 * - Statistics (R-SEL-5): every batch sent carries, on the statistics subject, the counts of the
 *   records selection processed since the previous statistics message (in, selected, dropped by
 *   reason, per feed) — numbers only; at least every `statsInterval`. Counts that could not be
 *   published are carried into the next message, so none are lost while the bus is away.
 * - Control: signed revocations from the bus (`acd.ctl.<provider>`, `acd.ctl.all`) or from files
 *   in `revocationsDir` stop feeds (R-FEED-2); signed approvals from the bus (the centre's approval
 *   cases, src/oversee/cases) are verified like configured ones and re-activate the feeds that name
 *   them (the engine is rebuilt with every document held). Both are kept in `revocationsDir` so
 *   that they still apply after a restart. Signed, dual-authorised
 *   re-identification requests (`reident-request`) are answered on `acd.ctl.<provider>.answer`
 *   for the named records only (reidentification.ts; R-OVS-2).
 * - Border table: re-read when `prefixTableFile` changes (`acd prefixes update`); the engine is
 *   rebuilt with the same documents and the revocations received so far.
 * - Bus outages (or an unreachable server at start) never stop collection: batches stay in the
 *   spool (bounded, with an alarm) and are replayed in order when the bus is back.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Clock } from '../../common/clock.ts';
import { ConfigError } from '../../common/errors.ts';
import type { Logger } from '../../common/logging.ts';
import type { MetricsRegistry } from '../../common/metrics.ts';
import type { PrefixTable } from '../../common/prefixes/index.ts';
import type { DecodedRecord, FlowBatch, RecordProtocol } from '../../common/schema/index.ts';
import type { SelectedRecord } from '../../common/schema/selected.ts';
import {
  createCollector,
  type BoundAddress,
  type Collector,
  type CollectorStats,
} from '../../collect/collector.ts';
import type { CollectConfig } from '../../collect/config.ts';
import {
  addStats,
  createSelectionEngine,
  DROP_REASONS,
  type FeedEvent,
  type FeedStatus,
  type SelectionEngine,
  type SelectionStats,
} from '../../select/index.ts';
import { demoTrustedKeys } from '../../common/signing/demo.ts';
import { verifyApproval } from '../../common/schema/approval.ts';
import { createReidentifier, KeyStore } from '../../select/pseudonymise/index.ts';
import {
  createJetStreamBus,
  createMemoryBus,
  createSpool,
  createSpooledPublisher,
  createSpoolKey,
  spoolMetrics,
  type Bus,
  type ControlMessage,
  type DeliveredControl,
  type JsonValue,
  type SpooledPublisher,
  type Subscription,
} from '../../transport/index.ts';
import type { EdgeConfig } from './config.ts';
import { readPrefixTableFile, type EdgeTableSource } from './prefixes.ts';
import {
  createEdgeReidentification,
  PseudonymIndex,
  type EdgeReidentificationStats,
} from './reidentification.ts';
import type { SelectionSetup } from './selection.ts';
import { writeFileAtomic } from '../../common/files.ts';

/** How often the edge checks the prefix table file and the revocations directory. */
export const FILE_POLL_MS = 5_000;
/** How often the key store is asked to rotate an ended epoch and destroy expired ones. */
export const KEY_CHECK_MS = 60_000;
/** Largest revocation file read (a signed document is a few kB). */
const MAX_REVOCATION_FILE_BYTES = 1024 * 1024;
/** Revocation files remembered as applied (names); bounded because the directory is operator input. */
const MAX_REVOCATION_FILES = 100_000;

/** What the edge needs from the CLI. */
export interface EdgeDeps {
  clock: Clock;
  logger: Logger;
  metrics: MetricsRegistry;
  /** A bus to use instead of creating one from `edge.bus` (the embedded deployment, tests). */
  bus?: Bus;
  /** Feed activations, refusals, stops, revocations (audit). */
  onFeedEvent?: (e: FeedEvent) => void;
}

/** Everything the live edge runs with. */
export interface EdgeOptions {
  edge: EdgeConfig;
  collect: CollectConfig;
  setup: SelectionSetup;
  table: PrefixTable;
  tableSource: EdgeTableSource;
}

/** Counters for the status line and the summary. Numbers only. */
export interface EdgeStats {
  collector: CollectorStats;
  /** Records through selection (flows and DNS events). */
  in: number;
  selected: number;
  dropped: number;
  droppedByReason: Record<string, number>;
  /** Selected records refused because the spool was full. */
  spoolFullDropped: number;
  /** Batches handed to the spool. */
  batches: number;
  /** Batches spooled and not yet acknowledged. */
  spoolPending: number;
  spoolBytes: number;
  spoolFull: boolean;
  /** Batches the bus acknowledged. */
  acks: number;
  busConnected: boolean;
  statsPublished: number;
  revocationsApplied: number;
  /** Signed approvals received over the bus (or dropped into `revocationsDir`) and put in force. */
  approvalsApplied: number;
  activeFeeds: number;
  tableVersion: string;
  keyEpoch: number;
  /** Re-identification requests answered and refused, and addresses revealed (numbers only). */
  reidentification: EdgeReidentificationStats;
}

/** The running edge. */
export interface Edge {
  start(): Promise<void>;
  /** SIGTERM: stop listening, select what was queued, send partial batches, drain, flush the spool. */
  stop(): Promise<void>;
  addresses(): BoundAddress[];
  stats(): EdgeStats;
  feeds(): FeedStatus[];
}

/** FNV-1a of a string: partition key of a record (its published source address). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function sourceText(r: SelectedRecord): string {
  const f = r.fields;
  const v = f.sourceIPv4Address ?? f.sourceIPv6Address;
  return typeof v === 'string' ? v : r.recordId;
}

async function readSecretFile(path: string, key: string): Promise<string> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw new ConfigError(key, `cannot read ${path}`, { cause: err });
  }
  if ((st.mode & 0o077) !== 0)
    throw new ConfigError(key, `${path} is readable by group or others (use mode 0600)`);
  return (await readFile(path, 'utf8')).trim();
}

/** Creates the bus of `edge.bus` (no I/O until `start()`). */
export async function createEdgeBus(
  edge: EdgeConfig,
  deps: { clock: Clock; logger: Logger; metrics: MetricsRegistry },
): Promise<Bus> {
  const b = edge.bus;
  if (b.type === 'memory') {
    deps.logger.warn('bus: memory bus in a stand-alone edge: nothing outside this process can read it');
    return createMemoryBus(deps, { subjectPrefix: b.subjectPrefix, duplicateWindowMs: b.duplicateWindow });
  }
  const pass =
    b.passwordFile !== '' ? await readSecretFile(b.passwordFile, 'edge.bus.passwordFile') : undefined;
  const seed =
    b.nkeySeedFile !== '' ? await readSecretFile(b.nkeySeedFile, 'edge.bus.nkeySeedFile') : undefined;
  const tls = {
    ...(b.tls.caFile !== '' ? { caFile: b.tls.caFile } : {}),
    ...(b.tls.certFile !== '' ? { certFile: b.tls.certFile } : {}),
    ...(b.tls.keyFile !== '' ? { keyFile: b.tls.keyFile } : {}),
  };
  return createJetStreamBus(deps, {
    servers: b.servers,
    subjectPrefix: b.subjectPrefix,
    streams: b.streams,
    manageStreams: b.manageStreams,
    duplicateWindowMs: b.duplicateWindow,
    publishTimeoutMs: b.publishTimeout,
    reconnectWaitMs: b.reconnectWait,
    name: `acd-edge ${edge.providerId}/${edge.instanceId}`,
    ...(Object.keys(tls).length > 0 || b.servers.some((s) => s.startsWith('tls://')) ? { tls } : {}),
    ...(b.user !== '' ? { user: b.user, pass: pass ?? '' } : {}),
    ...(seed !== undefined ? { nkeySeed: seed } : {}),
    ...(b.inboxPrefix !== '' ? { inboxPrefix: b.inboxPrefix } : {}),
  });
}

/** Creates the spool key file (32 random bytes, hex, mode 0600) when allowed and absent. */
async function ensureSpoolKey(edge: EdgeConfig, logger: Logger): Promise<void> {
  try {
    await stat(edge.spool.keyFile);
    return;
  } catch {
    // absent: create below, when allowed
  }
  if (!edge.spool.createKey)
    throw new ConfigError(
      'edge.spool.keyFile',
      `${edge.spool.keyFile} does not exist (and createKey is false)`,
    );
  await mkdir(dirname(edge.spool.keyFile), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  createSpoolKey(edge.spool.keyFile, key);
  key.fill(0);
  logger.info({ keyFile: edge.spool.keyFile }, 'spool: created a new edge key (mode 0600)');
}

/** Creates the live edge. No I/O until `start()`. */
export function createEdge(deps: EdgeDeps, o: EdgeOptions): Edge {
  const { clock, logger, metrics } = deps;
  const e = o.edge;
  const providerId = e.providerId;
  const sel = o.setup.config;
  const keyStore = new KeyStore(
    { dir: e.keyStore.dir, epochLifetimeMs: e.keyStore.epochLifetime, retentionMs: e.keyStore.retention },
    clock,
  );
  /** Revocations in force: from the configuration's documents, the revocations directory and the bus. */
  const revocations: unknown[] = [];
  /** Approvals received at run time (bus or revocations directory), on top of the configuration's. */
  const approvals: unknown[] = [];
  const revocationFiles = new Set<string>();
  let table = o.table;
  let tableSource = o.tableSource;
  /** Created at `start()`: activation needs the key store and the revocations directory read first. */
  let engine: SelectionEngine | undefined;
  let bus: Bus | undefined = deps.bus;
  let publisher: SpooledPublisher | undefined;
  let collector: Collector | undefined;
  let lastHealthAt = 0;
  let controlSub: Subscription | undefined;
  const spoolM = spoolMetrics(metrics);
  const demoMode = sel.mode !== 'production';
  const pseudonymIndex = new PseudonymIndex(e.reidentification.indexEntries);
  const reid = createEdgeReidentification({
    reidentifier: createReidentifier({
      keys: keyStore,
      // Authorisers are select.trustedKeys entries with the `reidentification` scope; demo and
      // eval mode add the public demonstration keys, as selection does (DESIGN section 5).
      trust: demoMode
        ? o.setup.trustedKeys.with(
            demoTrustedKeys()
              .list()
              .filter((k) => o.setup.trustedKeys.get(k.keyId) === undefined),
          )
        : o.setup.trustedKeys,
      providerId,
      clock,
      allowDemo: demoMode,
    }),
    index: pseudonymIndex,
    clock,
    logger,
    providerId,
    bus: () => bus,
    stateFile: e.reidentification.stateFile,
  });

  let busConnected = false;
  let stopping = false;
  let acks = 0;
  let batches = 0;
  let statsPublished = 0;
  let revocationsApplied = 0;
  let approvalsApplied = 0;
  let spoolFullDropped = 0;
  /** Selection counts since the last statistics message (carried over when a publish fails). */
  let pendingStats: SelectionStats | undefined;
  /** Totals since start, across engine rebuilds. */
  let totals: SelectionStats | undefined;
  let lastStatsAt = 0;
  const parts: SelectedRecord[][] = Array.from({ length: e.bus.partitions }, () => []);
  const partSince: number[] = new Array<number>(e.bus.partitions).fill(0);
  const timers: NodeJS.Timeout[] = [];
  let connecting: Promise<void> | undefined;

  function newEngine(t: PrefixTable): SelectionEngine {
    const s = o.setup;
    const eng = createSelectionEngine(
      {
        table: t,
        legal: s.legal,
        keys: keyStore,
        clock,
        trustedKeys: s.trustedKeys,
        documents: [...s.documents, ...approvals, ...revocations],
        indicatorLists: s.indicatorLists,
        ...(s.operators ? { operators: s.operators } : {}),
        metrics,
        logger,
        ...(deps.onFeedEvent ? { onEvent: deps.onFeedEvent } : {}),
      },
      sel,
    );
    return eng;
  }

  function account(stats: SelectionStats): void {
    pendingStats = pendingStats ? addStats(pendingStats, stats) : stats;
    totals = totals ? addStats(totals, stats) : stats;
  }

  function enqueue(records: readonly SelectedRecord[]): void {
    const n = parts.length;
    const now = clock.monotonic();
    for (const r of records) {
      // Which pseudonyms each record carried: re-identification answers only for those.
      pseudonymIndex.note(r);
      const p = n === 1 ? 0 : fnv1a(sourceText(r)) % n;
      const arr = parts[p]!;
      if (arr.length === 0) partSince[p] = now;
      arr.push(r);
      if (arr.length >= e.batchRecords) sendPartition(p);
    }
  }

  function sendPartition(p: number): void {
    const arr = parts[p]!;
    if (arr.length === 0 || !publisher) return;
    parts[p] = [];
    const res = publisher.send(providerId, p, arr);
    if (res.accepted) {
      batches++;
      publishStats(res.batchId);
    } else {
      spoolFullDropped += arr.length;
    }
  }

  function onFlowBatch(batch: FlowBatch, protocol: RecordProtocol): void {
    const { selected, stats } = engine!.selectBatch(batch, protocol);
    account(stats);
    if (selected.length > 0) enqueue(selected.toRecords());
  }

  function onRecord(r: DecodedRecord): void {
    if (r.recordType !== 'flow' && r.recordType !== 'dns') return;
    const { records, stats } = engine!.selectRecords([r]);
    account(stats);
    if (records.length > 0) enqueue(records);
  }

  function statsBody(s: SelectionStats): { [key: string]: JsonValue } {
    return {
      instanceId: e.instanceId,
      in: s.in,
      selected: s.selected,
      dropped: { ...s.dropped },
      errors: s.errors,
      spoolFullDropped,
      feeds: s.feeds.map((f) => ({
        feedId: f.feedId,
        channel: f.channel,
        in: f.in,
        selected: f.selected,
        dropped: { ...f.dropped },
      })),
      tableVersion: table.tableVersion,
    };
  }

  /** Publishes the counts since the last message (R-SEL-5); never blocks the hot path. */
  function publishStats(batchId?: string): void {
    const s = pendingStats;
    if (!s || !bus || !busConnected) return;
    pendingStats = undefined;
    lastStatsAt = clock.monotonic();
    const now = clock.now();
    bus
      .publishStats(providerId, {
        kind: 'selection',
        providerId,
        at: now,
        ...(batchId !== undefined ? { batchId } : {}),
        body: statsBody(s),
      })
      .then(() => {
        statsPublished++;
      })
      .catch(() => {
        // Carried into the next message: counts are never lost, only published later.
        pendingStats = pendingStats ? addStats(s, pendingStats) : s;
      });
  }

  async function connectBus(): Promise<void> {
    if (!bus) return;
    let warned = false;
    while (!stopping) {
      try {
        await bus.start();
        busConnected = true;
        logger.info({ bus: bus.kind }, 'bus: connected');
        break;
      } catch (err) {
        if (!warned)
          logger.warn(
            { err: (err as Error).message },
            'bus: not reachable; collecting and spooling meanwhile, retrying',
          );
        warned = true;
        await new Promise((r) => setTimeout(r, e.bus.reconnectWait));
      }
    }
    if (stopping || !busConnected) return;
    try {
      controlSub = await bus.subscribeControl(providerId, onControl);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'bus: cannot read the control direction');
    }
  }

  function applyRevocationDoc(doc: unknown, from: string): boolean {
    const res = engine!.applyRevocation(doc);
    if (!res.ok) {
      logger.warn({ from, code: res.error.code }, 'control: revocation refused');
      return false;
    }
    revocations.push(doc);
    revocationsApplied++;
    logger.warn(
      { from, revokes: res.revokes, feeds: res.feedIds, effectiveAt: res.effectiveAt },
      'control: revocation applied',
    );
    publishStats();
    return true;
  }

  function payloadOf(doc: unknown): { type?: unknown; id?: unknown } {
    const p = typeof doc === 'object' && doc !== null ? (doc as { payload?: unknown }).payload : undefined;
    return typeof p === 'object' && p !== null ? p : {};
  }

  /**
   * Puts a signed approval in force: verified first (so nothing unverified is kept), then the
   * engine is rebuilt with every document held, as for a new border table, so the feeds naming
   * it activate through the same path as at start. Ignores approvals for other providers and
   * ones already held (redeliveries).
   */
  function applyApprovalDoc(doc: unknown, from: string): boolean {
    const v = verifyApproval(doc, o.setup.trustedKeys, clock.now(), {
      allowDemo: demoMode,
      maxClockSkewMs: sel.maxClockSkewMs,
    });
    if (!v.ok) {
      logger.warn({ from, code: v.error.code }, 'control: approval refused');
      return false;
    }
    const p = v.payload;
    if (!p.providers.includes('*') && !p.providers.includes(providerId)) {
      logger.info({ from, approval: p.id }, 'control: approval for other providers ignored');
      return false;
    }
    if ([...o.setup.documents, ...approvals].some((d) => payloadOf(d).id === p.id)) {
      logger.debug({ from, approval: p.id }, 'control: approval already held');
      return false;
    }
    approvals.push(doc);
    const eng = newEngine(table);
    const feeds = eng.activate().filter((f) => f.state === 'active' && f.basis.includes(p.id));
    engine = eng;
    approvalsApplied++;
    logger.warn(
      { from, approval: p.id, caseId: p.caseId, feeds: feeds.map((f) => f.feedId) },
      'control: approval applied',
    );
    return true;
  }

  async function onControl(m: DeliveredControl): Promise<void> {
    if (m.kind === 'reident-request') {
      await reid.handle(m);
      return;
    }
    if (m.kind === 'approval') {
      const text = new TextDecoder().decode(m.payload);
      let doc: unknown;
      try {
        doc = JSON.parse(text) as unknown;
      } catch {
        logger.warn({ messageId: m.messageId }, 'control: approval is not JSON');
        return;
      }
      if (applyApprovalDoc(doc, `bus:${m.messageId}`)) {
        const name = `bus-${createHash('sha256').update(text).digest('hex').slice(0, 32)}.json`;
        revocationFiles.add(name);
        await writeFileAtomic(join(e.revocationsDir, name), text);
      }
      return;
    }
    if (m.kind !== 'revocation') {
      logger.info({ kind: m.kind, messageId: m.messageId }, 'control: message kind not handled by this edge');
      return;
    }
    const text = new TextDecoder().decode(m.payload);
    let doc: unknown;
    try {
      doc = JSON.parse(text) as unknown;
    } catch {
      logger.warn({ messageId: m.messageId }, 'control: revocation is not JSON');
      return;
    }
    if (applyRevocationDoc(doc, `bus:${m.messageId}`)) {
      // Kept for restarts: the durable consumer will not deliver it again once acknowledged.
      const name = `bus-${createHash('sha256').update(text).digest('hex').slice(0, 32)}.json`;
      revocationFiles.add(name);
      await writeFileAtomic(join(e.revocationsDir, name), text);
    }
  }

  async function pollRevocations(initial: boolean): Promise<void> {
    if (e.revocationsDir === '') return;
    let names: string[];
    try {
      names = (await readdir(e.revocationsDir)).filter((n) => n.endsWith('.json')).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (revocationFiles.has(name) || revocationFiles.size >= MAX_REVOCATION_FILES) continue;
      revocationFiles.add(name);
      const path = join(e.revocationsDir, name);
      try {
        if ((await stat(path)).size > MAX_REVOCATION_FILE_BYTES) throw new Error('too large');
        const doc = JSON.parse(await readFile(path, 'utf8')) as unknown;
        const approval = payloadOf(doc).type === 'approval';
        if (initial) {
          // Before the first activation: given to the engine as documents, like the configuration's.
          (approval ? approvals : revocations).push(doc);
        } else if (approval) applyApprovalDoc(doc, `file:${name}`);
        else applyRevocationDoc(doc, `file:${name}`);
      } catch (err) {
        logger.warn({ file: name, err: (err as Error).message }, 'control: unreadable revocation file');
      }
    }
  }

  async function pollTable(): Promise<void> {
    if (e.prefixTableFile === '') return;
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(e.prefixTableFile)).mtimeMs;
    } catch {
      return;
    }
    if (tableSource.kind === 'file' && tableSource.mtimeMs === mtimeMs) return;
    try {
      const next = await readPrefixTableFile(e.prefixTableFile);
      const eng = newEngine(next.table);
      eng.activate();
      table = next.table;
      tableSource = { kind: 'file', path: e.prefixTableFile, mtimeMs: next.mtimeMs };
      engine = eng;
      logger.info({ tableVersion: table.tableVersion }, 'prefixes: new border table in use');
    } catch (err) {
      // Keep the table in use; record it so a broken file is not re-read every poll.
      tableSource = { kind: 'file', path: e.prefixTableFile, mtimeMs };
      logger.error(
        { err: (err as Error).message },
        'prefixes: cannot read the new table; keeping the old one',
      );
    }
  }

  function tick(): void {
    engine?.tick();
    const now = clock.monotonic();
    for (let p = 0; p < parts.length; p++)
      if (parts[p]!.length > 0 && now - partSince[p]! >= e.batchMaxAge) sendPartition(p);
    if (now - lastStatsAt >= e.statsInterval) {
      // A message even when nothing came in: the centre sees the edge is alive and selecting nothing.
      pendingStats ??= emptyStats();
      publishStats();
    }
    if (now - lastHealthAt >= e.statsInterval) publishHealth();
  }

  /**
   * Exporter health for the centre (issue 7: providers and exporters, loss, templates): the
   * exporters' own addresses and counters from the decoder session, never record content.
   */
  function publishHealth(): void {
    lastHealthAt = clock.monotonic();
    if (!bus || !busConnected || !collector) return;
    const c = collector.stats();
    bus
      .publishStats(providerId, {
        kind: 'health',
        providerId,
        at: clock.now(),
        body: {
          datagrams: c.datagrams,
          records: c.records,
          queueDropped: c.dropped,
          sequenceLost: c.sequenceLost,
          exporters: collector.session.exporters().map((x) => ({
            exporter: x.exporter,
            observationDomainId: x.observationDomainId,
            protocol: x.protocol,
            lastSeen: x.lastSeen,
            records: x.records,
            lost: x.lost,
            templates: x.templates,
            silent: x.silent,
          })),
        },
      })
      .catch(() => {
        // Health is a snapshot: the next one replaces a lost one.
      });
  }

  function emptyStats(): SelectionStats {
    const zero = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as SelectionStats['dropped'];
    return {
      at: clock.now(),
      in: 0,
      selected: 0,
      dropped: zero,
      feeds: sel.feeds.map((f) => ({
        feedId: f.id,
        channel: f.channel,
        in: 0,
        selected: 0,
        dropped: { ...zero },
      })),
      errors: 0,
    };
  }

  return {
    async start(): Promise<void> {
      if (providerId === '')
        throw new ConfigError('edge.providerId', 'acd edge needs the provider id of this edge');
      await keyStore.load();
      const key = await keyStore.ensureCurrent();
      logger.info(
        { keyEpoch: key.epoch, notAfter: new Date(key.notAfter).toISOString() },
        'keys: pseudonymisation epoch in use',
      );
      await reid.load();
      await pollRevocations(true);
      engine = newEngine(table);
      const statuses = engine.activate();
      if (!statuses.some((s) => s.state === 'active')) {
        keyStore.close();
        const { NoFeedRunsError } = await import('./offline.ts');
        throw new NoFeedRunsError(statuses);
      }
      await ensureSpoolKey(e, logger);
      const spool = createSpool(
        {
          dir: e.spool.dir,
          keyFile: e.spool.keyFile,
          instanceId: e.instanceId,
          maxBytes: e.spool.maxBytes,
          segmentBytes: e.spool.segmentBytes,
          flushIntervalMs: e.spool.flushInterval,
          flushBatches: e.spool.flushBatches,
          fsync: e.spool.fsync,
        },
        {
          clock,
          metrics,
          logger,
          onFull: () =>
            logger.error(
              { maxBytes: e.spool.maxBytes },
              'spool: FULL: new selected batches are dropped until the bus catches up',
            ),
        },
      );
      bus ??= await createEdgeBus(e, { clock, logger, metrics });
      publisher = createSpooledPublisher(
        {
          bus,
          spool,
          clock,
          metrics,
          logger,
          onAck: () => {
            acks++;
          },
        },
        { maxInFlight: e.bus.maxInFlight, retryMs: e.bus.retryDelay },
      );
      await publisher.start();
      if (spool.pendingCount > 0)
        logger.info({ batches: spool.pendingCount }, 'spool: replaying batches kept from before the restart');
      connecting = connectBus();
      collector = createCollector({ clock, logger, metrics }, { ...o.collect, onFlowBatch, onRecord });
      await collector.start();
      lastStatsAt = clock.monotonic();
      timers.push(setInterval(tick, Math.min(250, e.batchMaxAge)));
      timers.push(
        setInterval(() => {
          void pollTable();
          void pollRevocations(false);
        }, FILE_POLL_MS),
      );
      timers.push(
        setInterval(() => {
          void (async () => {
            try {
              const before = keyStore.current().epoch;
              const cur = await keyStore.ensureCurrent();
              if (cur.epoch !== before) logger.info({ keyEpoch: cur.epoch }, 'keys: rotated to a new epoch');
              const destroyed = await keyStore.destroyExpired();
              if (destroyed.length > 0) logger.info({ epochs: destroyed }, 'keys: expired epochs destroyed');
            } catch (err) {
              logger.error({ err: (err as Error).message }, 'keys: rotation check failed');
            }
          })();
        }, KEY_CHECK_MS),
      );
      for (const t of timers) t.unref();
    },

    async stop(): Promise<void> {
      if (stopping) return;
      stopping = true;
      for (const t of timers) clearInterval(t);
      // Listeners close; what was queued is decoded and selected before the collector returns.
      await collector?.stop();
      for (let p = 0; p < parts.length; p++) sendPartition(p);
      publishStats();
      if (publisher) {
        const drained = await publisher.drain(e.drainTimeout);
        if (!drained)
          logger.warn(
            { pending: publisher.pending },
            'spool: bus did not acknowledge everything in time; kept for the next start',
          );
        await publisher.stop(0);
      }
      await connecting;
      await controlSub?.stop().catch(() => undefined);
      if (bus && !deps.bus) await bus.stop().catch(() => undefined);
      keyStore.close();
    },

    addresses(): BoundAddress[] {
      return collector?.addresses() ?? [];
    },

    stats(): EdgeStats {
      const t = totals;
      const droppedByReason = Object.fromEntries(DROP_REASONS.map((r) => [r, t?.dropped[r] ?? 0]));
      let epoch = 0;
      try {
        epoch = keyStore.current().epoch;
      } catch {
        epoch = 0;
      }
      return {
        collector: collector?.stats() ?? ({} as CollectorStats),
        in: t?.in ?? 0,
        selected: t?.selected ?? 0,
        dropped: Object.values(droppedByReason).reduce((a, b) => a + b, 0),
        droppedByReason,
        spoolFullDropped,
        batches,
        spoolPending: spoolM.pending.get(),
        spoolBytes: spoolM.bytes.get(),
        spoolFull: spoolM.full.get() === 1,
        acks,
        busConnected,
        statsPublished,
        revocationsApplied,
        approvalsApplied,
        activeFeeds: (engine?.feeds() ?? []).filter((f) => f.state === 'active').length,
        tableVersion: table.tableVersion,
        keyEpoch: epoch,
        reidentification: reid.stats(),
      };
    },

    feeds(): FeedStatus[] {
      return engine?.feeds() ?? [];
    },
  };
}

/** The control envelope of a signed approval (what the centre publishes; used by tests and tools). */
export function approvalEnvelope(doc: unknown, messageId: string, issuedAt: number): ControlMessage {
  return {
    messageId,
    kind: 'approval',
    from: 'centre',
    issuedAt,
    contentType: 'application/acd-approval+json',
    payload: new TextEncoder().encode(JSON.stringify(doc)),
  };
}

/** The control envelope of a signed revocation (what the centre publishes; used by tests and tools). */
export function revocationEnvelope(doc: unknown, messageId: string, issuedAt: number): ControlMessage {
  return {
    messageId,
    kind: 'revocation',
    from: 'centre',
    issuedAt,
    contentType: 'application/acd-revocation+json',
    payload: new TextEncoder().encode(JSON.stringify(doc)),
  };
}
