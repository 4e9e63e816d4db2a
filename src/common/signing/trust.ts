/**
 * The trusted key set of an edge or the centre (DESIGN section 6): the commission's public keys
 * and the keys of the people who may authorise re-identification, each with a validity window
 * (several at once, so keys rotate without a gap) and the kinds of document it may sign.
 */
import type { KeyObject } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { TrustedKeyError } from './errors.ts';
import { keyIdOf, publicKeyFromBase64url } from './keys.ts';

/** What a trusted key may sign. */
export type KeyScope = 'approval' | 'reidentification';

/** Every key scope. */
export const KEY_SCOPES: readonly KeyScope[] = ['approval', 'reidentification'];

/** ISO 8601 UTC timestamp, as every time in a signed document (DESIGN section 7). */
export const IsoTimestamp = Type.String({
  pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,3})?Z$',
  description: 'ISO 8601 UTC timestamp, e.g. 2026-01-01T00:00:00.000Z.',
});

/** Parses an {@link IsoTimestamp} to epoch ms; `undefined` when it is not one or not a real date. */
export function parseIsoTimestamp(s: unknown): number | undefined {
  if (typeof s !== 'string' || !Value.Check(IsoTimestamp, s)) return undefined;
  const t = Date.parse(s);
  if (!Number.isFinite(t)) return undefined;
  // Date.parse rolls impossible dates over (2026-02-30 -> 2026-03-02); a signed date must be real.
  return new Date(t).toISOString().slice(0, 19) === s.slice(0, 19) ? t : undefined;
}

/** Configuration schema of one trusted key (typebox). */
export const TrustedKeyConfigSchema = Type.Object(
  {
    publicKey: Type.String({ description: 'Raw 32-byte Ed25519 public key, base64url.' }),
    keyId: Type.Optional(
      Type.String({ description: 'Expected key id; checked against the one computed from publicKey.' }),
    ),
    signer: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'Who holds the key (a person or the commission); two keys of one signer count once.',
    }),
    validFrom: IsoTimestamp,
    validUntil: IsoTimestamp,
    scopes: Type.Array(Type.Union(KEY_SCOPES.map((s) => Type.Literal(s))), {
      minItems: 1,
      uniqueItems: true,
    }),
  },
  { additionalProperties: false },
);

/** One trusted key as configured. */
export type TrustedKeyConfig = Static<typeof TrustedKeyConfigSchema>;

/** One trusted key, resolved. */
export interface TrustedKey {
  readonly keyId: string;
  readonly publicKey: KeyObject;
  readonly signer: string;
  /** Epoch ms, inclusive. */
  readonly validFrom: number;
  /** Epoch ms, exclusive. */
  readonly validUntil: number;
  readonly scopes: readonly KeyScope[];
}

/** An immutable set of trusted keys, looked up by key id. */
export class TrustedKeySet {
  readonly #keys: ReadonlyMap<string, TrustedKey>;

  constructor(keys: Iterable<TrustedKey>) {
    const m = new Map<string, TrustedKey>();
    for (const k of keys) {
      if (m.has(k.keyId)) throw new TrustedKeyError(k.keyId, 'listed twice');
      m.set(k.keyId, k);
    }
    this.#keys = m;
  }

  /** Builds the set from configuration entries; throws `TrustedKeyError` naming the bad entry. */
  static fromConfig(entries: readonly unknown[]): TrustedKeySet {
    return new TrustedKeySet(entries.map((e, i) => resolveTrustedKey(e, `trustedKeys[${i}]`)));
  }

  /** The key with this id, or `undefined`. */
  get(keyId: string): TrustedKey | undefined {
    return this.#keys.get(keyId);
  }

  /** Every key. */
  list(): TrustedKey[] {
    return [...this.#keys.values()];
  }

  /** A new set with `other`'s keys added. */
  with(other: Iterable<TrustedKey>): TrustedKeySet {
    return new TrustedKeySet([...this.#keys.values(), ...other]);
  }
}

/** Validates and resolves one configuration entry. */
export function resolveTrustedKey(entry: unknown, label = 'trustedKey'): TrustedKey {
  if (!Value.Check(TrustedKeyConfigSchema, entry)) {
    const first = Value.Errors(TrustedKeyConfigSchema, entry).First();
    throw new TrustedKeyError(`${label}${first?.path ?? ''}`, first?.message ?? 'invalid');
  }
  const publicKey = publicKeyFromBase64url(entry.publicKey, `${label}.publicKey`);
  const keyId = keyIdOf(Buffer.from(entry.publicKey, 'base64url'));
  if (entry.keyId !== undefined && entry.keyId !== keyId)
    throw new TrustedKeyError(`${label}.keyId`, `does not match the public key (computed ${keyId})`);
  const validFrom = parseIsoTimestamp(entry.validFrom);
  const validUntil = parseIsoTimestamp(entry.validUntil);
  if (validFrom === undefined || validUntil === undefined || validFrom >= validUntil)
    throw new TrustedKeyError(`${label}.validUntil`, 'validity window is empty or not a real date');
  return { keyId, publicKey, signer: entry.signer, validFrom, validUntil, scopes: entry.scopes };
}
