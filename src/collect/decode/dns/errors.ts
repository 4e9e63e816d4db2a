import { AcdError } from '../../../common/errors.ts';

/**
 * Why a DNS message could not be read (fully). `truncated`: the bytes ended before the header's
 * counts or a record's length were satisfied. The others: the bytes contradict RFC 1035 or one of
 * the named limits of `limits.ts`; `internal` is a parser bug caught at the boundary.
 */
export type DnsMalformedReason =
  | 'short-header'
  | 'truncated'
  | 'too-long'
  | 'pointer-invalid'
  | 'pointer-loop'
  | 'name-too-long'
  | 'too-many-labels'
  | 'bad-label-type'
  | 'too-many-records'
  | 'bad-rdata'
  /** A bug in the parser itself, caught so that it never escapes; the property tests fail on it. */
  | 'internal';

/**
 * A DNS message that is malformed or cut short. The parser never throws it: it is returned as the
 * `error` of a `DnsParseResult`, next to whatever could be read before the problem.
 */
export class DnsParseError extends AcdError {
  /** What is wrong, for counters and events (stable; do not match on the message text). */
  readonly reason: DnsMalformedReason;
  /** Byte offset in the message where the problem was found. */
  readonly offset: number;
  constructor(reason: DnsMalformedReason, message: string, offset: number) {
    super(
      reason === 'truncated' || reason === 'short-header' ? 'ERR_DNS_TRUNCATED' : 'ERR_DNS_MALFORMED',
      message,
    );
    this.reason = reason;
    this.offset = offset;
  }
}
