/**
 * Overview: live records/s per provider, selection ratio, alerts and incidents by severity over
 * time, detector activity, provider and exporter health.
 */
import { useEffect, useMemo } from 'preact/hooks';
import { get } from '../api.ts';
import { TimeChart } from '../chart.tsx';
import type { ChartSeries } from '../chart.tsx';
import { href } from '../router.ts';
import { markSeen, seedHistory, useLive } from '../state.ts';
import type { RatePoint } from '../state.ts';
import type {
  ApiAlert,
  IncidentSummary,
  Overview as OverviewData,
  PageResponse,
  SeriesResponse,
  Severity,
} from '../types.ts';
import {
  Card,
  ErrorBox,
  fmtNum,
  fmtPct,
  SeverityBadge,
  Time,
  toMs,
  useResource,
  useThrottled,
  useTick,
} from '../ui.tsx';

const SEVERITIES: Severity[] = ['low', 'medium', 'high', 'critical'];
const PROVIDER_COLOURS = ['var(--c1)', 'var(--c2)', 'var(--c3)', 'var(--c4)', 'var(--c5)', 'var(--c6)'];
/** How far back the charts reach. */
const WINDOW_MS = 60 * 60_000;

type Buckets = Map<number, Record<Severity, number>>;

function bucketBySeverity(items: { id: string; severity: Severity; firstSeen: string }[]): Buckets {
  const m: Buckets = new Map();
  for (const it of items) {
    const ms = toMs(it.firstSeen);
    if (Number.isNaN(ms)) continue;
    const minute = Math.floor(ms / 60_000) * 60;
    const cur = m.get(minute) ?? { low: 0, medium: 0, high: 0, critical: 0 };
    cur[it.severity] = (cur[it.severity] ?? 0) + 1;
    m.set(minute, cur);
  }
  return m;
}

/** Per-minute counts over the chart window, zero-filled so that quiet minutes show as zero. */
function severityData(stored: Buckets | undefined, live: Buckets, nowMs: number): (number | null)[][] {
  const merged: Buckets = new Map();
  for (const src of [stored ?? new Map<number, Record<Severity, number>>(), live]) {
    for (const [k, v] of src) {
      const cur = merged.get(k) ?? { low: 0, medium: 0, high: 0, critical: 0 };
      for (const s of SEVERITIES) cur[s] += v[s];
      merged.set(k, cur);
    }
  }
  const last = Math.floor(nowMs / 60_000) * 60;
  const times: number[] = [];
  for (let t = last - WINDOW_MS / 1000; t <= last; t += 60) times.push(t);
  return [times, ...SEVERITIES.map((s) => times.map((t) => merged.get(t)?.[s] ?? 0))];
}

const SEVERITY_SERIES: ChartSeries[] = SEVERITIES.map((s) => ({
  label: s,
  color: `var(--sev-${s})`,
  stepped: true,
}));

/** The overview page. */
export function Overview(props: { theme: string }) {
  const live = useLive();
  const tick = useTick(10_000);
  const changes = useThrottled(live.changes, 2000);
  const overview = useResource(() => get<OverviewData>('/api/overview'), [tick, changes]);

  // Stored history: rollups for the rate chart; alerts and incidents of the last hour.
  const history = useResource(async () => {
    const from = Date.now() - WINDOW_MS;
    const [series, alerts, incidents] = await Promise.all([
      get<SeriesResponse>('/api/stats/series', { step: '1m', from, to: Date.now() }),
      get<PageResponse<ApiAlert>>('/api/alerts', { since: from, limit: 1000 }),
      get<PageResponse<IncidentSummary>>('/api/incidents', { since: from, limit: 1000 }),
    ]);
    markSeen(
      'alert',
      alerts.items.map((a) => a.id),
    );
    markSeen(
      'incident',
      incidents.items.map((i) => i.id),
    );
    return { series, alerts: bucketBySeverity(alerts.items), incidents: bucketBySeverity(incidents.items) };
  }, []);

  useEffect(() => {
    const items = history.data?.series.items;
    if (items === undefined) return;
    const byT = new Map<number, RatePoint>();
    for (const it of items) {
      // '*' rows carry the alert counts, not a provider's records.
      if (it.providerId === '*') continue;
      const t = toMs(it.t) / 1000;
      if (Number.isNaN(t)) continue;
      const p = byT.get(t) ?? { t, rates: {}, selectionRatio: NaN };
      p.rates[it.providerId] = (p.rates[it.providerId] ?? 0) + it.records / 60;
      byT.set(t, p);
    }
    seedHistory([...byT.values()].sort((a, b) => a.t - b.t));
  }, [history.data]);

  const providers = useMemo(() => {
    const ids = new Set<string>();
    for (const p of overview.data?.providers ?? []) ids.add(p.id);
    for (const h of live.history) for (const id of Object.keys(h.rates)) ids.add(id);
    return [...ids].sort();
  }, [overview.data, live.history]);
  const names = new Map((overview.data?.providers ?? []).map((p) => [p.id, p.name]));

  const rateSeries: ChartSeries[] = providers.map((id, i) => ({
    label: names.get(id) ?? id,
    color: PROVIDER_COLOURS[i % PROVIDER_COLOURS.length] ?? 'var(--c1)',
  }));
  const rateData = useMemo(
    () => [
      live.history.map((h) => h.t),
      ...providers.map((id) => live.history.map((h) => h.rates[id] ?? null)),
    ],
    [live.history, providers],
  );
  const ratioData = useMemo(() => {
    const pts = live.history.filter((h) => !Number.isNaN(h.selectionRatio));
    return [pts.map((h) => h.t), pts.map((h) => h.selectionRatio * 100)];
  }, [live.history]);
  const alertData = useMemo(
    () => severityData(history.data?.alerts, live.alertMinutes, Date.now()),
    [history.data, live.alertMinutes, tick],
  );
  const incidentData = useMemo(
    () => severityData(history.data?.incidents, live.incidentMinutes, Date.now()),
    [history.data, live.incidentMinutes, tick],
  );

  const totals = live.totals ?? overview.data?.totals;
  const ov = overview.data;

  return (
    <div class="grid">
      {overview.error !== undefined ? <ErrorBox error={overview.error} title="Overview" /> : null}
      <section class="tiles wide" aria-label="Totals">
        <div class="tile">
          <span class="tile-label">Records/s</span>
          <span class="tile-value" data-testid="records-per-second">
            {totals ? fmtNum(totals.recordsPerSecond) : '–'}
          </span>
        </div>
        <div class="tile">
          <span class="tile-label">Records</span>
          <span class="tile-value" data-testid="records-total">
            {totals ? fmtNum(totals.records) : '–'}
          </span>
        </div>
        <div class="tile">
          <span class="tile-label">Selection ratio</span>
          <span class="tile-value" data-testid="selection-ratio">
            {totals ? fmtPct(totals.selectionRatio) : '–'}
          </span>
        </div>
        <div class="tile">
          <span class="tile-label">Dropped</span>
          <span class="tile-value">{totals ? fmtNum(totals.dropped) : '–'}</span>
        </div>
        <div class="tile">
          <span class="tile-label">Open incidents</span>
          <span class="tile-value" data-testid="open-incidents">
            {ov
              ? fmtNum(ov.incidentsByState.new + ov.incidentsByState.triaged + ov.incidentsByState.notified)
              : '–'}
          </span>
        </div>
        <div class="tile">
          <span class="tile-label">Live updates</span>
          <span class="tile-value" data-testid="stats-events">
            {live.statsEvents}
          </span>
        </div>
      </section>

      <Card title="Records per second by provider" wide>
        <TimeChart
          title="Records per second by provider"
          series={rateSeries}
          data={rateData}
          theme={props.theme}
          yFormat={fmtNum}
        />
      </Card>
      <Card title="Selection ratio (%)">
        <TimeChart
          title="Selection ratio in percent"
          series={[{ label: 'selected %', color: 'var(--c2)' }]}
          data={ratioData}
          height={160}
          theme={props.theme}
        />
      </Card>
      <Card title="Alerts per minute by severity">
        <TimeChart
          title="Alerts per minute by severity"
          series={SEVERITY_SERIES}
          data={alertData}
          height={160}
          theme={props.theme}
        />
        {ov ? <SeverityCounts counts={ov.alertsBySeverity} label="alerts" /> : null}
      </Card>
      <Card title="New incidents per minute by severity">
        <TimeChart
          title="New incidents per minute by severity"
          series={SEVERITY_SERIES}
          data={incidentData}
          height={160}
          theme={props.theme}
        />
        {ov ? <SeverityCounts counts={ov.incidentsBySeverity} label="incidents" /> : null}
      </Card>

      <Card title="Detector activity">
        <table>
          <thead>
            <tr>
              <th scope="col">Detector</th>
              <th scope="col" class="num">
                Evidence
              </th>
              <th scope="col" class="num">
                Alerts
              </th>
              <th scope="col">Last alert</th>
            </tr>
          </thead>
          <tbody>
            {(ov?.detectors ?? []).map((d) => (
              <tr key={d.name}>
                <th scope="row">
                  <a href={href(['incidents'], { detector: d.name })}>{d.name}</a>
                </th>
                <td class="num">{fmtNum(d.evidence)}</td>
                <td class="num">{fmtNum(d.alerts)}</td>
                <td>
                  <Time t={d.lastAlertAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>

      <Card title="Providers and exporters" wide>
        <table>
          <thead>
            <tr>
              <th scope="col">Provider</th>
              <th scope="col">Exporter</th>
              <th scope="col">Domain</th>
              <th scope="col">Health</th>
              <th scope="col" class="num">
                Loss
              </th>
              <th scope="col" class="num">
                Templates
              </th>
              <th scope="col">Last seen</th>
              <th scope="col" class="num">
                Records/s
              </th>
            </tr>
          </thead>
          <tbody>
            {(ov?.providers ?? []).flatMap((p) => {
              const rate = live.history.at(-1)?.rates[p.id] ?? p.recordsPerSecond;
              if (p.exporters.length === 0) {
                return [
                  <tr key={p.id}>
                    <th scope="row">{p.name}</th>
                    <td colSpan={6}>no exporter seen</td>
                    <td class="num">{fmtNum(rate)}</td>
                  </tr>,
                ];
              }
              return p.exporters.map((e, i) => (
                <tr key={`${p.id}/${e.id}`}>
                  {i === 0 ? (
                    <th scope="row" rowSpan={p.exporters.length}>
                      {p.name}
                    </th>
                  ) : null}
                  <td>{e.address}</td>
                  <td>{e.observationDomainId}</td>
                  <td>
                    <span class={`badge ${e.healthy ? 'ok' : 'bad'}`}>
                      {e.healthy ? 'healthy' : 'unhealthy'}
                    </span>
                  </td>
                  <td class="num">{fmtPct(e.loss)}</td>
                  <td class="num">{e.templates}</td>
                  <td>
                    <Time t={e.lastSeen} />
                  </td>
                  {i === 0 ? (
                    <td class="num" rowSpan={p.exporters.length}>
                      {fmtNum(rate)}
                    </td>
                  ) : null}
                </tr>
              ));
            })}
          </tbody>
        </table>
      </Card>
    </div>
  );
}

function SeverityCounts(props: { counts: Record<Severity, number>; label: string }) {
  return (
    <p class="sev-counts">
      {SEVERITIES.map((s) => (
        <span key={s}>
          <SeverityBadge severity={s} /> {fmtNum(props.counts[s] ?? 0)}{' '}
        </span>
      ))}
      <span class="muted">{props.label} in total</span>
    </p>
  );
}
