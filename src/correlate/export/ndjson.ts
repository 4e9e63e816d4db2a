/**
 * The NDJSON shape of alerts and incidents: the `acd analyze --format ndjson` contract (issue 6)
 * and the body of webhooks. Pure functions, so every producer writes the same shape; times are
 * ISO 8601 UTC with milliseconds and addresses stay the strings they are (DESIGN section 7).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Alert, Incident } from '../../common/schema/alert.ts';
import type { Evidence } from '../../common/schema/evidence.ts';
import { isoTime } from '../../common/clock.ts';
import { ExportClosedError } from '../errors.ts';
import type { CorrelationDelta, CorrelationSnapshot } from '../correlator.ts';

/** A JSON value (what `JSON.stringify` writes). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Options of the alert shape. */
export interface AlertJsonOptions {
  /** Include the kept evidence (the chain) with ISO windows; default false (compact lines). */
  evidence?: boolean;
}

function evidenceToJson(e: Evidence): Json {
  const out: { [key: string]: Json } = {
    detector: e.detector,
    version: e.version,
    subject: e.subject,
    windowStart: isoTime(e.window.start),
    windowEnd: isoTime(e.window.end),
    confidence: e.confidence,
    severity: e.severity,
    facts: { ...e.facts },
    recordIds: [...e.recordIds],
  };
  if (e.counterpart !== undefined) out.counterpart = e.counterpart;
  return out;
}

/**
 * One alert line: `type: "alert"`, `detector`, `subject`, `counterparts[]`, `severity`, `score`,
 * `firstSeen`, `lastSeen`, `summary` (the contract), plus `id`, `operators`, `sectors`,
 * `evidenceCount`, `incidentId`, `suppressedBy` when set, and `evidence` when asked for.
 */
export function alertToJson(a: Alert, opts: AlertJsonOptions = {}): { [key: string]: Json } {
  const out: { [key: string]: Json } = {
    type: 'alert',
    id: a.id,
    detector: a.detector,
    subject: a.subject,
    counterparts: [...a.counterparts],
    severity: a.severity,
    score: a.score,
    firstSeen: isoTime(a.firstSeen),
    lastSeen: isoTime(a.lastSeen),
    summary: a.summary,
    operators: [...a.operators],
    sectors: [...a.sectors],
    evidenceCount: a.evidenceCount,
  };
  if (a.incidentId !== undefined) out.incidentId = a.incidentId;
  if (a.suppressedBy !== undefined) out.suppressedBy = a.suppressedBy;
  if (opts.evidence === true) out.evidence = a.evidence.map(evidenceToJson);
  return out;
}

/**
 * One incident line: `type: "incident"`, `id`, `severity`, `score`, `detectors[]`, `subjects[]`,
 * `alerts[]` (ids), `firstSeen`, `lastSeen`, `summary` (the contract), plus `state`, `campaign`,
 * `counterparts`, `operators`, `sectors`, `updatedAt`, `history` and `mergedFrom` when set.
 */
export function incidentToJson(i: Incident): { [key: string]: Json } {
  const out: { [key: string]: Json } = {
    type: 'incident',
    id: i.id,
    state: i.state,
    severity: i.severity,
    score: i.score,
    campaign: i.campaign,
    detectors: [...i.detectors],
    subjects: [...i.subjects],
    counterparts: [...i.counterparts],
    operators: [...i.operators],
    sectors: [...i.sectors],
    alerts: [...i.alerts],
    firstSeen: isoTime(i.firstSeen),
    lastSeen: isoTime(i.lastSeen),
    summary: i.summary,
    updatedAt: isoTime(i.updatedAt),
    history: i.history.map((t) => ({
      at: isoTime(t.at),
      from: t.from,
      to: t.to,
      actor: t.actor,
      reason: t.reason,
    })),
  };
  if (i.mergedFrom !== undefined) out.mergedFrom = [...i.mergedFrom];
  return out;
}

/** The `acd analyze` output: every alert, then every incident, one JSON object per line. */
export function snapshotToNdjson(s: CorrelationSnapshot, opts: AlertJsonOptions = {}): string {
  const lines: string[] = [];
  for (const a of s.alerts) lines.push(JSON.stringify(alertToJson(a, opts)));
  for (const i of s.incidents) lines.push(JSON.stringify(incidentToJson(i)));
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

/**
 * Appends alerts and incidents to a file, one object per line. Used with a snapshot (one line
 * per alert and incident) or with deltas (an update log: a changed alert is written again with
 * its current state; readers keep the last line per id).
 */
export class NdjsonFileWriter {
  private readonly stream: WriteStream;
  private readonly opts: AlertJsonOptions;
  private closed = false;
  private lines = 0;

  private constructor(stream: WriteStream, opts: AlertJsonOptions) {
    this.stream = stream;
    this.opts = opts;
  }

  /** Opens (creates or, with `append`, appends to) the file. */
  static async open(
    path: string,
    opts: AlertJsonOptions & { append?: boolean } = {},
  ): Promise<NdjsonFileWriter> {
    const stream = createWriteStream(path, { flags: opts.append === true ? 'a' : 'w' });
    await once(stream, 'open');
    return new NdjsonFileWriter(stream, opts);
  }

  /** Lines written so far. */
  get written(): number {
    return this.lines;
  }

  private async line(value: Json): Promise<void> {
    if (this.closed) throw new ExportClosedError('ndjson writer');
    this.lines++;
    // Respect backpressure so a large snapshot does not buffer entirely in memory.
    if (!this.stream.write(JSON.stringify(value) + '\n')) await once(this.stream, 'drain');
  }

  /** Writes one alert line. */
  async writeAlert(a: Alert): Promise<void> {
    await this.line(alertToJson(a, this.opts));
  }

  /** Writes one incident line. */
  async writeIncident(i: Incident): Promise<void> {
    await this.line(incidentToJson(i));
  }

  /** Writes the alerts, then the incidents, of a snapshot or a delta. */
  async write(s: CorrelationSnapshot | CorrelationDelta): Promise<void> {
    for (const a of s.alerts) await this.writeAlert(a);
    for (const i of s.incidents) await this.writeIncident(i);
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stream.end();
    await once(this.stream, 'finish');
  }
}
