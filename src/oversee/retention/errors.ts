/** Typed errors of the retention job (CONVENTIONS habit 6). */
import { AcdError } from '../../common/errors.ts';

/**
 * An approved retention-extension case whose holds cannot be read. The run is refused (nothing is
 * deleted) rather than risk deleting what the commission ordered kept.
 */
export class RetentionHoldError extends AcdError {
  /** The case at fault. */
  readonly caseId: string;
  constructor(caseId: string, message: string) {
    super('ERR_RETENTION_HOLD_INVALID', `retention-extension case ${caseId}: ${message}`);
    this.caseId = caseId;
  }
}

/** The certificate file could not be written or read. */
export class CertificateFileError extends AcdError {
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super('ERR_RETENTION_CERTIFICATE_FILE', `${file}: ${message}`, options);
    this.file = file;
  }
}

/** A deletion certificate that does not verify (`acd retention verify-certificates`). */
export class CertificateInvalidError extends AcdError {
  /** 1-based line of the certificate file (0 for a stored certificate missing from the file). */
  readonly line: number;
  constructor(line: number, message: string) {
    super('ERR_RETENTION_CERTIFICATE_INVALID', message);
    this.line = line;
  }
}
