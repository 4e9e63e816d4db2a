/**
 * Signed checkpoints of the chain head, kept outside the store so that cutting the tail of the
 * chain (or replacing the whole chain) is detected. A checkpoint is
 *
 *     { format: 'acd.audit-checkpoint/1', seq, hash, at, keyId, signature }
 *
 * where `seq`/`hash` are the head entry's, `at` the ISO time of signing, `keyId` the centre's
 * audit key, and `signature` = base64url(Ed25519(JCS(checkpoint without `signature`))). A
 * checkpoint verifies with a public key of purpose `audit` whose validity window contains `at`.
 *
 * The checkpoint file is NDJSON, one checkpoint per line, opened with O_APPEND for every write and
 * fsynced before the write counts; nothing ever rewrites it.
 */
import { sign, verify } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { isoTime } from '../../common/clock.ts';
import {
  canonicalBytes,
  IsoTimestamp,
  parseIsoTimestamp,
  type SigningKey,
} from '../../common/signing/index.ts';
import type { PublicKeyInfo } from '../keys/index.ts';
import { HEX_HASH } from './chain.ts';
import { CheckpointFileError } from './errors.ts';

/** Value of the `format` field of a checkpoint. */
export const CHECKPOINT_FORMAT = 'acd.audit-checkpoint/1' as const;
/** Media type of a checkpoint published on the bus. */
export const CHECKPOINT_CONTENT_TYPE = 'application/acd-audit-checkpoint+json';
/** Largest checkpoint file read whole (≈ 250 bytes a line: millions of checkpoints). */
export const MAX_CHECKPOINT_FILE_BYTES = 512 * 1024 * 1024;

/** Strict schema of a checkpoint. */
export const CheckpointSchema = Type.Object(
  {
    format: Type.Literal(CHECKPOINT_FORMAT),
    seq: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    hash: Type.Union([Type.Literal(''), Type.String({ pattern: HEX_HASH })]),
    at: IsoTimestamp,
    keyId: Type.String({ pattern: '^[A-Za-z0-9_-]{22}$' }),
    signature: Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
  },
  { additionalProperties: false },
);

/** A signed checkpoint of the chain head. */
export type Checkpoint = Static<typeof CheckpointSchema>;

/** Signs a checkpoint of the head `{ seq, hash }` at time `at` (epoch ms). */
export function signCheckpoint(head: { seq: number; hash: string }, at: number, key: SigningKey): Checkpoint {
  const body = {
    format: CHECKPOINT_FORMAT as typeof CHECKPOINT_FORMAT,
    seq: head.seq,
    hash: head.hash,
    at: isoTime(at),
    keyId: key.keyId,
  };
  const signature = sign(null, canonicalBytes(body), key.privateKey).toString('base64url');
  return { ...body, signature };
}

/**
 * Why a checkpoint does not verify, or `undefined` when it does: well-formed, signed by a known
 * `audit` key that was valid at `at`. Never throws.
 */
export function checkpointFault(cp: unknown, keys: readonly PublicKeyInfo[]): string | undefined {
  if (!Value.Check(CheckpointSchema, cp)) {
    const first = Value.Errors(CheckpointSchema, cp).First();
    return `malformed checkpoint (${first?.path || '/'}: ${first?.message ?? 'invalid'})`;
  }
  const key = keys.find((k) => k.keyId === cp.keyId);
  if (!key) return `signed by unknown key ${cp.keyId}`;
  if (key.purpose !== 'audit') return `key ${cp.keyId} is not an audit key`;
  const at = parseIsoTimestamp(cp.at);
  if (at === undefined) return 'time is not a real date';
  if (at < key.validFrom || at >= key.validUntil) return `key ${cp.keyId} was not valid at ${cp.at}`;
  const { signature, ...body } = cp;
  try {
    const ok = verify(null, canonicalBytes(body), key.publicKey, Buffer.from(signature, 'base64url'));
    return ok ? undefined : 'signature does not verify';
  } catch {
    return 'signature does not verify';
  }
}

/** Appends one checkpoint line to `file` (O_APPEND, mode 0600, fsync). Throws `CheckpointFileError`. */
export async function appendCheckpointFile(file: string, cp: Checkpoint): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const fh = await open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    try {
      await fh.write(`${JSON.stringify(cp)}\n`);
      await fh.datasync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new CheckpointFileError(file, 'cannot append the checkpoint', { cause: err });
  }
}

/** A line of a file with its 1-based number; `value` is `undefined` when the line is not JSON. */
export interface Located {
  line: number;
  value: unknown;
}

/**
 * Splits NDJSON text into located values (empty lines skipped; lines that are not JSON, or longer
 * than `maxLine` characters, kept with value `undefined`).
 */
export function ndjsonLines(text: string, maxLine = Infinity): Located[] {
  const out: Located[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] ?? '';
    if (l === '') continue;
    let value: unknown;
    if (l.length > maxLine) {
      out.push({ line: i + 1, value: undefined });
      continue;
    }
    try {
      value = JSON.parse(l) as unknown;
    } catch {
      value = undefined;
    }
    out.push({ line: i + 1, value });
  }
  return out;
}

/** Every line of the checkpoint file (none when it does not exist). Throws `CheckpointFileError`. */
export async function readCheckpointFile(file: string): Promise<Located[]> {
  let text: string;
  try {
    const st = await stat(file);
    if (st.size > MAX_CHECKPOINT_FILE_BYTES) throw new CheckpointFileError(file, 'too large to read');
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof CheckpointFileError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CheckpointFileError(file, 'cannot read', { cause: err });
  }
  return ndjsonLines(text);
}

/** The last well-formed checkpoint of the file, if any (reads only the file's tail). */
export async function lastCheckpointInFile(file: string): Promise<Checkpoint | undefined> {
  let fh;
  try {
    fh = await open(file, constants.O_RDONLY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CheckpointFileError(file, 'cannot read', { cause: err });
  }
  try {
    const { size } = await fh.stat();
    const n = Math.min(size, 4096);
    const buf = Buffer.alloc(n);
    await fh.read(buf, 0, n, size - n);
    const lines = buf.toString('utf8').split('\n').reverse();
    for (const l of lines) {
      try {
        const v = JSON.parse(l) as unknown;
        if (Value.Check(CheckpointSchema, v)) return v;
      } catch {
        // a partial first line of the tail window, or a torn write
      }
    }
    return undefined;
  } finally {
    await fh.close();
  }
}
