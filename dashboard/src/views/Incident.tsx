/**
 * One incident: its alerts on a timeline, each alert's evidence chain, the involved addresses
 * (pseudonymised where domestic) with country and ASN where the stored records know them, the
 * affected operators and sectors, matching indicators, its state history and the state-change and
 * false-positive actions.
 */
import { useState } from 'preact/hooks';
import { get, post } from '../api.ts';
import { ALPHA2_TO_NAME } from '../data/iso3166.ts';
import { href } from '../router.ts';
import { useLive } from '../state.ts';
import type {
  ApiAlert,
  ApiIncident,
  FalsePositiveResponse,
  Indicator,
  IncidentDetailResponse,
  IncidentState,
  OperatorInfo,
  PageResponse,
} from '../types.ts';
import {
  Card,
  ErrorBox,
  fmtTime,
  SeverityBadge,
  StateBadge,
  Time,
  toMs,
  useResource,
  useThrottled,
} from '../ui.tsx';

const STATES: IncidentState[] = ['new', 'triaged', 'notified', 'mitigated', 'closed'];
/** Addresses looked up for country/ASN (bounded: one records query each). */
const MAX_ADDRESS_LOOKUPS = 20;
/** Margin around the incident's time span in which a record of an address is looked for. */
const LOOKUP_MARGIN_MS = 5 * 60_000;

/** The incident page. */
export function IncidentView(props: { id: string }) {
  const live = useLive();
  const changes = useThrottled(live.changes, 3000);
  const [version, setVersion] = useState(0);
  const detail = useResource(
    () => get<IncidentDetailResponse>(`/api/incidents/${encodeURIComponent(props.id)}`),
    [props.id, changes, version],
  );
  const d = detail.data;
  return (
    <div class="incident">
      <p>
        <a href={href(['incidents'])}>← All incidents</a>
      </p>
      {detail.error !== undefined ? <ErrorBox error={detail.error} title="Incident" /> : null}
      {d === undefined ? (
        detail.loading ? (
          <p>Loading…</p>
        ) : null
      ) : (
        <>
          <header class="incident-head">
            <h2 id="incident-title">{d.incident.summary || d.incident.id}</h2>
            <p class="meta">
              <code>{d.incident.id}</code> <StateBadge state={d.incident.state} />{' '}
              <SeverityBadge severity={d.incident.severity} /> score {d.incident.score.toFixed(2)}
              {d.incident.campaign ? <span class="badge campaign">campaign</span> : null} ·{' '}
              <Time t={d.incident.firstSeen} /> – <Time t={d.incident.lastSeen} /> · detectors{' '}
              {d.incident.detectors.join(', ')}
            </p>
          </header>
          <Transition incident={d.incident} onDone={() => setVersion((v) => v + 1)} />
          <div class="grid">
            <Card title="Timeline" wide>
              <Timeline incident={d.incident} alerts={d.alerts} />
            </Card>
            <Card title="Involved addresses">
              <Addresses incident={d.incident} />
            </Card>
            <Card title="Operators and sectors">
              <Operators incident={d.incident} />
            </Card>
            <Card title="Indicators">
              <Indicators incident={d.incident} />
            </Card>
            <Card title="State history">
              <ol class="history">
                {d.incident.history.length === 0 ? <li>No changes yet.</li> : null}
                {d.incident.history.map((h, i) => (
                  <li key={i}>
                    <Time t={h.at} /> {h.from} → <strong>{h.to}</strong> by {h.actor}: {h.reason}
                  </li>
                ))}
              </ol>
            </Card>
            <Card title={`Evidence chain (${d.alerts.length} alerts)`} wide>
              {d.alerts.map((a) => (
                <AlertEvidence key={a.id} alert={a} onChange={() => setVersion((v) => v + 1)} />
              ))}
            </Card>
          </div>
        </>
      )}
    </div>
  );
}

function Transition(props: { incident: ApiIncident; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState('');
  const go = async (to: IncidentState): Promise<void> => {
    setBusy(true);
    setError(undefined);
    setDone('');
    try {
      await post(`/api/incidents/${encodeURIComponent(props.incident.id)}/transition`, {
        to,
        reason: reason.trim() === '' ? `set to ${to} from the dashboard` : reason.trim(),
      });
      setDone(`State changed to ${to}.`);
      setReason('');
      props.onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="actions" aria-label="Change state">
      <label>
        Reason
        <input
          type="text"
          name="reason"
          value={reason}
          onInput={(e) => setReason(e.currentTarget.value)}
          placeholder="why (recorded in the audit log)"
        />
      </label>
      {STATES.filter((s) => s !== props.incident.state).map((s) => (
        <button key={s} type="button" disabled={busy} data-to={s} onClick={() => void go(s)}>
          {`Mark ${s}`}
        </button>
      ))}
      <div aria-live="polite">
        {done !== '' ? <p class="ok-msg">{done}</p> : null}
        {error !== undefined ? <ErrorBox error={error} title="State change refused" /> : null}
      </div>
    </section>
  );
}

function Timeline(props: { incident: ApiIncident; alerts: ApiAlert[] }) {
  const alerts = [...props.alerts].sort((a, b) => toMs(a.firstSeen) - toMs(b.firstSeen));
  if (alerts.length === 0) return <p>No alerts.</p>;
  const t0 = Math.min(...alerts.map((a) => toMs(a.firstSeen)));
  const t1 = Math.max(...alerts.map((a) => toMs(a.lastSeen)), t0 + 1000);
  const W = 1000;
  const row = 22;
  const labelW = 220;
  const x = (t: number): number => labelW + ((t - t0) / (t1 - t0)) * (W - labelW - 10);
  const h = alerts.length * row + 24;
  return (
    <div class="timeline">
      <svg
        viewBox={`0 0 ${W} ${h}`}
        role="img"
        aria-label={`Timeline of ${alerts.length} alerts from ${fmtTime(t0)} to ${fmtTime(t1)}`}
      >
        {alerts.map((a, i) => {
          const xa = x(toMs(a.firstSeen));
          const xb = Math.max(xa + 3, x(toMs(a.lastSeen)));
          return (
            <g key={a.id}>
              <text x={4} y={i * row + 15} class="tl-label">
                {`${a.detector} ${a.subject}`.slice(0, 34)}
              </text>
              <rect
                x={xa}
                y={i * row + 4}
                width={xb - xa}
                height={row - 8}
                class={`tl-bar sev-fill-${a.severity}`}
              >
                <title>{`${a.detector} ${a.severity}: ${a.summary} (${fmtTime(a.firstSeen)} – ${fmtTime(a.lastSeen)})`}</title>
              </rect>
            </g>
          );
        })}
        <text x={labelW} y={h - 4} class="tl-axis">
          {fmtTime(t0)}
        </text>
        <text x={W - 10} y={h - 4} class="tl-axis" text-anchor="end">
          {fmtTime(t1)}
        </text>
      </svg>
    </div>
  );
}

function AlertEvidence(props: { alert: ApiAlert; onChange: () => void }) {
  const a = props.alert;
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [rule, setRule] = useState('');
  const submit = async (): Promise<void> => {
    setError(undefined);
    try {
      const r = await post<FalsePositiveResponse>(`/api/alerts/${encodeURIComponent(a.id)}/false-positive`, {
        reason: reason.trim(),
      });
      setRule(r.rule.id);
      setAsking(false);
      props.onChange();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <details class="alert" data-alert={a.id}>
      <summary>
        <SeverityBadge severity={a.severity} /> <strong>{a.detector}</strong>{' '}
        <span class="addr">{a.subject}</span> — {a.summary} · <Time t={a.firstSeen} /> · {a.evidenceCount}{' '}
        evidence
        {a.suppressedBy !== undefined ? <span class="badge">suppressed by {a.suppressedBy}</span> : null}
      </summary>
      <div class="alert-body">
        <p>
          Alert <code>{a.id}</code>, score {a.score.toFixed(2)}; counterparts:{' '}
          <span class="addr">{a.counterparts.length === 0 ? 'none' : a.counterparts.join(', ')}</span>
        </p>
        <ol class="evidence">
          {a.evidence.map((e, i) => (
            <li key={i}>
              <p>
                <strong>{e.detector}</strong> v{e.version}, window <Time t={e.window.start} /> –{' '}
                <Time t={e.window.end} />, confidence {e.confidence.toFixed(2)},{' '}
                <SeverityBadge severity={e.severity} />
                {e.counterpart !== undefined ? (
                  <>
                    , counterpart <span class="addr">{e.counterpart}</span>
                  </>
                ) : null}
              </p>
              <table class="facts">
                <tbody>
                  {Object.entries(e.facts).map(([k, v]) => (
                    <tr key={k}>
                      <th scope="row">{k}</th>
                      <td>{String(v)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {e.recordIds.length > 0 ? (
                <p class="records">
                  Records: <code>{e.recordIds.join(' ')}</code>
                </p>
              ) : null}
            </li>
          ))}
        </ol>
        {a.evidenceCount > a.evidence.length ? (
          <p class="muted">
            {a.evidenceCount - a.evidence.length} more evidence items folded in (first and latest kept).
          </p>
        ) : null}
        {rule !== '' ? <p class="ok-msg">Suppression rule {rule} created.</p> : null}
        {asking ? (
          <form
            class="fp"
            onSubmit={(ev) => {
              ev.preventDefault();
              void submit();
            }}
          >
            <label>
              Why is this a false positive?
              <input
                type="text"
                required
                name="fp-reason"
                value={reason}
                onInput={(ev) => setReason(ev.currentTarget.value)}
              />
            </label>
            <button type="submit">Create suppression rule</button>
            <button type="button" class="secondary" onClick={() => setAsking(false)}>
              Cancel
            </button>
          </form>
        ) : (
          <button type="button" class="secondary" onClick={() => setAsking(true)}>
            False positive…
          </button>
        )}
        {error !== undefined ? <ErrorBox error={error} title="False positive refused" /> : null}
      </div>
    </details>
  );
}

interface AddressInfo {
  address: string;
  role: 'subject' | 'counterpart';
  country?: string;
  asn?: number;
  pseudonymised?: boolean;
}

/** Finds one stored record with the address and reads that endpoint's country and ASN. */
async function lookup(address: string, from: number, to: number): Promise<Partial<AddressInfo>> {
  const page = await get<
    PageResponse<{
      fields: Record<string, unknown>;
      source: { country: string; asn: number; pseudonymised: boolean };
      destination: { country: string; asn: number; pseudonymised: boolean };
    }>
  >('/api/records', { from, to, address, limit: 1 });
  const r = page.items[0];
  if (r === undefined) return {};
  const isSource = Object.entries(r.fields).some(([k, v]) => k.startsWith('source') && v === address);
  const ep = isSource ? r.source : r.destination;
  return { country: ep.country, asn: ep.asn, pseudonymised: ep.pseudonymised };
}

function Addresses(props: { incident: ApiIncident }) {
  const inc = props.incident;
  const list: AddressInfo[] = [
    ...inc.subjects.map((a) => ({ address: a, role: 'subject' as const })),
    ...inc.counterparts
      .filter((c) => !inc.subjects.includes(c))
      .map((a) => ({ address: a, role: 'counterpart' as const })),
  ];
  const info = useResource(async () => {
    const from = toMs(inc.firstSeen) - LOOKUP_MARGIN_MS;
    const to = toMs(inc.lastSeen) + LOOKUP_MARGIN_MS;
    return Promise.all(
      list.slice(0, MAX_ADDRESS_LOOKUPS).map(async (a) => {
        try {
          return { ...a, ...(await lookup(a.address.replace(/\/\d+$/, ''), from, to)) };
        } catch {
          return a;
        }
      }),
    );
  }, [inc.id, inc.subjects.join(), inc.counterparts.join()]);
  const rows = info.data ?? list;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Address</th>
          <th scope="col">Role</th>
          <th scope="col">Country</th>
          <th scope="col">ASN</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((a) => (
          <tr key={`${a.role}:${a.address}`} data-address={a.address}>
            <td class="addr">
              <a href={href(['incidents'], { q: a.address })}>{a.address}</a>
              {a.pseudonymised === true ? <span class="badge">pseudonym</span> : null}
            </td>
            <td>{a.role}</td>
            <td>
              {a.country === undefined || a.country === 'ZZ'
                ? '–'
                : `${ALPHA2_TO_NAME[a.country] ?? a.country} (${a.country})`}
            </td>
            <td>{a.asn === undefined || a.asn === 0 ? '–' : `AS${a.asn}`}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Operators(props: { incident: ApiIncident }) {
  const ops = useResource(() => get<{ items: OperatorInfo[] }>('/api/operators'), []);
  const byId = new Map((ops.data?.items ?? []).map((o) => [o.id, o]));
  if (props.incident.operators.length === 0) return <p>No critical-infrastructure operator involved.</p>;
  return (
    <>
      <ul>
        {props.incident.operators.map((id) => {
          const o = byId.get(id);
          return (
            <li key={id}>
              {o?.name ?? id}{' '}
              {o !== undefined ? (
                <span class="muted">
                  ({o.sector}, provider {o.providerId})
                </span>
              ) : null}
            </li>
          );
        })}
      </ul>
      <p>Sectors: {props.incident.sectors.join(', ') || '–'}</p>
    </>
  );
}

function Indicators(props: { incident: ApiIncident }) {
  const ind = useResource(() => get<{ items: Indicator[] }>('/api/indicators'), []);
  const involved = new Set([...props.incident.subjects, ...props.incident.counterparts]);
  const matches = (ind.data?.items ?? []).filter((i) => involved.has(i.value));
  if (ind.error !== undefined) return <ErrorBox error={ind.error} />;
  if (matches.length === 0) return <p>No indicator matches this incident's addresses.</p>;
  return (
    <ul>
      {matches.map((i) => (
        <li key={`${i.type}:${i.value}`}>
          <span class="addr">{i.value}</span> ({i.type}) from {i.source}, confidence {i.confidence}
          {i.validUntil !== null ? (
            <>
              , valid until <Time t={i.validUntil} />
            </>
          ) : null}
        </li>
      ))}
    </ul>
  );
}
