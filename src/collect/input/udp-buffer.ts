import { readFile } from 'node:fs/promises';
import { InputError } from '../../common/errors.ts';
import type { Logger } from '../../common/logging.ts';

/**
 * The socket receive buffer (SO_RCVBUF) request and the warning when the kernel caps it, shared by
 * both UDP readers (Node `dgram` and the native `recvmmsg` reader).
 */

/** Where the kernel's ceiling on socket receive buffers is configured (Linux). */
export const RMEM_MAX_SYSCTL = 'net.core.rmem_max';
const RMEM_MAX_PATH = '/proc/sys/net/core/rmem_max';

/**
 * Largest receive buffer we ask for. The kernel caps requests at `net.core.rmem_max` anyway; this
 * bound only keeps a typo from asking for gigabytes where the sysctl is generous.
 */
export const MAX_RECV_BUFFER_BYTES = 1 << 30;

/** Factor between the SO_RCVBUF requested and what the kernel reports when it honours it. */
export const KERNEL_REPORT_FACTOR = process.platform === 'linux' ? 2 : 1;

/** Throws `InputError` when a requested receive buffer is outside 1..`MAX_RECV_BUFFER_BYTES`. */
export function checkRecvBufferRequest(url: string, requested: number | undefined): void {
  if (requested !== undefined && (!(requested > 0) || requested > MAX_RECV_BUFFER_BYTES))
    throw new InputError(url, `receive buffer ${requested} is outside 1..${MAX_RECV_BUFFER_BYTES}`);
}

/**
 * Logs a warning naming `net.core.rmem_max` when the kernel granted less than `requested`.
 * `reported` is the SO_RCVBUF value the kernel reports: Linux doubles the value it grants (half is
 * bookkeeping overhead) and reports the doubled figure, so a request was honoured there only when
 * the report reaches twice the request.
 */
export async function warnIfRecvBufferCapped(
  logger: Logger,
  url: string,
  requested: number,
  reported: number,
): Promise<void> {
  if (reported >= requested * KERNEL_REPORT_FACTOR) return;
  let rmemMax: number | undefined;
  try {
    rmemMax = Number((await readFile(RMEM_MAX_PATH, 'utf8')).trim());
  } catch {
    rmemMax = undefined;
  }
  logger.warn(
    {
      listen: url,
      requested,
      granted: reported / KERNEL_REPORT_FACTOR,
      rmemMax,
      sysctl: RMEM_MAX_SYSCTL,
    },
    `udp receive buffer capped by the kernel: raise it with sysctl -w ${RMEM_MAX_SYSCTL}=${requested}`,
  );
}
