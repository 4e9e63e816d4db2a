import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_TCP_CONNECTIONS, MAX_TCP_OUT_OF_ORDER_BYTES, MAX_TCP_OUT_OF_ORDER_SEGMENTS } from './limits.ts';
import type { DecodedPacket } from './packet.ts';
import { createTcpReassembler, type TcpReassemblyOutput } from './tcp-reassembly.ts';
import { concat, ipfixMessage } from './testdata/build.ts';

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;
const RST = 0x04;

function seg(
  seq: number,
  flags: number,
  payload: Uint8Array = new Uint8Array(0),
  srcPort = 33000,
): DecodedPacket {
  return {
    ipVersion: 4,
    srcAddress: '192.0.2.1',
    dstAddress: '192.0.2.2',
    srcPort,
    dstPort: 4739,
    protocol: 6,
    tcp: { seq: seq >>> 0, ack: 0, flags },
    payload,
    reassembled: false,
  };
}

const msgs = [ipfixMessage(1, 100), ipfixMessage(2, 1500, 0x22), ipfixMessage(3, 40, 0x33)];
const stream = concat(...msgs);

function segments(isn: number, size: number): DecodedPacket[] {
  const out = [seg(isn, SYN)];
  for (let o = 0; o < stream.length; o += size) out.push(seg(isn + 1 + o, ACK, stream.subarray(o, o + size)));
  out.push(seg(isn + 1 + stream.length, FIN | ACK));
  return out;
}

function run(packets: DecodedPacket[]) {
  const r = createTcpReassembler();
  const all: TcpReassemblyOutput = { messages: [], events: [] };
  packets.forEach((p, i) => {
    const o = r.push(p, i);
    all.messages.push(...o.messages);
    all.events.push(...o.events);
  });
  const f = r.flush();
  all.messages.push(...f.messages);
  all.events.push(...f.events);
  return { r, ...all };
}

describe('TCP reassembly for IPFIX captures', () => {
  it('frames messages split across segments', () => {
    const { messages, events, r } = run(segments(1000, 536));
    expect(messages.map((m) => [...m.bytes])).toEqual(msgs.map((m) => [...m]));
    expect(messages[0]).toMatchObject({ srcAddress: '192.0.2.1', srcPort: 33000, dstPort: 4739 });
    expect(events).toEqual([]);
    expect(r.connections).toBe(0); // FIN closed it
  });

  it('reorders out-of-order and drops duplicate segments, across sequence wrap-around', () => {
    const s = segments(0xffffff00, 300);
    const shuffled = [s[0]!, s[3]!, s[2]!, s[1]!, s[2]!, s[5]!, s[4]!, ...s.slice(6)];
    const { messages, events } = run(shuffled);
    expect(messages.map((m) => [...m.bytes])).toEqual(msgs.map((m) => [...m]));
    expect(events).toEqual([]);
  });

  it('resynchronises after a segment missing from the capture', () => {
    const s = segments(5, 200);
    const { messages, events } = run([s[0]!, ...s.slice(2)]); // first data segment lost
    // The first two messages straddle the gap; the third one is recovered.
    expect(messages.map((m) => [...m.bytes])).toEqual([[...msgs[2]!]]);
    expect(events.map((e) => e.kind)).toContain('tcp-gap');
  });

  it('joins a connection captured mid-stream at the next message header', () => {
    const s = segments(5, 50).slice(3); // no SYN, starts inside message 1
    const { messages } = run(s);
    expect(messages.map((m) => m.bytes.length)).toEqual([msgs[1]!.length, msgs[2]!.length]);
  });

  it('bounds the out-of-order buffer and declares the gap lost when it is full', () => {
    const r = createTcpReassembler();
    r.push(seg(0, SYN), 0);
    const events = [];
    // Segments 10 bytes apart, leaving a permanent hole at the start of the stream.
    for (let i = 0; i <= MAX_TCP_OUT_OF_ORDER_SEGMENTS; i++) {
      events.push(...r.push(seg(101 + i * 10, ACK, new Uint8Array(10)), 0).events);
      expect(r.maxOutOfOrderBytes).toBeLessThanOrEqual(MAX_TCP_OUT_OF_ORDER_BYTES);
    }
    expect(events.map((e) => e.kind)).toContain('tcp-gap');
    expect(r.maxOutOfOrderBytes).toBe(0);
  });

  it('forgets a connection on RST', () => {
    const r = createTcpReassembler();
    r.push(seg(1, SYN), 0);
    r.push(seg(2, ACK, msgs[0]!.subarray(0, 10)), 0);
    const o = r.push(seg(12, RST), 0);
    expect(o.events.map((e) => e.kind)).toEqual(['tcp-stream-incomplete', 'tcp-reset']);
    expect(r.connections).toBe(0);
  });

  it('bounds the number of connections', () => {
    const r = createTcpReassembler();
    let evicted = 0;
    for (let i = 0; i < MAX_TCP_CONNECTIONS + 3; i++) {
      evicted += r
        .push(seg(1, SYN, undefined, 1024 + i), 0)
        .events.filter((e) => e.kind === 'tcp-connection-evicted').length;
    }
    expect(r.connections).toBe(MAX_TCP_CONNECTIONS);
    expect(evicted).toBe(3);
  });

  it('never throws and keeps its buffers within the limits', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            seq: fc.integer({ min: 0, max: 4000 }),
            flags: fc.constantFrom(SYN, ACK, ACK, ACK, FIN | ACK, RST, SYN | ACK),
            from: fc.nat(stream.length),
            len: fc.integer({ min: 0, max: 1600 }),
            port: fc.constantFrom(1, 2),
          }),
          { maxLength: 40 },
        ),
        (ops) => {
          const r = createTcpReassembler();
          for (const o of ops) {
            const out = r.push(seg(o.seq, o.flags, stream.subarray(o.from, o.from + o.len), o.port), 0);
            for (const m of out.messages) expect(((m.bytes[0] ?? 0) << 8) | (m.bytes[1] ?? 0)).toBe(10);
            expect(r.connections).toBeLessThanOrEqual(2);
            expect(r.maxOutOfOrderBytes).toBeLessThanOrEqual(MAX_TCP_OUT_OF_ORDER_BYTES);
          }
          r.flush();
          expect(r.connections).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });
});
