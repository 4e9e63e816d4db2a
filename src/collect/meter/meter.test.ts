import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/errors.ts';
import type { DecodedRecord, DnsEvent, FlowRecord } from '../../common/schema/index.ts';
import { buildFrame, type FrameSpec, type TransportSpec } from '../decode/packet/testing.ts';
import type { DecodeEvent } from '../decode/types.ts';
import { createFlowMeter, type CreateFlowMeterOptions, type FlowMeter } from './index.ts';

const ETH = 1;
const MACS = { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' };
const T0 = 1_700_000_000_000;
const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const RST = 0x04;
const PSH = 0x08;

function setup(opts: CreateFlowMeterOptions = {}): {
  m: FlowMeter;
  records: DecodedRecord[];
  events: DecodeEvent[];
  flows: () => FlowRecord[];
  dns: () => DnsEvent[];
} {
  const records: DecodedRecord[] = [];
  const events: DecodeEvent[] = [];
  const m = createFlowMeter(opts, { record: (r) => records.push(r), event: (e) => events.push(e) });
  return {
    m,
    records,
    events,
    flows: () => records.filter((r): r is FlowRecord => r.recordType === 'flow'),
    dns: () => records.filter((r): r is DnsEvent => r.recordType === 'dns'),
  };
}

interface V4 {
  src: string;
  dst: string;
  t: TransportSpec;
  ttl?: number;
  tos?: number;
  vlans?: number[];
  payload?: Uint8Array;
  id?: number;
  flags?: number;
  fragmentOffset?: number;
}

function v4(p: V4): Uint8Array {
  const spec: FrameSpec = {
    ethernet: MACS,
    vlans: (p.vlans ?? []).map((id) => ({ id })),
    ip: {
      version: 4,
      src: p.src,
      dst: p.dst,
      ttl: p.ttl ?? 64,
      tos: p.tos ?? 0,
      id: p.id ?? 0,
      flags: p.flags ?? 0,
      fragmentOffset: p.fragmentOffset ?? 0,
      transport: p.t,
    },
  };
  if (p.payload) spec.payload = p.payload;
  return buildFrame(spec);
}

const udp = (srcPort: number, dstPort: number): TransportSpec => ({ kind: 'udp', srcPort, dstPort });
const tcp = (srcPort: number, dstPort: number, flags: number): TransportSpec => ({
  kind: 'tcp',
  srcPort,
  dstPort,
  flags,
});

/** An ICMP echo frame with identifier `id` (the builder leaves the identifier zero). */
function echo(src: string, dst: string, type: number, id: number, vlans: number[] = []): Uint8Array {
  const f = v4({ src, dst, t: { kind: 'icmp', type, code: 0 }, vlans });
  const o = 14 + vlans.length * 4 + 20 + 4;
  f[o] = id >> 8;
  f[o + 1] = id & 255;
  return f;
}

/** A DNS query for `name` (type A), or its response with one A record. */
function dnsMessage(id: number, name: string, response: boolean): Uint8Array {
  const q: number[] = [];
  for (const label of name.split('.')) q.push(label.length, ...Buffer.from(label));
  q.push(0, 0, 1, 0, 1);
  const h = [
    id >> 8,
    id & 255,
    response ? 0x81 : 0x01,
    response ? 0x80 : 0,
    0,
    1,
    0,
    response ? 1 : 0,
    0,
    0,
    0,
    0,
  ];
  const answer = response ? [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1] : [];
  return Uint8Array.from([...h, ...q, ...answer]);
}

const num = (r: DecodedRecord, k: string): number => r.fields[k] as number;

describe('flow meter: bidirectional flows', () => {
  it('counts the reverse direction in RFC 5103 reverse counters, with TTLs and TOS', () => {
    const { m, flows } = setup();
    m.packet(T0, ETH, v4({ src: '10.0.0.1', dst: '10.0.0.2', t: udp(40000, 9000), ttl: 60, tos: 0x20 }));
    m.packet(T0 + 10, ETH, v4({ src: '10.0.0.2', dst: '10.0.0.1', t: udp(9000, 40000), ttl: 50 }));
    m.packet(T0 + 20, ETH, v4({ src: '10.0.0.2', dst: '10.0.0.1', t: udp(9000, 40000), ttl: 55 }));
    m.packet(
      T0 + 30.7,
      ETH,
      v4({ src: '10.0.0.1', dst: '10.0.0.2', t: udp(40000, 9000), ttl: 63, payload: new Uint8Array(100) }),
    );
    m.flush();
    expect(flows()).toHaveLength(1);
    expect(flows()[0]!.fields).toEqual({
      ipVersion: 4,
      sourceIPv4Address: '10.0.0.1',
      destinationIPv4Address: '10.0.0.2',
      protocolIdentifier: 17,
      sourceTransportPort: 40000,
      destinationTransportPort: 9000,
      ipClassOfService: 0x20,
      flowStartMilliseconds: T0,
      flowEndMilliseconds: T0 + 30,
      packetDeltaCount: 2,
      octetDeltaCount: 28 + 128,
      reversePacketDeltaCount: 2,
      reverseOctetDeltaCount: 56,
      minimumTTL: 60,
      maximumTTL: 63,
      reverseMinimumTTL: 50,
      reverseMaximumTTL: 55,
      biflowDirection: 0,
      flowEndReason: 4,
    });
    expect(m.stats).toMatchObject({ packets: 4, ipPackets: 4, flowsCreated: 1, activeFlows: 0 });
  });

  it('takes the first packet sender as source even when it is the server', () => {
    const { m, flows } = setup();
    m.packet(T0, ETH, v4({ src: '10.0.0.2', dst: '10.0.0.1', t: tcp(80, 5555, SYN | ACK) }));
    m.packet(T0 + 1, ETH, v4({ src: '10.0.0.1', dst: '10.0.0.2', t: tcp(5555, 80, ACK) }));
    m.flush();
    expect(flows()[0]!.fields).toMatchObject({
      sourceIPv4Address: '10.0.0.2',
      sourceTransportPort: 80,
      tcpControlBits: SYN | ACK,
      reverseTcpControlBits: ACK,
      biflowDirection: 0,
    });
  });

  it('keeps IPv6 flows with extension headers, and a host talking to itself, apart and forward', () => {
    const { m, flows } = setup();
    const f6 = (src: string, dst: string, sp: number, dp: number): Uint8Array =>
      buildFrame({
        ethernet: MACS,
        ip: {
          version: 6,
          src,
          dst,
          hopLimit: 33,
          extensions: [{ type: 0 }, { type: 60 }],
          transport: udp(sp, dp),
        },
      });
    m.packet(T0, ETH, f6('2001:db8::1', '2001:db8::2', 1000, 2000));
    m.packet(T0 + 1, ETH, f6('2001:db8::2', '2001:db8::1', 2000, 1000));
    m.packet(T0 + 2, ETH, f6('2001:db8::1', '2001:db8::1', 7, 7));
    m.packet(T0 + 3, ETH, f6('2001:db8::1', '2001:db8::1', 7, 7));
    m.flush();
    const [a, b] = flows();
    expect(a!.fields).toMatchObject({
      ipVersion: 6,
      sourceIPv6Address: '2001:db8::1',
      destinationIPv6Address: '2001:db8::2',
      packetDeltaCount: 1,
      reversePacketDeltaCount: 1,
      octetDeltaCount: 40 + 16 + 8,
      minimumTTL: 33,
    });
    expect(b!.fields).toMatchObject({ packetDeltaCount: 2, reversePacketDeltaCount: 0 });
  });

  it('meters Linux cooked, raw IP and BSD loopback frames', () => {
    const { m, flows } = setup();
    const ip = buildFrame({ ip: { version: 4, src: '10.0.0.1', dst: '10.0.0.2', transport: udp(1, 2) } });
    const sll = new Uint8Array(16 + ip.length);
    sll[14] = 0x08;
    sll.set(ip, 16);
    const loop = new Uint8Array(4 + ip.length);
    loop[0] = 2; // AF_INET, little-endian writer
    loop.set(ip, 4);
    m.packet(T0, 113, sll);
    m.packet(T0, 101, ip);
    m.packet(T0, 0, loop);
    m.flush();
    expect(flows()).toHaveLength(1);
    expect(num(flows()[0]!, 'packetDeltaCount')).toBe(3);
  });
});

describe('flow meter: keys', () => {
  it('keeps the same 5-tuple on different VLANs apart, and reports outer and inner VLAN ids', () => {
    const { m, flows } = setup();
    const t = udp(1234, 5678);
    m.packet(T0, ETH, v4({ src: '10.0.0.1', dst: '10.0.0.2', t, vlans: [10] }));
    m.packet(T0 + 1, ETH, v4({ src: '10.0.0.1', dst: '10.0.0.2', t, vlans: [20] }));
    m.packet(T0 + 2, ETH, v4({ src: '10.0.0.2', dst: '10.0.0.1', t: udp(5678, 1234), vlans: [10] }));
    m.packet(T0 + 3, ETH, v4({ src: '10.0.0.1', dst: '10.0.0.2', t, vlans: [100, 10] }));
    m.packet(T0 + 4, ETH, v4({ src: '10.0.0.1', dst: '10.0.0.2', t }));
    m.flush();
    const got = flows().map((r) => [
      r.fields.vlanId,
      r.fields.dot1qCustomerVlanId,
      r.fields.packetDeltaCount,
      r.fields.reversePacketDeltaCount,
    ]);
    expect(got).toEqual([
      [10, undefined, 1, 1],
      [20, undefined, 1, 0],
      [100, 10, 1, 0],
      [undefined, undefined, 1, 0],
    ]);
  });

  it('pairs ICMP echo requests with replies by identifier; other ICMP by type and code', () => {
    const { m, flows } = setup();
    m.packet(T0, ETH, echo('10.0.0.1', '10.0.0.2', 8, 77));
    m.packet(T0 + 1, ETH, echo('10.0.0.2', '10.0.0.1', 0, 77));
    m.packet(T0 + 2, ETH, echo('10.0.0.1', '10.0.0.2', 8, 78));
    m.packet(T0 + 3, ETH, echo('10.0.0.1', '10.0.0.2', 8, 77));
    m.packet(T0 + 4, ETH, v4({ src: '10.0.0.2', dst: '10.0.0.1', t: { kind: 'icmp', type: 3, code: 3 } }));
    m.packet(T0 + 5, ETH, v4({ src: '10.0.0.2', dst: '10.0.0.1', t: { kind: 'icmp', type: 3, code: 1 } }));
    m.flush();
    const got = flows().map((r) => [
      r.fields.icmpTypeCodeIPv4,
      r.fields.packetDeltaCount,
      r.fields.reversePacketDeltaCount,
    ]);
    expect(got).toEqual([
      [0x0800, 2, 1],
      [0x0800, 1, 0],
      [0x0303, 1, 0],
      [0x0301, 1, 0],
    ]);
    expect(flows()[0]!.fields.sourceTransportPort).toBeUndefined();
  });

  it('counts IP fragments in the flow of their first fragment, or under ports 0 without it', () => {
    const { m, flows } = setup();
    const payload = new Uint8Array(64);
    // First fragment: UDP header + 24 bytes (offset 0, MF); second: the rest (offset 4 x 8 bytes).
    const whole = v4({ src: '10.0.0.1', dst: '10.0.0.2', t: udp(5000, 6000), payload, id: 9 });
    const ipHeader = whole.subarray(14, 34);
    const body = whole.subarray(34);
    const frag = (offsetUnits: number, more: boolean, bytes: Uint8Array, id: number): Uint8Array => {
      const f = new Uint8Array(14 + 20 + bytes.length);
      f.set(whole.subarray(0, 14), 0);
      f.set(ipHeader, 14);
      f[14 + 2] = (20 + bytes.length) >> 8;
      f[14 + 3] = (20 + bytes.length) & 255;
      f[14 + 4] = 0;
      f[14 + 5] = id;
      const fo = (more ? 0x2000 : 0) | offsetUnits;
      f[14 + 6] = fo >> 8;
      f[14 + 7] = fo & 255;
      f.set(bytes, 34);
      return f;
    };
    m.packet(T0, ETH, frag(0, true, body.subarray(0, 32), 9));
    m.packet(T0 + 1, ETH, frag(4, false, body.subarray(32), 9));
    m.packet(T0 + 2, ETH, frag(4, false, body.subarray(32), 10)); // its first fragment never came
    m.flush();
    const got = flows().map((r) => [
      r.fields.sourceTransportPort,
      r.fields.packetDeltaCount,
      r.fields.octetDeltaCount,
    ]);
    expect(got).toEqual([
      [5000, 2, 52 + 60],
      [0, 1, 60],
    ]);
    expect(m.stats).toMatchObject({ fragments: 3, fragmentsUnattributed: 1, ipPackets: 3 });
  });
});

describe('flow meter: timeouts on capture time', () => {
  it('expires idle flows after the idle timeout, DNS and ICMP after the short one', () => {
    const { m, flows } = setup();
    const other = (t: number): void =>
      m.packet(t, ETH, v4({ src: '10.0.0.1', dst: '10.0.0.2', t: udp(1000, 2000) }));
    const dnsq = (t: number): void =>
      m.packet(t, ETH, v4({ src: '10.0.0.1', dst: '10.0.0.3', t: udp(1000, 53) }));
    other(T0);
    dnsq(T0);
    other(T0 + 6_000);
    dnsq(T0 + 6_000); // more than 5 s later: a new DNS flow
    other(T0 + 21_001); // more than 15 s later: a new flow
    m.flush();
    const got = flows().map((r) => [
      r.fields.destinationTransportPort,
      r.fields.flowStartMilliseconds,
      r.fields.flowEndReason,
    ]);
    expect(got).toEqual([
      [53, T0, 1],
      [2000, T0, 1],
      [53, T0 + 6_000, 1],
      [2000, T0 + 21_001, 4],
    ]);
    expect(m.stats.flowsExpired).toMatchObject({ idle: 3, end: 1 });
  });

  it('exports long flows at the active timeout and goes on with the same orientation', () => {
    const { m, flows } = setup({ activeTimeoutMs: 60_000 });
    for (let i = 0; i <= 13; i++) {
      // Every 10 s, alternately from the client and from the server.
      const fromClient = i % 2 === 0;
      m.packet(
        T0 + i * 10_000,
        ETH,
        fromClient
          ? v4({ src: '10.0.0.1', dst: '10.0.0.2', t: tcp(40000, 22, i === 0 ? SYN : ACK) })
          : v4({ src: '10.0.0.2', dst: '10.0.0.1', t: tcp(22, 40000, ACK | PSH) }),
      );
    }
    m.flush();
    const got = flows().map((r) => [
      r.fields.sourceTransportPort,
      r.fields.flowStartMilliseconds,
      r.fields.packetDeltaCount,
      r.fields.reversePacketDeltaCount,
      r.fields.flowEndReason,
      r.fields.biflowDirection,
    ]);
    expect(got).toEqual([
      // The continuation's first packet comes from the server: the client stays the source.
      [40000, T0, 4, 3, 2, 1],
      [40000, T0 + 70_000, 3, 4, 4, 1],
    ]);
    expect(m.stats.flowsExpired.active).toBe(1);
    expect(m.stats.flowsCreated).toBe(1);
  });

  it('neither expires nor revives on a packet slightly out of order', () => {
    const { m, flows } = setup();
    const p = (t: number, fwd: boolean): void =>
      m.packet(
        t,
        ETH,
        fwd
          ? v4({ src: '10.0.0.1', dst: '10.0.0.2', t: udp(1, 2) })
          : v4({ src: '10.0.0.2', dst: '10.0.0.1', t: udp(2, 1) }),
      );
    p(T0 + 100, true);
    p(T0 + 50, false);
    p(T0 + 120, true);
    m.flush();
    expect(flows()).toHaveLength(1);
    expect(flows()[0]!.fields).toMatchObject({
      flowStartMilliseconds: T0 + 50,
      flowEndMilliseconds: T0 + 120,
    });
  });
});

describe('flow meter: TCP end', () => {
  const c = (flags: number, sp = 40000): Uint8Array =>
    v4({ src: '10.0.0.1', dst: '10.0.0.2', t: tcp(sp, 80, flags) });
  const s = (flags: number, dp = 40000): Uint8Array =>
    v4({ src: '10.0.0.2', dst: '10.0.0.1', t: tcp(80, dp, flags) });

  it('ends a flow a grace period after both FINs, keeping the last ACK', () => {
    const { m, flows } = setup();
    m.packet(T0, ETH, c(SYN));
    m.packet(T0 + 1, ETH, s(SYN | ACK));
    m.packet(T0 + 2, ETH, c(FIN | ACK));
    m.packet(T0 + 3, ETH, s(FIN | ACK));
    m.packet(T0 + 4, ETH, c(ACK));
    expect(flows()).toHaveLength(0);
    m.packet(T0 + 2_100, ETH, c(SYN, 40001)); // time passes: the first flow ends
    expect(flows()).toHaveLength(1);
    expect(flows()[0]!.fields).toMatchObject({
      packetDeltaCount: 3,
      reversePacketDeltaCount: 2,
      flowEndReason: 3,
      biflowDirection: 1,
    });
    expect(m.stats.flowsExpired.fin).toBe(1);
  });

  it('ends a flow after an RST', () => {
    const { m, flows } = setup();
    m.packet(T0, ETH, c(SYN));
    m.packet(T0 + 1, ETH, s(RST | ACK));
    m.packet(T0 + 5_000, ETH, c(SYN, 1));
    expect(flows()[0]!.fields).toMatchObject({
      packetDeltaCount: 1,
      reversePacketDeltaCount: 1,
      reverseTcpControlBits: RST | ACK,
      flowEndReason: 3,
    });
    expect(m.stats.flowsExpired.rst).toBe(1);
  });

  it('starts a new flow when a SYN reuses the 5-tuple during the grace period', () => {
    const { m, flows } = setup();
    m.packet(T0, ETH, c(SYN));
    m.packet(T0 + 1, ETH, s(RST | ACK));
    m.packet(T0 + 100, ETH, c(SYN));
    m.packet(T0 + 101, ETH, s(SYN | ACK));
    m.flush();
    expect(
      flows().map((r) => [
        r.fields.flowStartMilliseconds,
        r.fields.packetDeltaCount,
        r.fields.reversePacketDeltaCount,
        r.fields.flowEndReason,
      ]),
    ).toEqual([
      [T0, 1, 1, 3],
      [T0 + 100, 1, 1, 4],
    ]);
  });
});

describe('flow meter: bounded state', () => {
  it('evicts the flow closest to expiry when the table is full', () => {
    const { m, flows } = setup({ maxFlows: 3 });
    for (let i = 0; i < 5; i++)
      m.packet(T0 + i, ETH, v4({ src: '10.0.0.1', dst: '10.0.0.2', t: udp(1000 + i, 2000) }));
    expect(m.stats.activeFlows).toBe(3);
    expect(m.stats.maxActiveFlows).toBe(3);
    expect(flows().map((r) => [r.fields.sourceTransportPort, r.fields.flowEndReason])).toEqual([
      [1000, 5],
      [1001, 5],
    ]);
    m.flush();
    expect(m.stats.flowsExpired).toMatchObject({ evicted: 2, end: 3 });
    expect(m.stats.flowRecords).toBe(5);
  });

  it('rejects invalid options with a ConfigError naming the key', () => {
    expect(() => setup({ maxFlows: 0 })).toThrow(ConfigError);
    expect(() => setup({ idleTimeoutMs: -1 })).toThrow(
      expect.objectContaining({ key: 'meter.idleTimeoutMs' }),
    );
    expect(() => setup({ dnsPorts: [70000] })).toThrow(expect.objectContaining({ key: 'meter.dnsPorts' }));
  });
});

describe('flow meter: what is not metered', () => {
  it('counts non-IP, truncated, malformed and unknown link types, and meters nothing for them', () => {
    const { m, flows, events } = setup();
    m.packet(T0, ETH, buildFrame({ ethernet: MACS, etherType: 0x0806, payload: new Uint8Array(28) }));
    m.packet(T0, ETH, v4({ src: '10.0.0.1', dst: '10.0.0.2', t: udp(1, 2) }).subarray(0, 30));
    const bad = v4({ src: '10.0.0.1', dst: '10.0.0.2', t: udp(1, 2) });
    bad[14] = 0x43; // IHL 3
    m.packet(T0, ETH, bad);
    m.packet(T0, 147, new Uint8Array(40));
    m.packet(Number.NaN, ETH, new Uint8Array(0));
    m.flush();
    expect(flows()).toHaveLength(0);
    expect(m.stats).toMatchObject({
      packets: 5,
      ipPackets: 0,
      nonIp: 1,
      truncated: 2,
      malformed: 1,
      unsupportedLinkType: 1,
    });
    expect(events).toEqual([
      { kind: 'malformed', protocol: 'ip', exporter: 'capture', reason: 'ip-header', offset: 14 },
    ]);
  });

  it('meters a packet whose transport header was cut by the snapshot length, with its IP length', () => {
    const { m, flows } = setup();
    const f = v4({ src: '10.0.0.1', dst: '10.0.0.2', t: tcp(1, 2, ACK), payload: new Uint8Array(1000) });
    m.packet(T0, ETH, f.subarray(0, 14 + 20 + 2));
    m.flush();
    expect(flows()[0]!.fields).toMatchObject({ octetDeltaCount: 1040, protocolIdentifier: 6 });
    expect(m.stats.truncatedTransport).toBe(1);
  });
});

describe('flow meter: DNS events', () => {
  it('parses UDP DNS both ways with the client as source, on VLANs too', () => {
    const { m, dns } = setup({ exporter: 'tap0' });
    m.packet(
      T0,
      ETH,
      v4({
        src: '10.0.0.1',
        dst: '10.0.0.53',
        t: udp(33333, 53),
        vlans: [7],
        payload: dnsMessage(5, 'example.org', false),
      }),
    );
    m.packet(
      T0 + 3,
      ETH,
      v4({
        src: '10.0.0.53',
        dst: '10.0.0.1',
        t: udp(53, 33333),
        vlans: [7],
        payload: dnsMessage(5, 'example.org', true),
      }),
    );
    m.flush();
    const [q, r] = dns();
    expect(q!.fields).toMatchObject({
      sourceIPv4Address: '10.0.0.1',
      destinationIPv4Address: '10.0.0.53',
      sourceTransportPort: 33333,
      destinationTransportPort: 53,
      vlanId: 7,
      eventTime: T0,
      dnsQueryName: 'example.org',
      dnsIsResponse: false,
    });
    expect(r!.fields).toMatchObject({
      sourceIPv4Address: '10.0.0.1',
      destinationIPv4Address: '10.0.0.53',
      eventTime: T0 + 3,
      dnsResponseCode: 0,
      dnsAnswers: [{ name: 'example.org', type: 1, ttl: 60, data: '192.0.2.1' }],
    });
    expect(r!.observation).toMatchObject({ exporter: 'tap0', sequence: 1 });
    expect(m.stats).toMatchObject({ dnsMessages: 2, dnsMalformed: 0 });
  });

  it('parses TCP segments of whole length-prefixed messages, and skips partial ones', () => {
    const { m, dns } = setup();
    const msg = dnsMessage(9, 'a.test', false);
    const two = Uint8Array.from([0, msg.length, ...msg, 0, msg.length, ...msg]);
    m.packet(T0, ETH, v4({ src: '10.0.0.1', dst: '10.0.0.53', t: tcp(40000, 53, ACK | PSH), payload: two }));
    m.packet(
      T0,
      ETH,
      v4({ src: '10.0.0.1', dst: '10.0.0.53', t: tcp(40000, 53, ACK | PSH), payload: two.subarray(0, 10) }),
    );
    m.packet(T0, ETH, v4({ src: '10.0.0.1', dst: '10.0.0.53', t: tcp(40000, 53, ACK) }));
    expect(dns().map((e) => [e.fields.dnsTransport, e.fields.dnsQueryName])).toEqual([
      ['tcp', 'a.test'],
      ['tcp', 'a.test'],
    ]);
    expect(m.stats.dnsTcpSkipped).toBe(1);
  });

  it('counts malformed DNS, emits an event for it, and gives no DnsEvent without a header', () => {
    const { m, dns, events } = setup();
    m.packet(
      T0,
      ETH,
      v4({ src: '10.0.0.1', dst: '10.0.0.53', t: udp(1000, 53), payload: Uint8Array.of(1, 2, 3) }),
    );
    const cut = dnsMessage(1, 'example.org', true).subarray(0, 20);
    m.packet(T0, ETH, v4({ src: '10.0.0.53', dst: '10.0.0.1', t: udp(53, 1000), payload: cut }));
    expect(m.stats).toMatchObject({ dnsMessages: 2, dnsMalformed: 2 });
    expect(dns()).toHaveLength(1);
    expect(dns()[0]!.fields.dnsMalformed).toBe('truncated');
    expect(events.map((e) => e.kind === 'malformed' && e.protocol)).toEqual(['dns', 'dns']);
  });

  it('can be switched off', () => {
    const { m, dns } = setup({ dnsEvents: false });
    m.packet(
      T0,
      ETH,
      v4({ src: '10.0.0.1', dst: '10.0.0.53', t: udp(1000, 53), payload: dnsMessage(1, 'x.test', false) }),
    );
    expect(dns()).toHaveLength(0);
  });
});
