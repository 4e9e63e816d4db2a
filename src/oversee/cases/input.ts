/**
 * Parsers of outside input into service calls: API bodies (already shaped by typebox) and the
 * CLI's case files (JSON or YAML, checked against the same schema). Times are ISO 8601 (with Z or
 * an offset) or epoch ms, as everywhere in the API. Pure: they throw only `ValidationError`.
 */
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { ValidationError } from '../../serve/errors.ts';
import { parseTimeParam } from '../../serve/time.ts';
import {
  CaseCreateBodySchema,
  CasePatchBodySchema,
  CommunicationCreateBodySchema,
  type CaseCreateBody,
  type CasePatchBody,
  type CommunicationCreateBody,
} from './schema.ts';
import type { CaseInput, CasePatch, CommunicationInput } from './service.ts';

/** Largest case file read by the CLI (a case with many inline indicators stays well below). */
export const MAX_CASE_FILE_BYTES = 4 * 1024 * 1024;

function time(text: string, name: string): number {
  const t = parseTimeParam(text);
  if (t === undefined)
    throw new ValidationError(`body.${name}`, 'not an ISO 8601 time (with Z or offset) or epoch ms');
  return t;
}

/** `POST /api/cases` body → service input. */
export function caseInputFromBody(b: CaseCreateBody): CaseInput {
  const { validFrom, validUntil, emergency, ...rest } = b;
  return {
    ...rest,
    validFrom: time(validFrom, 'validFrom'),
    validUntil: time(validUntil, 'validUntil'),
    ...(emergency !== undefined
      ? { emergency: { actedAt: time(emergency.actedAt, 'emergency.actedAt') } }
      : {}),
  };
}

/** `PATCH /api/cases/:id` body → service patch. */
export function casePatchFromBody(b: CasePatchBody): CasePatch {
  const { validFrom, validUntil, emergency, ...rest } = b;
  return {
    ...rest,
    ...(validFrom !== undefined ? { validFrom: time(validFrom, 'validFrom') } : {}),
    ...(validUntil !== undefined ? { validUntil: time(validUntil, 'validUntil') } : {}),
    ...(emergency === null
      ? { emergency: null }
      : emergency !== undefined
        ? { emergency: { actedAt: time(emergency.actedAt, 'emergency.actedAt') } }
        : {}),
  };
}

/** `POST /api/communications` body → service input. */
export function communicationInputFromBody(b: CommunicationCreateBody): CommunicationInput {
  const { dueAt, ...rest } = b;
  return { ...rest, ...(dueAt !== undefined ? { dueAt: time(dueAt, 'dueAt') } : {}) };
}

function checked<T>(schema: Parameters<typeof Value.Check>[0], value: unknown, label: string): T {
  const first = Value.Errors(schema, value).First();
  if (first) throw new ValidationError(`${label}${first.path.replace(/\//g, '.')}`, first.message);
  return value as T;
}

/** Checks a value against the `POST /api/cases` body schema (and its times). */
export function checkCaseCreateBody(value: unknown, label = 'body'): CaseCreateBody {
  const b = checked<CaseCreateBody>(CaseCreateBodySchema, value, label);
  caseInputFromBody(b);
  return b;
}

/** Checks a value against the `PATCH /api/cases/:id` body schema (and its times). */
export function checkCasePatchBody(value: unknown, label = 'body'): CasePatchBody {
  const b = checked<CasePatchBody>(CasePatchBodySchema, value, label);
  casePatchFromBody(b);
  return b;
}

/** Checks a value against the `POST /api/communications` body schema (and its times). */
export function checkCommunicationBody(value: unknown, label = 'body'): CommunicationCreateBody {
  const b = checked<CommunicationCreateBody>(CommunicationCreateBodySchema, value, label);
  communicationInputFromBody(b);
  return b;
}

/**
 * Parses a case file (JSON or YAML; `acd cases create --file`) into a `POST /api/cases` body. YAML
 * 1.2 (the `yaml` package's default schema) keeps dates as text, so times read as written.
 */
export function parseCaseFile(text: string, label = 'file'): CaseCreateBody {
  return checkCaseCreateBody(parseRequestText(text, label, MAX_CASE_FILE_BYTES), label);
}

/**
 * The value of a request file given to the CLI (JSON or YAML 1.2, at most `maxBytes`, aliases
 * bounded); throws `ValidationError` naming `label`. The caller checks the shape.
 */
export function parseRequestText(text: string, label: string, maxBytes: number): unknown {
  if (text.length > maxBytes) throw new ValidationError(label, `larger than ${maxBytes} bytes`);
  try {
    return parseYaml(text, { maxAliasCount: 100, logLevel: 'error' });
  } catch (err) {
    throw new ValidationError(
      label,
      `neither JSON nor YAML (${(err as Error).message.split('\n')[0] ?? ''})`,
    );
  }
}
