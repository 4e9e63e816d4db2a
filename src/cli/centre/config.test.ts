import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AcdError, ConfigError } from '../../common/errors.ts';
import { loadCentreConfig, MAX_TOKENS_FILE_BYTES, parseTokens } from './config.ts';

describe('centre configuration', () => {
  it('has defaults for every section', () => {
    const c = loadCentreConfig({ env: {} });
    expect(c.centre.consumer).toBe('centre');
    expect(c.centre.ingest.parallel).toBeGreaterThan(1);
    expect(c.centre.ingest.appendInterval).toBe(500);
    expect(c.store.type).toBe('duckdb');
    expect(c.bus.type).toBe('jetstream');
  });

  it('names a bad key', () => {
    expect(() => loadCentreConfig({ env: { ACD_CENTRE__INGEST__PARALLEL: '0' } })).toThrow(ConfigError);
  });
});

describe('parseTokens (tokens file)', () => {
  const good = { token: 'a'.repeat(24), user: 'ana', role: 'analyst', defaultPurpose: 'monitoring' };

  it('accepts well-formed entries', () => {
    expect(parseTokens(JSON.stringify([good]))).toEqual([good]);
  });

  it('refuses short tokens, unknown roles, duplicates, extra keys and oversized files', () => {
    expect(() => parseTokens(JSON.stringify([{ ...good, token: 'short' }]))).toThrow(ConfigError);
    expect(() => parseTokens(JSON.stringify([{ ...good, role: 'root' }]))).toThrow(ConfigError);
    expect(() => parseTokens(JSON.stringify([good, good]))).toThrow(/duplicate/);
    expect(() => parseTokens(JSON.stringify([{ ...good, extra: 1 }]))).toThrow(ConfigError);
    expect(() => parseTokens(' '.repeat(MAX_TOKENS_FILE_BYTES + 1))).toThrow(ConfigError);
  });

  it('never throws anything but a ConfigError on arbitrary input', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify([v])),
        ),
        (text) => {
          try {
            const out = parseTokens(text);
            expect(Array.isArray(out)).toBe(true);
          } catch (err) {
            expect(err).toBeInstanceOf(AcdError);
            expect((err as AcdError).code).toBe('ERR_CONFIG_INVALID');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
