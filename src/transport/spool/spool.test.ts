import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../common/metrics.ts';
import { encodeBatch } from '../codec.ts';
import { SpoolFullError, SpoolKeyError } from '../errors.ts';
import { sampleRecords } from '../testing.ts';
import { HEADER_BYTES } from './format.ts';
import { createSpool, createSpoolKey, loadSpoolKey, type SpoolOptions } from './spool.ts';

let dir: string;
let opts: SpoolOptions;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'acd-spool-'));
  createSpoolKey(join(dir, 'edge.key'), randomBytes(32));
  opts = {
    dir: join(dir, 'spool'),
    keyFile: join(dir, 'edge.key'),
    instanceId: 'e1',
    flushIntervalMs: 50,
    fsync: true,
  };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function batch(seq: number, batchId: string, n = 10) {
  return encodeBatch('prov-a', seq % 4, batchId, sampleRecords('prov-a', n, seq * n), 1_767_225_600_000);
}

function segments(): string[] {
  return readdirSync(opts.dir)
    .filter((n) => n.endsWith('.spool'))
    .sort();
}

describe('edge spool', () => {
  it('refuses a key file readable by group or others, and keys of the wrong size', () => {
    const k = join(dir, 'loose.key');
    writeFileSync(k, randomBytes(32).toString('hex'), { mode: 0o644 });
    chmodSync(k, 0o644);
    expect(() => loadSpoolKey(k)).toThrow(SpoolKeyError);
    chmodSync(k, 0o600);
    expect(loadSpoolKey(k)).toHaveLength(32);
    writeFileSync(k, 'abcd', { mode: 0o600 });
    expect(() => loadSpoolKey(k)).toThrow(SpoolKeyError);
    expect(statSync(opts.keyFile).mode & 0o777).toBe(0o600);
  });

  it('recovers unacknowledged batches in order with their ids, and stores them encrypted', async () => {
    const s = createSpool(opts);
    await s.start();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const { seq, batchId } = s.reserve('prov-a');
      ids.push(batchId);
      s.append(seq, batch(seq, batchId));
    }
    for (const seq of s.pendingSeqs().slice(0, 5)) s.ack(seq);
    await s.stop();
    const onDisk = segments()
      .map((n) => readFileSync(join(opts.dir, n)).toString('latin1'))
      .join('');
    expect(onDisk).not.toContain('prov-a/192.0.2.1');
    expect(onDisk).not.toContain('203.0.113.9');
    expect(statSync(join(opts.dir, segments()[0]!)).mode & 0o777).toBe(0o600);

    const s2 = createSpool(opts);
    await s2.start();
    const seqs = s2.pendingSeqs();
    expect(seqs).toHaveLength(15);
    const got = [];
    for (const seq of seqs) got.push((await s2.read(seq))!);
    expect(got.map((b) => b.batchId)).toEqual(ids.slice(5));
    expect(new Uint8Array(got[0]!.bytes)).toEqual(new Uint8Array(batch(seqs[0]!, ids[5]!).bytes));
    // A new id never repeats one used before the restart.
    const next = s2.reserve('prov-a');
    expect(ids).not.toContain(next.batchId);
    await s2.stop();
  });

  it('never writes batches acknowledged before the flush and deletes fully acknowledged segments', async () => {
    const reg = new MetricsRegistry();
    const s = createSpool({ ...opts, flushIntervalMs: 10_000, flushBatches: 1000 }, { metrics: reg });
    await s.start();
    for (let i = 0; i < 10; i++) {
      const { seq, batchId } = s.reserve('prov-a');
      s.append(seq, batch(seq, batchId));
      s.ack(seq);
    }
    await s.flush();
    expect(reg.snapshot()['spool_written_batches']).toBe(0);
    const { seq, batchId } = s.reserve('prov-a');
    s.append(seq, batch(seq, batchId));
    await s.flush();
    expect(segments()).toHaveLength(1);
    s.ack(seq);
    await s.flush();
    expect(segments()).toHaveLength(0);
    await s.stop();
    const s2 = createSpool(opts);
    await s2.start();
    expect(s2.pendingCount).toBe(0);
    await s2.stop();
  });

  it('ignores a torn last frame and everything after a corrupted one', async () => {
    const reg = new MetricsRegistry();
    const s = createSpool(opts);
    await s.start();
    for (let i = 0; i < 6; i++) {
      const { seq, batchId } = s.reserve('prov-a');
      s.append(seq, batch(seq, batchId));
    }
    await s.stop();
    const seg = join(opts.dir, segments()[0]!);
    const size = statSync(seg).size;
    truncateSync(seg, size - 7); // a partial write of the last frame
    const s2 = createSpool(opts, { metrics: reg });
    await s2.start();
    expect(s2.pendingCount).toBe(5);
    expect(reg.snapshot()['spool_torn_frames']).toBe(1);
    await s2.stop();
    // Flip one byte inside the third frame: authentication fails there.
    const buf = readFileSync(seg);
    const frameLen = (buf.length - HEADER_BYTES) / 5;
    buf[HEADER_BYTES + Math.floor(frameLen * 2.5)]! ^= 0xff;
    writeFileSync(seg, buf);
    const s3 = createSpool(opts, { metrics: reg });
    await s3.start();
    expect(s3.pendingCount).toBe(2);
    expect(reg.snapshot()['spool_torn_frames']).toBe(2);
    await s3.stop();
  });

  it('refuses batches with a typed error and raises the alarm when full, and clears it', async () => {
    const reg = new MetricsRegistry();
    let alarms = 0;
    const s = createSpool({ ...opts, maxBytes: 20_000 }, { metrics: reg, onFull: () => alarms++ });
    await s.start();
    let refused = 0;
    for (let i = 0; i < 40; i++) {
      const { seq, batchId } = s.reserve('prov-a');
      try {
        s.append(seq, batch(seq, batchId));
      } catch (err) {
        expect(err).toBeInstanceOf(SpoolFullError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
    expect(alarms).toBe(1);
    expect(reg.snapshot()['spool_full']).toBe(1);
    expect(reg.snapshot()['spool_full_rejected_records']).toBe(refused * 10);
    for (const seq of s.pendingSeqs()) s.ack(seq);
    await s.flush();
    expect(reg.snapshot()['spool_full']).toBe(0);
    await s.stop();
  });
});
