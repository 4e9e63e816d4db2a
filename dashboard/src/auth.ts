/**
 * How the dashboard authenticates: either a bearer token kept in sessionStorage (gone when the tab
 * closes; the demo's `#token=` link), or a session after a user/password login, whose cookie is
 * HttpOnly (the page never sees it). Cookie-authenticated state-changing requests must carry the
 * CSRF token (double submit: the server also set it in the readable `acd_csrf` cookie). Everything
 * that needs credentials goes through these functions.
 */

const KEY = 'acd.token';
const SESSION_KEY = 'acd.session';
const CSRF_COOKIE = 'acd_csrf';

/** The stored token, or undefined when there is none (signed out, or signed in by password). */
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
  sessionStorage.removeItem(SESSION_KEY);
  sessionStorage.setItem(KEY, token.trim());
}

/** Remembers that this tab is signed in by a session cookie, with its CSRF token. */
export function setSession(csrf: string): void {
  sessionStorage.removeItem(KEY);
  sessionStorage.setItem(SESSION_KEY, csrf);
}

/** True when this tab uses a session cookie rather than a token. */
export function hasSession(): boolean {
  try {
    return sessionStorage.getItem(SESSION_KEY) !== null;
  } catch {
    return false;
  }
}

/** True when requests carry credentials (a token or a session). */
export function isSignedIn(): boolean {
  return getToken() !== undefined || hasSession();
}

/** Forgets the credentials of this tab (sign out, or the API answered 401). */
export function clearToken(): void {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(SESSION_KEY);
}

/** The CSRF token: from the readable cookie (double submit), else the one the login returned. */
function csrfToken(): string | undefined {
  const m = new RegExp(`(?:^|;\\s*)${CSRF_COOKIE}=([^;]*)`).exec(document.cookie);
  const fromCookie = m?.[1];
  if (fromCookie !== undefined && fromCookie !== '') return fromCookie;
  return sessionStorage.getItem(SESSION_KEY) ?? undefined;
}

/**
 * Headers that authenticate a request with `method`: the bearer token, or (for a session) the
 * CSRF token on anything but GET/HEAD; the session cookie itself travels by the browser.
 */
export function credentialHeaders(method = 'GET'): Record<string, string> {
  const token = getToken();
  if (token !== undefined) return { authorization: `Bearer ${token}` };
  if (hasSession() && method !== 'GET' && method !== 'HEAD') {
    const csrf = csrfToken();
    if (csrf !== undefined) return { 'x-csrf-token': csrf };
  }
  return {};
}

/** Ends the session on the server (when there is one) and forgets the credentials. */
export async function signOut(): Promise<void> {
  if (hasSession()) {
    try {
      await fetch('/api/session/logout', { method: 'POST', headers: credentialHeaders('POST') });
    } catch {
      // Signed out locally anyway; the session expires on the server.
    }
  }
  clearToken();
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
