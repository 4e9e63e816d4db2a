import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCaptureReader } from '../../input/pcap.ts';
import { PacketInfo, PacketStatus, decodePacket, startFromLinkType } from './decode.ts';
import { ipv6WordsString, macString } from './fields.ts';
import { ipv4String } from '../values.ts';

const dir = new URL('./testdata/', import.meta.url);

/** tshark's view of each frame (see testdata/README.md for the command). */
const COLUMNS = [
  'frame',
  'ethSrc',
  'ethDst',
  'ipSrc',
  'ipDst',
  'ip6Src',
  'ip6Dst',
  'ipProto',
  'ip6Next',
  'dsfield',
  'tclass',
  'ttl',
  'hlim',
  'ipLen',
  'ip6Plen',
  'tcpSrc',
  'tcpDst',
  'udpSrc',
  'udpDst',
  'tcpFlags',
  'tcpSeq',
  'icmpType',
  'icmpCode',
  'icmp6Type',
  'icmp6Code',
  'ipFlags',
  'ip6Flow',
] as const;
type Row = Record<(typeof COLUMNS)[number], string>;

function readTshark(): Row[] {
  return readFileSync(new URL('frames.tshark.tsv', dir), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const cells = l.split('\t');
      return Object.fromEntries(COLUMNS.map((c, i) => [c, cells[i] ?? ''])) as Row;
    });
}

const num = (s: string): number => Number(s); // tshark prints decimals and 0x-prefixed hex

describe('packet header decoder on real frames', () => {
  it('agrees with tshark on every frame of a real loopback capture', () => {
    const reader = createCaptureReader();
    const bytes = readFileSync(new URL('frames.pcap', dir));
    const { packets } = reader.push(bytes);
    const rows = readTshark();
    expect(packets.length).toBe(rows.length);
    const info = new PacketInfo();
    packets.forEach((p, i) => {
      const t = rows[i]!;
      const status = decodePacket(p.data, 0, p.data.length, startFromLinkType(p.linkType), info);
      expect(status, `frame ${t.frame}`).toBe(PacketStatus.OK);
      expect(macString(info.srcMacHi, info.srcMacLo)).toBe(t.ethSrc);
      expect(macString(info.dstMacHi, info.dstMacLo)).toBe(t.ethDst);
      if (t.ipSrc !== '') {
        expect(info.ipVersion).toBe(4);
        expect(ipv4String(info.src[0]!)).toBe(t.ipSrc);
        expect(ipv4String(info.dst[0]!)).toBe(t.ipDst);
        expect(info.protocol).toBe(num(t.ipProto));
        expect(info.tos).toBe(num(t.dsfield));
        expect(info.ttl).toBe(num(t.ttl));
        expect(info.ipTotalLength).toBe(num(t.ipLen));
        // tshark's ip.flags is the 3-bit field as a byte (DF = 0x02); IANA's bits are shifted up 5.
        expect(info.fragmentFlags).toBe(num(t.ipFlags) << 5);
      } else {
        expect(info.ipVersion).toBe(6);
        expect(ipv6WordsString(info.src)).toBe(t.ip6Src);
        expect(ipv6WordsString(info.dst)).toBe(t.ip6Dst);
        expect(info.protocol).toBe(num(t.ip6Next));
        expect(info.tos).toBe(num(t.tclass));
        expect(info.ttl).toBe(num(t.hlim));
        expect(info.ipTotalLength).toBe(num(t.ip6Plen) + 40);
        expect(info.flowLabel).toBe(num(t.ip6Flow));
      }
      if (info.protocol === 6) {
        expect([info.srcPort, info.dstPort]).toEqual([num(t.tcpSrc), num(t.tcpDst)]);
        expect(info.tcpFlags).toBe(num(t.tcpFlags));
        expect(info.tcpSequence).toBe(num(t.tcpSeq));
      } else if (info.protocol === 17) {
        expect([info.srcPort, info.dstPort]).toEqual([num(t.udpSrc), num(t.udpDst)]);
      } else if (info.protocol === 1) {
        expect([info.icmpType, info.icmpCode]).toEqual([num(t.icmpType), num(t.icmpCode)]);
        expect(info.hasPorts).toBe(false);
      } else if (info.protocol === 58) {
        expect([info.icmpType, info.icmpCode]).toEqual([num(t.icmp6Type), num(t.icmp6Code)]);
      } else {
        throw new Error(`unexpected protocol ${info.protocol} in frame ${t.frame}`);
      }
    });
  });
});
