/**
 * A simulated sFlow v5 agent. Each flow record stands for P packets crossing the agent; each packet
 * is sampled with probability 1/N (see sampling.ts), and every sampled packet becomes a flow
 * sample with a synthesised header, so a flow yields Binomial(P, 1/N) samples. Data sources are
 * the ingress interfaces: each has its own sample sequence number and sample pool (all packets it
 * saw), and is polled for generic interface counters every counter interval of event time.
 * Datagrams are packed up to the MTU budget and numbered per agent/sub-agent.
 */
import type { Fields } from '../../common/schema/index.ts';
import { EncodeError } from '../encode/errors.ts';
import {
  SFLOW_COUNTER_SAMPLE_BYTES,
  SFLOW_IF_UNKNOWN,
  encodeSflowDatagram,
  sflowDatagramHeaderBytes,
  sflowFlowSampleBytes,
  sflowPacketFromFields,
  type SflowFlowSample,
  type SflowSample,
} from '../encode/sflow.ts';
import { DEFAULT_UPTIME_AT_START_MS, payloadBudget } from './flow-exporter.ts';
import { createRng, hashString, type Rng } from './rng.ts';
import { binomial } from './sampling.ts';
import { emptyStats, type EmitMessage, type ExporterConfig, type SimulatedExporter } from './types.ts';

/** Most samples taken from one flow record: bounds the work a single huge flow can cause. */
export const SFLOW_MAX_SAMPLES_PER_FLOW = 10_000;
/** Most data sources (interfaces) an agent tracks; further interfaces share the last one's counters. */
export const SFLOW_MAX_DATA_SOURCES = 256;
/** Default counter polling interval (s), the usual agent default. */
export const DEFAULT_SFLOW_COUNTER_INTERVAL_S = 20;
/** Interface speed reported in counters: 10 Gbit/s. */
const IF_SPEED = 10_000_000_000;

interface DataSource {
  ifIndex: number;
  flowSequence: number;
  counterSequence: number;
  pool: number;
  inOctets: number;
  inPackets: number;
  outOctets: number;
  outPackets: number;
  lastPoll: number;
}

function num(v: unknown, d = 0): number {
  return typeof v === 'number' ? v : d;
}

/** Creates an sFlow v5 agent. */
export function createSflowExporter(
  config: ExporterConfig,
  index: number,
  seed: number,
  emit: EmitMessage,
): SimulatedExporter {
  return new SflowExporter(config, index, seed, emit);
}

class SflowExporter implements SimulatedExporter {
  readonly stats = emptyStats();
  private readonly rng: Rng;
  private readonly budget: number;
  private readonly headerBytes: number;
  private readonly counterMs: number;
  private readonly sources = new Map<number, DataSource>();
  private bootMs: number;
  private bootKnown: boolean;
  private sequence = 0;
  private samples: SflowSample[] = [];
  private size = 0;
  private flowSamples = 0;
  private openedAt = 0;
  private lastNow = 0;

  constructor(
    readonly config: ExporterConfig,
    private readonly index: number,
    seed: number,
    private readonly emit: EmitMessage,
  ) {
    this.rng = createRng(hashString(config.id, seed >>> 0));
    this.budget = payloadBudget(config.mtu ?? 1500, config.address);
    this.headerBytes = sflowDatagramHeaderBytes(config.address);
    this.counterMs = (config.sflowCounterIntervalSeconds ?? DEFAULT_SFLOW_COUNTER_INTERVAL_S) * 1000;
    this.bootMs = config.bootTimeMs ?? 0;
    this.bootKnown = config.bootTimeMs !== undefined;
  }

  resetSession(): void {
    // sFlow has no templates: nothing to resend.
  }

  private source(ifIndex: number, now: number): DataSource {
    let s = this.sources.get(ifIndex);
    if (!s) {
      if (this.sources.size >= SFLOW_MAX_DATA_SOURCES) {
        const last = [...this.sources.values()].pop()!;
        return last;
      }
      s = {
        ifIndex,
        flowSequence: 0,
        counterSequence: 0,
        pool: 0,
        inOctets: 0,
        inPackets: 0,
        outOctets: 0,
        outPackets: 0,
        lastPoll: now,
      };
      this.sources.set(ifIndex, s);
    }
    return s;
  }

  add(rec: Fields, now: number): void {
    this.stats.offered++;
    if (!this.bootKnown) {
      this.bootMs = now - DEFAULT_UPTIME_AT_START_MS;
      this.bootKnown = true;
    }
    if (now < this.lastNow) now = this.lastNow;
    this.lastNow = now;
    let packet;
    try {
      packet = sflowPacketFromFields(rec);
    } catch (e) {
      if (!(e instanceof EncodeError)) throw e;
      this.stats.encodeErrors++;
      return;
    }
    if (!packet) {
      this.stats.unexportable++;
      return;
    }
    const packets = Math.max(1, num(rec.packetDeltaCount, 1));
    const octets = num(rec.octetDeltaCount);
    const input = num(rec.ingressInterface, 0);
    const output = num(rec.egressInterface, 0);
    const src = this.source(input > 0 ? input : 1, now);
    src.pool += packets;
    src.inOctets += octets;
    src.inPackets += packets;
    if (output > 0) {
      const out = this.source(output, now);
      out.outOctets += octets;
      out.outPackets += packets;
    }
    const n = this.config.samplingInterval;
    const k = Math.min(SFLOW_MAX_SAMPLES_PER_FLOW, n <= 1 ? packets : binomial(this.rng, packets, 1 / n));
    if (k === 0) {
      this.stats.sampledOut++;
      return;
    }
    const v6 = packet.src.includes(':');
    const nextHop = rec[v6 ? 'ipNextHopIPv6Address' : 'ipNextHopIPv4Address'];
    const vlan = num(rec.vlanId, 1);
    for (let i = 0; i < k; i++) {
      const s: SflowFlowSample = {
        kind: 'flow',
        sequence: ++src.flowSequence,
        sourceIdType: 0,
        sourceIdIndex: src.ifIndex,
        samplingRate: Math.max(1, n),
        samplePool: src.pool % 4294967296,
        drops: 0,
        input: input > 0 ? input : SFLOW_IF_UNKNOWN,
        output: output > 0 ? output : SFLOW_IF_UNKNOWN,
        packet,
        maxHeaderBytes: this.config.sflowHeaderBytes ?? 128,
        switch: { srcVlan: vlan, srcPriority: 0, dstVlan: num(rec.postVlanId, vlan), dstPriority: 0 },
        router: {
          nextHop: typeof nextHop === 'string' ? nextHop : v6 ? '::' : '0.0.0.0',
          srcMaskLen: num(rec[v6 ? 'sourceIPv6PrefixLength' : 'sourceIPv4PrefixLength']),
          dstMaskLen: num(rec[v6 ? 'destinationIPv6PrefixLength' : 'destinationIPv4PrefixLength']),
        },
      };
      this.push(s, sflowFlowSampleBytes(s), now);
    }
    this.pollCounters(now);
  }

  private push(s: SflowSample, bytes: number, now: number): void {
    if (this.samples.length > 0 && this.headerBytes + this.size + bytes > this.budget) this.finish();
    if (this.samples.length === 0) this.openedAt = now;
    this.samples.push(s);
    this.size += bytes;
    if (s.kind === 'flow') this.flowSamples++;
  }

  private pollCounters(now: number): void {
    for (const s of this.sources.values()) {
      if (now - s.lastPoll < this.counterMs) continue;
      s.lastPoll = now;
      this.push(
        {
          kind: 'counters',
          sequence: ++s.counterSequence,
          sourceIdType: 0,
          sourceIdIndex: s.ifIndex,
          generic: {
            ifIndex: s.ifIndex,
            ifType: 6, // ethernetCsmacd
            ifSpeed: IF_SPEED,
            ifDirection: 1,
            ifStatus: 3,
            ifInOctets: s.inOctets,
            ifInUcastPkts: s.inPackets % 4294967296,
            ifInMulticastPkts: 0,
            ifInBroadcastPkts: 0,
            ifInDiscards: 0,
            ifInErrors: 0,
            ifInUnknownProtos: 0,
            ifOutOctets: s.outOctets,
            ifOutUcastPkts: s.outPackets % 4294967296,
            ifOutMulticastPkts: 0,
            ifOutBroadcastPkts: 0,
            ifOutDiscards: 0,
            ifOutErrors: 0,
            ifPromiscuousMode: 0,
          },
        },
        SFLOW_COUNTER_SAMPLE_BYTES,
        now,
      );
    }
  }

  private finish(): void {
    if (this.samples.length === 0) return;
    const now = this.lastNow;
    const bytes = encodeSflowDatagram({
      agentAddress: this.config.address,
      subAgentId: this.config.observationDomainId,
      sequence: ++this.sequence,
      uptimeMs: Math.max(0, now - this.bootMs) % 4294967296,
      samples: this.samples,
    });
    const records = this.flowSamples;
    this.samples = [];
    this.size = 0;
    this.flowSamples = 0;
    this.stats.messages++;
    this.stats.bytes += bytes.length;
    this.stats.exported += records;
    this.emit({ exporter: this.config, exporterIndex: this.index, bytes, timeMs: now, records });
  }

  flush(now: number): void {
    if (now > this.lastNow) this.lastNow = now;
    this.finish();
  }

  tick(now: number, maxAgeMs: number): void {
    if (now > this.lastNow) this.lastNow = now;
    if (this.bootKnown) this.pollCounters(this.lastNow);
    if (this.samples.length > 0 && this.lastNow - this.openedAt >= maxAgeMs) this.finish();
  }
}
