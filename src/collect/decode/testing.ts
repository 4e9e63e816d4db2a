/**
 * Test helpers for the decoder session: a session on a manual clock, a collecting sink, datagram
 * construction. Used by this folder's tests and by other components' tests.
 */
import { ManualClock } from '../../common/clock.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import type { DecodedRecord, RawDatagram } from '../../common/schema/index.ts';
import { createDecoderSession } from './session.ts';
import type { DecodeEvent, DecoderSession, DecoderSessionOptions } from './types.ts';

/** Default options for tests: long timeouts, a small pending buffer, no silence alarm. */
export const TEST_OPTIONS: DecoderSessionOptions = {
  templateTimeoutMs: 1_800_000,
  pendingMaxSets: 16,
  pendingMaxAgeMs: 60_000,
  silenceAlarmMs: 0,
  samplingOverrides: {},
};

/** A session with its clock and metrics registry. */
export function testSession(opts: Partial<DecoderSessionOptions> = {}): {
  session: DecoderSession;
  clock: ManualClock;
  metrics: MetricsRegistry;
} {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const metrics = new MetricsRegistry();
  const session = createDecoderSession({ clock, metrics }, { ...TEST_OPTIONS, ...opts });
  return { session, clock, metrics };
}

/** A sink that keeps everything. */
export function collectingSink(): {
  records: DecodedRecord[];
  events: DecodeEvent[];
  record(r: DecodedRecord): void;
  event(e: DecodeEvent): void;
} {
  const records: DecodedRecord[] = [];
  const events: DecodeEvent[] = [];
  return {
    records,
    events,
    record: (r) => records.push(r),
    event: (e) => events.push(e),
  };
}

/** A UDP datagram from `address` received at `receivedAt`. */
export function datagram(
  bytes: Uint8Array,
  address = '192.0.2.1',
  receivedAt = Date.UTC(2026, 0, 1),
): RawDatagram {
  return { receivedAt, exporter: { address, port: 2055 }, transport: 'udp', bytes };
}
