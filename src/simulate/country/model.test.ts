import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/errors.ts';
import {
  loadPrefixTable,
  parsePrefix,
  tryParseAddress,
  wordsToBigInt,
  type PrefixTable,
} from '../../common/prefixes/index.ts';
import { OperatorsFileError } from './errors.ts';
import { buildCountryModel, countryModelToJson, type CountryModel } from './model.ts';
import {
  operatorsFileOf,
  operatorsFileToJson,
  readOperatorsFile,
  writeOperatorsFile,
} from './operators-file.ts';
import { SECTORS } from './sectors.ts';

// A cache shared between runs only saves time (the CSVs take seconds to parse); a missing or
// stale cache is rebuilt, so the tests never depend on it.
const CACHE = join(tmpdir(), 'acd-test-prefix-cache');

function asBig(address: string): { version: 4 | 6; v: bigint } {
  const a = tryParseAddress(address)!;
  return { version: a.version, v: a.version === 4 ? BigInt(a.w0) : wordsToBigInt(a.w0, a.w1, a.w2, a.w3) };
}

function inPrefix(address: string, prefix: string): boolean {
  const a = asBig(address);
  const p = parsePrefix(prefix);
  return a.version === p.version && p.first <= a.v && a.v <= p.last;
}

describe('synthetic country', () => {
  let table: PrefixTable;
  let model: CountryModel;
  let dir: string;

  beforeAll(async () => {
    table = (await loadPrefixTable({ cacheDir: CACHE })).table;
    model = buildCountryModel(table, { seed: 42 });
    dir = await mkdtemp(join(tmpdir(), 'acd-country-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is deterministic: the same seed gives byte-identical JSON, another seed another model', () => {
    const again = buildCountryModel(table, { seed: 42 });
    expect(countryModelToJson(again)).toBe(countryModelToJson(model));
    expect(operatorsFileToJson(operatorsFileOf(again))).toBe(operatorsFileToJson(operatorsFileOf(model)));
    expect(countryModelToJson(buildCountryModel(table, { seed: 43 }))).not.toBe(countryModelToJson(model));
  });

  it('builds providers on the largest domestic ASNs with their own exporters', () => {
    expect(model.providers).toHaveLength(3);
    expect(new Set(model.providers.map((p) => p.asn)).size).toBe(3);
    const exporters = model.providers.flatMap((p) => p.exporters);
    expect(new Set(exporters.map((e) => e.address)).size).toBe(exporters.length);
    for (const e of exporters) {
      expect(e.address).toMatch(/^127\.0\.0\.\d+$/);
      expect(e.format).toBe('ipfix');
      expect([1, 100, 1000]).toContain(e.samplingRate);
    }
    for (const p of model.providers) {
      expect(p.subscribers.length).toBeGreaterThanOrEqual(200);
      expect(p.resolvers.length).toBeGreaterThanOrEqual(2);
      expect(p.servers).toHaveLength(10);
    }
  });

  it('puts every provider prefix and host in domestic space of the provider ASN', () => {
    for (const p of model.providers) {
      for (const { prefix } of p.prefixes) {
        const { first, last, version } = parsePrefix(prefix);
        for (const v of [first, last]) {
          const text = version === 4 ? formatV4(v) : formatV6(v);
          expect(table.classifyEndpoint(text)).toEqual({ kind: 'country', country: 'JP' });
          expect(table.isDomestic(text, 'JP')).toBe(true);
          expect(table.lookupAsn(text)?.asn).toBe(p.asn);
        }
      }
      const hosts = [...p.subscribers, ...p.resolvers, ...p.servers.map((s) => s.address)];
      for (const h of hosts) {
        expect(p.prefixes.some((x) => x.role !== 'enterprise' && inPrefix(h, x.prefix))).toBe(true);
        expect(table.classifyEndpoint(h)).toEqual({ kind: 'country', country: 'JP' });
      }
      expect(p.subscribers.some((s) => s.includes(':'))).toBe(true);
    }
    // Provider blocks never overlap each other.
    const all = model.providers.flatMap((p) => p.prefixes.map((x) => parsePrefix(x.prefix)));
    for (let i = 0; i < all.length; i++)
      for (let j = i + 1; j < all.length; j++)
        expect(
          all[i]!.version !== all[j]!.version || all[i]!.last < all[j]!.first || all[j]!.last < all[i]!.first,
        ).toBe(true);
  });

  it('samples foreign hosts that classify as foreign, with their real ASNs, incl. cloud and CDN networks', () => {
    expect(model.foreign.length).toBeGreaterThanOrEqual(400);
    for (const h of model.foreign) {
      const c = table.classifyEndpoint(h.address);
      expect(c).toEqual({ kind: 'country', country: h.country });
      expect(h.country).not.toBe('JP');
      expect(table.isDomestic(h.address, 'JP')).toBe(false);
      expect(table.lookupAsn(h.address)?.asn).toBe(h.asn);
    }
    const countries = new Set(model.foreign.map((h) => h.country));
    for (const cc of ['US', 'CN', 'DE']) expect(countries.has(cc)).toBe(true);
    const orgs = model.foreign.filter((h) => h.role === 'cloud' || h.role === 'cdn').map((h) => h.org);
    for (const name of [/amazon/i, /google/i, /microsoft/i, /cloudflare/i, /akamai/i])
      expect(orgs.some((o) => name.test(o))).toBe(true);
    expect(model.foreign.some((h) => h.address.includes(':'))).toBe(true);
  });

  it('gives operators of all 15 sectors non-overlapping ranges inside their provider enterprise space', () => {
    expect(new Set(model.operators.map((o) => o.sector))).toEqual(new Set(SECTORS));
    for (const s of SECTORS) expect(model.operators.filter((o) => o.sector === s)).toHaveLength(3);
    const ranges: { op: string; first: bigint; last: bigint; version: number }[] = [];
    for (const op of model.operators) {
      const provider = model.providers.find((p) => p.id === op.providerId)!;
      const enterprise = provider.prefixes
        .filter((x) => x.role === 'enterprise')
        .map((x) => parsePrefix(x.prefix));
      for (const r of op.ranges) {
        const p = parsePrefix(r.prefix);
        expect(
          enterprise.some((e) => e.version === p.version && e.first <= p.first && p.last <= e.last),
        ).toBe(true);
        expect(table.classifyEndpoint(r.prefix.split('/')[0]!)).toEqual({ kind: 'country', country: 'JP' });
        if (r.pseudonymisationWaived) expect(op.agreement.status).toBe('active');
        ranges.push({ op: op.id, ...p });
      }
      for (const s of op.importantSystems)
        expect(op.ranges.some((r) => inPrefix(s.address, r.prefix))).toBe(true);
      expect(op.domains.every((d) => d.endsWith('.jp'))).toBe(true);
      expect(op.contacts.every((c) => c.email.endsWith('.example.jp'))).toBe(true);
    }
    for (let i = 0; i < ranges.length; i++)
      for (let j = i + 1; j < ranges.length; j++) {
        const a = ranges[i]!;
        const b = ranges[j]!;
        expect(a.version !== b.version || a.last < b.first || b.last < a.first).toBe(true);
      }
    const statuses = new Set(model.operators.map((o) => o.agreement.status));
    expect(statuses).toEqual(new Set(['active', 'none', 'expired']));
  });

  it('writes and reads the operators file', async () => {
    const path = join(dir, 'operators.json');
    await writeOperatorsFile(path, model);
    const back = await readOperatorsFile(path);
    expect(back).toEqual(operatorsFileOf(model));
    expect(await readFile(path, 'utf8')).toBe(operatorsFileToJson(operatorsFileOf(model)));
  });

  it('names the failing key of an invalid operators file', async () => {
    const bad = async (
      mutate: (doc: Record<string, unknown> & { operators: Record<string, unknown>[] }) => void,
    ): Promise<OperatorsFileError> => {
      const doc = JSON.parse(operatorsFileToJson(operatorsFileOf(model))) as Record<string, unknown> & {
        operators: Record<string, unknown>[];
      };
      mutate(doc);
      const path = join(dir, 'bad.json');
      await writeFile(path, JSON.stringify(doc));
      const err = await readOperatorsFile(path).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OperatorsFileError);
      return err as OperatorsFileError;
    };
    expect((await bad((d) => (d.operators[0]!.sector = 'fishing'))).key).toBe('operators.0.sector');
    expect(
      (await bad((d) => ((d.operators[2]!.ranges as { prefix: string }[])[0]!.prefix = '10.0.0.1/8'))).key,
    ).toBe('operators.2.ranges.0.prefix');
    expect((await bad((d) => (d.operators[1]!.providerId = 'provider-99'))).key).toBe(
      'operators.1.providerId',
    );
    expect(
      (
        await bad(
          (d) => ((d.operators[3]!.importantSystems as { address: string }[])[0]!.address = '8.8.8.8'),
        )
      ).key,
    ).toBe('operators.3.importantSystems.0.address');
    expect((await bad((d) => delete d.operators[4]!.agreement)).key).toBe('operators.4.agreement');
    await writeFile(join(dir, 'nojson.json'), '{');
    await expect(readOperatorsFile(join(dir, 'nojson.json'))).rejects.toBeInstanceOf(OperatorsFileError);
  });

  it('refuses invalid parameters naming the key', () => {
    expect(() => buildCountryModel(table, { providers: 0 })).toThrow(ConfigError);
    try {
      buildCountryModel(table, { domesticCountry: 'jp' });
    } catch (e) {
      expect((e as ConfigError).key).toBe('country.domesticCountry');
    }
  });

  it('works for another domestic country', () => {
    const de = buildCountryModel(table, {
      seed: 1,
      domesticCountry: 'DE',
      subscribersV4: 5,
      subscribersV6: 2,
      foreignHosts: 20,
      cloudHostsPerOrg: 1,
      operatorsPerSector: 1,
    });
    for (const p of de.providers)
      expect(table.classifyEndpoint(p.subscribers[0]!)).toEqual({ kind: 'country', country: 'DE' });
    expect(de.foreign.every((h) => h.country !== 'DE')).toBe(true);
  });
});

function formatV4(v: bigint): string {
  const n = Number(v);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function formatV6(v: bigint): string {
  const parts: string[] = [];
  for (let i = 7; i >= 0; i--) parts.push(((v >> BigInt(i * 16)) & 0xffffn).toString(16));
  return parts.join(':');
}
