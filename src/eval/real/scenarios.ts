/**
 * The scenarios of the real evaluation set: each starts its servers in the victim namespace, then
 * runs one real tool from the attacker namespace at a bounded rate for a bounded time.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DetectorName } from '../../common/schema/legal.ts';
import { RealEvalError } from './errors.ts';
import type { Topology } from './netns.ts';
import type { Child, ProcessGroups } from './proc.ts';
import type { ToolName } from './tools.ts';
import { requireTool } from './tools.ts';

/** Scenario names, in the order a full run executes them. */
export const REAL_SCENARIOS = [
  'scan-vertical',
  'scan-horizontal',
  'brute-force-ssh',
  'ddos-syn',
  'ddos-udp',
  'dns-tunnel',
  'beacon',
] as const;

/** One of {@link REAL_SCENARIOS}. */
export type RealScenarioName = (typeof REAL_SCENARIOS)[number];

/** What a scenario gets to work with. */
export interface ScenarioContext {
  topo: Topology;
  procs: ProcessGroups;
  /** Private scratch directory (keys, configs, password lists); removed after the run. */
  workDir: string;
  /** Smaller counts and fewer periods, for the test. */
  quick: boolean;
  /** Runs `tool args` inside namespace `ns` (started, not awaited). */
  startIn(ns: string, tool: ToolName, args: readonly string[], timeoutMs: number): Child;
  /** Runs `tool args` inside `ns` to completion; rejects unless the exit code is in `okCodes`. */
  runIn(
    ns: string,
    tool: ToolName,
    args: readonly string[],
    timeoutMs: number,
    okCodes?: readonly number[],
  ): Promise<void>;
  sleep(ms: number): Promise<void>;
}

/** Who is who in a scenario (see `RealLabel`). */
export interface ScenarioRoles {
  expectedDetectors: DetectorName[];
  attackers: string[];
  victims: string[];
  subjects: string[];
  counterparts: string[];
}

/** One scenario. */
export interface RealScenario {
  name: RealScenarioName;
  /** The tool named in the label (its package version is recorded). */
  tool: ToolName;
  /** Every executable the scenario runs, checked before anything starts. */
  tools: ToolName[];
  /** Upper bound of the attack phase, for documentation and the progress line. */
  describe(quick: boolean): string;
  roles(topo: Topology): ScenarioRoles;
  /** Nominal period of a periodic scenario (the beacon), recorded in the label. */
  periodMs?(quick: boolean): number;
  /** Starts servers in the victim namespace and waits until they are ready (before capturing). */
  prepare?(ctx: ScenarioContext): Promise<void>;
  /** Runs the attack; returns the attack command (argv) for the label. */
  attack(ctx: ScenarioContext): Promise<string[]>;
}

/** Hosts of the horizontal scan: every address of the victim's sweep /24 but .0 and .255. */
export function sweepTargets(topo: Topology): string[] {
  const base = topo.sweepPrefix.split('/')[0]?.split('.').slice(0, 3).join('.') ?? '';
  return Array.from({ length: 254 }, (_, i) => `${base}.${i + 1}`);
}

const scanRoles =
  (victims: string[]) =>
  (topo: Topology): ScenarioRoles => ({
    expectedDetectors: ['scan'],
    attackers: [topo.attacker],
    victims,
    subjects: [topo.attacker],
    counterparts: [],
  });

/** Bounded nmap SYN scans. `--max-rate` keeps the packet rate down; `-Pn -n`: no pings, no DNS. */
const scanVertical: RealScenario = {
  name: 'scan-vertical',
  tool: 'nmap',
  tools: ['nmap'],
  describe: (q) => `nmap -sS of TCP ports 1-${q ? 1000 : 2000} on the victim at ≤ 500 packets/s`,
  roles: (topo) => scanRoles([topo.victim])(topo),
  async attack(ctx) {
    const args = [
      '-n',
      '-Pn',
      '-sS',
      '-p',
      `1-${ctx.quick ? 1000 : 2000}`,
      '--max-rate',
      '500',
      '--max-retries',
      '1',
      ctx.topo.victim,
    ];
    await ctx.runIn(ctx.topo.attackerNs, 'nmap', args, 60_000);
    return ['nmap', ...args];
  },
};

const scanHorizontal: RealScenario = {
  name: 'scan-horizontal',
  tool: 'nmap',
  tools: ['nmap'],
  describe: () => 'nmap -sS of TCP port 22 on 254 addresses at ≤ 200 packets/s',
  roles: (topo) => scanRoles(sweepTargets(topo))(topo),
  async attack(ctx) {
    const targets = sweepTargets(ctx.topo);
    const range = `${targets[0] ?? ''}-254`;
    const args = ['-n', '-Pn', '-sS', '-p', '22', '--max-rate', '200', '--max-retries', '1', range];
    await ctx.runIn(ctx.topo.attackerNs, 'nmap', args, 60_000);
    return ['nmap', ...args];
  },
};

/**
 * hydra against a throwaway sshd. `MaxAuthTries 2` makes sshd close each connection after hydra's
 * first password, so every attempt is its own TCP connection (what flow-based detection sees of
 * real brute force); hydra's `-w 1` stops it from waiting 32 s for a closed connection.
 */
const bruteForceSsh: RealScenario = {
  name: 'brute-force-ssh',
  tool: 'hydra',
  tools: ['hydra', 'sshd', 'ssh-keygen'],
  describe: (q) => `hydra -t 4: ${q ? 20 : 100} wrong passwords for a non-existent user against sshd`,
  roles: (topo) => ({
    expectedDetectors: ['brute-force'],
    attackers: [topo.attacker],
    victims: [topo.victim],
    subjects: [topo.attacker],
    counterparts: [topo.victim],
  }),
  async prepare(ctx) {
    const key = join(ctx.workDir, 'ssh_host_ed25519_key');
    await ctx.procs.run(requireTool('ssh-keygen'), ['-q', '-t', 'ed25519', '-N', '', '-f', key], {
      timeoutMs: 10_000,
    });
    const cfg = join(ctx.workDir, 'sshd_config');
    writeFileSync(
      cfg,
      [
        `ListenAddress ${ctx.topo.victim}:22`,
        `HostKey ${key}`,
        `PidFile ${join(ctx.workDir, 'sshd.pid')}`,
        'UsePAM no',
        'PasswordAuthentication yes',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin no',
        'StrictModes no',
        'MaxAuthTries 2',
        'MaxStartups 64:30:128',
        'LoginGraceTime 10',
        '',
      ].join('\n'),
    );
    const sshd = ctx.startIn(ctx.topo.victimNs, 'sshd', ['-D', '-e', '-f', cfg], 300_000);
    await sshd.waitFor(/Server listening on/, 10_000);
  },
  async attack(ctx) {
    const list = join(ctx.workDir, 'passwords.txt');
    const n = ctx.quick ? 20 : 100;
    writeFileSync(list, Array.from({ length: n }, (_, i) => `wrong-${i + 1}`).join('\n') + '\n');
    const args = [
      '-I',
      '-w',
      '1',
      '-t',
      '4',
      '-l',
      'nosuchuser',
      '-P',
      list,
      '-o',
      '/dev/null',
      `ssh://${ctx.topo.victim}`,
    ];
    // hydra writes hydra.restore into its working directory: the scratch directory.
    const child = ctx.procs.start(
      'ip',
      ['netns', 'exec', ctx.topo.attackerNs, requireTool('hydra'), ...args],
      {
        timeoutMs: 120_000,
        cwd: ctx.workDir,
      },
    );
    const r = await child.exited;
    if (r.timedOut || r.code !== 0)
      throw new RealEvalError(`hydra failed (exit ${r.code ?? r.signal}): ${r.stderr.slice(-500)}`);
    return ['hydra', ...args];
  },
};

const ddosRoles = (topo: Topology): ScenarioRoles => ({
  expectedDetectors: ['ddos'],
  attackers: [topo.attacker],
  victims: [topo.victim],
  subjects: [topo.victim],
  counterparts: [topo.attacker],
});

/**
 * hping3 at one packet per 100 µs at most (≤ 10,000 packets/s; `--faster`/`--flood` would be
 * unbounded), from random spoofed sources (`--rand-source`) as a botnet's or a spoofing
 * attacker's flood arrives; the count bounds the run. On the 2-core shared machine hping3 reaches
 * ≈ 2,000–4,000 packets/s over the veth (its usleep overhead dominates), comfortably above the
 * detector's cold-start floors (SYN 500/s, large UDP 1,000/s); at `u200` the UDP flood reached
 * only ≈ 1,800/s, too close to its floor on a loaded machine.
 */
const ddosSyn: RealScenario = {
  name: 'ddos-syn',
  tool: 'hping3',
  tools: ['hping3'],
  describe: (q) =>
    `hping3 SYN flood from random sources to TCP port 80: ${q ? 4000 : 20000} packets at ≤ 10,000/s`,
  roles: ddosRoles,
  async attack(ctx) {
    const args = [
      '-q',
      '-S',
      '--rand-source',
      '-p',
      '80',
      '-i',
      'u100',
      '-c',
      String(ctx.quick ? 4000 : 20_000),
      ctx.topo.victim,
    ];
    await ctx.runIn(ctx.topo.attackerNs, 'hping3', args, 60_000, [0, 1]);
    return ['hping3', ...args];
  },
};

const ddosUdp: RealScenario = {
  name: 'ddos-udp',
  tool: 'hping3',
  tools: ['hping3'],
  describe: (q) =>
    `hping3 UDP flood (1200-byte payloads) from random sources to port 9999: ${q ? 4000 : 20000} packets at ≤ 10,000/s`,
  roles: ddosRoles,
  async attack(ctx) {
    const args = [
      '-q',
      '--udp',
      '--rand-source',
      '-p',
      '9999',
      '-d',
      '1200',
      '-i',
      'u100',
      '-c',
      String(ctx.quick ? 4000 : 20_000),
      ctx.topo.victim,
    ];
    await ctx.runIn(ctx.topo.attackerNs, 'hping3', args, 60_000, [0, 1]);
    return ['hping3', ...args];
  },
};

/** Tunnel domain of the iodine scenario (a documentation domain, RFC 2606). */
export const TUNNEL_DOMAIN = 'tun.example.net';
const TUNNEL_SERVER_IP = '10.99.0.1';
const TUNNEL_PASSWORD = 'acd-lab-only';

async function selfSignedCert(ctx: ScenarioContext, cn: string): Promise<{ cert: string; key: string }> {
  const cert = join(ctx.workDir, `${cn}.crt`);
  const key = join(ctx.workDir, `${cn}.key`);
  await ctx.procs.run(
    requireTool('openssl'),
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
    ],
    { timeoutMs: 20_000 },
  );
  return { cert, key };
}

/** Time limit of a scenario's servers when the scenario sets none (longer than its attack). */
const SERVER_TIMEOUT_MS = 300_000;

/**
 * Starts `openssl s_server -WWW` (serves files of the scratch directory) in the victim namespace;
 * `timeoutMs` must outlast the attack (the server is stopped with the scenario anyway).
 */
async function startHttpsServer(
  ctx: ScenarioContext,
  port: number,
  cn: string,
  timeoutMs = SERVER_TIMEOUT_MS,
): Promise<void> {
  const { cert, key } = await selfSignedCert(ctx, cn);
  const child = ctx.procs.start(
    'ip',
    [
      'netns',
      'exec',
      ctx.topo.victimNs,
      requireTool('openssl'),
      's_server',
      '-WWW',
      '-accept',
      String(port),
      '-cert',
      cert,
      '-key',
      key,
    ],
    { timeoutMs, cwd: ctx.workDir },
  );
  await child.waitFor(/ACCEPT/, 10_000);
}

/**
 * iodine: iodined is the tunnel domain's authoritative server in the victim namespace, the client
 * is forced into DNS mode (`-r`: no raw UDP), and data is pushed through the tunnel both ways: a
 * download over HTTPS and ICMP echoes with 1000-byte payloads up.
 */
const dnsTunnel: RealScenario = {
  name: 'dns-tunnel',
  tool: 'iodine',
  tools: ['iodine', 'iodined', 'openssl', 'curl', 'hping3'],
  describe: (q) =>
    `iodine DNS tunnel (NULL queries to ${TUNNEL_DOMAIN}): a ${q ? 50 : 200} KB download and ${q ? 10 : 30} KB of ICMP up`,
  roles: (topo) => ({
    expectedDetectors: ['dns-tunnel'],
    attackers: [topo.victim],
    victims: [topo.attacker],
    subjects: [topo.attacker],
    counterparts: [topo.victim],
  }),
  async prepare(ctx) {
    const iodined = ctx.startIn(
      ctx.topo.victimNs,
      'iodined',
      [
        '-f',
        '-c',
        '-P',
        TUNNEL_PASSWORD,
        '-l',
        ctx.topo.victim,
        '-p',
        '53',
        `${TUNNEL_SERVER_IP}/27`,
        TUNNEL_DOMAIN,
      ],
      300_000,
    );
    await iodined.waitFor(/Listening to dns/i, 10_000);
    writeFileSync(join(ctx.workDir, 'blob.bin'), Buffer.alloc((ctx.quick ? 50 : 200) * 1024, 0x5a));
    await startHttpsServer(ctx, 8443, 'tunnel-www');
  },
  async attack(ctx) {
    const args = ['-f', '-r', '-P', TUNNEL_PASSWORD, ctx.topo.victim, TUNNEL_DOMAIN];
    const client = ctx.startIn(ctx.topo.attackerNs, 'iodine', args, 120_000);
    await client.waitFor(/Connection setup complete/, 30_000);
    await ctx.runIn(
      ctx.topo.attackerNs,
      'curl',
      ['-sk', '-o', '/dev/null', '--max-time', '60', `https://${TUNNEL_SERVER_IP}:8443/blob.bin`],
      70_000,
    );
    const pings = ctx.quick ? 10 : 30;
    await ctx.runIn(
      ctx.topo.attackerNs,
      'hping3',
      ['-q', '-1', '-d', '1000', '-i', 'u200000', '-c', String(pings), TUNNEL_SERVER_IP],
      60_000,
      [0, 1],
    );
    await ctx.sleep(2000);
    await client.stop('SIGTERM');
    return ['iodine', ...args];
  },
};

/** Beacon check-in period and count of the full run, and of the quick one (harness check only). */
export const BEACON_SCHEDULE = {
  full: { periodMs: 12_000, periods: 25 },
  quick: { periodMs: 1000, periods: 10 },
} as const;
/** Beacon jitter: each interval is the period × (1 ± this), uniformly (a C2 implant's usual jitter). */
export const BEACON_JITTER = 0.1;

/**
 * A periodic HTTPS client: curl every 12 s ± 10 % to `openssl s_server`, the same small page each
 * time (a C2 check-in), 25 periods (26 check-ins, ≈ 5 min). Every interval (10.8–13.2 s) stays
 * above the beacon detector's `minPeriodMs` (10 s): faster periodic traffic is automation
 * (retries, polling), not a check-in, so a 2 s "beacon" is not found by design, and a 10 s ± 10 %
 * one has a median interval below 10 s half the time. The detector first judges a pair after
 * 2 admission + 16 ring connections (17 periods), within the 20 periods of issue 6. The quick
 * variant (1 s × 10) only exercises the harness; it is not a detectable beacon.
 */
const beacon: RealScenario = {
  name: 'beacon',
  tool: 'curl',
  tools: ['curl', 'openssl'],
  describe: (q) => {
    const { periodMs, periods } = q ? BEACON_SCHEDULE.quick : BEACON_SCHEDULE.full;
    return `curl every ${periodMs / 1000} s ± ${BEACON_JITTER * 100} %, ${periods} periods, to an HTTPS server`;
  },
  periodMs: (q) => (q ? BEACON_SCHEDULE.quick : BEACON_SCHEDULE.full).periodMs,
  roles: (topo) => ({
    expectedDetectors: ['beacon'],
    attackers: [topo.victim],
    victims: [topo.attacker],
    subjects: [topo.attacker],
    counterparts: [topo.victim],
  }),
  async prepare(ctx) {
    writeFileSync(join(ctx.workDir, 'task.txt'), 'sleep\n');
    // The full beacon runs ≈ 5 min: the server's limit covers the longest schedule plus a margin.
    const { periodMs, periods } = ctx.quick ? BEACON_SCHEDULE.quick : BEACON_SCHEDULE.full;
    const longest = periods * periodMs * (1 + BEACON_JITTER) + (periods + 1) * 10_000;
    await startHttpsServer(ctx, 443, 'c2.example.net', Math.max(SERVER_TIMEOUT_MS, longest + 60_000));
  },
  async attack(ctx) {
    const { periodMs, periods } = ctx.quick ? BEACON_SCHEDULE.quick : BEACON_SCHEDULE.full;
    const args = ['-sk', '-o', '/dev/null', '--max-time', '5', `https://${ctx.topo.victim}/task.txt`];
    // Check-ins are scheduled from the first one's start (no drift from curl's own duration).
    let due = Date.now();
    for (let i = 0; i <= periods; i++) {
      await ctx.runIn(ctx.topo.attackerNs, 'curl', args, 10_000);
      if (i === periods) break;
      due += periodMs * (1 - BEACON_JITTER + 2 * BEACON_JITTER * Math.random());
      await ctx.sleep(Math.max(0, due - Date.now()));
    }
    return ['curl', ...args];
  },
};

/** Every scenario by name. */
export const SCENARIOS: Record<RealScenarioName, RealScenario> = {
  'scan-vertical': scanVertical,
  'scan-horizontal': scanHorizontal,
  'brute-force-ssh': bruteForceSsh,
  'ddos-syn': ddosSyn,
  'ddos-udp': ddosUdp,
  'dns-tunnel': dnsTunnel,
  beacon,
};
