import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  loadPrefixTable,
  parsePrefix,
  tryParseAddress,
  wordsToBigInt,
  type PrefixTable,
} from '../../common/prefixes/index.ts';
import type { Fields } from '../../common/schema/index.ts';
import { decodeDnstapFrame } from '../../collect/decode/dnstap/index.ts';
import { buildCountryModel, Rng, type CountryModel } from '../country/index.ts';
import { dnstapMessageFromFields, encodeDnstapMessage } from '../encode/dnstap.ts';
import {
  SCENARIO_NAMES,
  type DetectorName,
  type GeneratedRecord,
  type GeneratorContext,
  type LegalChannel,
  type ScenarioInstance,
  type ScenarioName,
  type ScenarioParams,
  type TruthLine,
} from '../traffic/types.ts';
import { SCENARIOS, createScenario, generateIndicators } from './index.ts';

// Shared with the country model tests: a cache only saves time, a missing one is rebuilt.
const CACHE = join(tmpdir(), 'acd-test-prefix-cache');
const START = Date.parse('2026-05-11T09:00:00.000Z');
const DETECTORS: readonly DetectorName[] = [
  'scan',
  'beacon',
  'ddos',
  'brute-force',
  'dga',
  'dns-tunnel',
  'exfiltration',
  'long-connection',
  'indicator',
];

let table: PrefixTable;
let model: CountryModel;

function ctxOf(seed = 7): GeneratorContext {
  return { model, rng: new Rng(seed), indicators: generateIndicators(model, new Rng(seed)), table };
}

/** Generic tests run floods for 15 s: the rate tests below cover longer runs. */
const SHORT: Partial<Record<ScenarioName, number>> = { 'ddos-flood': 15_000 };

function params(name: ScenarioName, over: Partial<ScenarioParams> = {}): ScenarioParams {
  return {
    start: START,
    durationMs: SHORT[name] ?? SCENARIOS[name].defaultDurationMs,
    intensity: 1,
    extra: {},
    ...over,
  };
}

/** All records of an instance, asking in slices of `sliceMs` over a range wider than its window. */
function collect(inst: ScenarioInstance, start: number, sliceMs = 1000): GeneratedRecord[] {
  const out: GeneratedRecord[] = [];
  for (let t = start - 5000; t < inst.end + 5000; t += sliceMs)
    inst.generate(t, t + sliceMs, (r) => out.push(r));
  return out;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function src(f: Fields): string {
  return str(f.sourceIPv4Address ?? f.sourceIPv6Address);
}
function dst(f: Fields): string {
  return str(f.destinationIPv4Address ?? f.destinationIPv6Address);
}

/** Channel of a flow decided independently of the scenarios' own code: table + operators. */
function channelOf(r: GeneratedRecord): LegalChannel | undefined {
  if (r.kind === 'dns') return 'operator-telemetry';
  const s = src(r.fields);
  const d = dst(r.fields);
  const sd = table.isDomestic(s, 'JP');
  const dd = table.isDomestic(d, 'JP');
  if (sd && dd) return undefined;
  if (sd) return 'specified-domestic-to-foreign';
  if (!dd) return 'transit-foreign-to-foreign';
  const day = new Date(r.time).toISOString().slice(0, 10);
  const op = model.operators.find((o) => o.ranges.some((x) => inPrefix(d, x.prefix)));
  const covered =
    op &&
    op.agreement.status === 'active' &&
    op.agreement.validFrom! <= day &&
    day <= op.agreement.validUntil!;
  return covered ? 'agreement-foreign-to-domestic' : 'specified-foreign-to-domestic';
}

function inPrefix(address: string, prefix: string): boolean {
  const a = tryParseAddress(address);
  const p = parsePrefix(prefix);
  if (!a || a.version !== p.version) return false;
  const v = a.version === 4 ? BigInt(a.w0) : wordsToBigInt(a.w0, a.w1, a.w2, a.w3);
  return p.first <= v && v <= p.last;
}

function addressesOf(r: GeneratedRecord): string[] {
  const out = [src(r.fields), dst(r.fields)];
  const a = r.fields.dnsAnswers;
  if (Array.isArray(a))
    for (const x of a)
      if (typeof x === 'object' && x !== null && !Array.isArray(x) && typeof x.data === 'string')
        out.push(x.data);
  return out;
}

interface Run {
  inst: ScenarioInstance;
  records: GeneratedRecord[];
  truth: TruthLine[];
}

const runs = new Map<string, Run>();
function run(name: ScenarioName, over: Partial<ScenarioParams> = {}, key: string = name): Run {
  let r = runs.get(key);
  if (!r) {
    const inst = createScenario(name, ctxOf(), params(name, over));
    const records = collect(inst, START);
    r = { inst, records, truth: inst.truth() };
    runs.set(key, r);
  }
  return r;
}

/** Expected primary truth of each scenario with default parameters. */
const PRIMARY: Record<ScenarioName, { kind: string; channel: LegalChannel; detectors: DetectorName[] }[]> = {
  'mirai-scan': [{ kind: 'scan', channel: 'specified-domestic-to-foreign', detectors: ['scan'] }],
  'scan-horizontal': [
    { kind: 'scan', channel: 'agreement-foreign-to-domestic', detectors: ['scan'] },
    { kind: 'scan', channel: 'specified-foreign-to-domestic', detectors: ['scan'] },
  ],
  'scan-vertical': [{ kind: 'scan', channel: 'agreement-foreign-to-domestic', detectors: ['scan'] }],
  'c2-beacon': [{ kind: 'c2', channel: 'specified-domestic-to-foreign', detectors: ['beacon'] }],
  'ddos-reflection': [{ kind: 'reflection', channel: 'agreement-foreign-to-domestic', detectors: ['ddos'] }],
  'ddos-flood': [{ kind: 'flood', channel: 'agreement-foreign-to-domestic', detectors: ['ddos'] }],
  'brute-force-ssh': [
    { kind: 'brute-force', channel: 'agreement-foreign-to-domestic', detectors: ['brute-force'] },
  ],
  'brute-force-rdp': [
    { kind: 'brute-force', channel: 'agreement-foreign-to-domestic', detectors: ['brute-force'] },
  ],
  dga: [{ kind: 'dga', channel: 'operator-telemetry', detectors: ['dga'] }],
  'dns-tunnel': [{ kind: 'dns-tunnel', channel: 'operator-telemetry', detectors: ['dns-tunnel'] }],
  exfiltration: [
    { kind: 'exfiltration', channel: 'specified-domestic-to-foreign', detectors: ['exfiltration'] },
  ],
  'long-connection': [
    { kind: 'long-connection', channel: 'specified-domestic-to-foreign', detectors: ['long-connection'] },
  ],
  'ioc-contact': [
    { kind: 'ioc-contact', channel: 'specified-domestic-to-foreign', detectors: ['indicator'] },
    { kind: 'ioc-dns', channel: 'operator-telemetry', detectors: ['indicator'] },
  ],
  campaign: [
    { kind: 'stage-1-recon', channel: 'agreement-foreign-to-domestic', detectors: ['scan'] },
    { kind: 'stage-2-brute-force', channel: 'agreement-foreign-to-domestic', detectors: ['brute-force'] },
    { kind: 'stage-3-c2', channel: 'specified-domestic-to-foreign', detectors: ['beacon'] },
    { kind: 'stage-4-exfiltration', channel: 'specified-domestic-to-foreign', detectors: ['exfiltration'] },
  ],
};

beforeAll(async () => {
  table = (await loadPrefixTable({ cacheDir: CACHE })).table;
  model = buildCountryModel(table, { seed: 42 });
}, 120_000);

describe('scenario registry', () => {
  it('has one definition per scenario name, each with documented parameters', () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual([...SCENARIO_NAMES].sort());
    for (const n of SCENARIO_NAMES) {
      const d = SCENARIOS[n];
      expect(d.name).toBe(n);
      expect(d.description.length).toBeGreaterThan(40);
      expect(d.defaultDurationMs).toBeGreaterThan(0);
      for (const p of d.params) expect(p.description.length).toBeGreaterThan(5);
    }
  });
});

describe.each(SCENARIO_NAMES.map((n) => [n]))('%s', (name) => {
  it("emits records only inside its window, with plausible fields, carried by the domestic endpoint's provider", () => {
    const { inst, records } = run(name);
    expect(records.length).toBeGreaterThan(0);
    // Problems are collected and asserted once: an expect per record is slow for floods.
    const bad: string[] = [];
    const check = (ok: boolean, what: string, r: GeneratedRecord): void => {
      if (!ok && bad.length < 10) bad.push(`${what}: ${JSON.stringify(r)}`);
    };
    for (const r of records) {
      check(r.time >= START && r.time < inst.end, 'time outside the window', r);
      check(r.label === name, 'label', r);
      const s = src(r.fields);
      const d = dst(r.fields);
      // The domestic endpoint's provider carries the record (the source's first; DNS: the resolver's).
      const owner = (x: string): string | undefined =>
        model.providers.find((p) => p.prefixes.some((q) => inPrefix(x, q.prefix)))?.id;
      const expected = r.kind === 'dns' ? owner(d) : (owner(s) ?? owner(d));
      if (expected) check(r.providerId === expected, 'provider', r);
      check(
        model.providers.some((p) => p.id === r.providerId),
        'unknown provider',
        r,
      );
      if (r.kind === 'flow') {
        const f = r.fields;
        const pk = f.packetDeltaCount as number;
        const oc = f.octetDeltaCount as number;
        check(f.flowEndMilliseconds === r.time, 'flowEnd is the record time', r);
        check(
          (f.flowStartMilliseconds as number) <= r.time && (f.flowStartMilliseconds as number) >= START,
          'flowStart',
          r,
        );
        check(pk >= 1 && oc / pk >= 28 && oc / pk <= 1500, 'bytes per packet', r);
        check(f.protocolIdentifier !== 6 || typeof f.tcpControlBits === 'number', 'tcp flags', r);
        check((f.minimumTTL as number) > 0 && (f.minimumTTL as number) <= 255, 'ttl', r);
        check(s.includes(':') === d.includes(':'), 'address families', r);
      } else {
        check(r.fields.eventTime === r.time && (r.fields.dnsQueryTime as number) >= START, 'dns times', r);
      }
    }
    expect(bad).toEqual([]);
  });

  it('is deterministic and independent of how time is sliced', () => {
    const a = run(name).records;
    const inst = createScenario(name, ctxOf(), params(name));
    const b = collect(inst, START, 7777);
    const key = (r: GeneratedRecord): string => JSON.stringify(r);
    expect(b.map(key).sort()).toEqual(a.map(key).sort());
    expect(inst.truth()).toEqual(run(name).truth);
  });

  it('writes truth lines whose parties appear in its records, through the channel the endpoints imply', () => {
    const { records, truth, inst } = run(name);
    expect(truth.length).toBeGreaterThan(0);
    const seen = new Set(records.flatMap(addressesOf));
    const channels = new Set(records.map(channelOf));
    for (const t of truth) {
      expect(t.scenario).toBe(name);
      expect([...t.attackers, ...t.victims].filter((a) => !seen.has(a))).toEqual([]);
      expect(channels.has(t.channel)).toBe(true);
      for (const d of t.expectedDetectors) expect(DETECTORS).toContain(d);
      expect(Date.parse(t.start)).toBeGreaterThanOrEqual(START);
      expect(Date.parse(t.end)).toBeLessThan(inst.end);
      expect(t.start <= t.end).toBe(true);
    }
    // Every visible record lies on the channel of some truth line.
    const lineChannels = new Set(truth.map((x) => x.channel));
    const off = records.map(channelOf).filter((c) => c !== undefined && !lineChannels.has(c));
    expect(off).toEqual([]);
    for (const p of PRIMARY[name]) {
      const line = truth.find((t) => t.kind === p.kind && t.channel === p.channel);
      expect(line, `${p.kind} via ${p.channel}`).toBeDefined();
      expect(line!.expectedDetectors).toEqual(p.detectors);
    }
    // Domestic-to-domestic traffic never gets a truth line.
    expect(truth.every((t) => t.channel !== 'transit-foreign-to-foreign')).toBe(true);
  });
});

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

describe('scenario behaviour', () => {
  it('mirai-scan: single-SYN probes to 23/2323, abroad part visible, domestic part generated but not in the truth', () => {
    const { records, truth } = run('mirai-scan');
    const scanners = new Set(truth.find((t) => t.kind === 'scan')!.attackers);
    const probes = records.filter((r) => scanners.has(src(r.fields)) && r.fields.tcpControlBits === 2);
    expect(
      probes.every(
        (r) =>
          r.fields.packetDeltaCount === 1 && [23, 2323].includes(r.fields.destinationTransportPort as number),
      ),
    ).toBe(true);
    expect(
      probes.every(
        (r) => (r.fields.octetDeltaCount as number) >= 40 && (r.fields.octetDeltaCount as number) <= 60,
      ),
    ).toBe(true);
    const domestic = probes.filter((r) => table.isDomestic(dst(r.fields), 'JP'));
    expect(domestic.length / probes.length).toBeGreaterThan(0.1);
    expect(domestic.length / probes.length).toBeLessThan(0.3);
    const victims = new Set(truth.flatMap((t) => t.victims));
    expect(domestic.every((r) => !victims.has(dst(r.fields)))).toBe(true);
    // 3 hosts × 8 probes/s × 600 s.
    expect(probes.length).toBeGreaterThan(14_400 * 0.95);
    expect(probes.length).toBeLessThan(14_400 * 1.05);
  });

  it('c2-beacon: intervals have the period as median and stay within the jitter', () => {
    const { records, truth } = run('c2-beacon');
    const host = truth.find((t) => t.kind === 'c2')!.victims[0]!;
    const starts = records
      .filter((r) => src(r.fields) === host)
      .map((r) => r.fields.flowStartMilliseconds as number)
      .sort((a, b) => a - b);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    expect(Math.abs(median(gaps) - 60_000)).toBeLessThan(1500);
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(54_000 - 1);
      expect(g).toBeLessThanOrEqual(66_000 + 1);
    }
    const sizes = records
      .filter((r) => src(r.fields) === host)
      .map((r) => r.fields.octetDeltaCount as number);
    expect(Math.max(...sizes) / Math.min(...sizes)).toBeLessThan(1.12);
  });

  it('c2-beacon over DNS: unique names under one C2 domain at the provider resolver, plus resolver queries abroad', () => {
    const r = run('c2-beacon', { extra: { transport: 'dns', c2FromIndicators: true } }, 'c2-dns');
    const dns = r.records.filter((x) => x.kind === 'dns');
    expect(dns.length).toBeGreaterThan(50);
    const names = dns.map((x) => x.fields.dnsQueryName as string);
    expect(new Set(names).size).toBe(names.length);
    const line = r.truth.find((t) => t.channel === 'operator-telemetry')!;
    expect(line.expectedDetectors).toEqual(['beacon', 'indicator']);
    expect(r.truth.some((t) => t.channel === 'specified-domestic-to-foreign')).toBe(true);
  });

  it('c2-beacon lists `indicator` when the C2 address is in the indicator set', () => {
    const r = run('c2-beacon', { extra: { c2FromIndicators: true, transport: 'odd-port' } }, 'c2-ioc');
    const line = r.truth.find((t) => t.kind === 'c2')!;
    expect(line.expectedDetectors).toEqual(['beacon', 'indicator']);
    expect(
      r.records.every(
        (x) =>
          [4444].includes(x.fields.destinationTransportPort as number) ||
          x.fields.sourceTransportPort === 4444,
      ),
    ).toBe(true);
  });

  it('ddos-flood: the SYN rate matches pps × intensity; udp floods are long flows from many sources', () => {
    const syn = run('ddos-flood', { intensity: 2, durationMs: 20_000 }, 'syn2');
    expect(syn.records.length / 20).toBeGreaterThan(2000 * 0.95);
    expect(syn.records.length / 20).toBeLessThan(2000 * 1.05);
    const udp = run('ddos-flood', { extra: { type: 'udp' }, durationMs: 180_000 }, 'udp');
    const pk = udp.records.reduce((n, r) => n + (r.fields.packetDeltaCount as number), 0);
    expect(pk / 180).toBeGreaterThan(1000 * 0.85);
    expect(pk / 180).toBeLessThan(1000 * 1.15);
    expect(udp.truth[0]!.attackers.length).toBe(500);
  });

  it('ddos-reflection: service source port, large packets, packet rate as asked', () => {
    for (const [vector, port] of [
      ['dns', 53],
      ['ntp', 123],
      ['ssdp', 1900],
      ['memcached', 11211],
      ['cldap', 389],
    ] as const) {
      const r = run('ddos-reflection', { extra: { vector }, durationMs: 120_000 }, `refl-${vector}`);
      expect(
        r.records.every((x) => x.fields.sourceTransportPort === port && x.fields.protocolIdentifier === 17),
      ).toBe(true);
      const pk = r.records.reduce((n, x) => n + (x.fields.packetDeltaCount as number), 0);
      expect(pk / 120).toBeGreaterThan(20_000 * 0.85);
      expect(pk / 120).toBeLessThan(20_000 * 1.15);
      expect(r.truth.find((t) => t.kind === 'reflection')!.attackers.length).toBeGreaterThan(250);
    }
  });

  it('brute-force: steady rate of short sessions of 10-30 packets to the service port', () => {
    const { records, truth } = run('brute-force-ssh');
    const attacker = truth[0]!.attackers[0]!;
    const flows = records.filter((r) => src(r.fields) === attacker);
    expect(flows.every((r) => r.fields.destinationTransportPort === 22)).toBe(true);
    expect(
      flows.every(
        (r) => (r.fields.packetDeltaCount as number) >= 10 && (r.fields.packetDeltaCount as number) <= 30,
      ),
    ).toBe(true);
    expect(flows.length).toBeGreaterThan(600 * 0.95);
    expect(flows.length).toBeLessThanOrEqual(601);
  });

  it('dga: NXDOMAIN bursts of random names; via a foreign resolver only flows', () => {
    const { records } = run('dga');
    const nx = records.filter((r) => r.fields.dnsResponseCode === 3).length;
    expect(nx / records.length).toBeGreaterThan(0.9);
    const foreign = run('dga', { extra: { via: 'foreign-resolver' } }, 'dga-foreign');
    expect(foreign.records.every((r) => r.kind === 'flow')).toBe(true);
    expect(foreign.truth.find((t) => t.kind === 'dga')!.channel).toBe('specified-domestic-to-foreign');
  });

  it('dns-tunnel: unique long names under one domain, mostly TXT', () => {
    const { records } = run('dns-tunnel');
    const names = records.map((r) => r.fields.dnsQueryName as string);
    expect(new Set(names).size).toBe(names.length);
    const domains = new Set(names.map((n) => n.split('.').slice(-2).join('.')));
    expect(domains.size).toBe(1);
    expect(median(names.map((n) => n.length))).toBeGreaterThan(60);
    const txt = records.filter((r) => r.fields.dnsQueryType === 16).length;
    expect(txt / records.length).toBeGreaterThan(0.7);
  });

  it("DNS events survive the dnstap encoder and acd's decoder unchanged", () => {
    const sample = [...run('dga').records.slice(0, 20), ...run('dns-tunnel').records.slice(0, 20)];
    for (const r of sample) {
      const bytes = encodeDnstapMessage(dnstapMessageFromFields(r.fields));
      const back = decodeDnstapFrame(bytes, { exporter: 'file', sequence: 0 }).event!.fields;
      for (const k of Object.keys(r.fields)) expect(back[k], k).toEqual(r.fields[k]);
    }
  });

  it('exfiltration: the volume leaves over the window in active-timeout records', () => {
    const { records, truth } = run('exfiltration');
    const host = truth.find((t) => t.kind === 'exfiltration')!.victims[0]!;
    const up = records.filter((r) => src(r.fields) === host);
    const bytes = up.reduce((n, r) => n + (r.fields.octetDeltaCount as number), 0);
    expect(bytes).toBeGreaterThan(2e9 * 0.95);
    expect(bytes).toBeLessThan(2e9 * 1.05);
    for (const r of up)
      expect(
        (r.fields.flowEndMilliseconds as number) - (r.fields.flowStartMilliseconds as number),
      ).toBeLessThanOrEqual(60_000);
  });

  it('long-connection: one record per direction every active timeout, SYN first and FIN last', () => {
    const { records, truth } = run('long-connection');
    const host = truth[0]!.victims[0]!;
    const up = records.filter((r) => src(r.fields) === host).sort((a, b) => a.time - b.time);
    expect(up.length).toBe(240);
    expect((up[0]!.fields.tcpControlBits as number) & 2).toBe(2);
    expect((up.at(-1)!.fields.tcpControlBits as number) & 1).toBe(1);
    const gaps = up.slice(1).map((r, i) => r.time - up[i]!.time);
    expect(gaps.every((g) => g === 60_000)).toBe(true);
  });

  it('campaign: stages follow each other and share the compromised host', () => {
    const { truth } = run('campaign');
    const stage = (k: string): TruthLine =>
      truth.find((t) => t.kind === k && t.expectedDetectors.length > 0)!;
    const s1 = stage('stage-1-recon');
    const s2 = stage('stage-2-brute-force');
    const s3 = stage('stage-3-c2');
    const s4 = stage('stage-4-exfiltration');
    expect(s1.start < s2.start && s2.start < s3.start && s3.start < s4.start).toBe(true);
    const host = s2.victims[0]!;
    expect(truth.some((t) => t.kind === 'stage-1-recon' && t.victims.includes(host))).toBe(true);
    expect(s3.victims).toEqual([host]);
    expect(s4.victims).toEqual([host]);
    const sectorOps = model.operators.filter((o) => o.sector === 'electric-power');
    expect(sectorOps.some((o) => o.importantSystems.some((s) => s.address === host))).toBe(true);
  });
});
