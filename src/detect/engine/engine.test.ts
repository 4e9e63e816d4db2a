import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/clock.ts';
import type { Evidence } from '../../common/schema/evidence.ts';
import type { FlowRecord } from '../../common/schema/record.ts';
import { resolveDetectConfig } from '../config.ts';
import { createDetectionEngine } from '../registry.ts';
import { flowRecord } from '../testing.ts';
import type { DetectBatch } from './batch.ts';
import { DetectionEngine } from './engine.ts';
import { CountMinSketch, HllPool } from './sketch.ts';
import { KeyedTable, TOUCH_GRANULARITY_MS } from './table.ts';
import type { Detector, DetectorStats } from './types.ts';
import { WatermarkTracker } from './watermark.ts';
import { HashBits, SeenCache } from './slots.ts';
import { slidingWindowEnds, WindowTimer } from './windows.ts';

const T0 = Date.parse('2026-05-11T09:00:00.000Z');

function flow(t: number, exporter = 'a', src = '203.0.113.1', dport = 22, flags = 2): FlowRecord {
  return flowRecord(
    {
      sourceIPv4Address: src,
      destinationIPv4Address: '192.0.2.1',
      sourceTransportPort: 40000,
      destinationTransportPort: dport,
      protocolIdentifier: 6,
      tcpControlBits: flags,
      packetDeltaCount: 1,
      octetDeltaCount: 44,
      flowStartMilliseconds: t,
      flowEndMilliseconds: t,
    },
    exporter,
  );
}

/** A detector that records what the engine hands it. */
class Probe implements Detector {
  readonly name = 'scan' as const;
  readonly version = '0';
  readonly key = 'source' as const;
  times: number[] = [];
  watermarks: number[] = [];
  flushed = false;
  onRecord(b: DetectBatch, i: number): void {
    this.times.push(b.time[i]!);
  }
  onWatermark(t: number): void {
    this.watermarks.push(t);
  }
  flush(): void {
    this.flushed = true;
  }
  stats(): DetectorStats {
    return {
      records: 0,
      evidence: 0,
      keys: 0,
      bytesUsed: 0,
      bytesReserved: 0,
      budgetBytes: 0,
      evictions: 0,
      expired: 0,
    };
  }
}

function probeEngine(clock = new ManualClock(0), over = {}): { engine: DetectionEngine; probe: Probe } {
  const probe = new Probe();
  const cfg = resolveDetectConfig({ engine: { allowedLatenessMs: 1000, idleTimeoutMs: 5000, ...over } });
  return { engine: new DetectionEngine(cfg.engine, [probe], { clock }), probe };
}

describe('watermarks', () => {
  it('trail the slowest active partition by the allowed lateness', () => {
    const { engine } = probeEngine();
    engine.pushFlowRecord(flow(T0 + 10_000, 'a'));
    engine.pushFlowRecord(flow(T0 + 4000, 'b'));
    engine.advance();
    expect(engine.watermark).toBe(T0 + 3000);
  });

  it('leave an idle partition out after idleTimeoutMs of processing time', () => {
    const clock = new ManualClock(0);
    const { engine } = probeEngine(clock);
    engine.pushFlowRecord(flow(T0 + 4000, 'b'));
    engine.pushFlowRecord(flow(T0 + 10_000, 'a'));
    engine.advance();
    expect(engine.watermark).toBe(T0 + 3000);
    clock.advance(6000);
    engine.pushFlowRecord(flow(T0 + 20_000, 'a'));
    engine.advance();
    expect(engine.watermark).toBe(T0 + 19_000);
  });

  it('drop and count records older than the watermark', () => {
    const { engine, probe } = probeEngine();
    engine.pushFlowRecord(flow(T0 + 10_000));
    engine.advance();
    engine.pushFlowRecord(flow(T0 + 9500)); // within lateness
    engine.pushFlowRecord(flow(T0 + 8000)); // late
    engine.advance();
    expect(probe.times).toEqual([T0 + 10_000, T0 + 9500]);
    expect(engine.stats().late).toBe(1);
    expect(engine.stats().partitions[0]!.late).toBe(1);
  });

  it('never move backwards, and flush passes the newest event and flushes detectors', () => {
    const { engine, probe } = probeEngine();
    engine.pushFlowRecord(flow(T0 + 10_000));
    engine.advance();
    engine.pushFlowRecord(flow(T0 + 9000, 'late-exporter'));
    engine.advance();
    engine.flush();
    const w = probe.watermarks;
    for (let i = 1; i < w.length; i++) expect(w[i]!).toBeGreaterThan(w[i - 1]!);
    expect(w.at(-1)).toBe(T0 + 10_001);
    expect(probe.flushed).toBe(true);
  });

  it('tracker: all partitions idle → the most advanced one decides', () => {
    const clock = new ManualClock(0);
    const w = new WatermarkTracker(clock, 0, 100);
    w.observe(w.partition('a'), 50, 1);
    w.observe(w.partition('b'), 80, 1);
    expect(w.advance()).toBe(50);
    clock.advance(200);
    expect(w.advance()).toBe(80);
  });
});

describe('windows', () => {
  it('sliding windows containing a time', () => {
    const out = new Float64Array(8);
    const n = slidingWindowEnds(2500, { sizeMs: 3000, hopMs: 1000 }, out);
    expect([...out.subarray(0, n)]).toEqual([3000, 4000, 5000]);
    expect(slidingWindowEnds(2500, { sizeMs: 1000, hopMs: 1000 }, out)).toBe(1);
  });

  it('a timer closes each boundary once and skips long gaps', () => {
    const t = new WindowTimer(1000, 4);
    t.start(10_500);
    const closed: number[] = [];
    let k: number;
    while ((k = t.due(13_000)) >= 0) {
      closed.push(k);
      t.closed();
    }
    expect(closed).toEqual([10, 11, 12]); // [12000, 13000) is complete at watermark 13000
    while ((k = t.due(1_000_000)) >= 0) {
      closed.push(k);
      t.closed();
    }
    expect(closed.length).toBeLessThan(10);
  });
});

describe('deduplication across exporters', () => {
  it('counts a flow reported by two exporters once, but not repeats from one exporter', () => {
    const { engine, probe } = probeEngine();
    engine.pushFlowRecord(flow(T0, 'r1'));
    engine.pushFlowRecord(flow(T0 + 5, 'r2'));
    engine.pushFlowRecord(flow(T0, 'r1'));
    engine.pushFlowRecord(flow(T0 + 60_000, 'r2'));
    engine.advance();
    expect(probe.times).toEqual([T0, T0, T0 + 60_000]);
    expect(engine.stats().duplicates).toBe(1);
  });
});

describe('keyed table', () => {
  it('evicts the least recently used key when full and expires idle keys', () => {
    const t = new KeyedTable(16, 1);
    const k = new Uint32Array(1);
    for (let i = 0; i < 16; i++) {
      k[0] = i;
      t.acquire(k, i * 1000);
    }
    k[0] = 0;
    t.acquire(k, 100_000); // touch key 0
    k[0] = 99;
    t.acquire(k, 101_000); // evicts key 1, the oldest
    expect(t.evictions).toBe(1);
    k[0] = 1;
    expect(t.find(k)).toBe(-1);
    k[0] = 0;
    expect(t.find(k)).toBeGreaterThanOrEqual(0);
    expect(t.expire(50_000)).toBe(14);
    expect(t.size).toBe(2);
  });

  it('keeps the LRU order exact to within the touch granularity', () => {
    const t = new KeyedTable(16, 1);
    const k = new Uint32Array(1);
    for (let i = 0; i < 16; i++) {
      k[0] = i;
      t.acquire(k, 10_000);
    }
    k[0] = 15; // the most recent: touching it within the granularity changes nothing
    t.touch(t.find(k), 10_000 + TOUCH_GRANULARITY_MS - 1);
    k[0] = 0; // the oldest, touched a granularity later: it moves to the head
    t.touch(t.find(k), 10_000 + TOUCH_GRANULARITY_MS);
    k[0] = 99;
    t.acquire(k, 20_000); // evicts key 1 (key 0 was moved to the head)
    k[0] = 1;
    expect(t.find(k)).toBe(-1);
    k[0] = 0;
    expect(t.find(k)).toBeGreaterThanOrEqual(0);
    // Expiry sees the recorded times: key 15 still counts as seen at 10,000.
    expect(t.expire(10_001)).toBe(14);
  });

  it('stays consistent under random churn (find after backward-shift deletes)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.boolean()), { maxLength: 400 }),
        (ops) => {
          const t = new KeyedTable(32, 1);
          const k = new Uint32Array(1);
          const live = new Set<number>();
          let now = 0;
          for (const [key, del] of ops) {
            k[0] = key;
            const s = t.find(k);
            if (del && s >= 0) {
              t.remove(s);
              live.delete(key);
            } else if (!del) {
              t.acquire(k, ++now);
              live.add(key);
              if (live.size > 32) live.clear(); // evictions make the model inexact: only check sizes
            }
            expect(t.size).toBeLessThanOrEqual(t.capacity);
          }
          for (const key of live) {
            k[0] = key;
            if (t.size === live.size) expect(t.find(k)).toBeGreaterThanOrEqual(0);
          }
        },
      ),
    );
  });
});

describe('sketches', () => {
  it('count-min never undercounts and stays within e/width · N on skewed input', () => {
    const cms = new CountMinSketch(2048, 4);
    const truth = new Map<number, number>();
    let x = 12345;
    for (let i = 0; i < 100_000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const item = (x >>> 8) % 3 === 0 ? (x >>> 8) % 10 : x % 50_000;
      cms.add(item * 2654435761, 1);
      truth.set(item, (truth.get(item) ?? 0) + 1);
    }
    const bound = (Math.E / cms.width) * cms.total;
    let over = 0;
    for (const [item, n] of truth) {
      const e = cms.estimate(item * 2654435761);
      expect(e).toBeGreaterThanOrEqual(n);
      if (e - n > bound) over++;
    }
    // P(error > bound) ≤ e^−depth ≈ 1.8 %.
    expect(over / truth.size).toBeLessThan(0.02);
  });

  it('HyperLogLog counts distinct items within 3 standard errors', () => {
    for (const p of [6, 10]) {
      const pool = new HllPool(2, p);
      for (const n of [10, 1000, 100_000]) {
        pool.clear(0);
        for (let i = 0; i < n; i++) pool.add(0, Math.imul(i + 1, 0x9e3779b1));
        const se = 1.04 / Math.sqrt(2 ** p);
        expect(Math.abs(pool.count(0) - n) / n).toBeLessThan(3 * se + 0.02);
      }
    }
  });
});

describe('memory budget', () => {
  it('holds 1,000,000 distinct sources within each detector budget and reports the bytes', () => {
    const evidence: Evidence[] = [];
    const budget = 4 * 1024 * 1024;
    const cfg = resolveDetectConfig({
      scan: { stateBudgetBytes: budget },
      ddos: { stateBudgetBytes: budget },
      bruteForce: { stateBudgetBytes: budget },
    });
    const engine = createDetectionEngine(cfg, { clock: new ManualClock(0), emit: (e) => evidence.push(e) });
    const b = engine.newBatch(4096);
    const p = engine.partition('r1');
    let n = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const r = b.length++;
      b.ipVersion[r] = 4;
      b.src[r * 4] = 0x0a000000 + i; // a new source every record
      b.dst[r * 4] = 0xc0000200 + (i & 255);
      b.srcPort[r] = 40000;
      b.dstPort[r] = i % 3 === 0 ? 22 : 443;
      b.proto[r] = 6;
      b.tcpFlags[r] = i % 2 === 0 ? 2 : 27;
      b.packets[r] = i % 2 === 0 ? 1 : 10;
      b.octets[r] = i % 2 === 0 ? 44 : 3000;
      b.start[r] = b.end[r] = b.time[r] = T0 + i;
      b.partition[r] = p;
      b.skip[r] = 0;
      b.ids[r] = undefined;
      if (b.full) {
        engine.processBatch(b);
        n += b.length;
        b.clear();
      }
    }
    engine.processBatch(b);
    n += b.length;
    engine.flush();
    const s = engine.stats();
    expect(n).toBe(1_000_000);
    for (const d of Object.values(s.detectors)) {
      expect(d.bytesReserved).toBeLessThanOrEqual(d.budgetBytes);
      expect(d.bytesUsed).toBeLessThanOrEqual(d.bytesReserved);
    }
    // The detectors this input feeds hold state (long-connection, for one, sees no long record).
    for (const name of ['scan', 'ddos', 'brute-force'])
      expect(s.detectors[name]!.bytesUsed).toBeGreaterThan(0);
    expect(s.detectors.scan!.evictions + s.detectors.scan!.expired).toBeGreaterThan(0);
    expect(evidence).toEqual([]); // one SYN per source is no scan
  }, 60_000);
});

describe('random input', () => {
  it('never throws and keeps state bounded', () => {
    const str = fc.oneof(fc.ipV4(), fc.ipV6(), fc.string(), fc.constant(''));
    const fields = fc.record(
      {
        sourceIPv4Address: str,
        destinationIPv4Address: str,
        sourceIPv6Address: str,
        destinationIPv6Address: str,
        sourceTransportPort: fc.oneof(fc.integer({ min: -5, max: 70_000 }), fc.double()),
        destinationTransportPort: fc.integer({ min: 0, max: 65535 }),
        protocolIdentifier: fc.constantFrom(1, 6, 17, 58, 0, 255, 300),
        tcpControlBits: fc.integer({ min: 0, max: 0xffff }),
        packetDeltaCount: fc.oneof(fc.double(), fc.integer()),
        octetDeltaCount: fc.oneof(fc.double(), fc.integer(), fc.string()),
        flowStartMilliseconds: fc.oneof(fc.integer({ min: T0 - 10_000, max: T0 + 100_000 }), fc.double()),
        flowEndMilliseconds: fc.oneof(fc.integer({ min: T0 - 10_000, max: T0 + 100_000 }), fc.double()),
        icmpTypeCodeIPv4: fc.integer({ min: 0, max: 0xffff }),
        minimumTTL: fc.integer({ min: 0, max: 300 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fields, fc.integer({ min: 0, max: 1e6 })), { maxLength: 200 }),
        (rows) => {
          const cfg = resolveDetectConfig({
            engine: { batchSize: 64 },
            scan: { stateBudgetBytes: 256 * 1024, minFailedContacts: 1 },
            ddos: { stateBudgetBytes: 256 * 1024, admitPacketsPerSecond: 0 },
            bruteForce: { stateBudgetBytes: 256 * 1024, minAttempts: 2 },
          });
          const engine = createDetectionEngine(cfg, { clock: new ManualClock(0), emit: () => {} });
          for (const [f, s] of rows) engine.pushFlowRecord(flowRecord(f, `e${s % 3}`, s));
          engine.flush();
          for (const d of Object.values(engine.stats().detectors))
            expect(d.bytesUsed).toBeLessThanOrEqual(d.budgetBytes);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('hashed filters and caches', () => {
  it('HashBits holds every hash set and, with few bits set, few others', () => {
    const bits = new HashBits(1 << 16);
    expect(bits.bytes).toBe((1 << 16) / 8);
    for (let h = 0; h < 1000; h++) bits.set(Math.imul(h, 0x9e3779b1));
    for (let h = 0; h < 1000; h++) expect(bits.has(Math.imul(h, 0x9e3779b1))).toBe(true);
    let false_ = 0;
    for (let h = 1000; h < 11_000; h++) if (bits.has(Math.imul(h, 0x9e3779b1))) false_++;
    expect(false_).toBeLessThan(400); // ≈ 1000 / 65536 of 10,000
  });

  it('SeenCache forgets the oldest entry of a full set first (FIFO within the set)', () => {
    const c = new SeenCache(64);
    // Five entries in set 0 (h1 & mask = 0): the first one is pushed out by the fifth.
    const h1 = (k: number): number => k << 16;
    for (let k = 1; k <= 5; k++) expect(c.seen(h1(k), k)).toBe(false);
    for (let k = 2; k <= 5; k++) expect(c.seen(h1(k), k)).toBe(true);
    expect(c.seen(h1(1), 1)).toBe(false);
  });
});
