/**
 * Selection metrics (rendered with prefix `acd_`, counters with suffix `_total`). Labels are feed
 * ids, reasons and outcomes only — never record content (R-SEL-1):
 * - `select_records{outcome}`: records in, selected, and dropped per reason (`outcome` = `in`,
 *   `selected` or a drop reason);
 * - `select_feed_records{feed,outcome}`: the same per feed (records the feed evaluated);
 * - `select_errors`: records dropped because processing failed unexpectedly (a bug if not 0);
 * - `select_feed_events{type}`: activations, refusals, stops, revocations;
 * - gauge `select_feeds_active`.
 */
import type { Counter, MetricsRegistry } from '../common/metrics.ts';
import { DROP_REASONS, type StatsAccumulator } from './stats.ts';

/** The counters of one selection engine. */
export class SelectionMetrics {
  readonly #in: Counter;
  readonly #selected: Counter;
  readonly #dropped: Counter[];
  readonly #feedIn: Counter[];
  readonly #feedSelected: Counter[];
  readonly #feedDropped: Counter[][];
  readonly #errors: Counter;
  readonly #events: Counter;

  constructor(registry: MetricsRegistry, feedIds: readonly string[], activeFeeds: () => number) {
    const records = registry.counter('select_records', 'Records through selection, by outcome.');
    this.#in = records.labels({ outcome: 'in' });
    this.#selected = records.labels({ outcome: 'selected' });
    this.#dropped = DROP_REASONS.map((r) => records.labels({ outcome: r }));
    const feed = registry.counter('select_feed_records', 'Records evaluated per feed, by outcome.');
    this.#feedIn = feedIds.map((f) => feed.labels({ feed: f, outcome: 'in' }));
    this.#feedSelected = feedIds.map((f) => feed.labels({ feed: f, outcome: 'selected' }));
    this.#feedDropped = feedIds.map((f) => DROP_REASONS.map((r) => feed.labels({ feed: f, outcome: r })));
    this.#errors = registry.counter(
      'select_errors',
      'Records dropped because selection failed unexpectedly.',
    );
    this.#events = registry.counter(
      'select_feed_events',
      'Feed activations, refusals, stops and revocations.',
    );
    registry.gauge('select_feeds_active', 'Feeds currently active.', activeFeeds);
  }

  /** Adds one batch's counts. */
  add(s: StatsAccumulator): void {
    this.#in.inc(s.in);
    this.#selected.inc(s.selected);
    this.#errors.inc(s.errors);
    for (let r = 0; r < DROP_REASONS.length; r++) this.#dropped[r]!.inc(s.dropped[r]);
    for (let f = 0; f < this.#feedIn.length; f++) {
      this.#feedIn[f]!.inc(s.feedIn[f]);
      this.#feedSelected[f]!.inc(s.feedSelected[f]);
      for (let r = 0; r < DROP_REASONS.length; r++)
        this.#feedDropped[f]![r]!.inc(s.feedDropped[f * DROP_REASONS.length + r]);
    }
  }

  /** Counts one feed event. */
  event(type: string): void {
    this.#events.labels({ type }).inc();
  }
}
