import type { Fields } from '../../common/schema/index.ts';
import { EncodeError } from './errors.ts';
import { writeFieldValue, type ResolvedField } from './fields.ts';
import { ByteWriter } from './writer.ts';

/** What `encodeNetflow5Message` needs. */
export interface Netflow5MessageInput {
  /** Flows sent before this packet (v5 counts flows). */
  sequence: number;
  /** Export time, epoch milliseconds (header: seconds + nanoseconds). */
  exportTime: number;
  sysUptime: number;
  /** 1 = unsampled; written into the low 14 bits with mode 1 (deterministic) when > 1. */
  samplingInterval: number;
  engineType: number;
  engineId: number;
  /** Records with IANA names, as the decoder prints them (unknown names are ignored). */
  records: Fields[];
}

/** The v5 record layout: IANA name and byte length, in wire order (null = padding). */
export const NETFLOW5_LAYOUT: readonly (readonly [string | null, number])[] = [
  ['sourceIPv4Address', 4],
  ['destinationIPv4Address', 4],
  ['ipNextHopIPv4Address', 4],
  ['ingressInterface', 2],
  ['egressInterface', 2],
  ['packetDeltaCount', 4],
  ['octetDeltaCount', 4],
  ['flowStartSysUpTime', 4],
  ['flowEndSysUpTime', 4],
  ['sourceTransportPort', 2],
  ['destinationTransportPort', 2],
  [null, 1],
  ['tcpControlBits', 1],
  ['protocolIdentifier', 1],
  ['ipClassOfService', 1],
  ['bgpSourceAsNumber', 2],
  ['bgpDestinationAsNumber', 2],
  ['sourceIPv4PrefixLength', 1],
  ['destinationIPv4PrefixLength', 1],
  [null, 2],
];

/** Most records one v5 packet may carry (Cisco's documented maximum). */
export const NETFLOW5_MAX_RECORDS = 30;

/** Encodes one NetFlow v5 export packet. */
export function encodeNetflow5Message(m: Netflow5MessageInput): Uint8Array {
  if (m.records.length > NETFLOW5_MAX_RECORDS) throw new EncodeError('at most 30 records per v5 packet');
  const w = new ByteWriter();
  const secs = Math.floor(m.exportTime / 1000);
  const sampling = m.samplingInterval > 1 ? (1 << 14) | (m.samplingInterval & 0x3fff) : 0;
  w.u16(5)
    .u16(m.records.length)
    .u32(m.sysUptime)
    .u32(secs)
    .u32(Math.round((m.exportTime - secs * 1000) * 1e6))
    .u32(m.sequence)
    .u8(m.engineType)
    .u8(m.engineId)
    .u16(sampling);
  // The v5 layout is fixed, so its types are too: addresses or unsigned integers.
  const fields = NETFLOW5_LAYOUT.map(([name, length]): ResolvedField | null =>
    name === null
      ? null
      : { name, id: 0, enterprise: 0, length, type: name.endsWith('Address') ? 'ipv4Address' : 'unsigned32' },
  );
  for (const r of m.records) {
    fields.forEach((f, i) => {
      if (f === null) w.zeros(NETFLOW5_LAYOUT[i]![1]);
      else writeFieldValue(w, f, r[f.name] ?? (f.type === 'ipv4Address' ? '0.0.0.0' : 0), { v9: true });
    });
  }
  return w.finish();
}
