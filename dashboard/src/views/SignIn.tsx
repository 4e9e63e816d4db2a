/**
 * Sign-in view: an access token (the demo prints one at start-up, checked with /api/me before it is
 * stored) or a user name and password (POST /api/session/login: the server sets an HttpOnly session
 * cookie and returns the CSRF token). Both forms are plain forms, reachable with the keyboard.
 */
import { useState } from 'preact/hooks';
import { ApiError } from '../api.ts';
import { clearToken, setSession, setToken } from '../auth.ts';
import type { Me } from '../types.ts';
import { ErrorBox } from '../ui.tsx';

async function problemOf(res: Response): Promise<ApiError> {
  const body: unknown = await res.json().catch(() => ({}));
  const p = typeof body === 'object' && body !== null ? (body as Record<string, string>) : {};
  return new ApiError(res.status, {
    status: res.status,
    title: p['title'] ?? res.statusText,
    detail: p['detail'],
    code: p['code'],
  });
}

/** The sign-in forms; `onSignedIn` receives who signed in. */
export function SignIn(props: { onSignedIn: (me: Me) => void; expired: boolean }) {
  const [value, setValue] = useState('');
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const run = async (attempt: () => Promise<Me>): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      props.onSignedIn(await attempt());
    } catch (err) {
      clearToken();
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const withToken = async (): Promise<Me> => {
    const res = await fetch('/api/me', {
      headers: { authorization: `Bearer ${value.trim()}`, accept: 'application/json' },
    });
    if (!res.ok) throw await problemOf(res);
    setToken(value);
    return (await res.json()) as Me;
  };

  const withPassword = async (): Promise<Me> => {
    const res = await fetch('/api/session/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ user: user.trim(), password }),
    });
    if (!res.ok) throw await problemOf(res);
    const me = (await res.json()) as Me & { csrf: string };
    setPassword('');
    setSession(me.csrf);
    return { user: me.user, role: me.role, purpose: me.purpose };
  };

  return (
    <main class="signin" id="main">
      <h1>acd — national centre</h1>
      {props.expired ? (
        <p role="status">Your session ended or the token was refused; please sign in again.</p>
      ) : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run(withToken);
        }}
      >
        <label for="token">Access token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          required
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
          autoFocus
        />
        <p class="muted">
          The demo prints its token at start-up (or set ACD_DEMO_TOKEN). It is kept for this tab only.
        </p>
        <button type="submit" disabled={busy || value.trim() === ''}>
          Sign in
        </button>
      </form>
      <form
        class="signin-password"
        aria-labelledby="signin-password-title"
        onSubmit={(e) => {
          e.preventDefault();
          void run(withPassword);
        }}
      >
        <h2 id="signin-password-title">Or log in with your account</h2>
        <label for="user">User</label>
        <input
          id="user"
          name="username"
          autoComplete="username"
          required
          value={user}
          onInput={(e) => setUser(e.currentTarget.value)}
        />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy || user.trim() === '' || password === ''}>
          Log in
        </button>
      </form>
      {error !== undefined ? <ErrorBox error={error} title="Sign-in failed" /> : null}
    </main>
  );
}
