/**
 * Access to the real-exporter fixtures of src/collect/decode/testdata/ (made by
 * scripts/make-fixtures.sh; README.md there says how): the export datagrams of a capture in
 * wire order, the raw export files, tshark's independent summary and nfdump's ground truth.
 * Captures are read with the project's own pcap reader and packet decoder
 * (src/collect/input/pcap.ts, packet.ts), so these helpers add no second parser.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createCaptureReader } from '../../src/collect/input/pcap.ts';
import { createPacketDecoder } from '../../src/collect/input/packet.ts';
import type { RawDatagram } from '../../src/common/schema/raw.ts';
import { AcdError } from '../../src/common/errors.ts';
import { parseNfdumpCsv, toNfdumpFlow } from './tools.ts';
import type { NfdumpFlow } from './tools.ts';

/** Absolute path of the decoder fixtures directory. */
export const FIXTURES_DIR = fileURLToPath(new URL('../../src/collect/decode/testdata/', import.meta.url));

/** A fixture file could not be read or does not hold what its name promises. */
export class FixtureError extends AcdError {
  /** The fixture file. */
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super('ERR_FIXTURE', `${file}: ${message}`, options);
    this.file = file;
  }
}

/** Names of the export fixtures (each has NAME.pcap and NAME.raw; see EXPECTED.md). */
export const EXPORT_FIXTURES = [
  'softflowd-v5',
  'softflowd-v9',
  'softflowd-ipfix',
  'softflowd-ipfix-sampled',
  'softflowd-ipfix-biflow',
  'softflowd-ipfix-tcp',
  'pmacct-nfprobe-v5',
  'pmacct-nfprobe-v9',
  'pmacct-nfprobe-v9-sampled',
  'pmacct-nfprobe-ipfix',
  'pmacct-nfprobe-ipfix-sampled',
  'pmacct-sfprobe',
  'pmacct-sfprobe-sampled',
  'pmacct-sfprobe-counters',
] as const;

/** One of {@link EXPORT_FIXTURES}. */
export type ExportFixture = (typeof EXPORT_FIXTURES)[number];

/** Collector port each fixture was exported to (also the port to pick payloads by). */
export function fixturePort(name: ExportFixture): number {
  if (name.includes('sfprobe')) return 6343;
  if (name.includes('ipfix')) return 4739;
  return 2055;
}

/** Absolute path of a file in the fixtures directory. */
export function fixturePath(file: string): string {
  return join(FIXTURES_DIR, file);
}

/** A UDP payload (or TCP segment payload) taken out of a capture, in capture order. */
export interface CapturedPayload {
  timestampMs: number;
  protocol: 6 | 17;
  srcAddress: string;
  srcPort: number;
  dstAddress: string;
  dstPort: number;
  payload: Uint8Array;
}

/** Options of {@link readCapturePayloads}. */
export interface ReadPayloadOptions {
  /** Keep only packets to this destination port. */
  dstPort?: number;
  /** Keep only this transport; UDP by default. */
  protocol?: 6 | 17;
  /** Keep TCP segments without payload (handshakes, ACKs); false by default. */
  keepEmpty?: boolean;
}

/**
 * Reads a pcap/pcapng file and returns the UDP payloads (or TCP segment payloads) in capture
 * order. Fails with {@link FixtureError} if the capture cannot be followed to its end.
 */
export async function readCapturePayloads(
  file: string,
  options: ReadPayloadOptions = {},
): Promise<CapturedPayload[]> {
  const path = file.includes('/') ? file : fixturePath(file);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new FixtureError(path, 'cannot read', { cause: err });
  }
  const reader = createCaptureReader();
  const first = reader.push(bytes);
  const rest = reader.end();
  if (reader.error !== undefined) throw new FixtureError(path, 'unreadable capture', { cause: reader.error });
  const decoder = createPacketDecoder();
  const protocol = options.protocol ?? 17;
  const out: CapturedPayload[] = [];
  for (const p of [...first.packets, ...rest.packets]) {
    const r = decoder.decode(p.linkType, p.data, p.timestampMs);
    if (!r.ok) continue;
    const pkt = r.packet;
    if (pkt.protocol !== protocol) continue;
    if (options.dstPort !== undefined && pkt.dstPort !== options.dstPort) continue;
    if (pkt.payload.length === 0 && options.keepEmpty !== true) continue;
    out.push({
      timestampMs: p.timestampMs,
      protocol: pkt.protocol,
      srcAddress: pkt.srcAddress,
      srcPort: pkt.srcPort,
      dstAddress: pkt.dstAddress,
      dstPort: pkt.dstPort,
      // Copy: views into the file buffer must not be mistaken for owned datagrams by a decoder.
      payload: Uint8Array.from(pkt.payload),
    });
  }
  return out;
}

/**
 * The export datagrams of a UDP fixture capture, as a listener would hand them to the decoder
 * (`transport: 'pcap'`, exporter = source address and port, receivedAt = capture time).
 */
export async function fixtureDatagrams(name: ExportFixture): Promise<RawDatagram[]> {
  if (name.endsWith('-tcp')) throw new FixtureError(name, 'a TCP fixture has no datagrams; use fixtureRaw()');
  const payloads = await readCapturePayloads(`${name}.pcap`, { dstPort: fixturePort(name) });
  if (payloads.length === 0) throw new FixtureError(name, 'no export datagrams in capture');
  return payloads.map((p) => ({
    receivedAt: p.timestampMs,
    exporter: { address: p.srcAddress, port: p.srcPort },
    transport: 'pcap',
    bytes: p.payload,
  }));
}

/** The raw export file of a fixture: messages back to back, as `nc -u -l > file` saves them. */
export async function fixtureRaw(name: ExportFixture): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(fixturePath(`${name}.raw`)));
  } catch (err) {
    throw new FixtureError(name, 'cannot read raw export', { cause: err });
  }
}

/** One flow record as tshark decoded it (see EXPECTED.md). */
export interface TsharkFlow {
  /** Template (set id) of the record; absent for NetFlow v5. */
  templateId?: number;
  srcAddr?: string;
  dstAddr?: string;
  srcPort?: number;
  dstPort?: number;
  protocol?: number;
  packets?: number;
  octets?: number;
  /** RFC 5103 reverse counters, for biflow records. */
  reversePackets?: number;
  reverseOctets?: number;
  /** ICMP type * 256 + code. */
  icmpTypeCode?: number;
  /** Absolute flow start/end as tshark prints them (`Nov 25, 2026 18:12:32.879000000 UTC`). */
  start?: string;
  end?: string;
}

/** tshark's summary of a NetFlow/IPFIX fixture (`NAME.tshark.json`). */
export interface TsharkFlowSummary {
  tool: string;
  command: string;
  /** Export messages (UDP datagrams, or IPFIX messages in the TCP stream). */
  datagrams: number;
  templates: { id: number; kind: 'data' | 'options'; domain: number }[];
  dataTemplates: number;
  optionsTemplates: number;
  flowRecords: number;
  optionsRecords: number;
  packetsTotal: number;
  octetsTotal: number;
  /** Header sequence numbers of the messages, in order, as exported. */
  sequences: number[];
  flows: TsharkFlow[];
  /** Options data records: tshark field names (without `cflow.`) -> printed values. */
  options: Record<string, string | number | string[]>[];
}

/** tshark's summary of an sFlow fixture (`NAME.tshark.json`). */
export interface TsharkSflowSummary {
  tool: string;
  command: string;
  datagrams: number;
  flowSamples: number;
  counterSamples: number;
  samplingRates: number[];
  firstFlowSamples: {
    samplingRate: number;
    frameLength: number;
    srcAddr?: string;
    dstAddr?: string;
    protocol: number;
    srcPort: number;
    dstPort: number;
  }[];
}

/** Reads `NAME.tshark.json`. */
export async function tsharkSummary(name: ExportFixture): Promise<TsharkFlowSummary | TsharkSflowSummary> {
  try {
    return JSON.parse(await readFile(fixturePath(`${name}.tshark.json`), 'utf8')) as
      TsharkFlowSummary | TsharkSflowSummary;
  } catch (err) {
    throw new FixtureError(name, 'cannot read tshark summary', { cause: err });
  }
}

/** nfdump's ground truth for a NetFlow/IPFIX fixture (`NAME.nfdump.csv`), in start-time order. */
export async function nfdumpFlows(name: ExportFixture): Promise<NfdumpFlow[]> {
  try {
    return parseNfdumpCsv(await readFile(fixturePath(`${name}.nfdump.csv`), 'utf8')).map(toNfdumpFlow);
  } catch (err) {
    throw new FixtureError(name, 'cannot read nfdump ground truth', { cause: err });
  }
}
