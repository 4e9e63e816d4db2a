/**
 * Typed errors of the audit log. Callers branch on the class or the stable `code`. A broken chain
 * found by verification is a *result* (`ChainProblem`), not an exception; `AuditChainBrokenError`
 * only carries it to the CLI's exit code.
 */
import { AcdError } from '../../common/errors.ts';
import type { ChainProblem } from './verify.ts';

/** An `append` input that breaks a limit or is not JSON (`field` names it). */
export class AuditInputError extends AcdError {
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super('ERR_AUDIT_INPUT', `${field}: ${message}`, options);
    this.field = field;
  }
}

/** The log was used before `start()` or after `stop()`. */
export class AuditClosedError extends AcdError {
  constructor(message: string) {
    super('ERR_AUDIT_CLOSED', message);
  }
}

/** The checkpoint file cannot be written or read (I/O, permissions, too large). */
export class CheckpointFileError extends AcdError {
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super('ERR_AUDIT_CHECKPOINT_FILE', `${file}: ${message}`, options);
    this.file = file;
  }
}

/** An export file that cannot be read at all (too large, too many lines); tampering is a `ChainProblem`. */
export class AuditExportError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_AUDIT_EXPORT', message, options);
  }
}

/** Verification found a problem; `problem` says which entry and how. */
export class AuditChainBrokenError extends AcdError {
  readonly problem: ChainProblem;
  constructor(problem: ChainProblem) {
    super('ERR_AUDIT_CHAIN_BROKEN', `${problem.kind}: ${problem.message}`);
    this.problem = problem;
  }
}
