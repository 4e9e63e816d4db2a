import { AcdError } from '../../common/errors.ts';

/** The traffic generator was given parameters it cannot run with; `key` names the parameter. */
export class TrafficConfigError extends AcdError {
  readonly key: string;
  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super('ERR_TRAFFIC_CONFIG', `${key}: ${message}`, options);
    this.key = key;
  }
}

/** The generator's worker thread failed or stopped unexpectedly. */
export class TrafficWorkerError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_TRAFFIC_WORKER', message, options);
  }
}
