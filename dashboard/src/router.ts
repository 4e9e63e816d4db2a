/**
 * Hash routing: `#/overview`, `#/incidents?state=new&severity=high&q=…`, `#/incidents/<id>`,
 * `#/map?range=24h`. Filters live in the fragment's query string so that a URL is a shareable view.
 */
import { useEffect, useState } from 'preact/hooks';

/** A parsed location. */
export interface Route {
  /** Path segments after `#/`, decoded (`['incidents', 'inc-1']`). */
  segments: string[];
  query: URLSearchParams;
}

/** Parses a location fragment. */
export function parseHash(hash: string): Route {
  const h = hash.startsWith('#') ? hash.slice(1) : hash;
  const q = h.indexOf('?');
  const path = q === -1 ? h : h.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : h.slice(q + 1));
  const segments = path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  return { segments, query };
}

/** Builds a fragment from segments and query values (empty values left out). */
export function href(segments: string[], query: Record<string, string | undefined> = {}): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') qs.set(k, v);
  const s = qs.toString();
  return `#/${segments.map(encodeURIComponent).join('/')}${s === '' ? '' : `?${s}`}`;
}

/** Navigates (adds a history entry unless `replace`). */
export function navigate(to: string, replace = false): void {
  if (replace) {
    window.history.replaceState(null, '', to);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    window.location.hash = to;
  }
}

/** The current route, re-rendered on every hash change. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const on = (): void => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
