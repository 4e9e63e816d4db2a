import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { Duration, Section, envName, loadConfig, parseDuration } from './config.ts';
import { ConfigError } from './errors.ts';

const Schema = Type.Object(
  {
    collect: Section(
      {
        queueCapacity: Type.Integer({ minimum: 64, maximum: 1000, default: 128 }),
        timeout: Duration({ default: '30s', description: 'x', minimumMs: 1000 }),
        listen: Type.Array(Type.String(), { default: [] }),
      },
      'collect',
    ),
  },
  { additionalProperties: false, default: {} },
);

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'acd-config-'));
  const p = join(dir, 'acd.yaml');
  writeFileSync(p, text);
  return p;
}

function keyOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).key;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration loader', () => {
  it('fills defaults and converts durations to milliseconds', () => {
    expect(loadConfig(Schema, { env: {} })).toEqual({
      collect: { queueCapacity: 128, timeout: 30_000, listen: [] },
    });
  });

  it('reads a YAML file and applies environment overrides on top', () => {
    const p = file('collect:\n  queueCapacity: 200\n  timeout: 2m\n');
    const c = loadConfig(Schema, {
      file: p,
      env: { ACD_COLLECT__QUEUE_CAPACITY: '300', ACD_COLLECT__LISTEN: '[udp://a:1]' },
    });
    expect(c.collect).toEqual({ queueCapacity: 300, timeout: 120_000, listen: ['udp://a:1'] });
  });

  it('names the key that is out of bounds', () => {
    expect(keyOf(() => loadConfig(Schema, { file: file('collect:\n  queueCapacity: 5\n'), env: {} }))).toBe(
      'collect.queueCapacity',
    );
  });

  it('names an unknown key', () => {
    expect(keyOf(() => loadConfig(Schema, { file: file('collect:\n  queueCapacty: 100\n'), env: {} }))).toBe(
      'collect.queueCapacty',
    );
  });

  it('names a bad duration and one below its minimum', () => {
    expect(keyOf(() => loadConfig(Schema, { file: file('collect:\n  timeout: 5x\n'), env: {} }))).toBe(
      'collect.timeout',
    );
    expect(keyOf(() => loadConfig(Schema, { file: file('collect:\n  timeout: 10ms\n'), env: {} }))).toBe(
      'collect.timeout',
    );
  });

  it('names an unknown environment override', () => {
    expect(keyOf(() => loadConfig(Schema, { env: { ACD_COLLECT__NOPE: '1' } }))).toBe('ACD_COLLECT__NOPE');
  });

  it('reports invalid YAML and unreadable files by file name', () => {
    const p = file('collect: [\n');
    expect(keyOf(() => loadConfig(Schema, { file: p, env: {} }))).toBe(p);
    expect(keyOf(() => loadConfig(Schema, { file: '/nonexistent/acd.yaml', env: {} }))).toBe(
      '/nonexistent/acd.yaml',
    );
  });

  it('maps key paths to environment names', () => {
    expect(envName(['collect', 'queueCapacity'])).toBe('ACD_COLLECT__QUEUE_CAPACITY');
  });

  it('parses durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration(42)).toBe(42);
    expect(parseDuration('1.5s')).toBeUndefined();
    expect(parseDuration(-1)).toBeUndefined();
  });
});
