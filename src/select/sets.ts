/**
 * Membership structures of the hot path: address sets (indicator lists, operator ranges, waivers)
 * as sorted disjoint integer ranges with binary search, O(log n); domain sets as hash sets
 * matched on the name and each parent, O(labels). Built once at feed activation; lookups allocate
 * nothing and never throw.
 */
import { bigIntToWords, embeddedIpv4, type ParsedPrefix } from '../common/prefixes/index.ts';

/** Compares two IPv6 addresses held as four words each. */
function cmp6(a: Uint32Array, ao: number, b0: number, b1: number, b2: number, b3: number): number {
  const x0 = a[ao]!;
  if (x0 !== b0) return x0 < b0 ? -1 : 1;
  const x1 = a[ao + 1]!;
  if (x1 !== b1) return x1 < b1 ? -1 : 1;
  const x2 = a[ao + 2]!;
  if (x2 !== b2) return x2 < b2 ? -1 : 1;
  const x3 = a[ao + 3]!;
  if (x3 !== b3) return x3 < b3 ? -1 : 1;
  return 0;
}

function merge(ranges: { first: bigint; last: bigint }[]): { first: bigint; last: bigint }[] {
  const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: { first: bigint; last: bigint }[] = [];
  for (const r of sorted) {
    const prev = out[out.length - 1];
    // Adjacent ranges merge too (last + 1 === first): fewer rows, same membership.
    if (prev && r.first <= prev.last + 1n) {
      if (r.last > prev.last) prev.last = r.last;
    } else out.push({ first: r.first, last: r.last });
  }
  return out;
}

/** A set of IPv4 and IPv6 addresses given as prefixes (an address is a /32 or /128). */
export class AddressSet {
  readonly #s4: Uint32Array;
  readonly #e4: Uint32Array;
  readonly #s6: Uint32Array;
  readonly #e6: Uint32Array;
  /** Number of disjoint ranges held. */
  readonly size: number;

  constructor(prefixes: readonly ParsedPrefix[]) {
    const v4 = merge(prefixes.filter((p) => p.version === 4));
    const v6 = merge(prefixes.filter((p) => p.version === 6));
    this.#s4 = Uint32Array.from(v4, (r) => Number(r.first));
    this.#e4 = Uint32Array.from(v4, (r) => Number(r.last));
    this.#s6 = new Uint32Array(v6.length * 4);
    this.#e6 = new Uint32Array(v6.length * 4);
    v6.forEach((r, i) => {
      bigIntToWords(r.first, this.#s6, i * 4);
      bigIntToWords(r.last, this.#e6, i * 4);
    });
    this.size = v4.length + v6.length;
  }

  /** The empty set. */
  static readonly EMPTY = new AddressSet([]);

  /** True when no address is in the set. */
  get empty(): boolean {
    return this.size === 0;
  }

  /** Membership of an IPv4 address (uint32). */
  has4(a: number): boolean {
    const s = this.#s4;
    let lo = 0;
    let hi = s.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! <= a) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && a <= this.#e4[found]!;
  }

  /**
   * Membership of an IPv6 address. An address that embeds IPv4 (mapped, NAT64, 6to4: the same
   * rule as border classification) is also looked up as that IPv4 address.
   */
  has6(w0: number, w1: number, w2: number, w3: number): boolean {
    const s = this.#s6;
    let lo = 0;
    let hi = s.length / 4 - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp6(s, mid * 4, w0, w1, w2, w3) <= 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found >= 0 && cmp6(this.#e6, found * 4, w0, w1, w2, w3) >= 0) return true;
    const e = embeddedIpv4(w0, w1, w2, w3);
    return e >= 0 && this.has4(e);
  }

  /** Membership of the address at `words[offset..]` in `FlowBatch` layout. */
  hasAt(ipVersion: number, words: Uint32Array, offset: number): boolean {
    if (ipVersion === 4) return this.has4(words[offset]!);
    if (ipVersion === 6)
      return this.has6(words[offset]!, words[offset + 1]!, words[offset + 2]!, words[offset + 3]!);
    return false;
  }
}

/**
 * A set of domain names: a name matches when it or one of its parent domains is in the set
 * (`evil.example` matches `a.b.evil.example`). Names are compared lower-case without a trailing dot.
 */
export class DomainSet {
  readonly #names: Set<string>;

  constructor(names: Iterable<string>) {
    this.#names = new Set([...names].map(normaliseDomain));
  }

  /** Number of names held. */
  get size(): number {
    return this.#names.size;
  }

  /** True when `name` or a parent domain is in the set. */
  matches(name: string): boolean {
    if (this.#names.size === 0) return false;
    let n = normaliseDomain(name);
    for (;;) {
      if (this.#names.has(n)) return true;
      const dot = n.indexOf('.');
      if (dot < 0) return false;
      n = n.slice(dot + 1);
    }
  }
}

/** Lower-case without a trailing dot. */
export function normaliseDomain(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') && n.length > 1 ? n.slice(0, -1) : n;
}
