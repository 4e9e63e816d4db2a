/**
 * The edge spool: selected-record batches the bus has not yet acknowledged, kept on disk in
 * append-only, encrypted segment files (format.ts) so that a bus outage or an edge crash loses
 * nothing that was flushed.
 *
 * - Write-ahead: every batch is appended (buffered in memory) before it is published; batches the
 *   bus acknowledges before the next flush are never written at all, so a healthy bus costs
 *   almost no disk traffic.
 * - Flush policy: the buffer is written (one write per flush) and fsync'ed every `flushIntervalMs`
 *   or as soon as `flushBatches` batches are buffered, whichever comes first. That interval bounds
 *   what a SIGKILL or power loss can take: batches appended in the last interval and not yet
 *   acknowledged. With `fsync: false` a SIGKILL still loses nothing written (the kernel has it),
 *   a power loss may.
 * - Acknowledgements: the contiguous acknowledged high-water mark is saved (state.json, atomic
 *   rename) at each flush; recovery skips frames at or below it. A segment is deleted once all its
 *   batches are acknowledged.
 * - Recovery (start): segments are read in order; a torn or unauthenticated frame ends the
 *   segment (the file is truncated there, counted as `torn_frames`); pending batches are offered
 *   for replay in sequence order; new batches go to a new segment (never appended to old ones).
 * - Bound: `maxBytes` over segment files plus the unwritten buffer. When an append would exceed
 *   it, the spool refuses it with `SpoolFullError`, raises the `full` alarm (gauge `spool_full` = 1,
 *   `onFull` callback, one warning) and counts the refused batch and records; the caller drops the
 *   batch (counted) — UDP exporters cannot be slowed down, so the edge sheds the newest data and
 *   keeps the oldest for replay. The alarm clears below 90 % of the bound.
 * - Batch ids: `<provider>.<instance>.<seq>`; `seq` increases across restarts (blocks of
 *   `SEQ_RESERVE` are reserved in state.json before use), and a replayed batch keeps its id.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, statSync } from 'node:fs';
import {
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  truncate,
  writeFile,
  type FileHandle,
} from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../common/clock.ts';
import { silentLogger, type Logger } from '../../common/logging.ts';
import { MetricsRegistry } from '../../common/metrics.ts';
import { checkToken, type EncodedBatch } from '../bus.ts';
import { SpoolFullError, SpoolIoError, SpoolKeyError } from '../errors.ts';
import { spoolMetrics, type SpoolMetrics } from '../metrics.ts';
import {
  FRAME_OVERHEAD,
  HEADER_BYTES,
  newHeader,
  openFrame,
  sealFrame,
  segmentKey,
  validHeader,
  type SpooledFrame,
} from './format.ts';

/** Options of the spool. */
export interface SpoolOptions {
  /** Directory of segments and state (created with mode 0700). */
  dir: string;
  /** File holding the 32-byte edge key (64 hex characters, base64, or raw), mode 0600 or stricter. */
  keyFile: string;
  /** This edge instance's id (a subject-safe token); part of every batch id. */
  instanceId: string;
  /** Bound on bytes held (default 1 GiB). */
  maxBytes?: number;
  /** A segment is closed and a new one started beyond this size (default 64 MiB). */
  segmentBytes?: number;
  /** Flush (write + fsync) at least this often (default 200 ms). */
  flushIntervalMs?: number;
  /** Flush as soon as this many batches are buffered (default 64). */
  flushBatches?: number;
  /** fsync after each flush (default true). */
  fsync?: boolean;
}

/** Dependencies and callbacks of the spool. */
export interface SpoolDeps {
  clock?: Clock;
  metrics?: MetricsRegistry;
  logger?: Logger;
  /** Called when the spool becomes full (once per episode). */
  onFull?: (err: SpoolFullError) => void;
  /** Called after a flush with the sequence numbers it made durable. */
  onDurable?: (seqs: readonly number[]) => void;
}

/**
 * Sequence numbers reserved per state write: the counter survives restarts without a write per
 * batch; a crash skips at most this many numbers, which only leaves a gap in the ids.
 */
export const SEQ_RESERVE = 100_000;

interface Segment {
  path: string;
  header: Buffer;
  key: Buffer;
  size: number;
  frames: number;
  /** Frames not yet acknowledged. */
  live: number;
  /** Open for appending (the active segment only). */
  fh?: FileHandle;
  /** Open for reading back batches to replay (a promise: concurrent reads share one open). */
  rfh?: Promise<FileHandle>;
}

interface Entry {
  seq: number;
  /** In memory until written. */
  batch?: EncodedBatch;
  segment?: Segment;
  offset: number;
  length: number;
  index: number;
  bytes: number;
}

interface State {
  v: 1;
  instanceId: string;
  reservedThrough: number;
  ackedThrough: number;
}

/** Reads and checks the edge key file: 32 bytes; refused when group or others may read it. */
export function loadSpoolKey(path: string): Buffer {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new SpoolKeyError(`cannot read key file ${path}`, { cause: err });
  }
  if ((st.mode & 0o077) !== 0)
    throw new SpoolKeyError(
      `key file ${path} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}; use 0600)`,
    );
  const raw = readFileSync(path);
  if (raw.length === 32) return raw;
  const text = raw.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  const b = Buffer.from(text, 'base64');
  if (b.length === 32 && /^[A-Za-z0-9+/]+=*$/.test(text)) return b;
  throw new SpoolKeyError(`key file ${path} must hold 32 bytes (raw, 64 hex characters or base64)`);
}

/** Writes a new random edge key (64 hex characters) with mode 0600; refuses to overwrite. */
export function createSpoolKey(path: string, key: Buffer): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, key.toString('hex') + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The spool (see the module comment). Create with `createSpool`, then `start()`. */
export class Spool {
  private readonly m: SpoolMetrics;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly flushIntervalMs: number;
  private readonly flushBatches: number;
  private readonly fsync: boolean;
  private edgeKey: Buffer | undefined;
  private readonly pending = new Map<number, Entry>();
  private readonly segments: Segment[] = [];
  private active: Segment | undefined;
  private buffer: Entry[] = [];
  private bufferBytes = 0;
  private diskBytes = 0;
  private nextSeq = 1;
  private reservedThrough = 0;
  private ackedThrough = 0;
  private savedAckedThrough = -1;
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private isFull = false;
  private started = false;

  constructor(
    private readonly o: SpoolOptions,
    private readonly deps: SpoolDeps = {},
  ) {
    checkToken('instance id', o.instanceId);
    this.m = spoolMetrics(deps.metrics ?? new MetricsRegistry());
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger;
    this.maxBytes = o.maxBytes ?? 1024 * 1024 * 1024;
    this.segmentBytes = o.segmentBytes ?? 64 * 1024 * 1024;
    this.flushIntervalMs = o.flushIntervalMs ?? 200;
    this.flushBatches = o.flushBatches ?? 64;
    this.fsync = o.fsync ?? true;
  }

  private get statePath(): string {
    return join(this.o.dir, 'state.json');
  }

  /** Loads the key and state, recovers segments; pending batches are then available for replay. */
  async start(): Promise<void> {
    if (this.started) return;
    this.edgeKey = loadSpoolKey(this.o.keyFile);
    await mkdir(this.o.dir, { recursive: true, mode: 0o700 });
    let state: State | undefined;
    try {
      state = JSON.parse(await readFile(this.statePath, 'utf8')) as State;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new SpoolIoError('cannot read spool state', { cause: err });
    }
    if (state && state.instanceId !== this.o.instanceId)
      throw new SpoolIoError(
        `spool ${this.o.dir} belongs to edge instance ${state.instanceId}, not ${this.o.instanceId}`,
      );
    this.reservedThrough = state?.reservedThrough ?? 0;
    this.ackedThrough = state?.ackedThrough ?? 0;
    this.savedAckedThrough = this.ackedThrough;
    await this.recover();
    let maxSeen = this.reservedThrough;
    for (const s of this.pending.keys()) maxSeen = Math.max(maxSeen, s);
    this.nextSeq = maxSeen + 1;
    this.reserveBlock();
    this.started = true;
    this.timer = setInterval(
      () => void this.flush().catch((err: unknown) => this.logger.error({ err }, 'spool: flush failed')),
      this.flushIntervalMs,
    );
    this.timer.unref();
    this.updateGauges();
  }

  private async recover(): Promise<void> {
    const names = (await readdir(this.o.dir)).filter((n) => /^seg-\d{16}\.spool$/.test(n)).sort();
    const key = this.edgeKey!;
    const found: SpooledFrame[] = [];
    for (const name of names) {
      const path = join(this.o.dir, name);
      const buf = await readFile(path);
      if (!validHeader(buf)) {
        // A header torn by a crash right after the file was created: nothing of value in it.
        this.m.tornFrames.inc();
        await rm(path, { force: true });
        continue;
      }
      const header = Buffer.from(buf.subarray(0, HEADER_BYTES));
      const seg: Segment = {
        path,
        header,
        key: segmentKey(key, header),
        size: HEADER_BYTES,
        frames: 0,
        live: 0,
      };
      let offset = HEADER_BYTES;
      while (offset < buf.length) {
        const r = openFrame(seg.key, header, seg.frames, buf, offset);
        if (!r.ok) {
          this.m.tornFrames.inc();
          this.logger.warn(
            { segment: name, offset, reason: r.reason },
            'spool: torn or corrupt frame, rest of segment ignored',
          );
          await truncate(path, offset);
          break;
        }
        const length = r.next - offset;
        if (r.frame.seq > this.ackedThrough && !this.pending.has(r.frame.seq)) {
          this.pending.set(r.frame.seq, {
            seq: r.frame.seq,
            segment: seg,
            offset,
            length,
            index: seg.frames,
            bytes: length,
          });
          seg.live++;
          found.push(r.frame);
        }
        seg.frames++;
        offset = r.next;
      }
      seg.size = offset;
      if (seg.live === 0) {
        await rm(path, { force: true });
        continue;
      }
      this.segments.push(seg);
      this.diskBytes += seg.size;
    }
    // Entries were inserted segment by segment; make the map ascending by sequence.
    const sorted = [...this.pending.values()].sort((a, b) => a.seq - b.seq);
    this.pending.clear();
    for (const e of sorted) this.pending.set(e.seq, e);
    this.m.recovered.inc(found.length);
    if (found.length > 0)
      this.logger.info(
        { batches: found.length, segments: this.segments.length },
        'spool: recovered unacknowledged batches',
      );
  }

  private reserveBlock(): void {
    this.reservedThrough = this.nextSeq + SEQ_RESERVE - 1;
    this.writeStateSync();
  }

  private stateJson(): string {
    const s: State = {
      v: 1,
      instanceId: this.o.instanceId,
      reservedThrough: this.reservedThrough,
      ackedThrough: this.ackedThrough,
    };
    return JSON.stringify(s);
  }

  /** Synchronous, durable state write (rare: once per `SEQ_RESERVE` batches and at start). */
  private writeStateSync(): void {
    const tmp = this.statePath + '.tmp';
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, this.stateJson());
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.statePath);
    this.savedAckedThrough = this.ackedThrough;
  }

  private async writeState(): Promise<void> {
    const tmp = this.statePath + '.tmp';
    await writeFile(tmp, this.stateJson(), { mode: 0o600 });
    if (this.fsync) {
      const fh = await open(tmp, 'r');
      await fh.sync().finally(() => fh.close());
    }
    await rename(tmp, this.statePath);
  }

  /** Allocates the next batch id for `providerId` (replays keep the id stored with the batch). */
  reserve(providerId: string): { seq: number; batchId: string } {
    if (this.nextSeq > this.reservedThrough) this.reserveBlock();
    const seq = this.nextSeq++;
    return { seq, batchId: `${providerId}.${this.o.instanceId}.${seq}` };
  }

  /** Bytes held now (segments plus buffer). */
  get bytes(): number {
    return this.diskBytes + this.bufferBytes;
  }

  /** Appends a batch under `seq` (from `reserve`). Throws `SpoolFullError` when over the bound. */
  append(seq: number, batch: EncodedBatch): void {
    const size = batch.bytes.length + batch.batchId.length + batch.providerId.length + 15 + FRAME_OVERHEAD;
    if (this.bytes + size > this.maxBytes) {
      const err = new SpoolFullError(this.maxBytes);
      this.m.fullRejected.inc();
      this.m.fullRejectedRecords.inc(batch.recordCount);
      if (!this.isFull) {
        this.isFull = true;
        this.m.full.set(1);
        this.logger.warn(
          { maxBytes: this.maxBytes },
          'spool: full, refusing new batches until the bus catches up',
        );
        this.deps.onFull?.(err);
      }
      throw err;
    }
    const e: Entry = { seq, batch, offset: 0, length: 0, index: 0, bytes: size };
    this.pending.set(seq, e);
    this.buffer.push(e);
    this.bufferBytes += size;
    this.m.appended.inc();
    this.updateGauges();
    if (this.buffer.length >= this.flushBatches)
      void this.flush().catch((err: unknown) => this.logger.error({ err }, 'spool: flush failed'));
  }

  /** Marks a batch acknowledged by the bus; its space is released (segment deleted when all are). */
  ack(seq: number): void {
    const e = this.pending.get(seq);
    if (!e) return;
    this.pending.delete(seq);
    this.m.acked.inc();
    if (e.segment) e.segment.live--;
    e.batch = undefined;
    const first = this.pending.keys().next();
    this.ackedThrough = Math.max(this.ackedThrough, (first.done ? this.nextSeq : first.value) - 1);
    this.updateGauges();
  }

  /** Sequence numbers not yet acknowledged, ascending. */
  pendingSeqs(): number[] {
    return [...this.pending.keys()];
  }

  /** True while `seq` is not acknowledged. */
  has(seq: number): boolean {
    return this.pending.has(seq);
  }

  /** Number of unacknowledged batches. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** The batch `seq` (from memory, or read back and decrypted from its segment). */
  async read(seq: number): Promise<EncodedBatch | undefined> {
    const e = this.pending.get(seq);
    if (!e) return undefined;
    if (e.batch) return e.batch;
    const seg = e.segment;
    if (!seg) return undefined;
    seg.rfh ??= open(seg.path, 'r');
    const buf = Buffer.alloc(e.length);
    await (await seg.rfh).read(buf, 0, e.length, e.offset);
    const r = openFrame(seg.key, seg.header, e.index, buf, 0);
    if (!r.ok) throw new SpoolIoError(`spooled batch ${seq} unreadable (${r.reason})`);
    return r.frame;
  }

  /** Writes buffered batches (skipping those already acknowledged), fsyncs, saves state, deletes empty segments. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.doFlush());
    return this.flushing;
  }

  private async doFlush(): Promise<void> {
    const batch = this.buffer;
    this.buffer = [];
    this.bufferBytes = 0;
    const todo = batch.filter((e) => this.pending.has(e.seq) && e.batch);
    const durable: number[] = [];
    try {
      let chunks: Buffer[] = [];
      let chunkBytes = 0;
      const writeOut = async (): Promise<void> => {
        if (chunks.length === 0 || !this.active?.fh) return;
        await this.active.fh.writev(chunks);
        this.m.writtenBytes.inc(chunkBytes);
        chunks = [];
        chunkBytes = 0;
      };
      for (const e of todo) {
        if (!this.active || this.active.size >= this.segmentBytes) {
          await writeOut();
          await this.rollSegment(e.seq);
        }
        // Acknowledged while earlier frames were being written: nothing to keep.
        if (!this.pending.has(e.seq) || !e.batch) continue;
        const seg = this.active!;
        const frame = sealFrame(seg.key, seg.header, seg.frames, { ...e.batch, seq: e.seq });
        e.segment = seg;
        e.offset = seg.size;
        e.length = frame.length;
        e.index = seg.frames;
        seg.frames++;
        seg.live++;
        seg.size += frame.length;
        this.diskBytes += frame.length;
        chunks.push(frame);
        chunkBytes += frame.length;
        durable.push(e.seq);
      }
      await writeOut();
      if (durable.length > 0 && this.fsync && this.active?.fh) {
        await this.active.fh.datasync();
        this.m.fsyncs.inc();
      }
    } catch (err) {
      throw new SpoolIoError('spool write failed', { cause: err });
    }
    for (const e of todo) {
      // Written: the memory copy is no longer needed (replays read it back).
      if (this.pending.has(e.seq)) this.m.written.inc();
      e.batch = undefined;
    }
    await this.deleteAcknowledgedSegments();
    if (this.ackedThrough !== this.savedAckedThrough) {
      await this.writeState();
      this.savedAckedThrough = this.ackedThrough;
    }
    this.updateGauges();
    if (durable.length > 0) this.deps.onDurable?.(durable);
  }

  private async rollSegment(firstSeq: number): Promise<void> {
    if (this.active) {
      await this.active.fh?.close();
      delete this.active.fh;
    }
    const { header, key } = newHeader(this.edgeKey!);
    const path = join(this.o.dir, `seg-${String(firstSeq).padStart(16, '0')}.spool`);
    const fh = await open(path, 'wx', 0o600);
    await fh.write(header);
    const seg: Segment = { path, header, key, size: HEADER_BYTES, frames: 0, live: 0, fh };
    this.segments.push(seg);
    this.active = seg;
    this.diskBytes += HEADER_BYTES;
  }

  private async deleteAcknowledgedSegments(): Promise<void> {
    for (let i = 0; i < this.segments.length;) {
      const seg = this.segments[i]!;
      // The live count of the active segment is final only once nothing of it is still buffered.
      if (seg.live > 0 || seg.frames === 0) {
        i++;
        continue;
      }
      this.segments.splice(i, 1);
      if (seg === this.active) this.active = undefined;
      await seg.fh?.close().catch(() => undefined);
      await seg.rfh?.then((h) => h.close()).catch(() => undefined);
      delete seg.fh;
      delete seg.rfh;
      await rm(seg.path, { force: true });
      this.diskBytes -= seg.size;
      this.m.segmentsDeleted.inc();
    }
  }

  private updateGauges(): void {
    this.m.bytes.set(this.bytes);
    this.m.pending.set(this.pending.size);
    if (this.isFull && this.bytes < this.maxBytes * 0.9) {
      this.isFull = false;
      this.m.full.set(0);
      this.logger.info('spool: no longer full');
    }
  }

  /** Flushes and closes files. Unacknowledged batches stay on disk for the next start. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    for (const s of this.segments) {
      await s.fh?.close().catch(() => undefined);
      await s.rfh?.then((h) => h.close()).catch(() => undefined);
      delete s.fh;
      delete s.rfh;
    }
    this.active = undefined;
    this.segments.length = 0;
    this.pending.clear();
    this.diskBytes = 0;
  }
}

/** Creates a spool (no I/O until `start()`). */
export function createSpool(options: SpoolOptions, deps: SpoolDeps = {}): Spool {
  return new Spool(options, deps);
}
