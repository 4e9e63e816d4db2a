/**
 * The transparency report over the API (issue 8, R-OVS-7):
 * `GET /api/reports/transparency?from&to&format=json|md|html` for `ACCESS.reports` (supervisor,
 * inspector, administrator). Dates as in `acd report transparency` (a `to` date includes that
 * day); a bad or reversed period is a 400. The HTML form carries its own strict CSP (no script).
 */
import { Type } from '@sinclair/typebox';
import type { LegalParameterTable } from '../../common/legal/index.ts';
import { ACCESS } from '../../serve/access.ts';
import { ValidationError } from '../../serve/errors.ts';
import { ProblemResponses, TimeParam } from '../../serve/schemas.ts';
import type { ServePlugin } from '../../serve/types.ts';
import { buildTransparencyReport, type ReportLimits } from './build.ts';
import { ReportPeriodError } from './errors.ts';
import { parseReportPeriod } from './period.ts';
import { REPORT_HTML_CSP, renderReport } from './render.ts';
import { REPORT_CONTENT_TYPES, REPORT_FORMATS } from './types.ts';

/** Path of the report route. */
export const TRANSPARENCY_REPORT_PATH = '/api/reports/transparency';

/** What the report route needs besides the server's own dependencies. */
export interface ReportPluginDeps {
  /** The legal-parameter table of the centre (sectors, approval kinds, version). */
  legal: LegalParameterTable;
  limits?: Partial<ReportLimits>;
}

const ReportQuery = Type.Object({
  from: TimeParam,
  to: TimeParam,
  format: Type.Optional(
    Type.Union(
      REPORT_FORMATS.map((f) => Type.Literal(f)),
      { default: 'json', description: 'json (default), md (Markdown) or html (a self-contained page).' },
    ),
  ),
});

/** The route module (add it to `ServeDeps.plugins`). */
export function reportPlugin(deps: ReportPluginDeps): ServePlugin {
  return (api, serve) => {
    api.get(
      TRANSPARENCY_REPORT_PATH,
      {
        config: { access: ACCESS.reports },
        schema: {
          tags: ['oversight'],
          summary:
            'Transparency report of a period: approval cases per kind, inspections, commission communications, measures, re-identifications, retention and service statistics; unavailable figures say so.',
          querystring: ReportQuery,
          response: {
            200: Type.String({
              description: 'The report: JSON (acd.transparency-report/1), Markdown or HTML by `format`.',
            }),
            ...ProblemResponses,
          },
        },
      },
      async (request, reply) => {
        const q = request.query;
        let report;
        try {
          report = await buildTransparencyReport(serve.store, {
            ...parseReportPeriod(q.from, q.to),
            legal: deps.legal,
            clock: serve.clock,
            ...(deps.limits !== undefined ? { limits: deps.limits } : {}),
          });
        } catch (err) {
          if (err instanceof ReportPeriodError)
            throw new ValidationError(`querystring.${err.bound === 'to' ? 'to' : 'from'}`, err.message);
          throw err;
        }
        const format = q.format ?? 'json';
        reply.type(REPORT_CONTENT_TYPES[format]);
        if (format === 'html') reply.header('content-security-policy', REPORT_HTML_CSP);
        return reply.send(renderReport(report, format));
      },
    );
  };
}
