import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../common/clock.ts';
import { resolveCorrelateConfig } from '../config.ts';
import { createCorrelator } from '../correlator.ts';
import { evidence, T0 } from '../testing.ts';
import { NdjsonFileWriter, alertToJson, incidentToJson, snapshotToNdjson } from './ndjson.ts';

function snapshot() {
  const c = createCorrelator(resolveCorrelateConfig(), { clock: new ManualClock(T0) });
  c.push(evidence({ detector: 'scan', subject: '2001:db8::1', counterpart: '198.51.100.1' }));
  c.push(
    evidence({ detector: 'brute-force', subject: '2001:db8::1', counterpart: '198.51.100.1', at: T0 + 1 }),
  );
  return c.snapshot();
}

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('ndjson export (acd analyze contract)', () => {
  it('writes the alert fields of the contract with ISO times and address strings', () => {
    const s = snapshot();
    const a = s.alerts[0];
    if (!a) throw new Error('no alert');
    const j = alertToJson(a);
    expect(j).toMatchObject({
      type: 'alert',
      detector: 'scan',
      subject: '2001:db8::1',
      counterparts: ['198.51.100.1'],
      severity: 'medium',
      firstSeen: '2026-01-01T00:00:00.000Z',
      lastSeen: '2026-01-01T00:01:00.000Z',
      id: a.id,
    });
    expect(typeof j.score).toBe('number');
    expect(typeof j.summary).toBe('string');
    expect(j.evidence).toBeUndefined();
    const withEvidence = alertToJson(a, { evidence: true });
    expect(withEvidence.evidence).toEqual([
      expect.objectContaining({ windowStart: '2026-01-01T00:00:00.000Z', counterpart: '198.51.100.1' }),
    ]);
  });

  it('writes the incident fields of the contract', () => {
    const s = snapshot();
    const i = s.incidents[0];
    if (!i) throw new Error('no incident');
    expect(incidentToJson(i)).toMatchObject({
      type: 'incident',
      id: i.id,
      severity: 'critical',
      campaign: true,
      detectors: ['brute-force', 'scan'],
      subjects: ['2001:db8::1'],
      alerts: s.alerts.map((a) => a.id),
      firstSeen: '2026-01-01T00:00:00.000Z',
      lastSeen: '2026-01-01T00:01:00.001Z',
      state: 'new',
    });
  });

  it('prints alerts, then incidents, one object per line, to a string and to a file', async () => {
    const s = snapshot();
    const text = snapshotToNdjson(s);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(lines.map((l) => l.type)).toEqual(['alert', 'alert', 'incident']);
    expect(snapshotToNdjson({ alerts: [], incidents: [] })).toBe('');
    const dir = await mkdtemp(join(tmpdir(), 'acd-ndjson-'));
    dirs.push(dir);
    const w = await NdjsonFileWriter.open(join(dir, 'out.ndjson'));
    await w.write(s);
    await w.close();
    expect(w.written).toBe(3);
    expect(await readFile(join(dir, 'out.ndjson'), 'utf8')).toBe(text);
  });
});
