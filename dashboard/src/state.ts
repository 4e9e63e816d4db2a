/**
 * Live state shared by the views: the latest totals and per-provider rates from SSE `stats`,
 * a rolling history of them for the charts, and counters of alert and incident events. One
 * SSE connection per page; views subscribe through {@link useLive}.
 */
import { useEffect, useState } from 'preact/hooks';
import type { LiveEvent } from './live.ts';
import type { Severity, Totals } from './types.ts';

/** Points kept per provider in the records/s history (one a second: 15 minutes). */
export const MAX_HISTORY_POINTS = 900;

/** One sample of the rate history. */
export interface RatePoint {
  /** Seconds since the epoch (uPlot's unit). */
  t: number;
  /** Records/s per provider id. */
  rates: Record<string, number>;
  selectionRatio: number;
}

/** The live snapshot. */
export interface LiveState {
  connected: boolean;
  totals: Totals | undefined;
  history: RatePoint[];
  /** Number of `stats` events received (tests watch it move). */
  statsEvents: number;
  /** Alert and incident events per severity since the page opened, by minute (epoch s). */
  alertMinutes: Map<number, Record<Severity, number>>;
  incidentMinutes: Map<number, Record<Severity, number>>;
  /** Incremented on every alert or incident event (views refetch on change). */
  changes: number;
  lastEventId: string;
}

const listeners = new Set<() => void>();

let state: LiveState = {
  connected: false,
  totals: undefined,
  history: [],
  statsEvents: 0,
  alertMinutes: new Map(),
  incidentMinutes: new Map(),
  changes: 0,
  lastEventId: '',
};

function emit(next: LiveState): void {
  state = next;
  for (const l of listeners) l();
}

/** The current snapshot. */
export function liveState(): LiveState {
  return state;
}

/** Marks the connection up or down. */
export function setConnected(connected: boolean): void {
  if (state.connected !== connected) emit({ ...state, connected });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

const SEVERITY_SET = new Set<string>(['low', 'medium', 'high', 'critical']);

function bump(
  map: Map<number, Record<Severity, number>>,
  severity: unknown,
  atMs: number,
): Map<number, Record<Severity, number>> {
  if (typeof severity !== 'string' || !SEVERITY_SET.has(severity)) return map;
  const minute = Math.floor(atMs / 60_000) * 60;
  const next = new Map(map);
  const cur = next.get(minute) ?? { low: 0, medium: 0, high: 0, critical: 0 };
  next.set(minute, { ...cur, [severity]: (cur[severity as Severity] ?? 0) + 1 });
  // Keep two hours of minutes.
  for (const k of next.keys()) if (k < minute - 7200) next.delete(k);
  return next;
}

/** Ids already counted, so that an alert updated again is not counted twice. */
const seenAlerts = new Set<string>();
const seenIncidents = new Set<string>();
const MAX_SEEN = 20_000;

function firstTime(set: Set<string>, id: unknown): boolean {
  if (typeof id !== 'string') return true;
  if (set.has(id)) return false;
  if (set.size >= MAX_SEEN) set.clear();
  set.add(id);
  return true;
}

/** Applies one event of /api/events. */
export function applyEvent(ev: LiveEvent): void {
  const d = ev.data;
  if (!isRecord(d)) return;
  if (ev.type === 'stats') {
    // The totals come nested (`{at, totals, providers}`) or flat (`{...totals, providers}`).
    const t = isRecord(d['totals']) ? d['totals'] : d;
    const totals: Totals = {
      records: num(t['records']),
      recordsPerSecond: num(t['recordsPerSecond']),
      selected: num(t['selected']),
      dropped: num(t['dropped']),
      selectionRatio: num(t['selectionRatio']),
    };
    const rates: Record<string, number> = {};
    const providers = d['providers'];
    if (Array.isArray(providers)) {
      for (const p of providers as unknown[]) {
        if (isRecord(p) && typeof p['id'] === 'string') rates[p['id']] = num(p['recordsPerSecond']);
      }
    }
    const at = typeof d['at'] === 'string' ? Date.parse(d['at']) : NaN;
    const point: RatePoint = {
      t: (Number.isNaN(at) ? Date.now() : at) / 1000,
      rates,
      selectionRatio: totals.selectionRatio,
    };
    const history =
      state.history.length >= MAX_HISTORY_POINTS ? state.history.slice(1) : state.history.slice();
    history.push(point);
    emit({ ...state, totals, history, statsEvents: state.statsEvents + 1, lastEventId: ev.id });
    return;
  }
  if (ev.type === 'alert' || ev.type === 'incident') {
    const isAlert = ev.type === 'alert';
    const first = firstTime(isAlert ? seenAlerts : seenIncidents, d['id']);
    const now = Date.now();
    emit({
      ...state,
      alertMinutes: isAlert && first ? bump(state.alertMinutes, d['severity'], now) : state.alertMinutes,
      incidentMinutes:
        !isAlert && first ? bump(state.incidentMinutes, d['severity'], now) : state.incidentMinutes,
      changes: state.changes + 1,
      lastEventId: ev.id,
    });
  }
}

/** Seeds the rate history with stored per-minute rollups (before live samples arrive). */
export function seedHistory(points: RatePoint[]): void {
  if (state.history.length > 0 && points.length === 0) return;
  const firstLive = state.history[0]?.t ?? Infinity;
  const older = points.filter((p) => p.t < firstLive);
  emit({ ...state, history: [...older, ...state.history].slice(-MAX_HISTORY_POINTS) });
}

/** The live snapshot as a hook. */
export function useLive(): LiveState {
  const [s, setS] = useState(state);
  useEffect(() => {
    const l = (): void => setS(state);
    listeners.add(l);
    l();
    return () => {
      listeners.delete(l);
    };
  }, []);
  return s;
}

/** Registers alert or incident ids already counted from a stored page, so live events of them are not counted again. */
export function markSeen(kind: 'alert' | 'incident', ids: readonly string[]): void {
  for (const id of ids) firstTime(kind === 'alert' ? seenAlerts : seenIncidents, id);
}
