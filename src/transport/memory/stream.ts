/**
 * An in-process stream with durable consumers, modelled on JetStream's semantics so that the
 * memory bus behaves like the real one: messages have sequence numbers, publishes carrying a
 * message id inside the duplicate window are recognised and not stored twice, each durable
 * consumer delivers in sequence order, keeps delivered-but-unacknowledged messages pending and
 * redelivers them after a negative acknowledgement (with a delay) or when their subscriber stops.
 */
import type { Clock } from '../../common/clock.ts';
import type { PublishAck } from '../bus.ts';
import { BusPublishError } from '../errors.ts';

/** NATS subject matching: `*` matches one token, a trailing `>` one or more. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    const t = f[i];
    if (t === '>') return s.length > i;
    if (i >= s.length) return false;
    if (t !== '*' && t !== s[i]) return false;
  }
  return f.length === s.length;
}

/** One stored message. */
export interface StoredMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
}

/** A message handed to a subscriber. */
export interface Delivery {
  msg: StoredMessage;
  deliveryCount: number;
}

/** A durable consumer: cursor, pending set and redelivery queue. */
export class MemoryConsumer {
  /** Next sequence never delivered. */
  next: number;
  /** Delivered, not acknowledged: seq → delivery count. */
  readonly pending = new Map<number, number>();
  /** Sequences ready for redelivery, ascending. */
  readonly ready: number[] = [];
  private readonly waiters: (() => void)[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly name: string,
    readonly filter: string,
    private readonly stream: MemoryStream,
  ) {
    this.next = stream.firstSeq;
  }

  /** The next message for a subscriber, or undefined when there is none right now. */
  take(): Delivery | undefined {
    while (this.ready.length > 0) {
      const seq = this.ready.shift()!;
      const msg = this.stream.get(seq);
      if (!msg) {
        this.pending.delete(seq);
        continue;
      }
      const n = (this.pending.get(seq) ?? 0) + 1;
      this.pending.set(seq, n);
      return { msg, deliveryCount: n };
    }
    while (this.next <= this.stream.lastSeq) {
      const msg = this.stream.get(this.next);
      this.next++;
      if (!msg || !subjectMatches(this.filter, msg.subject)) continue;
      this.pending.set(msg.seq, 1);
      return { msg, deliveryCount: 1 };
    }
    return undefined;
  }

  /** Resolves when a message may be available (or `wake()` is called). */
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Wakes every waiting subscriber. */
  wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  ack(seq: number): void {
    this.pending.delete(seq);
    this.stream.trim();
  }

  /** Terminate: like an ack, the message is never delivered again. */
  term(seq: number): void {
    this.ack(seq);
  }

  /** Redeliver after `delayMs` (0: at once). */
  nak(seq: number, delayMs: number): void {
    if (delayMs <= 0) {
      this.requeue(seq);
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.requeue(seq);
    }, delayMs);
    t.unref();
    this.timers.add(t);
  }

  /** Makes every pending message ready again (no subscriber is running). */
  requeueAll(): void {
    for (const seq of [...this.pending.keys()].sort((a, b) => a - b)) this.requeue(seq);
  }

  private requeue(seq: number): void {
    if (!this.pending.has(seq)) return;
    let i = this.ready.length;
    while (i > 0 && this.ready[i - 1]! > seq) i--;
    if (this.ready[i - 1] !== seq) this.ready.splice(i, 0, seq);
    this.wake();
  }

  /** Lowest sequence this consumer still needs (for trimming). */
  floor(): number {
    let f = this.next;
    for (const s of this.pending.keys()) if (s < f) f = s;
    return f;
  }

  /** Cancels redelivery timers (bus stop). */
  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.wake();
  }
}

/** Options of a memory stream. */
export interface MemoryStreamOptions {
  /** Subjects bound to the stream (NATS wildcards). */
  subjects: string[];
  /** Message ids remembered for duplicate detection, in ms. */
  duplicateWindowMs: number;
  /** Bytes held; beyond it see `discard`. */
  maxBytes: number;
  /**
   * `interest`: a message is dropped once every durable consumer existing at that moment
   * acknowledged it (the data stream: memory stays bounded by what is in flight; a consumer created
   * later starts at what is left). `limits`: messages stay until `maxBytes` (control, statistics:
   * few and small; consumers created later still get them).
   */
  retention: 'interest' | 'limits';
  /** When full: `new` refuses the publish (the edge spools, as JetStream `discard: new`), `old` drops the oldest. */
  discard: 'new' | 'old';
}

/** The stream. */
export class MemoryStream {
  private messages: (StoredMessage | undefined)[] = [];
  /** Index in `messages` of `firstSeq` (the array is compacted lazily, shift() is O(n)). */
  private head = 0;
  /** Sequence of `messages[head]`. */
  firstSeq = 1;
  lastSeq = 0;
  bytes = 0;
  private readonly msgIds = new Map<string, { seq: number; at: number }>();
  readonly consumers = new Map<string, MemoryConsumer>();

  constructor(
    readonly name: string,
    readonly options: MemoryStreamOptions,
    private readonly clock: Clock,
  ) {}

  /** True when `subject` belongs to this stream. */
  binds(subject: string): boolean {
    return this.options.subjects.some((f) => subjectMatches(f, subject));
  }

  get(seq: number): StoredMessage | undefined {
    if (seq < this.firstSeq) return undefined;
    return this.messages[this.head + seq - this.firstSeq];
  }

  publish(subject: string, data: Uint8Array, msgId?: string): PublishAck {
    const now = this.clock.monotonic();
    this.expireIds(now);
    if (msgId !== undefined) {
      const prior = this.msgIds.get(msgId);
      if (prior) return { duplicate: true, sequence: prior.seq };
    }
    if (this.bytes + data.length > this.options.maxBytes) {
      if (this.options.discard === 'new')
        throw new BusPublishError(`memory stream ${this.name} full (${this.options.maxBytes} bytes)`);
      this.dropOldest(data.length);
    }
    const seq = ++this.lastSeq;
    // Copy: the publisher may reuse its buffer, and consumers must see what was published.
    this.messages.push({ seq, subject, data: new Uint8Array(data) });
    this.bytes += data.length;
    if (msgId !== undefined) this.msgIds.set(msgId, { seq, at: now });
    for (const c of this.consumers.values()) c.wake();
    return { duplicate: false, sequence: seq };
  }

  private expireIds(now: number): void {
    for (const [id, e] of this.msgIds) {
      if (now - e.at <= this.options.duplicateWindowMs) break;
      this.msgIds.delete(id);
    }
  }

  /** Returns the durable consumer, creating it (delivering from the first stored message). */
  consumer(name: string, filter: string): MemoryConsumer {
    let c = this.consumers.get(name);
    if (!c) {
      c = new MemoryConsumer(name, filter, this);
      this.consumers.set(name, c);
    }
    return c;
  }

  /**
   * Drops messages every consumer has acknowledged, so the embedded deployment's memory stays
   * bounded by what is in flight; without consumers the stream keeps everything up to `maxBytes`.
   */
  trim(): void {
    if (this.options.retention !== 'interest' || this.consumers.size === 0) return;
    let floor = Infinity;
    for (const c of this.consumers.values()) floor = Math.min(floor, c.floor());
    while (this.firstSeq < floor && this.head < this.messages.length) {
      const m = this.messages[this.head];
      if (m) this.bytes -= m.data.length;
      this.messages[this.head] = undefined;
      this.head++;
      this.firstSeq++;
    }
    if (this.head > 1024 && this.head * 2 > this.messages.length) {
      this.messages = this.messages.slice(this.head);
      this.head = 0;
    }
  }

  private dropOldest(need: number): void {
    while (this.bytes + need > this.options.maxBytes && this.head < this.messages.length) {
      const m = this.messages[this.head];
      if (m) this.bytes -= m.data.length;
      this.messages[this.head] = undefined;
      this.head++;
      this.firstSeq++;
    }
  }

  close(): void {
    for (const c of this.consumers.values()) c.close();
  }
}
