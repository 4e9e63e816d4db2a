/**
 * In-order reassembly of captured TCP streams carrying IPFIX (RFC 7011 section 10.4), feeding one
 * framer per connection direction. Bounded: connections, out-of-order segments and bytes per
 * connection, idle age in capture time. SYN sets the initial sequence number, FIN closes after the
 * last byte, RST drops the state. A capture that starts mid-connection, or a segment lost from the
 * capture, makes the stream resynchronise on the next plausible IPFIX header.
 */
import type { FramingErrorReason } from './errors.ts';
import { createIpfixFramer, type IpfixFramer } from './framing.ts';
import {
  MAX_TCP_CONNECTIONS,
  MAX_TCP_OUT_OF_ORDER_BYTES,
  MAX_TCP_OUT_OF_ORDER_SEGMENTS,
  TCP_IDLE_TIMEOUT_MS,
} from './limits.ts';
import { TcpFlags, type DecodedPacket } from './packet.ts';

/** One IPFIX message framed off a captured TCP stream. */
export interface TcpStreamMessage {
  bytes: Uint8Array;
  srcAddress: string;
  srcPort: number;
  dstAddress: string;
  dstPort: number;
  /** Capture time of the segment that completed the message. */
  timestampMs: number;
}

/** Anomalies of captured TCP streams; each feeds a counter. */
export type TcpEvent =
  | { kind: 'tcp-gap'; connection: string; missingBytes: number }
  | { kind: 'tcp-connection-evicted'; connection: string; reason: 'limit' | 'idle' }
  | { kind: 'tcp-reset'; connection: string }
  | { kind: 'tcp-framing-error'; connection: string; reason: FramingErrorReason }
  | { kind: 'tcp-bytes-skipped'; connection: string; bytes: number }
  | { kind: 'tcp-stream-incomplete'; connection: string; bufferedBytes: number };

/** What one `push` or `flush` produced. */
export interface TcpReassemblyOutput {
  messages: TcpStreamMessage[];
  events: TcpEvent[];
}

/** See {@link createTcpReassembler}. */
export interface TcpReassembler {
  /** Adds one captured TCP segment (`packet.tcp` must be set; others are ignored). */
  push(packet: DecodedPacket, timestampMs: number): TcpReassemblyOutput;
  /** True when this segment's connection direction is being followed. */
  has(packet: DecodedPacket): boolean;
  /** End of capture: reports streams left with unframed bytes and forgets every connection. */
  flush(): TcpReassemblyOutput;
  /** Connection directions followed now. */
  readonly connections: number;
  /** Largest number of out-of-order bytes held by any one connection now. */
  readonly maxOutOfOrderBytes: number;
}

interface Segment {
  seq: number;
  bytes: Uint8Array;
}

interface Connection {
  key: string;
  packet: DecodedPacket;
  next: number;
  ooo: Segment[];
  oooBytes: number;
  framer: IpfixFramer;
  skippedReported: number;
  lastSeenMs: number;
  finSeq: number | undefined;
}

/** Signed distance a - b in sequence space (RFC 793 modular arithmetic). */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

function connectionKey(p: DecodedPacket): string {
  return `${p.srcAddress}|${p.srcPort}|${p.dstAddress}|${p.dstPort}`;
}

/** Creates an empty reassembler. */
export function createTcpReassembler(): TcpReassembler {
  const conns = new Map<string, Connection>();

  function remove(c: Connection, out: TcpReassemblyOutput): void {
    conns.delete(c.key);
    const left = c.framer.buffered + c.oooBytes;
    if (left > 0) out.events.push({ kind: 'tcp-stream-incomplete', connection: c.key, bufferedBytes: left });
  }

  function deliver(c: Connection, bytes: Uint8Array, now: number, out: TcpReassemblyOutput): void {
    // Copy: segments are views into large capture buffers that a held partial message would pin.
    const msgs = c.framer.push(bytes.slice());
    for (const m of msgs) {
      out.messages.push({
        bytes: m,
        srcAddress: c.packet.srcAddress,
        srcPort: c.packet.srcPort,
        dstAddress: c.packet.dstAddress,
        dstPort: c.packet.dstPort,
        timestampMs: now,
      });
    }
    const err = c.framer.error;
    if (err) {
      out.events.push({ kind: 'tcp-framing-error', connection: c.key, reason: err.reason });
      // A capture is read once, so rather than give the connection up, look for the next header.
      c.framer.resync();
    }
    const skipped = c.framer.skippedBytes;
    if (skipped > c.skippedReported) {
      out.events.push({ kind: 'tcp-bytes-skipped', connection: c.key, bytes: skipped - c.skippedReported });
      c.skippedReported = skipped;
    }
  }

  /** Delivers bytes starting at `seq`, trimming what was already delivered. */
  function accept(
    c: Connection,
    seq: number,
    bytes: Uint8Array,
    now: number,
    out: TcpReassemblyOutput,
  ): void {
    const rel = seqDiff(seq, c.next);
    if (rel > 0) return; // not yet deliverable; caller buffers
    const trim = -rel;
    if (trim >= bytes.length) return; // retransmission of delivered data
    deliver(c, bytes.subarray(trim), now, out);
    c.next = (c.next + bytes.length - trim) >>> 0;
  }

  function drain(c: Connection, now: number, out: TcpReassemblyOutput): void {
    // Each pass removes at least one segment, so at most MAX_TCP_OUT_OF_ORDER_SEGMENTS passes.
    let progressed = true;
    while (progressed && c.ooo.length > 0) {
      progressed = false;
      for (let i = 0; i < c.ooo.length; i++) {
        const s = c.ooo[i];
        if (s === undefined || seqDiff(s.seq, c.next) > 0) continue;
        c.ooo.splice(i, 1);
        c.oooBytes -= s.bytes.length;
        accept(c, s.seq, s.bytes, now, out);
        progressed = true;
        break;
      }
    }
  }

  /** Gives up waiting for missing bytes: jump to the earliest buffered segment. */
  function skipGap(c: Connection, out: TcpReassemblyOutput): void {
    let earliest: Segment | undefined;
    for (const s of c.ooo) if (!earliest || seqDiff(s.seq, earliest.seq) < 0) earliest = s;
    if (!earliest) return;
    out.events.push({ kind: 'tcp-gap', connection: c.key, missingBytes: seqDiff(earliest.seq, c.next) });
    c.next = earliest.seq;
    c.framer.resync();
  }

  function evict(now: number, out: TcpReassemblyOutput): void {
    for (const c of conns.values()) {
      if (now - c.lastSeenMs <= TCP_IDLE_TIMEOUT_MS) break;
      remove(c, out);
      out.events.push({ kind: 'tcp-connection-evicted', connection: c.key, reason: 'idle' });
    }
  }

  function open(
    p: DecodedPacket,
    next: number,
    midstream: boolean,
    now: number,
    out: TcpReassemblyOutput,
  ): Connection {
    if (conns.size >= MAX_TCP_CONNECTIONS) {
      const oldest = conns.values().next();
      if (!oldest.done) {
        remove(oldest.value, out);
        out.events.push({ kind: 'tcp-connection-evicted', connection: oldest.value.key, reason: 'limit' });
      }
    }
    const c: Connection = {
      key: connectionKey(p),
      packet: p,
      next,
      ooo: [],
      oooBytes: 0,
      framer: createIpfixFramer({ syncOnStart: midstream }),
      skippedReported: 0,
      lastSeenMs: now,
      finSeq: undefined,
    };
    conns.set(c.key, c);
    return c;
  }

  return {
    push(p, now) {
      const out: TcpReassemblyOutput = { messages: [], events: [] };
      const tcp = p.tcp;
      if (!tcp) return out;
      evict(now, out);
      const key = connectionKey(p);
      let c = conns.get(key);
      const syn = (tcp.flags & TcpFlags.SYN) !== 0;
      const synOnly = syn && (tcp.flags & TcpFlags.ACK) === 0;
      if (tcp.flags & TcpFlags.RST) {
        if (c) {
          remove(c, out);
          out.events.push({ kind: 'tcp-reset', connection: key });
        }
        return out;
      }
      if (c && synOnly && seqDiff((tcp.seq + 1) >>> 0, c.next) !== 0) {
        remove(c, out); // the tuple was reused for a new connection
        c = undefined;
      }
      if (!c) {
        if (synOnly) c = open(p, (tcp.seq + 1) >>> 0, false, now, out);
        else if (p.payload.length > 0) c = open(p, tcp.seq, true, now, out);
        else return out;
      } else {
        // Keep the map in least-recently-active order for eviction.
        conns.delete(key);
        conns.set(key, c);
        c.lastSeenMs = now;
      }
      const dataSeq = syn ? (tcp.seq + 1) >>> 0 : tcp.seq;
      if (tcp.flags & TcpFlags.FIN) c.finSeq = (dataSeq + p.payload.length) >>> 0;
      if (p.payload.length > 0) {
        if (seqDiff(dataSeq, c.next) <= 0) {
          accept(c, dataSeq, p.payload, now, out);
        } else if (
          c.ooo.length < MAX_TCP_OUT_OF_ORDER_SEGMENTS &&
          c.oooBytes + p.payload.length <= MAX_TCP_OUT_OF_ORDER_BYTES
        ) {
          c.ooo.push({ seq: dataSeq, bytes: p.payload.slice() });
          c.oooBytes += p.payload.length;
        } else {
          // The buffer is full: the missing bytes are not in this capture.
          c.ooo.push({ seq: dataSeq, bytes: p.payload.slice() });
          c.oooBytes += p.payload.length;
          skipGap(c, out);
        }
        drain(c, now, out);
        // Still over the limits after draining means the gap persists; skip it now.
        while (c.ooo.length > MAX_TCP_OUT_OF_ORDER_SEGMENTS || c.oooBytes > MAX_TCP_OUT_OF_ORDER_BYTES) {
          skipGap(c, out);
          drain(c, now, out);
        }
      }
      if (c.finSeq !== undefined && seqDiff(c.next, c.finSeq) >= 0) remove(c, out);
      return out;
    },
    has(p) {
      return conns.has(connectionKey(p));
    },
    flush() {
      const out: TcpReassemblyOutput = { messages: [], events: [] };
      for (const c of [...conns.values()]) {
        // Deliver what follows any gap before giving up, so the last messages are not lost.
        while (c.ooo.length > 0) {
          skipGap(c, out);
          drain(c, c.lastSeenMs, out);
        }
        remove(c, out);
      }
      return out;
    },
    get connections() {
      return conns.size;
    },
    get maxOutOfOrderBytes() {
      let max = 0;
      for (const c of conns.values()) max = Math.max(max, c.oooBytes);
      return max;
    },
  };
}
