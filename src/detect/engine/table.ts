/**
 * `KeyedTable`: the keyed state of a detector with a hard memory bound. A fixed number of slots
 * (allocated once, typed arrays only), keys of a fixed number of 32-bit words, an open-addressing
 * index (linear probing, backward-shift deletion: no tombstones, so lookups stay short however
 * much the keys churn), and an intrusive doubly-linked LRU list. When every slot is in use the
 * least recently touched key is evicted; `expire()` drops keys idle for longer than a TTL.
 *
 * Detectors keep their per-key values in their own typed arrays indexed by slot, so the bytes of
 * one entry are known exactly: `bytesPerEntry` here plus the detector's columns.
 */
import { hashWords } from './hash.ts';

/** Marker of an empty index cell / absent slot. */
const NONE = -1;

/**
 * An index cell holds `slot | tag << SLOT_BITS`: the slot plus the top bits of the key's hash, so
 * a probe compares the tag in the cell it already loaded and reads `hashes[]`/`keys[]` (two more
 * cache misses in a table larger than the cache) only when the tag matches — 1 in 64 otherwise.
 */
const SLOT_BITS = 25;
const SLOT_MASK = (1 << SLOT_BITS) - 1;
/** Tag of hash `h`: its top 6 bits in cell bits 25–30 (bit 31 stays clear: −1 marks empty). */
function tagOf(h: number): number {
  return (h >>> 26) << SLOT_BITS;
}

/** Bytes of the table's own bookkeeping per slot, besides the key words (see constructor). */
const OVERHEAD_PER_SLOT = 4 /* hash */ + 8 /* prev,next */ + 8 /* lastSeen */ + 8; /* 2 index cells */

/**
 * Event-time granularity of `touch()` (ms): the LRU order and the TTL are exact to within it.
 * Every detector's TTL is minutes, so a second is far inside its precision.
 */
export const TOUCH_GRANULARITY_MS = 1000;

/**
 * Largest capacity accepted: 2^25 slots (slot numbers fit the index cell beside the hash tag, and
 * the typed arrays stay below V8's size limits).
 */
export const MAX_TABLE_CAPACITY = 1 << SLOT_BITS;

/** Rounds down to a power of two, at least 16, at most `MAX_TABLE_CAPACITY`. */
export function capacityFor(maxEntries: number): number {
  let c = 16;
  while (c * 2 <= maxEntries && c * 2 <= MAX_TABLE_CAPACITY) c *= 2;
  return c;
}

/** A bounded LRU/TTL hash table of fixed-width integer keys. */
export class KeyedTable {
  readonly capacity: number;
  readonly keyWords: number;
  /** Keys, `keyWords` per slot. */
  readonly keys: Uint32Array;
  private readonly hashes: Uint32Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  /** Event time each slot was last touched (epoch ms). */
  readonly lastSeen: Float64Array;
  private readonly index: Int32Array;
  private readonly indexMask: number;
  private readonly free: Int32Array;
  private freeTop: number;
  private head = NONE;
  private tail = NONE;
  /** Keys in use. */
  size = 0;
  /** Keys evicted because the table was full. */
  evictions = 0;
  /** Keys dropped by `expire()`. */
  expired = 0;
  /** True when the last `acquire()` created the slot (the caller must reset its columns). */
  created = false;
  /** Called with a slot just before it is evicted or expired (to emit or count what it held). */
  onRemove: ((slot: number) => void) | undefined;

  constructor(capacity: number, keyWords: number) {
    this.capacity = capacityFor(capacity);
    this.keyWords = keyWords;
    const c = this.capacity;
    this.keys = new Uint32Array(c * keyWords);
    this.hashes = new Uint32Array(c);
    this.prev = new Int32Array(c);
    this.next = new Int32Array(c);
    this.lastSeen = new Float64Array(c);
    // Twice as many index cells as slots: load factor ≤ 0.5 keeps linear probing short.
    this.index = new Int32Array(c * 2).fill(NONE);
    this.indexMask = c * 2 - 1;
    this.free = new Int32Array(c);
    for (let i = 0; i < c; i++) this.free[i] = c - 1 - i;
    this.freeTop = c;
  }

  /** Bytes per slot of this table (keys + bookkeeping); detectors add their own columns. */
  get bytesPerEntry(): number {
    return this.keyWords * 4 + OVERHEAD_PER_SLOT;
  }

  /** Hash of a key held in `key[0..keyWords)`. */
  hash(key: Uint32Array): number {
    return hashWords(key, 0, this.keyWords);
  }

  private sameKey(slot: number, key: Uint32Array): boolean {
    const n = this.keyWords;
    const off = slot * n;
    const k = this.keys;
    for (let i = 0; i < n; i++) if (k[off + i] !== key[i]) return false;
    return true;
  }

  /** The slot holding `key`, or -1. Does not touch the LRU order. */
  find(key: Uint32Array, h: number = this.hash(key)): number {
    const m = this.indexMask;
    const tag = tagOf(h);
    const index = this.index;
    for (let i = h & m; ; i = (i + 1) & m) {
      const c = index[i]!;
      if (c === NONE) return NONE;
      if ((c & ~SLOT_MASK) !== tag) continue;
      const s = c & SLOT_MASK;
      if (this.hashes[s] === h >>> 0 && this.sameKey(s, key)) return s;
    }
  }

  /**
   * Prefetch helper for batch passes: loads the index cell of hash `h` and returns the slot it
   * names when its tag matches (a likely hit; the caller may load that slot's columns too), else
   * −1. Reading cells for a whole chunk of rows before processing it lets the CPU overlap the
   * cache misses of independent rows instead of paying them one after the other.
   */
  candidate(h: number): number {
    const c = this.index[h & this.indexMask]!;
    return c !== NONE && (c & ~SLOT_MASK) === tagOf(h) ? c & SLOT_MASK : NONE;
  }

  /**
   * Prefetch helper: loads a slot's bookkeeping, first key word and LRU links; returns a value to
   * discard.
   */
  touchLines(slot: number): number {
    return (
      this.hashes[slot]! ^
      this.keys[slot * this.keyWords]! ^
      this.lastSeen[slot]! ^
      this.prev[slot]! ^
      this.next[slot]!
    );
  }

  /**
   * Prefetch helper, after `touchLines` for the same slots: loads the links of the LRU
   * neighbours of `slots[0..len)` (entries < 0 are skipped), which a `touch()` that moves a slot
   * rewrites; returns a value to discard.
   */
  neighbourLines(slots: Int32Array, len: number): number {
    let sink = 0;
    for (let j = 0; j < len; j++) {
      const s = slots[j]!;
      if (s < 0) continue;
      const p = this.prev[s]!;
      const n = this.next[s]!;
      sink ^= (p !== NONE ? this.next[p]! : 0) ^ (n !== NONE ? this.prev[n]! : 0);
    }
    return sink;
  }

  /**
   * The slot of `key`, created when absent (evicting the least recently used key when full), and
   * marked most recently used at event time `now`. `created` tells whether it is new.
   */
  acquire(key: Uint32Array, now: number, h: number = this.hash(key)): number {
    const m = this.indexMask;
    const tag = tagOf(h);
    let i = h & m;
    for (; ; i = (i + 1) & m) {
      const c = this.index[i]!;
      if (c === NONE) break;
      if ((c & ~SLOT_MASK) !== tag) continue;
      const s = c & SLOT_MASK;
      if (this.hashes[s] === h >>> 0 && this.sameKey(s, key)) {
        this.created = false;
        this.touch(s, now);
        return s;
      }
    }
    if (this.freeTop === 0) {
      this.evictions++;
      this.remove(this.tail);
      // The removal may have shifted cells: find the insertion point again.
      i = h & m;
      while (this.index[i] !== NONE) i = (i + 1) & m;
    }
    const slot = this.free[--this.freeTop]!;
    this.index[i] = slot | tag;
    this.hashes[slot] = h;
    const n = this.keyWords;
    for (let k = 0, o = slot * n; k < n; k++) this.keys[o + k] = key[k]!;
    this.size++;
    this.lastSeen[slot] = now;
    this.linkHead(slot);
    this.created = true;
    return slot;
  }

  /**
   * Marks a slot most recently used at `now` (event time; it never moves backwards). A slot
   * touched again within `TOUCH_GRANULARITY_MS` of its recorded time keeps its place: relinking
   * costs four random memory accesses (its own and its neighbours' links), and a key seen many
   * times a second would pay them on every record. The LRU order and the TTL are therefore exact
   * to within that granularity (a key may expire up to `TOUCH_GRANULARITY_MS` early).
   */
  touch(slot: number, now: number): void {
    if (now - this.lastSeen[slot]! < TOUCH_GRANULARITY_MS) return;
    this.lastSeen[slot] = now;
    if (this.head === slot) return;
    this.unlink(slot);
    this.linkHead(slot);
  }

  /** Removes a slot (calls `onRemove` first). */
  remove(slot: number): void {
    this.onRemove?.(slot);
    const m = this.indexMask;
    const h = this.hashes[slot]!;
    const cell = slot | tagOf(h);
    let i = h & m;
    while (this.index[i] !== cell) i = (i + 1) & m;
    // Backward-shift deletion (Knuth 6.4 algorithm R): move later cells of the probe run up.
    let j = i;
    for (;;) {
      j = (j + 1) & m;
      const c = this.index[j]!;
      if (c === NONE) break;
      const home = this.hashes[c & SLOT_MASK]! & m;
      // Move the cell into the hole at i unless its home lies cyclically in (i, j].
      const inRange = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!inRange) {
        this.index[i] = c;
        i = j;
      }
    }
    this.index[i] = NONE;
    this.unlink(slot);
    this.free[this.freeTop++] = slot;
    this.size--;
  }

  /** Drops every key last touched before `before` (event time); returns how many. */
  expire(before: number): number {
    let n = 0;
    while (this.tail !== NONE && this.lastSeen[this.tail]! < before) {
      this.remove(this.tail);
      n++;
    }
    this.expired += n;
    return n;
  }

  /** Calls `fn` for every slot in use, most recent first. */
  forEach(fn: (slot: number) => void): void {
    for (let s = this.head; s !== NONE;) {
      const nx = this.next[s]!;
      fn(s);
      s = nx;
    }
  }

  private linkHead(slot: number): void {
    this.prev[slot] = NONE;
    this.next[slot] = this.head;
    if (this.head !== NONE) this.prev[this.head] = slot;
    this.head = slot;
    if (this.tail === NONE) this.tail = slot;
  }

  private unlink(slot: number): void {
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p !== NONE) this.next[p] = n;
    else this.head = n;
    if (n !== NONE) this.prev[n] = p;
    else this.tail = p;
  }
}
