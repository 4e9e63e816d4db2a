/** Errors of the real evaluation harness; callers branch on the class or the stable `code`. */
import { AcdError } from '../../common/errors.ts';

/** A tool the harness needs is not installed (or not runnable); `tool` names it. */
export class ToolMissingError extends AcdError {
  /** Executable name, e.g. `hping3`. */
  readonly tool: string;
  constructor(tool: string, message: string) {
    super('ERR_REAL_EVAL_TOOL', `${tool}: ${message}`);
    this.tool = tool;
  }
}

/** A step of the harness failed (a command exited badly, a daemon never became ready, a timeout). */
export class RealEvalError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_REAL_EVAL', message, options);
  }
}

/** The run was aborted through its `AbortSignal` (everything it started has been removed). */
export class RealEvalAbortedError extends AcdError {
  constructor() {
    super('ERR_REAL_EVAL_ABORTED', 'real evaluation run aborted');
  }
}
