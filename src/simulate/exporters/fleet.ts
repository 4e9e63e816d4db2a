/**
 * The exporter fleet: the simulated exporters of a run, each encoding its own records, all feeding
 * one output. Records are routed by exporter index; event time is kept monotonic across the fleet
 * so that a file output holds every exporter's messages in time order.
 */
import type { Fields } from '../../common/schema/index.ts';
import type { Lifecycle } from '../../common/lifecycle.ts';
import { createDnstapExporter } from './dnstap-exporter.ts';
import { ExporterConfigError } from './errors.ts';
import { createFlowExporter } from './flow-exporter.ts';
import type { FleetOutput, OutputStats } from './outputs.ts';
import { createSflowExporter } from './sflow-exporter.ts';
import {
  emptyStats,
  type ExportedMessage,
  type ExporterConfig,
  type ExporterStats,
  type SimulatedExporter,
} from './types.ts';

/** Options of a fleet. */
export interface FleetOptions {
  exporters: readonly ExporterConfig[];
  /** Run seed: every exporter derives its random generator from it and its id. */
  seed: number;
  output: FleetOutput;
  /** Observer of every message (tests, truth bookkeeping); called before the output. */
  onMessage?: (m: ExportedMessage) => void;
}

/** Totals over the fleet plus the output's counters. */
export interface FleetStats extends ExporterStats {
  output: OutputStats;
}

/** A running fleet. */
export interface ExporterFleet extends Lifecycle {
  readonly exporters: readonly SimulatedExporter[];
  readonly output: FleetOutput;
  /** Index of the exporter with this id (-1 when unknown). */
  indexOf(id: string): number;
  /** Hands one record to exporter `index` at event time `now`. */
  submit(index: number, rec: Fields, now: number): void;
  /** Time-driven work of every exporter; messages open longer than `maxAgeMs` (event time) go out. */
  tick(now: number, maxAgeMs: number): void;
  /** Sends every open message. */
  flushAll(now: number): void;
  stats(): FleetStats;
}

/** Checks the exporter list: unique ids, and addresses/transports the formats allow. */
export function validateExporters(exporters: readonly ExporterConfig[]): void {
  const ids = new Set<string>();
  for (const e of exporters) {
    if (ids.has(e.id)) throw new ExporterConfigError(`duplicate exporter id ${e.id}`);
    ids.add(e.id);
    if (!(e.samplingInterval >= 1) || !Number.isInteger(e.samplingInterval))
      throw new ExporterConfigError(`${e.id}: samplingInterval must be an integer >= 1`);
    if (e.format === 'netflow5' && e.samplingInterval > 0x3fff)
      throw new ExporterConfigError(`${e.id}: NetFlow v5 carries sampling intervals up to 16383`);
    if (e.transport === 'tcp' && e.format !== 'ipfix' && e.format !== 'dnstap')
      throw new ExporterConfigError(`${e.id}: ${e.format} does not run over TCP`);
    if (!(e.observationDomainId >= 0 && e.observationDomainId <= 0xffffffff))
      throw new ExporterConfigError(`${e.id}: observationDomainId out of range`);
  }
}

/** Creates a fleet; `start()` opens the output, `stop()` flushes and closes it. */
export function createExporterFleet(opts: FleetOptions): ExporterFleet {
  validateExporters(opts.exporters);
  const output = opts.output;
  const observe = opts.onMessage;
  const emit = observe
    ? (m: ExportedMessage): void => {
        observe(m);
        output.write(m);
      }
    : (m: ExportedMessage): void => output.write(m);
  const exporters: SimulatedExporter[] = opts.exporters.map((c, i) => {
    switch (c.format) {
      case 'ipfix':
      case 'netflow9':
      case 'netflow5':
        return createFlowExporter(c, i, opts.seed, emit);
      case 'sflow5':
        return createSflowExporter(c, i, opts.seed, emit);
      case 'dnstap':
        return createDnstapExporter(c, i, emit);
    }
  });
  const byId = new Map(opts.exporters.map((c, i) => [c.id, i]));
  let lastNow = Number.NEGATIVE_INFINITY;
  const clamp = (now: number): number => {
    if (now > lastNow) lastNow = now;
    return lastNow;
  };
  return {
    exporters,
    output,
    indexOf: (id) => byId.get(id) ?? -1,
    submit(index, rec, now) {
      const e = exporters[index];
      if (!e) throw new ExporterConfigError(`no exporter ${index}`);
      e.add(rec, clamp(now));
    },
    tick(now, maxAgeMs) {
      const t = clamp(now);
      for (const e of exporters) e.tick(t, maxAgeMs);
    },
    flushAll(now) {
      const t = clamp(now);
      for (const e of exporters) e.flush(t);
    },
    stats() {
      const s = emptyStats();
      for (const e of exporters) {
        for (const k of Object.keys(s) as (keyof ExporterStats)[]) s[k] += e.stats[k];
      }
      return { ...s, output: { ...output.stats } };
    },
    async start() {
      await output.open(opts.exporters, (i) => exporters[i]?.resetSession());
    },
    async stop() {
      if (Number.isFinite(lastNow)) for (const e of exporters) e.flush(lastNow);
      await output.close();
    },
  };
}
