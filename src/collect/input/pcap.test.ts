import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaptureFormatError } from './errors.ts';
import { MAX_PCAPNG_BLOCK_BYTES, MAX_PCAP_RECORD_BYTES } from './limits.ts';
import { createCaptureReader, type CaptureOutput } from './pcap.ts';
import { block, concat, epb, idb, pb, pcapFile, shb, spb } from './testdata/build.ts';

function readAll(
  bytes: Uint8Array,
  chunk = bytes.length || 1,
): CaptureOutput & { error?: CaptureFormatError } {
  const r = createCaptureReader();
  const out: CaptureOutput = { packets: [], events: [] };
  for (let i = 0; i < bytes.length; i += chunk) {
    const o = r.push(bytes.subarray(i, i + chunk));
    out.packets.push(...o.packets);
    out.events.push(...o.events);
  }
  const e = r.end();
  out.packets.push(...e.packets);
  out.events.push(...e.events);
  return { ...out, error: r.error };
}

const p1 = Uint8Array.of(1, 2, 3, 4, 5);
const p2 = Uint8Array.of(9, 8, 7);

describe('classic pcap reader', () => {
  it('reads little-endian microsecond captures', () => {
    const f = pcapFile(1, [
      { sec: 1_700_000_000, frac: 250_000, data: p1 },
      { sec: 1_700_000_001, frac: 1, data: p2, orig: 60 },
    ]);
    const r = readAll(f);
    expect(r.error).toBeUndefined();
    expect(r.packets).toHaveLength(2);
    expect(r.packets[0]).toMatchObject({
      timestampMs: 1_700_000_000_250,
      linkType: 1,
      interfaceId: 0,
      originalLength: 5,
    });
    expect([...r.packets[0]!.data]).toEqual([...p1]);
    expect(r.packets[1]!.timestampMs).toBeCloseTo(1_700_000_001_000.001, 3);
    expect(r.packets[1]!.originalLength).toBe(60);
  });

  it('reads big-endian nanosecond captures', () => {
    const f = pcapFile(101, [{ sec: 10, frac: 123_456_789, data: p1 }], false, true);
    const r = readAll(f);
    expect(r.packets[0]!.timestampMs).toBeCloseTo(10_123.456789, 6);
    expect(r.packets[0]!.linkType).toBe(101);
  });

  it('reads the old Kuznetzov variant with 24-byte record headers', () => {
    const f = pcapFile(1, []);
    f.set([0x34, 0xcd, 0xb2, 0xa1], 0);
    const rec = new Uint8Array(24 + 5);
    const dv = new DataView(rec.buffer);
    dv.setUint32(0, 7, true);
    dv.setUint32(8, 5, true);
    dv.setUint32(12, 5, true);
    rec.set(p1, 24);
    const r = readAll(concat(f, rec));
    expect(r.packets.map((p) => [p.timestampMs, [...p.data]])).toEqual([[7000, [...p1]]]);
  });

  it('masks the FCS bits out of the link-type field', () => {
    const f = pcapFile(0x14000001, [{ sec: 0, frac: 0, data: p1 }]);
    expect(readAll(f).packets[0]!.linkType).toBe(1);
  });

  it('gives the same packets whatever the chunking', () => {
    const f = pcapFile(1, [
      { sec: 1, frac: 0, data: p1 },
      { sec: 2, frac: 0, data: p2 },
    ]);
    const whole = readAll(f).packets.map((p) => [...p.data]);
    for (const chunk of [1, 3, 7, 17])
      expect(readAll(f, chunk).packets.map((p) => [...p.data])).toEqual(whole);
  });

  it('reports a truncated final packet', () => {
    const f = pcapFile(1, [
      { sec: 1, frac: 0, data: p1 },
      { sec: 2, frac: 0, data: p2 },
    ]);
    const r = readAll(f.subarray(0, f.length - 1));
    expect(r.packets).toHaveLength(1);
    expect(r.events).toEqual([{ kind: 'truncated-file', offset: 24 + 16 + 5, bytes: 16 + 2 }]);
  });

  it('refuses unknown magic with a CaptureFormatError', () => {
    const r = readAll(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    expect(r.error).toBeInstanceOf(CaptureFormatError);
    expect(r.error?.code).toBe('ERR_CAPTURE_FORMAT');
  });

  it('stops at a record length beyond the limit', () => {
    const f = pcapFile(1, [{ sec: 1, frac: 0, data: p1 }]);
    new DataView(f.buffer).setUint32(24 + 8, MAX_PCAP_RECORD_BYTES + 1, true);
    const r = readAll(f);
    expect(r.error).toBeInstanceOf(CaptureFormatError);
    expect(r.packets).toHaveLength(0);
  });
});

describe('pcapng reader', () => {
  it('reads sections of both byte orders with per-interface link type and resolution', () => {
    const le = concat(
      shb(true),
      idb(1, true), // default microseconds
      idb(276, true, 9), // nanoseconds
      epb(0, 1_700_000_000_000_000n, p1, true),
      epb(1, 1_700_000_000_123_456_789n, p2, true, 100),
      block(5, new Uint8Array(20), true), // interface statistics: skipped
    );
    const be = concat(
      shb(false),
      idb(101, false, 0x80 | 10), // 2^-10 s
      epb(0, 1024n * 5n, p1, false),
      spb(p2, false),
      pb(0, 2048n, p1, false),
    );
    const r = readAll(concat(le, be));
    expect(r.error).toBeUndefined();
    expect(r.packets.map((p) => [p.linkType, p.interfaceId, p.originalLength])).toEqual([
      [1, 0, 5],
      [276, 1, 100],
      [101, 0, 5],
      [101, 0, 3],
      [101, 0, 5],
    ]);
    const ts = r.packets.map((p) => p.timestampMs);
    expect(ts[0]).toBe(1_700_000_000_000);
    expect(ts[1]! - 1_700_000_000_123).toBeCloseTo(0.456789, 2);
    expect(ts[2]).toBe(5000);
    expect(ts[3]).toBe(5000); // SPB: no timestamp of its own
    expect(ts[4]).toBe(2000);
    expect(r.events).toEqual([{ kind: 'block-skipped', offset: expect.any(Number) as number, blockType: 5 }]);
  });

  it('keeps millisecond precision of nanosecond timestamps beyond 2^53 units', () => {
    const f = concat(shb(true), idb(1, true, 9), epb(0, 1_700_000_000_002_000_000n, p1, true));
    expect(readAll(f).packets[0]!.timestampMs).toBe(1_700_000_000_002);
  });

  it('applies if_tsoffset', () => {
    const f = concat(shb(true), idb(1, true, 3, 0, 1000), epb(0, 1500n, p1, true));
    expect(readAll(f).packets[0]!.timestampMs).toBe(1_000_000 + 1500);
  });

  it('cuts SPB data to the interface snapshot length', () => {
    const f = concat(shb(true), idb(1, true, undefined, 2), spb(p1, true));
    const p = readAll(f).packets[0]!;
    expect([...p.data]).toEqual([1, 2]);
    expect(p.originalLength).toBe(5);
  });

  it('reports packets of undeclared interfaces and skips sections of unknown versions', () => {
    const f = concat(
      shb(true),
      idb(1, true),
      epb(3, 0n, p1, true),
      shb(true, 2),
      idb(1, true),
      epb(0, 0n, p1, true),
    );
    const r = readAll(f);
    expect(r.packets).toHaveLength(0);
    expect(r.events.map((e) => e.kind)).toEqual(['unknown-interface', 'section-skipped']);
  });

  it('stops on a block whose trailing length disagrees', () => {
    const f = concat(shb(true), idb(1, true), epb(0, 0n, p1, true));
    f[f.length - 4] = (f[f.length - 4] ?? 0) ^ 0x04;
    const r = readAll(f);
    expect(r.error).toBeInstanceOf(CaptureFormatError);
  });

  it('stops on a block length beyond the limit', () => {
    const f = concat(shb(true), idb(1, true));
    new DataView(f.buffer).setUint32(28 + 4, MAX_PCAPNG_BLOCK_BYTES + 4, true);
    expect(readAll(f).error).toBeInstanceOf(CaptureFormatError);
  });

  it('reports a truncated final block', () => {
    const f = concat(shb(true), idb(1, true), epb(0, 0n, p1, true));
    const r = readAll(f.subarray(0, f.length - 3), 5);
    expect(r.packets).toHaveLength(0);
    expect(r.events.at(-1)?.kind).toBe('truncated-file');
  });
});

describe('capture reader properties', () => {
  const valid = [
    pcapFile(1, [
      { sec: 1, frac: 0, data: p1 },
      { sec: 2, frac: 0, data: p2 },
    ]),
    concat(shb(true), idb(1, true, 9), epb(0, 5n, p1, true), spb(p2, true), pb(0, 1n, p1, true)),
    concat(shb(false), idb(113, false), epb(0, 5n, p1, false)),
  ];

  function check(bytes: Uint8Array, chunk: number): void {
    const r = readAll(bytes, chunk);
    if (r.error) expect(r.error).toBeInstanceOf(CaptureFormatError);
    let total = 0;
    for (const p of r.packets) {
      expect(p.data.length).toBeLessThanOrEqual(MAX_PCAPNG_BLOCK_BYTES);
      total += p.data.length;
    }
    expect(total).toBeLessThanOrEqual(bytes.length);
  }

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 1, max: 64 }), (b, chunk) =>
        check(b, chunk),
      ),
      { numRuns: 400 },
    );
  });

  it('never throws on mutated captures, and chunking does not change the result', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...valid),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.integer({ min: 1, max: 40 }),
        (base, muts, chunk) => {
          const b = base.slice();
          for (const [i, v] of muts) b[i % b.length] = v;
          check(b, chunk);
          const whole = readAll(b);
          const split = readAll(b, chunk);
          expect(split.packets.map((p) => [...p.data])).toEqual(whole.packets.map((p) => [...p.data]));
          expect(split.error?.code).toEqual(whole.error?.code);
        },
      ),
      { numRuns: 400 },
    );
  });
});
