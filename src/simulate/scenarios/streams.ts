/**
 * Long flows as a router exports them: a flow that lasts longer than the exporter's active
 * timeout is reported every `activeTimeoutMs` (one record per segment, flowEndReason 2), and
 * finally when it ends (FIN seen: reason 3) — or, when it is still open at the end of the
 * scenario, with a last active-timeout export.
 */
import type { Rng } from '../country/index.ts';
import { END_REASON, PROTO, TCP, TCP_HEADER, UDP_HEADER, flowRecord } from './records.ts';
import { around, rngOf, type Emit, type Env, type Part } from './run.ts';
import { familyOf } from './world.ts';

/** A continuous one-directional flow. */
export interface Stream {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto: number;
  from: number;
  /** Exclusive end (≤ the scenario end). */
  to: number;
  bytesPerS: number;
  /** Mean packet size on the wire. */
  packetSize: number;
  ttl: [number, number];
  /** TCP: the connection opens at `from` (SYN in the first record). */
  opens?: boolean;
  /** TCP: the connection closes at `to` (FIN in the last record). */
  closes?: boolean;
  /** Relative variation of the bytes of one segment (default 0.2). */
  variation?: number;
}

/** Default active timeout of the simulated exporters (common router setting). */
export const ACTIVE_TIMEOUT_MS = 60_000;

/** A part exporting streams in active-timeout segments; records are keyed by their end time. */
export function streamPart(
  env: Env,
  label: string,
  streams: readonly Stream[],
  activeTimeoutMs = ACTIVE_TIMEOUT_MS,
): Part {
  const a = activeTimeoutMs;
  return {
    spanMs: 0,
    tick(_k, t0, t1, out) {
      for (let i = 0; i < streams.length; i++) {
        const s = streams[i]!;
        if (s.to <= t0 || s.from >= t1 + a) continue;
        let j = Math.max(0, Math.floor((t0 - s.from) / a) - 1);
        for (; ; j++) {
          const b0 = s.from + j * a;
          if (b0 >= s.to || b0 >= t1) break;
          const b1 = Math.min(s.from + (j + 1) * a, s.to);
          const end = b1 - 1;
          if (end < t0 || end >= t1) continue;
          emitSegment(env, rngOf(env, `${label}|${i}|${j}`), s, j, b0, b1, out);
        }
      }
    },
  };
}

function emitSegment(env: Env, rng: Rng, s: Stream, j: number, b0: number, b1: number, out: Emit): void {
  const seconds = Math.max(0.001, (b1 - b0) / 1000);
  const octets = around(rng, s.bytesPerS * seconds, s.variation ?? 0.2, s.packetSize);
  const packets = Math.max(1, Math.round(octets / s.packetSize));
  const first = j === 0;
  const last = b1 === s.to;
  let flags = 0;
  if (s.proto === PROTO.TCP) {
    flags = TCP.ACK | TCP.PSH;
    if (first && s.opens) flags |= TCP.SYN;
    if (last && s.closes) flags |= TCP.FIN;
  }
  out(
    flowRecord(env, {
      src: s.src,
      dst: s.dst,
      sport: s.sport,
      dport: s.dport,
      proto: s.proto,
      packets,
      octets,
      start: b0 + (first ? 0 : rng.int(50)),
      end: b1 - 1,
      flags,
      ttl: s.ttl,
      endReason:
        last && s.closes
          ? END_REASON.end
          : last && s.proto === PROTO.UDP
            ? END_REASON.idle
            : END_REASON.active,
    }),
  );
}

/**
 * The acknowledgement stream of a TCP upload: one 40/60-byte ACK per two segments (delayed ACKs),
 * a few bytes of application data on top.
 */
export function ackStream(s: Stream, ttl: [number, number]): Stream {
  const hdr = TCP_HEADER[familyOf(s.src)];
  const pps = s.bytesPerS / s.packetSize / 2;
  return {
    src: s.dst,
    dst: s.src,
    sport: s.dport,
    dport: s.sport,
    proto: s.proto,
    from: s.from,
    to: s.to,
    bytesPerS: pps * hdr + 20,
    packetSize: hdr + 1,
    ttl,
    opens: s.opens,
    closes: s.closes,
    variation: 0.1,
  };
}

/** IP + UDP header bytes of the family of `address`. */
export function udpHeader(address: string): number {
  return UDP_HEADER[familyOf(address)];
}
