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
import { fold32, mix32 } from './hash.ts';

const WAYS = 4;

/** Bounded duplicate-flow filter. */
export class FlowDeduper {
  private readonly sets: number;
  private readonly mask: number;
  /**
   * Per way, interleaved so one set is one 128-byte run: fingerprint 1, fingerprint 2, partition
   * (as float64, exact for the small integers they are) and start time.
   */
  private readonly ways: Float64Array;
  /** Duplicates found. */
  duplicates = 0;

  constructor(
    entries: number,
    readonly windowMs: number,
  ) {
    let s = 16;
    while (s * WAYS < entries) s *= 2;
    this.sets = s;
    this.mask = s - 1;
    this.ways = new Float64Array(s * WAYS * 4);
    for (let i = 0; i < this.ways.length; i += 4) {
      this.ways[i + 2] = -1;
      this.ways[i + 3] = -Infinity;
    }
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
    let h = 0x2545f491;
    let g = 0x9e3779b9;
    for (let k = 0; k < 4; k++) {
      h = fold32(h, src[off + k]!);
      g = fold32(g, dst[off + k]!);
    }
    const ports = ((sport << 16) | dport) >>> 0;
    h = mix32(fold32(fold32(h, g), ports) ^ proto);
    const h2 = mix32(fold32(g, ports) ^ (proto << 8));
    const w = this.ways;
    const base = (h & this.mask) * WAYS * 4;
    let oldest = base;
    for (let i = base; i < base + WAYS * 4; i += 4) {
      if (w[i] === h && w[i + 1] === h2) {
        const dt = Math.abs(w[i + 3]! - start);
        if (dt <= this.windowMs) {
          if (w[i + 2] !== partition) {
            this.duplicates++;
            return true;
          }
          return false;
        }
        oldest = i;
        break;
      }
      if (w[i + 3]! < w[oldest + 3]!) oldest = i;
    }
    w[oldest] = h;
    w[oldest + 1] = h2;
    w[oldest + 2] = partition;
    w[oldest + 3] = start;
    return false;
  }
}
