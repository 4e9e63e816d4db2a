/**
 * Selection statistics (R-SEL-5): per batch, numbers only — records in, selected, dropped by
 * reason, overall and per feed. Published by the edge for inspection; never any record content.
 */
import type { LegalChannel } from '../common/schema/legal.ts';

/**
 * Why a record was not selected. When several feeds could take a record, the reason reported is
 * the one of the feed that got furthest: `feed-inactive` < `direction-mismatch` <
 * `domestic-domestic` < `approval-window` < `no-selector` (`schema` is decided before feeds).
 */
export const DROP_REASONS = [
  'feed-inactive',
  'direction-mismatch',
  'domestic-domestic',
  'approval-window',
  'no-selector',
  'schema',
] as const;
/** One drop reason. */
export type DropReason = (typeof DROP_REASONS)[number];

/** Reason codes in `DROP_REASONS` order (the rank used to pick the reported reason). */
export const R_FEED_INACTIVE = 0;
/** direction-mismatch */
export const R_DIRECTION = 1;
/** domestic-domestic */
export const R_DOMESTIC = 2;
/** approval-window */
export const R_WINDOW = 3;
/** no-selector */
export const R_NO_SELECTOR = 4;
/** schema */
export const R_SCHEMA = 5;

/** Drops per reason. */
export type DropCounts = Record<DropReason, number>;

/** Statistics of one feed in one batch (records the feed evaluated). */
export interface FeedSelectionStats {
  feedId: string;
  channel: LegalChannel;
  /** Records this feed evaluated (its exporters' records not taken by an earlier feed). */
  in: number;
  selected: number;
  dropped: DropCounts;
}

/** Statistics of one batch (R-SEL-5). */
export interface SelectionStats {
  /** Wall time of the selection (epoch ms). */
  at: number;
  in: number;
  selected: number;
  dropped: DropCounts;
  feeds: FeedSelectionStats[];
  /**
   * Records dropped because processing failed unexpectedly (counted under `schema` too). Always 0
   * unless there is a bug; tests assert it.
   */
  errors: number;
}

/** Counts of one batch, in flat arrays (no allocation per record). */
export class StatsAccumulator {
  in = 0;
  selected = 0;
  errors = 0;
  readonly dropped = new Float64Array(DROP_REASONS.length);
  readonly feedIn: Float64Array;
  readonly feedSelected: Float64Array;
  /** feed * DROP_REASONS.length + reason */
  readonly feedDropped: Float64Array;

  constructor(feeds: number) {
    this.feedIn = new Float64Array(feeds);
    this.feedSelected = new Float64Array(feeds);
    this.feedDropped = new Float64Array(feeds * DROP_REASONS.length);
  }

  /** Resets every count. */
  reset(): void {
    this.in = this.selected = this.errors = 0;
    this.dropped.fill(0);
    this.feedIn.fill(0);
    this.feedSelected.fill(0);
    this.feedDropped.fill(0);
  }

  /** The counts as a `SelectionStats` object. */
  toStats(at: number, feeds: readonly { id: string; channel: LegalChannel }[]): SelectionStats {
    const counts = (arr: Float64Array, base: number): DropCounts =>
      Object.fromEntries(DROP_REASONS.map((r, i) => [r, arr[base + i]!])) as DropCounts;
    return {
      at,
      in: this.in,
      selected: this.selected,
      dropped: counts(this.dropped, 0),
      feeds: feeds.map((f, i) => ({
        feedId: f.id,
        channel: f.channel,
        in: this.feedIn[i]!,
        selected: this.feedSelected[i]!,
        dropped: counts(this.feedDropped, i * DROP_REASONS.length),
      })),
      errors: this.errors,
    };
  }
}

/** Adds `b` into `a` (cumulative totals). */
export function addStats(a: SelectionStats, b: SelectionStats): SelectionStats {
  const add = (x: DropCounts, y: DropCounts): DropCounts =>
    Object.fromEntries(DROP_REASONS.map((r) => [r, x[r] + y[r]])) as DropCounts;
  return {
    at: b.at,
    in: a.in + b.in,
    selected: a.selected + b.selected,
    dropped: add(a.dropped, b.dropped),
    feeds: b.feeds.map((f, i) => {
      const o = a.feeds[i];
      return o && o.feedId === f.feedId
        ? { ...f, in: o.in + f.in, selected: o.selected + f.selected, dropped: add(o.dropped, f.dropped) }
        : f;
    }),
    errors: a.errors + b.errors,
  };
}
