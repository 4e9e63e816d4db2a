import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serializeTables } from './cache.ts';
import { loadPrefixTable } from './load.ts';

describe('packaged prefix table', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('parses the ip-location-db packages, caches them, and reads the cache back identically', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'acd-prefixes-'));
    dirs.push(dir);
    const first = await loadPrefixTable({ cacheDir: dir });
    expect(first.report.from).toBe('csv');
    const second = await loadPrefixTable({ cacheDir: dir });
    expect(second.report.from).toBe('cache');
    expect(
      Buffer.compare(
        serializeTables(first.table.country, first.table.asn),
        serializeTables(second.table.country, second.table.asn),
      ),
    ).toBe(0);

    const t = second.table;
    expect(t.version.country.source).toBe('@ip-location-db/geo-whois-asn-country');
    expect(t.tableVersion).toMatch(/^geo-whois-asn-country@[0-9.]+\+asn@[0-9.]+$/);
    // Well-known allocations that have not moved in decades.
    expect(t.classifyEndpoint('8.8.8.8')).toEqual({ kind: 'country', country: 'US' });
    expect(t.lookupAsn('8.8.8.8')).toEqual({ asn: 15169, org: 'Google LLC' });
    expect(t.classifyEndpoint('153.128.1.1')).toEqual({ kind: 'country', country: 'JP' });
    expect(t.lookupAsn('153.128.1.1')?.asn).toBe(4713);
    expect(t.classifyEndpoint('2400:4050::1')).toEqual({ kind: 'country', country: 'JP' });
    expect(t.classifyEndpoint('192.168.1.1')).toEqual({ kind: 'special', reason: 'private' });
    expect(t.isDomestic('10.0.0.1', 'JP')).toBe(true);
    expect(t.isDomestic('8.8.8.8', 'JP')).toBe(false);
  });
});
