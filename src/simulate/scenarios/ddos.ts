/**
 * `ddos-reflection` (amplified UDP answers from reflectors abroad) and `ddos-flood` (SYN or UDP
 * flood from many foreign sources) against an operator's important system.
 */
import type { Rng } from '../country/index.ts';
import { defineScenario } from './define.ts';
import { PROTO, TCP, TCP_HEADER, END_REASON, ephemeralPort, flowRecord, ttlOf } from './records.ts';
import { endpoints, ratePart, rngOf, type Part, type TruthPart } from './run.ts';
import { sameFamily } from './scans.ts';
import { streamPart, udpHeader, type Stream } from './streams.ts';
import { familyOf } from './world.ts';

/** Reflection vectors: service port and the size range of one reflected packet on the wire. */
export const REFLECTION_VECTORS = {
  // DNS ANY/TXT answers of several KB leave as 1500-byte IP fragments.
  dns: { port: 53, min: 1100, max: 1500 },
  // NTP monlist: up to 100 packets of 468 bytes per request.
  ntp: { port: 123, min: 468, max: 468 },
  // SSDP M-SEARCH answers: several ~300-byte packets.
  ssdp: { port: 1900, min: 280, max: 380 },
  // memcached stats/get: UDP frames of up to 1400 bytes.
  memcached: { port: 11211, min: 1100, max: 1428 },
  // CLDAP searchResEntry: ~3 KB answers, fragmented.
  cldap: { port: 389, min: 1200, max: 1500 },
} as const;

/** A reflection vector name. */
export type ReflectionVector = keyof typeof REFLECTION_VECTORS;

/** Records above which a part's truth is stated rather than learned by producing it twice. */
const DRY_RUN_LIMIT = 300_000;

/** Lognormal-ish weights: a few sources carry much of an attack, as in real botnets. */
function weights(rng: Rng, n: number): number[] {
  const w = Array.from({ length: n }, () => Math.exp(rng.float() * 2));
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s);
}

/** Attack onset: sources join within the first seconds. */
function onset(rng: Rng, from: number, to: number): number {
  return Math.min(to - 1, from + rng.int(Math.min(5000, Math.max(1, to - from))));
}

/** Stream truth learned by dry run: the sources attack the victim. */
function attackTruth(victim: string, kind: string): NonNullable<Part['describe']> {
  return (r) => {
    const [s, d] = endpoints(r);
    return d === victim ? { kind, detectors: ['ddos'], attackers: [s], victims: [victim] } : undefined;
  };
}

export const ddosReflection = defineScenario({
  name: 'ddos-reflection',
  description:
    "Reflectors abroad send amplified UDP answers (DNS, NTP, SSDP, memcached or CLDAP; source port = the service) to an operator's important system whose address the attacker spoofed: many sources, large packets, a few destination ports. Visible through agreement-foreign-to-domestic (specified-foreign-to-domestic when the operator has no agreement in force). The spoofed requests travel abroad and are not seen.",
  defaultDurationMs: 5 * 60_000,
  params: [
    { name: 'vector', default: 'dns', description: 'dns | ntp | ssdp | memcached | cldap.' },
    { name: 'reflectors', default: 300, description: 'Reflectors (when `sources` is not given).' },
    {
      name: 'pps',
      default: 20_000,
      description: 'Packets per second reaching the victim, all reflectors together (× intensity).',
    },
    {
      name: 'victimPorts',
      default: 2,
      description: 'Destination ports per reflector (the spoofed source ports of the requests).',
    },
  ],
  build(env, x) {
    const rng = rngOf(env, 'setup');
    const vector = x.choice('vector', Object.keys(REFLECTION_VECTORS) as ReflectionVector[]);
    const v = REFLECTION_VECTORS[vector];
    const n = x.num('reflectors', 1, 100_000, true);
    const pps = x.num('pps', 0.01, 1e8) * env.p.intensity;
    const portsPer = x.num('victimPorts', 1, 64, true);
    const victim = env.p.targets?.[0] ?? env.world.pickOperatorTarget(rng, env.p.start).address;
    const reflectors = env.p.sources ?? env.world.pickForeignMany(rng, n, familyOf(victim));
    for (const r of reflectors) sameFamily(r, victim);
    const w = weights(rng, reflectors.length);
    const ports = Array.from({ length: portsPer }, () => ephemeralPort(rng));
    const streams: Stream[] = [];
    reflectors.forEach((src, i) => {
      const from = onset(rng, env.p.start, env.p.end);
      const size = (v.min + v.max) / 2;
      for (const dport of ports)
        streams.push({
          src,
          dst: victim,
          sport: v.port,
          dport,
          proto: PROTO.UDP,
          from,
          to: env.p.end,
          bytesPerS: (pps * w[i]! * size) / ports.length,
          packetSize: size,
          ttl: ttlOf(env, src),
          variation: 0.15,
        });
    });
    const part = streamPart(env, 'reflect', streams);
    part.describe = attackTruth(victim, 'reflection');
    return [part];
  },
});

export const ddosFlood = defineScenario({
  name: 'ddos-flood',
  description:
    "Many foreign sources flood an operator's important system: `syn` sends single SYN packets from random source ports (one flow per packet, as a flow cache sees them), `udp` sends large datagrams (one long flow per source and port, exported every active timeout). Visible through agreement-foreign-to-domestic (specified-foreign-to-domestic without an agreement in force).",
  defaultDurationMs: 60_000,
  params: [
    { name: 'type', default: 'syn', description: 'syn | udp.' },
    { name: 'bots', default: 500, description: 'Attacking sources (when `sources` is not given).' },
    { name: 'pps', default: 1000, description: 'Packets per second reaching the victim (× intensity).' },
    { name: 'port', default: 443, description: 'Destination port (udp: 0 = random per source).' },
  ],
  build(env, x) {
    const rng = rngOf(env, 'setup');
    const type = x.choice('type', ['syn', 'udp'] as const);
    const n = x.num('bots', 1, 100_000, true);
    const pps = x.num('pps', 0.01, 1e8) * env.p.intensity;
    const port = x.num('port', 0, 65535, true);
    const victim = env.p.targets?.[0] ?? env.world.pickOperatorTarget(rng, env.p.start).address;
    const bots = env.p.sources ?? env.world.pickForeignMany(rng, n, familyOf(victim));
    for (const b of bots) sameFamily(b, victim);
    if (type === 'udp') {
      const w = weights(rng, bots.length);
      const streams: Stream[] = bots.map((src, i) => {
        const size = rng.range(512, 1472) + udpHeader(src) - 28;
        return {
          src,
          dst: victim,
          sport: ephemeralPort(rng),
          dport: port || rng.range(1, 65535),
          proto: PROTO.UDP,
          from: onset(rng, env.p.start, env.p.end),
          to: env.p.end,
          bytesPerS: pps * w[i]! * size,
          packetSize: size,
          ttl: ttlOf(env, src),
          variation: 0.1,
        };
      });
      const part = streamPart(env, 'udp', streams);
      part.describe = attackTruth(victim, 'flood');
      return [part];
    }
    const hdr = TCP_HEADER[familyOf(victim)];
    const part = ratePart(env, 'syn', env.p.start, env.p.end, pps, 0, (time, r, out) => {
      const src = r.pick(bots);
      out(
        flowRecord(env, {
          src,
          dst: victim,
          sport: r.range(1024, 65535),
          dport: port || 80,
          proto: PROTO.TCP,
          packets: 1,
          octets: hdr + r.pick([0, 0, 4, 12, 20]),
          start: time,
          end: time,
          flags: TCP.SYN,
          ttl: ttlOf(env, src),
          endReason: END_REASON.idle,
        }),
      );
    });
    if ((pps * env.p.durationMs) / 1000 <= DRY_RUN_LIMIT) part.describe = attackTruth(victim, 'flood');
    else
      part.staticTruth = (): TruthPart[] => {
        const channel = env.world.channel(bots[0]!, victim, env.p.start);
        return channel
          ? [
              {
                kind: 'flood',
                channel,
                attackers: [...bots],
                victims: [victim],
                start: env.p.start,
                end: env.p.end - 1,
                detectors: ['ddos'],
              },
            ]
          : [];
      };
    return [part];
  },
});
