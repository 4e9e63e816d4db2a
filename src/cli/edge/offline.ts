/**
 * `acd edge --input FILE… --out SELECTED.ndjson`: the edge's selection over files, for audits of
 * selection on a sample and for tests. The same engine as the live edge, fed by the same offline
 * reader as `acd decode` (one decoder session over all files, in order). Pseudonyms come from an
 * ephemeral key held only in memory (select/keysource.ts): nobody can re-identify an offline run,
 * and the edge's key store is never touched.
 */
import type { Clock } from '../../common/clock.ts';
import { AcdError } from '../../common/errors.ts';
import type { Logger } from '../../common/logging.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import type { PrefixTable } from '../../common/prefixes/index.ts';
import type { DecodedRecord } from '../../common/schema/index.ts';
import type { SelectedRecord } from '../../common/schema/selected.ts';
import { createDecoderSession } from '../../collect/decode/index.ts';
import type { DecodeEvent } from '../../collect/decode/types.ts';
import { readRecordsFromFiles, type FileSummary, type InputKind } from '../../collect/offline.ts';
import {
  createSelectionEngine,
  ephemeralKeySource,
  type FeedEvent,
  type FeedStatus,
  type KeySource,
  type SelectionStats,
} from '../../select/index.ts';
import { KeyStore } from '../../select/pseudonymise/index.ts';
import type { CollectConfig } from '../../collect/config.ts';
import { SelectedNdjsonFile } from './output.ts';
import type { SelectionSetup } from './selection.ts';

/** Records handed to the engine at once: amortises its per-call work, bounds memory. */
export const OFFLINE_CHUNK = 1000;

/** No feed of the configuration can run (every one refused): nothing would ever be selected. */
export class NoFeedRunsError extends AcdError {
  constructor(statuses: readonly FeedStatus[]) {
    super(
      'ERR_EDGE_NO_FEED',
      `no feed can run: ${statuses.map((s) => `${s.feedId} ${s.state}${s.code ? ` (${s.code})` : ''}`).join(', ') || 'no feeds configured'}`,
    );
  }
}

/** What an offline run did. */
export interface OfflineResult {
  stats: SelectionStats;
  files: FileSummary[];
  feeds: FeedStatus[];
  /** Records of kinds selection does not take (options data, sFlow counters). */
  notSelectable: number;
  decodeEvents: Record<string, number>;
  written: number;
}

/** Inputs of {@link runOfflineSelection}. */
export interface OfflineOptions {
  files: readonly string[];
  /** Where selected records are written (NDJSON); or give `sink`. */
  out?: string;
  /** Receives each chunk of selected records instead of (or besides) the file. */
  sink?: (records: SelectedRecord[]) => void | Promise<void>;
  /** Called for every decoded record before selection (e.g. a time filter); false skips it. */
  accept?: (r: DecodedRecord) => boolean;
  inputKind: InputKind;
  setup: SelectionSetup;
  table: PrefixTable;
  collect: CollectConfig;
  clock: Clock;
  logger: Logger;
  onFeedEvent?: (e: FeedEvent) => void;
  /** Key store directory (stable pseudonyms across runs); default: an ephemeral in-memory key. */
  keysDir?: string;
}

/** Runs selection over the files and writes the selected records. */
export async function runOfflineSelection(o: OfflineOptions): Promise<OfflineResult> {
  const metrics = new MetricsRegistry();
  let keyStore: KeyStore | undefined;
  if (o.keysDir !== undefined) {
    keyStore = new KeyStore(
      { dir: o.keysDir, epochLifetimeMs: 365 * 86_400_000, retentionMs: 2 * 365 * 86_400_000 },
      o.clock,
    );
    await keyStore.load();
    await keyStore.ensureCurrent();
  }
  try {
    return await runWith(o, metrics, keyStore ?? ephemeralKeySource(o.clock.now()));
  } finally {
    keyStore?.close();
  }
}

async function runWith(o: OfflineOptions, metrics: MetricsRegistry, keys: KeySource): Promise<OfflineResult> {
  const engine = createSelectionEngine(
    {
      table: o.table,
      legal: o.setup.legal,
      keys,
      clock: o.clock,
      trustedKeys: o.setup.trustedKeys,
      documents: o.setup.documents,
      indicatorLists: o.setup.indicatorLists,
      ...(o.setup.operators ? { operators: o.setup.operators } : {}),
      metrics,
      logger: o.logger,
      ...(o.onFeedEvent ? { onEvent: o.onFeedEvent } : {}),
    },
    o.setup.config,
  );
  const feeds = engine.activate();
  if (!feeds.some((f) => f.state === 'active')) throw new NoFeedRunsError(feeds);

  const session = createDecoderSession(
    { clock: o.clock, metrics },
    {
      templateTimeoutMs: Number.MAX_SAFE_INTEGER,
      pendingMaxSets: o.collect.pendingMaxSets,
      // As in acd decode: nothing ages while files are read; the final tick drops what still waits.
      pendingMaxAgeMs: 365 * 86_400_000,
      silenceAlarmMs: 0,
      samplingOverrides: o.collect.samplingOverrides,
    },
  );
  const decodeEvents: Record<string, number> = {};
  const onDecodeEvent = (e: DecodeEvent): void => {
    decodeEvents[e.kind] = (decodeEvents[e.kind] ?? 0) + 1;
  };
  const out = o.out !== undefined ? await SelectedNdjsonFile.open(o.out) : undefined;
  const files: FileSummary[] = [];
  let notSelectable = 0;
  let chunk: DecodedRecord[] = [];
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    const { records } = engine.selectRecords(chunk);
    chunk = [];
    if (out) await out.write(records);
    if (o.sink) await o.sink(records);
  };
  const take = (r: DecodedRecord): void => {
    if (o.accept && !o.accept(r)) return;
    if (r.recordType === 'flow' || r.recordType === 'dns') chunk.push(r);
    else notSelectable++;
  };
  try {
    for await (const r of readRecordsFromFiles(o.files, {
      session,
      inputKind: o.inputKind,
      onDecodeEvent,
      onFileDone: (s) => files.push(s),
    })) {
      take(r);
      if (chunk.length >= OFFLINE_CHUNK) await flush();
    }
    session.tick(Number.MAX_SAFE_INTEGER, { record: take, event: onDecodeEvent });
    await flush();
  } finally {
    await out?.close();
  }
  return { stats: engine.totals(), files, feeds, notSelectable, decodeEvents, written: out?.count ?? 0 };
}
