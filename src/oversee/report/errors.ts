/** Typed errors of the transparency report (issue 8, R-OVS-7). */
import { AcdError } from '../../common/errors.ts';

/**
 * A report period that cannot be reported on: empty or reversed, not finite, or before the first
 * legal-parameter version (nothing is lawful then). Code `ERR_REPORT_PERIOD`; the API answers it
 * as a 400 (`ValidationError`), the CLI as a usage error (exit 2).
 */
export class ReportPeriodError extends AcdError {
  /** The bound at fault (`from`, `to`), or `period` when it is their combination. */
  readonly bound: 'from' | 'to' | 'period';
  constructor(message: string, bound: 'from' | 'to' | 'period' = 'period') {
    super('ERR_REPORT_PERIOD', message);
    this.bound = bound;
  }
}
