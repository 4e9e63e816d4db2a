/**
 * Scans: `mirai-scan` (infected domestic IoT scanning Telnet at home and abroad),
 * `scan-horizontal` (one foreign source, one port, many domestic targets) and `scan-vertical`
 * (one foreign source, many ports of one operator host).
 */
import type { DetectorName } from '../traffic/types.ts';
import { ScenarioParamError } from './errors.ts';
import { defineScenario } from './define.ts';
import { PROTO, TCP, TCP_HEADER, END_REASON, ephemeralPort, flowRecord, ttlOf } from './records.ts';
import {
  MAX_EVENTS,
  endpoints,
  eventPart,
  pacedTimes,
  ratePart,
  rngOf,
  shuffle,
  type Emit,
  type Env,
  type Part,
  type RecordTruth,
} from './run.ts';
import { familyOf } from './world.ts';
import type { Rng } from '../country/index.ts';

/** Refuses a source and a target of different address families. */
export function sameFamily(source: string, target: string): void {
  if (familyOf(source) !== familyOf(target))
    throw new ScenarioParamError('targets', `${source} and ${target} are of different address families`);
}

/** Refuses parameter combinations that would precompute more than `MAX_EVENTS` events. */
export function checkEventCount(n: number, what: string): number {
  if (!Number.isFinite(n) || n > MAX_EVENTS)
    throw new ScenarioParamError(
      'intensity',
      `${what}: ${Math.round(n)} events exceed the limit of ${MAX_EVENTS}`,
    );
  return Math.max(0, Math.floor(n));
}

/** Truth of a probe/response part: records from `attacker` are the attack, the others answers. */
export function probeTruth(attackers: ReadonlySet<string>, kind: string, detectors: DetectorName[]) {
  return (r: Parameters<NonNullable<Part['describe']>>[0]): RecordTruth => {
    const [s, d] = endpoints(r);
    return attackers.has(s)
      ? { kind, detectors, attackers: [s], victims: [d] }
      : { kind: `${kind}-responses`, detectors: [], attackers: [d], victims: [s] };
  };
}

/**
 * One TCP SYN probe and, if the target is alive, its answer: RST|ACK from a closed port, or
 * SYN|ACK from an open one followed by the scanner's RST (a stateless scanner's kernel resets it).
 */
export function probe(
  env: Env,
  rng: Rng,
  out: Emit,
  o: {
    src: string;
    dst: string;
    sport: number;
    dport: number;
    time: number;
    size: number;
    ttlInit: number;
    answer: 'none' | 'closed' | 'open';
  },
): void {
  const fam = familyOf(o.src);
  const hdr = TCP_HEADER[fam];
  const scannerTtl = ttlOf(env, o.src, o.ttlInit);
  out(
    flowRecord(env, {
      src: o.src,
      dst: o.dst,
      sport: o.sport,
      dport: o.dport,
      proto: PROTO.TCP,
      packets: 1,
      octets: o.size,
      start: o.time,
      end: o.time,
      flags: TCP.SYN,
      ttl: scannerTtl,
      endReason: END_REASON.idle,
    }),
  );
  if (o.answer === 'none') return;
  const rtt = rng.range(15, 280);
  const t1 = o.time + rtt;
  if (t1 >= env.p.end) return;
  const targetTtl = ttlOf(env, o.dst);
  out(
    flowRecord(env, {
      src: o.dst,
      dst: o.src,
      sport: o.dport,
      dport: o.sport,
      proto: PROTO.TCP,
      packets: 1,
      octets: o.answer === 'open' ? hdr + 4 : hdr,
      start: t1,
      end: t1,
      flags: o.answer === 'open' ? TCP.SYN | TCP.ACK : TCP.RST | TCP.ACK,
      ttl: targetTtl,
      endReason: o.answer === 'open' ? END_REASON.idle : END_REASON.end,
    }),
  );
  const t2 = t1 + rng.range(0, 2);
  if (o.answer === 'open' && t2 < env.p.end)
    out(
      flowRecord(env, {
        src: o.src,
        dst: o.dst,
        sport: o.sport,
        dport: o.dport,
        proto: PROTO.TCP,
        packets: 1,
        octets: hdr,
        start: t2,
        end: t2,
        flags: TCP.RST,
        ttl: scannerTtl,
        endReason: END_REASON.end,
      }),
    );
}

// ---- mirai-scan -------------------------------------------------------------------------------

export const miraiScan = defineScenario({
  name: 'mirai-scan',
  description:
    'Infected domestic IoT subscribers scan random addresses at home and abroad on TCP 23 (90 %) and 2323 (10 %) with single SYN packets, as Mirai does. The abroad part is visible through specified-domestic-to-foreign; the domestic part is generated but never selected, so the truth has no line for it.',
  defaultDurationMs: 10 * 60_000,
  params: [
    { name: 'infected', default: 3, description: 'Infected IPv4 subscribers (when `sources` is not given).' },
    { name: 'rate', default: 8, description: 'Probes per second per infected host (× intensity).' },
    {
      name: 'domesticShare',
      default: 0.2,
      description: 'Share of probes aimed at domestic space (the rest go abroad).',
    },
    {
      name: 'responseShare',
      default: 0.03,
      description: 'Share of probed addresses that answer (RST, or SYN-ACK from an open Telnet port).',
    },
  ],
  build(env, x) {
    const rng = rngOf(env, 'setup');
    const infected = x.num('infected', 1, 10_000, true);
    const rate = x.num('rate', 0.001, 100_000) * env.p.intensity;
    const domesticShare = x.num('domesticShare', 0, 1);
    const responseShare = x.num('responseShare', 0, 1);
    const sources =
      env.p.sources ??
      [...new Set(Array.from({ length: infected * 3 }, () => env.world.pickSubscriber(rng)))].slice(
        0,
        infected,
      );
    const targets = env.p.targets;
    const parts: Part[] = sources.map((src, i) => {
      const fam = familyOf(src);
      const ttlInit = 64; // Mirai's raw SYN carries the Linux default TTL.
      return ratePart(env, `probe-${i}`, env.p.start, env.p.end, rate, 300, (time, r, out) => {
        let dst = targets
          ? r.pick(targets)
          : r.chance(domesticShare)
            ? env.world.randomDomestic(r, fam)
            : env.world.randomForeign(r, fam);
        if (dst === src || familyOf(dst) !== fam) dst = env.world.randomForeign(r, fam);
        const size = TCP_HEADER[fam] + (r.chance(0.8) ? 0 : r.pick([4, 20]));
        const answer = r.chance(responseShare) ? (r.chance(0.2) ? 'open' : 'closed') : 'none';
        probe(env, r, out, {
          src,
          dst,
          sport: r.range(1024, 65535),
          dport: r.chance(0.9) ? 23 : 2323,
          time,
          size,
          ttlInit,
          answer,
        });
      });
    });
    const attackers = new Set(sources);
    const describe = probeTruth(attackers, 'scan', ['scan']);
    for (const p of parts) p.describe = describe;
    return parts;
  },
});

// ---- scan-horizontal --------------------------------------------------------------------------

/** Options of a horizontal scan part (shared with `campaign`). */
export interface HorizontalScan {
  scanner: string;
  port: number;
  ratePerS: number;
  targets: string[];
  liveShare: number;
  openShare: number;
  from: number;
  to: number;
  kind: string;
}

/** A horizontal scan: targets in the given order at a steady rate, each probed once. */
export function horizontalScanPart(env: Env, label: string, o: HorizontalScan): Part {
  const rng = rngOf(env, `${label}|times`);
  const times = pacedTimes(rng, o.targets.length, o.from, o.to, o.ratePerS);
  const sportBase = ephemeralPort(rng);
  const part = eventPart(env, label, times, 600, (i, time, r, out) => {
    const live = r.chance(o.liveShare);
    const answer = !live ? 'none' : r.chance(o.openShare) ? 'open' : 'closed';
    // zmap/masscan style: source ports cycle through a small range, TTL 255, SYN with MSS (44 bytes).
    probe(env, r, out, {
      src: o.scanner,
      dst: o.targets[i]!,
      sport: sportBase + (i % 256),
      dport: o.port,
      time,
      size: TCP_HEADER[familyOf(o.scanner)] + 4,
      ttlInit: 255,
      answer,
    });
  });
  part.describe = probeTruth(new Set([o.scanner]), o.kind, ['scan']);
  return part;
}

/** Targets of a horizontal scan: every host of some operators' ranges plus random domestic space. */
export function horizontalTargets(
  env: Env,
  rng: Rng,
  n: number,
  ops: number,
  family: 4 | 6,
  sector?: string,
): string[] {
  const opsList = env.world.operatorsByAgreement(env.p.start, sector);
  const covered = opsList.filter((o) => env.world.agreementCovers(o, env.p.start));
  const others = opsList.filter((o) => !env.world.agreementCovers(o, env.p.start));
  // Mostly operators under agreement, and one without when there is room, so both channels show.
  const chosen = [
    ...shuffle(rng, covered).slice(0, Math.max(1, ops - 1)),
    ...shuffle(rng, others).slice(0, 1),
  ].slice(0, ops);
  const list = new Set<string>();
  if (family === 4) for (const op of chosen) for (const h of env.world.operatorHosts(op)) list.add(h);
  for (let k = 0; list.size < n && k < n * 4; k++) list.add(env.world.randomDomestic(rng, family));
  return shuffle(rng, [...list]);
}

export const scanHorizontal = defineScenario({
  name: 'scan-horizontal',
  description:
    "One foreign source probes one TCP port on many domestic addresses (zmap/masscan style: SYN, random order, steady rate), including every host of some operators' ranges. Probes to operators under an active agreement are visible through agreement-foreign-to-domestic, the others through specified-foreign-to-domestic; answers of live hosts go back through specified-domestic-to-foreign.",
  defaultDurationMs: 10 * 60_000,
  params: [
    { name: 'port', default: 22, description: 'Destination port probed.' },
    {
      name: 'rate',
      default: 10,
      description: 'Probes per second (× intensity); the target list holds rate × duration addresses.',
    },
    {
      name: 'operators',
      default: 3,
      description: 'Operators whose ranges are swept in full (most with an active agreement, one without).',
    },
    { name: 'liveShare', default: 0.15, description: 'Share of targets that answer.' },
    {
      name: 'openShare',
      default: 0.3,
      description:
        "Share of answering targets with the port open (SYN-ACK, then the scanner's RST); the rest answer RST.",
    },
  ],
  build(env, x) {
    const rng = rngOf(env, 'setup');
    const port = x.num('port', 1, 65535, true);
    const rate = x.num('rate', 0.001, 100_000) * env.p.intensity;
    const ops = x.num('operators', 0, 1000, true);
    const scanner = env.p.sources?.[0] ?? env.world.pickForeign(rng, 4, ['generic']);
    const n = checkEventCount(Math.ceil((rate * env.p.durationMs) / 1000), 'scan-horizontal');
    const targets = env.p.targets ?? horizontalTargets(env, rng, n, ops, familyOf(scanner));
    return [
      horizontalScanPart(env, 'probe', {
        scanner,
        port,
        ratePerS: rate,
        targets: targets.filter((t) => familyOf(t) === familyOf(scanner) && t !== scanner),
        liveShare: x.num('liveShare', 0, 1),
        openShare: x.num('openShare', 0, 1),
        from: env.p.start,
        to: env.p.end,
        kind: 'scan',
      }),
    ];
  },
});

// ---- scan-vertical ----------------------------------------------------------------------------

export const scanVertical = defineScenario({
  name: 'scan-vertical',
  description:
    "One foreign source probes many TCP ports of one operator host (nmap -sS style: SYN with MSS, fixed source port, shuffled port order, steady rate). Visible through agreement-foreign-to-domestic when the operator has an active agreement, else specified-foreign-to-domestic; the host's RST and SYN-ACK answers through specified-domestic-to-foreign.",
  defaultDurationMs: 5 * 60_000,
  params: [
    {
      name: 'ports',
      default: '1-1024',
      description: 'Ports probed (list and ranges), in shuffled order; the scan stops when all are probed.',
    },
    { name: 'rate', default: 5, description: 'Probes per second (× intensity).' },
    {
      name: 'openPorts',
      default: '22,80,443',
      description: 'Ports that answer SYN-ACK; the others answer RST (unless `filtered`).',
    },
    {
      name: 'filtered',
      default: false,
      description: 'Closed ports do not answer (a firewall drops the probes).',
    },
  ],
  build(env, x) {
    const rng = rngOf(env, 'setup');
    const ports = shuffle(rng, x.ports('ports'));
    const open = new Set(x.ports('openPorts'));
    const filtered = x.bool('filtered');
    const rate = x.num('rate', 0.001, 100_000) * env.p.intensity;
    const target = env.p.targets?.[0] ?? env.world.pickOperatorTarget(rng, env.p.start).address;
    const scanner = env.p.sources?.[0] ?? env.world.pickForeign(rng, familyOf(target), ['generic']);
    sameFamily(scanner, target);
    const times = pacedTimes(rng, ports.length, env.p.start, env.p.end, rate);
    const sport = ephemeralPort(rng);
    const part = eventPart(env, 'probe', times, 600, (i, time, r, out) => {
      const port = ports[i]!;
      probe(env, r, out, {
        src: scanner,
        dst: target,
        sport,
        dport: port,
        time,
        size: TCP_HEADER[familyOf(scanner)] + 4,
        ttlInit: 64,
        answer: open.has(port) ? 'open' : filtered ? 'none' : 'closed',
      });
    });
    part.describe = probeTruth(new Set([scanner]), 'scan', ['scan']);
    return [part];
  },
});
