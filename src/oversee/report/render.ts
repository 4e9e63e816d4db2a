/**
 * Renderers of the transparency report: JSON (pretty, stable member order), Markdown and a
 * self-contained HTML page (inline style, no script, every data value escaped). Markdown and HTML
 * are made from one document model (`reportDocument`), so both say the same thing; a "not
 * available" figure is written as "not available" with its reason, never as 0.
 */
import {
  isNotAvailable,
  type Figure,
  type NotAvailable,
  type Section,
  type TransparencyReport,
} from './types.ts';
import type { ReportFormat } from './types.ts';

/** A cell: our own label text, or a value (escaped when rendered). */
type Cell = string | number | NotAvailable;

/** Blocks of the document model. */
type Block =
  | { kind: 'heading'; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'facts'; rows: [string, Cell][] }
  | { kind: 'table'; head: string[]; rows: Cell[][] };

const NOT_AVAILABLE_TEXT = 'not available';

const SECTION_TITLES = {
  approvals: 'Approval cases (R-OVS-5)',
  inspections: 'Inspections by the commission',
  communications: 'Commission communications (R-OVS-6)',
  measures: 'Measures taken',
  reidentifications: 'Re-identifications (R-OVS-2)',
  retention: 'Retention and deletion (R-RET-2)',
  service: 'Service statistics',
} as const;

/** A duration in ms as text (`2 d 3 h`, `45 min 10 s`); the two largest units. */
export function formatDuration(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1000],
  ];
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [name, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || parts.length > 0) parts.push(`${n} ${name}`);
    if (parts.length === 2) break;
  }
  return parts.length === 0 ? `${Math.round(ms)} ms` : parts.join(' ');
}

function unavailableSection(s: NotAvailable): Block[] {
  return [{ kind: 'facts', rows: [['Whole section', s]] }];
}

function section<T>(title: string, s: Section<T>, blocks: (v: T) => Block[]): Block[] {
  return [{ kind: 'heading', text: title }, ...(isNotAvailable(s) ? unavailableSection(s) : blocks(s))];
}

function durationCell(f: Figure): Cell {
  return isNotAvailable(f) ? f : formatDuration(f);
}

/** The document model of a report (what Markdown and HTML render). */
export function reportDocument(r: TransparencyReport): { title: string; blocks: Block[] } {
  const s = r.sections;
  const blocks: Block[] = [
    {
      kind: 'facts',
      rows: [
        ['Period (UTC, end exclusive)', `${r.period.from} – ${r.period.to}`],
        ['Generated at', r.generatedAt],
        ['Legal parameters', r.parameterVersion],
        ['Versions in force in the period', r.parameterVersions.join(', ')],
        ['Critical-infrastructure sectors', r.sectors.join(', ')],
      ],
    },
    ...section(SECTION_TITLES.approvals, s.approvals, (a) => [
      {
        kind: 'table',
        head: ['Kind', 'Requested', 'Approved', 'Rejected', 'Revoked', 'Expired', 'Pending at end'],
        rows: [
          ...Object.entries(a.byKind).map(([kind, f]): Cell[] => [
            kind,
            f.requested,
            f.approved,
            f.rejected,
            f.revoked,
            f.expired,
            f.pendingAtEnd,
          ]),
          [
            'Total',
            a.total.requested,
            a.total.approved,
            a.total.rejected,
            a.total.revoked,
            a.total.expired,
            a.total.pendingAtEnd,
          ],
        ],
      },
      {
        kind: 'facts',
        rows: [
          ['Emergency measures acted on', a.emergency.acted],
          ['… notified to the commission in time', a.emergency.notifiedInTime],
          [
            'Overdue emergency notifications (deadline in the period, missed)',
            a.emergency.overdueNotifications,
          ],
          ['Stored cases that could not be read', a.malformed],
        ],
      },
    ]),
    ...section(SECTION_TITLES.inspections, s.inspections, (i) => [
      {
        kind: 'facts',
        rows: [
          ['Inspection days (distinct inspector and UTC day)', i.inspectorDays],
          ['Inspectors', i.inspectors],
          ['Audited inspector actions', i.inspectorEntries],
          ['Audit-log exports', i.auditExports],
          ['Audit-log verifications', i.auditVerifications],
        ],
      },
    ]),
    ...section(SECTION_TITLES.communications, s.communications, (c) => [
      {
        kind: 'table',
        head: ['Type', 'From the commission', 'To the commission'],
        rows: Object.entries(c.byType).map(([type, f]): Cell[] => [type, f.fromCommission, f.toCommission]),
      },
      {
        kind: 'facts',
        rows: [
          ['Communications in the period', c.total],
          ['… answered by the end of the period', c.answered],
          ['Overdue (response deadline in the period, missed)', c.overdue],
          ['Stored communications that could not be read', c.malformed],
        ],
      },
    ]),
    ...section(SECTION_TITLES.measures, s.measures, (m) => [
      {
        kind: 'facts',
        rows: [
          ['Approved police measures in force', m.policeMeasures],
          ['Approved SDF measures in force', m.sdfMeasures],
          ['Total', m.total],
        ],
      },
    ]),
    ...section(SECTION_TITLES.reidentifications, s.reidentifications, (x) => [
      {
        kind: 'facts',
        rows: [
          ['Requested', x.requested],
          ['Answered', x.answered],
          ['Refused', x.refused],
        ],
      },
    ]),
    ...section(SECTION_TITLES.retention, s.retention, (x) => [
      {
        kind: 'facts',
        rows: [
          ['Deletion certificates issued', x.certificates],
          ['Rows deleted', x.rowsDeleted],
        ],
      },
      ...(Object.keys(x.byTable).length === 0
        ? []
        : [
            {
              kind: 'table' as const,
              head: ['Table', 'Rows deleted'],
              rows: Object.entries(x.byTable).map(([t, n]): Cell[] => [t, n]),
            },
          ]),
    ]),
    { kind: 'heading', text: SECTION_TITLES.service },
    {
      kind: 'facts',
      rows: [
        ['Records selected', s.service.recordsSelected],
        ['Alerts', s.service.alerts],
        ['Incidents', s.service.incidents],
        ['Operator notifications', s.service.operatorNotifications],
        ['Incidents mitigated', s.service.mitigated],
        ['Median time to mitigate', durationCell(s.service.medianTimeToMitigateMs)],
        ['Takedowns', s.service.takedowns],
      ],
    },
    ...breakdown('Alerts by detector', 'Detector', 'Alerts', s.service.alertsByDetector),
    ...breakdown('Incidents by sector', 'Sector', 'Incidents', s.service.incidentsBySector),
  ];
  return { title: `Transparency report ${r.period.from.slice(0, 10)} – ${r.period.to.slice(0, 10)}`, blocks };
}

function breakdown(
  title: string,
  keyHead: string,
  valueHead: string,
  s: Section<Record<string, number>>,
): Block[] {
  if (isNotAvailable(s)) return [{ kind: 'facts', rows: [[title, s]] }];
  const rows = Object.entries(s).map(([k, n]): Cell[] => [k, n]);
  if (rows.length === 0) return [{ kind: 'facts', rows: [[title, 0]] }];
  return [
    { kind: 'paragraph', text: title },
    { kind: 'table', head: [keyHead, valueHead], rows },
  ];
}

/**
 * Escapes text for a Markdown list item or table cell: the punctuation that could start inline
 * markup, HTML or an entity, or end a cell (`|`), and line breaks (a value stays on its line).
 */
export function escapeMarkdown(s: string): string {
  return s.replace(/[\\`*_[\]<>|&~]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ');
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function cellText(c: Cell): string {
  if (typeof c === 'number') return String(c);
  if (typeof c === 'string') return c;
  return `${NOT_AVAILABLE_TEXT} (${c.reason})`;
}

/** The report as Markdown. */
export function renderMarkdown(r: TransparencyReport): string {
  const doc = reportDocument(r);
  const md = (c: Cell): string => escapeMarkdown(cellText(c));
  const out: string[] = [`# ${md(doc.title)}`, ''];
  for (const b of doc.blocks) {
    if (b.kind === 'heading') out.push(`## ${md(b.text)}`, '');
    else if (b.kind === 'paragraph') out.push(md(b.text), '');
    else if (b.kind === 'facts') {
      for (const [k, v] of b.rows) out.push(`- ${md(k)}: ${md(v)}`);
      out.push('');
    } else {
      out.push(`| ${b.head.map(md).join(' | ')} |`);
      out.push(`| ${b.head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
      for (const row of b.rows) out.push(`| ${row.map(md).join(' | ')} |`);
      out.push('');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.2rem .6rem}
td.n{text-align:right}dt{font-weight:600}dd{margin:0 0 .4rem 1rem}.na{color:#8a4b00;font-style:italic}`;

/** The report as one self-contained HTML page (no script, no external resource). */
export function renderHtml(r: TransparencyReport): string {
  const doc = reportDocument(r);
  const value = (c: Cell): string =>
    typeof c === 'object'
      ? `<span class="na">${escapeHtml(NOT_AVAILABLE_TEXT)}</span> (${escapeHtml(c.reason)})`
      : escapeHtml(cellText(c));
  const parts: string[] = [];
  for (const b of doc.blocks) {
    if (b.kind === 'heading') parts.push(`<h2>${escapeHtml(b.text)}</h2>`);
    else if (b.kind === 'paragraph') parts.push(`<p>${escapeHtml(b.text)}</p>`);
    else if (b.kind === 'facts')
      parts.push(
        `<dl>${b.rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${value(v)}</dd>`).join('')}</dl>`,
      );
    else
      parts.push(
        `<table><thead><tr>${b.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>` +
          b.rows
            .map(
              (row) =>
                `<tr>${row.map((c) => `<td${typeof c === 'number' ? ' class="n"' : ''}>${value(c)}</td>`).join('')}</tr>`,
            )
            .join('') +
          `</tbody></table>`,
      );
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="generator" content="acd ${escapeHtml(r.format)}">
<title>${escapeHtml(doc.title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(doc.title)}</h1>
${parts.join('\n')}
</body></html>
`;
}

/** The report as pretty JSON (members in the builder's fixed order), ending with a newline. */
export function renderJson(r: TransparencyReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

/** Renders in one of the formats. */
export function renderReport(r: TransparencyReport, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return renderJson(r);
    case 'md':
      return renderMarkdown(r);
    case 'html':
      return renderHtml(r);
  }
}

/**
 * Content-Security-Policy for a served HTML report: no script, no fetch, no frame; only the
 * page's own inline style.
 */
export const REPORT_HTML_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
