import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  INDICATOR_CSV_HEADER,
  IndicatorFileError,
  indicatorsToCsv,
  indicatorValid,
  inferIndicatorType,
  MAX_INDICATOR_LINE_CHARS,
  parseIndicators,
  readIndicatorFile,
  writeIndicatorFile,
  type IndicatorEntry,
} from './index.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acd-indicators-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SET: IndicatorEntry[] = [
  {
    value: '198.51.100.7',
    type: 'ipv4',
    source: 'feed-a',
    confidence: 80,
    validUntil: '2027-01-01T00:00:00Z',
  },
  { value: '2001:db8::1', type: 'ipv6', source: 'feed, "quoted"', confidence: 60 },
  { value: '203.0.113.0/24', type: 'cidr', source: 'feed-b', confidence: 45 },
  { value: 'login-verify42.top', type: 'domain', source: 'feed-b', confidence: 90 },
];

describe('indicator file', () => {
  it('writes and reads the CSV format, and reads one value per line', async () => {
    const path = join(dir, 'ioc.csv');
    await writeIndicatorFile(path, SET);
    expect(await readIndicatorFile(path)).toEqual(SET);
    expect(indicatorsToCsv(SET).split('\n')[0]).toBe(INDICATOR_CSV_HEADER);
    const plain = parseIndicators('# comment\n198.51.100.7\n2001:DB8::1\n198.51.100.0/24\nEvil.Example\n');
    expect(plain.map((e) => [e.value, e.type, e.source, e.confidence])).toEqual([
      ['198.51.100.7', 'ipv4', 'file', 50],
      ['2001:db8::1', 'ipv6', 'file', 50],
      ['198.51.100.0/24', 'cidr', 'file', 50],
      ['evil.example', 'domain', 'file', 50],
    ]);
  });

  it('names the line of a bad entry', async () => {
    const path = join(dir, 'bad.csv');
    await writeFile(path, `${INDICATOR_CSV_HEADER}\n1.2.3.4,ipv4,,x,50\n1.2.3.4,domain,,x,50\n`);
    const err = await readIndicatorFile(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IndicatorFileError);
    expect((err as IndicatorFileError).line).toBe(3);
    expect((err as IndicatorFileError).code).toBe('ERR_INDICATOR_FILE');
    await expect(readIndicatorFile(join(dir, 'missing.csv'))).rejects.toBeInstanceOf(IndicatorFileError);
    expect(() => parseIndicators('not an indicator!\n')).toThrow(IndicatorFileError);
    expect(() => parseIndicators(`${INDICATOR_CSV_HEADER}\n1.2.3.4,ipv4,,x,101\n`)).toThrow(/confidence/);
    expect(() => parseIndicators(`${INDICATOR_CSV_HEADER}\n1.2.3.4,ipv4,soon,x,1\n`)).toThrow(/valid_until/);
    expect(() => parseIndicators(`${INDICATOR_CSV_HEADER}\n"1.2.3.4,ipv4,,x,1\n`)).toThrow(/5 CSV columns/);
    expect(() => parseIndicators(`a${'b'.repeat(MAX_INDICATOR_LINE_CHARS)}.com\n`)).toThrow(/longer/);
  });

  it('tells whether an entry is in force at an event time', () => {
    const e = SET[0]!;
    expect(indicatorValid(e, Date.parse('2026-12-31T23:59:59Z'))).toBe(true);
    expect(indicatorValid(e, Date.parse('2027-01-01T00:00:01Z'))).toBe(false);
    expect(indicatorValid(SET[1]!, 8.64e15)).toBe(true);
  });

  it('property: any text either parses into well-formed entries or fails with IndicatorFileError', () => {
    const token = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('198.51.100.7', '2001:DB8::1', '10.0.0.0/8', '10.0.0.1/8', 'a.example', '-x.y', ''),
      fc.constantFrom('ipv4', 'ipv6', 'cidr', 'domain', 'url'),
      fc.constantFrom('2026-01-01', 'never', '', '50', '-1', '100', '1e2', '"q,"'),
    );
    const line = fc.oneof(
      fc.array(token, { maxLength: 7 }).map((c) => c.join(',')),
      token,
      fc.string({ maxLength: 80 }),
    );
    const text = fc
      .tuple(fc.boolean(), fc.array(line, { maxLength: 12 }), fc.constantFrom('\n', '\r\n'))
      .map(([csv, lines, nl]) => (csv ? [INDICATOR_CSV_HEADER, ...lines] : lines).join(nl));
    fc.assert(
      fc.property(text, (t) => {
        let entries: IndicatorEntry[];
        try {
          entries = parseIndicators(t);
        } catch (e) {
          return e instanceof IndicatorFileError && e.line >= 0;
        }
        for (const e of entries) {
          if (inferIndicatorType(e.value) !== e.type) return false;
          if (!(e.confidence >= 0 && e.confidence <= 100)) return false;
          if (e.validUntil !== undefined && !Number.isFinite(Date.parse(e.validUntil))) return false;
        }
        // What was read writes back to a file that reads the same.
        expect(parseIndicators(indicatorsToCsv(entries))).toEqual(entries);
        return true;
      }),
      { numRuns: 400 },
    );
  });
});
