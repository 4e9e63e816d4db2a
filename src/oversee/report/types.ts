/**
 * The transparency report (issue 8, REQUIREMENTS R-OVS-7, R-NF-2): its typed shape, shared by the
 * builder, the renderers, the API and the CLI. Times in the report are ISO 8601 UTC text; counts
 * are numbers. A figure that no feature produces yet is the literal {@link NotAvailable} marker,
 * rendered as "not available", never as 0.
 */

/** Value of the report's `format` member; bump the suffix on incompatible changes. */
export const TRANSPARENCY_REPORT_FORMAT = 'acd.transparency-report/1';

/** A figure the system cannot give (no feature produces it yet, or a read bound was reached). */
export interface NotAvailable {
  available: false;
  /** Why, in one sentence for the reader of the report. */
  reason: string;
}

/** A count, or the "not available" marker. */
export type Figure = number | NotAvailable;

/** A section, or the "not available" marker for the whole section (a read bound was reached). */
export type Section<T> = T | NotAvailable;

/** The marker. */
export function notAvailable(reason: string): NotAvailable {
  return { available: false, reason };
}

/** True for the marker (of a figure or a section). */
export function isNotAvailable(v: unknown): v is NotAvailable {
  return typeof v === 'object' && v !== null && 'available' in v && v.available === false;
}

/** Figures of one approval kind (or of all kinds together) over the period. */
export interface ApprovalFigures {
  /** Submitted to the commission in the period (history entries `→ submitted`). */
  requested: number;
  /** Decided in the period (history entries `→ approved` / `→ rejected`). */
  approved: number;
  rejected: number;
  /** History entries `→ revoked` / `→ expired` in the period. */
  revoked: number;
  expired: number;
  /** Cases whose state at the end of the period was `submitted` (awaiting the commission). */
  pendingAtEnd: number;
}

/** Emergency measures (acted before approval, R-OVS-5). */
export interface EmergencyFigures {
  /** Emergency measures acted on in the period (`emergency.actedAt`). */
  acted: number;
  /** Of those, notified to the commission by the deadline (`notifiedAt ≤ notifyBy`). */
  notifiedInTime: number;
  /**
   * Notification deadlines (`notifyBy`) falling in the period that were missed: notified late,
   * or not notified at all by the time the report was made.
   */
  overdueNotifications: number;
}

/** Approval cases (R-OVS-5, R-OVS-7). */
export interface ApprovalsSection {
  /** Per approval kind: the kinds of the legal parameters in force, plus any other kind stored. */
  byKind: Record<string, ApprovalFigures>;
  /** Sums over every kind. */
  total: ApprovalFigures;
  emergency: EmergencyFigures;
  /** Approval-case records scanned. */
  casesScanned: number;
  /** Records of kind `approval-case` whose body could not be read (not counted above). */
  malformed: number;
}

/** Inspections by the commission (see README for what counts). */
export interface InspectionsSection {
  /** Distinct (inspector, UTC day) pairs with audit entries of role `inspector`, purpose `oversight`. */
  inspectorDays: number;
  /** Distinct inspectors with such entries. */
  inspectors: number;
  /** Audit entries of inspectors in the period (each aggregated read entry counts once). */
  inspectorEntries: number;
  /** Audit exports (`audit.export` actions and export routes) in the period. */
  auditExports: number;
  /** Audit verifications (`audit.verify` actions and verify routes) in the period. */
  auditVerifications: number;
  /** Audit entries read to compute this section. */
  auditEntriesScanned: number;
}

/** Counts of one communication type, per direction. */
export interface CommunicationFigures {
  fromCommission: number;
  toCommission: number;
}

/** Commission communications (R-OVS-6). */
export interface CommunicationsSection {
  /** Created in the period, per type (`notification`, `request`, `recommendation`) and direction. */
  byType: Record<string, CommunicationFigures>;
  /** Created in the period. */
  total: number;
  /** Of those, answered (a response) before the end of the period. */
  answered: number;
  /** Response deadlines (`dueAt`) falling in the period that were missed (answered late or not at all). */
  overdue: number;
  /** Records of kind `communication` whose body could not be read. */
  malformed: number;
}

/** Measures taken (approved police and SDF measures, R-OVS-7). */
export interface MeasuresSection {
  /** Approved measures in force at some time in the period, per kind. */
  policeMeasures: number;
  sdfMeasures: number;
  total: number;
}

/** Re-identifications (R-OVS-2). */
export interface ReidentificationsSection {
  /** Requests created in the period. */
  requested: number;
  /** Requests whose last change (to `answered` / `refused`) fell in the period. */
  answered: number;
  refused: number;
}

/** Retention (R-RET-2). */
export interface RetentionSection {
  /** Deletion certificates whose run fell in the period. */
  certificates: number;
  /** Rows deleted, summed over every table of those certificates. */
  rowsDeleted: number;
  /** Rows deleted per table or cache. */
  byTable: Record<string, number>;
}

/** Service statistics (R-OVS-7). */
export interface ServiceSection {
  /** Selected records received, from the hourly rollups whose bucket starts in the period. */
  recordsSelected: Figure;
  /** Alerts first seen in the period. */
  alerts: Figure;
  /** Alerts first seen in the period, per detector. */
  alertsByDetector: Section<Record<string, number>>;
  /** Incidents first seen in the period. */
  incidents: Figure;
  /** Incidents first seen in the period, per critical-infrastructure sector of the legal parameters. */
  incidentsBySector: Section<Record<string, number>>;
  /** Operator notifications: incidents whose history reached `notified` in the period. */
  operatorNotifications: Figure;
  /** Incidents whose history reached `mitigated` in the period. */
  mitigated: Figure;
  /** Median of (reached `mitigated` − first seen) over those incidents, in milliseconds. */
  medianTimeToMitigateMs: Figure;
  /** Takedown notices sent (R-RSP-1): no feature records them yet. */
  takedowns: Figure;
}

/** The transparency report of one period. */
export interface TransparencyReport {
  format: typeof TRANSPARENCY_REPORT_FORMAT;
  /** `[from, to)`, ISO 8601 UTC. */
  period: { from: string; to: string };
  generatedAt: string;
  /** The legal-parameter version in force at the end of the period (its sectors and kinds are used). */
  parameterVersion: string;
  /** Every legal-parameter version in force at some time in the period, oldest first. */
  parameterVersions: string[];
  /** The critical-infrastructure sectors of `parameterVersion`. */
  sectors: string[];
  sections: {
    approvals: Section<ApprovalsSection>;
    inspections: Section<InspectionsSection>;
    communications: Section<CommunicationsSection>;
    measures: Section<MeasuresSection>;
    reidentifications: Section<ReidentificationsSection>;
    retention: Section<RetentionSection>;
    service: ServiceSection;
  };
}

/** Output formats of the renderers. */
export const REPORT_FORMATS = ['json', 'md', 'html'] as const;
/** One output format. */
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Content type of each format (API responses). */
export const REPORT_CONTENT_TYPES: Readonly<Record<ReportFormat, string>> = {
  json: 'application/json; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  html: 'text/html; charset=utf-8',
};
