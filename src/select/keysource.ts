/**
 * A key source for offline selection (`acd edge --input`, `acd analyze`, tests): one random key
 * epoch held in memory only and never written anywhere, so the pseudonyms of an offline run can
 * be re-identified by no one. A running edge uses its `KeyStore` instead.
 */
import { randomBytes } from 'node:crypto';
import { EpochKey, EPOCH_SECRET_BYTES, type CryptoPanOptions } from './pseudonymise/index.ts';
import type { KeySource } from './selector.ts';

/** A key source with one fresh in-memory epoch (epoch number 1 unless given). */
export function ephemeralKeySource(
  now: number,
  options: { epoch?: number; cryptoPan?: CryptoPanOptions; lifetimeMs?: number } = {},
): KeySource & { readonly key: EpochKey } {
  const secret = randomBytes(EPOCH_SECRET_BYTES);
  const lifetime = options.lifetimeMs ?? 365 * 86_400_000;
  const key = new EpochKey(
    { epoch: options.epoch ?? 1, createdAt: now, notAfter: now + lifetime, retainUntil: now + lifetime },
    secret,
    options.cryptoPan ?? {},
  );
  secret.fill(0);
  return { key, current: () => key };
}
