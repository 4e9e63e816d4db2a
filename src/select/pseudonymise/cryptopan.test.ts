import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CryptoPan } from './cryptopan.ts';
import { PseudonymKeyError } from './errors.ts';
import { AddressError } from '../../common/prefixes/index.ts';

/** The sample key of the original Crypto-PAn source distribution. */
const SAMPLE_KEY = Uint8Array.from([
  21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16, 216, 152, 143, 131, 121, 121, 101, 39,
  98, 87, 76, 45, 42, 132, 34, 2,
]);

/**
 * Input -> output pairs of the reference distribution's `sample_trace_raw.dat` /
 * `sample_trace_sanitized.dat` with the sample key (as extracted by the Go, Rust, Python and
 * Node ports of Crypto-PAn into their tests).
 */
const V4_VECTORS: Array<[string, string]> = [
  ['128.11.68.132', '135.242.180.132'],
  ['129.118.74.4', '134.136.186.123'],
  ['130.132.252.244', '133.68.164.234'],
  ['141.223.7.43', '141.167.8.160'],
  ['141.233.145.108', '141.129.237.235'],
  ['152.163.225.39', '151.140.114.167'],
  ['156.29.3.236', '147.225.12.42'],
  ['165.247.96.84', '162.9.99.234'],
  ['166.107.77.190', '160.132.178.185'],
  ['192.102.249.13', '252.138.62.131'],
  ['192.215.32.125', '252.43.47.189'],
  ['192.233.80.103', '252.25.108.8'],
  ['192.41.57.43', '252.222.221.184'],
  ['193.150.244.223', '253.169.52.216'],
  ['195.205.63.100', '255.186.223.5'],
  ['198.200.171.101', '249.199.68.213'],
  ['198.26.132.101', '249.36.123.202'],
  ['198.36.213.5', '249.7.21.132'],
  ['198.51.77.238', '249.18.186.254'],
  ['199.217.79.101', '248.38.184.213'],
  ['202.49.198.20', '245.206.7.234'],
  ['203.12.160.252', '244.248.163.4'],
  ['204.184.162.189', '243.192.77.90'],
  ['204.202.136.230', '243.178.4.198'],
  ['204.29.20.4', '243.33.20.123'],
  ['205.178.38.67', '242.108.198.51'],
  ['205.188.147.153', '242.96.16.101'],
  ['205.188.248.25', '242.96.88.27'],
  ['205.245.121.43', '242.21.121.163'],
  ['207.105.49.5', '241.118.205.138'],
  ['207.135.65.238', '241.202.129.222'],
  ['207.155.9.214', '241.220.250.22'],
  ['207.188.7.45', '241.255.249.220'],
  ['207.25.71.27', '241.33.119.156'],
  ['207.33.151.131', '241.1.233.131'],
  ['208.147.89.59', '227.237.98.191'],
  ['208.234.120.210', '227.154.67.17'],
  ['208.28.185.184', '227.39.94.90'],
  ['208.52.56.122', '227.8.63.165'],
  ['209.12.231.7', '226.243.167.8'],
  ['209.238.72.3', '226.6.119.243'],
  ['209.246.74.109', '226.22.124.76'],
  ['209.68.60.238', '226.184.220.233'],
  ['209.85.249.6', '226.170.70.6'],
  ['212.120.124.31', '228.135.163.231'],
  ['212.146.8.236', '228.19.4.234'],
  ['212.186.227.154', '228.59.98.98'],
  ['212.204.172.118', '228.71.195.169'],
  ['212.206.130.201', '228.69.242.193'],
  ['216.148.237.145', '235.84.194.111'],
  ['216.157.30.252', '235.89.31.26'],
  ['216.184.159.48', '235.96.225.78'],
  ['216.227.10.221', '235.28.253.36'],
  ['216.254.18.172', '235.7.16.162'],
  ['216.32.132.250', '235.192.139.38'],
  ['216.35.217.178', '235.195.157.81'],
  ['24.0.250.221', '100.15.198.226'],
  ['24.13.62.231', '100.2.192.247'],
  ['24.14.213.138', '100.1.42.141'],
  ['24.5.0.80', '100.9.15.210'],
  ['24.7.198.88', '100.10.6.25'],
  ['24.94.26.44', '100.88.228.35'],
  ['38.15.67.68', '64.3.66.187'],
  ['4.3.88.225', '124.60.155.63'],
  ['63.14.55.111', '95.9.215.7'],
  ['63.195.241.44', '95.179.238.44'],
  ['63.97.7.140', '95.97.9.123'],
  ['64.14.118.196', '0.255.183.58'],
  ['64.34.154.117', '0.221.154.117'],
  ['64.39.15.238', '0.219.7.41'],
  ['10.185.25.118', '117.161.29.118'],
];

/**
 * IPv6 with the sample key, as published in the tests of Yawning Angel's Go implementation
 * (github.com/Yawning/cryptopan) and repeated by node-cryptopan and yacryptopan.
 */
const V6_VECTORS: Array<[string, string]> = [
  ['::1', '78ff:f001:9fc0:20df:8380:b1f1:704:ed'],
  ['::2', '78ff:f001:9fc0:20df:8380:b1f1:704:ef'],
  ['::ffff', '78ff:f001:9fc0:20df:8380:b1f1:704:f838'],
  ['2001:db8::1', '4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e'],
  ['2001:db8::2', '4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1c'],
];

function commonPrefix(a: Uint32Array, b: Uint32Array, bits: number): number {
  for (let p = 0; p < bits; p++) {
    const w = p >>> 5;
    const s = 31 - (p & 31);
    if (((a[w]! >>> s) & 1) !== ((b[w]! >>> s) & 1)) return p;
  }
  return bits;
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const v6 = fc.tuple(u32, u32, u32, u32).map((t) => Uint32Array.from(t));

describe('Crypto-PAn', () => {
  const cp = new CryptoPan(SAMPLE_KEY);

  it('reproduces the reference distribution sample trace (IPv4, sample key)', () => {
    for (const [input, expected] of V4_VECTORS) expect(cp.pseudonymiseAddress(input), input).toBe(expected);
  });

  it('reproduces the published IPv6 vectors of the common implementations', () => {
    for (const [input, expected] of V6_VECTORS) expect(cp.pseudonymiseAddress(input), input).toBe(expected);
  });

  it('gives the same results with and without the cache, and from the batch APIs', () => {
    const nocache = new CryptoPan(SAMPLE_KEY, { cacheEntries: 0 });
    const tiny = new CryptoPan(SAMPLE_KEY, { cacheEntries: 4 });
    for (const [input, expected] of [...V4_VECTORS, ...V6_VECTORS]) {
      expect(nocache.pseudonymiseAddress(input)).toBe(expected);
      expect(tiny.pseudonymiseAddress(input)).toBe(expected);
      expect(tiny.pseudonymiseAddress(input)).toBe(expected);
    }
    fc.assert(
      fc.property(fc.array(u32, { maxLength: 300 }), fc.array(v6, { maxLength: 70 }), (a4, a6) => {
        const src = Uint32Array.from([...a4, ...a4.slice(0, 5)]); // duplicates inside a chunk
        const out = new Uint32Array(src.length);
        tiny.pseudonymise4Many(src, out);
        for (let i = 0; i < src.length; i++) expect(out[i]).toBe(nocache.pseudonymise4(src[i]!));
        const s6 = new Uint32Array(a6.length * 4);
        a6.forEach((w, i) => s6.set(w, i * 4));
        const expected = new Uint32Array(s6.length);
        for (let i = 0; i < a6.length; i++) nocache.pseudonymise6(s6, expected, i * 4, i * 4);
        tiny.pseudonymise6Many(s6, s6); // in place
        expect(s6).toEqual(expected);
      }),
      { numRuns: 30 },
    );
    expect(tiny.stats().hits4).toBeGreaterThan(0);
  });

  it('answers the empty-way markers (0.0.0.0 and ::) correctly, uncached, and keeps full sets right', () => {
    const nocache = new CryptoPan(SAMPLE_KEY, { cacheEntries: 0 });
    const small = new CryptoPan(SAMPLE_KEY, { cacheEntries: 8 });
    for (let k = 0; k < 3; k++) {
      expect(small.pseudonymise4(0)).toBe(nocache.pseudonymise4(0));
      expect(small.pseudonymiseAddress('::')).toBe(nocache.pseudonymiseAddress('::'));
    }
    // Many more addresses than ways, repeated: replacement must never return another's pseudonym.
    const src = Uint32Array.from({ length: 200 }, (_, i) => (i * 0x01010101 + 7) >>> 0);
    for (let round = 0; round < 3; round++) {
      const out = new Uint32Array(src.length);
      small.pseudonymise4Many(src, out);
      for (let i = 0; i < src.length; i++) {
        expect(out[i]).toBe(nocache.pseudonymise4(src[i]!));
        expect(small.pseudonymise4(src[i]!)).toBe(out[i]);
      }
    }
  });

  it('preserves prefixes: common prefix length of outputs equals that of inputs (IPv4 and IPv6)', () => {
    fc.assert(
      fc.property(u32, u32, fc.integer({ min: 0, max: 32 }), (a, b, keep) => {
        // Force a shared prefix of `keep` bits so that long common prefixes are exercised.
        const hi = keep === 0 ? 0 : (0xffffffff << (32 - keep)) >>> 0;
        const b2 = ((a & hi) | (b & ~hi)) >>> 0;
        const x = Uint32Array.of(a, 0, 0, 0);
        const y = Uint32Array.of(b2, 0, 0, 0);
        const px = Uint32Array.of(cp.pseudonymise4(a), 0, 0, 0);
        const py = Uint32Array.of(cp.pseudonymise4(b2), 0, 0, 0);
        expect(commonPrefix(px, py, 32)).toBe(commonPrefix(x, y, 32));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(v6, v6, fc.integer({ min: 0, max: 128 }), (a, b, keep) => {
        const b2 = Uint32Array.from(b);
        for (let p = 0; p < keep; p++) {
          const w = p >>> 5;
          const m = 1 << (31 - (p & 31));
          b2[w] = ((b2[w]! & ~m) | (a[w]! & m)) >>> 0;
        }
        const pa = new Uint32Array(4);
        const pb = new Uint32Array(4);
        cp.pseudonymise6(a, pa);
        cp.pseudonymise6(b2, pb);
        expect(commonPrefix(pa, pb, 128)).toBe(commonPrefix(a, b2, 128));
      }),
      { numRuns: 200 },
    );
  });

  it('is a bijection: the inverse recovers every input (IPv4 and IPv6)', () => {
    fc.assert(
      fc.property(u32, (a) => {
        expect(cp.depseudonymise4(cp.pseudonymise4(a))).toBe(a >>> 0);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(v6, (a) => {
        const p = new Uint32Array(4);
        const back = new Uint32Array(4);
        cp.pseudonymise6(a, p);
        cp.depseudonymise6(p, back);
        expect(back).toEqual(a);
      }),
      { numRuns: 60 },
    );
    for (const [input, expected] of [...V4_VECTORS, ...V6_VECTORS])
      expect(cp.depseudonymiseAddress(expected)).toBe(input);
  });

  it('maps distinct addresses to distinct pseudonyms on a random sample', () => {
    const seen = new Map<number, number>();
    const r = randomBytes(4 * 20000);
    for (let i = 0; i < 20000; i++) {
      const a = r.readUInt32BE(i * 4);
      const p = cp.pseudonymise4(a);
      const prev = seen.get(p);
      if (prev !== undefined) expect(prev).toBe(a);
      seen.set(p, a);
    }
  });

  it('gives different outputs under different keys', () => {
    const other = new CryptoPan(randomBytes(32));
    let same = 0;
    for (const [input] of V4_VECTORS)
      if (other.pseudonymiseAddress(input) === cp.pseudonymiseAddress(input)) same++;
    // The chance of even one full 32-bit collision among 71 addresses is ~2e-8.
    expect(same).toBe(0);
    expect(other.pseudonymiseAddress('2001:db8::1')).not.toBe('4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e');
  });

  it('refuses keys of the wrong length and non-address text with typed errors', () => {
    expect(() => new CryptoPan(new Uint8Array(16))).toThrow(PseudonymKeyError);
    expect(() => new CryptoPan(SAMPLE_KEY, { cacheEntries: -1 })).toThrow(PseudonymKeyError);
    expect(() => cp.pseudonymiseAddress('not-an-address')).toThrow(AddressError);
    expect(() => cp.depseudonymiseAddress('1.2.3')).toThrow(AddressError);
  });

  it('never shows its key in JSON or util.inspect, and is unusable once destroyed', () => {
    const k = new CryptoPan(SAMPLE_KEY);
    expect(JSON.stringify({ k })).toBe('{"k":{"type":"crypto-pan","key":"[redacted]"}}');
    expect(inspect(k)).toBe('CryptoPan { key: [redacted] }');
    k.pseudonymise4(1);
    k.destroy();
    expect(k.destroyed).toBe(true);
    expect(() => k.pseudonymise4(2)).toThrow(PseudonymKeyError);
  });
});
