/**
 * Configuration machinery: one schema (typebox) with defaults and bounds, a YAML file, and
 * environment overrides, checked at start-up with the failing key named (CONVENTIONS habit 8).
 *
 * Components declare their section in their own `config.ts`; `src/cli/config.ts` composes the
 * root schema. Environment overrides: `ACD_` + the key path in upper snake case, sections joined by
 * a double underscore, e.g. `collect.queueCapacity` -> `ACD_COLLECT__QUEUE_CAPACITY`. Values are read
 * as YAML scalars (`true`, `42`, `[a, b]`).
 */
import { readFileSync } from 'node:fs';
import {
  Type,
  type TSchema,
  type Static,
  type TObject,
  type TProperties,
  type TInteger,
} from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml, stringify as stringifyYaml, YAMLParseError } from 'yaml';
import { ConfigError } from './errors.ts';

const DURATION_MARK = 'x-acd-duration';
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration: a whole number of milliseconds or a string such as `500ms`, `30s`, `10m`, `2h`, `7d`.
 * After loading it is always a number of milliseconds.
 */
export function Duration(options: {
  default: number | string;
  description: string;
  minimumMs?: number;
}): TInteger {
  const schema = Type.Union(
    [Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+(ms|s|m|h|d)$' })],
    {
      default: options.default,
      description: options.description,
      [DURATION_MARK]: { minimumMs: options.minimumMs ?? 0 },
    },
  );
  // Typed as an integer because that is what `loadConfig` returns after normalising.
  return schema as unknown as TInteger;
}

/** Parses a duration value (number of ms or `<n><unit>`) into milliseconds; undefined if invalid. */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v !== 'string') return undefined;
  const m = /^([0-9]+)(ms|s|m|h|d)$/.exec(v);
  if (!m) return undefined;
  return Number(m[1]) * (UNIT_MS[m[2]!] ?? 1);
}

/** A strict object section: unknown keys are errors that name the key. */
export function Section<P extends TProperties>(properties: P, description: string): TObject<P> {
  return Type.Object(properties, { additionalProperties: false, default: {}, description });
}

function camelToSnake(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** The environment variable that overrides a key path. */
export function envName(path: readonly string[]): string {
  return 'ACD_' + path.map(camelToSnake).join('__');
}

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  [DURATION_MARK]?: { minimumMs: number };
}

/** Every leaf key path of an object schema (objects recurse; everything else is a leaf). */
export function leafPaths(schema: TSchema, prefix: string[] = []): string[][] {
  const node = schema as SchemaNode;
  if (node.type === 'object' && node.properties) {
    const out: string[][] = [];
    for (const [k, v] of Object.entries(node.properties))
      out.push(...leafPaths(v as TSchema, [...prefix, k]));
    return out;
  }
  return [prefix];
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = target;
  for (const seg of path.slice(0, -1)) {
    const next = cur[seg];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[seg] = {};
    cur = cur[seg] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

function pointerToKey(pointer: string): string {
  return pointer
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

/** Converts durations to ms and checks their minimums; walks the schema alongside the value. */
function normaliseDurations(schema: SchemaNode, value: unknown, path: string[]): unknown {
  const mark = schema[DURATION_MARK];
  if (mark) {
    const ms = parseDuration(value);
    const key = path.join('.');
    if (ms === undefined)
      throw new ConfigError(key, `not a duration: ${JSON.stringify(value)} (use e.g. 500ms, 30s, 10m)`);
    if (ms < mark.minimumMs)
      throw new ConfigError(key, `must be at least ${mark.minimumMs} ms, got ${ms} ms`);
    return ms;
  }
  if (schema.type === 'object' && schema.properties && typeof value === 'object' && value !== null) {
    const obj = value as Record<string, unknown>;
    for (const [k, sub] of Object.entries(schema.properties)) {
      if (k in obj) obj[k] = normaliseDurations(sub, obj[k], [...path, k]);
    }
  }
  return value;
}

/** Where a configuration comes from. */
export interface ConfigSource {
  /** YAML file path; absent means defaults plus environment. */
  file?: string;
  /** Environment to read overrides from (default `process.env`). */
  env?: Record<string, string | undefined>;
}

/**
 * Loads, overrides, defaults and validates a configuration. Throws `ConfigError` naming the first
 * bad key (dotted path, or the environment variable) and why.
 */
export function loadConfig<S extends TObject>(schema: S, source: ConfigSource = {}): Static<S> {
  let raw: unknown = {};
  if (source.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(source.file, 'utf8');
    } catch (err) {
      throw new ConfigError(source.file, `cannot read configuration file (${(err as Error).message})`, {
        cause: err,
      });
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (err) {
      const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
      throw new ConfigError(source.file, `invalid YAML${where}: ${(err as Error).message.split('\n')[0]}`, {
        cause: err,
      });
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new ConfigError(source.file, 'the top level must be a mapping of sections');
    }
  }
  const value = structuredClone(raw) as Record<string, unknown>;
  applyEnv(schema, value, source.env ?? process.env);
  // Durations first, so a bad one gets a clear message rather than a generic union mismatch.
  normaliseDurations(schema as unknown as SchemaNode, value, []);
  const withDefaults = Value.Default(schema, value);
  const first = Value.Errors(schema, withDefaults).First();
  if (first) {
    const key = pointerToKey(first.path) || '(root)';
    const extra =
      first.message.includes('Unexpected property') || first.message.includes('additional')
        ? 'unknown key'
        : first.message.toLowerCase();
    throw new ConfigError(
      key,
      `${extra}${first.value !== undefined && extra !== 'unknown key' ? ` (got ${JSON.stringify(first.value)})` : ''}`,
    );
  }
  return normaliseDurations(schema as unknown as SchemaNode, withDefaults, []) as Static<S>;
}

function applyEnv(
  schema: TObject,
  target: Record<string, unknown>,
  env: Record<string, string | undefined>,
): void {
  const known = new Map<string, string[]>();
  for (const p of leafPaths(schema)) known.set(envName(p), p);
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith('ACD_') || !name.includes('__') || text === undefined) continue;
    const path = known.get(name);
    if (!path) throw new ConfigError(name, 'unknown configuration key in environment override');
    let v: unknown;
    try {
      v = parseYaml(text);
    } catch {
      v = text;
    }
    setPath(target, path, v);
  }
}

/** Renders a loaded configuration as YAML (durations in ms). */
export function dumpConfig(value: unknown): string {
  return stringifyYaml(value);
}
