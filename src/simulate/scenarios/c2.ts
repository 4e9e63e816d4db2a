/**
 * `c2-beacon`: an infected domestic host calls its foreign command-and-control server at a period
 * with jitter, over HTTPS, an odd TCP port, or DNS queries through its provider's resolver.
 */
import type { Rng } from '../country/index.ts';
import type { DetectorName } from '../traffic/types.ts';
import { ScenarioParamError } from './errors.ts';
import { defineScenario } from './define.ts';
import { indicatorMatches } from './indicators.ts';
import {
  PROTO,
  TCP_SESSION,
  UDP_HEADER,
  base32Text,
  dnsRecord,
  ephemeralPort,
  flowRecord,
  randomText,
  resolverOf,
  ttlOf,
} from './records.ts';
import { around, endpoints, eventPart, rngOf, type Env, type Part } from './run.ts';
import { checkEventCount, sameFamily } from './scans.ts';
import { familyOf } from './world.ts';

/** How a beacon reaches its C2. */
export type BeaconTransport = 'https' | 'odd-port' | 'dns';

/** Options of a beacon part (shared with `campaign`). */
export interface Beacon {
  host: string;
  c2: string;
  /** C2 domain (DNS transport). */
  domain: string;
  transport: BeaconTransport;
  port: number;
  periodMs: number;
  /** Relative jitter: each interval is period × (1 ± jitter), uniform. */
  jitter: number;
  requestBytes: number;
  responseBytes: number;
  dnsType: 'TXT' | 'A';
  from: number;
  to: number;
  kind: string;
}

/** Beacon times: a random phase, then intervals of period × (1 ± jitter). */
export function beaconTimes(
  rng: Rng,
  from: number,
  to: number,
  periodMs: number,
  jitter: number,
): Float64Array {
  checkEventCount((to - from) / (periodMs * (1 - Math.min(jitter, 0.9))), 'beacon');
  const out: number[] = [];
  let t = from + rng.float() * Math.min(periodMs, to - from);
  while (t < to) {
    out.push(Math.floor(t));
    t += periodMs * (1 + (rng.float() * 2 - 1) * jitter);
  }
  return Float64Array.from(out);
}

const C2_WORDS = [
  'cdn',
  'update',
  'sync',
  'api',
  'static',
  'cloud',
  'secure',
  'telemetry',
  'metrics',
  'edge',
  'assets',
  'mail',
  'portal',
  'data',
];
const C2_TLDS = ['com', 'net', 'info', 'xyz', 'top', 'online', 'site'];

/** A plausible C2 domain (`sync-edge.net`). */
export function c2Domain(rng: Rng): string {
  return `${rng.pick(C2_WORDS)}-${rng.pick(C2_WORDS)}${rng.range(1, 99)}.${rng.pick(C2_TLDS)}`;
}

/** Detectors of the beacon: `beacon`, plus `indicator` when the C2 (address or domain) is listed. */
export function beaconDetectors(env: Env, b: Beacon): DetectorName[] {
  const listed = indicatorMatches(env.ctx.indicators, b.transport === 'dns' ? b.domain : b.c2, b.from);
  return listed ? ['beacon', 'indicator'] : ['beacon'];
}

/** The beacon's parts. */
export function beaconParts(env: Env, label: string, b: Beacon): Part[] {
  sameFamily(b.host, b.c2);
  const times = beaconTimes(rngOf(env, `${label}|times`), b.from, b.to, b.periodMs, b.jitter);
  const detectors = beaconDetectors(env, b);
  const hostTtl = ttlOf(env, b.host);
  const c2Ttl = ttlOf(env, b.c2);
  if (b.transport === 'dns') {
    const session = randomText(rngOf(env, `${label}|session`), 6, '0123456789abcdef');
    const part = eventPart(env, label, times, 2000, (i, time, r, out) => {
      const resolver = resolverOf(env, b.host, r);
      const qname = `${base32Text(r, r.range(16, 28))}.${session}${i.toString(16)}.${b.domain}`;
      const qtype = b.dnsType === 'TXT' ? 16 : 1;
      const upstreamRtt = r.range(60, 250);
      // The resolver has no cache for a unique name: it asks the C2's name server (abroad).
      const q = time + r.range(1, 3);
      const qBytes = UDP_HEADER[familyOf(resolver)] + 12 + qname.length + 2 + 4 + 11;
      const txt = b.dnsType === 'TXT' ? around(r, b.responseBytes, 0.05, 8) : 0;
      const aBytes = qBytes + (b.dnsType === 'TXT' ? 12 + txt + 1 : 16);
      const ns = familyOf(resolver) === familyOf(b.c2) ? b.c2 : undefined;
      if (ns) {
        const sport = ephemeralPort(r);
        out(
          flowRecord(env, {
            src: resolver,
            dst: ns,
            sport,
            dport: 53,
            proto: PROTO.UDP,
            packets: 1,
            octets: qBytes,
            start: q,
            end: q,
            ttl: ttlOf(env, resolver),
          }),
        );
        out(
          flowRecord(env, {
            src: ns,
            dst: resolver,
            sport: 53,
            dport: sport,
            proto: PROTO.UDP,
            packets: 1,
            octets: aBytes,
            start: q + upstreamRtt,
            end: q + upstreamRtt,
            ttl: c2Ttl,
          }),
        );
      }
      const done = q + upstreamRtt + r.range(1, 4);
      out(
        dnsRecord(env, {
          client: b.host,
          resolver,
          clientPort: ephemeralPort(r),
          time: done,
          rttMs: done - time,
          id: r.int(65536),
          qname,
          qtype,
          rcode: 0,
          answers:
            b.dnsType === 'TXT'
              ? [{ name: qname, type: 16, ttl: 0 }]
              : [{ name: qname, type: 1, ttl: 0, data: b.c2 }],
          txtSizes: b.dnsType === 'TXT' ? [txt] : undefined,
        }),
      );
    });
    part.describe = (r) => {
      if (r.kind === 'dns')
        return { kind: b.kind, detectors, attackers: b.dnsType === 'A' ? [b.c2] : [], victims: [b.host] };
      const [s] = endpoints(r);
      return {
        kind: `${b.kind}-dns-upstream`,
        detectors: [],
        attackers: [b.c2],
        victims: [s === b.c2 ? endpoints(r)[1] : s],
      };
    };
    return [part];
  }
  const part = eventPart(env, label, times, 3000, (_i, time, r, out) => {
    const rtt = r.range(40, 260);
    const d = rtt * 3 + r.range(50, 400);
    const sport = ephemeralPort(r);
    const reqPackets = b.transport === 'https' ? r.range(8, 11) : r.range(4, 6);
    const respPackets = b.transport === 'https' ? r.range(7, 10) : r.range(3, 5);
    out(
      flowRecord(env, {
        src: b.host,
        dst: b.c2,
        sport,
        dport: b.port,
        proto: PROTO.TCP,
        packets: reqPackets,
        octets: around(r, b.requestBytes, 0.05),
        start: time,
        end: time + d,
        flags: TCP_SESSION,
        ttl: hostTtl,
      }),
    );
    out(
      flowRecord(env, {
        src: b.c2,
        dst: b.host,
        sport: b.port,
        dport: sport,
        proto: PROTO.TCP,
        packets: respPackets,
        octets: around(r, b.responseBytes, 0.05),
        start: time + Math.floor(rtt / 2),
        end: time + d - Math.floor(rtt / 2),
        flags: TCP_SESSION,
        ttl: c2Ttl,
      }),
    );
  });
  part.describe = (r) => {
    const [s] = endpoints(r);
    return s === b.host
      ? { kind: b.kind, detectors, attackers: [b.c2], victims: [b.host] }
      : { kind: `${b.kind}-responses`, detectors: [], attackers: [b.c2], victims: [b.host] };
  };
  return [part];
}

export const c2Beacon = defineScenario({
  name: 'c2-beacon',
  description:
    "An infected domestic host calls a foreign command-and-control server every period with jitter, with small requests and answers of nearly constant size, over HTTPS (443), an odd TCP port, or DNS (unique names under the C2 domain through its provider's resolver). Flows: specified-domestic-to-foreign (answers: specified-foreign-to-domestic); DNS: operator-telemetry, plus the resolver's queries to the C2 name server (specified-domestic-to-foreign).",
  defaultDurationMs: 60 * 60_000,
  params: [
    { name: 'period', default: '60s', description: 'Beacon period (divided by intensity).' },
    { name: 'jitter', default: 0.1, description: 'Relative jitter of each interval (0.1 = ±10 %, uniform).' },
    { name: 'transport', default: 'https', description: 'https | odd-port | dns.' },
    { name: 'port', default: 0, description: 'Destination port (0: 443 for https, 4444 for odd-port).' },
    {
      name: 'hosts',
      default: 1,
      description: 'Infected IPv4 subscribers beaconing to the same C2 (when `sources` is not given).',
    },
    { name: 'requestBytes', default: 1200, description: 'Bytes of one beacon request flow (±5 %).' },
    {
      name: 'responseBytes',
      default: 4200,
      description: 'Bytes of one answer flow (±5 %); TXT text bytes for DNS.',
    },
    { name: 'dnsType', default: 'TXT', description: 'DNS transport: TXT or A queries.' },
    {
      name: 'c2FromIndicators',
      default: false,
      description:
        'Take the C2 address (or domain for DNS) from the indicator set, so `indicator` must fire too.',
    },
  ],
  build(env, x) {
    const rng = rngOf(env, 'setup');
    const transport = x.choice('transport', ['https', 'odd-port', 'dns'] as const);
    const periodMs = x.duration('period', 1000, 24 * 3600_000) / env.p.intensity;
    if (periodMs < 100) throw new ScenarioParamError('intensity', 'beacon period below 100 ms');
    const portParam = x.num('port', 0, 65535, true);
    const hostsN = x.num('hosts', 1, 1000, true);
    const fromIoc = x.bool('c2FromIndicators');
    const hosts =
      env.p.sources ??
      [...new Set(Array.from({ length: hostsN * 3 }, () => env.world.pickSubscriber(rng)))].slice(0, hostsN);
    const fam = familyOf(hosts[0]!);
    let c2 = env.p.targets?.[0];
    let domain = c2Domain(rng);
    if (fromIoc) {
      const ips = env.ctx.indicators.filter(
        (i) => (i.type === 'ipv4' || i.type === 'ipv6') && familyOf(i.value) === fam,
      );
      const doms = env.ctx.indicators.filter((i) => i.type === 'domain');
      if (transport === 'dns' ? doms.length === 0 : ips.length === 0)
        throw new ScenarioParamError('extra.c2FromIndicators', 'the indicator set has no usable entry');
      if (transport === 'dns') domain = rng.pick(doms).value;
      else c2 ??= rng.pick(ips).value;
    }
    c2 ??= env.world.pickForeign(rng, fam, ['generic', 'cloud']);
    const dnsType = x.choice('dnsType', ['TXT', 'A'] as const);
    return hosts.flatMap((host, i) =>
      beaconParts(env, `beacon-${i}`, {
        host,
        c2,
        domain,
        transport,
        port: portParam || (transport === 'https' ? 443 : 4444),
        periodMs,
        jitter: x.num('jitter', 0, 0.9),
        requestBytes: x.num('requestBytes', 40, 1e9),
        responseBytes: x.num('responseBytes', 1, 1e9),
        dnsType,
        from: env.p.start,
        to: env.p.end,
        kind: 'c2',
      }),
    );
  },
});
