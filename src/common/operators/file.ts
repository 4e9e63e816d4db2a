/**
 * The operators file: the critical-infrastructure registry (sector, ranges, domains, agreement)
 * that the centre and the edges load (DESIGN section 6). The simulator writes it for its
 * synthetic country (src/simulate/country); real deployments write the same shape. Validated on
 * read with the failing key named.
 */
import { readFile } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parsePrefix, tryParseAddress, AddressError } from '../prefixes/index.ts';
import { OperatorsFileError } from './errors.ts';
import { SECTORS } from './sectors.ts';

/** Value of the `schema` field; bump the suffix on incompatible changes. */
export const OPERATORS_SCHEMA_ID = 'acd.operators/1';

const IsoDate = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'Date, YYYY-MM-DD.' });
const Id = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,79}$' });

/** JSON schema (typebox) of the operators file. */
export const OperatorsFileSchema = Type.Object(
  {
    schema: Type.Literal(OPERATORS_SCHEMA_ID),
    domesticCountry: Type.String({
      pattern: '^[A-Z]{2}$',
      description: 'ISO 3166 alpha-2 code of the country the registry is for.',
    }),
    generatedBy: Type.Optional(
      Type.Object(
        {
          tool: Type.String(),
          seed: Type.Integer({ minimum: 0 }),
          tableVersion: Type.String(),
        },
        { additionalProperties: false, description: 'Set when the simulator wrote the file.' },
      ),
    ),
    providers: Type.Array(
      Type.Object(
        {
          id: Id,
          name: Type.String({ minLength: 1 }),
          asn: Type.Integer({ minimum: 1, maximum: 0xffffffff }),
        },
        { additionalProperties: false },
      ),
      { description: 'Providers whose space the operator ranges are in.' },
    ),
    operators: Type.Array(
      Type.Object(
        {
          id: Id,
          name: Type.String({ minLength: 1, maxLength: 200 }),
          sector: Type.Union(SECTORS.map((s) => Type.Literal(s))),
          providerId: Id,
          ranges: Type.Array(
            Type.Object(
              {
                prefix: Type.String({ description: 'CIDR prefix, IPv4 or IPv6, host bits zero.' }),
                pseudonymisationWaived: Type.Boolean({
                  description: 'The agreement waives pseudonymisation of this range.',
                }),
              },
              { additionalProperties: false },
            ),
            { minItems: 1 },
          ),
          domains: Type.Array(
            Type.String({ pattern: '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$' }),
          ),
          importantSystems: Type.Array(
            Type.Object(
              { name: Type.String({ minLength: 1 }), address: Type.String() },
              { additionalProperties: false },
            ),
          ),
          contacts: Type.Array(
            Type.Object(
              {
                role: Type.Union([Type.Literal('security'), Type.Literal('management')]),
                name: Type.String({ minLength: 1 }),
                email: Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$' }),
              },
              { additionalProperties: false },
            ),
          ),
          agreement: Type.Object(
            {
              status: Type.Union([Type.Literal('active'), Type.Literal('none'), Type.Literal('expired')]),
              id: Type.Optional(Type.String({ minLength: 1 })),
              validFrom: Type.Optional(IsoDate),
              validUntil: Type.Optional(IsoDate),
            },
            { additionalProperties: false },
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Contents of an operators file. */
export type OperatorsFile = Static<typeof OperatorsFileSchema>;

/** Serialises an operators file (stable: same content → same bytes). */
export function operatorsFileToJson(file: OperatorsFile): string {
  return JSON.stringify(file, null, 2) + '\n';
}

function pointerToKey(pointer: string): string {
  const key = pointer
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
  return key || '(root)';
}

/**
 * Checks parsed JSON against the schema and the rules a schema cannot say (prefixes parse, ids
 * unique, providers known, important systems inside the operator's ranges). Throws
 * `OperatorsFileError` naming the first failing key.
 */
export function validateOperatorsFile(value: unknown, file = '(operators)'): OperatorsFile {
  const first = Value.Errors(OperatorsFileSchema, value).First();
  if (first) throw new OperatorsFileError(file, pointerToKey(first.path), first.message);
  const doc = value as OperatorsFile;
  const providerIds = new Set<string>();
  doc.providers.forEach((p, i) => {
    if (providerIds.has(p.id))
      throw new OperatorsFileError(file, `providers.${i}.id`, `duplicate id ${p.id}`);
    providerIds.add(p.id);
  });
  const ids = new Set<string>();
  doc.operators.forEach((op, i) => {
    const at = `operators.${i}`;
    if (ids.has(op.id)) throw new OperatorsFileError(file, `${at}.id`, `duplicate id ${op.id}`);
    ids.add(op.id);
    if (!providerIds.has(op.providerId))
      throw new OperatorsFileError(file, `${at}.providerId`, `unknown provider ${op.providerId}`);
    const ranges = op.ranges.map((r, j) => {
      try {
        return parsePrefix(r.prefix);
      } catch (err) {
        if (err instanceof AddressError)
          throw new OperatorsFileError(file, `${at}.ranges.${j}.prefix`, err.message, { cause: err });
        throw err;
      }
    });
    op.importantSystems.forEach((s, j) => {
      const a = tryParseAddress(s.address);
      if (!a)
        throw new OperatorsFileError(
          file,
          `${at}.importantSystems.${j}.address`,
          'not an IPv4 or IPv6 address',
        );
      const v =
        a.version === 4
          ? BigInt(a.w0)
          : (BigInt(a.w0) << 96n) | (BigInt(a.w1) << 64n) | (BigInt(a.w2) << 32n) | BigInt(a.w3);
      if (!ranges.some((r) => r.version === a.version && r.first <= v && v <= r.last))
        throw new OperatorsFileError(
          file,
          `${at}.importantSystems.${j}.address`,
          'not inside any of the operator ranges',
        );
    });
    if (
      op.agreement.status !== 'none' &&
      (op.agreement.validFrom === undefined || op.agreement.validUntil === undefined)
    )
      throw new OperatorsFileError(
        file,
        `${at}.agreement`,
        'an active or expired agreement needs validFrom and validUntil',
      );
  });
  return doc;
}

/** Reads and validates an operators file; throws `OperatorsFileError` naming the failing key. */
export async function readOperatorsFile(path: string): Promise<OperatorsFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new OperatorsFileError(path, '(file)', `cannot read (${(err as Error).message})`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new OperatorsFileError(path, '(file)', `not JSON (${(err as Error).message})`, { cause: err });
  }
  return validateOperatorsFile(value, path);
}
