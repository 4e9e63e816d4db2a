/**
 * Matching an indicator set against addresses and names, built once from `IndicatorEntry`s:
 *
 * - **Addresses and CIDRs** (IPv4 and IPv6 alike) as integer prefixes: one open-addressing hash
 *   table keyed by (version, masked address words, prefix length), a host address being a /32 or
 *   /128; a lookup probes the prefix lengths present in the set, longest first (a hashed
 *   longest-prefix match, as routers' software tables do), so its cost is bounded by the number
 *   of distinct lengths, not entries. In front of it a 65,536-bit filter on the top 16 bits
 *   answers "no indicator can cover this address" with one bit test — the common case, so the
 *   per-flow cost is two bit tests for the two endpoints.
 * - **Domains** in a `Map` (DNS rates are low): a name matches a listed domain or any subdomain of
 *   it (`a.b.evil.example` matches `evil.example`), the most specific listed suffix first.
 * - **Expiry**: an entry matches only at event times ≤ its `valid_until`; when the same value is
 *   listed twice the entries are merged (latest expiry, highest confidence). An expired longer
 *   prefix falls back to a shorter one that is still valid.
 */
import { indicatorExpiry, type IndicatorEntry } from '../../common/indicators/index.ts';
import { parsePrefix, tryParseAddress } from '../../common/prefixes/address.ts';
import { mix32 } from '../engine/hash.ts';

/** One entry as the matcher holds it. */
export interface MatchEntry {
  value: string;
  type: IndicatorEntry['type'];
  source: string;
  confidence: number;
  /** Epoch ms; Infinity when it never expires. */
  expiry: number;
  validUntil: string;
}

const EMPTY = -1;

function maskWord(w: number, bitsLeft: number): number {
  if (bitsLeft >= 32) return w >>> 0;
  if (bitsLeft <= 0) return 0;
  return (w & (~0 << (32 - bitsLeft))) >>> 0;
}

/** The indicator set, ready for matching. */
export class IndicatorMatcher {
  /** Entries by index (the values the lookups return). */
  readonly entries: MatchEntry[] = [];
  /** Bitmaps over the top 16 address bits: 1 = some entry covers part of that /16. */
  private readonly filter4 = new Uint32Array(2048);
  private readonly filter6 = new Uint32Array(2048);
  /** Prefix lengths present, longest first. */
  private readonly lengths4: number[];
  private readonly lengths6: number[];
  /** Hash table: 6 words per cell (version, w0..w3, length), value = entry index. */
  private readonly cells: Uint32Array;
  private readonly values: Int32Array;
  private readonly mask: number;
  private readonly domains = new Map<string, number>();

  constructor(list: readonly IndicatorEntry[]) {
    const prefixes: { v: 4 | 6; w: number[]; len: number; entry: number }[] = [];
    const byValue = new Map<string, number>();
    const l4 = new Set<number>();
    const l6 = new Set<number>();
    for (const e of list) {
      const key = `${e.type}|${e.value}`;
      const expiry = indicatorExpiry(e);
      const known = byValue.get(key);
      if (known !== undefined) {
        const m = this.entries[known]!;
        if (expiry > m.expiry) {
          m.expiry = expiry;
          m.validUntil = e.validUntil ?? '';
        }
        if (e.confidence > m.confidence) {
          m.confidence = e.confidence;
          m.source = e.source;
        }
        continue;
      }
      const idx = this.entries.length;
      const entry: MatchEntry = {
        value: e.value,
        type: e.type,
        source: e.source,
        confidence: e.confidence,
        expiry,
        validUntil: e.validUntil ?? '',
      };
      if (e.type === 'domain') {
        this.domains.set(e.value.toLowerCase(), idx);
      } else if (e.type === 'cidr') {
        let p;
        try {
          p = parsePrefix(e.value);
        } catch {
          continue; // not a prefix: parseIndicators never yields one
        }
        const w = [0, 0, 0, 0];
        if (p.version === 4) w[0] = Number(p.first);
        else for (let k = 0; k < 4; k++) w[k] = Number((p.first >> BigInt(96 - 32 * k)) & 0xffffffffn);
        prefixes.push({ v: p.version, w, len: p.length, entry: idx });
        (p.version === 4 ? l4 : l6).add(p.length);
      } else {
        const a = tryParseAddress(e.value);
        if (!a) continue;
        const len = a.version === 4 ? 32 : 128;
        prefixes.push({ v: a.version, w: [a.w0, a.w1, a.w2, a.w3], len, entry: idx });
        (a.version === 4 ? l4 : l6).add(len);
      }
      byValue.set(key, idx);
      this.entries.push(entry);
    }
    this.lengths4 = [...l4].sort((a, b) => b - a);
    this.lengths6 = [...l6].sort((a, b) => b - a);
    let cap = 16;
    while (cap < prefixes.length * 2) cap *= 2;
    this.mask = cap - 1;
    this.cells = new Uint32Array(cap * 6);
    this.values = new Int32Array(cap).fill(EMPTY);
    for (const p of prefixes) {
      this.insert(p.v, p.w, p.len, p.entry);
      // Mark every /16 the prefix touches in the filter.
      const f = p.v === 4 ? this.filter4 : this.filter6;
      const top = p.w[0]! >>> 16;
      const span = p.len >= 16 ? 1 : 1 << (16 - p.len);
      for (let k = 0; k < span; k++) f[(top + k) >>> 5]! |= 1 << ((top + k) & 31);
    }
  }

  /** Entries held (after merging duplicates). */
  get size(): number {
    return this.entries.length;
  }

  /** Bytes of the address tables and filters (domains not counted: strings, held by the set). */
  get bytes(): number {
    return this.cells.byteLength + this.values.byteLength + this.filter4.byteLength + this.filter6.byteLength;
  }

  private hash(v: number, w0: number, w1: number, w2: number, w3: number, len: number): number {
    let h = mix32(w0 ^ Math.imul(len + v * 256, 0x9e3779b1));
    h = mix32(h ^ w1);
    h = mix32(h ^ Math.imul(w2, 0x85ebca6b));
    return mix32(h ^ w3);
  }

  private insert(v: number, w: number[], len: number, entry: number): void {
    const m = this.mask;
    for (let i = this.hash(v, w[0]!, w[1]!, w[2]!, w[3]!, len) & m; ; i = (i + 1) & m) {
      if (this.values[i] === EMPTY) {
        const o = i * 6;
        this.cells[o] = v;
        this.cells[o + 1] = w[0]!;
        this.cells[o + 2] = w[1]!;
        this.cells[o + 3] = w[2]!;
        this.cells[o + 4] = w[3]!;
        this.cells[o + 5] = len;
        this.values[i] = entry;
        return;
      }
    }
  }

  private get(v: number, w0: number, w1: number, w2: number, w3: number, len: number): number {
    const m = this.mask;
    const c = this.cells;
    for (let i = this.hash(v, w0, w1, w2, w3, len) & m; ; i = (i + 1) & m) {
      const e = this.values[i]!;
      if (e === EMPTY) return EMPTY;
      const o = i * 6;
      if (
        c[o] === v &&
        c[o + 5] === len &&
        c[o + 1] === w0 &&
        c[o + 2] === w1 &&
        c[o + 3] === w2 &&
        c[o + 4] === w3
      )
        return e;
    }
  }

  /**
   * The entry matching the address at `words[off..off+4)` (version `v`) at event time `t`, the
   * longest valid prefix first; −1 when none.
   */
  matchAddress(words: Uint32Array, off: number, v: number, t: number): number {
    const w0 = words[off]!;
    if (v === 4) {
      const top = w0 >>> 16;
      if (((this.filter4[top >>> 5]! >>> (top & 31)) & 1) === 0) return EMPTY;
      for (const len of this.lengths4) {
        const e = this.get(4, maskWord(w0, len), 0, 0, 0, len);
        if (e !== EMPTY && this.entries[e]!.expiry >= t) return e;
      }
      return EMPTY;
    }
    const top6 = w0 >>> 16;
    if (v !== 6 || ((this.filter6[top6 >>> 5]! >>> (top6 & 31)) & 1) === 0) return EMPTY;
    const w1 = words[off + 1]!;
    const w2 = words[off + 2]!;
    const w3 = words[off + 3]!;
    for (const len of this.lengths6) {
      const e = this.get(
        6,
        maskWord(w0, len),
        maskWord(w1, len - 32),
        maskWord(w2, len - 64),
        maskWord(w3, len - 96),
        len,
      );
      if (e !== EMPTY && this.entries[e]!.expiry >= t) return e;
    }
    return EMPTY;
  }

  /** Whether any address indicator exists (lets callers skip flows entirely when there is none). */
  get hasAddresses(): boolean {
    return this.lengths4.length + this.lengths6.length > 0;
  }

  /** The entry matching a (lower-case) name or one of its parent domains at time `t`; −1 when none. */
  matchName(name: string, t: number): number {
    if (this.domains.size === 0 || name === '') return EMPTY;
    let at = 0;
    for (;;) {
      const e = this.domains.get(at === 0 ? name : name.slice(at));
      if (e !== undefined && this.entries[e]!.expiry >= t) return e;
      const dot = name.indexOf('.', at);
      if (dot < 0) return EMPTY;
      at = dot + 1;
    }
  }
}
