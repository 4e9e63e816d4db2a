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
 * A bounded set of 64-bit fingerprints (two 32-bit hashes): `seen(a, b)` says whether the pair was
 * inserted before and inserts it. Set-associative with 4 ways and round-robin replacement, so it
 * forgets the oldest entries of a set first; a false "seen" needs both hashes to collide.
 */
export class SeenCache {
  /** Two words per way, four ways per set, interleaved: one set is one 32-byte run of memory. */
  private readonly ways: Uint32Array;
  private readonly mask: number;
  private readonly rr: Uint8Array;

  constructor(entries: number) {
    let sets = 16;
    while (sets * 4 < entries) sets *= 2;
    this.mask = sets - 1;
    this.ways = new Uint32Array(sets * 8);
    this.rr = new Uint8Array(sets);
  }

  /** Bytes held. */
  get bytes(): number {
    return this.ways.byteLength + this.rr.byteLength;
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
    const way = base + (this.rr[set]! & 3) * 2;
    this.rr[set] = (this.rr[set]! + 1) & 3;
    w[way] = x;
    w[way + 1] = y;
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
