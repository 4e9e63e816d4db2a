/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the byte form that approvals, revocations and
 * re-identification requests are signed over (DESIGN section 6). Rules implemented here:
 * - no whitespace; object members sorted by the UTF-16 code units of their names (RFC 8785
 *   section 3.2.3); array order kept;
 * - strings: only `"`, `\` and U+0000..U+001F escaped (`\b \t \n \f \r`, else `\u00xx` in lower
 *   case), everything else literal; lone surrogates refused because I-JSON forbids them;
 * - numbers: the ECMAScript Number::toString algorithm (RFC 8785 section 3.2.2.3). The shortest
 *   round-trip digits come from `toExponential()` (whose spec picks the same digits), and the
 *   layout rules of ECMA-262 (plain, fraction, `0.000…`, exponent) are applied below; NaN and
 *   ±Infinity are refused, -0 becomes `0`.
 * Members whose value is `undefined` are left out, as `JSON.stringify` does, so a payload built
 * in memory canonicalises like its JSON transmission parsed back.
 */
import { CanonicalizationError } from './errors.ts';

/**
 * Nesting limit. Signed documents are a few levels deep; the limit keeps a hostile document from
 * the bus from exhausting the stack (which would throw an untyped RangeError) and stops cycles.
 */
export const MAX_CANONICAL_DEPTH = 64;

/** Serialises a finite number exactly as ECMAScript's Number::toString (radix 10). */
export function canonicalNumber(x: number): string {
  if (!Number.isFinite(x)) throw new CanonicalizationError(`${String(x)} has no JSON form`);
  if (x === 0) return '0'; // also -0
  if (x < 0) return `-${canonicalNumber(-x)}`;
  // toExponential() without an argument yields the shortest digits that round-trip.
  const e = x.toExponential();
  const at = e.indexOf('e');
  const digits = e.slice(0, at).replace('.', '');
  const k = digits.length;
  const n = Number(e.slice(at + 1)) + 1; // decimal point position, as ECMA-262 names it
  if (k <= n && n <= 21) return digits + '0'.repeat(n - k);
  if (0 < n && n <= 21) return `${digits.slice(0, n)}.${digits.slice(n)}`;
  if (-6 < n && n <= 0) return `0.${'0'.repeat(-n)}${digits}`;
  const exp = n - 1;
  const sign = exp < 0 ? '-' : '+';
  const mantissa = k === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
  return `${mantissa}e${sign}${Math.abs(exp)}`;
}

const SHORT_ESCAPES: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };

/** Serialises a string per RFC 8785 section 3.2.2.2. */
export function canonicalString(s: string): string {
  let out = '"';
  let run = 0; // start of the current run of characters copied literally
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = '\\\\';
    else if (c < 0x20) esc = SHORT_ESCAPES[c] ?? `\\u00${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++; // a valid pair, copied literally
        continue;
      }
      throw new CanonicalizationError(`lone surrogate U+${c.toString(16)} at index ${i}`);
    }
    if (esc !== undefined) {
      out += s.slice(run, i) + esc;
      run = i + 1;
    }
  }
  return `${out}${s.slice(run)}"`;
}

/** Compares two strings by UTF-16 code units (RFC 8785 section 3.2.3). */
function compareUtf16(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function write(v: unknown, depth: number): string {
  if (depth > MAX_CANONICAL_DEPTH)
    throw new CanonicalizationError(`nested deeper than ${MAX_CANONICAL_DEPTH}`);
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return canonicalNumber(v);
    case 'string':
      return canonicalString(v);
    case 'object': {
      if (Array.isArray(v)) {
        const parts: string[] = [];
        for (const item of v as unknown[]) {
          if (item === undefined) throw new CanonicalizationError('undefined inside an array');
          parts.push(write(item, depth + 1));
        }
        return `[${parts.join(',')}]`;
      }
      if (!isPlainObject(v))
        throw new CanonicalizationError('only plain objects, arrays and JSON primitives');
      const keys = Object.keys(v)
        .filter((k) => v[k] !== undefined)
        .sort(compareUtf16);
      const parts: string[] = [];
      for (const k of keys) parts.push(`${canonicalString(k)}:${write(v[k], depth + 1)}`);
      return `{${parts.join(',')}}`;
    }
    default:
      throw new CanonicalizationError(`a ${typeof v} has no JSON form`);
  }
}

/** The RFC 8785 canonical JSON text of `value`. Throws `CanonicalizationError`. */
export function canonicalize(value: unknown): string {
  return write(value, 0);
}

/** The UTF-8 bytes of {@link canonicalize}: what is signed and verified. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), 'utf8');
}
