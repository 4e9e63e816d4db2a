import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { InputError, LifecycleError } from '../../common/errors.ts';
import type { Endpoint } from '../../common/schema/index.ts';
import { ipv4At, ipv6At } from '../decode/values.ts';
import { formatListenUrl, type UdpListenSpec } from './listen-url.ts';
import { checkRecvBufferRequest, KERNEL_REPORT_FACTOR, warnIfRecvBufferCapped } from './udp-buffer.ts';
import type { DatagramPush, UdpListener, UdpListenerDeps } from './udp.ts';

/**
 * The native UDP reader (Linux): the addon built from `native/udp_reader.c` by `npm install`
 * (`binding.gyp`) owns the socket; a thread of its own blocks in `recvmmsg` and copies datagrams,
 * with their source address and receive time, into a ring shared with us, so the kernel's socket
 * buffer keeps being emptied while the event loop is paused (garbage collection, decode batches).
 * We are woken at most once per drain and move whole batches out of the ring into the queue:
 * each batch is copied once into a fresh buffer and every datagram is a view of it, instead of one
 * allocation and one callback per datagram as with `dgram`. The ring holds the backlog while the
 * queue is full; when the ring is full too the thread drops and counts (it never waits for us).
 */

/** Bytes of the header before each datagram in the ring (the layout of `native/udp_reader.c`). */
export const RING_HEADER_BYTES = 40;
/** Record size marking "continue at offset 0" in the ring. */
const RING_WRAP = 0xffff_ffff;
/** Smallest ring (as the addon enforces): a maximal datagram and its header always fit. */
export const MIN_RING_BYTES = 1 << 20;
/** Largest ring accepted (as the `collect.udpRingBytes` schema). */
export const MAX_RING_BYTES = 1 << 30;
/**
 * Default ring: about 1.4 s of a 1,400-byte-datagram stream at 1.2 M records/s, an order of
 * magnitude more than the longest event-loop pause measured (BENCHMARKS.md, bench:collect).
 */
export const DEFAULT_RING_BYTES = 64 << 20;
/**
 * Datagrams moved into the queue per wake-up; the rest waits in the ring for the next event-loop
 * turn, so one wake-up never holds the loop for long.
 */
export const MAX_DRAIN_DATAGRAMS = 4096;
/**
 * Queue depth up to which datagrams are moved out of the ring (a few of the collector's drain
 * turns): enough that the decoder never waits for us, few enough that a backlog is held in the
 * ring, not as objects on the JavaScript heap, where the young-generation collections would copy
 * it again and again.
 */
export const MAX_QUEUED_FROM_RING = 4096;
/**
 * Bytes of the ring copied into one buffer at most. Each buffer lives while any of its datagrams
 * waits in the queue, so it is kept small compared with the queue.
 */
const MAX_CHUNK_BYTES = 512 << 10;
/** Distinct IPv4 source addresses whose text is cached (cleared when full). */
const ADDRESS_CACHE_SIZE = 4096;

/** Where `npm install` leaves the addon (node-gyp's default output directory). */
export const NATIVE_UDP_ADDON_FILE = fileURLToPath(
  new URL('../../../build/Release/acd_udp_reader.node', import.meta.url),
);

declare const handleBrand: unique symbol;
/** An open reader inside the addon (a Node-API external). */
export interface NativeUdpHandle {
  readonly [handleBrand]: true;
}

/** The functions of the addon (`native/udp_reader.c`). */
export interface NativeUdpAddon {
  readonly headerBytes: number;
  readonly minRingBytes: number;
  /**
   * Creates the socket (IPv6-only for family 6, no address reuse), requests `rcvbuf` when > 0,
   * binds and starts the reading thread. Throws an Error whose `code` is the errno name.
   */
  open(
    ring: ArrayBuffer,
    family: 4 | 6,
    host: string,
    port: number,
    rcvbuf: number,
    onReadable: () => void,
  ): NativeUdpHandle;
  /**
   * The bound address, the SO_RCVBUF the kernel reports, and whether the reading thread got its
   * raised scheduling priority (needs CAP_SYS_NICE; false until the thread runs).
   */
  info(h: NativeUdpHandle): { address: string; port: number; rcvbuf: number; priority: boolean };
  /** Re-arms the wake-up, then writes [head, monotonic ms, datagrams, bytes, dropped, errors]. */
  acquire(h: NativeUdpHandle, out: Float64Array): void;
  /** Gives the ring back up to position `tail`. */
  release(h: NativeUdpHandle, tail: number): void;
  /** Stops and joins the thread and closes the socket (idempotent). */
  close(h: NativeUdpHandle): void;
}

/** The outcome of loading the addon: it, or why it cannot be used. */
export type NativeUdpAddonLoad = { ok: true; addon: NativeUdpAddon } | { ok: false; reason: string };

const loads = new Map<string, NativeUdpAddonLoad>();

/**
 * Loads the addon once per file (later calls return the same outcome). Never throws: off Linux,
 * when `npm install` could not build it, or when it does not load, says why.
 */
export function loadNativeUdpReader(file: string = NATIVE_UDP_ADDON_FILE): NativeUdpAddonLoad {
  const known = loads.get(file);
  if (known) return known;
  let result: NativeUdpAddonLoad;
  if (process.platform !== 'linux') {
    result = { ok: false, reason: `the native udp reader is Linux-only (this is ${process.platform})` };
  } else {
    try {
      const m = createRequire(import.meta.url)(file) as Partial<NativeUdpAddon>;
      const complete =
        typeof m.open === 'function' &&
        typeof m.info === 'function' &&
        typeof m.acquire === 'function' &&
        typeof m.release === 'function' &&
        typeof m.close === 'function';
      if (!complete) result = { ok: false, reason: `${file} is not the acd udp reader` };
      else if (m.headerBytes !== RING_HEADER_BYTES || m.minRingBytes !== MIN_RING_BYTES)
        result = {
          ok: false,
          reason: `${file} was built from another version of the source (npm run install)`,
        };
      else result = { ok: true, addon: m as NativeUdpAddon };
    } catch (err) {
      result = { ok: false, reason: `cannot load ${file}: ${(err as Error).message}` };
    }
  }
  loads.set(file, result);
  return result;
}

/** Options of a native UDP listener. */
export interface NativeUdpListenerOptions {
  /** SO_RCVBUF to request (bytes); absent keeps the system default. */
  recvBufferSize?: number;
  /** Ring size in bytes (multiple of 8, `MIN_RING_BYTES`..`MAX_RING_BYTES`). */
  ringBytes: number;
  /** Room downstream (the queue); absent: unlimited. See `DownstreamRoom`. */
  room?: DownstreamRoom;
}

/**
 * Room downstream of a native listener (the `DatagramQueue` has this shape). Datagrams are moved
 * only while the queue holds fewer than `MAX_QUEUED_FROM_RING` (and it has `free` slots), so a
 * backlog stays in the ring (preallocated, outside the JavaScript heap, where it costs the garbage
 * collector nothing) rather than in the queue; moving resumes when `whenSpace` calls back (after
 * the queue's next drain turn).
 */
export interface DownstreamRoom {
  readonly free: number;
  readonly depth: number;
  whenSpace(cb: () => void): void;
}

/** Counter values of the addon already copied into the metrics. */
interface Synced {
  datagrams: number;
  bytes: number;
  dropped: number;
  errors: number;
}

/**
 * Creates a UDP listener read by the native addon. `load` is the outcome of `loadNativeUdpReader`;
 * when it failed, `start()` rejects with an `InputError` saying why. Datagrams are handed to
 * `push` exactly as the `dgram` listener does (a `RawDatagram` per datagram, in order).
 */
export function createNativeUdpListener(
  deps: UdpListenerDeps,
  spec: UdpListenSpec,
  push: DatagramPush,
  opts: NativeUdpListenerOptions,
  load: NativeUdpAddonLoad,
): UdpListener {
  const { clock, logger, metrics } = deps;
  let addon: NativeUdpAddon | undefined;
  let handle: NativeUdpHandle | undefined;
  let bound: Endpoint | undefined;
  let granted = 0;
  let stopped = false;
  let size = 0;
  let ring = Buffer.alloc(0);
  let u16 = new Uint16Array(0);
  let u32 = new Uint32Array(0);
  let f64 = new Float64Array(0);
  /** Ring position up to which datagrams have been moved out. */
  let tail = 0;
  let drainScheduled = false;
  let waitingForRoom = false;
  const out = new Float64Array(6);
  const synced: Synced = { datagrams: 0, bytes: 0, dropped: 0, errors: 0 };
  const v4Text = new Map<number, string>();

  function sync(): void {
    const datagrams = out[2]!;
    const bytes = out[3]!;
    const dropped = out[4]!;
    const errors = out[5]!;
    if (datagrams !== synced.datagrams) metrics.udpDatagrams.inc(datagrams - synced.datagrams);
    if (bytes !== synced.bytes) metrics.udpBytes.inc(bytes - synced.bytes);
    // A full ring is a full queue one stage earlier: counted with the queue's drops.
    if (dropped !== synced.dropped) metrics.queueDropped.inc(dropped - synced.dropped);
    if (errors !== synced.errors) metrics.udpErrors.inc(errors - synced.errors);
    synced.datagrams = datagrams;
    synced.bytes = bytes;
    synced.dropped = dropped;
    synced.errors = errors;
  }

  /** Source address text of the record at ring offset `o` (cached for IPv4). */
  function sourceAddress(o: number): string {
    if (ring[o + 18] === 4) {
      const key = u32[(o + 24) >>> 2]!;
      let s = v4Text.get(key);
      if (s === undefined) {
        if (v4Text.size >= ADDRESS_CACHE_SIZE) v4Text.clear();
        s = ipv4At(ring, o + 24);
        v4Text.set(key, s);
      }
      return s;
    }
    const scope = u32[(o + 20) >>> 2]!;
    const text = ipv6At(ring, o + 24);
    return scope === 0 ? text : `${text}%${scope}`;
  }

  /**
   * Moves datagrams from the ring into the queue: at most `limit` (and, unless `final`, the
   * queue's room), in buffers of up to `MAX_CHUNK_BYTES` copied out of the ring in one go, then
   * gives the space back. `final` (at stop) moves everything: what the queue cannot take it drops
   * and counts.
   */
  function moveOut(limit: number, final: boolean): void {
    if (!addon || !handle) return;
    addon.acquire(handle, out);
    sync();
    const head = out[0]!;
    const age0 = clock.now() - out[1]!;
    const room = final ? undefined : opts.room;
    const free = room ? Math.min(room.free, MAX_QUEUED_FROM_RING - room.depth) : limit;
    let budget = Math.min(limit, free);
    while (tail < head && budget > 0) {
      const start = tail % size;
      let off = start;
      let pos = tail;
      let n = 0;
      while (pos < head && n < budget && off < size && off - start < MAX_CHUNK_BYTES) {
        const rec = u32[off >>> 2]!;
        if (rec === RING_WRAP) break;
        off += rec;
        pos += rec;
        n++;
      }
      if (n === 0) {
        // A wrap marker: the next record starts at offset 0.
        tail += size - start;
        continue;
      }
      const chunk = Buffer.allocUnsafeSlow(off - start);
      ring.copy(chunk, 0, start, off);
      for (let o = start; o < off; o += u32[o >>> 2]!) {
        const len = u32[(o >>> 2) + 1]!;
        const at = o - start + RING_HEADER_BYTES;
        push({
          // The receive time, on our clock: now minus the datagram's age in the ring.
          receivedAt: age0 + f64[(o >>> 3) + 1]!,
          exporter: { address: sourceAddress(o), port: u16[(o + 16) >>> 1]! },
          transport: 'udp',
          bytes: chunk.subarray(at, at + len),
        });
      }
      tail = pos;
      budget -= n;
    }
    addon.release(handle, tail);
    if (tail >= head || final) return;
    // A backlog: wait for room in the queue if that is what stopped us, else for the next turn.
    if (room && free < limit) waitForRoom(room);
    else schedule();
  }

  function waitForRoom(room: DownstreamRoom): void {
    if (waitingForRoom) return;
    waitingForRoom = true;
    room.whenSpace(roomCallback);
  }

  const roomCallback = (): void => {
    waitingForRoom = false;
    // Woken from inside the queue's drain turn: move on in a turn of our own.
    schedule();
  };

  const drainTurn = (): void => {
    drainScheduled = false;
    drain();
  };

  function schedule(): void {
    if (drainScheduled) return;
    drainScheduled = true;
    setImmediate(drainTurn);
  }

  /** The wake-up from the reading thread (and the retry while the queue is full). */
  function drain(): void {
    if (stopped) return;
    try {
      moveOut(MAX_DRAIN_DATAGRAMS, false);
    } catch (err) {
      // Nothing here should throw; if it does, the listener keeps running and says so.
      metrics.udpErrors.inc();
      logger.error({ listen: spec.url, err: (err as Error).message }, 'native udp reader failed to drain');
    }
  }

  return {
    reader: 'native',

    async start(): Promise<void> {
      if (handle || stopped) throw new LifecycleError(`udp listener ${spec.url} already started`);
      if (!load.ok) throw new InputError(spec.url, `native udp reader unavailable: ${load.reason}`);
      const requested = opts.recvBufferSize;
      checkRecvBufferRequest(spec.url, requested);
      if (!(opts.ringBytes >= MIN_RING_BYTES && opts.ringBytes <= MAX_RING_BYTES && opts.ringBytes % 8 === 0))
        throw new InputError(
          spec.url,
          `ring of ${opts.ringBytes} bytes is not a multiple of 8 in ${MIN_RING_BYTES}..${MAX_RING_BYTES}`,
        );
      addon = load.addon;
      const buffer = new ArrayBuffer(opts.ringBytes);
      try {
        handle = addon.open(buffer, spec.family, spec.host, spec.port, requested ?? 0, drain);
      } catch (err) {
        throw new InputError(spec.url, `cannot listen: ${(err as Error).message}`, { cause: err });
      }
      size = opts.ringBytes;
      ring = Buffer.from(buffer);
      u16 = new Uint16Array(buffer);
      u32 = new Uint32Array(buffer);
      f64 = new Float64Array(buffer);
      const info = addon.info(handle);
      bound = { address: info.address, port: info.port };
      granted = info.rcvbuf;
      if (requested !== undefined) await warnIfRecvBufferCapped(logger, spec.url, requested, granted);
    },

    async stop(): Promise<void> {
      if (!addon || !handle || stopped) return;
      // Join the thread first, then hand on everything it had put in the ring.
      addon.close(handle);
      moveOut(Number.POSITIVE_INFINITY, true);
      stopped = true;
      handle = undefined;
      await Promise.resolve();
    },

    address(): Endpoint {
      if (!bound) throw new LifecycleError(`udp listener ${spec.url} is not started`);
      return bound;
    },

    url(): string {
      const a = this.address();
      return formatListenUrl('udp', a.address, a.port);
    },

    recvBufferSize(): number {
      return granted / KERNEL_REPORT_FACTOR;
    },
  };
}
