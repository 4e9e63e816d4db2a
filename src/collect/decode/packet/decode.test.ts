import { describe, expect, it } from 'vitest';
import type { Fields } from '../../../common/schema/index.ts';
import { PacketInfo, PacketStart, PacketStatus, decodePacket, startFromLinkType } from './decode.ts';
import { packetFields } from './fields.ts';
import { MAX_IPV6_EXTENSION_HEADERS, MAX_MPLS_LABELS, MAX_VLAN_TAGS } from './limits.ts';
import { buildFrame } from './testing.ts';

const info = new PacketInfo();

function decode(frame: Uint8Array, start: number = PacketStart.ETHERNET): { status: number; fields: Fields } {
  const status = decodePacket(frame, 0, frame.length, start, info);
  const fields: Fields = {};
  packetFields(info, fields);
  return { status, fields };
}

const eth = { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' };

// Frames below are built from the protocol specifications by ./testing.ts.
describe('packet header decoder', () => {
  it('decodes ethernet, IPv4 and TCP', () => {
    const frame = buildFrame({
      ethernet: eth,
      ip: {
        version: 4,
        src: '192.0.2.1',
        dst: '198.51.100.7',
        tos: 0xb8,
        ttl: 57,
        id: 0x1234,
        flags: 0x2,
        transport: { kind: 'tcp', srcPort: 51515, dstPort: 443, seq: 0xdeadbeef, ack: 7, flags: 0x12 },
      },
      payload: new Uint8Array(10),
    });
    const r = decode(frame);
    expect(r.status).toBe(PacketStatus.OK);
    expect(r.fields).toEqual({
      sourceMacAddress: '02:00:00:00:00:01',
      destinationMacAddress: '02:00:00:00:00:02',
      ethernetType: 0x0800,
      ipVersion: 4,
      sourceIPv4Address: '192.0.2.1',
      destinationIPv4Address: '198.51.100.7',
      fragmentFlags: 0x40,
      protocolIdentifier: 6,
      ipClassOfService: 0xb8,
      ipTTL: 57,
      ipTotalLength: 20 + 20 + 10,
      sourceTransportPort: 51515,
      destinationTransportPort: 443,
      tcpControlBits: 0x12,
      tcpSequenceNumber: 0xdeadbeef,
    });
    expect(info.tcpAcknowledgement).toBe(7);
    expect(info.payloadOffset).toBe(14 + 20 + 20);
    expect(info.payloadEnd).toBe(frame.length);
  });

  it('reads 802.1Q and QinQ tags, outer tag as vlanId and inner as customer VLAN', () => {
    const frame = buildFrame({
      ethernet: eth,
      vlans: [
        { id: 100, priority: 5, tpid: 0x88a8 },
        { id: 2001, priority: 3 },
      ],
      ip: {
        version: 4,
        src: '10.0.0.1',
        dst: '10.0.0.2',
        transport: { kind: 'udp', srcPort: 5353, dstPort: 53 },
      },
    });
    const r = decode(frame);
    expect(r.status).toBe(PacketStatus.OK);
    expect(r.fields).toMatchObject({
      vlanId: 100,
      dot1qPriority: 5,
      dot1qCustomerVlanId: 2001,
      dot1qCustomerPriority: 3,
      ethernetType: 0x0800,
      sourceTransportPort: 5353,
      destinationTransportPort: 53,
    });
    expect(info.udpLength).toBe(8);
  });

  it('pops an MPLS label stack to IPv6 by the first nibble', () => {
    const frame = buildFrame({
      ethernet: eth,
      mpls: [
        { label: 16004, tc: 1, ttl: 250 },
        { label: 299792, ttl: 255 },
      ],
      ip: {
        version: 6,
        src: '2001:db8::1',
        dst: '2001:db8:0:1::53',
        trafficClass: 0x20,
        flowLabel: 0xabcde,
        hopLimit: 61,
        transport: { kind: 'udp', srcPort: 40000, dstPort: 53 },
      },
    });
    const r = decode(frame);
    expect(r.status).toBe(PacketStatus.OK);
    expect(r.fields).toMatchObject({
      ethernetType: 0x8847,
      // label 16004 = 0x03e84, TC 1, S 0 -> 0x03e842; label 299792 = 0x49310, S 1 -> 0x493101
      mplsTopLabelStackSection: '03e842',
      mplsLabelStackSection2: '493101',
      ipVersion: 6,
      sourceIPv6Address: '2001:db8::1',
      destinationIPv6Address: '2001:db8:0:1::53',
      flowLabelIPv6: 0xabcde,
      ipClassOfService: 0x20,
      ipTTL: 61,
      protocolIdentifier: 17,
      ipTotalLength: 40 + 8,
    });
  });

  it('starts at MPLS, IPv4 or IPv6 as sFlow header protocols 13, 11 and 12 say', () => {
    const v4 = buildFrame({
      ip: {
        version: 4,
        src: '203.0.113.9',
        dst: '192.0.2.200',
        transport: { kind: 'icmp', type: 8, code: 0 },
      },
    });
    expect(decode(v4, PacketStart.IPV4).fields).toMatchObject({
      icmpTypeCodeIPv4: 8 * 256,
      protocolIdentifier: 1,
    });
    const v6 = buildFrame({
      ip: { version: 6, src: 'fe80::1', dst: 'ff02::1', transport: { kind: 'icmp', type: 135, code: 0 } },
    });
    expect(decode(v6, PacketStart.IPV6).fields).toMatchObject({
      icmpTypeCodeIPv6: 135 * 256,
      protocolIdentifier: 58,
    });
    // label 42 (0x0002a << 4) with bottom-of-stack set
    const m = buildFrame({ mpls: [{ label: 42 }], ip: { version: 4, src: '1.1.1.1', dst: '2.2.2.2' } });
    expect(decode(m, PacketStart.MPLS).fields).toMatchObject({
      mplsTopLabelStackSection: '0002a1',
      ipVersion: 4,
    });
    // Version mismatch: an IPv6 packet where IPv4 is promised.
    expect(decode(v6, PacketStart.IPV4).status).toBe(PacketStatus.MALFORMED);
  });

  it('skips IPv4 options and reports fragments without reading a transport header', () => {
    const first = buildFrame({
      ethernet: eth,
      ip: {
        version: 4,
        src: '192.0.2.1',
        dst: '192.0.2.2',
        id: 777,
        flags: 0x1,
        options: Uint8Array.from([1, 1, 1, 0]),
        transport: { kind: 'udp', srcPort: 1000, dstPort: 2000 },
      },
    });
    const r1 = decode(first);
    expect(r1.fields).toMatchObject({
      fragmentIdentification: 777,
      fragmentOffset: 0,
      fragmentFlags: 0x20,
      sourceTransportPort: 1000,
    });
    expect(info.ipHeaderLength).toBe(24);
    const later = buildFrame({
      ethernet: eth,
      ip: { version: 4, src: '192.0.2.1', dst: '192.0.2.2', id: 777, protocol: 17, fragmentOffset: 185 },
      payload: new Uint8Array(16).fill(0xff),
    });
    const r2 = decode(later);
    expect(r2.status).toBe(PacketStatus.OK);
    expect(r2.fields).toMatchObject({
      fragmentOffset: 185,
      fragmentIdentification: 777,
      protocolIdentifier: 17,
    });
    expect(r2.fields.sourceTransportPort).toBeUndefined();
  });

  it('walks IPv6 extension headers and the fragment header', () => {
    const frame = buildFrame({
      ethernet: eth,
      ip: {
        version: 6,
        src: '2001:db8::a',
        dst: '2001:db8::b',
        extensions: [{ type: 0 }, { type: 60, length: 1 }, { type: 44, offset: 0, more: true, id: 0xcafe }],
        transport: { kind: 'tcp', srcPort: 22, dstPort: 60000, flags: 0x18 },
      },
    });
    const r = decode(frame);
    expect(r.status).toBe(PacketStatus.OK);
    expect(r.fields).toMatchObject({
      protocolIdentifier: 6,
      sourceTransportPort: 22,
      tcpControlBits: 0x18,
      fragmentIdentification: 0xcafe,
      fragmentFlags: 0x20,
      fragmentOffset: 0,
    });
    expect(info.ipv6ExtensionHeaders).toBe(3);
  });

  it('fills what it reached when the header is cut short', () => {
    const frame = buildFrame({
      ethernet: eth,
      ip: {
        version: 4,
        src: '192.0.2.1',
        dst: '192.0.2.2',
        transport: { kind: 'tcp', srcPort: 80, dstPort: 1234 },
      },
    });
    // Cut after the TCP ports and sequence number: no flags.
    const r = decodePacket(frame, 0, 14 + 20 + 8, PacketStart.ETHERNET, info);
    expect(r).toBe(PacketStatus.TRUNCATED);
    expect(info.hasPorts).toBe(true);
    expect(info.hasTcpFlags).toBe(false);
    expect(info.srcPort).toBe(80);
    expect(decodePacket(frame, 0, 10, PacketStart.ETHERNET, info)).toBe(PacketStatus.TRUNCATED);
    expect(info.hasEthernet).toBe(false);
  });

  it('reports non-IP frames with their MAC addresses and EtherType', () => {
    const arp = buildFrame({ ethernet: eth, etherType: 0x0806, payload: new Uint8Array(28) });
    const r = decode(arp);
    expect(r.status).toBe(PacketStatus.NOT_IP);
    expect(r.fields).toEqual({
      sourceMacAddress: '02:00:00:00:00:01',
      destinationMacAddress: '02:00:00:00:00:02',
      ethernetType: 0x0806,
    });
  });

  it('follows 802.3 LLC/SNAP and PPPoE sessions to IP', () => {
    const ip = buildFrame({ ip: { version: 4, src: '10.1.1.1', dst: '10.2.2.2' } });
    const snap = Uint8Array.from([
      ...[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1],
      0x00,
      8 + ip.length,
      ...[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00],
      ...ip,
    ]);
    expect(decode(snap).fields).toMatchObject({ sourceIPv4Address: '10.1.1.1', ethernetType: 0x0800 });
    const pppoe = Uint8Array.from([
      ...[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0x64],
      ...[0x11, 0x00, 0x00, 0x01, 0x00, ip.length + 2, 0x00, 0x21],
      ...ip,
    ]);
    expect(decode(pppoe).fields).toMatchObject({ destinationIPv4Address: '10.2.2.2' });
  });

  it('stops at the VLAN, MPLS and extension header limits', () => {
    const vlans = buildFrame({
      ethernet: eth,
      vlans: Array.from({ length: MAX_VLAN_TAGS + 1 }, (_, i) => ({ id: i + 1 })),
      ip: { version: 4, src: '1.2.3.4', dst: '5.6.7.8' },
    });
    expect(decode(vlans).status).toBe(PacketStatus.TOO_DEEP);
    expect(info.vlanCount).toBe(MAX_VLAN_TAGS);
    const labels = buildFrame({
      ethernet: eth,
      mpls: Array.from({ length: MAX_MPLS_LABELS + 1 }, (_, i) => ({ label: i + 16 })),
      ip: { version: 4, src: '1.2.3.4', dst: '5.6.7.8' },
    });
    expect(decode(labels).status).toBe(PacketStatus.TOO_DEEP);
    const exts = buildFrame({
      ip: {
        version: 6,
        src: '::1',
        dst: '::2',
        extensions: Array.from({ length: MAX_IPV6_EXTENSION_HEADERS + 1 }, () => ({ type: 60 as const })),
      },
    });
    expect(decode(exts, PacketStart.IPV6).status).toBe(PacketStatus.TOO_DEEP);
  });

  it('decodes capture link layers used by the flow meter', () => {
    const ip = buildFrame({
      ip: { version: 6, src: '::1', dst: '::1', transport: { kind: 'udp', srcPort: 1, dstPort: 2 } },
    });
    const sll2 = new Uint8Array(20 + ip.length);
    sll2.set([0x86, 0xdd], 0);
    sll2.set(ip, 20);
    expect(decode(sll2, startFromLinkType(276)).fields).toMatchObject({
      sourceIPv6Address: '::1',
      destinationTransportPort: 2,
    });
    const loop = new Uint8Array(4 + ip.length);
    loop.set([30, 0, 0, 0], 0); // AF_INET6 on Darwin, little-endian DLT_NULL
    loop.set(ip, 4);
    expect(decode(loop, startFromLinkType(0)).status).toBe(PacketStatus.OK);
    expect(decode(ip, startFromLinkType(101)).fields.ipVersion).toBe(6);
    expect(startFromLinkType(9999)).toBe(-1);
    expect(decode(ip, 9999).status).toBe(PacketStatus.UNSUPPORTED);
  });

  it('never reads outside the window it is given', () => {
    const frame = buildFrame({
      ethernet: eth,
      ip: {
        version: 4,
        src: '192.0.2.1',
        dst: '192.0.2.2',
        transport: { kind: 'udp', srcPort: 9, dstPort: 9 },
      },
    });
    const padded = new Uint8Array(frame.length + 8);
    padded.set(frame, 8);
    expect(decodePacket(padded, 8, padded.length, PacketStart.ETHERNET, info)).toBe(PacketStatus.OK);
    expect(info.transportOffset).toBe(8 + 14 + 20);
    expect(decodePacket(padded, 8, 8 + 14 + 20 + 3, PacketStart.ETHERNET, info)).toBe(PacketStatus.TRUNCATED);
    expect(info.hasPorts).toBe(false);
    expect(decodePacket(padded, padded.length + 5, padded.length + 10, PacketStart.ETHERNET, info)).toBe(
      PacketStatus.TRUNCATED,
    );
  });
});
