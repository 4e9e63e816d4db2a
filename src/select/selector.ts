/**
 * The selection engine: the hot path of the provider edge (REQUIREMENTS R-FEED-3/4, R-SEL-1..5,
 * R-RET-1; DESIGN sections 5-6). For every record, from a columnar `FlowBatch` or as a
 * `DecodedRecord` (DNS events, text imports):
 *
 * 1. classify both endpoints with the border table (special and unknown space count as domestic)
 *    and stamp country and ASN — before any pseudonymisation;
 * 2. try the feeds of the record's exporter in configuration order; for each: the feed must be
 *    active (`feed-inactive`), take the record type, not be a domestic↔domestic record unless the
 *    channel is operator telemetry (`domestic-domestic`), match the channel's direction
 *    (`direction-mismatch`), have an approval (and agreement) in force at the record's EVENT time
 *    (`approval-window`) and a selector of such an approval that matches (`no-selector`);
 *    the first feed that selects the record wins;
 * 3. keep only the allow-listed fields (R-SEL-2), pseudonymise domestic addresses with the current
 *    key epoch's Crypto-PAn (except waived operator ranges), transform DNS names (dns.ts);
 * 4. stamp provenance (provider, feed, channel, approval, selectors, table and parameter versions,
 *    key epoch, selection time, retention deadline = event time + the channel's retention) and the
 *    replay-stable `recordId`;
 * 5. count everything (stats.ts, metrics.ts) — numbers only.
 *
 * The engine logs feed events (ids and codes) and never an address or any record content;
 * nothing it throws carries record data.
 */
import type { Clock } from '../common/clock.ts';
import type { Logger } from '../common/logging.ts';
import type { LegalParameterTable, LegalParameters } from '../common/legal/index.ts';
import type { MetricsRegistry } from '../common/metrics.ts';
import {
  formatIpv4,
  formatIpv6,
  parseIpv4,
  parseIpv6Into,
  PrefixTable,
  SPECIAL_BASE,
  tryParseAddress,
} from '../common/prefixes/index.ts';
import type { FlowBatch } from '../common/schema/batch.ts';
import type { LegalChannel } from '../common/schema/legal.ts';
import type { DecodedRecord, FieldValue, Fields, RecordProtocol } from '../common/schema/record.ts';
import type { SelectedRecord } from '../common/schema/selected.ts';
import { MAX_SELECTORS } from '../common/schema/approval.ts';
import { demoTrustedKeys, type TrustedKeySet } from '../common/signing/index.ts';
import { DNS_COPY, FLOW_COPY, isValidSelectedRecord } from './allowlist.ts';
import { canonicalExporter, type SelectionConfig } from './config.ts';
import { dnsMatchInputs, transformAnswers, transformName, type NameContext } from './dns.ts';
import {
  CH_AGREEMENT,
  CH_SPEC_IN,
  CH_SPEC_OUT,
  CH_TELEMETRY,
  CH_TRANSIT,
  FeedRegistry,
  type BasisDocument,
  type FeedEvent,
  type FeedRuntime,
  type FeedStatus,
  type OperatorRegistry,
  type RevocationResult,
} from './feeds.ts';
import { SelectionMetrics } from './metrics.ts';
import type { EpochKey } from './pseudonymise/index.ts';
import { makeRecordId, SelectedBatch, type SelectionBasis } from './selected-batch.ts';
import type { RowView } from './selectors.ts';
import {
  addStats,
  R_DIRECTION,
  R_DOMESTIC,
  R_FEED_INACTIVE,
  R_NO_SELECTOR,
  R_SCHEMA,
  R_WINDOW,
  StatsAccumulator,
  type SelectionStats,
} from './stats.ts';

/** Where the engine gets the current pseudonymisation key epoch (a `KeyStore` fits). */
export interface KeySource {
  current(): EpochKey;
}

/** The export protocol of batch rows (a FlowBatch does not carry it): fixed, or per exporter/template. */
export type ProtocolOf = RecordProtocol | ((exporter: string, templateId: number) => RecordProtocol);

/** What the engine needs; constructed without I/O (the CLI loads files, see documents.ts). */
export interface SelectionEngineDeps {
  /** Border/ASN table (its `tableVersion` is stamped on every record). */
  table: PrefixTable;
  /** Legal parameters (retention per channel; `parameterVersion` stamped on every record). */
  legal: LegalParameterTable;
  /** Pseudonymisation keys (current epoch). */
  keys: KeySource;
  clock: Clock;
  /** Commission keys trusted for approvals, agreements and revocations. */
  trustedKeys: TrustedKeySet;
  /** Signed approvals, agreements and revocations (parsed JSON). */
  documents: readonly unknown[];
  /** Indicator lists by `listRef`. */
  indicatorLists?: Readonly<Record<string, readonly string[]>>;
  /** The operators file (narrows agreements to active operators, adds their waivers). */
  operators?: OperatorRegistry;
  metrics?: MetricsRegistry;
  logger?: Logger;
  /** Feed activations, refusals, stops and revocations, for the audit log. */
  onEvent?: (e: FeedEvent) => void;
}

/** Result of {@link SelectionEngine.selectBatch}. */
export interface BatchSelection {
  /** The selected rows, compact; `selected.toRecords()` gives `SelectedRecord`s. */
  selected: SelectedBatch;
  stats: SelectionStats;
}

/** Result of {@link SelectionEngine.selectRecords}. */
export interface RecordSelection {
  records: SelectedRecord[];
  stats: SelectionStats;
}

/** The selection engine of one edge. */
export interface SelectionEngine {
  /** Verifies the documents and activates the feeds (CPU only). Idempotent. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Same as `start`, synchronously, returning the feed statuses. */
  activate(): FeedStatus[];
  /** Selects the flows of a batch. The batch may be reused as soon as this returns. */
  selectBatch(batch: FlowBatch, protocol?: ProtocolOf): BatchSelection;
  /** Selects decoded records (flows and DNS events; other record types are dropped as `schema`). */
  selectRecords(records: Iterable<DecodedRecord>): RecordSelection;
  /** Applies a signed revocation (R-FEED-2). */
  applyRevocation(doc: unknown): RevocationResult;
  /** Stops documents and feeds whose stop time has come (also done at every batch). */
  tick(): void;
  /** Wall time at which `tick` next has work (for a timer), if any. */
  nextStopAt(): number | undefined;
  /** Feed statuses. */
  feeds(): FeedStatus[];
  /** Totals since start. */
  totals(): SelectionStats;
}

/** Creates the engine (no I/O; `start()` or `activate()` before selecting). */
export function createSelectionEngine(deps: SelectionEngineDeps, config: SelectionConfig): SelectionEngine {
  return new Engine(deps, config);
}

/** Event time of a decoded record: end, else event/response/query time, else start, else export time. */
const TIME_FIELDS = [
  'flowEndMilliseconds',
  'flowEndSeconds',
  'flowEndMicroseconds',
  'flowEndNanoseconds',
  'eventTime',
  'dnsResponseTime',
  'dnsQueryTime',
  'flowStartMilliseconds',
  'flowStartSeconds',
  'flowStartMicroseconds',
  'flowStartNanoseconds',
] as const;

function eventTimeOf(r: DecodedRecord): number {
  const f = r.fields;
  for (const k of TIME_FIELDS) {
    const v = f[k];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  }
  const x = r.observation.exportTime;
  return typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : 0;
}

function intField(f: Fields, k: string, max: number): number {
  const v = f[k];
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max ? v : 0;
}

/** Per-channel retention with a one-day memo: calendar arithmetic once per UTC day, not per record. */
class RetentionMemo {
  #params: LegalParameters | undefined;
  readonly #day = new Map<LegalChannel, { day: number; offset: number }>();

  set(p: LegalParameters): void {
    if (p !== this.#params) {
      this.#params = p;
      this.#day.clear();
      this.#lastChannel = undefined;
    }
  }

  #lastChannel: LegalChannel | undefined;
  #lastDay = NaN;
  #lastOffset = 0;

  retainUntil(channel: LegalChannel, t: number): number {
    const day = Math.floor(t / 86_400_000);
    // Consecutive records mostly share channel and day: answer those without a map lookup.
    if (channel === this.#lastChannel && day === this.#lastDay) return t + this.#lastOffset;
    const m = this.#day.get(channel);
    let offset: number;
    if (m && m.day === day) offset = m.offset;
    else {
      const start = day * 86_400_000;
      // Calendar units keep the time of day, so the offset is the same for every instant of a day.
      offset = this.#params!.retainUntil(channel, start) - start;
      this.#day.set(channel, { day, offset });
    }
    this.#lastChannel = channel;
    this.#lastDay = day;
    this.#lastOffset = offset;
    return t + offset;
  }
}

const SINGLE_KEY_LIMIT = 512;

class Engine implements SelectionEngine {
  readonly #d: SelectionEngineDeps;
  readonly #registry: FeedRegistry;
  readonly #domIdx: number;
  readonly #exporterFeeds = new Map<string, FeedRuntime[]>();
  readonly #aliases = new Map<string, string>();
  readonly #aliasCache = new Map<string, string>();
  readonly #acc: StatsAccumulator;
  readonly #metrics: SelectionMetrics | undefined;
  readonly #retention = new RetentionMemo();
  readonly #feedInfo: { id: string; channel: LegalChannel }[];
  #totals: SelectionStats | undefined;
  #activated = false;

  // Scratch state of the record being decided (reused; the hot path allocates nothing per record).
  readonly #row: RowView;
  /** Pair ids (country + ASN, `PrefixTable.pair4Many`) of the current batch's IPv4 endpoints. */
  #srcPair = new Uint32Array(0);
  #dstPair = new Uint32Array(0);
  /** Batch rows selected so far in `selectBatch` (their columns are copied after the loop). */
  #selRows = new Uint32Array(0);
  readonly #srcW = new Uint32Array(4);
  readonly #dstW = new Uint32Array(4);
  readonly #names: string[] = [];
  readonly #answerAddresses: string[] = [];
  /** Indices of the matched selectors of the deciding approval (first `#matchedCount`). */
  readonly #matched = new Int32Array(MAX_SELECTORS);
  #matchedCount = 0;
  #selFeed: FeedRuntime | undefined;
  #selApproval: BasisDocument | undefined;
  #selSlot = 0;
  #lastBasisKey = -1;
  #lastBases: SelectionBasis[] | undefined;
  #lastBasisIndex = 0;

  constructor(deps: SelectionEngineDeps, config: SelectionConfig) {
    this.#d = deps;
    let trust = deps.trustedKeys;
    if (config.mode !== 'production') {
      // Demo and eval mode trust the public demonstration keys (DESIGN section 5).
      const missing = demoTrustedKeys()
        .list()
        .filter((k) => trust.get(k.keyId) === undefined);
      if (missing.length > 0) trust = trust.with(missing);
    }
    const lists = deps.indicatorLists ?? {};
    this.#registry = new FeedRegistry({
      config,
      trustedKeys: trust,
      documents: deps.documents,
      indicatorLists: (ref) => (Object.hasOwn(lists, ref) ? lists[ref] : undefined),
      operators: deps.operators,
      onEvent: (e) => this.#onEvent(e),
    });
    this.#domIdx = deps.table.countryClass(config.domesticCountry);
    for (const [k, v] of Object.entries(config.exporterAliases)) this.#aliases.set(canonicalExporter(k), v);
    this.#feedInfo = config.feeds.map((f) => ({ id: f.id, channel: f.channel }));
    this.#acc = new StatsAccumulator(config.feeds.length);
    this.#metrics = deps.metrics
      ? new SelectionMetrics(
          deps.metrics,
          config.feeds.map((f) => f.id),
          () => this.#registry.feeds.filter((f) => f.state === 'active').length,
        )
      : undefined;
    this.#row = {
      ipVersion: 0,
      srcWords: this.#srcW,
      srcOff: 0,
      dstWords: this.#dstW,
      dstOff: 0,
      srcDomestic: false,
      dstDomestic: false,
      proto: 0,
      srcPort: 0,
      dstPort: 0,
      tcpFlags: 0,
      isDns: false,
      names: this.#names,
      answerAddresses: this.#answerAddresses,
    };
  }

  #onEvent(e: FeedEvent): void {
    this.#metrics?.event(e.type);
    // Ids, codes and times only: events never contain record data.
    const level = e.type === 'feed-refused' || e.type.endsWith('-refused') ? 'warn' : 'info';
    this.#d.logger?.[level]({ event: e }, `selection ${e.type}`);
    this.#d.onEvent?.(e);
  }

  activate(): FeedStatus[] {
    this.#activated = true;
    return this.#registry.activate(this.#d.clock.now());
  }

  start(): Promise<void> {
    if (!this.#activated) this.activate();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  applyRevocation(doc: unknown): RevocationResult {
    return this.#registry.applyRevocation(doc, this.#d.clock.now());
  }

  tick(): void {
    this.#registry.tick(this.#d.clock.now());
  }

  nextStopAt(): number | undefined {
    return this.#registry.nextStopAt();
  }

  feeds(): FeedStatus[] {
    return this.#registry.status();
  }

  totals(): SelectionStats {
    return this.#totals ?? this.#acc.toStats(this.#d.clock.now(), this.#feedInfo);
  }

  /** Feeds that take records of this exporter, in configuration order (memoised). */
  #feedsFor(exporter: string): FeedRuntime[] {
    let f = this.#exporterFeeds.get(exporter);
    if (!f) {
      const c = canonicalExporter(exporter);
      f = this.#registry.feeds.filter((x) => x.exporters === 'all' || x.exporters.has(c));
      // Bounded: exporter identities come from configuration and the collector's exporter table.
      if (this.#exporterFeeds.size < 65_536) this.#exporterFeeds.set(exporter, f);
    }
    return f;
  }

  #exporterName(exporter: string): string {
    let n = this.#aliasCache.get(exporter);
    if (n === undefined) {
      n = this.#aliases.get(canonicalExporter(exporter)) ?? exporter;
      if (this.#aliasCache.size < 65_536) this.#aliasCache.set(exporter, n);
    }
    return n;
  }

  #covers(d: BasisDocument, ipv: number, w: Uint32Array, off: number): boolean {
    return d.ranges.hasAt(ipv, w, off) && (d.narrow === null || d.narrow.hasAt(ipv, w, off));
  }

  /**
   * Decides one record (fields in `#row`). Returns -1 when selected (the feed, approval and
   * matched selectors are left in `#selFeed`, `#selApproval`, `#matched`), else the reason code.
   */
  #decide(feeds: readonly FeedRuntime[], t: number): number {
    const r = this.#row;
    const acc = this.#acc;
    const nReasons = 6;
    let best = R_FEED_INACTIVE;
    const bothDomestic = r.srcDomestic && r.dstDomestic;
    for (let k = 0; k < feeds.length; k++) {
      const f = feeds[k]!;
      acc.feedIn[f.index]!++;
      const reason = this.#decideFeed(f, t, bothDomestic);
      if (reason < 0) {
        acc.feedSelected[f.index]!++;
        return -1;
      }
      acc.feedDropped[f.index * nReasons + reason]!++;
      if (reason > best) best = reason;
    }
    return best;
  }

  #decideFeed(f: FeedRuntime, t: number, bothDomestic: boolean): number {
    const r = this.#row;
    if (f.state !== 'active') return R_FEED_INACTIVE;
    if (r.isDns ? !f.takesDns : !f.takesFlows) return R_DIRECTION;
    const ch = f.channelCode;
    if (bothDomestic && ch !== CH_TELEMETRY) return R_DOMESTIC;
    let ok: boolean;
    const ag = f.agreement;
    switch (ch) {
      case CH_TRANSIT:
        ok = !r.srcDomestic && !r.dstDomestic;
        break;
      case CH_SPEC_IN:
        ok = !r.srcDomestic && r.dstDomestic;
        break;
      case CH_SPEC_OUT:
        ok = r.srcDomestic && !r.dstDomestic;
        break;
      case CH_AGREEMENT:
        // From abroad to a consenting operator's range; the record's source is its initiator.
        ok =
          !r.srcDomestic &&
          r.dstDomestic &&
          ag !== undefined &&
          this.#covers(ag, r.ipVersion, r.dstWords, r.dstOff);
        break;
      default:
        // Operator telemetry: the operator's own systems on either end (e.g. its resolver and
        // the domestic clients asking it).
        ok =
          ag !== undefined &&
          (this.#covers(ag, r.ipVersion, r.srcWords, r.srcOff) ||
            this.#covers(ag, r.ipVersion, r.dstWords, r.dstOff));
    }
    if (!ok) return R_DIRECTION;
    if (!(t > 0)) return R_WINDOW;
    if (ag !== undefined && (ag.stopped || t < ag.from || t >= ag.until)) return R_WINDOW;
    const approvals = f.approvals;
    if (approvals.length === 0) {
      // An agreement feed without approvals: the agreement itself is the (implicit) selector.
      this.#selFeed = f;
      this.#selApproval = undefined;
      this.#selSlot = 127;
      this.#matchedCount = 0;
      return -1;
    }
    let inForce = false;
    for (let a = 0; a < approvals.length; a++) {
      const d = approvals[a]!;
      if (d.stopped || t < d.from || t >= d.until) continue;
      inForce = true;
      const sels = d.selectors!;
      const m = this.#matched;
      let c = 0;
      for (let s = 0; s < sels.length; s++) if (sels[s]!.matches(r)) m[c++] = s;
      this.#matchedCount = c;
      if (c > 0) {
        this.#selFeed = f;
        this.#selApproval = d;
        this.#selSlot = a;
        return -1;
      }
    }
    return inForce ? R_NO_SELECTOR : R_WINDOW;
  }

  /** The basis index of the current decision within `bases` (memoised per call). */
  #basisIndex(bases: SelectionBasis[], memo: Map<number | string, number>): number {
    const f = this.#selFeed!;
    const m = this.#matched;
    const c = this.#matchedCount;
    let key: number | string;
    if (c <= 1) {
      key = (f.index * 128 + this.#selSlot) * SINGLE_KEY_LIMIT + (c === 1 ? m[0]! : 0);
      // Runs of rows share a basis: skip the map for a repeat of the previous one.
      if (key === this.#lastBasisKey && bases === this.#lastBases) return this.#lastBasisIndex;
    } else key = `${f.index}|${this.#selSlot}|${Array.from(m.subarray(0, c)).join(',')}`;
    let i = memo.get(key);
    if (i === undefined) {
      const a = this.#selApproval;
      i = bases.length;
      bases.push({
        providerId: f.config.providerId,
        feedId: f.config.id,
        channel: f.config.channel,
        approvalId: a ? a.id : f.agreement!.id,
        selectorIds: a ? this.#matchedIds(a) : [...f.implicitSelectorIds],
      });
      memo.set(key, i);
    }
    if (typeof key === 'number') {
      this.#lastBasisKey = key;
      this.#lastBases = bases;
      this.#lastBasisIndex = i;
    }
    return i;
  }

  #matchedIds(a: BasisDocument): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.#matchedCount; i++) out.push(a.selectors![this.#matched[i]!]!.id);
    return out;
  }

  #begin(now: number): { params: LegalParameters; key: EpochKey } {
    if (!this.#activated) this.activate();
    this.#registry.tick(now);
    const params = this.#d.legal.parametersAt(now);
    this.#retention.set(params);
    this.#acc.reset();
    return { params, key: this.#d.keys.current() };
  }

  #finish(now: number): SelectionStats {
    const stats = this.#acc.toStats(now, this.#feedInfo);
    this.#metrics?.add(this.#acc);
    this.#totals = this.#totals ? addStats(this.#totals, stats) : stats;
    return stats;
  }

  selectBatch(batch: FlowBatch, protocol: ProtocolOf = 'ipfix'): BatchSelection {
    const now = this.#d.clock.now();
    const { params, key } = this.#begin(now);
    const table = this.#d.table;
    const n = batch.length;
    const out = new SelectedBatch(n, {
      tableVersion: table.tableVersion,
      parameterVersion: params.version,
      keyEpoch: key.epoch,
      selectedAt: now,
      countries: table.country.countries,
    });
    out.exporters = batch.exporters.map((e) => this.#exporterName(e));
    const feedsByExporter = batch.exporters.map((e) => this.#feedsFor(e));
    const protoMemo = new Map<RecordProtocol, number>();
    const protoOf = (i: number): number => {
      const p =
        typeof protocol === 'string'
          ? protocol
          : protocol(batch.exporters[batch.exporterIndex[i]!] ?? '', batch.templateId[i]!);
      let x = protoMemo.get(p);
      if (x === undefined) {
        x = out.protocols.length;
        out.protocols.push(p);
        protoMemo.set(p, x);
      }
      return x;
    };
    const fixedProto = typeof protocol === 'string' ? protoOf(0) : -1;
    const memo = new Map<number | string, number>();
    const r = this.#row;
    r.srcWords = batch.src;
    r.dstWords = batch.dst;
    r.isDns = false;
    this.#names.length = 0;
    this.#answerAddresses.length = 0;
    const acc = this.#acc;
    const dom = this.#domIdx;
    const empty: FeedRuntime[] = [];
    const srcW = batch.src;
    const dstW = batch.dst;
    // Country + ASN of every IPv4 endpoint up front, in batch passes whose cache misses overlap
    // (rows of other versions are skipped).
    if (this.#srcPair.length < n) {
      this.#srcPair = new Uint32Array(n);
      this.#dstPair = new Uint32Array(n);
      this.#selRows = new Uint32Array(n);
    }
    const srcPair = this.#srcPair;
    const dstPair = this.#dstPair;
    const selRows = this.#selRows;
    let nSel = 0;
    table.pair4Many(srcW, 4, n, srcPair, batch.ipVersion);
    table.pair4Many(dstW, 4, n, dstPair, batch.ipVersion);
    for (let i = 0; i < n; i++) {
      acc.in++;
      const ipv = batch.ipVersion[i]!;
      if (ipv !== 4 && ipv !== 6) {
        acc.dropped[R_SCHEMA]!++;
        continue;
      }
      const off = i * 4;
      // IPv4: country and ASN in one lookup per endpoint (PairIndex4); the ASN is read only
      // for selected rows. IPv6: class now, ASN after the decision.
      let sp = -1;
      let dp = -1;
      let sc: number;
      let dc: number;
      if (ipv === 4) {
        sp = srcPair[i]!;
        dp = dstPair[i]!;
        sc = table.pairClass(sp);
        dc = table.pairClass(dp);
      } else {
        sc = table.classifyAt(ipv, srcW, off);
        dc = table.classifyAt(ipv, dstW, off);
      }
      r.ipVersion = ipv;
      r.srcOff = off;
      r.dstOff = off;
      // Inlined PrefixTable.isDomesticClass: the domestic country, special and unknown space.
      r.srcDomestic = sc === dom || sc >= SPECIAL_BASE;
      r.dstDomestic = dc === dom || dc >= SPECIAL_BASE;
      r.proto = batch.proto[i]!;
      r.srcPort = batch.srcPort[i]!;
      r.dstPort = batch.dstPort[i]!;
      r.tcpFlags = batch.tcpFlags[i]!;
      const t = batch.end[i]! || batch.start[i]!;
      const reason = this.#decide(feedsByExporter[batch.exporterIndex[i]!] ?? empty, t);
      if (reason >= 0) {
        acc.dropped[reason]!++;
        continue;
      }
      acc.selected++;
      const j = nSel++;
      selRows[j] = i;
      out.srcClass[j] = sc;
      out.dstClass[j] = dc;
      out.srcAsn[j] = sp >= 0 ? table.pairAsn(sp) : table.asnAt(ipv, srcW, off);
      out.dstAsn[j] = dp >= 0 ? table.pairAsn(dp) : table.asnAt(ipv, dstW, off);
      out.srcPseudonymised[j] = r.srcDomestic ? 1 : 0;
      out.dstPseudonymised[j] = r.dstDomestic ? 1 : 0;
      out.basis[j] = this.#basisIndex(out.bases, memo);
      out.retainUntil[j] = this.#retention.retainUntil(this.#selFeed!.config.channel, t);
      out.protocolIndex[j] = fixedProto >= 0 ? fixedProto : protoOf(i);
    }
    // The allow-listed columns of the selected rows, column by column (SelectedBatch.copyRows).
    out.copyRows(batch, selRows, nSel);
    this.#pseudonymiseBatch(out, key);
    return { selected: out, stats: this.#finish(now) };
  }

  /** Replaces the domestic addresses of `out` by their pseudonyms (batch API), except waived ones. */
  #pseudonymiseBatch(out: SelectedBatch, key: EpochKey): void {
    const n = out.length;
    if (n === 0) return;
    const reg = this.#registry;
    if (reg.anyWaivers) {
      for (let j = 0; j < n; j++) {
        const v = out.ipVersion[j]!;
        if (out.srcPseudonymised[j] === 1 && reg.waivedAt(v, out.src, j * 4)) out.srcPseudonymised[j] = 0;
        if (out.dstPseudonymised[j] === 1 && reg.waivedAt(v, out.dst, j * 4)) out.dstPseudonymised[j] = 0;
      }
    }
    const cp = key.cryptoPan;
    let n4 = 0;
    let n6 = 0;
    for (let j = 0; j < n; j++) {
      const k = (out.srcPseudonymised[j]! + out.dstPseudonymised[j]!) | 0;
      if (out.ipVersion[j] === 4) n4 += k;
      else n6 += k;
    }
    if (n4 > 0) {
      const buf = new Uint32Array(n4);
      let k = 0;
      for (let j = 0; j < n; j++) {
        if (out.ipVersion[j] !== 4) continue;
        if (out.srcPseudonymised[j] === 1) buf[k++] = out.src[j * 4]!;
        if (out.dstPseudonymised[j] === 1) buf[k++] = out.dst[j * 4]!;
      }
      cp.pseudonymise4Many(buf, buf, n4);
      k = 0;
      for (let j = 0; j < n; j++) {
        if (out.ipVersion[j] !== 4) continue;
        if (out.srcPseudonymised[j] === 1) out.src[j * 4] = buf[k++]!;
        if (out.dstPseudonymised[j] === 1) out.dst[j * 4] = buf[k++]!;
      }
    }
    if (n6 > 0) {
      const buf = new Uint32Array(n6 * 4);
      let k = 0;
      const put = (w: Uint32Array, o: number): void => {
        buf.set(w.subarray(o, o + 4), k * 4);
        k++;
      };
      for (let j = 0; j < n; j++) {
        if (out.ipVersion[j] !== 6) continue;
        if (out.srcPseudonymised[j] === 1) put(out.src, j * 4);
        if (out.dstPseudonymised[j] === 1) put(out.dst, j * 4);
      }
      cp.pseudonymise6Many(buf, buf, n6);
      k = 0;
      for (let j = 0; j < n; j++) {
        if (out.ipVersion[j] !== 6) continue;
        if (out.srcPseudonymised[j] === 1) out.src.set(buf.subarray(k * 4, ++k * 4), j * 4);
        if (out.dstPseudonymised[j] === 1) out.dst.set(buf.subarray(k * 4, ++k * 4), j * 4);
      }
    }
  }

  /** Parses the endpoint addresses of a decoded record into `#srcW`/`#dstW`; 0 when unusable. */
  #parseEndpoints(f: Fields): number {
    const s6 = f.sourceIPv6Address;
    const d6 = f.destinationIPv6Address;
    if (typeof s6 === 'string' && typeof d6 === 'string') {
      return parseIpv6Into(s6, this.#srcW) && parseIpv6Into(d6, this.#dstW) ? 6 : 0;
    }
    const s4 = f.sourceIPv4Address;
    const d4 = f.destinationIPv4Address;
    if (typeof s4 === 'string' && typeof d4 === 'string') {
      const a = parseIpv4(s4);
      const b = parseIpv4(d4);
      if (a === undefined || b === undefined) return 0;
      this.#srcW[0] = a;
      this.#dstW[0] = b;
      return 4;
    }
    return 0;
  }

  selectRecords(records: Iterable<DecodedRecord>): RecordSelection {
    const now = this.#d.clock.now();
    const { params, key } = this.#begin(now);
    const table = this.#d.table;
    const tableVersion = table.tableVersion;
    const acc = this.#acc;
    const r = this.#row;
    r.srcWords = this.#srcW;
    r.dstWords = this.#dstW;
    r.srcOff = 0;
    r.dstOff = 0;
    const dom = this.#domIdx;
    const reg = this.#registry;
    const cp = key.cryptoPan;
    const isDomestic4 = (a: number): boolean => PrefixTable.isDomesticClass(table.classify4(a), dom);
    const w1 = new Uint32Array(4);
    const ctx: NameContext = {
      hasher: key.hasher,
      map4: (a) => {
        w1[0] = a;
        return isDomestic4(a) && !(reg.anyWaivers && reg.waivedAt(4, w1, 0)) ? cp.pseudonymise4(a) : a;
      },
      map6: (w) => {
        const c = table.classify6(w[0]!, w[1]!, w[2]!, w[3]!);
        if (PrefixTable.isDomesticClass(c, dom) && !(reg.anyWaivers && reg.waivedAt(6, w, 0)))
          cp.pseudonymise6(w, w);
      },
      mapAddress: (text) => {
        const p = tryParseAddress(text);
        if (!p) return undefined;
        if (p.version === 4) return formatIpv4(ctx.map4(p.w0));
        w1[0] = p.w0;
        w1[1] = p.w1;
        w1[2] = p.w2;
        w1[3] = p.w3;
        ctx.map6(w1);
        return formatIpv6(w1[0], w1[1], w1[2], w1[3]);
      },
    };
    const out: SelectedRecord[] = [];
    const empty: FeedRuntime[] = [];
    for (const rec of records) {
      acc.in++;
      try {
        const sel = this.#selectOne(rec, table, dom, ctx, tableVersion, params.version, key, now, empty);
        if (sel === undefined) continue;
        if (!isValidSelectedRecord(sel)) {
          // Should be impossible by construction: the schema check is the last line of defence.
          const fi = this.#selFeed!.index;
          acc.selected--;
          acc.dropped[R_SCHEMA]!++;
          acc.feedSelected[fi]!--;
          acc.feedDropped[fi * 6 + R_SCHEMA]!++;
          continue;
        }
        out.push(sel);
      } catch {
        // Never rethrown: the error could carry record data (R-SEL-1). Counted, and a bug if seen.
        acc.errors++;
        acc.dropped[R_SCHEMA]!++;
      }
    }
    return { records: out, stats: this.#finish(now) };
  }

  #selectOne(
    rec: DecodedRecord,
    table: PrefixTable,
    dom: number,
    ctx: NameContext,
    tableVersion: string,
    parameterVersion: string,
    key: EpochKey,
    now: number,
    empty: FeedRuntime[],
  ): SelectedRecord | undefined {
    const acc = this.#acc;
    const r = this.#row;
    if (rec.recordType !== 'flow' && rec.recordType !== 'dns') {
      acc.dropped[R_SCHEMA]!++;
      return undefined;
    }
    const f = rec.fields;
    const ipv = this.#parseEndpoints(f);
    if (ipv === 0) {
      acc.dropped[R_SCHEMA]!++;
      return undefined;
    }
    const sw = this.#srcW;
    const dw = this.#dstW;
    const sc = table.classifyAt(ipv, sw, 0);
    const dc = table.classifyAt(ipv, dw, 0);
    r.ipVersion = ipv;
    r.srcDomestic = PrefixTable.isDomesticClass(sc, dom);
    r.dstDomestic = PrefixTable.isDomesticClass(dc, dom);
    r.proto = intField(f, 'protocolIdentifier', 255);
    r.srcPort = intField(f, 'sourceTransportPort', 0xffff);
    r.dstPort = intField(f, 'destinationTransportPort', 0xffff);
    r.tcpFlags = intField(f, 'tcpControlBits', 0xffff);
    const isDns = rec.recordType === 'dns';
    r.isDns = isDns;
    if (isDns) dnsMatchInputs(f, this.#names, this.#answerAddresses);
    else {
      this.#names.length = 0;
      this.#answerAddresses.length = 0;
    }
    const t = eventTimeOf(rec);
    const exporter = typeof rec.observation?.exporter === 'string' ? rec.observation.exporter : '';
    const reason = this.#decide(this.#feedsFor(exporter) ?? empty, t);
    if (reason >= 0) {
      acc.dropped[reason]!++;
      return undefined;
    }
    acc.selected++;
    // Stamp country and ASN from the raw addresses, then pseudonymise.
    const srcAsn = table.asnAt(ipv, sw, 0);
    const dstAsn = table.asnAt(ipv, dw, 0);
    const reg = this.#registry;
    const srcP = r.srcDomestic && !(reg.anyWaivers && reg.waivedAt(ipv, sw, 0));
    const dstP = r.dstDomestic && !(reg.anyWaivers && reg.waivedAt(ipv, dw, 0));
    const cp = key.cryptoPan;
    const fields: Fields = {};
    if (ipv === 4) {
      fields.sourceIPv4Address = formatIpv4(srcP ? cp.pseudonymise4(sw[0]!) : sw[0]!);
      fields.destinationIPv4Address = formatIpv4(dstP ? cp.pseudonymise4(dw[0]!) : dw[0]!);
    } else {
      if (srcP) cp.pseudonymise6(sw, sw);
      if (dstP) cp.pseudonymise6(dw, dw);
      fields.sourceIPv6Address = formatIpv6(sw[0]!, sw[1]!, sw[2]!, sw[3]!);
      fields.destinationIPv6Address = formatIpv6(dw[0]!, dw[1]!, dw[2]!, dw[3]!);
    }
    const allowed = isDns ? DNS_COPY : FLOW_COPY;
    for (const k of Object.keys(f)) {
      if (!allowed.has(k)) continue;
      const v: FieldValue | undefined = f[k];
      if (v === undefined) continue;
      if (k === 'dnsQueryName') {
        if (typeof v === 'string') fields[k] = transformName(v, ctx);
      } else if (k === 'dnsAnswers') {
        const a = transformAnswers(v, ctx);
        if (a !== undefined) fields[k] = a;
      } else fields[k] = v;
    }
    if (rec.recordType === 'flow') {
      fields.samplingInterval = rec.samplingInterval;
      fields.observationDomainId = rec.observation.observationDomainId;
    }
    const feed = this.#selFeed!;
    const a = this.#selApproval;
    const providerId = feed.config.providerId;
    const countryOf = (c: number): string => table.countryOf(c) ?? 'ZZ';
    return {
      recordId: makeRecordId(
        providerId,
        this.#exporterName(exporter),
        rec.observation.observationDomainId,
        rec.observation.sequence,
        rec.recordIndex,
      ),
      recordType: rec.recordType,
      protocol: rec.protocol,
      fields,
      source: { country: countryOf(sc), asn: srcAsn, pseudonymised: srcP },
      destination: { country: countryOf(dc), asn: dstAsn, pseudonymised: dstP },
      provenance: {
        providerId,
        feedId: feed.config.id,
        channel: feed.config.channel,
        approvalId: a ? a.id : feed.agreement!.id,
        selectorIds: a ? this.#matchedIds(a) : [...feed.implicitSelectorIds],
        tableVersion,
        parameterVersion,
        keyEpoch: key.epoch,
        selectedAt: now,
        retainUntil: this.#retention.retainUntil(feed.config.channel, t),
      },
    };
  }
}
