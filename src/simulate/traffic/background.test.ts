/**
 * Statistical tests of the background model (issue 4): the daily cycle, heavy-tailed sizes, the
 * look-alikes and their parameters, DNS names and NXDOMAIN rate, directions, determinism.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPrefixTable, type PrefixTable } from '../../common/prefixes/index.ts';
import { buildCountryModel, Rng, type CountryModel } from '../country/index.ts';
import {
  BackgroundSource,
  DEFAULT_LOOKALIKES,
  findScannerHosts,
  type BackgroundConfig,
} from './background.ts';
import { DiurnalCurve, JST_PROFILE } from './diurnal.ts';
import { POPULAR_DOMAINS } from './domains.ts';
import type { GeneratedRecord } from './types.ts';

let table: PrefixTable;
let model: CountryModel;
/** Midnight JST on 2026-04-02. */
const DAY = Date.UTC(2026, 3, 1, 15);

beforeAll(async () => {
  table = (await loadPrefixTable()).table;
  model = buildCountryModel(table, { seed: 1 });
});

function run(
  config: BackgroundConfig,
  from: number,
  to: number,
  sliceMs = 1000,
  seed = 5,
): GeneratedRecord[] {
  const bg = new BackgroundSource(model, new Rng(seed), config);
  const out: GeneratedRecord[] = [];
  for (let t = from; t < to; t += sliceMs) bg.generate(t, Math.min(to, t + sliceMs), (r) => out.push(r));
  return out;
}

function correlation(x: number[], y: number[]): number {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

describe('diurnal curve', () => {
  it('has a daily mean of 1, its trough at 04:00-05:00 JST and its peak in the evening', () => {
    const c = new DiurnalCurve(JST_PROFILE);
    expect(c.integral(DAY, DAY + 86_400_000) / 86_400).toBeCloseTo(1, 3);
    let min = Infinity;
    let minH = -1;
    let max = -Infinity;
    let maxH = -1;
    for (let m = 0; m < 24 * 60; m += 10) {
      const t = DAY + m * 60_000;
      const f = c.factor(t);
      if (f < min) [min, minH] = [f, c.localHour(t)];
      if (f > max) [max, maxH] = [f, c.localHour(t)];
    }
    expect(minH).toBeGreaterThanOrEqual(4);
    expect(minH).toBeLessThanOrEqual(5);
    expect(maxH).toBeGreaterThanOrEqual(20);
    expect(maxH).toBeLessThanOrEqual(22);
    expect(max / min).toBeGreaterThan(3.5);
  });
});

describe('background traffic', () => {
  let day: GeneratedRecord[];
  beforeAll(() => {
    day = run({ density: 1, kind: 'flow' }, DAY, DAY + 86_400_000);
  });

  it('follows the daily cycle: hourly volume correlates with the curve (r > 0.98)', () => {
    const bg = new BackgroundSource(model, new Rng(1), { density: 1, kind: 'flow' });
    const hourly = new Array<number>(24).fill(0);
    for (const r of day) if (r.label === 'background') hourly[Math.floor((r.time - DAY) / 3_600_000)]!++;
    const curve = hourly.map((_, h) => bg.factor(DAY + h * 3_600_000 + 1_800_000));
    expect(correlation(hourly, curve)).toBeGreaterThan(0.98);
    // The daily total matches the density (ordinary mix, ±3 %).
    const total = hourly.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(86_400 * 0.85);
    expect(total).toBeLessThan(86_400 * 1.03);
  });

  it('has heavy-tailed sizes: the top 1 % of flows carry more than 50 % of the bytes, the median is small', () => {
    const bytes = day
      .filter((r) => r.label === 'background')
      .map((r) => r.fields.octetDeltaCount as number)
      .sort((a, b) => b - a);
    const total = bytes.reduce((a, b) => a + b, 0);
    const top = bytes.slice(0, Math.ceil(bytes.length / 100)).reduce((a, b) => a + b, 0);
    expect(top / total).toBeGreaterThan(0.5);
    expect(bytes[bytes.length >> 1]!).toBeLessThan(10_000);
  });

  it('keeps every record inside its slice and every flow consistent', () => {
    for (const r of day) {
      const f = r.fields;
      expect(f.flowEndMilliseconds).toBe(r.time);
      expect(f.flowStartMilliseconds as number).toBeLessThanOrEqual(r.time);
      expect(f.packetDeltaCount as number).toBeGreaterThanOrEqual(1);
      expect(f.octetDeltaCount as number).toBeGreaterThanOrEqual(f.packetDeltaCount as number);
      expect(model.providers.some((p) => p.id === r.providerId)).toBe(true);
    }
  });

  it('mixes directions: domestic-foreign most, domestic-domestic and foreign-foreign transit some', () => {
    const domestic = new Set(
      model.providers.flatMap((p) => [...p.subscribers, ...p.resolvers, ...p.servers.map((s) => s.address)]),
    );
    const counts = { df: 0, dd: 0, ff: 0 };
    for (const r of day) {
      if (r.label !== 'background') continue;
      const s = (r.fields.sourceIPv4Address ?? r.fields.sourceIPv6Address) as string;
      const d = (r.fields.destinationIPv4Address ?? r.fields.destinationIPv6Address) as string;
      const n = Number(domestic.has(s)) + Number(domestic.has(d));
      if (n === 2) counts.dd++;
      else if (n === 1) counts.df++;
      else counts.ff++;
    }
    const total = counts.dd + counts.df + counts.ff;
    expect(counts.df / total).toBeGreaterThan(0.5);
    expect(counts.dd / total).toBeGreaterThan(0.1);
    expect(counts.ff / total).toBeGreaterThan(0.03);
  });

  it('produces every look-alike under its label', () => {
    const labels = new Set(day.map((r) => r.label));
    for (const l of ['research-scanner', 'cdn-short-flows', 'software-update', 'keepalive', 'nightly-backup'])
      expect(labels, l).toContain(`lookalike:${l}`);
  });

  it('sends keep-alives with the documented periods and jitter', () => {
    const byHost = new Map<string, number[]>();
    for (const r of day) {
      if (r.label !== 'lookalike:keepalive' || r.fields.destinationTransportPort === undefined) continue;
      const key = `${r.fields.sourceIPv4Address as string}>${r.fields.destinationIPv4Address as string}`;
      if ((r.fields.sourceTransportPort as number) < 32768) continue; // the answers
      const l = byHost.get(key) ?? [];
      l.push(r.time);
      byHost.set(key, l);
    }
    expect(byHost.size).toBeGreaterThan(0);
    for (const times of byHost.values()) {
      const gaps = times.slice(1).map((t, i) => (t - times[i]!) / 1000);
      const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
      expect(DEFAULT_LOOKALIKES.keepalivePeriods.some((p) => Math.abs(mean - p) / p < 0.05)).toBe(true);
      for (const g of gaps)
        expect(Math.abs(g - mean) / mean).toBeLessThan(2 * DEFAULT_LOOKALIKES.keepaliveJitter + 0.02);
    }
  });

  it('runs nightly backups at night (JST), large and outbound to foreign clouds', () => {
    const clouds = new Set(model.foreign.filter((f) => f.role === 'cloud').map((f) => f.address));
    const backups = day.filter(
      (r) => r.label === 'lookalike:nightly-backup' && clouds.has(r.fields.destinationIPv4Address as string),
    );
    expect(backups.length).toBeGreaterThan(0);
    let bytes = 0;
    for (const r of backups) {
      const hour = new DiurnalCurve(JST_PROFILE).localHour(r.time);
      expect(hour).toBeGreaterThanOrEqual(1);
      expect(hour).toBeLessThanOrEqual(6);
      bytes += r.fields.octetDeltaCount as number;
    }
    expect(bytes / backups.length).toBeGreaterThan(50e6);
  });

  it('probes from research-scanner organisations found in the prefix table', () => {
    const scanners = findScannerHosts(table, 'JP', new Rng(3), 4);
    expect(scanners.length).toBeGreaterThan(0);
    for (const s of scanners)
      expect(s.org).toMatch(
        /censys|shadowserver|rapid7|stretchoid|onyphe|driftnet|measurement|leakix|binaryedge/i,
      );
    const recs = run({ density: 50, kind: 'flow', scanners }, DAY, DAY + 600_000);
    const addrs = new Set(scanners.map((s) => s.address));
    const scan = recs.filter((r) => r.label === 'lookalike:research-scanner');
    // Probes go to domestic addresses; the few answers go back to the scanner.
    const probes = scan.filter((r) => !addrs.has(r.fields.destinationIPv4Address as string));
    expect(probes.length).toBeGreaterThan(scan.length * 0.85);
    expect(probes.length).toBeGreaterThan(50);
    for (const p of probes) expect(addrs.has(p.fields.sourceIPv4Address as string)).toBe(true);
    // Many targets, each touched about once.
    const targets = new Set(probes.map((p) => p.fields.destinationIPv4Address));
    expect(targets.size).toBeGreaterThan(probes.length * 0.9);
  });

  it('is deterministic for a seed', () => {
    const a = run({ density: 20, kind: 'flow' }, DAY, DAY + 60_000, 100, 9);
    const b = run({ density: 20, kind: 'flow' }, DAY, DAY + 60_000, 100, 9);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const c = run({ density: 20, kind: 'flow' }, DAY, DAY + 60_000, 100, 10);
    expect(JSON.stringify(c)).not.toBe(JSON.stringify(a));
  });
});

describe('background DNS (dnstap at the resolvers)', () => {
  it('asks for popular names and answers NXDOMAIN at the configured rate', () => {
    const recs = run(
      { density: 20, kind: 'dns', nxdomainRate: 0.05 },
      DAY + 12 * 3_600_000,
      DAY + 12 * 3_600_000 + 1_000_000,
    );
    expect(recs.every((r) => r.kind === 'dns')).toBe(true);
    const nx = recs.filter((r) => r.fields.dnsResponseCode === 3).length;
    expect(nx / recs.length).toBeGreaterThan(0.035);
    expect(nx / recs.length).toBeLessThan(0.065);
    const known = recs.filter(
      (r) =>
        r.fields.dnsResponseCode === 0 &&
        POPULAR_DOMAINS.some((d) => (r.fields.dnsQueryName as string).endsWith(d.name)),
    ).length;
    expect(known).toBe(recs.length - nx);
    const resolvers = new Set(model.providers.flatMap((p) => p.resolvers));
    for (const r of recs)
      expect(
        resolvers.has((r.fields.destinationIPv4Address ?? r.fields.destinationIPv6Address) as string),
      ).toBe(true);
  });
});
