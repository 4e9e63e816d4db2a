/**
 * Where the dashboard keeps its bearer token: sessionStorage (gone when the tab closes). Issue 8
 * replaces the sign-in view with a real login; everything that needs the token goes through these
 * functions, so only this module and the sign-in view change then.
 */

const KEY = 'acd.token';

/** The stored token, or undefined when the user must sign in. */
export function getToken(): string | undefined {
  try {
    const t = sessionStorage.getItem(KEY);
    return t === null || t === '' ? undefined : t;
  } catch {
    return undefined;
  }
}

/** Stores the token for this tab. */
export function setToken(token: string): void {
  sessionStorage.setItem(KEY, token.trim());
}

/** Forgets the token (sign out, or the API answered 401). */
export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}

/**
 * Takes a `token=…` parameter from the URL fragment once (a demo convenience: the CLI prints a
 * link carrying it), stores it and removes it from the address bar and the history entry.
 */
export function adoptTokenFromUrl(): void {
  const hash = window.location.hash;
  const m = /(?:^#|[?&#])token=([^&]*)/.exec(hash);
  if (m === null) return;
  const token = decodeURIComponent(m[1] ?? '');
  if (token !== '') setToken(token);
  let rest = hash.replace(/([?&#])token=[^&]*&?/, '$1').replace(/[?&]$/, '');
  if (rest === '#' || rest === '') rest = '#/';
  window.history.replaceState(null, '', window.location.pathname + window.location.search + rest);
}
