import type { RawDatagram } from '../../common/schema/index.ts';
import type { CollectMetrics } from '../metrics.ts';

/**
 * The bounded queue between the socket callbacks and the decoder. Callbacks only `push` (O(1),
 * no allocation beyond the datagram itself); decoding runs later in batches of `batchSize` per
 * event-loop turn (`setImmediate`), so sockets keep being read between batches. A full queue drops
 * the new message with a counter (UDP) or refuses it so the caller can push back (TCP): it never
 * grows and never blocks.
 */

/** Smallest and largest queue capacities accepted (messages). */
export const MIN_QUEUE_CAPACITY = 16;
/**
 * Upper bound on the queue (as in the `collect.queueCapacity` schema): datagrams are usually 1-9 KiB, so the real
 * bound is the operator's memory; this only stops typos (an extra zero or two).
 */
export const MAX_QUEUE_CAPACITY = 4_000_000;

/** Queue sizing. */
export interface DatagramQueueOptions {
  /** Messages held at most; further UDP datagrams are dropped (counted). */
  capacity: number;
  /** Messages decoded per event-loop turn before yielding to socket callbacks. */
  batchSize: number;
}

/** Handles one dequeued message (decode + output). Must not throw; if it does, `onError` sees it. */
export type DatagramHandler = (d: RawDatagram) => void;

/** A fixed-size ring buffer of `RawDatagram`s with batched, scheduled draining. */
export class DatagramQueue {
  private readonly ring: (RawDatagram | undefined)[];
  private readonly capacity: number;
  private readonly batchSize: number;
  /** Depth at or below which callers waiting for space (paused TCP sockets) are woken. */
  private readonly lowWater: number;
  private head = 0;
  private size = 0;
  private scheduled = false;
  private closed = false;
  private spaceWaiters: (() => void)[] = [];
  private canDrain: () => boolean = () => true;
  private readonly drainTurn = (): void => this.turn();

  constructor(
    private readonly metrics: CollectMetrics,
    opts: DatagramQueueOptions,
    private readonly handler: DatagramHandler,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.capacity = Math.max(MIN_QUEUE_CAPACITY, Math.min(MAX_QUEUE_CAPACITY, Math.floor(opts.capacity)));
    this.batchSize = Math.max(1, Math.floor(opts.batchSize));
    this.lowWater = Math.floor(this.capacity / 2);
    this.ring = new Array<RawDatagram | undefined>(this.capacity).fill(undefined);
  }

  /** Messages waiting. */
  get depth(): number {
    return this.size;
  }

  /** Free slots. */
  get free(): number {
    return this.capacity - this.size;
  }

  /** Slots in total. */
  get limit(): number {
    return this.capacity;
  }

  /**
   * Adds a datagram for decoding; when the queue is full it is dropped and counted (the UDP
   * policy: a socket must never wait for the decoder). Returns whether it was accepted.
   */
  push(d: RawDatagram): boolean {
    if (this.offer(d)) return true;
    this.metrics.queueDropped.inc();
    return false;
  }

  /**
   * Adds a message if there is room, without counting a drop when there is not: for inputs that
   * can push back (TCP) and will retry after `whenSpace`.
   */
  offer(d: RawDatagram): boolean {
    if (this.size >= this.capacity || this.closed) return false;
    this.ring[(this.head + this.size) % this.capacity] = d;
    this.size++;
    this.metrics.queueEnqueued.inc();
    this.metrics.queueDepth.set(this.size);
    if (!this.scheduled) this.schedule();
    return true;
  }

  /** Calls `cb` once, after a drain turn leaves the queue at most half full. */
  whenSpace(cb: () => void): void {
    this.spaceWaiters.push(cb);
  }

  /**
   * Installs a predicate consulted before each drain turn: while it returns false (e.g. the
   * output stream is full) nothing is decoded and the queue fills up, which is what pushes back
   * on TCP exporters and makes UDP drops visible. Call `resume()` when it turns true again.
   */
  holdWhile(canDrain: () => boolean): void {
    this.canDrain = canDrain;
  }

  /** Restarts draining after `holdWhile`'s predicate turned true again. */
  resume(): void {
    if (this.size > 0 && !this.scheduled) this.schedule();
  }

  /**
   * Decodes everything now, synchronously, including what waiters push while being woken (paused
   * TCP connections hand over their held messages). Used by `stop()`; ignores `holdWhile`.
   * Returns the number of messages handled.
   */
  drainAll(): number {
    let n = 0;
    for (;;) {
      n += this.take(this.size);
      this.wake(true);
      if (this.size === 0) return n;
    }
  }

  /** Refuses further messages (after `drainAll` at stop). */
  close(): void {
    this.closed = true;
  }

  private schedule(): void {
    this.scheduled = true;
    setImmediate(this.drainTurn);
  }

  private turn(): void {
    this.scheduled = false;
    if (this.closed || !this.canDrain()) return;
    this.take(this.batchSize);
    this.wake(false);
    if (this.size > 0 && !this.scheduled) this.schedule();
  }

  /** Hands up to `max` messages to the handler, oldest first. */
  private take(max: number): number {
    const n = Math.min(max, this.size);
    for (let i = 0; i < n; i++) {
      const d = this.ring[this.head];
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.size--;
      if (d === undefined) continue;
      try {
        this.handler(d);
      } catch (err) {
        this.onError(err);
      }
    }
    this.metrics.queueDrained.inc(n);
    this.metrics.queueDepth.set(this.size);
    return n;
  }

  private wake(force: boolean): void {
    if (this.spaceWaiters.length === 0) return;
    if (!force && this.size > this.lowWater) return;
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const w of waiters) w();
  }
}
