/**
 * `campaign`: a multi-stage intrusion against one sector — reconnaissance scan of the sector's
 * operators, brute force on one operator host, a C2 beacon from the compromised host, and
 * exfiltration from it. Each stage has its own truth lines (`stage-1-recon` …), per channel.
 */
import { SECTORS } from '../country/index.ts';
import { ScenarioModelError } from './errors.ts';
import { defineScenario } from './define.ts';
import { bruteForcePart } from './brute-force.ts';
import { beaconParts, c2Domain } from './c2.ts';
import { exfiltrationPart, parseBytes } from './outbound.ts';
import { rngOf } from './run.ts';
import { horizontalScanPart, horizontalTargets } from './scans.ts';
import { familyOf } from './world.ts';

/** Stage windows as fractions of the scenario window. */
export const CAMPAIGN_STAGES = {
  recon: [0, 0.15],
  bruteForce: [0.15, 0.3],
  c2: [0.3, 1],
  exfiltration: [0.55, 1],
} as const;

export const campaign = defineScenario({
  name: 'campaign',
  description:
    "A chain against one critical-infrastructure sector: (1) a foreign scanner sweeps every host of the sector's operators on one port (0–15 % of the window), (2) another foreign source brute-forces SSH or RDP on one operator host (15–30 %), (3) the compromised host beacons to a foreign C2 over HTTPS (30–100 %), (4) and uploads data to a foreign drop server (55–100 %). Each stage writes its own truth lines, one per channel.",
  defaultDurationMs: 3 * 3600_000,
  params: [
    { name: 'sector', default: 'electric-power', description: `Targeted sector: ${SECTORS.join(' | ')}.` },
    { name: 'scanPort', default: 22, description: 'Port of the reconnaissance scan.' },
    { name: 'bruteProtocol', default: 'ssh', description: 'ssh | rdp.' },
    { name: 'bruteRate', default: 20, description: 'Login attempts per minute (× intensity).' },
    { name: 'period', default: '60s', description: 'Beacon period (divided by intensity).' },
    { name: 'jitter', default: 0.1, description: 'Beacon jitter (relative).' },
    { name: 'volume', default: '1GB', description: 'Bytes exfiltrated (× intensity).' },
  ],
  build(env, x) {
    const rng = rngOf(env, 'setup');
    const sector = x.choice('sector', SECTORS);
    const { start, end } = env.p;
    const at = (f: number): number => Math.floor(start + (end - start) * f);
    const target = env.p.targets?.[0] ?? env.world.pickOperatorTarget(rng, start, sector).address;
    const fam = familyOf(target);
    const avoid = new Set<string>();
    const foreign = (i: number): string => {
      const given = env.p.sources?.[i];
      const a = given ?? env.world.pickForeign(rng, fam, ['generic'], avoid);
      avoid.add(a);
      return a;
    };
    const scanner = foreign(0);
    const bruter = foreign(1);
    const c2 = foreign(2);
    const drop = foreign(3);
    const ops = env.world.model.operators.filter((o) => o.sector === sector);
    if (ops.length === 0) throw new ScenarioModelError(`no operator in sector ${sector}`);
    const reconTargets = horizontalTargets(env, rng, 0, ops.length, fam, sector);
    if (!reconTargets.includes(target)) reconTargets.splice(rng.int(reconTargets.length + 1), 0, target);
    const [r0, r1] = CAMPAIGN_STAGES.recon.map(at) as [number, number];
    const [b0, b1] = CAMPAIGN_STAGES.bruteForce.map(at) as [number, number];
    const [c0, c1] = CAMPAIGN_STAGES.c2.map(at) as [number, number];
    const [e0, e1] = CAMPAIGN_STAGES.exfiltration.map(at) as [number, number];
    const reconRate = Math.max(
      0.01,
      ((reconTargets.length * 1.1) / Math.max(1, r1 - r0)) * 1000 * env.p.intensity,
    );
    const periodMs = x.duration('period', 1000, 86_400_000) / env.p.intensity;
    const volume = parseBytes(x.text('volume', /^\s*\d+(\.\d+)?\s*([kKmMgGtT]i?[bB]?|[bB])?\s*$/)) ?? 0;
    return [
      horizontalScanPart(env, 'recon', {
        scanner,
        port: x.num('scanPort', 1, 65535, true),
        ratePerS: reconRate,
        targets: reconTargets,
        liveShare: 0.3,
        openShare: 0.3,
        from: r0,
        to: Math.max(r0 + 1, r1),
        kind: 'stage-1-recon',
      }),
      bruteForcePart(env, 'brute-force', {
        attacker: bruter,
        target,
        protocol: x.choice('bruteProtocol', ['ssh', 'rdp'] as const),
        perMinute: x.num('bruteRate', 0.01, 1e6) * env.p.intensity,
        from: b0,
        to: Math.max(b0 + 1, b1),
        kind: 'stage-2-brute-force',
      }),
      ...beaconParts(env, 'c2', {
        host: target,
        c2,
        domain: c2Domain(rng),
        transport: 'https',
        port: 443,
        periodMs: Math.max(100, periodMs),
        jitter: x.num('jitter', 0, 0.9),
        requestBytes: 1100,
        responseBytes: 3900,
        dnsType: 'TXT',
        from: c0,
        to: Math.max(c0 + 1, c1),
        kind: 'stage-3-c2',
      }),
      exfiltrationPart(env, 'exfiltration', {
        host: target,
        drop,
        port: 443,
        totalBytes: Math.max(1, volume * env.p.intensity),
        sessions: 2,
        from: e0,
        to: Math.max(e0 + 1, e1),
        kind: 'stage-4-exfiltration',
      }),
    ];
  },
});
