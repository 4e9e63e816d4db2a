/**
 * Approval cases (issue 8, R-OVS-5): the queue — submitted cases first, filters by state and
 * approval kind in the URL, an overdue badge per case and the list of overdue deadlines — and one
 * case with every field of its body, its history, the emergency deadline, the decision and the key
 * ids of its signed approval. The commission inspector approves or rejects with a required
 * reason; everyone else reads.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { decideCase, getCase, listCases, overdueCases } from '../api.ts';
import { href, navigate, type Route } from '../router.ts';
import type { ApiCase, PageResponse } from '../types.ts';
import { Card, ErrorBox, StateBadge, Time, useResource, EmptyRow, Pager } from '../ui.tsx';

/** Approval-case states (src/common/schema/case.ts `CASE_STATES`). */
const STATES = ['draft', 'submitted', 'approved', 'rejected', 'expired', 'revoked'];
/** Approval kinds (src/common/schema/approval.ts `APPROVAL_KINDS`). */
const KINDS = ['acquisition', 'police-measure', 'sdf-measure', 'retention-extension'];
const PAGE_SIZE = 50;
/** Submitted cases listed ahead of the rest on the first page. */
const PENDING_MAX = 100;
const FILTER_KEYS = ['state', 'kind'] as const;

const WHAT: Record<string, string> = {
  'emergency-notification': 'emergency measure not notified',
  'communication-response': 'response to the commission due',
};

/** A label and a value (or a dash) in a fact table. */
function Facts(props: { rows: [string, ComponentChildren][] }) {
  return (
    <table class="facts">
      <tbody>
        {props.rows.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td>{v === undefined || v === null || v === '' ? '–' : v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function OverdueBadge() {
  return <span class="badge bad">overdue</span>;
}

function list(xs: readonly string[] | undefined): string {
  return xs === undefined || xs.length === 0 ? '–' : xs.join(', ');
}

/** The queue: submitted cases first (on the first page without a state filter), then newest first. */
export function Approvals(props: { route: Route; canDecide: boolean }) {
  const q = props.route.query;
  const filters = Object.fromEntries(FILTER_KEYS.map((k) => [k, q.get(k) ?? ''])) as Record<
    (typeof FILTER_KEYS)[number],
    string
  >;
  const cursor = q.get('cursor') ?? '';
  const page = useResource(async (): Promise<PageResponse<ApiCase>> => {
    const base = { kind: filters.kind, state: filters.state, limit: PAGE_SIZE };
    const general = listCases(cursor === '' ? base : { ...base, cursor });
    if (filters.state !== '' || cursor !== '') {
      const g = await general;
      // Within a later page, too, the cases awaiting a decision lead.
      const rank = (c: ApiCase): number => (c.state === 'submitted' ? 0 : 1);
      return { ...g, items: [...g.items].sort((a, b) => rank(a) - rank(b)) };
    }
    const [pending, g] = await Promise.all([
      listCases({ kind: filters.kind, state: 'submitted', limit: PENDING_MAX }),
      general,
    ]);
    const seen = new Set(pending.items.map((c) => c.id));
    return { items: [...pending.items, ...g.items.filter((c) => !seen.has(c.id))], next: g.next };
  }, [filters.state, filters.kind, cursor]);
  const overdue = useResource(overdueCases, []);
  const setFilter = (key: string, value: string): void =>
    navigate(href(['approvals'], { ...filters, [key]: value }), true);

  return (
    <div>
      {overdue.data !== undefined && overdue.data.items.length > 0 ? (
        <section class="problem" aria-label="Overdue deadlines" data-testid="overdue">
          <strong>Overdue ({overdue.data.items.length}):</strong>
          <ul>
            {overdue.data.items.map((o) => (
              <li key={`${o.id}:${o.what}`}>
                <a href={href(['approvals', o.id])}>{o.id}</a>: {WHAT[o.what] ?? o.what}, due{' '}
                <Time t={o.dueAt} />
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {overdue.error !== undefined ? <ErrorBox error={overdue.error} title="Overdue deadlines" /> : null}
      {props.canDecide ? null : (
        <p class="muted">Read-only: approving and rejecting is for the commission inspector.</p>
      )}
      <form class="filters" role="search" aria-label="Case filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          State
          <select
            name="state"
            value={filters.state}
            onChange={(e) => setFilter('state', e.currentTarget.value)}
          >
            <option value="">any (submitted first)</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Kind
          <select name="kind" value={filters.kind} onChange={(e) => setFilter('kind', e.currentTarget.value)}>
            <option value="">any</option>
            {KINDS.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="button" class="secondary" onClick={() => navigate(href(['approvals']), true)}>
          Clear
        </button>
      </form>
      {page.error !== undefined ? <ErrorBox error={page.error} title="Approval cases" /> : null}
      <table aria-busy={page.loading}>
        <caption class="sr-only">Approval cases, submitted first, then newest first</caption>
        <thead>
          <tr>
            <th scope="col">Case</th>
            <th scope="col">Kind</th>
            <th scope="col">State</th>
            <th scope="col">Requester</th>
            <th scope="col">Channel</th>
            <th scope="col">Valid</th>
            <th scope="col">Emergency: notify by</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {(page.data?.items ?? []).map((c) => (
            <tr key={c.id} data-case={c.id}>
              <th scope="row">
                <a href={href(['approvals', c.id])}>{c.case.title || c.id}</a>{' '}
                <code class="muted">{c.id}</code>
              </th>
              <td>{c.case.kind}</td>
              <td>
                <StateBadge state={c.state} />
                {c.overdue ? <OverdueBadge /> : null}
              </td>
              <td>
                {c.case.requester} <span class="muted">({c.case.requesterRole})</span>
              </td>
              <td>{c.case.channel ?? '–'}</td>
              <td>
                <Time t={c.case.validFrom} /> – <Time t={c.case.validUntil} />
              </td>
              <td>{c.case.emergency !== undefined ? <Time t={c.case.emergency.notifyBy} /> : '–'}</td>
              <td>
                <Time t={c.updatedAt} />
              </td>
            </tr>
          ))}
          <EmptyRow items={page.data?.items} cols={8}>
            No approval cases match.
          </EmptyRow>
        </tbody>
      </table>
      <Pager
        atNewest={cursor === ''}
        next={page.data?.next}
        onNewest={() => navigate(href(['approvals'], filters))}
        onOlder={(next) => navigate(href(['approvals'], { ...filters, cursor: next }))}
      />
    </div>
  );
}

/** One approval case. */
export function ApprovalView(props: { id: string; canDecide: boolean }) {
  const [version, setVersion] = useState(0);
  const [updated, setUpdated] = useState<ApiCase | undefined>(undefined);
  const res = useResource(() => getCase(props.id), [props.id, version]);
  // The answer of a decision is the updated case: shown at once, then refetched.
  const c = updated !== undefined && updated.id === props.id ? updated : res.data;
  return (
    <div class="approval">
      <p>
        <a href={href(['approvals'])}>← All approval cases</a>
      </p>
      {res.error !== undefined ? <ErrorBox error={res.error} title="Approval case" /> : null}
      {updated !== undefined && updated.id === props.id ? (
        <p class="ok-msg" role="status">
          Decision recorded: {updated.state}
          {updated.case.signedApproval !== undefined ? ' and signed' : ''}.
        </p>
      ) : null}
      {c === undefined ? (
        res.loading ? (
          <p>Loading…</p>
        ) : null
      ) : (
        <CaseDetail
          c={c}
          canDecide={props.canDecide}
          onDecided={(x) => {
            setUpdated(x);
            setVersion((v) => v + 1);
          }}
        />
      )}
    </div>
  );
}

function CaseDetail(props: { c: ApiCase; canDecide: boolean; onDecided: (c: ApiCase) => void }) {
  const c = props.c;
  const b = c.case;
  const signatures = b.signedApproval?.signatures ?? [];
  const revocations = b.signedRevocation?.signatures ?? [];
  const em = b.emergency;
  return (
    <>
      <header class="incident-head">
        <h2 id="case-title">{b.title || c.id}</h2>
        <p class="meta">
          <code>{c.id}</code>{' '}
          <span data-testid="case-state">
            <StateBadge state={c.state} />
          </span>
          {c.overdue ? <OverdueBadge /> : null} · {b.kind}
          {b.channel !== undefined ? ` · ${b.channel}` : ''} · created <Time t={c.createdAt} /> · updated{' '}
          <Time t={c.updatedAt} />
        </p>
      </header>
      {props.canDecide && c.state === 'submitted' ? <Decide id={c.id} onDone={props.onDecided} /> : null}
      <div class="grid">
        <Card title="Request" id="case-request">
          <Facts
            rows={[
              ['Kind', b.kind],
              ['Title', b.title],
              ['Justification', b.justification],
              ['Requester', `${b.requester} (${b.requesterRole})`],
              ['Channel', b.channel],
              ['Providers', list(b.providers)],
              ['Feeds', list(b.feeds)],
              ['Target acts', list(b.targetActs)],
              ['Targets', list(b.targets)],
              [
                'Valid',
                <>
                  <Time t={b.validFrom} /> – <Time t={b.validUntil} />
                </>,
              ],
              ['Legal parameters', b.parameterVersion],
            ]}
          />
        </Card>
        <Card title={`Selectors (${b.selectors.length})`} id="case-selectors">
          <ul>
            {b.selectors.map((s) => (
              <li key={s.id}>
                <strong>{s.kind}</strong> <code>{s.id}</code>
                {s.description !== undefined ? ` — ${s.description}` : ''}
                <SelectorDetail s={s} />
              </li>
            ))}
          </ul>
        </Card>
        {em !== undefined ? (
          <Card title="Emergency measure" id="case-emergency">
            <Facts
              rows={[
                ['Acted at', <Time t={em.actedAt} />],
                [
                  'Notify the commission by',
                  <>
                    <Time t={em.notifyBy} />
                    {em.notifiedAt === undefined && c.overdue ? <OverdueBadge /> : null}
                  </>,
                ],
                ['Notified at', em.notifiedAt !== undefined ? <Time t={em.notifiedAt} /> : 'not yet'],
              ]}
            />
          </Card>
        ) : null}
        {b.retentionHolds !== undefined ? (
          <Card title="Retention holds" id="case-holds">
            <Facts
              rows={[
                ['Incidents', list(b.retentionHolds.incidentIds)],
                ['Days', list(b.retentionHolds.days)],
              ]}
            />
          </Card>
        ) : null}
        <Card title="History" id="case-history">
          <ol class="history">
            {b.history.length === 0 ? <li>No changes yet.</li> : null}
            {b.history.map((h, i) => (
              <li key={i}>
                <Time t={h.at} /> {h.from ?? 'new'} → <strong>{h.to}</strong> by {h.actor} ({h.role}):{' '}
                {h.reason}
              </li>
            ))}
          </ol>
        </Card>
        <Card title="Decision and signatures" id="case-decision">
          <Facts
            rows={[
              [
                'Decision',
                b.decision !== undefined ? (
                  <>
                    <Time t={b.decision.at} /> by {b.decision.by}: {b.decision.reason}
                  </>
                ) : (
                  'none yet'
                ),
              ],
              [
                'Signed approval',
                signatures.length === 0 ? (
                  'not signed'
                ) : (
                  <span data-testid="approval-key-ids">
                    issued <Time t={b.signedApproval?.payload.issuedAt} /> by key
                    {signatures.length > 1 ? 's' : ''} {signatures.map((s) => s.keyId).join(', ')}
                  </span>
                ),
              ],
              [
                'Signed revocation',
                revocations.length === 0 ? '–' : `by key ${revocations.map((s) => s.keyId).join(', ')}`,
              ],
            ]}
          />
        </Card>
      </div>
    </>
  );
}

type AnySelector = ApiCase['case']['selectors'][number];

function SelectorDetail(props: { s: AnySelector }) {
  const s = props.s;
  const rows: [string, string][] = [];
  if (s.kind === 'indicator-list') {
    if (s.listRef !== undefined) rows.push(['list', s.listRef]);
    if (s.values !== undefined) rows.push(['values', s.values.join(', ')]);
  } else if (s.kind === 'target-act') {
    if (s.protocol !== undefined) rows.push(['protocol', String(s.protocol)]);
    if (s.ports !== undefined)
      rows.push([
        'ports',
        s.ports.map((p) => (typeof p === 'number' ? String(p) : `${p.from}-${p.to}`)).join(', '),
      ]);
    if (s.tcpFlags !== undefined)
      rows.push(['TCP flags', `mask 0x${s.tcpFlags.mask.toString(16)} = 0x${s.tcpFlags.value.toString(16)}`]);
    if (s.direction !== undefined) rows.push(['direction', s.direction]);
    if (s.indicatorPatterns !== undefined) rows.push(['patterns', s.indicatorPatterns.join(', ')]);
  }
  if (rows.length === 0) return null;
  return <Facts rows={rows.map(([k, v]) => [k, <span class="addr">{v}</span>])} />;
}

function Decide(props: { id: string; onDone: (c: ApiCase) => void }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState('');
  const go = async (decision: 'approve' | 'reject'): Promise<void> => {
    if (reason.trim() === '') return;
    setBusy(true);
    setError(undefined);
    setDone('');
    try {
      const updated = await decideCase(props.id, decision, reason.trim());
      setDone(decision === 'approve' ? 'Approved and signed.' : 'Rejected.');
      setReason('');
      props.onDone(updated);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const empty = reason.trim() === '';
  return (
    <form
      class="actions"
      aria-label="Decide"
      onSubmit={(e) => {
        e.preventDefault();
        void go('approve');
      }}
    >
      <label>
        Reason (required, recorded with the decision)
        <input
          type="text"
          name="decision-reason"
          required
          size={60}
          value={reason}
          onInput={(e) => setReason(e.currentTarget.value)}
        />
      </label>
      <button type="submit" disabled={busy || empty} data-decision="approve">
        Approve and sign
      </button>
      <button
        type="button"
        class="secondary"
        disabled={busy || empty}
        data-decision="reject"
        onClick={() => void go('reject')}
      >
        Reject
      </button>
      <div aria-live="polite">
        {done !== '' ? <p class="ok-msg">{done}</p> : null}
        {error !== undefined ? <ErrorBox error={error} title="Decision refused" /> : null}
      </div>
    </form>
  );
}
