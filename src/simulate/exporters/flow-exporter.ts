/**
 * A simulated NetFlow v5 / NetFlow v9 / IPFIX exporter: packs flow records into messages up to
 * an MTU budget, keeps each protocol's sequence number (v5: flows, v9: packets, IPFIX: data
 * records including options data), re-sends templates and sampling options every N messages and
 * every T seconds as routers do (UDP), or once per session (TCP), and writes v9/v5 times relative
 * to the device's sysUptime.
 */
import type { Fields } from '../../common/schema/index.ts';
import { encodeIpfixMessage } from '../encode/ipfix.ts';
import { encodeNetflow9Message } from '../encode/netflow9.ts';
import { NETFLOW5_MAX_RECORDS } from '../encode/netflow5.ts';
import { EncodeError } from '../encode/errors.ts';
import type { EncodeFieldSpec, EncodeSet, EncodeTemplate } from '../encode/types.ts';
import { compileTemplate, type CompiledTemplate, type RecordContext } from './record-writer.ts';
import { writeIpv4Text } from '../encode/sflow.ts';
import { createRng, hashString, type Rng } from './rng.ts';
import { sampleFlow, type SampledCounts } from './sampling.ts';
import {
  IPFIX_SAMPLING_OPTIONS,
  NETFLOW9_SAMPLING_OPTIONS,
  TEMPLATE_ID,
  ipfixFlowFields,
  netflow9FlowFields,
} from './templates.ts';
import { emptyStats, type EmitMessage, type ExporterConfig, type SimulatedExporter } from './types.ts';

const IPFIX_HEADER = 16;
const V9_HEADER = 20;
const V5_HEADER = 24;
const V5_RECORD = 48;
/** Default template refresh: every 20 messages or 30 s, whichever comes first (UDP). */
export const DEFAULT_TEMPLATE_REFRESH_MESSAGES = 20;
export const DEFAULT_TEMPLATE_REFRESH_SECONDS = 30;
/** Default uptime of a device when the simulation starts: it booted three days earlier. */
export const DEFAULT_UPTIME_AT_START_MS = 3 * 24 * 3600 * 1000;

/** The UDP payload budget for an MTU: minus the IP and UDP headers. */
export function payloadBudget(mtu: number, address: string): number {
  return mtu - (address.includes(':') ? 48 : 28);
}

function withoutSampler(fields: EncodeFieldSpec[]): EncodeFieldSpec[] {
  return fields.filter((f) => {
    const n = typeof f === 'string' ? f : f.name;
    return n !== 'samplerId' && n !== 'selectorId';
  });
}

/** Creates a flow exporter. `seed` is the run seed; the exporter derives its own from its id. */
export function createFlowExporter(
  config: ExporterConfig,
  index: number,
  seed: number,
  emit: EmitMessage,
): SimulatedExporter {
  return new FlowExporter(config, index, seed, emit);
}

class FlowExporter implements SimulatedExporter {
  readonly stats = emptyStats();
  private readonly format: 'ipfix' | 'netflow9' | 'netflow5';
  private readonly rng: Rng;
  private readonly budget: number;
  private readonly buf: Uint8Array;
  /** A view of `buf` made once: NetFlow v5 records are written through it, per record. */
  private readonly view: DataView;
  private readonly ctx: RecordContext;
  private readonly t4: CompiledTemplate | undefined;
  private readonly t6: CompiledTemplate | undefined;
  private readonly refreshMessages: number;
  private readonly refreshMs: number;
  private readonly sampled: boolean;
  private readonly counts: SampledCounts = { packets: 0, octets: 0 };
  private bootKnown: boolean;
  /** Pre-encoded template (+ options template + options data) sets and what they count. */
  private templateSets: Uint8Array = new Uint8Array(0);
  private templateV9Count = 0;
  private templateDataRecords = 0;

  private sequence = 0;
  private pos = 0;
  private setStart = -1;
  private setTemplate = -1;
  private msgRecords = 0;
  private msgExtraRecords = 0;
  private v9Count = 0;
  private openedAt = 0;
  private lastNow = 0;
  private templatesSentAt = Number.NEGATIVE_INFINITY;
  private messagesSinceTemplates = 0;
  private templatesPending = true;

  constructor(
    readonly config: ExporterConfig,
    private readonly index: number,
    seed: number,
    private readonly emit: EmitMessage,
  ) {
    if (config.format !== 'ipfix' && config.format !== 'netflow9' && config.format !== 'netflow5')
      throw new EncodeError(`flow exporter cannot speak ${config.format}`);
    this.format = config.format;
    this.rng = createRng(hashString(config.id, seed >>> 0));
    this.budget = payloadBudget(config.mtu ?? 1500, config.address);
    this.buf = new Uint8Array(this.budget + 1024);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.sampled = config.samplingInterval > 1;
    this.ctx = { bootMs: config.bootTimeMs ?? 0, samplerId: config.samplerId ?? 1 };
    this.bootKnown = config.bootTimeMs !== undefined;
    const tcp = config.transport === 'tcp';
    this.refreshMessages = tcp ? 0 : (config.templateRefreshMessages ?? DEFAULT_TEMPLATE_REFRESH_MESSAGES);
    this.refreshMs = tcp ? 0 : (config.templateRefreshSeconds ?? DEFAULT_TEMPLATE_REFRESH_SECONDS) * 1000;
    if (this.format !== 'netflow5') {
      const v9 = this.format === 'netflow9';
      const fields = (v6: boolean): EncodeFieldSpec[] => {
        const given = v6 ? config.templates?.ipv6 : config.templates?.ipv4;
        const base = given ?? (v9 ? netflow9FlowFields(v6) : ipfixFlowFields(v6));
        return this.sampled ? base : withoutSampler(base);
      };
      const t4: EncodeTemplate = { templateId: TEMPLATE_ID.ipv4, fields: fields(false) };
      const t6: EncodeTemplate = { templateId: TEMPLATE_ID.ipv6, fields: fields(true) };
      this.t4 = compileTemplate(t4, v9);
      this.t6 = compileTemplate(t6, v9);
      this.encodeTemplateSets(t4, t6);
    }
  }

  /** Pre-encodes the template sets once: they only change with the configuration. */
  private encodeTemplateSets(t4: EncodeTemplate, t6: EncodeTemplate): void {
    const c = this.config;
    const sets: EncodeSet[] = [{ kind: 'template', templates: [t4, t6] }];
    const n = c.samplingInterval;
    const samplerId = c.samplerId ?? 1;
    if (this.format === 'ipfix') {
      if (this.sampled) {
        sets.push({ kind: 'options-template', templates: [IPFIX_SAMPLING_OPTIONS] });
        sets.push({
          kind: 'data',
          template: IPFIX_SAMPLING_OPTIONS,
          records: [
            {
              selectorId: samplerId,
              selectorAlgorithm: 3,
              samplingSize: 1,
              samplingPopulation: n,
              samplingInterval: n,
            },
          ],
        });
      }
      const m = encodeIpfixMessage({ observationDomainId: 0, sequence: 0, exportTime: 0, sets });
      this.templateSets = m.slice(IPFIX_HEADER);
      this.templateDataRecords = this.sampled ? 1 : 0;
    } else {
      if (this.sampled) {
        sets.push({ kind: 'options-template', templates: [NETFLOW9_SAMPLING_OPTIONS] });
        sets.push({
          kind: 'data',
          template: NETFLOW9_SAMPLING_OPTIONS,
          records: [
            { scopeSystem: c.observationDomainId, samplerId, samplerMode: 2, samplerRandomInterval: n },
          ],
        });
      }
      const m = encodeNetflow9Message({ sourceId: 0, sequence: 0, exportTime: 0, sysUptime: 0, sets });
      this.templateSets = m.slice(V9_HEADER);
      this.templateV9Count = (m[2]! << 8) | m[3]!;
    }
  }

  resetSession(): void {
    this.templatesPending = true;
  }

  add(rec: Fields, now: number): void {
    this.stats.offered++;
    if (!this.bootKnown) {
      this.ctx.bootMs = now - DEFAULT_UPTIME_AT_START_MS;
      this.bootKnown = true;
    }
    const v6 = typeof rec.sourceIPv6Address === 'string';
    if (this.format === 'netflow5' && v6) {
      this.stats.unexportable++;
      return;
    }
    if (typeof rec.sourceIPv4Address !== 'string' && !v6) {
      this.stats.unexportable++;
      return;
    }
    let r = rec;
    if (this.sampled) {
      const p = typeof rec.packetDeltaCount === 'number' ? rec.packetDeltaCount : 1;
      const o = typeof rec.octetDeltaCount === 'number' ? rec.octetDeltaCount : 0;
      sampleFlow(this.rng, this.config.samplingInterval, p, o, this.counts);
      if (this.counts.packets === 0) {
        this.stats.sampledOut++;
        return;
      }
      r = { ...rec, packetDeltaCount: this.counts.packets, octetDeltaCount: this.counts.octets };
    }
    if (now < this.lastNow) now = this.lastNow;
    this.lastNow = now;
    if (this.format === 'netflow5') this.addV5(r, now);
    else this.addTemplated(r, v6 ? this.t6! : this.t4!, now);
  }

  private open(now: number): void {
    this.openedAt = now;
    this.msgRecords = 0;
    this.msgExtraRecords = 0;
    this.v9Count = 0;
    this.setStart = -1;
    this.setTemplate = -1;
    if (this.format === 'netflow5') {
      this.pos = V5_HEADER;
      return;
    }
    this.pos = this.format === 'ipfix' ? IPFIX_HEADER : V9_HEADER;
    const due =
      this.templatesPending ||
      (this.refreshMessages > 0 && this.messagesSinceTemplates >= this.refreshMessages) ||
      (this.refreshMs > 0 && now - this.templatesSentAt >= this.refreshMs);
    if (due) {
      this.buf.set(this.templateSets, this.pos);
      this.pos += this.templateSets.length;
      this.v9Count += this.templateV9Count;
      this.msgExtraRecords = this.templateDataRecords;
      this.templatesPending = false;
      this.templatesSentAt = now;
      this.messagesSinceTemplates = 0;
      this.stats.templateSends++;
    }
  }

  private closeSet(): void {
    if (this.setStart < 0) return;
    if (this.format === 'netflow9') {
      // v9 flowsets are padded to 32 bits (RFC 3954 section 5.3).
      while ((this.pos - this.setStart) % 4 !== 0) this.buf[this.pos++] = 0;
    }
    const len = this.pos - this.setStart;
    this.buf[this.setStart + 2] = len >> 8;
    this.buf[this.setStart + 3] = len & 0xff;
    this.setStart = -1;
    this.setTemplate = -1;
  }

  private addTemplated(rec: Fields, t: CompiledTemplate, now: number): void {
    const size = t.recordBytes >= 0 ? t.recordBytes : 0;
    const need = (this.setTemplate === t.templateId ? 0 : 4) + size + 3;
    if (this.pos > 0 && this.pos + need > this.budget) this.finish();
    if (this.pos === 0) this.open(now);
    if (this.setTemplate !== t.templateId) {
      this.closeSet();
      this.setStart = this.pos;
      this.setTemplate = t.templateId;
      this.buf[this.pos] = t.templateId >> 8;
      this.buf[this.pos + 1] = t.templateId & 0xff;
      this.pos += 4;
    }
    const before = this.pos;
    try {
      const after = t.write(this.buf, this.pos, rec, this.ctx);
      if (after > this.budget && this.msgRecords > 0) {
        // A variable-size record that did not fit: move it to the next message.
        this.pos = before;
        this.finish();
        this.addTemplated(rec, t, now);
        return;
      }
      this.pos = after;
    } catch (e) {
      this.pos = before;
      if (!(e instanceof EncodeError)) throw e;
      this.stats.encodeErrors++;
      if (this.msgRecords === 0 && this.setStart === before - 4) {
        // Do not leave an empty set behind.
        this.pos = this.setStart;
        this.setStart = -1;
        this.setTemplate = -1;
      }
      return;
    }
    this.msgRecords++;
    this.v9Count++;
  }

  private addV5(rec: Fields, now: number): void {
    if (this.pos === 0) this.open(now);
    const b = this.buf;
    const o = this.pos;
    try {
      writeV5Record(b, this.view, o, rec, this.ctx.bootMs);
    } catch (e) {
      if (!(e instanceof EncodeError)) throw e;
      this.stats.encodeErrors++;
      return;
    }
    this.pos += V5_RECORD;
    this.msgRecords++;
    if (this.msgRecords >= NETFLOW5_MAX_RECORDS || this.pos + V5_RECORD > this.budget) this.finish();
  }

  /** Writes the header, emits the message, and advances the sequence number. */
  private finish(): void {
    if (this.pos === 0) return;
    this.closeSet();
    const now = this.lastNow;
    const b = this.buf;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const secs = Math.floor(now / 1000);
    const uptime = Math.max(0, now - this.ctx.bootMs) % 4294967296;
    const c = this.config;
    switch (this.format) {
      case 'ipfix':
        dv.setUint16(0, 10);
        dv.setUint16(2, this.pos);
        dv.setUint32(4, secs >>> 0);
        dv.setUint32(8, this.sequence >>> 0);
        dv.setUint32(12, c.observationDomainId >>> 0);
        this.sequence = (this.sequence + this.msgRecords + this.msgExtraRecords) % 4294967296;
        break;
      case 'netflow9':
        dv.setUint16(0, 9);
        dv.setUint16(2, this.v9Count);
        // The header has whole seconds only: sysUptime is taken at that same second, so that
        // collectors computing boot = unixSecs - sysUptime get the exact boot time.
        dv.setUint32(4, Math.max(0, secs * 1000 - this.ctx.bootMs) % 4294967296);
        dv.setUint32(8, secs >>> 0);
        dv.setUint32(12, this.sequence >>> 0);
        dv.setUint32(16, c.observationDomainId >>> 0);
        this.sequence = (this.sequence + 1) % 4294967296;
        break;
      case 'netflow5': {
        dv.setUint16(0, 5);
        dv.setUint16(2, this.msgRecords);
        dv.setUint32(4, uptime);
        dv.setUint32(8, secs >>> 0);
        dv.setUint32(12, Math.round((now - secs * 1000) * 1e6));
        dv.setUint32(16, this.sequence >>> 0);
        dv.setUint8(20, 0);
        dv.setUint8(21, c.observationDomainId & 0xff);
        // Sampling mode 01 (random, as our selection is) in the top two bits, interval below.
        const n = c.samplingInterval;
        dv.setUint16(22, n > 1 ? (1 << 14) | (n & 0x3fff) : 0);
        this.sequence = (this.sequence + this.msgRecords) % 4294967296;
        break;
      }
    }
    const bytes = b.slice(0, this.pos);
    this.pos = 0;
    this.messagesSinceTemplates++;
    this.stats.messages++;
    this.stats.bytes += bytes.length;
    this.stats.exported += this.msgRecords;
    this.emit({ exporter: c, exporterIndex: this.index, bytes, timeMs: now, records: this.msgRecords });
  }

  flush(now: number): void {
    if (this.pos === 0) return;
    if (now > this.lastNow) this.lastNow = now;
    this.finish();
  }

  tick(now: number, maxAgeMs: number): void {
    if (this.pos !== 0 && now - this.openedAt >= maxAgeMs) this.flush(now);
  }
}

// ---- NetFlow v5 record ------------------------------------------------------------------------

function n(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

function ipv4(b: Uint8Array, o: number, v: unknown): void {
  if (typeof v !== 'string') {
    b.fill(0, o, o + 4);
    return;
  }
  // Dotted-quad text is parsed in place (no split strings per record); anything else goes to
  // the lenient parser below, which keeps the former handling of unusual text.
  if (writeIpv4Text(v, b, o)) return;
  const p = v.split('.');
  if (p.length !== 4) throw new EncodeError(`bad IPv4 address ${v}`);
  for (let i = 0; i < 4; i++) {
    const x = Number(p[i]);
    if (!(x >= 0 && x <= 255)) throw new EncodeError(`bad IPv4 address ${v}`);
    b[o + i] = x;
  }
}

/** AS_TRANS (RFC 6793): what 2-octet AS fields carry for a 4-octet AS number. */
const AS_TRANS = 23456;

function as16(as: number): number {
  return as > 0xffff ? AS_TRANS : as;
}

/** sysUptime (ms) of a v5 record's start or end: the record's own, else derived from `abs`. */
function uptimeOf(own: unknown, abs: unknown, bootMs: number): number {
  if (own !== undefined) return n(own);
  return abs === undefined ? 0 : Math.max(0, n(abs) - bootMs) % 4294967296;
}

/**
 * Writes one 48-byte v5 record (layout: Cisco's NetFlow v5 export format). `dv` views `b`; it is
 * passed in rather than made here because this runs once per record.
 */
function writeV5Record(b: Uint8Array, dv: DataView, o: number, r: Fields, bootMs: number): void {
  ipv4(b, o, r.sourceIPv4Address);
  ipv4(b, o + 4, r.destinationIPv4Address);
  ipv4(b, o + 8, r.ipNextHopIPv4Address);
  dv.setUint16(o + 12, n(r.ingressInterface) & 0xffff);
  dv.setUint16(o + 14, n(r.egressInterface) & 0xffff);
  dv.setUint32(o + 16, n(r.packetDeltaCount) % 4294967296);
  dv.setUint32(o + 20, n(r.octetDeltaCount) % 4294967296);
  dv.setUint32(o + 24, uptimeOf(r.flowStartSysUpTime, r.flowStartMilliseconds, bootMs));
  dv.setUint32(o + 28, uptimeOf(r.flowEndSysUpTime, r.flowEndMilliseconds, bootMs));
  dv.setUint16(o + 32, n(r.sourceTransportPort) & 0xffff);
  dv.setUint16(o + 34, n(r.destinationTransportPort) & 0xffff);
  b[o + 36] = 0;
  b[o + 37] = n(r.tcpControlBits) & 0xff;
  b[o + 38] = n(r.protocolIdentifier) & 0xff;
  b[o + 39] = n(r.ipClassOfService) & 0xff;
  dv.setUint16(o + 40, as16(n(r.bgpSourceAsNumber)));
  dv.setUint16(o + 42, as16(n(r.bgpDestinationAsNumber)));
  b[o + 44] = n(r.sourceIPv4PrefixLength) & 0xff;
  b[o + 45] = n(r.destinationIPv4PrefixLength) & 0xff;
  b[o + 46] = 0;
  b[o + 47] = 0;
}
