/**
 * `indicator` detector (REQUIREMENTS R-DET-7): traffic to or from listed addresses and CIDRs, and
 * lookups of listed domains (or their subdomains) and answers pointing at listed addresses, from
 * the indicator set of `--indicators FILE` (src/common/indicators/). Subject: the internal end of
 * the match (the endpoint that is not listed); counterpart: the indicator value. One evidence per
 * (subject, indicator) and window, emitted at the window's first match. Algorithm and
 * parameters: README.md.
 */
import type { IndicatorEntry } from '../../common/indicators/index.ts';
import type { Evidence, Severity } from '../../common/schema/evidence.ts';
import type { IndicatorConfig } from '../config.ts';
import { CHANNEL_AGREEMENT, SKIP, type DetectBatch } from '../engine/batch.ts';
import type { DnsRow } from '../engine/adapt.ts';
import { dnsQueryName, forEachDnsAnswer, parseAddressInto, textHostKey } from '../engine/dns.ts';
import { hashWords } from '../engine/hash.ts';
import { formatAddressAt, formatHostKey, hostKey, HOST_KEY_WORDS } from '../engine/keys.ts';
import { KeyedTable } from '../engine/table.ts';
import type { Detector, DetectorStats, EvidenceSink } from '../engine/types.ts';
import { IndicatorMatcher, type MatchEntry } from './match.ts';

/** Version of the algorithm and defaults. */
export const INDICATOR_VERSION = '1.0.0';

/** Key: subject host key + entry index. */
const KEY_WORDS = HOST_KEY_WORDS + 1;
/** Typed columns per slot: window index, records. */
const COLUMN_BYTES = 8 + 4;
const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/** How a match was made (evidence fact `via`). */
type Via = 'flow' | 'dns-query' | 'dns-answer';

/** Creates the indicator detector for an indicator set. */
export function createIndicatorDetector(
  config: IndicatorConfig,
  emit: EvidenceSink,
  indicators: readonly IndicatorEntry[],
): Detector {
  return new IndicatorDetector(config, emit, new IndicatorMatcher(indicators));
}

class IndicatorDetector implements Detector {
  readonly name = 'indicator' as const;
  readonly version = INDICATOR_VERSION;
  /** Matching is per record; state only deduplicates a window, so any routing is correct. */
  readonly key = 'pair' as const;

  private readonly table: KeyedTable;
  private readonly perEntry: number;
  private readonly win: Float64Array;
  private readonly count: Uint32Array;
  private readonly key6 = new Uint32Array(KEY_WORDS);
  private readonly addr = new Uint32Array(4);
  private records = 0;
  private evidence = 0;
  private readonly flows: boolean;

  constructor(
    private readonly cfg: IndicatorConfig,
    private readonly emit: EvidenceSink,
    private readonly matcher: IndicatorMatcher,
  ) {
    this.perEntry = KEY_WORDS * 4 + 28 + COLUMN_BYTES;
    const rest = Math.max(0, cfg.stateBudgetBytes - matcher.bytes);
    this.table = new KeyedTable(Math.max(16, Math.floor(rest / this.perEntry)), KEY_WORDS);
    this.win = new Float64Array(this.table.capacity);
    this.count = new Uint32Array(this.table.capacity);
    this.flows = matcher.hasAddresses;
  }

  onBatch(b: DetectBatch): void {
    this.records += b.length;
    if (!this.flows) return;
    const n = b.length;
    const m = this.matcher;
    for (let i = 0; i < n; i++) {
      if (b.skip[i] !== SKIP.none) continue;
      const v = b.ipVersion[i]!;
      const off = i * 4;
      const t = b.time[i]!;
      const ed = m.matchAddress(b.dst, off, v, t);
      if (ed >= 0) this.flowMatch(b, i, ed, false);
      const es = m.matchAddress(b.src, off, v, t);
      if (es >= 0) this.flowMatch(b, i, es, true);
    }
  }

  onRecord(b: DetectBatch, i: number): void {
    this.records++;
    if (!this.flows) return;
    const v = b.ipVersion[i]!;
    const off = i * 4;
    const t = b.time[i]!;
    const ed = this.matcher.matchAddress(b.dst, off, v, t);
    if (ed >= 0) this.flowMatch(b, i, ed, false);
    const es = this.matcher.matchAddress(b.src, off, v, t);
    if (es >= 0) this.flowMatch(b, i, es, true);
  }

  /** A flow row whose source (`listedIsSource`) or destination matched entry `e`. */
  private flowMatch(b: DetectBatch, i: number, e: number, listedIsSource: boolean): void {
    const v = b.ipVersion[i]!;
    const off = i * 4;
    const key = this.key6;
    hostKey(listedIsSource ? b.dst : b.src, off, v, this.cfg.groupIpv6By64, key);
    key[HOST_KEY_WORDS] = e;
    const s = this.slot(b.time[i]!);
    if (s < 0) return;
    const listed = listedIsSource ? b.src : b.dst;
    // The subject opened the session when its port is the higher (ephemeral) one.
    const subjectPort = listedIsSource ? b.dstPort[i]! : b.srcPort[i]!;
    const listedPort = listedIsSource ? b.srcPort[i]! : b.dstPort[i]!;
    this.report(s, e, b.time[i]!, {
      via: 'flow',
      direction: subjectPort > listedPort ? 'outbound' : subjectPort < listedPort ? 'inbound' : 'unknown',
      port: listedPort,
      matched: formatAddressAt(listed, off, v),
      recordId: b.recordId(i),
      agreement: b.channel[i] === CHANNEL_AGREEMENT,
      bytes: b.octets[i]!,
    });
  }

  onDns(r: DnsRow): void {
    this.records++;
    const key = this.key6;
    if (!textHostKey(r.client, this.cfg.groupIpv6By64, key)) return;
    const t = r.time;
    const m = this.matcher;
    const name = dnsQueryName(r.fields);
    const eq = m.matchName(name, t);
    if (eq >= 0) this.dnsMatch(r, eq, 'dns-query', name);
    if (!this.cfg.matchDnsAnswers) return;
    forEachDnsAnswer(r.fields, (type, data) => {
      let e = -1;
      if (type === 1 || type === 28) {
        const v = parseAddressInto(data, this.addr, 0);
        if (v !== 0) e = m.matchAddress(this.addr, 0, v, t);
      } else if (type === 5) e = m.matchName(data.toLowerCase().replace(/\.$/, ''), t);
      if (e >= 0 && e !== eq) this.dnsMatch(r, e, 'dns-answer', data);
    });
  }

  private dnsMatch(r: DnsRow, e: number, via: Via, matched: string): void {
    const key = this.key6;
    if (!textHostKey(r.client, this.cfg.groupIpv6By64, key)) return;
    key[HOST_KEY_WORDS] = e;
    const s = this.slot(r.time);
    if (s < 0) return;
    this.report(s, e, r.time, { via, matched, recordId: r.recordId, agreement: false, bytes: 0 });
  }

  /** The slot of the key in `key6` for the window of `t`; −1 when the window was reported already. */
  private slot(t: number): number {
    const key = this.key6;
    const h = hashWords(key, 0, KEY_WORDS);
    const w = Math.floor(t / this.cfg.windowMs);
    const s = this.table.acquire(key, t, h);
    if (!this.table.created && this.win[s]! >= w) {
      this.count[s]!++;
      return -1;
    }
    this.win[s] = w;
    this.count[s] = 1;
    return s;
  }

  private severity(entry: MatchEntry, agreement: boolean): Severity {
    const c = entry.confidence;
    let k = c >= this.cfg.highConfidence ? 2 : c >= this.cfg.mediumConfidence ? 1 : 0;
    // A consenting critical-infrastructure operator's range is involved: one step up.
    if (agreement) k++;
    return SEVERITIES[Math.min(3, k)]!;
  }

  private report(
    s: number,
    e: number,
    t: number,
    m: {
      via: Via;
      matched: string;
      recordId: string;
      agreement: boolean;
      bytes: number;
      direction?: string;
      port?: number;
    },
  ): void {
    const entry = this.matcher.entries[e]!;
    const start = this.win[s]! * this.cfg.windowMs;
    const facts: Record<string, number | string> = {
      indicator: entry.value,
      type: entry.type,
      source: entry.source,
      indicatorConfidence: entry.confidence,
      via: m.via,
      matched: m.matched,
    };
    if (entry.validUntil !== '') facts.validUntil = entry.validUntil;
    if (m.direction !== undefined) facts.direction = m.direction;
    if (m.port !== undefined) facts.port = m.port;
    if (m.bytes > 0) facts.bytes = m.bytes;
    const ev: Evidence = {
      detector: 'indicator',
      version: INDICATOR_VERSION,
      subject: formatHostKey(this.table.keys, s * KEY_WORDS),
      counterpart: entry.value,
      window: { start: Math.min(start, t), end: Math.max(start + this.cfg.windowMs, t + 1) },
      confidence: Math.round(Math.min(1, Math.max(0, entry.confidence / 100)) * 1000) / 1000,
      severity: this.severity(entry, m.agreement),
      facts,
      recordIds: this.cfg.maxRecordIds > 0 ? [m.recordId] : [],
    };
    this.evidence++;
    this.emit(ev);
  }

  onWatermark(t: number): void {
    this.table.expire(t - this.cfg.keyTtlMs);
  }

  /** Evidence is emitted at a window's first match, so nothing is pending at the end. */
  flush(): void {}

  stats(): DetectorStats {
    return {
      records: this.records,
      evidence: this.evidence,
      keys: this.table.size,
      bytesUsed: this.table.size * this.perEntry + this.matcher.bytes,
      bytesReserved: this.table.capacity * this.perEntry + this.matcher.bytes,
      budgetBytes: this.cfg.stateBudgetBytes,
      evictions: this.table.evictions,
      expired: this.table.expired,
    };
  }
}
