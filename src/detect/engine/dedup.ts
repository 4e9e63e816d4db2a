/**
 * Cross-exporter deduplication: a flow that crosses two routers of the same network is exported by
 * both. Two records are the same flow when their 5-tuple is equal, their start times differ by at
 * most `windowMs`, and they come from different partitions (exporters). The same exporter
 * repeating a 5-tuple is *not* a duplicate: that is a long flow's next active-timeout record or a
 * new flow that reused the ports.
 *
 * State is a set-associative cache (4 ways per set, oldest way replaced), so memory is fixed
 * (`bytes`) whatever the input; a duplicate whose twin was pushed out is counted twice, which
 * only happens when more than `sets × 4` distinct flows start within `windowMs`.
 */
import { mix32 } from './hash.ts';

const WAYS = 4;

/** Bounded duplicate-flow filter. */
export class FlowDeduper {
  private readonly sets: number;
  private readonly mask: number;
  /**
   * Per way four words, interleaved so one set is one 64-byte run (one cache line: the cache is
   * far larger than the CPU's, so every lookup is a miss and its count is what costs): fingerprint
   * 1, fingerprint 2, partition + 1 (0 = empty way), and the start time in whole ms modulo 2^32.
   * Start times are compared by their wrapped 32-bit difference, exact for flows less than 24 days
   * apart; an entry that old was replaced long before (the cache turns over in seconds).
   */
  private readonly ways: Uint32Array;
  /** Duplicates found. */
  duplicates = 0;
  /** Per-row fingerprints of the batch being checked (`prepare`), grown on demand. */
  private fp1 = new Uint32Array(0);
  private fp2 = new Uint32Array(0);
  /** Sum of the words `prepare` touched (kept so the loads are not optimised away). */
  private touched = 0;

  constructor(
    entries: number,
    readonly windowMs: number,
  ) {
    let s = 16;
    while (s * WAYS < entries) s *= 2;
    this.sets = s;
    this.mask = s - 1;
    this.ways = new Uint32Array(s * WAYS * 4);
  }

  /** Bytes held. */
  get bytes(): number {
    return this.ways.byteLength;
  }

  /**
   * True when the flow was already reported by another partition within the window; otherwise
   * remembers it. `src`/`dst` are `FlowBatch`-layout address words at `off`.
   */
  isDuplicate(
    src: Uint32Array,
    dst: Uint32Array,
    off: number,
    sport: number,
    dport: number,
    proto: number,
    start: number,
    partition: number,
  ): boolean {
    this.fingerprint(src, dst, off, sport, dport, proto, 0);
    return this.checkRow(0, start, partition);
  }

  /**
   * Batch form, step 1: fingerprints rows `[0, n)` of a columnar batch and loads the first word of
   * each row's set. The loads are independent, so the CPU overlaps their cache misses instead of
   * taking them one at a time inside `checkRow`'s dependent logic; `checkRow(i, …)` then finds
   * its set in cache (a batch's sets, 64 bytes per row, fit the L2 cache).
   */
  prepare(
    src: Uint32Array,
    dst: Uint32Array,
    srcPort: Uint16Array,
    dstPort: Uint16Array,
    proto: Uint8Array,
    n: number,
  ): void {
    if (this.fp1.length < n) {
      this.fp1 = new Uint32Array(Math.max(n, 16));
      this.fp2 = new Uint32Array(Math.max(n, 16));
    }
    for (let i = 0; i < n; i++) this.fingerprint(src, dst, i * 4, srcPort[i]!, dstPort[i]!, proto[i]!, i);
    const w = this.ways;
    const fp = this.fp1;
    const mask = this.mask;
    let sum = 0;
    // Both ends of the set: a typed array's data need not start on a cache line, so a 64-byte
    // set may straddle two.
    const last = WAYS * 4 - 1;
    for (let i = 0; i < n; i++) {
      const base = (fp[i]! & mask) * WAYS * 4;
      sum = (sum + w[base]! + w[base + last]!) | 0;
    }
    this.touched = sum;
  }

  private fingerprint(
    src: Uint32Array,
    dst: Uint32Array,
    off: number,
    sport: number,
    dport: number,
    proto: number,
    row: number,
  ): void {
    if (this.fp1.length === 0) {
      this.fp1 = new Uint32Array(16);
      this.fp2 = new Uint32Array(16);
    }
    // One multiply-xorshift step per address word (a bijection of the running value for a fixed
    // word, so IPv4 addresses never collide), then two independently mixed fingerprints.
    let h = 0x2545f491;
    let g = 0x9e3779b9;
    for (let k = 0; k < 4; k++) {
      h = Math.imul(h ^ src[off + k]!, 0x9e3779b1);
      h ^= h >>> 15;
      g = Math.imul(g ^ dst[off + k]!, 0x85ebca6b);
      g ^= g >>> 13;
    }
    const ports = ((sport << 16) | dport) >>> 0;
    this.fp1[row] = mix32((h + Math.imul(g, 0x27d4eb2f) + ports) ^ proto);
    this.fp2[row] = mix32(
      Math.imul(h ^ 0x5bd1e995, 0xcc9e2d51) ^ g ^ Math.imul(ports ^ (proto << 24), 0x1b873593),
    );
  }

  /**
   * Batch form, step 2: true when row `i` (fingerprinted by `prepare`) was already reported by
   * another partition within the window; otherwise remembers it.
   */
  checkRow(i: number, start: number, partition: number): boolean {
    const h = this.fp1[i]!;
    const h2 = this.fp2[i]!;
    const w = this.ways;
    const base = (h & this.mask) * WAYS * 4;
    const ms = Math.floor(start) >>> 0;
    const p1 = partition + 1;
    // Replacement: an empty way, else the one that started longest before this flow.
    let oldest = base;
    let oldestAge = -1;
    for (let i = base; i < base + WAYS * 4; i += 4) {
      if (w[i + 2] === 0) {
        if (oldestAge !== Infinity) {
          oldest = i;
          oldestAge = Infinity;
        }
        continue;
      }
      const dt = (ms - w[i + 3]!) | 0;
      if (w[i] === h && w[i + 1] === h2) {
        if (Math.abs(dt) <= this.windowMs) {
          if (w[i + 2] !== p1) {
            this.duplicates++;
            return true;
          }
          return false;
        }
        oldest = i;
        break;
      }
      if (dt > oldestAge) {
        oldest = i;
        oldestAge = dt;
      }
    }
    w[oldest] = h;
    w[oldest + 1] = h2;
    w[oldest + 2] = p1;
    w[oldest + 3] = ms;
    return false;
  }
}
