/**
 * `exfiltration` detector (REQUIREMENTS R-DET-6): an internal host uploading far more than it
 * normally does to one external destination within a window — against a per-host learned
 * baseline (EWMA mean and variance of its bulk upload per window) with a cold-start floor, and
 * with upload/download asymmetry. Nightly bulk uploads to known cloud networks (backups) are
 * down-ranked to `low`. Algorithm and parameters: README.md.
 */
import type { Evidence } from '../../common/schema/evidence.ts';
import type { ExfiltrationConfig } from '../config.ts';
import { CHANNEL_AGREEMENT, SKIP, type DetectBatch } from '../engine/batch.ts';
import { hashWords } from '../engine/hash.ts';
import { formatHostKey, hostKey, HOST_KEY_WORDS } from '../engine/keys.ts';
import { sourceIsInternal } from '../engine/side.ts';
import { RecordSamples, TouchedSlots } from '../engine/slots.ts';
import { KeyedTable } from '../engine/table.ts';
import type { Detector, DetectorStats, EvidenceSink } from '../engine/types.ts';
import { WindowTimer } from '../engine/windows.ts';

/** Version of the algorithm and defaults. */
export const EXFILTRATION_VERSION = '1.0.0';

const PAIR_WORDS = HOST_KEY_WORDS * 2;
const PAIR_COLUMNS = 8 * 5 + 4 + 1 + 1 + 8;
/** Host columns plus its `TouchedSlots` share (4 + 1 bytes). */
const HOST_COLUMNS = 8 * 4 + 4 + 5;
const HOUR = 3_600_000;

/** Creates the exfiltration detector. */
export function createExfiltrationDetector(config: ExfiltrationConfig, emit: EvidenceSink): Detector {
  return new ExfiltrationDetector(config, emit);
}

class ExfiltrationDetector implements Detector {
  readonly name = 'exfiltration' as const;
  readonly version = EXFILTRATION_VERSION;
  readonly key = 'source' as const;

  private readonly cloud = new Set<number>();
  private readonly pairs: KeyedTable;
  private readonly hosts: KeyedTable;
  private readonly touched: TouchedSlots;
  private readonly samples: RecordSamples;
  private readonly timer: WindowTimer;
  private readonly pk = new Uint32Array(PAIR_WORDS);
  private readonly pairEntry: number;
  private readonly hostEntry: number;

  // Pair columns (per window).
  private readonly pWin: Float64Array;
  private readonly pOut: Float64Array;
  private readonly pIn: Float64Array;
  private readonly pFirst: Float64Array;
  private readonly pLast: Float64Array;
  private readonly pAsn: Uint32Array;
  private readonly pChannel: Uint8Array;
  private readonly pDone: Uint8Array;
  // Host columns: the open window's bulk upload and the learned baseline.
  private readonly hWin: Float64Array;
  private readonly hTotal: Float64Array;
  private readonly hMean: Float64Array;
  private readonly hVar: Float64Array;
  private readonly hN: Uint32Array;

  private records = 0;
  private evidence = 0;

  constructor(
    private readonly cfg: ExfiltrationConfig,
    private readonly emit: EvidenceSink,
  ) {
    for (const a of cfg.cloudAsns) this.cloud.add(a);
    this.pairEntry = PAIR_WORDS * 4 + 28 + PAIR_COLUMNS;
    this.hostEntry = HOST_KEY_WORDS * 4 + 28 + HOST_COLUMNS;
    // Half of the budget for pairs, half for host baselines (hosts outlive their pairs).
    const half = Math.floor(cfg.stateBudgetBytes / 2);
    this.pairs = new KeyedTable(Math.max(16, Math.floor(half / this.pairEntry)), PAIR_WORDS);
    this.hosts = new KeyedTable(Math.max(16, Math.floor(half / this.hostEntry)), HOST_KEY_WORDS);
    const c = this.pairs.capacity;
    this.pWin = new Float64Array(c);
    this.pOut = new Float64Array(c);
    this.pIn = new Float64Array(c);
    this.pFirst = new Float64Array(c);
    this.pLast = new Float64Array(c);
    this.pAsn = new Uint32Array(c);
    this.pChannel = new Uint8Array(c);
    this.pDone = new Uint8Array(c);
    this.samples = new RecordSamples(c, cfg.maxRecordIds);
    const h = this.hosts.capacity;
    this.hWin = new Float64Array(h);
    this.hTotal = new Float64Array(h);
    this.hMean = new Float64Array(h);
    this.hVar = new Float64Array(h);
    this.hN = new Uint32Array(h);
    this.touched = new TouchedSlots(h);
    this.timer = new WindowTimer(cfg.windowMs);
    this.hosts.onRemove = (s) => this.closeHost(s);
  }

  onBatch(b: DetectBatch): void {
    const n = b.length;
    const min = this.cfg.minCountedRecordBytes;
    for (let i = 0; i < n; i++) if (b.skip[i] === SKIP.none && b.octets[i]! >= min) this.onRecord(b, i);
  }

  onRecord(b: DetectBatch, i: number): void {
    this.records++;
    const cfg = this.cfg;
    const bytes = b.octets[i]!;
    if (bytes < cfg.minCountedRecordBytes) return;
    const out = sourceIsInternal(b, i);
    const v = b.ipVersion[i]!;
    const off = i * 4;
    const key = this.pk;
    hostKey(out ? b.src : b.dst, off, v, cfg.groupIpv6By64, key, 0);
    hostKey(out ? b.dst : b.src, off, v, false, key, HOST_KEY_WORDS);
    const h = hashWords(key, 0, PAIR_WORDS);
    const t = b.time[i]!;
    const w = Math.floor(t / cfg.windowMs);
    let s = this.pairs.find(key, h);
    if (s < 0) {
      // Only a bulk upload record opens state; smaller records and downloads add to open pairs.
      if (!out || bytes < cfg.minRecordBytes) return;
      s = this.pairs.acquire(key, t, h);
      this.resetPair(s, w, t);
    } else {
      this.pairs.touch(s, t);
      if (w > this.pWin[s]!) this.resetPair(s, w, t);
      else if (w < this.pWin[s]!) return;
    }
    if (t < this.pFirst[s]!) this.pFirst[s] = t;
    if (t > this.pLast[s]!) this.pLast[s] = t;
    const ch = b.channel[i]!;
    if (ch !== 0) this.pChannel[s] = ch;
    if (!out) {
      this.pIn[s]! += bytes;
      return;
    }
    this.pOut[s]! += bytes;
    const asn = b.dstAsn[i]!;
    if (asn !== 0) this.pAsn[s] = asn;
    if (this.samples.wants(s)) this.samples.add(s, b.recordId(i));
    const hs = this.hostSlot(key, t, w);
    this.hTotal[hs]! += bytes;
    if (this.pDone[s] === 0 && this.pOut[s]! >= cfg.minBytes) this.judge(s, hs);
  }

  private resetPair(s: number, w: number, t: number): void {
    this.pWin[s] = w;
    this.pOut[s] = 0;
    this.pIn[s] = 0;
    this.pFirst[s] = t;
    this.pLast[s] = t;
    this.pAsn[s] = 0;
    this.pChannel[s] = 0;
    this.pDone[s] = 0;
    this.samples.clear(s);
  }

  /** The host slot of the pair key's internal host, its window rolled forward to `w`. */
  private hostSlot(pairKey: Uint32Array, t: number, w: number): number {
    const hk = pairKey.subarray(0, HOST_KEY_WORDS);
    const s = this.hosts.acquire(hk, t);
    if (this.hosts.created) {
      this.hWin[s] = w;
      this.hTotal[s] = 0;
      this.hMean[s] = 0;
      this.hVar[s] = 0;
      this.hN[s] = 0;
    } else if (w > this.hWin[s]!) {
      this.closeHost(s);
      this.hWin[s] = w;
    }
    this.timer.start(t);
    this.touched.add(s);
    return s;
  }

  /**
   * Folds the host's closed window into its baseline and empties it. Windows that alarmed count
   * too: a host whose uploads stay high becomes its own normal after `warmupWindows`.
   */
  private closeHost(s: number): void {
    const total = this.hTotal[s]!;
    if (total > 0) {
      const a = this.cfg.baselineAlpha;
      if (this.hN[s] === 0) {
        this.hMean[s] = total;
        this.hVar[s] = 0;
      } else {
        const d = total - this.hMean[s]!;
        this.hMean[s]! += a * d;
        this.hVar[s] = (1 - a) * (this.hVar[s]! + a * d * d);
      }
      this.hN[s]!++;
    }
    this.hTotal[s] = 0;
  }

  private threshold(hs: number): number {
    const cfg = this.cfg;
    const learned =
      this.hN[hs]! >= cfg.warmupWindows
        ? this.hMean[hs]! + cfg.baselineDeviations * Math.sqrt(this.hVar[hs]!)
        : 0;
    return Math.max(cfg.minBytes, learned);
  }

  /** True when `t` falls in the local backup window (`backupUtcOffsetHours`). */
  private inBackupWindow(t: number): boolean {
    const cfg = this.cfg;
    const hour = ((Math.floor((t + cfg.backupUtcOffsetHours * HOUR) / HOUR) % 24) + 24) % 24;
    return cfg.backupFromHour <= cfg.backupToHour
      ? hour >= cfg.backupFromHour && hour < cfg.backupToHour
      : hour >= cfg.backupFromHour || hour < cfg.backupToHour;
  }

  private judge(s: number, hs: number): void {
    const cfg = this.cfg;
    const out = this.pOut[s]!;
    const threshold = this.threshold(hs);
    if (out < threshold) return;
    const inb = this.pIn[s]!;
    const ratio = out / Math.max(1, inb);
    if (ratio < cfg.minUploadRatio) return;
    this.pDone[s] = 1;
    const asn = this.pAsn[s]!;
    const backup = this.cloud.has(asn) && this.inBackupWindow(this.pFirst[s]!);
    const key = this.pairs.keys;
    const ko = s * PAIR_WORDS;
    const winStart = this.pWin[s]! * cfg.windowMs;
    const span = Math.max(1, this.pLast[s]! - this.pFirst[s]!);
    const e: Evidence = {
      detector: 'exfiltration',
      version: EXFILTRATION_VERSION,
      subject: formatHostKey(key, ko),
      counterpart: formatHostKey(key, ko + HOST_KEY_WORDS),
      window: {
        start: Math.min(winStart, this.pFirst[s]!),
        end: Math.max(winStart + cfg.windowMs, this.pLast[s]! + 1),
      },
      confidence: backup
        ? 0.3
        : Math.round(Math.min(0.99, 0.6 + 0.1 * Math.log2(out / threshold + 1)) * 1000) / 1000,
      severity: backup
        ? 'low'
        : this.pChannel[s] === CHANNEL_AGREEMENT || out >= cfg.highFactor * threshold
          ? 'high'
          : 'medium',
      facts: {
        bytesOut: Math.round(out),
        bytesIn: Math.round(inb),
        uploadRatio: Math.round(Math.min(ratio, 1e9) * 10) / 10,
        threshold: Math.round(threshold),
        baselineMean: Math.round(this.hMean[hs]!),
        baselineWindows: this.hN[hs]!,
        hostBytesOut: Math.round(this.hTotal[hs]!),
        bytesPerSecondSeen: Math.round(out / (span / 1000)),
        destinationAsn: asn,
        windowMs: cfg.windowMs,
      },
      recordIds: this.samples.take(s),
    };
    if (backup) e.facts.lookalike = 'nightly-cloud-backup';
    this.evidence++;
    this.emit(e);
  }

  private closeUpTo(win: number): void {
    this.touched.sweep((s) => {
      if (this.hWin[s]! > win) return false;
      this.closeHost(s);
      return true;
    });
  }

  onWatermark(t: number): void {
    this.timer.closeDue(t, (k) => this.closeUpTo(k));
    this.pairs.expire(t - this.cfg.windowMs * 2);
    this.hosts.expire(t - this.cfg.baselineTtlMs);
  }

  /** Pairs alarm as they cross their threshold; the end of input only closes host windows. */
  flush(): void {
    this.closeUpTo(Infinity);
  }

  stats(): DetectorStats {
    return {
      records: this.records,
      evidence: this.evidence,
      keys: this.pairs.size + this.hosts.size,
      bytesUsed: this.pairs.size * this.pairEntry + this.hosts.size * this.hostEntry,
      bytesReserved: this.pairs.capacity * this.pairEntry + this.hosts.capacity * this.hostEntry,
      budgetBytes: this.cfg.stateBudgetBytes,
      evictions: this.pairs.evictions + this.hosts.evictions,
      expired: this.pairs.expired + this.hosts.expired,
    };
  }
}
