/**
 * Public surface of the transparency report (issue 8, R-OVS-7): the builder, the renderers, the
 * period parser and the API route module.
 */
export { ReportPeriodError } from './errors.ts';
export {
  buildTransparencyReport,
  checkReportPeriod,
  DEFAULT_REPORT_LIMITS,
  MAX_REPORT_PERIOD_MS,
  type BuildReportOptions,
  type ReportLimits,
} from './build.ts';
export { parseReportPeriod, parsePeriodBound } from './period.ts';
export {
  renderReport,
  renderJson,
  renderMarkdown,
  renderHtml,
  escapeHtml,
  escapeMarkdown,
  formatDuration,
  REPORT_HTML_CSP,
} from './render.ts';
export { reportPlugin, TRANSPARENCY_REPORT_PATH, type ReportPluginDeps } from './plugin.ts';
export {
  TRANSPARENCY_REPORT_FORMAT,
  REPORT_FORMATS,
  REPORT_CONTENT_TYPES,
  notAvailable,
  isNotAvailable,
  type ReportFormat,
  type TransparencyReport,
  type NotAvailable,
  type Figure,
  type Section,
  type ApprovalFigures,
  type ApprovalsSection,
  type EmergencyFigures,
  type InspectionsSection,
  type CommunicationsSection,
  type CommunicationFigures,
  type MeasuresSection,
  type ReidentificationsSection,
  type RetentionSection,
  type ServiceSection,
} from './types.ts';
