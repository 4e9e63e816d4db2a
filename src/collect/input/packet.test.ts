import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FRAGMENT_TIMEOUT_MS,
  MAX_FRAGMENT_BYTES_TOTAL,
  MAX_FRAGMENT_DATAGRAMS,
  MAX_IPV6_EXTENSION_HEADERS,
  MAX_REASSEMBLED_BYTES,
  MAX_VLAN_TAGS,
} from './limits.ts';
import { createPacketDecoder, formatIPv6, LinkType, type PacketEvent, type PacketResult } from './packet.ts';
import {
  concat,
  ether,
  etherVlan,
  ext,
  fragHeader,
  ipfixMessage,
  ipv4,
  ipv6,
  ipv6Bytes,
  nullLink,
  sll,
  sll2,
  tcp,
  udp,
} from './testdata/build.ts';

const payload = ipfixMessage(1, 8);
const udp4 = ipv4('192.0.2.1', '198.51.100.2', 17, udp(40000, 4739, payload));
const udp6 = ipv6('2001:db8::1', '2001:db8:0:0:1::2', 17, udp(40000, 2055, payload));

function decode(linkType: number, frame: Uint8Array): PacketResult {
  return createPacketDecoder().decode(linkType, frame, 0);
}
function ok(r: PacketResult) {
  if (!r.ok) throw new Error(`expected a packet, got ${r.reason}`);
  return r.packet;
}

describe('link layers', () => {
  it('decodes Ethernet, 802.1Q and QinQ', () => {
    for (const frame of [
      ether(0x0800, udp4),
      etherVlan(0x0800, udp4, [[0x8100, 10]]),
      etherVlan(0x0800, udp4, [
        [0x88a8, 100],
        [0x8100, 10],
      ]),
    ]) {
      const p = ok(decode(LinkType.ETHERNET, frame));
      expect(p).toMatchObject({
        srcAddress: '192.0.2.1',
        dstAddress: '198.51.100.2',
        srcPort: 40000,
        dstPort: 4739,
        protocol: 17,
      });
      expect([...p.payload]).toEqual([...payload]);
    }
  });

  it('bounds the VLAN tag stack', () => {
    const tags = Array.from({ length: MAX_VLAN_TAGS + 1 }, (): [number, number] => [0x8100, 1]);
    expect(decode(LinkType.ETHERNET, etherVlan(0x0800, udp4, tags))).toEqual({
      ok: false,
      reason: 'too-many-vlan-tags',
    });
  });

  it('decodes Linux cooked SLL and SLL2', () => {
    expect(ok(decode(LinkType.LINUX_SLL, sll(0x0800, udp4))).dstPort).toBe(4739);
    const p = ok(decode(LinkType.LINUX_SLL2, sll2(0x86dd, udp6)));
    expect(p).toMatchObject({
      ipVersion: 6,
      srcAddress: '2001:db8::1',
      dstAddress: '2001:db8::1:0:0:2',
      dstPort: 2055,
    });
  });

  it('decodes BSD loopback in either byte order', () => {
    expect(ok(decode(LinkType.NULL, nullLink(2, udp4, true))).ipVersion).toBe(4);
    expect(ok(decode(LinkType.NULL, nullLink(30, udp6, false))).ipVersion).toBe(6);
    expect(ok(decode(LinkType.LOOP, nullLink(24, udp6, false))).ipVersion).toBe(6);
    expect(decode(LinkType.NULL, nullLink(7, udp4, true))).toEqual({ ok: false, reason: 'not-ip' });
  });

  it('decodes raw IP link types', () => {
    for (const lt of [LinkType.RAW, LinkType.RAW_12, LinkType.RAW_14]) {
      expect(ok(decode(lt, udp4)).ipVersion).toBe(4);
      expect(ok(decode(lt, udp6)).ipVersion).toBe(6);
    }
    expect(ok(decode(LinkType.IPV4, udp4)).dstPort).toBe(4739);
    expect(ok(decode(LinkType.IPV6, udp6)).dstPort).toBe(2055);
  });

  it('skips unknown link types and non-IP frames', () => {
    expect(decode(147, udp4)).toEqual({ ok: false, reason: 'unsupported-link-type' });
    expect(decode(LinkType.ETHERNET, ether(0x0806, new Uint8Array(28)))).toEqual({
      ok: false,
      reason: 'not-ip',
    });
  });
});

describe('IPv4', () => {
  it('skips options and trims Ethernet padding', () => {
    const pkt = ipv4('10.0.0.1', '10.0.0.2', 17, udp(1, 2055, Uint8Array.of(1, 2)), {
      options: Uint8Array.of(1, 1, 1, 0),
    });
    const p = ok(decode(LinkType.ETHERNET, ether(0x0800, concat(pkt, new Uint8Array(20)))));
    expect([...p.payload]).toEqual([1, 2]);
  });

  it('reports frames cut by the snapshot length as truncated', () => {
    expect(decode(LinkType.RAW, udp4.subarray(0, udp4.length - 1))).toEqual({
      ok: false,
      reason: 'truncated',
    });
    expect(decode(LinkType.RAW, udp4.subarray(0, 10))).toEqual({ ok: false, reason: 'truncated' });
  });

  it('skips other protocols and malformed headers', () => {
    expect(decode(LinkType.RAW, ipv4('10.0.0.1', '10.0.0.2', 1, new Uint8Array(8)))).toEqual({
      ok: false,
      reason: 'not-udp-tcp',
    });
    const bad = udp4.slice();
    bad[0] = 0x43; // IHL 12 bytes
    expect(decode(LinkType.IPV4, bad)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('reads TCP header fields and the payload after options', () => {
    const seg = tcp(5000, 4739, 0xfffffff0, 0x18, Uint8Array.of(7, 7, 7));
    const p = ok(decode(LinkType.RAW, ipv4('10.0.0.1', '10.0.0.2', 6, seg)));
    expect(p.tcp).toEqual({ seq: 0xfffffff0, ack: 0, flags: 0x18 });
    expect([...p.payload]).toEqual([7, 7, 7]);
  });
});

describe('IPv6', () => {
  it('walks hop-by-hop, routing and destination options headers', () => {
    const body = concat(ext(43), ext(60), ext(17), udp(1, 4739, payload));
    const p = ok(decode(LinkType.IPV6, ipv6('fe80::1', 'ff02::1', 0, body)));
    expect([...p.payload]).toEqual([...payload]);
  });

  it('bounds the extension header chain', () => {
    const chain = Array.from({ length: MAX_IPV6_EXTENSION_HEADERS + 1 }, () => ext(60));
    const body = concat(...chain, udp(1, 4739, payload));
    expect(decode(LinkType.IPV6, ipv6('::1', '::1', 60, body))).toEqual({
      ok: false,
      reason: 'too-many-extension-headers',
    });
  });

  it('formats addresses per RFC 5952', () => {
    const cases: [string, string][] = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['fe80:0:0:0:0:0:0:0', 'fe80::'],
      ['0:0:0:0:0:ffff:c000:0201', '::ffff:192.0.2.1'],
      ['2001:DB8:A:B:C:D:E:F', '2001:db8:a:b:c:d:e:f'],
    ];
    for (const [input, want] of cases) expect(formatIPv6(ipv6Bytes(input), 0)).toBe(want);
  });
});

describe('fragment reassembly', () => {
  const big = ipfixMessage(7, 3000, 0x5a);
  const dgram = udp(50000, 4739, big); // 3024 bytes of IP payload
  const pieces = [
    { off: 0, data: dgram.subarray(0, 1480), more: true },
    { off: 1480, data: dgram.subarray(1480, 2960), more: true },
    { off: 2960, data: dgram.subarray(2960), more: false },
  ];
  const frag4 = (i: number, id = 42) => {
    const p = pieces[i]!;
    return ipv4('192.0.2.9', '192.0.2.10', 17, p.data, { id, moreFragments: p.more, fragmentOffset: p.off });
  };

  it('reassembles IPv4 fragments arriving out of order', () => {
    const d = createPacketDecoder();
    const events: PacketEvent[] = [];
    expect(d.decode(LinkType.RAW, frag4(2), 0, events)).toEqual({ ok: false, reason: 'fragment-held' });
    expect(d.decode(LinkType.RAW, frag4(0), 1, events)).toEqual({ ok: false, reason: 'fragment-held' });
    const p = ok(d.decode(LinkType.RAW, frag4(1), 2, events));
    expect(p.reassembled).toBe(true);
    expect([...p.payload]).toEqual([...big]);
    expect(events).toEqual([{ kind: 'fragments-reassembled', fragments: 3, bytes: dgram.length }]);
    expect(d.pendingDatagrams).toBe(0);
    expect(d.pendingBytes).toBe(0);
  });

  it('reassembles IPv6 fragments', () => {
    const d = createPacketDecoder();
    const f = (i: number) => {
      const p = pieces[i]!;
      return ipv6('2001:db8::9', '2001:db8::a', 44, concat(fragHeader(17, p.off, p.more, 99), p.data));
    };
    expect(d.decode(LinkType.IPV6, f(1), 0).ok).toBe(false);
    expect(d.decode(LinkType.IPV6, f(0), 0).ok).toBe(false);
    const p = ok(d.decode(LinkType.IPV6, f(2), 0));
    expect(p).toMatchObject({ ipVersion: 6, dstPort: 4739, srcAddress: '2001:db8::9' });
    expect([...p.payload]).toEqual([...big]);
  });

  it('drops overlapping fragments', () => {
    const d = createPacketDecoder();
    const events: PacketEvent[] = [];
    d.decode(LinkType.RAW, frag4(0), 0, events);
    const overlap = ipv4('192.0.2.9', '192.0.2.10', 17, dgram.subarray(8, 1600), {
      id: 42,
      moreFragments: true,
      fragmentOffset: 8,
    });
    expect(d.decode(LinkType.RAW, overlap, 0, events)).toEqual({ ok: false, reason: 'fragment-dropped' });
    expect(events[0]).toMatchObject({ kind: 'fragments-dropped', reason: 'overlap' });
  });

  it('expires incomplete datagrams by capture time and reports leftovers at the end', () => {
    const d = createPacketDecoder();
    const events: PacketEvent[] = [];
    d.decode(LinkType.RAW, frag4(0, 1), 0, events);
    d.decode(LinkType.RAW, frag4(0, 2), FRAGMENT_TIMEOUT_MS + 1, events);
    expect(events).toEqual([{ kind: 'fragments-dropped', reason: 'timeout', fragments: 1, bytes: 1480 }]);
    d.flush(events);
    expect(events[1]).toMatchObject({ kind: 'fragments-dropped', reason: 'incomplete-at-end' });
    expect(d.pendingDatagrams).toBe(0);
  });

  it('bounds the number of datagrams in reassembly', () => {
    const d = createPacketDecoder();
    const events: PacketEvent[] = [];
    for (let id = 0; id < MAX_FRAGMENT_DATAGRAMS + 5; id++) {
      d.decode(
        LinkType.RAW,
        ipv4('10.0.0.1', '10.0.0.2', 17, new Uint8Array(16), { id, moreFragments: true }),
        0,
        events,
      );
    }
    expect(d.pendingDatagrams).toBe(MAX_FRAGMENT_DATAGRAMS);
    expect(events.filter((e) => e.kind === 'fragments-dropped' && e.reason === 'table-full')).toHaveLength(5);
  });
});

describe('packet decoder properties', () => {
  const linkTypes = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];

  it('never throws on random frames and respects the limits', () => {
    const d = createPacketDecoder();
    fc.assert(
      fc.property(
        fc.constantFrom(...linkTypes),
        fc.uint8Array({ maxLength: 200 }),
        fc.nat(100_000),
        (lt, b, t) => {
          const r = d.decode(lt, b, t);
          if (r.ok) {
            expect(r.packet.payload.length).toBeLessThanOrEqual(
              r.packet.reassembled ? MAX_REASSEMBLED_BYTES : b.length,
            );
          }
          expect(d.pendingDatagrams).toBeLessThanOrEqual(MAX_FRAGMENT_DATAGRAMS);
          expect(d.pendingBytes).toBeLessThanOrEqual(MAX_FRAGMENT_BYTES_TOTAL);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never throws on mutated IP packets and random fragment streams', () => {
    const d = createPacketDecoder();
    const bases = [
      udp4,
      udp6,
      ipv6('::1', '::2', 44, concat(fragHeader(17, 8, true, 5), new Uint8Array(64))),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...bases),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(1000),
        (base, muts, t) => {
          const b = base.slice();
          for (const [i, v] of muts) b[i % b.length] = v;
          const r = d.decode(LinkType.RAW, b, t);
          if (r.ok) expect(r.packet.payload.length).toBeLessThanOrEqual(MAX_REASSEMBLED_BYTES);
          expect(d.pendingBytes).toBeLessThanOrEqual(MAX_FRAGMENT_BYTES_TOTAL);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('drops a datagram whose last fragment ends before a fragment held earlier (fuzz regression)', () => {
    // Found by the property above: [16,24) is held, then the last fragment [8,16) declares a
    // total of 16 and the byte count matches, so reassembly would write past the end.
    const d = createPacketDecoder();
    const events: PacketEvent[] = [];
    const beyond = ipv6('::1', '::2', 44, concat(fragHeader(17, 16, true, 7), new Uint8Array(8)));
    const last = ipv6('::1', '::2', 44, concat(fragHeader(17, 8, false, 7), new Uint8Array(8)));
    expect(d.decode(LinkType.RAW, beyond, 0, events)).toEqual({ ok: false, reason: 'fragment-held' });
    const r = d.decode(LinkType.RAW, last, 1, events);
    expect(r.ok).toBe(false);
    expect(events.some((e) => e.kind === 'fragments-dropped')).toBe(true);
  });
});
