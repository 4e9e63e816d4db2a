/**
 * The audit log (issue 8, R-OVS-3): a search form (time range in UTC, exact actor, action prefix)
 * kept in the URL, the entries newest first with cursor paging, and "Verify chain", which asks the
 * centre to check the stored chain against its signed checkpoints and shows the verdict.
 */
import { useState } from 'preact/hooks';
import { searchAudit, verifyAudit } from '../api.ts';
import { utcParam } from '../params.ts';
import { href, navigate, type Route } from '../router.ts';
import type { AuditVerdict } from '../types.ts';
import { ErrorBox, Time, useResource, EmptyRow, Pager } from '../ui.tsx';

const PAGE_SIZE = 100;
const FILTER_KEYS = ['from', 'to', 'actor', 'action'] as const;
type Filters = Record<(typeof FILTER_KEYS)[number], string>;
/** Characters of the entry hash shown (the full hash is in the cell's title). */
const HASH_PREFIX = 12;
/** Characters of the detail JSON shown in the table. */
const DETAIL_CHARS = 80;

function Verdict(props: { v: AuditVerdict }) {
  const v = props.v;
  if (v.ok)
    return (
      <p class="ok-msg" data-testid="verify-verdict">
        Chain intact: {v.checked} entries checked
        {v.checkpoints !== undefined
          ? `, ${v.checkpoints} signed checkpoint${v.checkpoints === 1 ? '' : 's'}`
          : ''}
        , last pinned seq {v.lastCheckpointSeq ?? 'none'}
        {v.uncovered !== undefined && v.uncovered > 0
          ? ` (${v.uncovered} newer entries not pinned by a checkpoint yet)`
          : ''}
        .
      </p>
    );
  return (
    <div class="problem" role="alert" data-testid="verify-verdict">
      <strong>Chain broken ({v.problem?.kind ?? 'unknown'}</strong>
      <strong>{v.problem?.seq !== undefined ? ` at seq ${v.problem.seq}` : ''}):</strong>{' '}
      {v.problem?.message ?? ''} — {v.checked} entries read.
    </div>
  );
}

function VerifyChain() {
  const [busy, setBusy] = useState(false);
  const [verdict, setVerdict] = useState<AuditVerdict | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const run = async (): Promise<void> => {
    setBusy(true);
    setError(undefined);
    setVerdict(undefined);
    try {
      setVerdict(await verifyAudit());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="actions" aria-label="Verify the chain">
      <button type="button" disabled={busy} onClick={() => void run()}>
        {busy ? 'Verifying…' : 'Verify chain'}
      </button>
      <span class="muted">
        Checks every stored entry against its hash, its link and the signed checkpoints (recorded as
        audit.verify).
      </span>
      <div aria-live="polite">
        {verdict !== undefined ? <Verdict v={verdict} /> : null}
        {error !== undefined ? <ErrorBox error={error} title="Verification failed" /> : null}
      </div>
    </section>
  );
}

/** The audit page. */
export function Audit(props: { route: Route }) {
  const q = props.route.query;
  const filters = Object.fromEntries(FILTER_KEYS.map((k) => [k, q.get(k) ?? ''])) as Filters;
  const cursor = q.get('cursor') ?? '';
  const [form, setForm] = useState<Filters>(filters);
  const page = useResource(
    () =>
      searchAudit({
        limit: PAGE_SIZE,
        from: utcParam(filters.from),
        to: utcParam(filters.to),
        actor: filters.actor.trim() || undefined,
        action: filters.action.trim() || undefined,
        cursor: cursor === '' ? undefined : cursor,
      }),
    [filters.from, filters.to, filters.actor, filters.action, cursor],
  );
  const set = (key: keyof Filters) => (e: { currentTarget: HTMLInputElement }) => {
    const value = e.currentTarget.value;
    setForm((f) => ({ ...f, [key]: value }));
  };
  const timeField = (key: 'from' | 'to', label: string) => (
    <label>
      {label}
      <input type="datetime-local" name={key} value={form[key]} onInput={set(key)} />
    </label>
  );
  const textField = (key: 'actor' | 'action', label: string, placeholder: string) => (
    <label>
      {label}
      <input type="search" name={key} value={form[key]} placeholder={placeholder} onInput={set(key)} />
    </label>
  );
  return (
    <div>
      <VerifyChain />
      <form
        class="filters"
        role="search"
        aria-label="Audit search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(href(['audit'], form), true);
        }}
      >
        {timeField('from', 'From (UTC)')}
        {timeField('to', 'To (UTC, exclusive)')}
        {textField('actor', 'Actor', 'user or token id')}
        {textField('action', 'Action starts with', 'case. or GET /api/')}
        <button type="submit">Search</button>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            setForm({ from: '', to: '', actor: '', action: '' });
            navigate(href(['audit']), true);
          }}
        >
          Clear
        </button>
      </form>
      {page.error !== undefined ? <ErrorBox error={page.error} title="Audit search" /> : null}
      <table aria-busy={page.loading}>
        <caption class="sr-only">Audit entries, newest first</caption>
        <thead>
          <tr>
            <th scope="col" class="num">
              Seq
            </th>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Role</th>
            <th scope="col">Purpose</th>
            <th scope="col">Action</th>
            <th scope="col">Objects</th>
            <th scope="col">Detail</th>
            <th scope="col">Hash</th>
          </tr>
        </thead>
        <tbody>
          {(page.data?.items ?? []).map((e) => {
            const detail = JSON.stringify(e.detail);
            return (
              <tr key={e.seq} data-seq={e.seq}>
                <td class="num">{e.seq}</td>
                <td>
                  <Time t={e.at} />
                </td>
                <td>{e.actor}</td>
                <td>{e.role}</td>
                <td>{e.purpose}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td class="addr">
                  {e.objectIds.slice(0, 3).join(', ') +
                    (e.objectIds.length > 3 ? ` +${e.objectIds.length - 3}` : '')}
                </td>
                <td>
                  <code title={detail}>
                    {detail === '{}'
                      ? ''
                      : detail.length > DETAIL_CHARS
                        ? `${detail.slice(0, DETAIL_CHARS)}…`
                        : detail}
                  </code>
                </td>
                <td>
                  <code title={e.hash}>{e.hash.slice(0, HASH_PREFIX)}</code>
                </td>
              </tr>
            );
          })}
          <EmptyRow items={page.data?.items} cols={9}>
            No audit entries match.
          </EmptyRow>
        </tbody>
      </table>
      <Pager
        atNewest={cursor === ''}
        next={page.data?.next}
        onNewest={() => navigate(href(['audit'], filters))}
        onOlder={(next) => navigate(href(['audit'], { ...filters, cursor: next }))}
      />
    </div>
  );
}
