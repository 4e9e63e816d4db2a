/**
 * `acd analyze`: offline detection over anything `acd decode` reads (several files are one
 * dataset). Without `--lab` the records go through the demonstration feed set's selection first
 * (DESIGN section 5: the same selection as an edge, ephemeral pseudonymisation key); with `--lab`
 * selection and pseudonymisation are off and subjects appear exactly as in the input (lab
 * captures). Detection runs in event time over the records in file order; correlation turns the
 * evidence into alerts and incidents.
 */
import type { Clock } from '../../common/clock.ts';
import type { Logger } from '../../common/logging.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import type { DecodedRecord } from '../../common/schema/index.ts';
import type { Evidence } from '../../common/schema/evidence.ts';
import type { Fields } from '../../common/schema/record.ts';
import type { IndicatorEntry } from '../../common/indicators/index.ts';
import type { OperatorsFile } from '../../common/operators/index.ts';
import type { PrefixTable } from '../../common/prefixes/index.ts';
import { createDecoderSession } from '../../collect/decode/index.ts';
import { readRecordsFromFiles, type FileSummary, type InputKind } from '../../collect/offline.ts';
import type { CollectConfig } from '../../collect/config.ts';
import { createDetectionEngine, type DetectConfig, type EngineStats } from '../../detect/index.ts';
import { runOfflineSelection } from '../edge/offline.ts';
import type { SelectionSetup } from '../edge/selection.ts';
import type { SelectionStats } from '../../select/index.ts';

/** What an analysis needs. */
export interface AnalyzeOptions {
  files: readonly string[];
  inputKind: InputKind;
  /** Selection and pseudonymisation off. */
  lab: boolean;
  /** Event-time bounds (epoch ms), inclusive `since`, exclusive `until`. */
  since?: number;
  until?: number;
  detect: DetectConfig;
  collect: CollectConfig;
  indicators?: readonly IndicatorEntry[];
  operators?: OperatorsFile;
  /** Selection setup and border table (required unless `lab`). */
  setup?: SelectionSetup;
  table?: PrefixTable;
  clock: Clock;
  logger: Logger;
}

/** What an analysis found and read. */
export interface AnalyzeResult {
  evidence: Evidence[];
  files: FileSummary[];
  /** Records given to detection. */
  records: number;
  /** Records outside --since/--until. */
  outOfRange: number;
  selection?: SelectionStats;
  detection: EngineStats;
}

/** Records handed to detection between watermark advances. */
const ADVANCE_EVERY = 4096;

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** Event time of a decoded record (flow end, else start; DNS event time), 0 when unknown. */
export function recordTime(r: DecodedRecord): number {
  const f: Fields = r.fields;
  if (r.recordType === 'dns') return num(f.eventTime) || num(f.dnsResponseTime) || num(f.dnsQueryTime);
  const end = num(f.flowEndMilliseconds) || num(f.flowEndSeconds) * 1000 || num(f.flowEndMicroseconds) / 1000;
  if (end > 0) return end;
  return (
    num(f.flowStartMilliseconds) || num(f.flowStartSeconds) * 1000 || num(f.flowStartMicroseconds) / 1000
  );
}

/** Runs the analysis; evidence in emission order. */
export async function runAnalysis(o: AnalyzeOptions): Promise<AnalyzeResult> {
  const evidence: Evidence[] = [];
  const engine = createDetectionEngine(o.detect, {
    clock: o.clock,
    emit: (e) => evidence.push(e),
    ...(o.indicators ? { indicators: o.indicators } : {}),
  });
  let outOfRange = 0;
  let records = 0;
  const inRange = (r: DecodedRecord): boolean => {
    if (o.since === undefined && o.until === undefined) return true;
    const t = recordTime(r);
    if ((o.since !== undefined && t < o.since) || (o.until !== undefined && t >= o.until)) {
      outOfRange++;
      return false;
    }
    return true;
  };
  const tick = (): void => {
    if (++records % ADVANCE_EVERY === 0) engine.advance();
  };

  const files: FileSummary[] = [];
  let selection: SelectionStats | undefined;
  if (o.lab) {
    const metrics = new MetricsRegistry();
    const session = createDecoderSession(
      { clock: o.clock, metrics },
      {
        templateTimeoutMs: Number.MAX_SAFE_INTEGER,
        pendingMaxSets: o.collect.pendingMaxSets,
        pendingMaxAgeMs: 365 * 86_400_000,
        silenceAlarmMs: 0,
        samplingOverrides: o.collect.samplingOverrides,
      },
    );
    const take = (r: DecodedRecord): void => {
      if ((r.recordType !== 'flow' && r.recordType !== 'dns') || !inRange(r)) return;
      engine.pushRecord(r);
      tick();
    };
    for await (const r of readRecordsFromFiles(o.files, {
      session,
      inputKind: o.inputKind,
      onFileDone: (s) => files.push(s),
    }))
      take(r);
    session.tick(Number.MAX_SAFE_INTEGER, { record: take, event: () => {} });
  } else {
    if (!o.setup || !o.table) throw new TypeError('runAnalysis: selection needs a setup and a table');
    const result = await runOfflineSelection({
      files: o.files,
      inputKind: o.inputKind,
      setup: o.setup,
      table: o.table,
      collect: o.collect,
      clock: o.clock,
      logger: o.logger,
      accept: inRange,
      sink: (selected) => {
        for (const r of selected) {
          engine.pushSelected(r);
          tick();
        }
      },
    });
    files.push(...result.files);
    selection = result.stats;
  }
  engine.flush();
  return {
    evidence,
    files,
    records,
    outOfRange,
    ...(selection ? { selection } : {}),
    detection: engine.stats(),
  };
}
