/**
 * Incident list with filters (state, severity, detector, address search) and cursor paging, all
 * carried in the URL so that a filtered view can be shared.
 */
import { useState } from 'preact/hooks';
import { get } from '../api.ts';
import { href, navigate } from '../router.ts';
import type { Route } from '../router.ts';
import { useLive } from '../state.ts';
import type { IncidentSummary, PageResponse } from '../types.ts';
import {
  ErrorBox,
  SeverityBadge,
  StateBadge,
  Time,
  useResource,
  useThrottled,
  EmptyRow,
  Pager,
} from '../ui.tsx';

const STATES = ['new', 'triaged', 'notified', 'mitigated', 'closed'];
const SEVERITIES = ['low', 'medium', 'high', 'critical'];
/** Detector names of DESIGN section 6. */
export const DETECTORS = [
  'scan',
  'beacon',
  'ddos',
  'brute-force',
  'dga',
  'dns-tunnel',
  'exfiltration',
  'long-connection',
  'indicator',
];
const PAGE_SIZE = 50;

/** The filter keys kept in the URL. */
const FILTER_KEYS = ['state', 'severity', 'detector', 'q'] as const;

/** The incident list page. */
export function Incidents(props: { route: Route }) {
  const q = props.route.query;
  const filters = Object.fromEntries(FILTER_KEYS.map((k) => [k, q.get(k) ?? ''])) as Record<
    (typeof FILTER_KEYS)[number],
    string
  >;
  const cursor = q.get('cursor') ?? '';
  const live = useLive();
  // Live refresh only on the first page: later pages would shift under the reader.
  const changes = useThrottled(cursor === '' ? live.changes : 0, 2000);
  const [search, setSearch] = useState(filters.q);

  const page = useResource(
    () =>
      get<PageResponse<IncidentSummary>>('/api/incidents', {
        limit: PAGE_SIZE,
        cursor: cursor === '' ? undefined : cursor,
        state: filters.state,
        severity: filters.severity,
        detector: filters.detector,
        address: filters.q.trim(),
      }),
    [filters.state, filters.severity, filters.detector, filters.q, cursor, changes],
  );

  const setFilter = (key: string, value: string): void => {
    const next: Record<string, string> = { ...filters, [key]: value };
    navigate(href(['incidents'], next), true);
  };

  return (
    <div>
      <form
        class="filters"
        role="search"
        aria-label="Incident filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter('q', search);
        }}
      >
        <label>
          State
          <select
            value={filters.state}
            onChange={(e) => setFilter('state', e.currentTarget.value)}
            name="state"
          >
            <option value="">any</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Severity at least
          <select
            value={filters.severity}
            onChange={(e) => setFilter('severity', e.currentTarget.value)}
            name="severity"
          >
            <option value="">any</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Detector
          <select
            value={filters.detector}
            onChange={(e) => setFilter('detector', e.currentTarget.value)}
            name="detector"
          >
            <option value="">any</option>
            {DETECTORS.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Address
          <input
            type="search"
            name="q"
            value={search}
            placeholder="address or pseudonym"
            onInput={(e) => setSearch(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Search</button>
        <button type="button" class="secondary" onClick={() => navigate(href(['incidents']), true)}>
          Clear
        </button>
      </form>

      {page.error !== undefined ? <ErrorBox error={page.error} title="Incidents" /> : null}
      <table class="incidents" aria-busy={page.loading}>
        <caption class="sr-only">Incidents, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Incident</th>
            <th scope="col">State</th>
            <th scope="col">Severity</th>
            <th scope="col" class="num">
              Score
            </th>
            <th scope="col">Detectors</th>
            <th scope="col">Subjects</th>
            <th scope="col">Operators</th>
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          {(page.data?.items ?? []).map((i) => (
            <tr key={i.id} data-incident={i.id}>
              <th scope="row">
                <a href={href(['incidents', i.id])}>{i.summary || i.id}</a>
                {i.campaign ? <span class="badge campaign">campaign</span> : null}
              </th>
              <td>
                <StateBadge state={i.state} />
              </td>
              <td>
                <SeverityBadge severity={i.severity} />
              </td>
              <td class="num">{i.score.toFixed(2)}</td>
              <td>{i.detectors.join(', ')}</td>
              <td class="addr">
                {i.subjects.slice(0, 3).join(', ') +
                  (i.subjects.length > 3 ? ` +${i.subjects.length - 3}` : '')}
              </td>
              <td>{i.operators.join(', ')}</td>
              <td>
                <Time t={i.lastSeen} />
              </td>
            </tr>
          ))}
          <EmptyRow items={page.data?.items} cols={8}>
            No incidents match.
          </EmptyRow>
        </tbody>
      </table>
      <Pager
        atNewest={cursor === ''}
        next={page.data?.next}
        onNewest={() => navigate(href(['incidents'], filters))}
        onOlder={(next) => navigate(href(['incidents'], { ...filters, cursor: next }))}
      />
    </div>
  );
}
