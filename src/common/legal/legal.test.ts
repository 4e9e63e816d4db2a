import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { LEGAL_CHANNELS } from '../schema/legal.ts';
import { addLegalDuration, parseLegalDuration } from './duration.ts';
import { LegalParameterError } from './errors.ts';
import {
  legalParametersFrom,
  loadLegalParameters,
  shippedLegalParameterFile,
  shippedLegalParameters,
} from './load.ts';

const T = (s: string): number => Date.parse(s);

function futureVersion(): unknown {
  const base = structuredClone(shippedLegalParameterFile().versions[0]!);
  return {
    format: 'acd.legal-parameters/1',
    versions: [
      {
        ...base,
        version: 'jp-2030-01.1',
        effectiveFrom: '2030-01-01T00:00:00.000Z',
        retention: { default: '1y', channels: { 'transit-foreign-to-foreign': '90d' } },
      },
    ],
  };
}

describe('legal parameters', () => {
  const dir = mkdtemp(join(tmpdir(), 'acd-legal-'));
  afterAll(async () => rm(await dir, { recursive: true, force: true }));

  it('ships a version with two years of retention for every channel and the 15 sectors', () => {
    const p = shippedLegalParameters().parametersAt(T('2026-01-01T00:00:00Z'));
    expect(p.version).toBe('jp-2025-05.1');
    expect(p.sectors).toHaveLength(15);
    for (const c of LEGAL_CHANNELS) {
      expect(p.retention(c).text).toBe('2y');
      expect(p.retainUntil(c, T('2026-03-01T12:00:00Z'))).toBe(T('2028-03-01T12:00:00Z'));
    }
    expect([...p.approvalKinds.keys()]).toEqual([
      'acquisition',
      'police-measure',
      'sdf-measure',
      'retention-extension',
    ]);
    expect(p.dueAt('emergency-measure-notification', T('2026-01-01T00:00:00Z'))).toBe(
      T('2026-01-02T00:00:00Z'),
    );
  });

  it('picks the version in force; a future-dated version does not change current behaviour', () => {
    const table = legalParametersFrom([
      { label: 'parameters.json', value: shippedLegalParameterFile() },
      { label: 'override.json', value: futureVersion() },
    ]);
    const now = T('2026-06-01T00:00:00Z');
    const cur = table.parametersAt(now);
    expect(cur.version).toBe('jp-2025-05.1');
    expect(cur.retainUntil('transit-foreign-to-foreign', now)).toBe(T('2028-06-01T00:00:00Z'));
    const later = table.parametersAt(T('2030-01-01T00:00:00Z'));
    expect(later.version).toBe('jp-2030-01.1');
    expect(later.retainUntil('transit-foreign-to-foreign', T('2030-01-01T00:00:00Z'))).toBe(
      T('2030-04-01T00:00:00Z'),
    );
    // A channel the new version does not list falls back to its default.
    expect(later.retention('operator-telemetry').text).toBe('1y');
    expect(table.parametersAt(T('2029-12-31T23:59:59.999Z')).version).toBe('jp-2025-05.1');
  });

  it('refuses a time before the first version', () => {
    expect(() => shippedLegalParameters().parametersAt(T('2020-01-01T00:00:00Z'))).toThrow(
      LegalParameterError,
    );
  });

  it('names the failing key of a bad override and refuses redefining a version', () => {
    const bad = futureVersion() as { versions: { retention: { default: string } }[] };
    bad.versions[0]!.retention.default = 'two years';
    try {
      legalParametersFrom([{ label: 'o.yaml', value: bad }]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).key).toBe('o.yaml:versions.0.retention.default');
    }
    expect(() =>
      legalParametersFrom([
        { label: 'a', value: shippedLegalParameterFile() },
        { label: 'b', value: shippedLegalParameterFile() },
      ]),
    ).toThrow(LegalParameterError);
  });

  it('loads an override file in YAML', async () => {
    const f = join(await dir, 'override.yaml');
    const v = futureVersion() as { versions: unknown[] };
    const { stringify } = await import('yaml');
    await writeFile(f, stringify(v));
    const table = await loadLegalParameters(f);
    expect(table.versions().map((x) => x.version)).toEqual(['jp-2025-05.1', 'jp-2030-01.1']);
    await expect(loadLegalParameters(join(await dir, 'missing.yaml'))).rejects.toBeInstanceOf(
      LegalParameterError,
    );
  });

  it('adds calendar years in UTC, clamping the day', () => {
    const y = parseLegalDuration('2y')!;
    expect(addLegalDuration(T('2024-02-29T10:00:00Z'), y)).toBe(T('2026-02-28T10:00:00Z'));
    expect(addLegalDuration(T('2024-01-31T00:00:00Z'), parseLegalDuration('1mo')!)).toBe(
      T('2024-02-29T00:00:00Z'),
    );
    expect(addLegalDuration(0, parseLegalDuration('30d')!)).toBe(30 * 86_400_000);
    expect(parseLegalDuration('2 years')).toBeUndefined();
  });
});
