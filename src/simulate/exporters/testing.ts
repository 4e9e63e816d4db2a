/**
 * Test helpers for the exporter fleet: an in-memory output and a deterministic flow generator.
 * Used by this folder's tests and the generator benchmark.
 */
import type { Fields } from '../../common/schema/index.ts';
import { createRng } from './rng.ts';
import type { ExportItem, RecordSource } from './pacer.ts';
import type { FleetOutput, OutputStats } from './outputs.ts';
import type { ExportedMessage } from './types.ts';

/** An output keeping every message in memory (or only counting, with `keep: false`). */
export function memoryOutput(keep = true): FleetOutput & { messages: ExportedMessage[] } {
  const stats: OutputStats = { sent: 0, dropped: 0, errors: 0, connects: 0 };
  const messages: ExportedMessage[] = [];
  return {
    stats,
    messages,
    open: () => Promise.resolve(),
    write(m) {
      stats.sent++;
      if (keep) messages.push(m);
    },
    congested: () => false,
    drain: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

/** Options of `testFlows`. */
export interface TestFlowOptions {
  seed?: number;
  /** Share of IPv6 flows (0..1). */
  ipv6Share?: number;
  /** Event time of the first flow and spacing between flows (ms). */
  startMs?: number;
  stepMs?: number;
}

/** `n` plausible flows (web, DNS, NTP, ICMP), deterministic for a seed. */
export function testFlows(n: number, o: TestFlowOptions = {}): Fields[] {
  const rand = createRng(o.seed ?? 7);
  const start = o.startMs ?? Date.UTC(2026, 0, 1, 12);
  const step = o.stepMs ?? 1;
  const out: Fields[] = [];
  for (let i = 0; i < n; i++) {
    const end = start + i * step;
    const dur = Math.floor(rand() * 20_000);
    const kind = rand();
    const proto = kind < 0.7 ? 6 : kind < 0.95 ? 17 : 1;
    const packets = 1 + Math.floor(1 / Math.pow(1 - rand() * 0.99, 1.2));
    const octets = packets * (60 + Math.floor(rand() * 1300));
    const f: Fields = {
      protocolIdentifier: proto,
      octetDeltaCount: octets,
      packetDeltaCount: packets,
      flowStartMilliseconds: end - dur,
      flowEndMilliseconds: end,
      ingressInterface: 1 + Math.floor(rand() * 4),
      egressInterface: 5 + Math.floor(rand() * 4),
      ipClassOfService: 0,
      minimumTTL: 50,
      maximumTTL: 60,
      bgpSourceAsNumber: 2500 + Math.floor(rand() * 100),
      bgpDestinationAsNumber: 15169,
    };
    if (rand() < (o.ipv6Share ?? 0)) {
      f.sourceIPv6Address = `2001:db8:${Math.floor(rand() * 65535).toString(16)}::${(1 + (i % 65000)).toString(16)}`;
      f.destinationIPv6Address = `2001:db8:ffff::${(1 + Math.floor(rand() * 1000)).toString(16)}`;
      f.ipNextHopIPv6Address = 'fe80::1';
      f.sourceIPv6PrefixLength = 48;
      f.destinationIPv6PrefixLength = 32;
    } else {
      f.sourceIPv4Address = `10.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${1 + Math.floor(rand() * 254)}`;
      f.destinationIPv4Address = `198.51.100.${1 + Math.floor(rand() * 254)}`;
      f.ipNextHopIPv4Address = '192.0.2.254';
      f.sourceIPv4PrefixLength = 16;
      f.destinationIPv4PrefixLength = 24;
    }
    if (proto === 1) {
      f.icmpTypeCodeIPv4 = 0x0800;
    } else {
      f.sourceTransportPort = 1024 + Math.floor(rand() * 60000);
      f.destinationTransportPort = proto === 6 ? 443 : rand() < 0.5 ? 53 : 123;
      if (proto === 6) f.tcpControlBits = 0x1b;
    }
    out.push(f);
  }
  return out;
}

/**
 * A source cycling through `flows`, round-robin over `exporters` exporters, with a fresh flow end
 * time taken from the pacer's event clock (so rate-paced runs can go on indefinitely).
 */
export function cyclingSource(
  flows: readonly Fields[],
  exporters: number,
  limit = Number.POSITIVE_INFINITY,
): RecordSource {
  let i = 0;
  const buf: ExportItem[] = [];
  return {
    pull(max, untilMs) {
      if (i >= limit) return null;
      buf.length = 0;
      const n = Math.min(max, limit - i);
      for (let k = 0; k < n; k++, i++) {
        buf.push({
          exporter: i % exporters,
          fields: flows[i % flows.length]!,
          timeMs: Number.isFinite(untilMs) ? untilMs : undefined,
        });
      }
      return buf;
    },
  };
}
