/**
 * Outbound misuse over long TCP connections: `exfiltration` (a slow, large upload from an
 * operator host to a foreign host over hours) and `long-connection` (a connection to a foreign
 * host kept open for hours).
 */
import type { DetectorName } from '../traffic/types.ts';
import { defineScenario } from './define.ts';
import { PROTO, TCP_HEADER, ephemeralPort, ttlOf } from './records.ts';
import { endpoints, rngOf, type Env, type Part } from './run.ts';
import { sameFamily } from './scans.ts';
import { ackStream, streamPart, type Stream } from './streams.ts';
import { familyOf } from './world.ts';

/** Options of an exfiltration part (shared with `campaign`). */
export interface Exfiltration {
  host: string;
  drop: string;
  port: number;
  totalBytes: number;
  sessions: number;
  from: number;
  to: number;
  kind: string;
}

function outboundTruth(
  host: string,
  peer: string,
  kind: string,
  detectors: DetectorName[],
): NonNullable<Part['describe']> {
  return (r) => {
    const [s] = endpoints(r);
    return s === host
      ? { kind, detectors, attackers: [peer], victims: [host] }
      : { kind: `${kind}-responses`, detectors: [], attackers: [peer], victims: [host] };
  };
}

/**
 * The upload: `sessions` consecutive TCP connections, each over 85 % of its share of the window
 * (a pause between them), together carrying `totalBytes` at a steady rate.
 */
export function exfiltrationPart(env: Env, label: string, o: Exfiltration): Part {
  sameFamily(o.host, o.drop);
  const rng = rngOf(env, `${label}|setup`);
  const slot = (o.to - o.from) / o.sessions;
  const active = Math.max(1, Math.floor(slot * 0.85));
  const bytesPerS = o.totalBytes / ((active * o.sessions) / 1000);
  const hostTtl = ttlOf(env, o.host);
  const dropTtl = ttlOf(env, o.drop);
  const streams: Stream[] = [];
  for (let i = 0; i < o.sessions; i++) {
    const from = Math.floor(o.from + i * slot);
    const s: Stream = {
      src: o.host,
      dst: o.drop,
      sport: ephemeralPort(rng),
      dport: o.port,
      proto: PROTO.TCP,
      from,
      to: Math.min(o.to, from + active),
      bytesPerS,
      packetSize: 1400 + TCP_HEADER[familyOf(o.host)] - 40,
      ttl: hostTtl,
      opens: true,
      closes: true,
    };
    streams.push(s, ackStream(s, dropTtl));
  }
  const part = streamPart(env, label, streams);
  part.describe = outboundTruth(o.host, o.drop, o.kind, ['exfiltration']);
  return part;
}

/** Parses a byte size: a number of bytes or text with a unit (`500MB`, `2GB`, `750k`). */
export function parseBytes(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(v);
  if (!m) return undefined;
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 }[m[2]!.toLowerCase()] ?? 1;
  return Number(m[1]) * mult;
}

export const exfiltration = defineScenario({
  name: 'exfiltration',
  description:
    "A domestic operator host uploads a large volume slowly to a foreign host over hours: a few long TCP connections at a steady rate, exported every active timeout (60 s). Visible through specified-domestic-to-foreign; the foreign side's acknowledgements through the foreign-to-domestic channel of the host.",
  defaultDurationMs: 2 * 3600_000,
  params: [
    {
      name: 'volume',
      default: '2GB',
      description: 'Bytes uploaded over the whole window (× intensity); units k, M, G, T.',
    },
    { name: 'sessions', default: 4, description: 'Consecutive TCP connections carrying the upload.' },
    { name: 'port', default: 443, description: 'Destination port.' },
    {
      name: 'destination',
      default: 'generic',
      description: 'Kind of foreign host: generic (a rented server) | cloud.',
    },
  ],
  build(env, x) {
    const rng = rngOf(env, 'setup');
    const raw = x.text('volume', /^\s*\d+(\.\d+)?\s*([kKmMgGtT]i?[bB]?|[bB])?\s*$/);
    const totalBytes = (parseBytes(raw) ?? 0) * env.p.intensity;
    const dest = x.choice('destination', ['generic', 'cloud'] as const);
    const host = env.p.sources?.[0] ?? env.world.pickOperatorTarget(rng, env.p.start).address;
    const drop = env.p.targets?.[0] ?? env.world.pickForeign(rng, familyOf(host), [dest]);
    return [
      exfiltrationPart(env, 'upload', {
        host,
        drop,
        port: x.num('port', 1, 65535, true),
        totalBytes: Math.max(1, totalBytes),
        sessions: x.num('sessions', 1, 1000, true),
        from: env.p.start,
        to: env.p.end,
        kind: 'exfiltration',
      }),
    ];
  },
});

export const longConnection = defineScenario({
  name: 'long-connection',
  description:
    "A domestic host keeps one TCP connection to a foreign host open for hours with a trickle of data both ways; the exporter reports it every active timeout (60 s) until it closes at the end of the window. Visible through specified-domestic-to-foreign (the other direction through the host's foreign-to-domestic channel).",
  defaultDurationMs: 4 * 3600_000,
  params: [
    { name: 'port', default: 443, description: 'Destination port.' },
    {
      name: 'bytesPerSecond',
      default: 200,
      description: 'Mean upload rate (× intensity); the download runs at 1.5 times it.',
    },
    {
      name: 'closeAtEnd',
      default: true,
      description: 'The connection closes (FIN) at the end of the window; otherwise it is still open.',
    },
    {
      name: 'activeTimeout',
      default: '60s',
      description: 'Exporter active timeout: one record per direction this often.',
    },
  ],
  build(env, x) {
    const rng = rngOf(env, 'setup');
    const host = env.p.sources?.[0] ?? env.world.pickSubscriber(rng);
    const peer = env.p.targets?.[0] ?? env.world.pickForeign(rng, familyOf(host), ['generic', 'vpn']);
    sameFamily(host, peer);
    const rate = x.num('bytesPerSecond', 1, 1e10) * env.p.intensity;
    const closes = x.bool('closeAtEnd');
    const port = x.num('port', 1, 65535, true);
    const hdr = TCP_HEADER[familyOf(host)];
    const sport = ephemeralPort(rng);
    const up: Stream = {
      src: host,
      dst: peer,
      sport,
      dport: port,
      proto: PROTO.TCP,
      from: env.p.start,
      to: env.p.end,
      bytesPerS: rate,
      packetSize: hdr + 180,
      ttl: ttlOf(env, host),
      opens: true,
      closes,
      variation: 0.3,
    };
    const down: Stream = {
      ...up,
      src: peer,
      dst: host,
      sport: port,
      dport: sport,
      bytesPerS: rate * 1.5,
      packetSize: hdr + 260,
      ttl: ttlOf(env, peer),
    };
    const part = streamPart(env, 'connection', [up, down], x.duration('activeTimeout', 1000, 3600_000));
    part.describe = outboundTruth(host, peer, 'long-connection', ['long-connection']);
    return [part];
  },
});
