/**
 * Checking scenario parameters: the common ones (start, duration, intensity, sources, targets)
 * and each scenario's `extra` against its documented `ParamDoc` list. Unknown `extra` keys are
 * refused so that a typo (`perod=30s`) does not silently run the default.
 */
import { formatAddress, tryParseAddress } from '../../common/prefixes/index.ts';
import type { ParamDoc, ScenarioParams } from '../traffic/types.ts';
import { ScenarioParamError } from './errors.ts';

/** Longest scenario accepted: a week of event time is more than any exercise needs. */
export const MAX_DURATION_MS = 7 * 24 * 3600 * 1000;
/** Largest intensity: rates scale linearly with it, and 1000× the defaults is already a flood. */
export const MAX_INTENSITY = 1000;
/** Most explicit sources or targets accepted: bounds the per-record work of picking one. */
export const MAX_ADDRESSES = 100_000;
/** Event times must be representable as `Date` and positive. */
const MAX_TIME_MS = 8.64e15;

/** Common parameters after checking, with canonical address text. */
export interface CheckedParams {
  start: number;
  end: number;
  durationMs: number;
  intensity: number;
  sources: string[] | undefined;
  targets: string[] | undefined;
}

function checkAddresses(key: string, list: string[] | undefined): string[] | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) throw new ScenarioParamError(key, 'must be a list of addresses');
  if (list.length === 0) return undefined;
  if (list.length > MAX_ADDRESSES) throw new ScenarioParamError(key, `more than ${MAX_ADDRESSES} addresses`);
  return list.map((a, i) => {
    const p = typeof a === 'string' ? tryParseAddress(a.trim()) : undefined;
    if (!p) throw new ScenarioParamError(`${key}.${i}`, `not an IPv4 or IPv6 address: ${String(a)}`);
    return formatAddress(p);
  });
}

/** Checks the common parameters (throws `ScenarioParamError` naming the key). */
export function checkCommon(p: ScenarioParams): CheckedParams {
  if (typeof p !== 'object' || p === null) throw new ScenarioParamError('(params)', 'missing');
  const { start, durationMs, intensity } = p;
  if (typeof start !== 'number' || !Number.isFinite(start) || start < 0 || start > MAX_TIME_MS)
    throw new ScenarioParamError('start', 'must be an epoch time in milliseconds');
  if (
    typeof durationMs !== 'number' ||
    !Number.isFinite(durationMs) ||
    durationMs < 1 ||
    durationMs > MAX_DURATION_MS
  )
    throw new ScenarioParamError('durationMs', `must be between 1 ms and ${MAX_DURATION_MS} ms`);
  if (
    typeof intensity !== 'number' ||
    !Number.isFinite(intensity) ||
    intensity <= 0 ||
    intensity > MAX_INTENSITY
  )
    throw new ScenarioParamError('intensity', `must be above 0 and at most ${MAX_INTENSITY}`);
  const s = Math.floor(start);
  return {
    start: s,
    durationMs: Math.floor(durationMs),
    end: s + Math.floor(durationMs),
    intensity,
    sources: checkAddresses('sources', p.sources),
    targets: checkAddresses('targets', p.targets),
  };
}

/** Parses a duration: a number of seconds, or text `500ms`, `30s`, `5m`, `2h`, `1d`. */
export function parseDurationMs(v: string | number | boolean): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v * 1000 : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 's'] ?? 1000;
  return n * unit;
}

/** Reads a scenario's `extra` parameters against its documentation. */
export class Extra {
  private readonly values: Record<string, string | number | boolean>;
  private readonly docs: Map<string, ParamDoc>;

  constructor(extra: Record<string, string | number | boolean> | undefined, docs: readonly ParamDoc[]) {
    this.values = extra ?? {};
    if (typeof this.values !== 'object' || this.values === null)
      throw new ScenarioParamError('extra', 'must be an object');
    this.docs = new Map(docs.map((d) => [d.name, d]));
    for (const k of Object.keys(this.values))
      if (!this.docs.has(k))
        throw new ScenarioParamError(
          `extra.${k}`,
          `unknown parameter (known: ${[...this.docs.keys()].join(', ')})`,
        );
  }

  private raw(name: string): string | number | boolean {
    const v = this.values[name];
    if (v !== undefined) return v;
    const d = this.docs.get(name);
    if (!d) throw new ScenarioParamError(`extra.${name}`, 'not documented');
    return d.default;
  }

  /** A number within [min, max] (integers only when `integer`). */
  num(name: string, min: number, max: number, integer = false): number {
    const v = this.raw(name);
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
      throw new ScenarioParamError(
        `extra.${name}`,
        `must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}]`,
      );
    return n;
  }

  /** A duration in ms within [minMs, maxMs]. */
  duration(name: string, minMs: number, maxMs: number): number {
    const ms = parseDurationMs(this.raw(name));
    if (ms === undefined || ms < minMs || ms > maxMs)
      throw new ScenarioParamError(`extra.${name}`, `must be a duration between ${minMs} ms and ${maxMs} ms`);
    return Math.round(ms);
  }

  /** One of `allowed`. */
  choice<T extends string>(name: string, allowed: readonly T[]): T {
    const v = this.raw(name);
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
      throw new ScenarioParamError(`extra.${name}`, `must be one of ${allowed.join('|')}`);
    return v as T;
  }

  /** A boolean (also `true`/`false`/`1`/`0` as text, as a command line gives them). */
  bool(name: string): boolean {
    const v = this.raw(name);
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === '1' || v === 1) return true;
    if (v === 'false' || v === '0' || v === 0) return false;
    throw new ScenarioParamError(`extra.${name}`, 'must be true or false');
  }

  /** A string matching `pattern`. */
  text(name: string, pattern: RegExp): string {
    const v = this.raw(name);
    if (typeof v !== 'string' || !pattern.test(v))
      throw new ScenarioParamError(`extra.${name}`, `must match ${String(pattern)}`);
    return v;
  }

  /** A comma-separated list of ports (or a number). */
  ports(name: string): number[] {
    const v = this.raw(name);
    const parts = typeof v === 'number' ? [String(v)] : typeof v === 'string' ? v.split(',') : [];
    const out: number[] = [];
    for (const p of parts) {
      const r = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(p);
      const a = r ? Number(r[1]) : NaN;
      const b = r?.[2] !== undefined ? Number(r[2]) : a;
      if (
        !Number.isInteger(a) ||
        !Number.isInteger(b) ||
        a < 1 ||
        b > 65535 ||
        b < a ||
        out.length + b - a > 65535
      )
        throw new ScenarioParamError(
          `extra.${name}`,
          'must be ports or port ranges 1-65535, comma-separated',
        );
      for (let x = a; x <= b; x++) out.push(x);
    }
    if (out.length === 0) throw new ScenarioParamError(`extra.${name}`, 'no ports');
    return [...new Set(out)];
  }
}
