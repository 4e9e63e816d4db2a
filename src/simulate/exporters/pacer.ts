/**
 * Pacing: feeds records from a source into the fleet. Event time starts at `startMs` and runs
 * `speed` times faster than wall time; with `rate`, a token bucket on the high-resolution clock
 * releases that many records per wall second, sent in small bursts from a loop that yields to the
 * event loop between bursts (so socket callbacks run) and sleeps (at least a millisecond) when
 * no token is left. `asFastAsPossible` (file output) ignores the wall clock:
 * event time follows the records' own times.
 */
import type { Fields } from '../../common/schema/index.ts';
import type { ExporterFleet } from './fleet.ts';

/** One record for one exporter, with its event time (epoch ms) when the source knows it. */
export interface ExportItem {
  exporter: number;
  fields: Fields;
  timeMs?: number;
}

/** Where records come from (the traffic model, a replay, a test). */
export interface RecordSource {
  /**
   * Up to `max` records whose event time is at most `untilMs`; an empty array when none is due
   * yet, `null` when the source is exhausted.
   */
  pull(max: number, untilMs: number): readonly ExportItem[] | null;
}

/** A progress report. */
export interface PacingProgress {
  /** Records handed to the fleet so far. */
  records: number;
  /** Records the exporters put into messages (after sampling). */
  exported: number;
  messages: number;
  /** Wall milliseconds since the start. */
  elapsedMs: number;
  /** Records per wall second over the whole run and over the last interval. */
  rate: number;
  recentRate: number;
  /** Current event time (epoch ms). */
  eventTimeMs: number;
}

/** Pacing options. */
export interface PacingOptions {
  /** Event time (epoch ms) at the start. */
  startMs: number;
  /** Event time runs this many times faster than wall time (default 1). */
  speed?: number;
  /** Records per wall second (token bucket); omitted: no limit beyond the source's event times. */
  rate?: number;
  /** Ignore the wall clock (file output): as fast as possible, event time from the records. */
  asFastAsPossible?: boolean;
  /** Stop after this many records / this much wall time. */
  maxRecords?: number;
  durationMs?: number;
  /** Messages open longer than this much wall time go out (default 100 ms). */
  maxMessageAgeMs?: number;
  onProgress?: (p: PacingProgress) => void;
  /** Wall ms between progress reports (default 1000). */
  progressIntervalMs?: number;
  signal?: AbortSignal;
}

/** The outcome of a paced run. */
export interface PacingResult {
  records: number;
  elapsedMs: number;
  /** Records per wall second achieved. */
  rate: number;
  /** Event time at the end (epoch ms). */
  endEventMs: number;
  /** Why the run ended. */
  reason: 'exhausted' | 'count' | 'duration' | 'aborted';
}

/** Records handed over per burst: small enough to keep the rate smooth, big enough to be cheap. */
const BURST = 256;
/** Bucket capacity in seconds of rate: how much a stalled loop may catch up at once. */
const BUCKET_SECONDS = 0.05;

const immediate = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `source` through `fleet` with the given pacing; resolves when done (the fleet stays open). */
export async function runPaced(
  fleet: ExporterFleet,
  source: RecordSource,
  o: PacingOptions,
): Promise<PacingResult> {
  const speed = o.speed ?? 1;
  const rate = o.rate;
  const maxRecords = o.maxRecords ?? Number.POSITIVE_INFINITY;
  const maxAgeWall = o.maxMessageAgeMs ?? 100;
  const progressEvery = o.progressIntervalMs ?? 1000;
  const output = fleet.output;
  const t0 = performance.now();
  let records = 0;
  let eventNow = o.startMs;
  /** Tokens: records allowed so far minus records sent, capped at the bucket capacity. */
  let tokens = 0;
  let lastRefill = t0;
  const capacity = rate !== undefined ? Math.max(BURST, rate * BUCKET_SECONDS) : 0;
  let lastProgress = t0;
  let lastProgressRecords = 0;
  let reason: PacingResult['reason'] = 'exhausted';

  const report = (now: number): void => {
    if (!o.onProgress) return;
    const s = fleet.stats();
    const elapsed = now - t0;
    o.onProgress({
      records,
      exported: s.exported,
      messages: s.messages,
      elapsedMs: elapsed,
      rate: elapsed > 0 ? (records * 1000) / elapsed : 0,
      recentRate: now > lastProgress ? ((records - lastProgressRecords) * 1000) / (now - lastProgress) : 0,
      eventTimeMs: eventNow,
    });
    lastProgress = now;
    lastProgressRecords = records;
  };

  for (;;) {
    if (o.signal?.aborted) {
      reason = 'aborted';
      break;
    }
    const now = performance.now();
    const elapsed = now - t0;
    if (o.durationMs !== undefined && elapsed >= o.durationMs) {
      reason = 'duration';
      break;
    }
    if (records >= maxRecords) {
      reason = 'count';
      break;
    }
    let want = BURST;
    if (!o.asFastAsPossible) {
      eventNow = o.startMs + elapsed * speed;
      if (rate !== undefined) {
        tokens = Math.min(capacity, tokens + ((now - lastRefill) * rate) / 1000);
        lastRefill = now;
        want = Math.min(BURST, Math.floor(tokens));
      }
    }
    want = Math.min(want, maxRecords - records);
    let got = 0;
    if (want > 0) {
      const items = source.pull(want, o.asFastAsPossible ? Number.POSITIVE_INFINITY : eventNow);
      if (items === null) break;
      got = items.length;
      for (let i = 0; i < got; i++) {
        const it = items[i]!;
        if (o.asFastAsPossible && it.timeMs !== undefined && it.timeMs > eventNow) eventNow = it.timeMs;
        fleet.submit(it.exporter, it.fields, eventNow);
      }
      records += got;
      tokens -= got;
    }
    if (!o.asFastAsPossible) fleet.tick(eventNow, maxAgeWall * speed);
    if (now - lastProgress >= progressEvery) report(now);
    if (output.congested()) {
      await output.drain();
      continue;
    }
    if (o.asFastAsPossible) {
      // Yield now and then so file writes and signals make progress.
      if ((records & 0x3fff) < got) await immediate();
      continue;
    }
    if (rate !== undefined && tokens < 1) {
      // Sleep (at least a millisecond) rather than spin on setImmediate until the next token:
      // at high rates a token falls due every few microseconds, and polling for each one kept
      // the thread busy (as in traffic/run.ts). The bucket holds what accrues meanwhile, so the
      // rate and every second's count are unchanged.
      const waitMs = ((1 - tokens) * 1000) / rate;
      await sleep(Math.min(50, Math.max(1, waitMs - 1)));
    } else if (got === 0) {
      // Nothing due yet by event time: poll gently.
      await sleep(1);
    } else {
      await immediate();
    }
  }
  fleet.flushAll(eventNow);
  if (output.congested()) await output.drain();
  const end = performance.now();
  report(end);
  const elapsedMs = end - t0;
  return {
    records,
    elapsedMs,
    rate: elapsedMs > 0 ? (records * 1000) / elapsedMs : 0,
    endEventMs: eventNow,
    reason,
  };
}
