import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPrefixTable, type PrefixTable } from '../../common/prefixes/index.ts';
import { buildCountryModel, Rng, type CountryModel } from '../country/index.ts';
import { SCENARIO_NAMES, type GeneratorContext, type ScenarioName } from '../traffic/types.ts';
import {
  ScenarioModelError,
  ScenarioParamError,
  SCENARIOS,
  createScenario,
  generateIndicators,
  indicatorMatches,
  parseIndicators,
} from './index.ts';

const CACHE = join(tmpdir(), 'acd-test-prefix-cache');
const START = Date.parse('2026-05-11T09:00:00.000Z');
let table: PrefixTable;
let model: CountryModel;

beforeAll(async () => {
  table = (await loadPrefixTable({ cacheDir: CACHE })).table;
  model = buildCountryModel(table, { seed: 42 });
}, 120_000);

function ctx(seed: number, withTable: boolean): GeneratorContext {
  const c: GeneratorContext = {
    model,
    rng: new Rng(seed),
    indicators: generateIndicators(model, new Rng(seed)),
  };
  if (withTable) c.table = table;
  return c;
}

/** Values an `extra` parameter might be given, sensible or not. */
const extraValue = fc.oneof(
  fc.integer({ min: -5, max: 100_000 }),
  fc.double({ noNaN: false }),
  fc.constantFrom(
    '',
    'abc',
    '30s',
    '5m',
    '1-80',
    'udp',
    'foreign-resolver',
    'dns',
    'ntp',
    'rdp',
    '10MB',
    'true',
    'TXT',
  ),
  fc.boolean(),
);

describe('scenarios under random parameters', () => {
  it('never throw an untyped error and never emit outside their window', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SCENARIO_NAMES),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 1, max: 20 * 60_000 }),
        fc.double({ min: 0.01, max: 3, noNaN: true }),
        fc.boolean(),
        fc.option(
          fc.dictionary(
            fc.constantFrom(
              'rate',
              'period',
              'jitter',
              'transport',
              'via',
              'vector',
              'type',
              'ports',
              'volume',
              'bogus',
              'pps',
              'port',
              'sector',
            ),
            extraValue,
            { maxKeys: 2 },
          ),
        ),
        fc.integer({ min: 1, max: 200_000 }),
        fc.integer({ min: 0, max: 1000 }),
        (name: ScenarioName, seed, durationMs, intensity, withTable, extra, slice, offset) => {
          // Keep floods small so the property stays fast.
          const scale = name === 'ddos-flood' || name === 'mirai-scan' || name === 'dns-tunnel' ? 0.05 : 1;
          const start = START + offset * 1000;
          let inst;
          try {
            inst = createScenario(name, ctx(seed, withTable), {
              start,
              durationMs,
              intensity: intensity * scale,
              extra: extra ?? {},
            });
          } catch (e) {
            expect(e instanceof ScenarioParamError || e instanceof ScenarioModelError).toBe(true);
            return;
          }
          expect(inst.end).toBe(start + durationMs);
          let n = 0;
          for (let t = start - slice; t < inst.end + slice; t += slice)
            inst.generate(t, t + slice, (r) => {
              n++;
              expect(r.time >= start && r.time < inst.end && r.time >= t && r.time < t + slice).toBe(true);
            });
          for (const line of inst.truth()) {
            expect(Date.parse(line.start)).toBeGreaterThanOrEqual(start);
            expect(Date.parse(line.end)).toBeLessThan(inst.end);
          }
          return n >= 0;
        },
      ),
      { numRuns: 60, seed: 4242 },
    );
  }, 120_000);

  it('refuse bad common and extra parameters with the key named', () => {
    const c = ctx(1, true);
    const bad = (name: ScenarioName, over: object, key: string): void => {
      try {
        createScenario(name, c, { start: START, durationMs: 60_000, intensity: 1, extra: {}, ...over });
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(ScenarioParamError);
        expect((e as ScenarioParamError).key).toBe(key);
      }
    };
    bad('c2-beacon', { intensity: 0 }, 'intensity');
    bad('c2-beacon', { durationMs: -1 }, 'durationMs');
    bad('c2-beacon', { start: Number.NaN }, 'start');
    bad('c2-beacon', { extra: { perod: '30s' } }, 'extra.perod');
    bad('c2-beacon', { extra: { transport: 'smtp' } }, 'extra.transport');
    bad('ddos-reflection', { extra: { vector: 'chargen' } }, 'extra.vector');
    bad('scan-vertical', { extra: { ports: '0-99999' } }, 'extra.ports');
    bad('scan-vertical', { sources: ['8.8.8.8'], targets: ['2001:db8::1'] }, 'targets');
    bad('brute-force-ssh', { sources: ['not-an-ip'] }, 'sources.0');
    expect(() => createScenario('nope', c, { start: START, durationMs: 1, intensity: 1, extra: {} })).toThrow(
      ScenarioParamError,
    );
  });

  it('ioc-contact without indicators is a model error', () => {
    const c = { ...ctx(1, true), indicators: [] };
    expect(() =>
      createScenario('ioc-contact', c, { start: START, durationMs: 60_000, intensity: 1, extra: {} }),
    ).toThrow(ScenarioModelError);
  });

  it('accept explicit sources and targets and use them', () => {
    const attacker = model.foreign.find((h) => !h.address.includes(':'))!.address;
    const inst = createScenario('brute-force-rdp', ctx(3, true), {
      start: START,
      durationMs: 120_000,
      intensity: 1,
      extra: {},
      sources: [attacker],
      targets: [model.operators[0]!.importantSystems[0]!.address],
    });
    const out: string[] = [];
    inst.generate(START, inst.end, (r) =>
      out.push(typeof r.fields.sourceIPv4Address === 'string' ? r.fields.sourceIPv4Address : ''),
    );
    expect(new Set(out)).toEqual(new Set([attacker, model.operators[0]!.importantSystems[0]!.address]));
    expect(inst.truth()[0]!.attackers).toEqual([attacker]);
    // Special space counts as domestic (DESIGN section 6): an attack from it is not visible.
    const hidden = createScenario('brute-force-rdp', ctx(3, true), {
      start: START,
      durationMs: 120_000,
      intensity: 1,
      extra: {},
      sources: ['203.0.113.7'],
      targets: [model.operators[0]!.importantSystems[0]!.address],
    });
    expect(hidden.truth()).toEqual([]);
  });

  it('work without a prefix table, from the model alone', () => {
    for (const name of ['mirai-scan', 'scan-horizontal', 'c2-beacon'] as const) {
      const inst = SCENARIOS[name].create(ctx(5, false), {
        start: START,
        durationMs: 60_000,
        intensity: 1,
        extra: {},
      });
      let n = 0;
      inst.generate(START, inst.end, () => n++);
      expect(n).toBeGreaterThan(0);
      for (const line of inst.truth())
        for (const a of [...line.attackers, ...line.victims])
          expect(table.classifyEndpoint(a).kind).toBe('country');
    }
  });
});

describe('indicator sets', () => {
  it('generates a default set of foreign addresses, a CIDR and domains', () => {
    const set = generateIndicators(model, new Rng(9));
    expect(set.filter((e) => e.type === 'ipv4').length).toBe(6);
    expect(set.filter((e) => e.type === 'cidr')).toHaveLength(1);
    expect(set.filter((e) => e.type === 'domain')).toHaveLength(5);
    for (const e of set)
      if (e.type === 'ipv4' || e.type === 'ipv6') expect(table.isDomestic(e.value, 'JP')).toBe(false);
    expect(generateIndicators(model, new Rng(9))).toEqual(set);
  });

  it('matches addresses, CIDR members and subdomains while valid', () => {
    const set = parseIndicators(
      'value,type,valid_until,source,confidence\n198.51.100.0/24,cidr,,x,50\nevil.example,domain,2026-01-01,x,50\n',
    );
    expect(indicatorMatches(set, '198.51.100.9', START)).toBe(true);
    expect(indicatorMatches(set, '198.51.101.9', START)).toBe(false);
    expect(indicatorMatches(set, 'www.evil.example', Date.parse('2025-06-01'))).toBe(true);
    expect(indicatorMatches(set, 'www.evil.example', START)).toBe(false);
  });
});
