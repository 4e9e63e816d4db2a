/** Typed errors of correlation; callers branch on the class or on `code`. */
import { AcdError } from '../common/errors.ts';
import type { IncidentState } from '../common/schema/alert.ts';

/**
 * An incident state change the lifecycle does not allow (backwards, from `closed`, to the same
 * state, or without an actor or a reason).
 */
export class IncidentTransitionError extends AcdError {
  readonly incidentId: string;
  readonly from: IncidentState;
  readonly to: string;
  constructor(incidentId: string, from: IncidentState, to: string, why: string) {
    super('ERR_INCIDENT_TRANSITION', `incident ${incidentId}: ${from} -> ${to}: ${why}`);
    this.incidentId = incidentId;
    this.from = from;
    this.to = to;
  }
}

/** No incident (or alert) with this id is held by the correlator. */
export class NotFoundError extends AcdError {
  readonly id: string;
  constructor(kind: 'incident' | 'alert' | 'suppression rule', id: string) {
    super('ERR_NOT_FOUND', `${kind} ${id} not found`);
    this.id = id;
  }
}

/** A suppression rule that does not validate; `field` names the offending field. */
export class SuppressionRuleError extends AcdError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('ERR_SUPPRESSION_RULE', `${field}: ${message}`);
    this.field = field;
  }
}

/** An export sink used in the wrong state (sending after close). */
export class ExportClosedError extends AcdError {
  constructor(sink: string) {
    super('ERR_EXPORT_CLOSED', `${sink} is closed`);
  }
}
