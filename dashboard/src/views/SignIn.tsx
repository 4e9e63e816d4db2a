/**
 * Sign-in view: asks for the bearer token (the demo prints it at start-up) and checks it with
 * /api/me before storing it. Issue 8 replaces this with a real login.
 */
import { useState } from 'preact/hooks';
import { ApiError } from '../api.ts';
import { clearToken, setToken } from '../auth.ts';
import type { Me } from '../types.ts';
import { ErrorBox } from '../ui.tsx';

/** The sign-in form; `onSignedIn` receives who the token belongs to. */
export function SignIn(props: { onSignedIn: (me: Me) => void; expired: boolean }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      const res = await fetch('/api/me', {
        headers: { authorization: `Bearer ${value.trim()}`, accept: 'application/json' },
      });
      if (!res.ok) {
        const body: unknown = await res.json().catch(() => ({}));
        const p = typeof body === 'object' && body !== null ? (body as Record<string, string>) : {};
        throw new ApiError(res.status, {
          status: res.status,
          title: p['title'] ?? res.statusText,
          detail: p['detail'],
          code: p['code'],
        });
      }
      setToken(value);
      props.onSignedIn((await res.json()) as Me);
    } catch (err) {
      clearToken();
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin" id="main">
      <h1>acd — national centre</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {props.expired ? (
          <p role="status">Your session ended or the token was refused; please sign in again.</p>
        ) : null}
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
        {error !== undefined ? <ErrorBox error={error} title="Sign-in failed" /> : null}
      </form>
    </main>
  );
}
