/**
 * The generation engine (issue 4): background traffic plus the requested scenarios, stepped
 * through event time in slices; each slice's records are merged, sorted by time and handed to the
 * exporters of the provider whose network carries them, which encode them into export messages.
 * The engine is synchronous and never reads a clock: the same options (seed and start included)
 * give the same messages, byte for byte. Pacing against wall time (live output) and writing
 * (files, sockets) are the caller's business (`live.ts`, `run.ts`).
 */
import type { Fields } from '../../common/schema/index.ts';
import type { PrefixTable } from '../../common/prefixes/index.ts';
import type { CountryModel, ForeignHost } from '../country/index.ts';
import { Rng } from '../country/index.ts';
import {
  createExporterFleet,
  type ExportedMessage,
  type ExporterConfig,
  type ExporterFleet,
  type ExporterFormat,
  type ExporterTransport,
  type FleetOutput,
} from '../exporters/index.ts';
import { BackgroundSource, type BackgroundConfig } from './background.ts';
import type { DiurnalProfile } from './diurnal.ts';
import { TrafficConfigError } from './errors.ts';
import type {
  GeneratedRecord,
  GeneratorContext,
  IndicatorEntry,
  ScenarioDef,
  ScenarioInstance,
  ScenarioName,
  ScenarioParams,
  TruthLine,
} from './types.ts';

/** A scenario to run, with whatever parameters the user gave (the rest are drawn from the seed). */
export interface ScenarioRequest {
  name: ScenarioName;
  start?: number;
  durationMs?: number;
  intensity?: number;
  sources?: string[];
  targets?: string[];
  extra?: Record<string, string | number | boolean>;
}

/** Options of the engine. */
export interface EngineOptions {
  model: CountryModel;
  /** Run seed (background, scenarios and exporters derive their streams from it). */
  seed: number;
  /** Event time of the start, epoch ms. */
  startMs: number;
  format: ExporterFormat;
  /** Transport the messages will travel on (template refresh differs for TCP). Default udp. */
  transport?: ExporterTransport;
  /**
   * Flow records (DNS events for dnstap) per second of wall time; the background's mean density
   * per event second is `rate / speed` (scenarios add their own records).
   */
  rate: number;
  /** Event time runs this many times faster than wall time (default 1). */
  speed?: number;
  /** 1-in-N packet sampling for every exporter; default: each exporter's rate in the model. */
  sampling?: number;
  /** Background traffic on (default true). */
  background?: boolean;
  diurnal?: DiurnalProfile;
  /** Extra background parameters (look-alikes, mix). */
  backgroundConfig?: Partial<BackgroundConfig>;
  scenarios?: readonly ScenarioRequest[];
  /** Scenario registry (src/simulate/scenarios `SCENARIOS`); required when scenarios are requested. */
  registry?: Readonly<Partial<Record<ScenarioName, ScenarioDef>>>;
  indicators?: readonly IndicatorEntry[];
  /** The prefix table the model was built from (lets scenarios classify and draw any address). */
  table?: PrefixTable;
  /** Research-scanner hosts for the background (from the prefix table). */
  scanners?: readonly ForeignHost[];
  /** Stop after exactly this many exported records (flows, sFlow flow samples or DNS messages). */
  count?: number;
  /** Stop at this event time (epoch ms). */
  endMs?: number;
  /** Observer of every generated record and whether an exporter took it (tests, statistics). */
  observe?: (r: GeneratedRecord, accepted: boolean) => void;
}

/** Counters of a run. */
export interface EngineStats {
  /** Records generated (background + scenarios), of the kind the format carries. */
  generated: number;
  /** Records the exporters put into messages (what `--count` counts). */
  exported: number;
  /** Records dropped by sampling, of the wrong kind for the format, or without an exporter. */
  sampledOut: number;
  otherKind: number;
  unroutable: number;
  unexportable: number;
  messages: number;
  bytes: number;
  /** Event time reached, epoch ms. */
  eventTimeMs: number;
  /** Generated records per label (`background`, `lookalike:…`, scenario names). */
  labels: Record<string, number>;
}

/** A running engine. */
export interface TrafficEngine {
  readonly exporters: readonly ExporterConfig[];
  readonly truth: readonly TruthLine[];
  readonly startMs: number;
  /** Event time the run ends at (Infinity when it runs until stopped or until `count`). */
  readonly endMs: number;
  /** Event time covered by one step. */
  readonly sliceMs: number;
  /** Generates the next slice; returns false once the run is complete (everything flushed). */
  step(): boolean;
  /** Flushes every open message (when stopping early). */
  finish(): void;
  readonly done: boolean;
  stats(): EngineStats;
  /** A TCP exporter reconnected: its templates go out again. */
  resetSession(index: number): void;
}

/** Records per slice the engine aims at: big enough to amortise sorting, small enough for memory. */
const RECORDS_PER_SLICE = 4096;
const MIN_SLICE_MS = 10;
const MAX_SLICE_MS = 1000;
/**
 * An open export message goes out after this much event time, as routers flush their export
 * packets within about a second; independent of `speed` so that files are reproducible.
 */
export const MESSAGE_MAX_AGE_MS = 1000;
/** Upper bound of sFlow samples one exporter holds in an open datagram (MTU / smallest sample). */
const SFLOW_OPEN_PER_EXPORTER = 64;

/** Most cached address hashes (scenarios may invent many addresses; the model has about 3000). */
const HASH_CACHE_MAX = 100_000;

function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The exporters of a run: the model's flow exporters, or one dnstap source per provider resolver. */
export function exportersFor(
  model: CountryModel,
  format: ExporterFormat,
  opts: { sampling?: number; transport?: ExporterTransport } = {},
): ExporterConfig[] {
  const transport = opts.transport === 'file' ? undefined : opts.transport;
  if (format === 'dnstap') {
    const out: ExporterConfig[] = [];
    let n = 0;
    for (const p of model.providers) {
      p.resolvers.forEach((r, k) => {
        n++;
        out.push({
          id: `${p.id}-resolver-${k + 1}`,
          address: `127.0.1.${n}`,
          format,
          observationDomainId: 0,
          samplingInterval: 1,
          ...(transport ? { transport } : {}),
          dnstapIdentity: `${p.slug}-resolver-${k + 1}`,
          dnstapVersion: 'acd-generate',
        });
      });
    }
    return out;
  }
  return model.providers.flatMap((p) =>
    p.exporters.map((e) => ({
      id: e.id,
      address: e.address,
      format,
      observationDomainId: e.observationDomainId,
      samplingInterval: opts.sampling ?? e.samplingRate,
      ...(transport ? { transport } : {}),
    })),
  );
}

/**
 * Default scenario timing when not given: start 5–25 % into the run, duration the scenario's
 * default but at most 70 % of the run (so the whole attack, and its truth window, lies inside).
 */
export function scenarioParams(
  def: ScenarioDef,
  req: ScenarioRequest,
  rng: Rng,
  runStart: number,
  runSpanMs: number,
): ScenarioParams {
  const durationMs = req.durationMs ?? Math.max(1000, Math.min(def.defaultDurationMs, 0.7 * runSpanMs));
  const start = req.start ?? runStart + Math.round((0.05 + 0.2 * rng.float()) * runSpanMs);
  const p: ScenarioParams = { start, durationMs, intensity: req.intensity ?? 1, extra: { ...req.extra } };
  if (req.sources) p.sources = [...req.sources];
  if (req.targets) p.targets = [...req.targets];
  return p;
}

/** Creates an engine; `emit` receives every export message in event-time order. */
export function createTrafficEngine(o: EngineOptions, emit: (m: ExportedMessage) => void): TrafficEngine {
  const speed = o.speed ?? 1;
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new TrafficConfigError('speed', 'must be a positive number');
  if (!(o.rate >= 0) || !Number.isFinite(o.rate))
    throw new TrafficConfigError('rate', 'must be a number >= 0');
  if (o.count !== undefined && !(Number.isSafeInteger(o.count) && o.count > 0))
    throw new TrafficConfigError('count', 'must be a positive integer');
  const dns = o.format === 'dnstap';
  const exporters = exportersFor(o.model, o.format, {
    ...(o.sampling !== undefined ? { sampling: o.sampling } : {}),
    ...(o.transport ? { transport: o.transport } : {}),
  });
  if (exporters.length === 0)
    throw new TrafficConfigError('model', 'the model has no exporters for this format');
  const output: FleetOutput = {
    stats: { sent: 0, dropped: 0, errors: 0, connects: 0 },
    open: () => Promise.resolve(),
    write: (m) => {
      emitted += m.records;
      messages++;
      bytes += m.bytes.length;
      emit(m);
    },
    congested: () => false,
    drain: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  let emitted = 0;
  let messages = 0;
  let bytes = 0;
  const fleet: ExporterFleet = createExporterFleet({ exporters, seed: o.seed, output });

  // Routing tables: provider → exporter indices; resolver address → dnstap exporter.
  const byProvider = new Map<string, number[]>();
  const byResolver = new Map<string, number>();
  exporters.forEach((e, i) => {
    const pid = dns
      ? e.id.replace(/-resolver-\d+$/, '')
      : o.model.providers.find((p) => p.exporters.some((x) => x.id === e.id))!.id;
    let l = byProvider.get(pid);
    if (!l) byProvider.set(pid, (l = []));
    l.push(i);
  });
  if (dns) {
    let i = 0;
    for (const p of o.model.providers) for (const r of p.resolvers) byResolver.set(r, i++);
  }

  const root = new Rng(o.seed);
  const density = o.rate / speed;
  const sliceMs = Math.max(
    MIN_SLICE_MS,
    Math.min(MAX_SLICE_MS, density > 0 ? Math.round((RECORDS_PER_SLICE / density) * 1000) : MAX_SLICE_MS),
  );
  const background =
    o.background !== false && density > 0
      ? new BackgroundSource(o.model, root.fork('background'), {
          ...o.backgroundConfig,
          density,
          kind: dns ? 'dns' : 'flow',
          ...(o.diurnal ? { diurnal: o.diurnal } : {}),
          ...(o.scanners ? { scanners: o.scanners } : {}),
        })
      : undefined;

  // The span scenarios are fitted into: the run's own, or what `count` records take, or 10 min.
  const runSpan =
    o.endMs !== undefined
      ? o.endMs - o.startMs
      : o.count !== undefined && density > 0
        ? Math.max(10_000, (o.count / density) * 1000)
        : 600_000;
  const ctxBase = {
    model: o.model,
    indicators: [...(o.indicators ?? [])],
    ...(o.table ? { table: o.table } : {}),
  };
  const scenarios: ScenarioInstance[] = [];
  (o.scenarios ?? []).forEach((req, i) => {
    const def = o.registry?.[req.name];
    if (!def) throw new TrafficConfigError('scenario', `scenario ${req.name} is not available`);
    const rng = root.fork(`scenario:${req.name}:${i}`);
    const params = scenarioParams(def, req, rng.fork('params'), o.startMs, runSpan);
    const ctx: GeneratorContext = { ...ctxBase, rng };
    scenarios.push(def.create(ctx, params));
  });
  const truth = scenarios.flatMap((s) => s.truth());
  let endMs = o.endMs ?? Number.POSITIVE_INFINITY;
  if (!background && o.endMs === undefined && o.count === undefined)
    endMs = scenarios.reduce((m, s) => Math.max(m, s.end), o.startMs);

  const count = o.count ?? Number.POSITIVE_INFINITY;
  const sflow = o.format === 'sflow5';
  const sflowOpenBound = SFLOW_OPEN_PER_EXPORTER * exporters.length;
  const labels: Record<string, number> = {};
  let generated = 0;
  let sampledOut = 0;
  let otherKind = 0;
  let unroutable = 0;
  let unexportable = 0;
  let accepted = 0;
  let now = o.startMs;
  let done = false;
  const buf: GeneratedRecord[] = [];
  const push = (r: GeneratedRecord): void => {
    buf.push(r);
  };
  const byTime = (a: GeneratedRecord, b: GeneratedRecord): number => a.time - b.time;

  // Address hashes are cached: the model's address strings recur, and V8 keeps a string's own
  // hash, so a map lookup is cheaper than hashing the text again for every record.
  const hashes = new Map<string, number>();
  const addrHash = (a: unknown): number => {
    if (typeof a !== 'string') return 0;
    let h = hashes.get(a);
    if (h === undefined) {
      if (hashes.size >= HASH_CACHE_MAX) hashes.clear();
      h = fnv(a);
      hashes.set(a, h);
    }
    return h;
  };

  const route = (r: GeneratedRecord): number => {
    const f = r.fields;
    if (dns) {
      const type = typeof f.dnsMessageType === 'string' ? f.dnsMessageType : 'CLIENT_QUERY';
      const resolver =
        type.startsWith('CLIENT') || type.startsWith('AUTH')
          ? (f.destinationIPv4Address ?? f.destinationIPv6Address)
          : (f.sourceIPv4Address ?? f.sourceIPv6Address);
      const i = typeof resolver === 'string' ? byResolver.get(resolver) : undefined;
      if (i !== undefined) return i;
      return byProvider.get(r.providerId)?.[0] ?? -1;
    }
    const list = byProvider.get(r.providerId);
    if (!list) return -1;
    if (list.length === 1) return list[0]!;
    // Both directions of a conversation take the same router: a symmetric hash of the ends.
    const s = f.sourceIPv4Address ?? f.sourceIPv6Address;
    const d = f.destinationIPv4Address ?? f.destinationIPv6Address;
    const h = (addrHash(s) ^ addrHash(d)) >>> 0;
    return list[h % list.length]!;
  };

  const submit = (r: GeneratedRecord): void => {
    if ((r.kind === 'dns') !== dns) {
      otherKind++;
      o.observe?.(r, false);
      return;
    }
    generated++;
    labels[r.label] = (labels[r.label] ?? 0) + 1;
    const i = route(r);
    const e = fleet.exporters[i];
    if (!e) {
      unroutable++;
      o.observe?.(r, false);
      return;
    }
    let rec: Fields = r.fields;
    const t = r.time;
    if (sflow) {
      // sFlow makes one sample per sampled packet: a flow may never carry more packets than
      // records remain, and when one might (counting the samples still open) everything open is
      // flushed first so that the count is exact.
      const p = typeof rec.packetDeltaCount === 'number' ? Math.max(1, rec.packetDeltaCount) : 1;
      if (p + sflowOpenBound >= count - emitted) fleet.flushAll(t);
      const remaining = count - emitted;
      if (remaining <= 0) return;
      if (p > remaining) {
        const oct = typeof rec.octetDeltaCount === 'number' ? rec.octetDeltaCount : 0;
        rec = { ...rec, packetDeltaCount: remaining, octetDeltaCount: Math.round((oct * remaining) / p) };
      }
      const before = e.stats.sampledOut + e.stats.unexportable + e.stats.encodeErrors;
      fleet.submit(i, rec, t);
      const lost = e.stats.sampledOut + e.stats.unexportable + e.stats.encodeErrors - before;
      if (lost > 0) sampledOut++;
      o.observe?.(r, lost === 0);
      return;
    }
    const s0 = e.stats.sampledOut;
    const u0 = e.stats.unexportable + e.stats.encodeErrors;
    fleet.submit(i, rec, t);
    const ok = e.stats.sampledOut === s0 && e.stats.unexportable + e.stats.encodeErrors === u0;
    if (ok) accepted++;
    else if (e.stats.sampledOut !== s0) sampledOut++;
    else unexportable++;
    o.observe?.(r, ok);
  };

  const reached = (): boolean => (sflow ? emitted >= count : accepted >= count);

  const finish = (): void => {
    if (done) return;
    fleet.flushAll(now);
    done = true;
  };

  return {
    exporters,
    truth,
    startMs: o.startMs,
    endMs,
    sliceMs,
    get done() {
      return done;
    },
    step() {
      if (done) return false;
      const from = now;
      const to = Math.min(now + sliceMs, endMs);
      buf.length = 0;
      background?.generate(from, to, push);
      for (const s of scenarios) if (s.end >= from) s.generate(from, to, push);
      buf.sort(byTime);
      for (let k = 0; k < buf.length; k++) {
        if (reached()) break;
        submit(buf[k]!);
      }
      now = to;
      if (reached() || now >= endMs) {
        finish();
        return false;
      }
      fleet.tick(to, MESSAGE_MAX_AGE_MS);
      return true;
    },
    finish,
    resetSession(index) {
      fleet.exporters[index]?.resetSession();
    },
    stats() {
      return {
        generated,
        exported: emitted,
        sampledOut,
        otherKind,
        unroutable,
        unexportable,
        messages,
        bytes,
        eventTimeMs: now,
        labels: { ...labels },
      };
    },
  };
}
