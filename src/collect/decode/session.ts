/**
 * The decoder session: one template/sampling/sequence state for many exporters, kept apart per
 * exporter address, protocol and observation domain (source id). Protocol walkers (netflow9.ts,
 * ipfix.ts) parse structure and call back into the session; data sets are decoded by the compiled
 * template functions of template.ts, into full records (`decode`) or a columnar batch
 * (`decodeToBatch`). sFlow v5 datagrams go to the sFlow decoder (sflow/) with the session's one
 * `SflowState`.
 *
 * Hot path (CONVENTIONS habit 5): per message the session does no allocation in batch mode when
 * no event sink listens, resolves the exporter/domain once (a one-entry cache per exporter and
 * protocol in front of the maps) and keeps per-domain references to its metric counters and batch
 * exporter index, so that per-set work is a template lookup and a call of the compiled decoder.
 */
import type { Clock } from '../../common/clock.ts';
import type { Counter, MetricsRegistry } from '../../common/metrics.ts';
import type { Fields, FieldValue, FlowBatch, OptionsRecord, RawDatagram } from '../../common/schema/index.ts';
import { DecoderStateError } from './errors.ts';
import { walkIpfix } from './ipfix.ts';
import {
  CLOCK_OFFSET_EVENT_MS,
  MAX_COMPILED_SHAPES,
  MAX_DOMAINS,
  MAX_FIELDS_PER_TEMPLATE,
  MAX_PENDING_BYTES,
  MAX_RECORDS_PER_SET,
  MAX_SAMPLERS_PER_DOMAIN,
  MAX_TEMPLATES,
  NETFLOW5_MAX_RECORDS,
  SEQUENCE_REORDER_WINDOW_PACKETS,
  SEQUENCE_REORDER_WINDOW_RECORDS,
  UPTIME_RESTART_SLACK_MS,
} from './limits.ts';
import type { MessageHandler, Protocol } from './message.ts';
import { DecoderMetrics, type MalformedReason } from './metrics.ts';
import {
  NETFLOW5_HEADER_LENGTH,
  NETFLOW5_RECORD_LENGTH,
  netflow5Batch,
  netflow5Record,
  readNetflow5Header,
} from './netflow5.ts';
import { walkNetflow9 } from './netflow9.ts';
import {
  createSflowState,
  decodeSflowDatagram,
  decodeSflowDatagramToBatch,
  type SflowContext,
  type SflowState,
  type SflowStats,
} from './sflow/index.ts';
import {
  batchDecoder,
  buildShape,
  decodeGeneric,
  fullDecoder,
  RecordContext,
  shapeKey,
  type FieldSpecifier,
  type TemplateShape,
} from './template.ts';
import type {
  BatchSink,
  DecoderSession,
  DecoderSessionOptions,
  DecoderState,
  DecodeSink,
  ExporterStats,
  PersistedTemplate,
} from './types.ts';

/** Dependencies of a decoder session. */
export interface DecoderSessionDeps {
  clock: Clock;
  metrics: MetricsRegistry;
}

interface TemplateEntry {
  readonly templateId: number;
  readonly protocol: 'netflow9' | 'ipfix';
  readonly specs: FieldSpecifier[];
  readonly shape: TemplateShape;
  lastSeen: number;
}

/** Index of a template-based protocol in per-protocol tables. */
const PROTO_INDEX: Readonly<Record<Protocol, number>> = { netflow5: 0, netflow9: 1, ipfix: 2 };

/** State per exporter address + protocol + observation domain. */
interface Domain {
  readonly exporter: string;
  readonly domainId: number;
  readonly protocol: Protocol;
  readonly templates: Map<number, TemplateEntry>;
  readonly samplers: Map<number | string, number>;
  /** Interval from options data without a sampler id; 0 = none. */
  exporterRate: number;
  /** IPFIX systemInitTimeMilliseconds from options data; NaN = unknown. */
  sysInit: number;
  /** `samplingOverrides[exporter]`, or 1: resolved once, not per set. */
  readonly override: number;
  /** Next expected sequence number; -1 = unknown (first message, or after a pending set). */
  expected: number;
  lastUptime: number;
  lastSeen: number;
  datagrams: number;
  records: number;
  lost: number;
  reordered: number;
  restarts: number;
  clockOffsetMs: number;
  reportedOffset: number;
  silent: boolean;
  /** This protocol's metric children, resolved once per domain rather than per message. */
  readonly cDatagrams: Counter;
  readonly cFlows: Counter;
  readonly cOptions: Counter;
  readonly cLost: Counter;
  readonly cReordered: Counter;
  readonly cRestarts: Counter;
  /** The batch whose exporter table `batchExporter` indexes (batches are reused, so it rarely changes). */
  batchRef: FlowBatch | null;
  batchExporter: number;
}

/** The domains of one exporter address, with the last one used per protocol (a lookup cache). */
interface ExporterEntry {
  /** Domains by protocol index * 2^32 + observation domain id. */
  readonly domains: Map<number, Domain>;
  /** Last domain used, per protocol index. */
  readonly last: (Domain | null)[];
}

/** A data set held until its template arrives, with the header context it came with. */
interface PendingSet {
  readonly domain: Domain;
  readonly protocol: Protocol;
  readonly templateId: number;
  readonly bytes: Uint8Array;
  readonly sequence: number;
  readonly exportMs: number;
  readonly sysUptime: number;
  readonly receivedAt: number;
  /** recordIndex base: (position of the set in its message + 1) * 65536, see `decodePending`. */
  readonly indexBase: number;
}

/** A sink known to take events (so that event objects are only built when someone listens). */
type EventSink = Required<Pick<DecodeSink, 'event'>>;

/** Sampling-related element ids applied from options data. */
const OPT = {
  samplingInterval: 34,
  samplerId: 48,
  samplerRandomInterval: 50,
  sysInit: 160,
  selectorId: 302,
  packetInterval: 305,
  packetSpace: 306,
  sampleSize: 309,
  populationSize: 310,
} as const;

const TWO_32 = 4294967296;

function num(v: FieldValue | undefined): number {
  return typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
}

/**
 * Creates a decoder session. No I/O; the clock is read only for `exportState().savedAt`.
 * Metrics are registered on `deps.metrics` (names in metrics.ts).
 */
export function createDecoderSession(deps: DecoderSessionDeps, opts: DecoderSessionOptions): DecoderSession {
  return new Session(deps, opts);
}

class Session implements DecoderSession, MessageHandler {
  private readonly m: DecoderMetrics;
  private readonly exporterMap = new Map<string, ExporterEntry>();
  /** One-entry cache in front of `exporterMap` (consecutive datagrams mostly share an exporter). */
  private lastAddress: string | null = null;
  private lastEntry: ExporterEntry | null = null;
  private domainCount = 0;
  private templateCount = 0;
  private readonly shapes = new Map<string, TemplateShape>();
  private pending: PendingSet[] = [];
  private pendingBytes = 0;
  private readonly X = new RecordContext();
  /**
   * sFlow sequence state for every agent. Not part of `exportState`: sFlow has no templates, each
   * datagram carries its sampling rate, and sequence tracking simply starts over after a restart.
   */
  private readonly sflow: SflowState = createSflowState();
  /** sFlow totals already turned into metrics (see `syncSflowMetrics`). */
  private readonly sflowSeen: SflowStats = createSflowState().stats;
  private readonly sflowCtx: SflowContext = { exporter: '', receivedAt: 0 };

  // Per-message state (the session decodes one message at a time).
  private d: RawDatagram | null = null;
  private full = true;
  private sink: DecodeSink | undefined;
  /** `sink` when it takes events, else null: events are built only when this is set. */
  private ev: EventSink | null = null;
  private out: BatchSink | undefined;
  private hProtocol: Protocol = 'ipfix';
  private hSequence = 0;
  private hExportMs = 0;
  private hSysUptime = NaN;
  private dom: Domain | null = null;
  private recordIndex = 0;
  private dataRecords = 0;
  private hadPending = false;
  private setOrdinal = 0;

  constructor(
    private readonly deps: DecoderSessionDeps,
    private readonly opts: DecoderSessionOptions,
  ) {
    this.m = new DecoderMetrics(deps.metrics, () => this.templateCount);
  }

  // ---- public API -------------------------------------------------------------------------

  decode(d: RawDatagram, sink: DecodeSink): void {
    this.run(d, true, sink, undefined);
  }

  decodeToBatch(d: RawDatagram, out: BatchSink, sink?: DecodeSink): void {
    this.run(d, false, sink, out);
  }

  tick(nowMs: number, sink?: DecodeSink): void {
    const ev = sink?.event ? (sink as EventSink) : null;
    const silenceMs = this.opts.silenceAlarmMs;
    for (const entry of this.exporterMap.values()) {
      for (const dom of entry.domains.values()) {
        for (const [id, t] of dom.templates) {
          if (nowMs - t.lastSeen > this.opts.templateTimeoutMs) {
            dom.templates.delete(id);
            this.templateCount--;
            this.m.templatesExpired.inc();
            ev?.event({
              kind: 'template-expired',
              exporter: dom.exporter,
              observationDomainId: dom.domainId,
              templateId: id,
            });
          }
        }
        if (silenceMs > 0 && !dom.silent && nowMs - dom.lastSeen >= silenceMs) {
          dom.silent = true;
          this.m.silent.inc();
          ev?.event({
            kind: 'exporter-silent',
            exporter: dom.exporter,
            observationDomainId: dom.domainId,
            silentForMs: nowMs - dom.lastSeen,
          });
        }
      }
    }
    if (silenceMs > 0) {
      for (const a of this.sflow.agents.values()) {
        if (a.silent || nowMs - a.lastSeen < silenceMs) continue;
        a.silent = true;
        this.m.silent.inc();
        ev?.event({
          kind: 'exporter-silent',
          exporter: a.exporter,
          observationDomainId: a.subAgentId,
          silentForMs: nowMs - a.lastSeen,
        });
      }
    }
    if (this.pending.length > 0) {
      const keep: PendingSet[] = [];
      for (const p of this.pending) {
        if (nowMs - p.receivedAt > this.opts.pendingMaxAgeMs) this.dropPending(p, 'timeout', ev);
        else keep.push(p);
      }
      this.pending = keep;
    }
  }

  exporters(): ExporterStats[] {
    const out: ExporterStats[] = [];
    for (const entry of this.exporterMap.values()) {
      for (const d of entry.domains.values()) {
        out.push({
          exporter: d.exporter,
          observationDomainId: d.domainId,
          protocol: d.protocol,
          lastSeen: d.lastSeen,
          datagrams: d.datagrams,
          records: d.records,
          lost: d.lost,
          reordered: d.reordered,
          restarts: d.restarts,
          clockOffsetMs: Number.isNaN(d.clockOffsetMs) ? null : d.clockOffsetMs,
          silent: d.silent,
          templates: d.templates.size,
        });
      }
    }
    for (const a of this.sflow.agents.values()) {
      out.push({
        exporter: a.exporter,
        observationDomainId: a.subAgentId,
        protocol: 'sflow5',
        lastSeen: a.lastSeen,
        datagrams: a.datagrams,
        records: a.records,
        lost: a.lost,
        reordered: a.reordered,
        restarts: a.restarts,
        // sFlow datagrams carry no wall-clock time, so no offset can be measured.
        clockOffsetMs: null,
        silent: a.silent,
        templates: 0,
      });
    }
    return out;
  }

  exportState(): DecoderState {
    // sFlow state is deliberately absent (see `sflow`): there is nothing to persist.
    const templates: PersistedTemplate[] = [];
    const sampling: DecoderState['sampling'] = [];
    for (const entry of this.exporterMap.values()) {
      for (const d of entry.domains.values()) {
        for (const t of d.templates.values()) {
          templates.push({
            exporter: d.exporter,
            protocol: t.protocol,
            observationDomainId: d.domainId,
            templateId: t.templateId,
            scopeCount: t.shape.scopeCount,
            fields: t.specs.map((f) => ({ id: f.id, length: f.length, enterprise: f.enterprise })),
            lastSeen: t.lastSeen,
          });
        }
        if (d.protocol === 'netflow5') continue;
        const protocol = d.protocol;
        for (const [id, interval] of d.samplers) {
          if (typeof id === 'number')
            sampling.push({
              exporter: d.exporter,
              protocol,
              observationDomainId: d.domainId,
              samplerId: id,
              interval,
            });
        }
        // Exporter-wide sampling (options data without a sampler id) is saved with samplerId -1.
        if (d.exporterRate > 0)
          sampling.push({
            exporter: d.exporter,
            protocol,
            observationDomainId: d.domainId,
            samplerId: -1,
            interval: d.exporterRate,
          });
      }
    }
    return { version: 1, savedAt: this.deps.clock.now(), templates, sampling };
  }

  importState(state: unknown): void {
    const s = validateState(state);
    if (this.templateCount + s.templates.length > MAX_TEMPLATES)
      throw new DecoderStateError(`templates: more than ${MAX_TEMPLATES}`);
    for (const t of s.templates) {
      const dom = this.domain(t.exporter, t.protocol, t.observationDomainId);
      if (!dom) throw new DecoderStateError(`templates: more than ${MAX_DOMAINS} exporter domains`);
      const specs = t.fields.map((f) => ({ id: f.id, length: f.length, enterprise: f.enterprise }));
      const shape = this.shape(t.protocol, t.scopeCount, specs);
      if (!dom.templates.has(t.templateId)) this.templateCount++;
      dom.templates.set(t.templateId, {
        templateId: t.templateId,
        protocol: t.protocol,
        specs,
        shape,
        lastSeen: t.lastSeen,
      });
    }
    for (const x of s.sampling) {
      const dom = this.domain(x.exporter, x.protocol ?? 'ipfix', x.observationDomainId);
      if (!dom) throw new DecoderStateError(`sampling: more than ${MAX_DOMAINS} exporter domains`);
      if (x.samplerId < 0) dom.exporterRate = x.interval;
      else if (dom.samplers.size < MAX_SAMPLERS_PER_DOMAIN || dom.samplers.has(x.samplerId))
        dom.samplers.set(x.samplerId, x.interval);
    }
  }

  // ---- message dispatch -------------------------------------------------------------------

  private run(d: RawDatagram, full: boolean, sink: DecodeSink | undefined, out: BatchSink | undefined): void {
    this.d = d;
    this.full = full;
    this.sink = sink;
    this.ev = sink !== undefined && sink.event !== undefined ? (sink as EventSink) : null;
    this.out = out;
    this.dom = null;
    this.recordIndex = 0;
    this.dataRecords = 0;
    this.hadPending = false;
    this.setOrdinal = 0;
    const b = d.bytes;
    if (b.length < 2) {
      this.malformedAs('ipfix', 'short-header', 0);
    } else {
      const version = (b[0]! << 8) | b[1]!;
      if (version === 10) {
        walkIpfix(b, this);
        if (this.dom !== null) this.endSequence(this.dom, SEQUENCE_REORDER_WINDOW_RECORDS, this.dataRecords);
      } else if (version === 9) {
        walkNetflow9(b, this);
      } else if (version === 5) {
        this.netflow5(b);
      } else if (version === 0 && b.length >= 4 && ((b[2]! << 8) | b[3]!) === 5) {
        // A first 32-bit word of 5 is sFlow v5 (NetFlow/IPFIX put their 16-bit version first);
        // the sFlow decoder judges the rest, so truncated datagrams are counted as sFlow.
        this.sflowDatagram(d);
      } else {
        this.m.unsupported.inc();
        this.ev?.event({ kind: 'unsupported-version', exporter: d.exporter.address, version });
      }
    }
    this.d = null;
    this.sink = undefined;
    this.ev = null;
    this.out = undefined;
    // The last message's bytes are not kept alive by the view cache.
    this.X.dvBytes = null;
  }

  /** MessageHandler: starts a message (domain lookup, statistics, clock offset, v9 sequence). */
  begin(
    protocol: Protocol,
    domainId: number,
    sequence: number,
    exportMs: number,
    sysUptime: number,
  ): boolean {
    const d = this.d!;
    this.hProtocol = protocol;
    this.hSequence = sequence;
    this.hExportMs = exportMs;
    this.hSysUptime = sysUptime;
    const dom = this.domain(d.exporter.address, protocol, domainId);
    if (dom === null) {
      this.malformedAs(protocol, 'domain-limit', 0);
      return false;
    }
    this.dom = dom;
    const receivedAt = d.receivedAt;
    dom.lastSeen = receivedAt;
    dom.silent = false;
    dom.datagrams++;
    dom.cDatagrams.inc();
    const offset = receivedAt - exportMs;
    dom.clockOffsetMs = offset;
    const reported = dom.reportedOffset;
    if (!(offset - reported <= CLOCK_OFFSET_EVENT_MS && reported - offset <= CLOCK_OFFSET_EVENT_MS)) {
      // Also true while `reported` is NaN (first message).
      dom.reportedOffset = offset;
      this.ev?.event({
        kind: 'clock-offset',
        exporter: dom.exporter,
        observationDomainId: dom.domainId,
        offsetMs: offset,
      });
    }
    if (protocol === 'netflow9') this.sequence(dom, sequence, 1, sysUptime, SEQUENCE_REORDER_WINDOW_PACKETS);
    return true;
  }

  template(templateId: number, scopeCount: number, specs: FieldSpecifier[]): void {
    const dom = this.dom!;
    const protocol = this.hProtocol === 'netflow9' ? 'netflow9' : 'ipfix';
    const key = shapeKey(protocol, scopeCount, specs);
    const existing = dom.templates.get(templateId);
    const receivedAt = this.d!.receivedAt;
    if (existing && existing.shape.key === key) {
      existing.lastSeen = receivedAt;
      return;
    }
    if (!existing && this.templateCount >= MAX_TEMPLATES) {
      this.malformed('template-limit', 0);
      return;
    }
    const shape = this.shape(protocol, scopeCount, specs);
    if (shape.minLength === 0) {
      // Zero-length records would make a data set decode forever.
      this.malformed('template-empty-record', 0);
      return;
    }
    dom.templates.set(templateId, { templateId, protocol, specs, shape, lastSeen: receivedAt });
    const ident = { exporter: dom.exporter, observationDomainId: dom.domainId, templateId };
    if (existing) {
      this.m.templatesChanged.inc();
      this.ev?.event({ kind: 'template-changed', ...ident });
    } else {
      this.templateCount++;
      this.m.templatesAdded.inc();
      this.ev?.event({ kind: 'template-added', ...ident, options: scopeCount > 0 });
    }
    if (this.pending.length > 0) this.decodePending(dom, templateId);
  }

  withdraw(templateId: number, options: boolean): void {
    const dom = this.dom!;
    const all = templateId === (options ? 3 : 2);
    const ids = all
      ? [...dom.templates.values()].filter((t) => t.shape.scopeCount > 0 === options).map((t) => t.templateId)
      : dom.templates.has(templateId)
        ? [templateId]
        : [];
    for (const id of ids) {
      dom.templates.delete(id);
      this.templateCount--;
      this.m.templatesWithdrawn.inc();
      this.ev?.event({
        kind: 'template-withdrawn',
        exporter: dom.exporter,
        observationDomainId: dom.domainId,
        templateId: id,
      });
    }
  }

  data(setId: number, b: Uint8Array, start: number, end: number): void {
    const dom = this.dom!;
    const ordinal = this.setOrdinal++;
    const t = dom.templates.get(setId);
    if (t === undefined) {
      this.hold(dom, setId, b, start, end, ordinal);
      return;
    }
    const n = this.decodeSet(
      dom,
      t,
      b,
      start,
      end,
      this.hSequence,
      this.hExportMs,
      this.hSysUptime,
      this.recordIndex,
    );
    this.recordIndex += n;
    this.dataRecords += n;
  }

  malformed(reason: MalformedReason, offset: number): void {
    this.malformedAs(this.hProtocol, reason, offset);
  }

  // ---- sFlow ------------------------------------------------------------------------------

  /** One sFlow v5 datagram through the sFlow decoder, with this session's sFlow state. */
  private sflowDatagram(d: RawDatagram): void {
    const ctx = this.sflowCtx;
    ctx.exporter = d.exporter.address;
    ctx.receivedAt = d.receivedAt;
    if (this.full) decodeSflowDatagram(d.bytes, ctx, this.sflow, this.sink!);
    else decodeSflowDatagramToBatch(d.bytes, ctx, this.sflow, this.out!, this.sink);
    this.syncSflowMetrics();
  }

  /**
   * Moves what the sFlow decoder counted in its state since the last call into the metrics: the
   * decoder keeps plain totals (it is pure and knows no registry), the session owns the metrics.
   */
  private syncSflowMetrics(): void {
    const s = this.sflow.stats;
    const seen = this.sflowSeen;
    const m = this.m;
    if (s.datagrams !== seen.datagrams) {
      m.datagrams.sflow5.inc(s.datagrams - seen.datagrams);
      seen.datagrams = s.datagrams;
    }
    if (s.flows !== seen.flows) {
      m.flows.sflow5.inc(s.flows - seen.flows);
      seen.flows = s.flows;
    }
    if (s.counters !== seen.counters) {
      m.counters.inc(s.counters - seen.counters);
      seen.counters = s.counters;
    }
    if (s.malformed !== seen.malformed) {
      m.malformed.sflow.inc(s.malformed - seen.malformed);
      seen.malformed = s.malformed;
    }
    // Sequence anomalies, drops and evictions are rare: one comparison covers them all.
    if (
      s.lost !== seen.lost ||
      s.reordered !== seen.reordered ||
      s.restarts !== seen.restarts ||
      s.samplesLost !== seen.samplesLost ||
      s.samplingDrops !== seen.samplingDrops ||
      s.agentsEvicted !== seen.agentsEvicted ||
      s.sourcesEvicted !== seen.sourcesEvicted
    ) {
      m.lost.sflow5.inc(s.lost - seen.lost);
      m.reordered.sflow5.inc(s.reordered - seen.reordered);
      m.restarts.sflow5.inc(s.restarts - seen.restarts);
      m.sflowSamplesLost.inc(s.samplesLost - seen.samplesLost);
      m.sflowSamplingDrops.inc(s.samplingDrops - seen.samplingDrops);
      m.sflowAgentsEvicted.inc(s.agentsEvicted - seen.agentsEvicted);
      m.sflowSourcesEvicted.inc(s.sourcesEvicted - seen.sourcesEvicted);
      seen.lost = s.lost;
      seen.reordered = s.reordered;
      seen.restarts = s.restarts;
      seen.samplesLost = s.samplesLost;
      seen.samplingDrops = s.samplingDrops;
      seen.agentsEvicted = s.agentsEvicted;
      seen.sourcesEvicted = s.sourcesEvicted;
    }
  }

  // ---- NetFlow v5 -------------------------------------------------------------------------

  private netflow5(b: Uint8Array): void {
    if (b.length < NETFLOW5_HEADER_LENGTH) {
      this.malformedAs('netflow5', 'short-header', 0);
      return;
    }
    const h = readNetflow5Header(b);
    if (!this.begin('netflow5', (h.engineType << 8) | h.engineId, h.sequence, h.exportMs, h.sysUptime))
      return;
    const dom = this.dom!;
    let count = h.count;
    const fit = Math.floor((b.length - NETFLOW5_HEADER_LENGTH) / NETFLOW5_RECORD_LENGTH);
    if (count > NETFLOW5_MAX_RECORDS || count > fit) {
      this.malformed('v5-count', 2);
      count = Math.min(count, fit, NETFLOW5_MAX_RECORDS);
    }
    this.sequence(dom, h.sequence, h.count, h.sysUptime, SEQUENCE_REORDER_WINDOW_RECORDS);
    const X = this.X;
    X.protocol = 'netflow5';
    X.exportMs = h.exportMs;
    X.sysUptime = h.sysUptime;
    X.rate = h.samplingInterval > 0 ? h.samplingInterval : this.defaultRate(dom, true);
    X.recordIndex = 0;
    const end = NETFLOW5_HEADER_LENGTH + count * NETFLOW5_RECORD_LENGTH;
    if (this.full) {
      X.obs = {
        exporter: dom.exporter,
        observationDomainId: dom.domainId,
        templateId: 0,
        sequence: h.sequence,
        exportTime: h.exportMs,
      };
      const sink = this.sink!;
      for (let o = NETFLOW5_HEADER_LENGTH; o < end; o += NETFLOW5_RECORD_LENGTH)
        sink.record(netflow5Record(b, o, X, h.engineType, h.engineId));
    } else {
      X.domainId = dom.domainId;
      X.sequence = h.sequence;
      this.batchLoop(b, NETFLOW5_HEADER_LENGTH, end, dom, netflow5Batch);
    }
    dom.records += count;
    dom.cFlows.inc(count);
  }

  // ---- data sets --------------------------------------------------------------------------

  /**
   * Decodes one data set with its template; returns the records produced. Truncated or malformed
   * records end the set with a `malformed` event (fixed-length templates skip just the record).
   */
  private decodeSet(
    dom: Domain,
    t: TemplateEntry,
    b: Uint8Array,
    start: number,
    end: number,
    sequence: number,
    exportMs: number,
    sysUptime: number,
    indexBase: number,
  ): number {
    const X = this.X;
    const shape = t.shape;
    X.protocol = t.protocol;
    X.exportMs = exportMs;
    X.sysUptime = sysUptime;
    X.sysInit = dom.sysInit;
    X.samplers = dom.samplers;
    X.templates = dom.templates;
    X.recordIndex = indexBase;
    X.depth = 0;
    const options = shape.scopeCount > 0;
    if (options || this.full) {
      X.obs = {
        exporter: dom.exporter,
        observationDomainId: dom.domainId,
        templateId: t.templateId,
        sequence,
        exportTime: exportMs,
      };
    }
    if (options) return this.optionsSet(dom, shape, b, start, end);
    X.rate = this.defaultRate(dom, false);
    if (!this.full) {
      X.domainId = dom.domainId;
      X.templateId = t.templateId;
      X.sequence = sequence;
      X.recordsLeft = MAX_RECORDS_PER_SET;
      const n = this.batchLoop(b, start, end, dom, shape.batch ?? batchDecoder(shape));
      dom.records += n;
      dom.cFlows.inc(n);
      return n;
    }
    const fn = shape.full ?? fullDecoder(shape);
    X.view(b);
    const sink = this.sink!;
    const min = shape.minLength;
    const fixed = shape.fixedLength;
    let o = start;
    let n = 0;
    while (end - o >= min) {
      if (n >= MAX_RECORDS_PER_SET) {
        this.malformed('too-many-records', o);
        break;
      }
      const r = fn(b, o, end, X);
      if (r === null) {
        this.malformed(X.err as MalformedReason, o);
        if (fixed < 0) break;
        o += fixed;
        continue;
      }
      o = X.next;
      n++;
      sink.record(r);
    }
    dom.records += n;
    dom.cFlows.inc(n);
    return n;
  }

  /** Runs a batch decoder over a set, flushing the batch sink whenever it fills up. */
  private batchLoop(
    b: Uint8Array,
    start: number,
    end: number,
    dom: Domain,
    fn: (b: Uint8Array, o: number, end: number, B: FlowBatch, X: RecordContext) => number,
  ): number {
    const X = this.X;
    const out = this.out!;
    const first = X.recordIndex;
    let batch = out.batch;
    X.exporterIndex = this.batchExporter(dom, batch);
    let o = start;
    for (;;) {
      const rc = fn(b, o, end, batch, X);
      if (rc === 1) {
        out.flush();
        batch = out.batch;
        // A sink that does not empty the batch would make this loop spin; stop instead.
        if (batch.length >= batch.capacity) break;
        X.exporterIndex = this.batchExporter(dom, batch);
        o = X.next;
        continue;
      }
      if (rc === 2) this.malformed(X.err as MalformedReason, X.next);
      break;
    }
    return X.recordIndex - first;
  }

  /** The domain's exporter index in `batch`'s exporter table, looked up once per batch object. */
  private batchExporter(dom: Domain, batch: FlowBatch): number {
    if (dom.batchRef !== batch) {
      dom.batchExporter = batch.exporterId(dom.exporter);
      dom.batchRef = batch;
    }
    return dom.batchExporter;
  }

  private optionsSet(dom: Domain, shape: TemplateShape, b: Uint8Array, start: number, end: number): number {
    const X = this.X;
    const sink = this.sink;
    let o = start;
    let n = 0;
    while (end - o >= shape.minLength) {
      if (n >= MAX_RECORDS_PER_SET) {
        this.malformed('too-many-records', o);
        break;
      }
      const scope: Fields = {};
      const fields: Fields = {};
      if (!decodeGeneric(shape, b, o, end, X, scope, fields)) {
        this.malformed(X.err as MalformedReason, o);
        break;
      }
      o = X.next;
      n++;
      const rec: OptionsRecord = {
        recordType: 'options',
        protocol: X.protocol,
        observation: X.obs,
        recordIndex: X.recordIndex++,
        scope,
        fields,
      };
      this.applyOptions(dom, shape, scope, fields);
      sink?.record(rec);
    }
    dom.records += n;
    dom.cOptions.inc(n);
    return n;
  }

  /** Learns sampling intervals (per sampler/selector id or exporter-wide) and the system init time. */
  private applyOptions(dom: Domain, shape: TemplateShape, scope: Fields, fields: Fields): void {
    let interval = NaN;
    let pktInterval = NaN;
    let pktSpace = NaN;
    let population = NaN;
    let size = NaN;
    let sampler: number | string | undefined;
    for (let i = 0; i < shape.fields.length; i++) {
      const f = shape.fields[i]!;
      if (f.def.enterprise !== 0) continue;
      if (shape.protocol === 'netflow9' && i < shape.scopeCount) continue;
      const v = i < shape.scopeCount ? scope[f.name] : fields[f.name];
      switch (f.def.id) {
        case OPT.samplingInterval:
        case OPT.samplerRandomInterval:
          if (Number.isNaN(interval) || interval === 0) interval = num(v);
          break;
        case OPT.samplerId:
        case OPT.selectorId:
          if (typeof v === 'number' || typeof v === 'string') sampler = v;
          break;
        case OPT.packetInterval:
          pktInterval = num(v);
          break;
        case OPT.packetSpace:
          pktSpace = num(v);
          break;
        case OPT.populationSize:
          population = num(v);
          break;
        case OPT.sampleSize:
          size = num(v);
          break;
        case OPT.sysInit:
          if (typeof v === 'number') dom.sysInit = v;
          break;
      }
    }
    if (!(interval > 0)) {
      if (pktInterval > 0 && pktSpace >= 0) interval = (pktInterval + pktSpace) / pktInterval;
      else if (size > 0 && population >= size) interval = population / size;
    }
    if (!(interval > 0) || !Number.isFinite(interval)) return;
    let changed: boolean;
    if (sampler === undefined) {
      changed = dom.exporterRate !== interval;
      dom.exporterRate = interval;
    } else {
      if (!dom.samplers.has(sampler) && dom.samplers.size >= MAX_SAMPLERS_PER_DOMAIN) return;
      changed = dom.samplers.get(sampler) !== interval;
      dom.samplers.set(sampler, interval);
    }
    if (changed) {
      this.m.samplingChanges.inc();
      this.ev?.event({
        kind: 'sampling-changed',
        exporter: dom.exporter,
        observationDomainId: dom.domainId,
        samplerId: sampler === undefined ? -1 : Number(sampler),
        interval,
      });
    }
  }

  /** The interval for records that say nothing themselves. */
  private defaultRate(dom: Domain, v5: boolean): number {
    if (!v5 && dom.exporterRate > 0) return dom.exporterRate;
    return dom.override;
  }

  // ---- pending data sets ------------------------------------------------------------------

  private hold(
    dom: Domain,
    templateId: number,
    b: Uint8Array,
    start: number,
    end: number,
    ordinal: number,
  ): void {
    const ev = this.ev;
    const ident = { exporter: dom.exporter, observationDomainId: dom.domainId, templateId };
    ev?.event({ kind: 'template-missing', ...ident });
    // The record count of this set is unknown, so IPFIX sequence tracking resynchronises.
    this.hadPending = true;
    const len = end - start;
    if (this.opts.pendingMaxSets <= 0 || len > MAX_PENDING_BYTES) {
      this.m.pendingDropped.overflow.inc();
      ev?.event({ kind: 'pending-dropped', ...ident, reason: 'overflow' });
      return;
    }
    while (
      this.pending.length > 0 &&
      (this.pending.length >= this.opts.pendingMaxSets || this.pendingBytes + len > MAX_PENDING_BYTES)
    ) {
      this.dropPending(this.pending.shift()!, 'overflow', ev);
    }
    this.pending.push({
      domain: dom,
      protocol: this.hProtocol,
      templateId,
      bytes: b.slice(start, end),
      sequence: this.hSequence,
      exportMs: this.hExportMs,
      sysUptime: this.hSysUptime,
      receivedAt: this.d!.receivedAt,
      indexBase: (ordinal + 1) * 65536,
    });
    this.pendingBytes += len;
    this.m.pendingBuffered.inc();
    ev?.event({ kind: 'pending-buffered', ...ident });
  }

  private dropPending(p: PendingSet, reason: 'overflow' | 'timeout', ev: EventSink | null): void {
    this.pendingBytes -= p.bytes.length;
    this.m.pendingDropped[reason].inc();
    ev?.event({
      kind: 'pending-dropped',
      exporter: p.domain.exporter,
      observationDomainId: p.domain.domainId,
      templateId: p.templateId,
      reason,
    });
  }

  /**
   * Decodes the held sets of a template that just arrived, in arrival order. Their records get
   * recordIndex (position of the set in its message + 1) * 65536 + i: the records before them in
   * their message are unknown, and these indices cannot collide with ones numbered on arrival.
   */
  private decodePending(dom: Domain, templateId: number): void {
    const t = dom.templates.get(templateId)!;
    const ready = this.pending.filter((p) => p.domain === dom && p.templateId === templateId);
    if (ready.length === 0) return;
    this.pending = this.pending.filter((p) => !(p.domain === dom && p.templateId === templateId));
    const X = this.X;
    const savedIndex = X.recordIndex;
    for (const p of ready) {
      this.pendingBytes -= p.bytes.length;
      const n = this.decodeSet(
        dom,
        t,
        p.bytes,
        0,
        p.bytes.length,
        p.sequence,
        p.exportMs,
        p.sysUptime,
        p.indexBase,
      );
      this.m.pendingDecoded.inc();
      this.ev?.event({
        kind: 'pending-decoded',
        exporter: dom.exporter,
        observationDomainId: dom.domainId,
        templateId,
        records: n,
      });
    }
    X.recordIndex = savedIndex;
  }

  // ---- sequence numbers -------------------------------------------------------------------

  private endSequence(dom: Domain, window: number, units: number): void {
    this.sequence(dom, this.hSequence, units, NaN, window);
    if (this.hadPending) dom.expected = -1;
  }

  /**
   * Checks a message's sequence number against the expected one. `units` is what this message
   * adds (v5 flows, v9 one packet, IPFIX data records). A gap counts lost units; a message up to
   * `window` behind counts as reordered; further back, or a sysUptime that went back, a restart.
   */
  private sequence(dom: Domain, seq: number, units: number, uptime: number, window: number): void {
    const next = (seq + units) >>> 0; // modulo 2^32 (both are below 2^32)
    const lastUptime = dom.lastUptime;
    const hasUptime = uptime === uptime; // not NaN
    if (hasUptime) {
      const back = lastUptime - uptime;
      if (lastUptime >= 0 && back > UPTIME_RESTART_SLACK_MS && back < 2 ** 31) {
        this.restart(dom);
        dom.expected = next;
        dom.lastUptime = uptime;
        return;
      }
    }
    if (dom.expected < 0) {
      dom.expected = next;
      if (hasUptime) dom.lastUptime = uptime;
      return;
    }
    const diff = (seq - dom.expected) | 0;
    if (diff === 0) {
      dom.expected = next;
      if (hasUptime) dom.lastUptime = uptime;
      return;
    }
    if (diff > 0) {
      dom.lost += diff;
      dom.cLost.inc(diff);
      this.ev?.event({
        kind: 'sequence-gap',
        exporter: dom.exporter,
        observationDomainId: dom.domainId,
        expected: dom.expected,
        received: seq,
        lost: diff,
      });
      dom.expected = next;
    } else if (-diff <= window) {
      dom.reordered++;
      // The late units were counted lost when the gap was seen; they arrived after all.
      dom.lost = Math.max(0, dom.lost - units);
      dom.cReordered.inc();
      this.ev?.event({
        kind: 'sequence-reorder',
        exporter: dom.exporter,
        observationDomainId: dom.domainId,
        expected: dom.expected,
        received: seq,
      });
      return;
    } else {
      this.restart(dom);
      dom.expected = next;
    }
    if (hasUptime) dom.lastUptime = uptime;
  }

  private restart(dom: Domain): void {
    dom.restarts++;
    dom.cRestarts.inc();
    this.ev?.event({
      kind: 'exporter-restart',
      exporter: dom.exporter,
      observationDomainId: dom.domainId,
    });
  }

  // ---- helpers ----------------------------------------------------------------------------

  /**
   * The state of `exporter` + `protocol` + `domainId`, created on first use; null at MAX_DOMAINS.
   * Protocols are kept apart: their sequence numbers count different things and their template
   * ids are separate name spaces.
   */
  private domain(exporter: string, protocol: Protocol, domainId: number): Domain | null {
    const p = PROTO_INDEX[protocol];
    let entry = this.lastEntry;
    if (entry === null || this.lastAddress !== exporter) {
      entry = this.exporterMap.get(exporter) ?? null;
      if (entry === null) {
        if (this.domainCount >= MAX_DOMAINS) return null;
        entry = { domains: new Map(), last: [null, null, null] };
        this.exporterMap.set(exporter, entry);
      }
      this.lastAddress = exporter;
      this.lastEntry = entry;
    }
    const last = entry.last[p]!;
    if (last !== null && last.domainId === domainId) return last;
    const key = p * TWO_32 + domainId;
    let dom = entry.domains.get(key);
    if (dom === undefined) {
      if (this.domainCount >= MAX_DOMAINS) return null;
      dom = this.newDomain(exporter, protocol, domainId);
      entry.domains.set(key, dom);
      this.domainCount++;
    }
    entry.last[p] = dom;
    return dom;
  }

  private newDomain(exporter: string, protocol: Protocol, domainId: number): Domain {
    const m = this.m;
    return {
      exporter,
      domainId,
      protocol,
      templates: new Map(),
      samplers: new Map(),
      exporterRate: 0,
      sysInit: NaN,
      override: this.overrideFor(exporter),
      expected: -1,
      lastUptime: -1,
      lastSeen: 0,
      datagrams: 0,
      records: 0,
      lost: 0,
      reordered: 0,
      restarts: 0,
      clockOffsetMs: NaN,
      reportedOffset: NaN,
      silent: false,
      cDatagrams: m.datagrams[protocol],
      cFlows: m.flows[protocol],
      cOptions: m.options[protocol],
      cLost: m.lost[protocol],
      cReordered: m.reordered[protocol],
      cRestarts: m.restarts[protocol],
      batchRef: null,
      batchExporter: 0,
    };
  }

  private overrideFor(exporter: string): number {
    const o = Object.hasOwn(this.opts.samplingOverrides, exporter)
      ? this.opts.samplingOverrides[exporter]
      : undefined;
    return typeof o === 'number' && o > 0 ? o : 1;
  }

  private shape(protocol: 'netflow9' | 'ipfix', scopeCount: number, specs: FieldSpecifier[]): TemplateShape {
    const key = shapeKey(protocol, scopeCount, specs);
    let s = this.shapes.get(key);
    if (!s) {
      if (this.shapes.size >= MAX_COMPILED_SHAPES) this.shapes.clear();
      s = buildShape(protocol, scopeCount, specs);
      this.shapes.set(key, s);
    }
    return s;
  }

  private malformedAs(protocol: Protocol, reason: MalformedReason, offset: number): void {
    this.m.malformed[reason].inc();
    this.ev?.event({
      kind: 'malformed',
      protocol,
      exporter: this.d?.exporter.address ?? '',
      reason,
      offset,
    });
  }
}

// ---- state validation -----------------------------------------------------------------------

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function intIn(v: unknown, lo: number, hi: number, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
    throw new DecoderStateError(`${path}: expected an integer in [${lo}, ${hi}]`);
  return v;
}

/** Checks persisted state thoroughly before anything is applied (all or nothing). */
function validateState(state: unknown): DecoderState {
  if (!isObj(state)) throw new DecoderStateError('state: expected an object');
  if (state.version !== 1) throw new DecoderStateError('version: expected 1');
  if (!Array.isArray(state.templates)) throw new DecoderStateError('templates: expected an array');
  if (!Array.isArray(state.sampling)) throw new DecoderStateError('sampling: expected an array');
  if (state.templates.length > MAX_TEMPLATES)
    throw new DecoderStateError(`templates: more than ${MAX_TEMPLATES}`);
  const templates: PersistedTemplate[] = state.templates.map((t: unknown, i): PersistedTemplate => {
    const p = `templates[${i}]`;
    if (!isObj(t)) throw new DecoderStateError(`${p}: expected an object`);
    if (typeof t.exporter !== 'string') throw new DecoderStateError(`${p}.exporter: expected a string`);
    if (t.protocol !== 'netflow9' && t.protocol !== 'ipfix')
      throw new DecoderStateError(`${p}.protocol: expected netflow9 or ipfix`);
    const protocol = t.protocol;
    if (!Array.isArray(t.fields) || t.fields.length === 0 || t.fields.length > MAX_FIELDS_PER_TEMPLATE)
      throw new DecoderStateError(`${p}.fields: expected 1..${MAX_FIELDS_PER_TEMPLATE} fields`);
    const fields = t.fields.map((f: unknown, k) => {
      const q = `${p}.fields[${k}]`;
      if (!isObj(f)) throw new DecoderStateError(`${q}: expected an object`);
      const enterprise = intIn(f.enterprise, 0, protocol === 'netflow9' ? 0 : 0xffffffff, `${q}.enterprise`);
      return {
        id: intIn(f.id, 0, protocol === 'netflow9' ? 0xffff : 0x7fff, `${q}.id`),
        length: intIn(f.length, 0, 0xffff, `${q}.length`),
        enterprise,
      };
    });
    if (typeof t.lastSeen !== 'number' || !Number.isFinite(t.lastSeen))
      throw new DecoderStateError(`${p}.lastSeen: expected a number`);
    const scopeCount = intIn(t.scopeCount, 0, fields.length, `${p}.scopeCount`);
    const shapeMin = fields.reduce(
      (s, f) => s + (protocol === 'ipfix' && f.length === 0xffff ? 1 : f.length),
      0,
    );
    if (shapeMin === 0) throw new DecoderStateError(`${p}.fields: records would be empty`);
    return {
      exporter: t.exporter,
      protocol,
      observationDomainId: intIn(t.observationDomainId, 0, 0xffffffff, `${p}.observationDomainId`),
      templateId: intIn(t.templateId, 256, 0xffff, `${p}.templateId`),
      scopeCount,
      fields,
      lastSeen: t.lastSeen,
    };
  });
  const sampling = state.sampling.map((x: unknown, i): DecoderState['sampling'][number] => {
    const p = `sampling[${i}]`;
    if (!isObj(x)) throw new DecoderStateError(`${p}: expected an object`);
    if (typeof x.exporter !== 'string') throw new DecoderStateError(`${p}.exporter: expected a string`);
    if (typeof x.interval !== 'number' || !(x.interval > 0) || !Number.isFinite(x.interval))
      throw new DecoderStateError(`${p}.interval: expected a positive number`);
    const protocol = x.protocol;
    if (protocol !== undefined && protocol !== 'netflow9' && protocol !== 'ipfix')
      throw new DecoderStateError(`${p}.protocol: expected netflow9 or ipfix`);
    return {
      exporter: x.exporter,
      ...(protocol === undefined ? {} : { protocol }),
      observationDomainId: intIn(x.observationDomainId, 0, 0xffffffff, `${p}.observationDomainId`),
      samplerId: intIn(x.samplerId, -1, Number.MAX_SAFE_INTEGER, `${p}.samplerId`),
      interval: x.interval,
    };
  });
  const savedAt = typeof state.savedAt === 'number' ? state.savedAt : 0;
  return { version: 1, savedAt, templates, sampling };
}
