/**
 * Typed errors shared by every component. Callers branch on the class or on the stable
 * `code`, never on the message text (CONVENTIONS habit 6).
 */
export class AcdError extends Error {
  /** Stable machine-readable code, e.g. `ERR_CONFIG_INVALID`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration file or value that violates the schema; `key` names the offending key. */
export class ConfigError extends AcdError {
  readonly key: string;
  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super('ERR_CONFIG_INVALID', `${key}: ${message}`, options);
    this.key = key;
  }
}

/** Wrong command-line usage (exit code 2). */
export class UsageError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_USAGE', message, options);
  }
}

/** An input (file, socket, URL) could not be opened or read. */
export class InputError extends AcdError {
  readonly input: string;
  constructor(input: string, message: string, options?: { cause?: unknown }) {
    super('ERR_INPUT', `${input}: ${message}`, options);
    this.input = input;
  }
}

/** A component was used in the wrong lifecycle state (e.g. started twice). */
export class LifecycleError extends AcdError {
  constructor(message: string) {
    super('ERR_LIFECYCLE', message);
  }
}

/** Returns the `code` of an error if it has one, for logging and problem details. */
export function errorCode(err: unknown): string {
  if (err instanceof AcdError) return err.code;
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string')
    return err.code;
  return 'ERR_INTERNAL';
}
