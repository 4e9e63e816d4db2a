/**
 * Retention status (issue 8, R-RET-1, R-RET-2): the legal-parameter version and the retention of
 * each channel, the stored partitions with their expiry and whether an approved extension holds
 * them, the holds themselves, the last and next run of the retention job, and the signed deletion
 * certificates (newest first, paged).
 */
import { useState } from 'preact/hooks';
import { listCertificates, retentionStatus } from '../api.ts';
import { href } from '../router.ts';
import { Card, ErrorBox, fmtNum, Time, useResource, useTick, EmptyRow, Pager } from '../ui.tsx';

const CERT_PAGE = 20;
/** Refresh of the status (the job runs rarely; a minute is plenty). */
const REFRESH_MS = 60_000;

/** The retention page. */
export function Retention() {
  const tick = useTick(REFRESH_MS);
  const status = useResource(retentionStatus, [tick]);
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const certs = useResource(
    () => listCertificates(cursor === undefined ? { limit: CERT_PAGE } : { limit: CERT_PAGE, cursor }),
    [cursor, tick],
  );
  const s = status.data;
  const held = s?.partitions.filter((p) => p.held).length ?? 0;
  return (
    <div>
      {status.error !== undefined ? <ErrorBox error={status.error} title="Retention status" /> : null}
      <section class="tiles wide" aria-label="Retention summary">
        <div class="tile">
          <span class="tile-label">Legal parameters</span>
          <span class="tile-value" data-testid="parameter-version">
            {s?.parameterVersion ?? '–'}
          </span>
        </div>
        <div class="tile">
          <span class="tile-label">Partitions</span>
          <span class="tile-value" data-testid="partition-count">
            {s !== undefined ? fmtNum(s.partitions.length) : '–'}
          </span>
        </div>
        <div class="tile">
          <span class="tile-label">Held by extensions</span>
          <span class="tile-value">{s !== undefined ? fmtNum(held) : '–'}</span>
        </div>
        <div class="tile">
          <span class="tile-label">Last run</span>
          <span class="tile-value">{s?.lastRun != null ? <Time t={s.lastRun.at} /> : 'never'}</span>
        </div>
        <div class="tile">
          <span class="tile-label">Next run</span>
          <span class="tile-value">{s?.nextRunAt != null ? <Time t={s.nextRunAt} /> : '–'}</span>
        </div>
      </section>
      <div class="grid">
        <Card title="Retention per channel" id="retention-channels">
          {s === undefined ? null : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Channel</th>
                  <th scope="col">Kept for</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(s.retention).map(([channel, d]) => (
                  <tr key={channel}>
                    <th scope="row">{channel}</th>
                    <td>{d}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {s !== undefined ? (
            <p class="muted">
              Parameter version {s.parameterVersion}, as of <Time t={s.now} />. Last run:{' '}
              {s.lastRun === null ? (
                'never'
              ) : (
                <>
                  <Time t={s.lastRun.at} />
                  {s.lastRun.certificateId !== null ? (
                    <>
                      , certificate <code>{s.lastRun.certificateId}</code>
                    </>
                  ) : (
                    ', nothing to delete'
                  )}
                </>
              )}
              .
            </p>
          ) : null}
        </Card>
        <Card title={`Holds (${s?.holds.length ?? 0})`} id="retention-holds">
          {s !== undefined && s.holds.length === 0 ? <p>No approved retention extension in force.</p> : null}
          {s !== undefined && s.holds.length > 0 ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">Case</th>
                  <th scope="col">Until</th>
                  <th scope="col">Incidents</th>
                  <th scope="col">Days</th>
                </tr>
              </thead>
              <tbody>
                {s.holds.map((h) => (
                  <tr key={h.caseId}>
                    <th scope="row">
                      <a href={href(['approvals', h.caseId])}>{h.caseId}</a>
                    </th>
                    <td>
                      <Time t={h.validUntil} />
                    </td>
                    <td>{h.incidentIds.join(', ') || '–'}</td>
                    <td>{h.days.join(', ') || '–'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </Card>
        <Card title="Partitions" id="retention-partitions" wide>
          {s === undefined ? null : (
            <table>
              <caption class="sr-only">Stored partitions by retention day</caption>
              <thead>
                <tr>
                  <th scope="col">Kind</th>
                  <th scope="col">Retention day</th>
                  <th scope="col" class="num">
                    Rows
                  </th>
                  <th scope="col">Expires at</th>
                  <th scope="col">Held</th>
                </tr>
              </thead>
              <tbody>
                {s.partitions.map((p) => (
                  <tr key={`${p.kind}:${p.day}`} data-partition={`${p.kind}:${p.day}`}>
                    <td>{p.kind}</td>
                    <td>{p.day}</td>
                    <td class="num">{fmtNum(p.rows)}</td>
                    <td>
                      <Time t={p.expiresAt} />
                    </td>
                    <td>{p.held ? <span class="badge ok">held</span> : '–'}</td>
                  </tr>
                ))}
                {s.partitions.length === 0 ? (
                  <tr>
                    <td colSpan={5}>No stored partitions.</td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          )}
        </Card>
        <Card title="Deletion certificates" id="retention-certificates" wide>
          {certs.error !== undefined ? <ErrorBox error={certs.error} title="Certificates" /> : null}
          <table aria-busy={certs.loading}>
            <caption class="sr-only">Signed deletion certificates, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Certificate</th>
                <th scope="col">Run at</th>
                <th scope="col">Period</th>
                <th scope="col">Deleted rows</th>
                <th scope="col" class="num">
                  Remaining
                </th>
                <th scope="col">Parameters</th>
                <th scope="col">Holds honoured</th>
                <th scope="col">Key ids</th>
              </tr>
            </thead>
            <tbody>
              {(certs.data?.items ?? []).map((c) => (
                <tr key={c.id} data-certificate={c.id}>
                  <th scope="row">
                    <code>{c.id}</code>
                  </th>
                  <td>
                    <Time t={c.runAt} />
                  </td>
                  <td>
                    {c.period.firstDay ?? '–'} – {c.period.lastDay ?? '–'}
                  </td>
                  <td>
                    {Object.entries(c.counts)
                      .map(([k, n]) => `${k} ${fmtNum(n)}`)
                      .join(', ') || '–'}
                  </td>
                  <td class="num">
                    <span class={`badge ${c.remainingRows === 0 ? 'ok' : 'bad'}`}>{c.remainingRows}</span>
                  </td>
                  <td>{c.parameterVersion}</td>
                  <td>{c.holds.join(', ') || '–'}</td>
                  <td>
                    <code>{c.keyIds.join(', ')}</code>
                  </td>
                </tr>
              ))}
              <EmptyRow items={certs.data?.items} cols={8}>
                No deletion certificate yet.
              </EmptyRow>
            </tbody>
          </table>
          <Pager
            label="Certificate pages"
            atNewest={cursors.length === 0}
            next={certs.data?.next}
            onNewest={() => setCursors([])}
            onOlder={(next) => setCursors((cs) => [...cs, next])}
          />
        </Card>
      </div>
    </div>
  );
}
