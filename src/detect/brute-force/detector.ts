/**
 * `brute-force` detector (REQUIREMENTS R-DET-4): many short, completed, similar-sized connections
 * from one source to an authentication service (SSH, RDP, Telnet, VNC, SMB, FTP, mail auth) of
 * one or a few destinations within a window, against a cold-start floor and a learned baseline
 * of attempts per source-window. Algorithm and parameters: README.md.
 */
import type { Evidence } from '../../common/schema/evidence.ts';
import type { BruteForceConfig } from '../config.ts';
import { CHANNEL_AGREEMENT, SKIP, type DetectBatch } from '../engine/batch.ts';
import { fold32, hashWords } from '../engine/hash.ts';
import { formatAddressAt, formatHostKey, hostKey, HOST_KEY_WORDS } from '../engine/keys.ts';
import { RecordSamples, SeenCache, TouchedSlots } from '../engine/slots.ts';
import { KeyedTable } from '../engine/table.ts';
import type { Detector, DetectorStats, EvidenceSink } from '../engine/types.ts';
import { WindowTimer } from '../engine/windows.ts';

/** Version of the algorithm and defaults. */
export const BRUTE_FORCE_VERSION = '1.0.0';

const TCP = 6;
const SYN = 2;
const ACK = 16;

/** Service names by port, for evidence facts. */
const SERVICES: Record<number, string> = {
  21: 'ftp',
  22: 'ssh',
  23: 'telnet',
  25: 'smtp',
  110: 'pop3',
  139: 'netbios-ssn',
  143: 'imap',
  445: 'smb',
  465: 'smtps',
  587: 'submission',
  993: 'imaps',
  995: 'pop3s',
  3389: 'rdp',
  5900: 'vnc',
  5901: 'vnc',
};

const COLUMN_BYTES = 8 * 6 + 4 * 3 + 16 + 1 + 4 + 2 + 1 + 1 + 8 + 12;

/** Creates the brute-force detector. */
export function createBruteForceDetector(config: BruteForceConfig, emit: EvidenceSink): Detector {
  return new BruteForceDetector(config, emit);
}

class BruteForceDetector implements Detector {
  readonly name = 'brute-force' as const;
  readonly version = BRUTE_FORCE_VERSION;
  readonly key = 'source' as const;

  private readonly isPort = new Uint8Array(65536);
  private readonly table: KeyedTable;
  private readonly pairs: SeenCache;
  private readonly touched: TouchedSlots;
  private readonly samples: RecordSamples;
  private readonly timer: WindowTimer;
  private readonly key5 = new Uint32Array(HOST_KEY_WORDS);
  private readonly perEntry: number;

  private readonly win: Float64Array;
  private readonly first: Float64Array;
  private readonly last: Float64Array;
  private readonly sizeSum: Float64Array;
  private readonly sizeSq: Float64Array;
  private readonly attempts: Uint32Array;
  private readonly dsts: Uint32Array;
  private readonly candDst: Uint32Array;
  private readonly candDstV: Uint8Array;
  private readonly candDstCount: Int32Array;
  private readonly port: Uint16Array;
  private readonly channel: Uint8Array;
  private readonly done: Uint8Array;

  /** Learned baseline of attempts per source-window (EWMA mean and mean absolute deviation). */
  private baseMean = 0;
  private baseDev = 0;
  private baseN = 0;
  private records = 0;
  private evidence = 0;

  constructor(
    private readonly cfg: BruteForceConfig,
    private readonly emit: EvidenceSink,
  ) {
    for (const p of cfg.ports) this.isPort[p] = 1;
    const cacheEntries = Math.max(1024, Math.floor(cfg.stateBudgetBytes / 8 / 9));
    this.pairs = new SeenCache(cacheEntries);
    this.perEntry = HOST_KEY_WORDS * 4 + 28 + COLUMN_BYTES;
    const capacity = Math.max(16, Math.floor((cfg.stateBudgetBytes - this.pairs.bytes) / this.perEntry));
    this.table = new KeyedTable(capacity, HOST_KEY_WORDS);
    const c = this.table.capacity;
    this.win = new Float64Array(c);
    this.first = new Float64Array(c);
    this.last = new Float64Array(c);
    this.sizeSum = new Float64Array(c);
    this.sizeSq = new Float64Array(c);
    this.attempts = new Uint32Array(c);
    this.dsts = new Uint32Array(c);
    this.candDst = new Uint32Array(c * 4);
    this.candDstV = new Uint8Array(c);
    this.candDstCount = new Int32Array(c);
    this.port = new Uint16Array(c);
    this.channel = new Uint8Array(c);
    this.done = new Uint8Array(c);
    this.touched = new TouchedSlots(c);
    this.samples = new RecordSamples(c, cfg.maxRecordIds);
    this.timer = new WindowTimer(cfg.windowMs);
    this.table.onRemove = (s) => {
      if (this.done[s] === 0 && this.attempts[s]! > 0) this.evaluate(s);
      this.done[s] = 1;
    };
  }

  onBatch(b: DetectBatch): void {
    const n = b.length;
    const isPort = this.isPort;
    for (let i = 0; i < n; i++)
      if (b.skip[i] === SKIP.none && b.proto[i] === TCP && isPort[b.dstPort[i]!] === 1) this.onRecord(b, i);
  }

  onRecord(b: DetectBatch, i: number): void {
    this.records++;
    const cfg = this.cfg;
    if (b.proto[i] !== TCP || this.isPort[b.dstPort[i]!] !== 1) return;
    // A completed client-side connection: the client's SYN and ACKs, from an ephemeral port.
    const f = b.tcpFlags[i]!;
    if ((f & (SYN | ACK)) !== (SYN | ACK) || b.srcPort[i]! <= b.dstPort[i]!) return;
    const packets = b.packets[i]! / (b.samplingInterval[i]! || 1);
    const octets = b.octets[i]! / (b.samplingInterval[i]! || 1);
    if (packets < cfg.minPackets || packets > cfg.maxPackets || octets > cfg.maxBytes) return;
    if (b.end[i]! - b.start[i]! > cfg.maxDurationMs) return;
    const t = b.time[i]!;
    const v = b.ipVersion[i]!;
    const off = i * 4;
    const key = this.key5;
    hostKey(b.src, off, v, cfg.groupIpv6By64, key);
    const h = hashWords(key, 0, HOST_KEY_WORDS);
    const s0 = this.table.find(key, h);
    const s = s0 >= 0 ? s0 : this.table.acquire(key, t, h);
    const w = Math.floor(t / cfg.windowMs);
    if (s0 < 0) {
      this.reset(s, t, w);
    } else {
      this.table.touch(s, t);
      if (w > this.win[s]!) {
        if (this.done[s] === 0 && this.attempts[s]! > 0) this.evaluate(s);
        this.reset(s, t, w);
      }
    }
    this.timer.start(t);
    this.touched.add(s);
    if (t < this.first[s]!) this.first[s] = t;
    if (t > this.last[s]!) this.last[s] = t;
    this.attempts[s]!++;
    this.sizeSum[s]! += octets;
    this.sizeSq[s]! += octets * octets;
    const hd = hashWords(b.dst, off, 4, 0xb7f);
    if (!this.pairs.seen(fold32(h, hd) ^ Math.imul(w, 0x9e37), hd ^ w)) this.dsts[s]!++;
    const c4 = s * 4;
    const same =
      this.candDstV[s] === v &&
      this.candDst[c4] === b.dst[off] &&
      this.candDst[c4 + 1] === b.dst[off + 1] &&
      this.candDst[c4 + 2] === b.dst[off + 2] &&
      this.candDst[c4 + 3] === b.dst[off + 3];
    if (same) this.candDstCount[s]!++;
    else if (--this.candDstCount[s]! <= 0) {
      this.candDstV[s] = v;
      this.candDst[c4] = b.dst[off]!;
      this.candDst[c4 + 1] = b.dst[off + 1]!;
      this.candDst[c4 + 2] = b.dst[off + 2]!;
      this.candDst[c4 + 3] = b.dst[off + 3]!;
      this.candDstCount[s] = 1;
      this.port[s] = b.dstPort[i]!;
    }
    const ch = b.channel[i]!;
    if (ch !== 0) this.channel[s] = ch;
    if (this.attempts[s]! >= 3 && this.samples.wants(s)) this.samples.add(s, b.recordId(i));
  }

  private reset(s: number, t: number, w: number): void {
    this.win[s] = w;
    this.first[s] = t;
    this.last[s] = t;
    this.sizeSum[s] = 0;
    this.sizeSq[s] = 0;
    this.attempts[s] = 0;
    this.dsts[s] = 0;
    this.candDstV[s] = 0;
    this.candDstCount[s] = 0;
    this.port[s] = 0;
    this.channel[s] = 0;
    this.done[s] = 0;
    this.samples.clear(s);
  }

  /** Current threshold: the floor, or the learned baseline when it is warm and higher. */
  private threshold(): number {
    const learned =
      this.baseN >= this.cfg.warmupWindows ? this.baseMean + this.cfg.baselineDeviations * this.baseDev : 0;
    return Math.max(this.cfg.minAttempts, learned);
  }

  private evaluate(s: number): void {
    this.done[s] = 1;
    const cfg = this.cfg;
    const n = this.attempts[s]!;
    const mean = this.sizeSum[s]! / Math.max(1, n);
    const variance = Math.max(0, this.sizeSq[s]! / Math.max(1, n) - mean * mean);
    const cv = mean > 0 ? Math.sqrt(variance) / mean : 0;
    const threshold = this.threshold();
    const hit = n >= threshold && this.dsts[s]! <= cfg.maxDestinations && cv <= cfg.maxSizeCv;
    if (!hit) {
      const a = cfg.baselineAlpha;
      const d = n - this.baseMean;
      this.baseMean = this.baseN === 0 ? n : this.baseMean + a * d;
      this.baseDev += a * (Math.abs(d) - this.baseDev);
      this.baseN++;
      return;
    }
    const port = this.port[s]!;
    const windowStart = this.win[s]! * cfg.windowMs;
    const e: Evidence = {
      detector: 'brute-force',
      version: BRUTE_FORCE_VERSION,
      subject: formatHostKey(this.table.keys.subarray(s * HOST_KEY_WORDS, (s + 1) * HOST_KEY_WORDS)),
      window: {
        start: Math.min(windowStart, this.first[s]!),
        end: Math.max(windowStart + cfg.windowMs, this.last[s]! + 1),
      },
      confidence:
        Math.round(
          Math.min(
            0.99,
            0.5 + 0.5 * Math.min(1, n / (3 * threshold)) * (1 - cv / (cfg.maxSizeCv + 1e-9) / 2),
          ) * 1000,
        ) / 1000,
      severity: this.channel[s] === CHANNEL_AGREEMENT || n >= 20 * threshold ? 'high' : 'medium',
      facts: {
        attempts: n,
        destinations: this.dsts[s]!,
        port,
        service: SERVICES[port] ?? 'auth',
        meanBytes: Math.round(mean),
        sizeCv: Math.round(cv * 1000) / 1000,
        threshold: Math.round(threshold * 10) / 10,
        attemptsPerMinute: Math.round((n / (cfg.windowMs / 60_000)) * 10) / 10,
      },
      recordIds: this.samples.take(s),
    };
    if (this.candDstV[s]) e.counterpart = formatAddressAt(this.candDst, s * 4, this.candDstV[s]);
    this.evidence++;
    this.emit(e);
  }

  private closeUpTo(win: number): void {
    this.touched.sweep((s) => {
      if (this.win[s]! > win) return false;
      if (this.done[s] === 0 && this.attempts[s]! > 0) this.evaluate(s);
      return true;
    });
  }

  onWatermark(t: number): void {
    this.timer.closeDue(t, (k) => this.closeUpTo(k));
    this.table.expire(t - this.cfg.keyTtlMs);
  }

  flush(): void {
    this.closeUpTo(Infinity);
  }

  stats(): DetectorStats {
    return {
      records: this.records,
      evidence: this.evidence,
      keys: this.table.size,
      bytesUsed: this.table.size * this.perEntry + this.pairs.bytes,
      bytesReserved: this.table.capacity * this.perEntry + this.pairs.bytes,
      budgetBytes: this.cfg.stateBudgetBytes,
      evictions: this.table.evictions,
      expired: this.table.expired,
    };
  }
}
