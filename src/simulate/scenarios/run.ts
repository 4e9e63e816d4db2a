/**
 * The machinery every scenario shares: a scenario is a set of parts, each producing the records
 * of its events tick by tick (one-second ticks of event time counted from the scenario start).
 * Every random draw of a tick or an event comes from a stream forked by a label naming the
 * scenario, the part and the tick or event index, never from state carried between calls, so the
 * records are the same however the engine slices time (determinism), and a slice can be produced
 * without producing the ones before it.
 */
import type { Rng } from '../country/index.ts';
import type {
  DetectorName,
  GeneratedRecord,
  GeneratorContext,
  LegalChannel,
  ScenarioInstance,
  ScenarioName,
  TruthLine,
} from '../traffic/types.ts';
import type { CheckedParams } from './params.ts';
import type { World } from './world.ts';

/** Tick length: events are keyed by the tick they start in. */
export const TICK_MS = 1000;
/** Ticks whose records are kept for the next call (the engine asks for consecutive slices). */
const CACHED_TICKS = 4;

/** Records out. */
export type Emit = (r: GeneratedRecord) => void;

/** What one record of a part means (the dry run groups records by kind and channel). */
export interface RecordTruth {
  kind: string;
  detectors: DetectorName[];
  attackers: string[];
  victims: string[];
}

/** One part of a scenario. */
export interface Part {
  /**
   * How far past the end of its tick an event's records may lie (ms): the run asks the part for
   * the ticks this far back too and keeps the records that fall into the tick being produced.
   */
  readonly spanMs: number;
  /** Emits every record of the events keyed to tick `k` ([t0, t1)). Record times lie in [t0, t1 + spanMs). */
  tick(k: number, t0: number, t1: number, out: Emit): void;
  /**
   * Ground truth of one of its records, or undefined for records that are no part of the attack.
   * The run learns the truth by producing the part once (a dry run), so the truth names exactly
   * the addresses, times and channels of the records.
   */
  describe?(r: GeneratedRecord): RecordTruth | undefined;
  /** Ground truth known without running the part: for parts too large to produce twice. */
  staticTruth?(): TruthPart[];
}

/** Everything a scenario builder needs. */
export interface Env {
  /** Scenario name written into truth lines. */
  scenario: ScenarioName;
  /** Label of the records (`GeneratedRecord.label`). */
  label: string;
  /** Prefix of every random-stream label of this instance. */
  key: string;
  ctx: GeneratorContext;
  world: World;
  p: CheckedParams;
}

/** A deterministic stream for `label` within an instance (no state shared with other streams). */
export function rngOf(env: Env, label: string): Rng {
  return env.ctx.rng.fork(`${env.key}|${label}`);
}

/** A truth line as a builder collects it (addresses deduplicated, in first-seen order). */
export interface TruthPart {
  kind: string;
  channel: LegalChannel;
  attackers: string[];
  victims: string[];
  start: number;
  end: number;
  detectors: DetectorName[];
}

/** Converts collected parts to truth lines (ISO times; empty parts dropped). */
export function toTruthLines(scenario: ScenarioName, parts: readonly TruthPart[]): TruthLine[] {
  return parts
    .filter((t) => t.attackers.length + t.victims.length > 0 && t.end >= t.start)
    .map((t) => ({
      scenario,
      kind: t.kind,
      attackers: [...new Set(t.attackers)],
      victims: [...new Set(t.victims)],
      start: new Date(t.start).toISOString(),
      end: new Date(t.end).toISOString(),
      channel: t.channel,
      expectedDetectors: [...t.detectors],
    }));
}

/** Source and destination address of a record. */
export function endpoints(r: GeneratedRecord): [string, string] {
  const f = r.fields;
  const s = f.sourceIPv4Address ?? f.sourceIPv6Address;
  const d = f.destinationIPv4Address ?? f.destinationIPv6Address;
  return [typeof s === 'string' ? s : '', typeof d === 'string' ? d : ''];
}

/** First time of a record: a flow's start, a DNS event's query time. */
function firstTime(r: GeneratedRecord): number {
  const f = r.fields;
  const t = r.kind === 'flow' ? f.flowStartMilliseconds : f.dnsQueryTime;
  return typeof t === 'number' ? t : r.time;
}

/** A scenario instance made of parts (see the module comment). */
export class ScenarioRun implements ScenarioInstance {
  readonly name: ScenarioName;
  readonly start: number;
  readonly end: number;
  private readonly parts: Part[];
  private readonly world: World;
  private truthLines: TruthLine[] | undefined;
  private readonly cache = new Map<number, GeneratedRecord[]>();

  constructor(env: Env, parts: Part[]) {
    this.name = env.scenario;
    this.start = env.p.start;
    this.end = env.p.end;
    this.world = env.world;
    this.parts = parts;
  }

  truth(): TruthLine[] {
    this.truthLines ??= toTruthLines(this.name, this.collectTruth());
    return this.truthLines.map((t) => ({ ...t, attackers: [...t.attackers], victims: [...t.victims] }));
  }

  /** Static truth of the parts that have it, and a dry run of the others. */
  private collectTruth(): TruthPart[] {
    const lines: TruthPart[] = [];
    const byKey = new Map<string, TruthPart>();
    const sets = new Map<TruthPart, { a: Set<string>; v: Set<string> }>();
    for (const part of this.parts) {
      if (part.staticTruth) {
        lines.push(...part.staticTruth());
        continue;
      }
      const describe = part.describe?.bind(part);
      if (!describe) continue;
      const ticks = Math.ceil((this.end - this.start) / TICK_MS);
      const take: Emit = (r) => {
        if (r.time < this.start || r.time >= this.end) return;
        const t = describe(r);
        if (!t) return;
        const [src, dst] = endpoints(r);
        const channel: LegalChannel | undefined =
          r.kind === 'dns' ? 'operator-telemetry' : this.world.channel(src, dst, r.time);
        if (!channel) return;
        const key = `${t.kind}|${channel}`;
        let line = byKey.get(key);
        if (!line) {
          line = {
            kind: t.kind,
            channel,
            attackers: [],
            victims: [],
            start: Infinity,
            end: -Infinity,
            detectors: t.detectors,
          };
          byKey.set(key, line);
          lines.push(line);
        }
        // Sets while running, so a long dry run holds each address once.
        let s = sets.get(line);
        if (!s) sets.set(line, (s = { a: new Set(), v: new Set() }));
        for (const a of t.attackers) s.a.add(a);
        for (const v of t.victims) s.v.add(v);
        line.start = Math.min(line.start, Math.max(this.start, firstTime(r)));
        line.end = Math.max(line.end, r.time);
      };
      for (let k = 0; k < ticks; k++) {
        const t0 = this.start + k * TICK_MS;
        part.tick(k, t0, Math.min(this.end, t0 + TICK_MS), take);
      }
    }
    for (const [line, s] of sets) {
      line.attackers = [...s.a];
      line.victims = [...s.v];
    }
    return lines;
  }

  generate(from: number, to: number, out: Emit): void {
    const lo = Math.max(from, this.start);
    const hi = Math.min(to, this.end);
    if (!(lo < hi)) return;
    const k0 = Math.floor((lo - this.start) / TICK_MS);
    const k1 = Math.ceil((hi - this.start) / TICK_MS);
    for (let k = k0; k < k1; k++)
      for (const r of this.recordsOfTick(k)) if (r.time >= lo && r.time < hi) out(r);
  }

  /** All records whose time lies in tick `k` (cached for the next slices). */
  private recordsOfTick(k: number): GeneratedRecord[] {
    const hit = this.cache.get(k);
    if (hit) return hit;
    const t0 = this.start + k * TICK_MS;
    const t1 = Math.min(this.end, t0 + TICK_MS);
    const res: GeneratedRecord[] = [];
    const keep: Emit = (r) => {
      if (r.time >= t0 && r.time < t1) res.push(r);
    };
    for (const part of this.parts) {
      const back = Math.ceil(part.spanMs / TICK_MS);
      for (let j = Math.max(0, k - back); j <= k; j++) {
        const s0 = this.start + j * TICK_MS;
        part.tick(j, s0, Math.min(this.end, s0 + TICK_MS), keep);
      }
    }
    this.cache.set(k, res);
    if (this.cache.size > CACHED_TICKS) this.cache.delete(this.cache.keys().next().value!);
    return res;
  }
}

/**
 * A part whose events are known up front (sorted start times): tick `k` emits the events that
 * start in it; `make(i, time, rng, out)` builds event `i`'s records from a stream of its own.
 */
export function eventPart(
  env: Env,
  label: string,
  times: Float64Array,
  spanMs: number,
  make: (i: number, time: number, rng: Rng, out: Emit) => void,
): Part {
  return {
    spanMs,
    tick(_k, t0, t1, out) {
      let i = lowerBound(times, t0);
      for (; i < times.length && times[i]! < t1; i++) make(i, times[i]!, rngOf(env, `${label}|${i}`), out);
    },
  };
}

/** First index with `a[i] >= x`. */
export function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A part of random events at a rate (events/s) within [from, to): tick `k` draws a Poisson
 * number of events at uniform times from its own stream.
 */
export function ratePart(
  env: Env,
  label: string,
  from: number,
  to: number,
  ratePerS: number,
  spanMs: number,
  make: (time: number, rng: Rng, out: Emit) => void,
): Part {
  return {
    spanMs,
    tick(k, t0, t1, out) {
      const a = Math.max(t0, from);
      const b = Math.min(t1, to);
      if (!(a < b)) return;
      const rng = rngOf(env, `${label}|t${k}`);
      const n = poisson(rng, (ratePerS * (b - a)) / 1000);
      for (let i = 0; i < n; i++) make(a + Math.floor(rng.float() * (b - a)), rng, out);
    },
  };
}

/** A standard normal draw (Box-Muller). */
export function normal(rng: Rng): number {
  let u = rng.float();
  while (u <= Number.MIN_VALUE) u = rng.float();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.float());
}

/** Above this mean a Poisson draw uses its normal approximation (error well under 1 %). */
const POISSON_NORMAL_MEAN = 30;

/** A Poisson draw (Knuth's product method for small means, rounded normal above). */
export function poisson(rng: Rng, mean: number): number {
  if (!(mean > 0)) return 0;
  if (mean >= POISSON_NORMAL_MEAN) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(rng)));
  const l = Math.exp(-mean);
  let k = 0;
  let p = rng.float();
  while (p > l) {
    k++;
    p *= rng.float();
  }
  return k;
}

/** `x` varied by ±`rel` (uniform), rounded, at least `min`. */
export function around(rng: Rng, x: number, rel: number, min = 1): number {
  return Math.max(min, Math.round(x * (1 + (rng.float() * 2 - 1) * rel)));
}

/** Evenly spaced event times over [from, to) with uniform jitter of ±`jitter` of the spacing. */
export function spreadTimes(rng: Rng, n: number, from: number, to: number, jitter = 0.4): Float64Array {
  const out = new Float64Array(n);
  const step = (to - from) / Math.max(1, n);
  for (let i = 0; i < n; i++) {
    const t = from + step * (i + 0.5 + (rng.float() * 2 - 1) * jitter * 0.5);
    out[i] = Math.min(to - 1, Math.max(from, Math.floor(t)));
  }
  out.sort();
  return out;
}

/** Most precomputed events one part may hold: bounds memory for extreme parameters. */
export const MAX_EVENTS = 2_000_000;

/**
 * Event times at a steady rate from `from`: one every 1000/`ratePerS` ms with uniform jitter of
 * up to 80 % of the spacing, at most `n`, all before `to`.
 */
export function pacedTimes(rng: Rng, n: number, from: number, to: number, ratePerS: number): Float64Array {
  const step = 1000 / ratePerS;
  const max = Math.min(n, Math.ceil((to - from) / step) + 1);
  const out: number[] = [];
  for (let i = 0; i < max; i++) {
    const t = Math.floor(from + (i + rng.float() * 0.8) * step);
    if (t >= to) break;
    out.push(t);
  }
  return Float64Array.from(out).sort();
}

/** Fisher-Yates shuffle in place. */
export function shuffle<T>(rng: Rng, a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}
