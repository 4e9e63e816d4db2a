/**
 * Helpers detectors share for per-slot windowed state: the list of slots touched in still-open
 * windows (so closing a window costs O(keys touched), not O(keys held)), a bounded cache of
 * "seen before" fingerprints, and bounded record-id samples per slot.
 */
import { mix32 } from './hash.ts';

/**
 * Slots with state in open windows, each listed once until a sweep removes it (so the list never
 * holds more entries than the table has slots). A slot evicted and reused while listed stays
 * listed: the sweep then judges the new key's state, which is what the slot holds.
 */
export class TouchedSlots {
  private readonly list: Int32Array;
  private n = 0;
  private readonly listed: Uint8Array;

  constructor(capacity: number) {
    this.list = new Int32Array(Math.max(1, capacity));
    this.listed = new Uint8Array(capacity);
  }

  /** Prefetch helper: loads the slot's listed flag; returns a value to discard. */
  peek(slot: number): number {
    return this.listed[slot]!;
  }

  /** Notes that `slot` holds state of an open window. */
  add(slot: number): void {
    if (this.listed[slot] === 1) return;
    this.listed[slot] = 1;
    this.list[this.n++] = slot;
  }

  /**
   * Calls `close(slot)` for listed slots; those for which it returns true are removed, the others
   * (state of a later window) stay listed.
   */
  sweep(close: (slot: number) => boolean): void {
    let w = 0;
    const l = this.list;
    for (let r = 0; r < this.n; r++) {
      const s = l[r]!;
      if (!close(s)) l[w++] = s;
      else this.listed[s] = 0;
    }
    this.n = w;
  }

  /** Entries listed. */
  get size(): number {
    return this.n;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.list.byteLength + this.listed.byteLength;
  }
}

/**
 * A hashed membership filter of `size` bits (a one-hash Bloom filter): `has(h)` is true for every
 * hash `set` before, and for other hashes with probability (bits set) / size. One bit per entry
 * rather than one byte keeps a million-entry filter in 128 KiB, inside the CPU's L2 cache.
 */
export class HashBits {
  private readonly words: Uint32Array;
  private readonly mask: number;

  /** `size` is rounded down to a power of two (at least 32). */
  constructor(size: number) {
    let n = 32;
    while (n * 2 <= size) n *= 2;
    this.words = new Uint32Array(n >>> 5);
    this.mask = n - 1;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.words.byteLength;
  }

  /** Sets the bit of hash `h`. */
  set(h: number): void {
    const b = h & this.mask;
    this.words[b >>> 5]! |= 1 << (b & 31);
  }

  /** Prefetch helper: loads the word holding the bit of hash `h`; returns a value to discard. */
  peek(h: number): number {
    return this.words[(h & this.mask) >>> 5]!;
  }

  /** Whether the bit of hash `h` is set. */
  has(h: number): boolean {
    const b = h & this.mask;
    return ((this.words[b >>> 5]! >>> (b & 31)) & 1) === 1;
  }
}

/**
 * A bounded set of 64-bit fingerprints (two 32-bit hashes): `seen(a, b)` says whether the pair was
 * inserted before and inserts it. Set-associative with 4 ways and FIFO replacement (a new entry
 * goes to way 0 and the others move down one, all within the set's own 32 bytes, so no separate
 * replacement state costs a second cache miss): a set forgets its oldest entry first; a false
 * "seen" needs both hashes to collide.
 */
export class SeenCache {
  /** Two words per way, four ways per set, interleaved: one set is one 32-byte run of memory. */
  private readonly ways: Uint32Array;
  private readonly mask: number;

  constructor(entries: number) {
    let sets = 16;
    while (sets * 4 < entries) sets *= 2;
    this.mask = sets - 1;
    this.ways = new Uint32Array(sets * 8);
  }

  /** Bytes held. */
  get bytes(): number {
    return this.ways.byteLength;
  }

  /** True when (h1, h2) was inserted before; inserts it otherwise. */
  seen(h1: number, h2: number): boolean {
    // 0 marks an empty way, so fingerprints are forced non-zero.
    const x = (h1 | 1) >>> 0;
    const y = (mix32(h2) | 1) >>> 0;
    const set = h1 & this.mask;
    const base = set * 8;
    const w = this.ways;
    for (let i = base; i < base + 8; i += 2) if (w[i] === x && w[i + 1] === y) return true;
    w[base + 6] = w[base + 4]!;
    w[base + 7] = w[base + 5]!;
    w[base + 4] = w[base + 2]!;
    w[base + 5] = w[base + 3]!;
    w[base + 2] = w[base]!;
    w[base + 3] = w[base + 1]!;
    w[base] = x;
    w[base + 1] = y;
    return false;
  }
}

/** Up to `max` record ids per slot, allocated only for slots that ask for them. */
export class RecordSamples {
  private readonly ids: (string[] | undefined)[];

  constructor(
    capacity: number,
    readonly max: number,
  ) {
    this.ids = new Array<string[] | undefined>(capacity).fill(undefined);
  }

  /** True when the slot still has room (so the caller can skip building the id string). */
  wants(slot: number): boolean {
    const l = this.ids[slot];
    return this.max > 0 && (l === undefined || l.length < this.max);
  }

  /** Adds an id. */
  add(slot: number, id: string): void {
    let l = this.ids[slot];
    if (l === undefined) this.ids[slot] = l = [];
    if (l.length < this.max) l.push(id);
  }

  /** The ids of a slot (a copy) and clears them. */
  take(slot: number): string[] {
    const l = this.ids[slot];
    this.ids[slot] = undefined;
    return l ?? [];
  }

  /** Forgets a slot's ids. */
  clear(slot: number): void {
    this.ids[slot] = undefined;
  }
}
