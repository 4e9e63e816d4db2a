/**
 * The dashboard shell: sign-in when there is no token or session, otherwise the navigation, the live
 * connection and the routed view. A 401 from any request returns to sign-in.
 */
import { useEffect, useState } from 'preact/hooks';
import { get, setUnauthorisedHandler } from './api.ts';
import { clearToken, isSignedIn, signOut } from './auth.ts';
import { openLive } from './live.ts';
import { canDecideCases, hasLiveStream, VIEW_LABELS, viewsFor, type ViewId } from './nav.ts';
import { href, useRoute } from './router.ts';
import { applyEvent, setConnected, useLive } from './state.ts';
import type { Me } from './types.ts';
import { ApprovalView, Approvals } from './views/Approvals.tsx';
import { Audit } from './views/Audit.tsx';
import { IncidentView } from './views/Incident.tsx';
import { Incidents } from './views/Incidents.tsx';
import { MapView } from './views/MapView.tsx';
import { Overview } from './views/Overview.tsx';
import { Retention } from './views/Retention.tsx';
import { SignIn } from './views/SignIn.tsx';

type Theme = 'light' | 'dark';

function systemTheme(): Theme {
  return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** The theme and its toggle; html[data-theme] is set before the state changes, so charts re-created by the change read the new colours. */
function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(() => {
    const saved = localStorage.getItem('acd.theme');
    const initial = saved === 'light' || saved === 'dark' ? saved : systemTheme();
    document.documentElement.dataset['theme'] = initial;
    return initial;
  });
  return [
    theme,
    () => {
      const next = theme === 'dark' ? 'light' : 'dark';
      localStorage.setItem('acd.theme', next);
      document.documentElement.dataset['theme'] = next;
      setTheme(next);
    },
  ];
}

/** The application. */
export function App() {
  const [signedIn, setSignedIn] = useState(isSignedIn());
  const [expired, setExpired] = useState(false);
  const [me, setMe] = useState<Me | undefined>(undefined);
  const [theme, toggleTheme] = useTheme();

  useEffect(() => {
    setUnauthorisedHandler(() => {
      setExpired(true);
      setSignedIn(false);
    });
  }, []);

  useEffect(() => {
    if (!signedIn) return;
    get<Me>('/api/me').then(setMe, () => undefined);
  }, [signedIn]);

  // The event stream only for the roles the server gives it to (analysts, supervisors): others
  // would be refused at every reconnect.
  const role = me?.role;
  useEffect(() => {
    if (!signedIn || !hasLiveStream(role)) return;
    return openLive({
      onEvent: applyEvent,
      onStatus: setConnected,
      onUnauthorised: () => {
        clearToken();
        setExpired(true);
        setSignedIn(false);
      },
    });
  }, [signedIn, role]);

  if (!signedIn) {
    return (
      <SignIn
        expired={expired}
        onSignedIn={(m) => {
          setMe(m);
          setExpired(false);
          setSignedIn(true);
        }}
      />
    );
  }
  return (
    <Shell
      me={me}
      theme={theme}
      toggleTheme={toggleTheme}
      onSignOut={() => void signOut().then(() => setSignedIn(false))}
    />
  );
}

function Shell(props: { me: Me | undefined; theme: Theme; toggleTheme: () => void; onSignOut: () => void }) {
  const route = useRoute();
  const live = useLive();
  const role = props.me?.role;
  const views = viewsFor(role);
  const [first = views[0] ?? 'overview', second] = route.segments;
  const current: ViewId =
    first === 'incidents' ||
    first === 'map' ||
    first === 'approvals' ||
    first === 'audit' ||
    first === 'retention'
      ? first
      : 'overview';
  let view;
  let title;
  if (first === 'approvals' && second !== undefined) {
    view = <ApprovalView id={second} canDecide={canDecideCases(role)} />;
    title = 'Approval case';
  } else if (first === 'approvals') {
    view = <Approvals route={route} canDecide={canDecideCases(role)} />;
    title = 'Approvals';
  } else if (first === 'audit') {
    view = <Audit route={route} />;
    title = 'Audit log';
  } else if (first === 'retention') {
    view = <Retention />;
    title = 'Retention';
  } else if (first === 'incidents' && second !== undefined) {
    view = <IncidentView id={second} />;
    title = 'Incident';
  } else if (first === 'incidents') {
    view = <Incidents route={route} />;
    title = 'Incidents';
  } else if (first === 'map') {
    view = <MapView route={route} />;
    title = 'Origins and top lists';
  } else {
    view = <Overview theme={props.theme} />;
    title = 'Overview';
  }
  useEffect(() => {
    document.title = `${title} · acd`;
  }, [title]);
  const link = (id: ViewId) => (
    <a key={id} href={href([id])} aria-current={current === id ? 'page' : undefined}>
      {VIEW_LABELS[id]}
    </a>
  );
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}
      >
        Skip to content
      </a>
      <header class="top">
        <span class="brand">acd</span>
        <nav aria-label="Views">{views.map(link)}</nav>
        {hasLiveStream(role) || role === undefined ? (
          <span class={`conn ${live.connected ? 'on' : 'off'}`} role="status" data-testid="live-status">
            {live.connected ? 'live' : 'offline'}
          </span>
        ) : null}
        <span class="who">{props.me ? `${props.me.user} (${props.me.role}, ${props.me.purpose})` : ''}</span>
        <button
          type="button"
          class="secondary"
          onClick={props.toggleTheme}
          aria-label={`Switch to ${props.theme === 'dark' ? 'light' : 'dark'} theme`}
        >
          {props.theme === 'dark' ? '☀ Light' : '☾ Dark'}
        </button>
        <button type="button" class="secondary" onClick={props.onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <h1>{title}</h1>
        {view}
      </main>
    </>
  );
}
