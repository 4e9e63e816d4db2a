import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KeyedHasher } from './hmac.ts';
import { PseudonymKeyError } from './errors.ts';

const key = Buffer.alloc(32, 7);

describe('keyed hashing of identifiers', () => {
  it('is HMAC-SHA-256 over label, NUL, value, truncated to 16 bytes', () => {
    const expected = createHmac('sha256', key)
      .update('email\0a@example.jp')
      .digest()
      .subarray(0, 16)
      .toString('base64url');
    expect(new KeyedHasher(key).hash('email', 'a@example.jp')).toBe(expected);
  });

  it('separates domains and keys, and normalises e-mail case', () => {
    const h = new KeyedHasher(key);
    expect(h.hash('email', 'x')).not.toBe(h.hash('username', 'x'));
    expect(new KeyedHasher(Buffer.alloc(32, 8)).hash('email', 'x')).not.toBe(h.hash('email', 'x'));
    expect(h.hashEmail(' A@Example.JP ')).toBe(h.hashEmail('a@example.jp'));
  });

  it('refuses short keys, bad labels and over-long values with typed errors', () => {
    expect(() => new KeyedHasher(Buffer.alloc(16))).toThrow(PseudonymKeyError);
    const h = new KeyedHasher(key);
    expect(() => h.hash('Email', 'x')).toThrow(PseudonymKeyError);
    expect(() => h.hash('a\0b', 'x')).toThrow(PseudonymKeyError);
    expect(() => h.hash('email', 'x'.repeat(2000))).toThrow(PseudonymKeyError);
    h.destroy();
    expect(() => h.hash('email', 'x')).toThrow(PseudonymKeyError);
  });

  it('gives 22-character base64url pseudonyms for any string', () => {
    const h = new KeyedHasher(key);
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        expect(h.hash('email', s)).toMatch(/^[A-Za-z0-9_-]{22}$/);
      }),
    );
  });
});
