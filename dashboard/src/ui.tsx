/**
 * Small shared pieces: number and time formatting, severity badges, problem boxes, loading of
 * API resources into component state.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { describeError } from './api.ts';
import type { Severity } from './types.ts';

/** Formats counts compactly (1.2k, 3.4M). */
export function fmtNum(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** Formats a ratio as a percentage. */
export function fmtPct(r: number): string {
  return Number.isFinite(r) ? `${(r * 100).toFixed(r < 0.01 ? 3 : 1)} %` : '–';
}

/** Epoch ms of an ISO string or epoch number (NaN when neither). */
export function toMs(t: string | number | null | undefined): number {
  if (t === null || t === undefined) return NaN;
  return typeof t === 'number' ? t : Date.parse(t);
}

/** Formats a time as `YYYY-MM-DD HH:MM:SS` UTC. */
export function fmtTime(t: string | number | null | undefined): string {
  const ms = toMs(t);
  if (Number.isNaN(ms)) return '–';
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** A `<time>` element with UTC text. */
export function Time(props: { t: string | number | null | undefined }) {
  const ms = toMs(props.t);
  if (Number.isNaN(ms)) return <span>–</span>;
  return <time dateTime={new Date(ms).toISOString()}>{fmtTime(ms)}</time>;
}

/** A coloured severity label. */
export function SeverityBadge(props: { severity: Severity }) {
  return <span class={`badge sev-${props.severity}`}>{props.severity}</span>;
}

/** A state label. */
export function StateBadge(props: { state: string }) {
  return <span class={`badge state-${props.state}`}>{props.state}</span>;
}

/** An error from the API, shown with its problem title, detail and code. */
export function ErrorBox(props: { error: unknown; title?: string }) {
  return (
    <div class="problem" role="alert">
      {props.title !== undefined ? <strong>{props.title}: </strong> : null}
      {describeError(props.error)}
    </div>
  );
}

/** A titled card. */
export function Card(props: { title: string; children: ComponentChildren; id?: string; wide?: boolean }) {
  const headingId = `${props.id ?? props.title.replace(/\W+/g, '-').toLowerCase()}-h`;
  return (
    <section class={`card${props.wide === true ? ' wide' : ''}`} aria-labelledby={headingId} id={props.id}>
      <h2 id={headingId}>{props.title}</h2>
      {props.children}
    </section>
  );
}

/** Result of {@link useResource}. */
export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
}

/**
 * Loads `load()` whenever one of `deps` changes; keeps showing the previous data while reloading
 * (live refreshes do not flicker).
 */
export function useResource<T>(load: () => Promise<T>, deps: unknown[]): Resource<T> {
  const [res, setRes] = useState<Resource<T>>({ data: undefined, error: undefined, loading: true });
  useEffect(() => {
    let cancelled = false;
    setRes((r) => ({ ...r, loading: true }));
    load().then(
      (data) => {
        if (!cancelled) setRes({ data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (!cancelled) setRes((r) => ({ data: r.data, error, loading: false }));
      },
    );
    return () => {
      cancelled = true;
    };
  }, deps);
  return res;
}

/** A value that changes at most every `ms` while `value` keeps changing (throttles refetches). */
export function useThrottled<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  const [last, setLast] = useState(0);
  useEffect(() => {
    const wait = Math.max(0, last + ms - Date.now());
    const t = setTimeout(() => {
      setV(value);
      setLast(Date.now());
    }, wait);
    return () => clearTimeout(t);
  }, [value]);
  return v;
}

/** A counter that ticks every `ms` (periodic refresh). */
export function useTick(ms: number): number {
  const [n, setN] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setN((x) => x + 1), ms);
    return () => clearInterval(t);
  }, [ms]);
  return n;
}

/**
 * The "Newest / Older" pager of a cursor-paged list: `atNewest` disables the first button, `next`
 * (the page's `next` cursor; null or undefined at the end) the second.
 */
export function Pager(props: {
  atNewest: boolean;
  next: string | null | undefined;
  onNewest: () => void;
  onOlder: (cursor: string) => void;
  label?: string;
}) {
  const { next } = props;
  return (
    <nav class="pager" aria-label={props.label ?? 'Pages'}>
      <button type="button" disabled={props.atNewest} onClick={props.onNewest}>
        Newest
      </button>
      <button
        type="button"
        disabled={typeof next !== 'string'}
        onClick={() => {
          if (typeof next === 'string') props.onOlder(next);
        }}
      >
        Older
      </button>
    </nav>
  );
}

/** The row a table shows when a loaded page is empty (nothing while loading). */
export function EmptyRow(props: {
  items: readonly unknown[] | undefined;
  cols: number;
  children: ComponentChildren;
}) {
  if (props.items === undefined || props.items.length > 0) return null;
  return (
    <tr>
      <td colSpan={props.cols}>{props.children}</td>
    </tr>
  );
}
