/**
 * sFlow v5 counter records (sFlow v5 specification, "Counter Data Types"), decoded to fields named
 * after the MIB objects they come from (IF-MIB, EtherLike-MIB) or, where there is none, after the
 * specification's own field names. Counter samples are infrequent (one per data source every
 * polling interval), so they are built as objects directly.
 */
import type { Fields } from '../../../common/schema/index.ts';
import { u64At } from '../values.ts';

/** Counter record formats decoded here (enterprise 0). */
export const CounterFormat = {
  GENERIC_INTERFACE: 1,
  ETHERNET: 2,
  VLAN: 5,
  PROCESSOR: 1001,
} as const;

/** Fixed sizes of the decoded counter records, in bytes (their XDR layouts). */
const GENERIC_BYTES = 88;
const ETHERNET_BYTES = 52;
const VLAN_BYTES = 28;
const PROCESSOR_BYTES = 28;

/** EtherLike-MIB dot3StatsTable objects, in the order of the sFlow ethernet counters record. */
const DOT3_NAMES: readonly string[] = [
  'dot3StatsAlignmentErrors',
  'dot3StatsFCSErrors',
  'dot3StatsSingleCollisionFrames',
  'dot3StatsMultipleCollisionFrames',
  'dot3StatsSQETestErrors',
  'dot3StatsDeferredTransmissions',
  'dot3StatsLateCollisions',
  'dot3StatsExcessiveCollisions',
  'dot3StatsInternalMacTransmitErrors',
  'dot3StatsCarrierSenseErrors',
  'dot3StatsFrameTooLongs',
  'dot3StatsInternalMacReceiveErrors',
  'dot3StatsSymbolErrors',
];

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
function i32(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

/**
 * Adds the fields of one counter record (`len` bytes at `off`, already checked against the
 * buffer) to `f`. Returns 'ok', 'skipped' for formats not decoded here, or 'short' when the record
 * is shorter than its format requires (the caller reports the sample malformed).
 */
export function counterRecordFields(
  b: Uint8Array,
  off: number,
  len: number,
  format: number,
  f: Fields,
): 'ok' | 'skipped' | 'short' {
  switch (format) {
    case CounterFormat.GENERIC_INTERFACE: {
      if (len < GENERIC_BYTES) return 'short';
      f.ifIndex = u32(b, off);
      f.ifType = u32(b, off + 4);
      f.ifSpeed = u64At(b, off + 8);
      f.ifDirection = u32(b, off + 16);
      // ifStatus bit 0 is the admin state, bit 1 the operational state (IF-MIB: 1 up, 2 down).
      const status = u32(b, off + 20);
      f.ifAdminStatus = (status & 1) !== 0 ? 1 : 2;
      f.ifOperStatus = (status & 2) !== 0 ? 1 : 2;
      f.ifInOctets = u64At(b, off + 24);
      f.ifInUcastPkts = u32(b, off + 32);
      f.ifInMulticastPkts = u32(b, off + 36);
      f.ifInBroadcastPkts = u32(b, off + 40);
      f.ifInDiscards = u32(b, off + 44);
      f.ifInErrors = u32(b, off + 48);
      f.ifInUnknownProtos = u32(b, off + 52);
      f.ifOutOctets = u64At(b, off + 56);
      f.ifOutUcastPkts = u32(b, off + 64);
      f.ifOutMulticastPkts = u32(b, off + 68);
      f.ifOutBroadcastPkts = u32(b, off + 72);
      f.ifOutDiscards = u32(b, off + 76);
      f.ifOutErrors = u32(b, off + 80);
      f.ifPromiscuousMode = u32(b, off + 84);
      return 'ok';
    }
    case CounterFormat.ETHERNET:
      if (len < ETHERNET_BYTES) return 'short';
      for (let i = 0; i < DOT3_NAMES.length; i++) f[DOT3_NAMES[i]!] = u32(b, off + i * 4);
      return 'ok';
    case CounterFormat.VLAN:
      if (len < VLAN_BYTES) return 'short';
      f.vlanId = u32(b, off);
      f.vlanOctets = u64At(b, off + 4);
      f.vlanUcastPkts = u32(b, off + 12);
      f.vlanMulticastPkts = u32(b, off + 16);
      f.vlanBroadcastPkts = u32(b, off + 20);
      f.vlanDiscards = u32(b, off + 24);
      return 'ok';
    case CounterFormat.PROCESSOR:
      if (len < PROCESSOR_BYTES) return 'short';
      // CPU loads are in hundredths of a percent (100 = 1 %), -1 when unknown; memory in bytes.
      f.cpu5s = i32(b, off);
      f.cpu1m = i32(b, off + 4);
      f.cpu5m = i32(b, off + 8);
      f.totalMemory = u64At(b, off + 12);
      f.freeMemory = u64At(b, off + 20);
      return 'ok';
    default:
      return 'skipped';
  }
}
