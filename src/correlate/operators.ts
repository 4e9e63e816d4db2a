/**
 * Which critical-infrastructure operators an address or a DNS name belongs to (DESIGN section 6:
 * the operators file gives sector, ranges and domains).
 *
 * Pseudonymised addresses cannot be matched against ranges: a pseudonym is a different address
 * that may even fall inside another operator's range. A centre therefore matches only ranges
 * whose agreement waives pseudonymisation (`operatorRanges: 'waived'`; those arrive in clear) and
 * supplies `operatorOf(address)`, which can answer from what the edge stamped before
 * pseudonymisation (country, ASN, operator). Offline analysis of clear addresses uses every range.
 */
import type { OperatorsFile } from '../common/operators/index.ts';
import { parseRange, rangesOverlap, type AddressRange } from './match.ts';

/** One operator an address or name belongs to. */
export interface OperatorMatch {
  /** Operator id of the operators file. */
  id: string;
  /** Its sector (src/common/operators/sectors.ts). */
  sector: string;
}

/**
 * Hook that maps an address string (subject or counterpart, possibly a pseudonym) to operators;
 * `undefined` means "no opinion" and falls back to the range index.
 */
export type OperatorLookup = (address: string) => readonly OperatorMatch[] | undefined;

/** Options of the index. */
export interface OperatorIndexOptions {
  /** `all` ranges, or only ranges whose agreement waives pseudonymisation. */
  ranges: 'all' | 'waived';
  /** Results remembered (0 = no cache). */
  cacheEntries: number;
  /** The centre's hook, consulted first. */
  operatorOf?: OperatorLookup;
}

const NONE: readonly OperatorMatch[] = Object.freeze([]);
/** Longest DNS name considered (RFC 1035: 253 characters of text). */
const MAX_NAME = 253;

/**
 * Address → operators by ranges (a linear scan over the ranges: operators files hold hundreds of
 * ranges and evidence arrives at thousands per second at most; results are cached), and DNS name
 * → operators by domain suffix.
 */
export class OperatorIndex {
  private readonly ranges: { range: AddressRange; match: OperatorMatch }[] = [];
  private readonly domains = new Map<string, OperatorMatch[]>();
  private readonly cache = new Map<string, readonly OperatorMatch[]>();
  private readonly opts: OperatorIndexOptions;

  constructor(file: OperatorsFile | undefined, opts: OperatorIndexOptions) {
    this.opts = opts;
    for (const op of file?.operators ?? []) {
      const match: OperatorMatch = { id: op.id, sector: op.sector };
      for (const r of op.ranges) {
        if (opts.ranges === 'waived' && !r.pseudonymisationWaived) continue;
        const range = parseRange(r.prefix);
        if (range) this.ranges.push({ range, match });
      }
      for (const d of op.domains) {
        const list = this.domains.get(d) ?? [];
        if (!list.some((m) => m.id === op.id)) list.push(match);
        this.domains.set(d, list);
      }
    }
  }

  /** True when the index can match anything (a file with operators, or a hook). */
  get active(): boolean {
    return this.ranges.length > 0 || this.domains.size > 0 || this.opts.operatorOf !== undefined;
  }

  /** Operators whose ranges hold the address (or overlap the `prefix/64` group). */
  ofAddress(address: string): readonly OperatorMatch[] {
    const hooked = this.opts.operatorOf?.(address);
    if (hooked !== undefined) return hooked;
    if (this.ranges.length === 0) return NONE;
    const cached = this.cache.get(address);
    if (cached) return cached;
    const r = parseRange(address);
    let out: OperatorMatch[] | undefined;
    if (r) {
      for (const row of this.ranges) {
        if (!rangesOverlap(row.range, r)) continue;
        out ??= [];
        if (!out.some((m) => m.id === row.match.id)) out.push(row.match);
      }
    }
    const result = out ?? NONE;
    if (this.opts.cacheEntries > 0) {
      // Oldest-inserted entry goes first: a plain bounded map is enough for a cache of hints.
      if (this.cache.size >= this.opts.cacheEntries) {
        const oldest = this.cache.keys().next();
        if (!oldest.done) this.cache.delete(oldest.value);
      }
      this.cache.set(address, result);
    }
    return result;
  }

  /** Operators owning the name or a parent domain of it (`www.bank.example` → `bank.example`). */
  ofDomain(name: string): readonly OperatorMatch[] {
    if (this.domains.size === 0 || name.length === 0 || name.length > MAX_NAME + 1) return NONE;
    let n = name.toLowerCase();
    if (n.endsWith('.')) n = n.slice(0, -1);
    for (;;) {
      const hit = this.domains.get(n);
      if (hit) return hit;
      const dot = n.indexOf('.');
      if (dot < 0) return NONE;
      n = n.slice(dot + 1);
    }
  }
}
