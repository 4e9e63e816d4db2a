/**
 * `brute-force-ssh` and `brute-force-rdp`: a foreign source opens short authentication sessions
 * to an operator host at a steady rate, each a complete TCP connection that fails.
 */
import type { ScenarioName } from '../traffic/types.ts';
import { defineScenario } from './define.ts';
import { PROTO, TCP_SESSION, ephemeralPort, flowRecord, ttlOf } from './records.ts';
import { around, endpoints, eventPart, pacedTimes, rngOf, type Env, type Part } from './run.ts';
import { checkEventCount, sameFamily } from './scans.ts';
import { familyOf } from './world.ts';

/** Per-protocol session shape: packets and bytes of each direction of one failed login. */
const SHAPES = {
  ssh: { port: 22, cPk: [10, 30], cBytes: 2600, sPk: [9, 24], sBytes: 3300, ms: [600, 4000] },
  rdp: { port: 3389, cPk: [14, 30], cBytes: 4200, sPk: [12, 28], sBytes: 6800, ms: [900, 5000] },
} as const;

/** Options of a brute-force part (shared with `campaign`). */
export interface BruteForce {
  attacker: string;
  target: string;
  protocol: keyof typeof SHAPES;
  perMinute: number;
  from: number;
  to: number;
  kind: string;
}

/** The attempts of one attacker against one target. */
export function bruteForcePart(env: Env, label: string, o: BruteForce): Part {
  sameFamily(o.attacker, o.target);
  const s = SHAPES[o.protocol];
  const rng = rngOf(env, `${label}|times`);
  const n = checkEventCount(((o.to - o.from) / 60_000) * o.perMinute + 1, 'brute-force');
  const times = pacedTimes(rng, n, o.from, o.to, o.perMinute / 60);
  const base = ephemeralPort(rng);
  const aTtl = ttlOf(env, o.attacker);
  const tTtl = ttlOf(env, o.target);
  const part = eventPart(env, label, times, s.ms[1] + 500, (i, time, r, out) => {
    const d = r.range(s.ms[0], s.ms[1]);
    const rtt = r.range(30, 250);
    // The client's kernel hands out ports in sequence, a few apart between attempts.
    const sport = 32768 + ((base - 32768 + i * r.range(1, 7)) % 28232);
    const cp = r.range(s.cPk[0], s.cPk[1]);
    const sp = Math.min(cp, r.range(s.sPk[0], s.sPk[1]));
    out(
      flowRecord(env, {
        src: o.attacker,
        dst: o.target,
        sport,
        dport: s.port,
        proto: PROTO.TCP,
        packets: cp,
        octets: around(r, (s.cBytes * cp) / 20, 0.1, cp * 40),
        start: time,
        end: time + d,
        flags: TCP_SESSION,
        ttl: aTtl,
      }),
    );
    out(
      flowRecord(env, {
        src: o.target,
        dst: o.attacker,
        sport: s.port,
        dport: sport,
        proto: PROTO.TCP,
        packets: sp,
        octets: around(r, (s.sBytes * sp) / 18, 0.1, sp * 40),
        start: time + Math.floor(rtt / 2),
        end: time + d - Math.floor(rtt / 2),
        flags: TCP_SESSION,
        ttl: tTtl,
      }),
    );
  });
  part.describe = (r) => {
    const [src] = endpoints(r);
    return src === o.attacker
      ? { kind: o.kind, detectors: ['brute-force'], attackers: [o.attacker], victims: [o.target] }
      : { kind: `${o.kind}-responses`, detectors: [], attackers: [o.attacker], victims: [o.target] };
  };
  return part;
}

function bruteScenario(name: ScenarioName, protocol: keyof typeof SHAPES) {
  const s = SHAPES[protocol];
  return defineScenario({
    name,
    description: `A foreign source tries ${protocol.toUpperCase()} logins (TCP ${s.port}) on an operator host at a steady rate: many complete, short connections of ${s.cPk[0]}-${s.cPk[1]} packets. Visible through agreement-foreign-to-domestic (specified-foreign-to-domestic without an agreement in force); the server's side through specified-domestic-to-foreign.`,
    defaultDurationMs: 30 * 60_000,
    params: [
      {
        name: 'rate',
        default: 20,
        description: 'Login attempts (connections) per minute per attacker (× intensity).',
      },
      {
        name: 'attackers',
        default: 1,
        description: 'Foreign sources (when `sources` is not given), each at `rate`.',
      },
    ],
    build(env, x) {
      const rng = rngOf(env, 'setup');
      const perMinute = x.num('rate', 0.01, 1e6) * env.p.intensity;
      const n = x.num('attackers', 1, 1000, true);
      const target = env.p.targets?.[0] ?? env.world.pickOperatorTarget(rng, env.p.start).address;
      const attackers = env.p.sources ?? env.world.pickForeignMany(rng, n, familyOf(target));
      return attackers.map((attacker, i) =>
        bruteForcePart(env, `attempts-${i}`, {
          attacker,
          target,
          protocol,
          perMinute,
          from: env.p.start,
          to: env.p.end,
          kind: 'brute-force',
        }),
      );
    },
  });
}

export const bruteForceSsh = bruteScenario('brute-force-ssh', 'ssh');
export const bruteForceRdp = bruteScenario('brute-force-rdp', 'rdp');
