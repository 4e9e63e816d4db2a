/**
 * The export stream of `bench:collect`: one IPFIX exporter sending a template and then data
 * messages of `RECORDS_PER_MESSAGE` flow records each, with consecutive sequence numbers and the
 * template repeated every `TEMPLATE_EVERY` messages (as exporters refresh templates). Written as
 * a pcap file so that a C sender (`tcpreplay`) can replay it onto loopback.
 */
import { open } from 'node:fs/promises';
import { encodeIpfixMessage } from '../../src/simulate/encode/index.ts';
import type { EncodeTemplate } from '../../src/simulate/encode/index.ts';
import { PcapWriter } from '../../src/simulate/encode/pcap-writer.ts';

/** Flow records per data message: 30 records of 46 bytes make a 1400-byte datagram, a usual MTU-bound export. */
export const RECORDS_PER_MESSAGE = 30;
/** A template message is repeated every this many data messages (and starts every loop of the file). */
export const TEMPLATE_EVERY = 2000;
/**
 * Source address of the replayed frames: TEST-NET-2 (RFC 5737), never a local address. Frames
 * injected on `lo` go through the kernel's input routing, which rejects a local or 127/8 source
 * and a 127/8 destination as martian (unless `route_localnet` is set), so the replayed stream
 * goes from this address to one of the host's own non-loopback addresses, still over `lo`.
 */
export const EXPORTER_ADDRESS = '198.51.100.7';
/** Source port of the replayed frames. */
export const EXPORTER_PORT = 40_000;

/** The template of the stream: the usual 5-tuple, flags, counters and times (46 bytes a record). */
export const BENCH_TEMPLATE: EncodeTemplate = {
  templateId: 256,
  fields: [
    'sourceIPv4Address',
    'destinationIPv4Address',
    'sourceTransportPort',
    'destinationTransportPort',
    'protocolIdentifier',
    'tcpControlBits',
    'octetDeltaCount',
    'packetDeltaCount',
    'flowStartMilliseconds',
    'flowEndMilliseconds',
  ],
};

/**
 * Encodes `dataMessages` data messages (plus the periodic templates) as IPFIX payloads, in order:
 * a template first, then data messages whose sequence numbers count the data records before them.
 */
export function encodeIpfixStream(
  dataMessages: number,
  domain = 1,
): { payloads: Uint8Array[]; records: number } {
  const t0 = Date.now();
  const records = [...Array(RECORDS_PER_MESSAGE).keys()].map((i) => ({
    sourceIPv4Address: `10.1.${i}.${(i * 7) % 250}`,
    destinationIPv4Address: `192.0.2.${i + 1}`,
    sourceTransportPort: 40000 + i,
    destinationTransportPort: 443,
    protocolIdentifier: 6,
    tcpControlBits: 0x1b,
    octetDeltaCount: 1500 * (i + 1),
    packetDeltaCount: i + 1,
    flowStartMilliseconds: t0 - 5000,
    flowEndMilliseconds: t0 - 1000,
  }));
  const template = encodeIpfixMessage({
    observationDomainId: domain,
    sequence: 0,
    exportTime: t0,
    sets: [{ kind: 'template', templates: [BENCH_TEMPLATE] }],
  });
  const data = encodeIpfixMessage({
    observationDomainId: domain,
    sequence: 0,
    exportTime: t0,
    sets: [{ kind: 'data', template: BENCH_TEMPLATE, records }],
  });
  const payloads: Uint8Array[] = [];
  for (let i = 0; i < dataMessages; i++) {
    // Templates and data carry the sequence number of the next data record (RFC 7011 section 3.1).
    const seq = (i * RECORDS_PER_MESSAGE) >>> 0;
    if (i % TEMPLATE_EVERY === 0) payloads.push(withSequence(template, seq));
    payloads.push(withSequence(data, seq));
  }
  return { payloads, records: dataMessages * RECORDS_PER_MESSAGE };
}

function withSequence(msg: Uint8Array, seq: number): Uint8Array {
  const m = Uint8Array.from(msg);
  new DataView(m.buffer).setUint32(8, seq);
  return m;
}

/**
 * Writes the payloads as a pcap of Ethernet frames from `EXPORTER_ADDRESS` to `dst:port`
 * (a local, non-loopback address: see `EXPORTER_ADDRESS`). The destination MAC is rewritten to 00:00:00:00:00:00, the address
 * of `lo`: the kernel drops frames injected on loopback whose destination MAC is not its own
 * (they would be PACKET_OTHERHOST). Returns the frame count.
 */
export async function writeStreamPcap(
  file: string,
  payloads: readonly Uint8Array[],
  dst: string,
  port: number,
): Promise<number> {
  const w = new PcapWriter({ linkType: 'ethernet' });
  const fh = await open(file, 'w');
  try {
    const chunks: Uint8Array[] = [w.header()];
    let pending = chunks[0]!.length;
    const t0 = Date.now();
    for (let i = 0; i < payloads.length; i++) {
      const rec = w.packet({
        timeMs: t0 + i / 1000,
        src: EXPORTER_ADDRESS,
        srcPort: EXPORTER_PORT,
        dst,
        dstPort: port,
        payload: payloads[i]!,
      });
      rec.fill(0, 16, 22); // 16-byte pcap record header, then the destination MAC
      chunks.push(rec);
      pending += rec.length;
      if (pending > 4 << 20) {
        await fh.write(Buffer.concat(chunks));
        chunks.length = 0;
        pending = 0;
      }
    }
    if (chunks.length > 0) await fh.write(Buffer.concat(chunks));
  } finally {
    await fh.close();
  }
  return payloads.length;
}
