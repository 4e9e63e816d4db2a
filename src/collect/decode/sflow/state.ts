/**
 * sFlow sequence tracking: datagram sequence numbers per agent (agent address + sub-agent, the
 * exporter identity) and sample sequence numbers per data source, for flow and counter samplers
 * apart. Gaps, reorders and restarts become typed events; the drop counter of each flow sampler is
 * followed so that growth is reported. Bounded by SFLOW_MAX_AGENTS and SFLOW_MAX_SOURCES_PER_AGENT.
 */
import type { DecodeSink } from '../types.ts';
import {
  SFLOW_DATAGRAM_REORDER_WINDOW,
  SFLOW_MAX_AGENTS,
  SFLOW_MAX_SOURCES_PER_AGENT,
  SFLOW_SAMPLE_REORDER_WINDOW,
  SFLOW_UPTIME_RESTART_SLACK_MS,
  SFLOW_UPTIME_WRAP_WINDOW_MS,
} from './limits.ts';

/** What is remembered of one data source's sampler. */
interface SourceState {
  /** Last in-order sample sequence number. */
  seq: number;
  /** Last drop counter seen (flow samplers), -1 before the first. */
  drops: number;
}

/** What is remembered of one agent/sub-agent. */
export interface SflowAgentState {
  readonly exporter: string;
  readonly subAgentId: number;
  /** Last in-order datagram sequence number and the uptime it came with. */
  seq: number;
  uptime: number;
  /**
   * Whether the datagram being decoded came in order (or was the first): a sample that steps back
   * inside an in-order datagram cannot be a reorder, so it means its sampler restarted numbering.
   */
  inOrder: boolean;
  /** Samplers by source key (see `sourceKey`), insertion order = age. */
  readonly sources: Map<number, SourceState>;
  // Statistics for the decoder session's `exporters()` (ExporterStats in sFlow's units).
  /** Reception time of the last datagram (epoch ms). */
  lastSeen: number;
  datagrams: number;
  /** Flow and counter records decoded. */
  records: number;
  /** Datagrams missing by sequence number, net of late arrivals. */
  lost: number;
  reordered: number;
  restarts: number;
  /** True while the session's silence alarm is raised (cleared by the next datagram). */
  silent: boolean;
}

/** Totals over all agents, kept as plain numbers; the decoder session turns them into metrics. */
export interface SflowStats {
  /** Entries forgotten because a limit was reached. */
  agentsEvicted: number;
  sourcesEvicted: number;
  /** Datagrams whose header was read (the agent known). */
  datagrams: number;
  /** Flow records (flow samples) and counter records (counter samples) produced. */
  flows: number;
  counters: number;
  /** Datagrams missing by datagram sequence number (gaps; late arrivals are `reordered`). */
  lost: number;
  reordered: number;
  restarts: number;
  /** Samples missing by sample sequence number (per data source and sample kind). */
  samplesLost: number;
  /** Growth of the agents' drop counters: samples the agents could not send. */
  samplingDrops: number;
  /** Malformed datagrams, samples or records (one per `malformed` event). */
  malformed: number;
}

/** Decoder state: sequence tracking across datagrams (one per decoder session). */
export interface SflowState {
  /** Agents by `exporter#subAgentId`, least recently seen first. */
  readonly agents: Map<string, SflowAgentState>;
  /** Totals (reported by the session's metrics). */
  readonly stats: SflowStats;
}

/** Creates an empty sFlow decoder state. */
export function createSflowState(): SflowState {
  return {
    agents: new Map(),
    stats: {
      agentsEvicted: 0,
      sourcesEvicted: 0,
      datagrams: 0,
      flows: 0,
      counters: 0,
      lost: 0,
      reordered: 0,
      restarts: 0,
      samplesLost: 0,
      samplingDrops: 0,
      malformed: 0,
    },
  };
}

const TWO_POW_31 = 0x80000000;
const TWO_POW_32 = 4294967296;

/**
 * Checks a datagram's sequence number and uptime against what the agent sent before, raising
 * `sequence-gap`, `sequence-reorder` or `exporter-restart`, and returns the agent's state.
 */
export function trackDatagram(
  state: SflowState,
  exporter: string,
  subAgentId: number,
  seq: number,
  uptime: number,
  sink: DecodeSink | undefined,
): SflowAgentState {
  const key = exporter + '#' + subAgentId;
  let a = state.agents.get(key);
  state.stats.datagrams++;
  if (a === undefined) {
    if (state.agents.size >= SFLOW_MAX_AGENTS) {
      const oldest = state.agents.keys().next();
      if (!oldest.done) state.agents.delete(oldest.value);
      state.stats.agentsEvicted++;
    }
    a = {
      exporter,
      subAgentId,
      seq,
      uptime,
      inOrder: true,
      sources: new Map(),
      lastSeen: 0,
      datagrams: 1,
      records: 0,
      lost: 0,
      reordered: 0,
      restarts: 0,
      silent: false,
    };
    state.agents.set(key, a);
    return a;
  }
  a.datagrams++;
  a.silent = false;
  // Re-insert so that map order stays "least recently seen first" for eviction.
  state.agents.delete(key);
  state.agents.set(key, a);
  a.inOrder = true;

  const wrapped = a.uptime > TWO_POW_32 - SFLOW_UPTIME_WRAP_WINDOW_MS && uptime < SFLOW_UPTIME_WRAP_WINDOW_MS;
  if (!wrapped && uptime + SFLOW_UPTIME_RESTART_SLACK_MS < a.uptime) {
    restart(state, a, seq, uptime, sink);
    return a;
  }
  const expected = (a.seq + 1) >>> 0;
  const ahead = (seq - expected) >>> 0;
  if (ahead === 0) {
    a.seq = seq;
    a.uptime = uptime;
    return a;
  }
  if (ahead < TWO_POW_31) {
    a.lost += ahead;
    state.stats.lost += ahead;
    sink?.event?.({
      kind: 'sequence-gap',
      exporter,
      observationDomainId: subAgentId,
      expected,
      received: seq,
      lost: ahead,
    });
    a.seq = seq;
    a.uptime = uptime;
    return a;
  }
  const behind = (expected - seq) >>> 0;
  if (behind <= SFLOW_DATAGRAM_REORDER_WINDOW) {
    // The late datagram was counted lost when the gap was seen; it arrived after all.
    a.reordered++;
    if (a.lost > 0) a.lost--;
    state.stats.reordered++;
    sink?.event?.({
      kind: 'sequence-reorder',
      exporter,
      observationDomainId: subAgentId,
      expected,
      received: seq,
    });
    a.inOrder = false;
    return a;
  }
  // A far step back while uptime kept counting: the agent renumbered (e.g. process restart).
  restart(state, a, seq, uptime, sink);
  return a;
}

function restart(
  state: SflowState,
  a: SflowAgentState,
  seq: number,
  uptime: number,
  sink: DecodeSink | undefined,
): void {
  a.restarts++;
  state.stats.restarts++;
  sink?.event?.({ kind: 'exporter-restart', exporter: a.exporter, observationDomainId: a.subAgentId });
  a.seq = seq;
  a.uptime = uptime;
  // Sample sequences and drop counters restart with the agent.
  a.sources.clear();
}

/**
 * Key of a sampler: source id type (20 bits kept; real types are 0-3), flow or counter kind, and
 * the 32-bit source index, packed below 2^53 so that the map needs no string per sample.
 */
function sourceKey(sourceIdType: number, sourceIdIndex: number, counters: boolean): number {
  return ((sourceIdType & 0xfffff) * 2 + (counters ? 1 : 0)) * TWO_POW_32 + (sourceIdIndex >>> 0);
}

/**
 * Checks a sample's sequence number (and, for flow samples, its drop counter; pass -1 for counter
 * samples) against the same data source's previous sample. A step back is a reorder when the
 * datagram itself came out of order, else the sampler restarted its numbering (a reset). Returns
 * true when the sample is in order or new (false for a reordered or duplicated sample).
 */
export function trackSample(
  state: SflowState,
  a: SflowAgentState,
  sourceIdType: number,
  sourceIdIndex: number,
  counters: boolean,
  seq: number,
  drops: number,
  sink: DecodeSink | undefined,
): boolean {
  const key = sourceKey(sourceIdType, sourceIdIndex, counters);
  const s = a.sources.get(key);
  if (s === undefined) {
    if (a.sources.size >= SFLOW_MAX_SOURCES_PER_AGENT) {
      const oldest = a.sources.keys().next();
      if (!oldest.done) a.sources.delete(oldest.value);
      state.stats.sourcesEvicted++;
    }
    a.sources.set(key, { seq, drops });
    return true;
  }
  const sampleKind = counters ? 'counters' : 'flow';
  const expected = (s.seq + 1) >>> 0;
  const ahead = (seq - expected) >>> 0;
  if (ahead !== 0) {
    if (ahead < TWO_POW_31) {
      state.stats.samplesLost += ahead;
      sink?.event?.({
        kind: 'sample-sequence-gap',
        exporter: a.exporter,
        observationDomainId: a.subAgentId,
        sourceIdType,
        sourceIdIndex,
        sampleKind,
        expected,
        received: seq,
        lost: ahead,
      });
    } else {
      const behind = (expected - seq) >>> 0;
      if (!a.inOrder && behind <= SFLOW_SAMPLE_REORDER_WINDOW) {
        sink?.event?.({
          kind: 'sample-sequence-reorder',
          exporter: a.exporter,
          observationDomainId: a.subAgentId,
          sourceIdType,
          sourceIdIndex,
          sampleKind,
          expected,
          received: seq,
        });
        return false;
      }
      sink?.event?.({
        kind: 'sample-sequence-reset',
        exporter: a.exporter,
        observationDomainId: a.subAgentId,
        sourceIdType,
        sourceIdIndex,
        sampleKind,
        expected,
        received: seq,
      });
      s.seq = seq;
      s.drops = drops;
      return true;
    }
  }
  s.seq = seq;
  if (drops >= 0) {
    // The drop counter only grows; a smaller value means the sampler was reset.
    if (s.drops >= 0 && drops > s.drops) {
      state.stats.samplingDrops += drops - s.drops;
      sink?.event?.({
        kind: 'sampling-drops',
        exporter: a.exporter,
        observationDomainId: a.subAgentId,
        sourceIdType,
        sourceIdIndex,
        drops: drops - s.drops,
      });
    }
    s.drops = drops;
  }
  return true;
}
