/**
 * Builds the compact tables from rows in any order. Registry exports are not clean: the
 * ip-location-db files contain nested and partly overlapping rows (a /24 of another country
 * inside a larger block). Rows are therefore flattened with "most specific wins": inside a row,
 * a row that starts later (or equally but ends earlier) wins; on a partial overlap the later-
 * starting row wins the overlap. Special-purpose space is then laid over everything.
 */
import { bigIntToWords, parsePrefix } from './address.ts';
import { SPECIAL_IPV4, SPECIAL_IPV6, SPECIAL_REASONS } from './special.ts';
import { SPECIAL_BASE, type AsnTable, type CountryTable, type SourceVersion } from './types.ts';

/** An inclusive range with a small-integer value. */
export interface Interval<T> {
  start: T;
  end: T;
  value: number;
}

/** Arithmetic needed by the flattening, for numbers (IPv4) and bigints (IPv6). */
export interface RangeOps<T> {
  lt(a: T, b: T): boolean;
  succ(a: T): T;
  pred(a: T): T;
}

/** IPv4 bounds as numbers (exact: all below 2^32). */
export const NUMBER_OPS: RangeOps<number> = {
  lt: (a, b) => a < b,
  succ: (a) => a + 1,
  pred: (a) => a - 1,
};

/** IPv6 bounds as bigints. */
export const BIGINT_OPS: RangeOps<bigint> = {
  lt: (a, b) => a < b,
  succ: (a) => a + 1n,
  pred: (a) => a - 1n,
};

function pushMerged<T>(out: Interval<T>[], start: T, end: T, value: number, ops: RangeOps<T>): void {
  const last = out[out.length - 1];
  // Adjacent rows with the same value become one: fewer rows, shorter searches.
  if (
    last &&
    last.value === value &&
    !ops.lt(ops.succ(last.end), start) &&
    !ops.lt(start, ops.succ(last.end))
  ) {
    last.end = end;
    return;
  }
  out.push({ start, end, value });
}

/**
 * Flattens possibly nested/overlapping intervals into sorted, disjoint ones (most specific wins,
 * see the module comment), merging adjacent equal values. Rows with `end < start` are ignored.
 */
export function flatten<T>(intervals: readonly Interval<T>[], ops: RangeOps<T>): Interval<T>[] {
  const rows = intervals.filter((r) => !ops.lt(r.end, r.start));
  // Array.prototype.sort is stable: among identical bounds the later row stays later and wins.
  rows.sort((a, b) =>
    ops.lt(a.start, b.start)
      ? -1
      : ops.lt(b.start, a.start)
        ? 1
        : ops.lt(b.end, a.end)
          ? -1
          : ops.lt(a.end, b.end)
            ? 1
            : 0,
  );
  const out: Interval<T>[] = [];
  const stack: Interval<T>[] = [];
  const first = rows[0];
  if (!first) return out;
  // Everything before `cursor` has been emitted (or is a gap).
  let cursor = first.start;
  const closeOne = (): void => {
    const t = stack.pop()!;
    if (!ops.lt(t.end, cursor)) {
      pushMerged(out, cursor, t.end, t.value, ops);
      cursor = ops.succ(t.end);
    }
  };
  for (const row of rows) {
    while (stack.length > 0 && ops.lt(stack[stack.length - 1]!.end, row.start)) closeOne();
    if (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (ops.lt(cursor, row.start)) pushMerged(out, cursor, ops.pred(row.start), top.value, ops);
      // Rows ending inside `row` are covered by it from here on: drop them.
      while (stack.length > 0 && ops.lt(stack[stack.length - 1]!.end, row.end)) stack.pop();
    }
    cursor = row.start;
    stack.push(row);
  }
  while (stack.length > 0) closeOne();
  return out;
}

/**
 * Lays sorted disjoint `top` intervals over sorted disjoint `base` intervals: `top` wins wherever
 * they overlap. The result is sorted and disjoint.
 */
export function overlay<T>(
  base: readonly Interval<T>[],
  top: readonly Interval<T>[],
  ops: RangeOps<T>,
): Interval<T>[] {
  const pieces: Interval<T>[] = [];
  let j = 0;
  for (const b of base) {
    while (j < top.length && ops.lt(top[j]!.end, b.start)) j++;
    let cur = b.start;
    let covered = false;
    for (let k = j; k < top.length && !ops.lt(b.end, top[k]!.start); k++) {
      const t = top[k]!;
      if (ops.lt(cur, t.start)) pieces.push({ start: cur, end: ops.pred(t.start), value: b.value });
      if (!ops.lt(t.end, b.end)) {
        covered = true;
        break;
      }
      cur = ops.succ(t.end);
    }
    if (!covered && !ops.lt(b.end, cur)) pieces.push({ start: cur, end: b.end, value: b.value });
  }
  const all = [...pieces, ...top].sort((a, b) =>
    ops.lt(a.start, b.start) ? -1 : ops.lt(b.start, a.start) ? 1 : 0,
  );
  const out: Interval<T>[] = [];
  for (const r of all) pushMerged(out, r.start, r.end, r.value, ops);
  return out;
}

function specialIntervals<T>(version: 4 | 6, ops: RangeOps<T>, conv: (b: bigint) => T): Interval<T>[] {
  const list = version === 4 ? SPECIAL_IPV4 : SPECIAL_IPV6;
  const rows = list.map((s) => {
    const p = parsePrefix(s.prefix);
    return {
      start: conv(p.first),
      end: conv(p.last),
      value: SPECIAL_BASE + SPECIAL_REASONS.indexOf(s.reason),
    };
  });
  return flatten(rows, ops);
}

/** Special-purpose IPv4 space as disjoint intervals valued `SPECIAL_BASE + reason`. */
export const SPECIAL_INTERVALS_V4: readonly Interval<number>[] = specialIntervals(4, NUMBER_OPS, Number);
/** Special-purpose IPv6 space as disjoint intervals valued `SPECIAL_BASE + reason`. */
export const SPECIAL_INTERVALS_V6: readonly Interval<bigint>[] = specialIntervals(6, BIGINT_OPS, (b) => b);

function pack4(rows: readonly Interval<number>[]): { starts: Uint32Array; ends: Uint32Array } {
  const starts = new Uint32Array(rows.length);
  const ends = new Uint32Array(rows.length);
  rows.forEach((r, i) => {
    starts[i] = r.start;
    ends[i] = r.end;
  });
  return { starts, ends };
}

function pack6(rows: readonly Interval<bigint>[]): { starts: Uint32Array; ends: Uint32Array } {
  const starts = new Uint32Array(rows.length * 4);
  const ends = new Uint32Array(rows.length * 4);
  rows.forEach((r, i) => {
    bigIntToWords(r.start, starts, i * 4);
    bigIntToWords(r.end, ends, i * 4);
  });
  return { starts, ends };
}

/**
 * Collects country rows from any source (CSV, delegated stats, tests) and builds a
 * `CountryTable`: countries sorted, rows flattened, special space laid over.
 */
export class CountryTableBuilder {
  private readonly codes = new Map<string, number>();
  private readonly v4: Interval<number>[] = [];
  private readonly v6: Interval<bigint>[] = [];

  private code(cc: string): number {
    let i = this.codes.get(cc);
    if (i === undefined) {
      i = this.codes.size;
      this.codes.set(cc, i);
    }
    return i;
  }

  /** Adds an inclusive IPv4 range (uint32 bounds). */
  add4(start: number, end: number, cc: string): void {
    this.v4.push({ start, end, value: this.code(cc) });
  }

  /** Adds an inclusive IPv6 range (128-bit bounds). */
  add6(start: bigint, end: bigint, cc: string): void {
    this.v6.push({ start, end, value: this.code(cc) });
  }

  /** Number of rows added so far. */
  get size(): number {
    return this.v4.length + this.v6.length;
  }

  /** Builds the table. */
  build(version: SourceVersion): CountryTable {
    const countries = [...this.codes.keys()].sort();
    const remap = new Uint16Array(this.codes.size);
    for (const [cc, i] of this.codes) remap[i] = countries.indexOf(cc);
    const fix = <T>(rows: Interval<T>[]): Interval<T>[] =>
      rows.map((r) => ({ ...r, value: remap[r.value]! }));
    const v4 = overlay(flatten(fix(this.v4), NUMBER_OPS), SPECIAL_INTERVALS_V4, NUMBER_OPS);
    const v6 = overlay(flatten(fix(this.v6), BIGINT_OPS), SPECIAL_INTERVALS_V6, BIGINT_OPS);
    const p4 = pack4(v4);
    const p6 = pack6(v6);
    return {
      version,
      countries,
      v4Starts: p4.starts,
      v4Ends: p4.ends,
      v4Values: Uint16Array.from(v4, (r) => r.value),
      v6Starts: p6.starts,
      v6Ends: p6.ends,
      v6Values: Uint16Array.from(v6, (r) => r.value),
    };
  }
}

/** Collects ASN rows and builds an `AsnTable` (rows flattened; no special overlay). */
export class AsnTableBuilder {
  private readonly orgs = new Map<string, number>();
  private readonly pairs = new Map<string, number>();
  private readonly pairAsn: number[] = [];
  private readonly pairOrg: number[] = [];
  private readonly v4: Interval<number>[] = [];
  private readonly v6: Interval<bigint>[] = [];

  private pair(asn: number, org: string): number {
    const key = `${asn}|${org}`;
    let p = this.pairs.get(key);
    if (p === undefined) {
      let o = this.orgs.get(org);
      if (o === undefined) {
        o = this.orgs.size;
        this.orgs.set(org, o);
      }
      p = this.pairAsn.length;
      this.pairAsn.push(asn);
      this.pairOrg.push(o);
      this.pairs.set(key, p);
    }
    return p;
  }

  /** Adds an inclusive IPv4 range originated by `asn`. */
  add4(start: number, end: number, asn: number, org: string): void {
    this.v4.push({ start, end, value: this.pair(asn, org) });
  }

  /** Adds an inclusive IPv6 range originated by `asn`. */
  add6(start: bigint, end: bigint, asn: number, org: string): void {
    this.v6.push({ start, end, value: this.pair(asn, org) });
  }

  /** Builds the table. */
  build(version: SourceVersion): AsnTable {
    const v4 = flatten(this.v4, NUMBER_OPS);
    const v6 = flatten(this.v6, BIGINT_OPS);
    const p4 = pack4(v4);
    const p6 = pack6(v6);
    return {
      version,
      orgs: [...this.orgs.keys()],
      v4Starts: p4.starts,
      v4Ends: p4.ends,
      v4Asn: Uint32Array.from(v4, (r) => this.pairAsn[r.value]!),
      v4Org: Uint32Array.from(v4, (r) => this.pairOrg[r.value]!),
      v6Starts: p6.starts,
      v6Ends: p6.ends,
      v6Asn: Uint32Array.from(v6, (r) => this.pairAsn[r.value]!),
      v6Org: Uint32Array.from(v6, (r) => this.pairOrg[r.value]!),
    };
  }
}
