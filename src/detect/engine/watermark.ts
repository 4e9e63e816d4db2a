/**
 * Event-time watermarks over partitions (exporters or edges). Each partition's own watermark is
 * the largest event time it has delivered minus the allowed lateness; the engine's watermark is
 * the minimum over partitions that are *active*, i.e. delivered something within `idleTimeoutMs`
 * of processing (wall) time. A silent exporter therefore stops holding everybody back once it has
 * been idle that long; when it speaks again it rejoins, and records older than the watermark are
 * late (counted and dropped by the engine). The watermark never moves backwards.
 */
import type { Clock } from '../../common/clock.ts';

/** Partition bookkeeping (one per exporter/edge seen). */
interface PartitionState {
  name: string;
  maxEventTime: number;
  lastArrival: number;
  records: number;
  late: number;
}

/** Most partitions tracked; beyond it new names share the last partition (bounded state). */
export const MAX_PARTITIONS = 4096;

/** Watermark tracker. */
export class WatermarkTracker {
  private readonly parts: PartitionState[] = [];
  private readonly ids = new Map<string, number>();
  private current = -Infinity;

  constructor(
    private readonly clock: Clock,
    readonly allowedLatenessMs: number,
    readonly idleTimeoutMs: number,
  ) {}

  /** The partition id of a name, registering it on first use. */
  partition(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      if (this.parts.length >= MAX_PARTITIONS) return MAX_PARTITIONS - 1;
      id = this.parts.length;
      this.parts.push({ name, maxEventTime: -Infinity, lastArrival: this.clock.now(), records: 0, late: 0 });
      this.ids.set(name, id);
    }
    return id;
  }

  /** Name of a partition id. */
  nameOf(id: number): string {
    return this.parts[id]?.name ?? '';
  }

  /** Records an arrival of `count` records up to event time `maxTime` (processing time: now). */
  observe(id: number, maxTime: number, count: number): void {
    const p = this.parts[id];
    if (!p) return;
    if (maxTime > p.maxEventTime) p.maxEventTime = maxTime;
    p.lastArrival = this.clock.now();
    p.records += count;
  }

  /** Counts late records of a partition. */
  countLate(id: number, n: number): void {
    const p = this.parts[id];
    if (p) p.late += n;
  }

  /** The current watermark (−Infinity before any record). */
  get value(): number {
    return this.current;
  }

  /**
   * Recomputes the watermark from the partitions and returns it. Idle partitions are left out;
   * when all are idle, the most advanced partition decides, so an input that stopped still lets
   * its windows close after `idleTimeoutMs`.
   */
  advance(): number {
    const now = this.clock.now();
    let min = Infinity;
    let max = -Infinity;
    for (const p of this.parts) {
      if (p.maxEventTime === -Infinity) continue;
      if (p.maxEventTime > max) max = p.maxEventTime;
      if (now - p.lastArrival > this.idleTimeoutMs) continue;
      if (p.maxEventTime < min) min = p.maxEventTime;
    }
    const basis = min === Infinity ? max : min;
    if (basis !== -Infinity) {
      const w = basis - this.allowedLatenessMs;
      if (w > this.current) this.current = w;
    }
    return this.current;
  }

  /** Moves the watermark to +Infinity-like `t` (end of input). */
  forceTo(t: number): void {
    if (t > this.current) this.current = t;
  }

  /** Per-partition figures for metrics and reports. */
  snapshot(): { name: string; maxEventTime: number; idle: boolean; records: number; late: number }[] {
    const now = this.clock.now();
    return this.parts.map((p) => ({
      name: p.name,
      maxEventTime: p.maxEventTime,
      idle: now - p.lastArrival > this.idleTimeoutMs,
      records: p.records,
      late: p.late,
    }));
  }
}
