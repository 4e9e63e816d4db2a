import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAcdConfig } from '../../cli/config.ts';
import { periodsToDetect, scoreCapture } from '../../cli/eval/real.ts';
import { systemClock } from '../../common/clock.ts';
import { silentLogger } from '../../common/logging.ts';
import { resolveDetectConfig } from '../../detect/config.ts';
import type { LabelsFile, RealLabel } from './labels.ts';
import { planTopology } from './netns.ts';
import { RealEvalAbortedError, realEvalUnavailable, runRealEvalSet, toolsFor } from './index.ts';
import type { RealScenarioName } from './index.ts';
import { BEACON_JITTER, BEACON_SCHEDULE, sweepTargets } from './scenarios.ts';

const execFileP = promisify(execFile);
const SHORT: RealScenarioName[] = ['scan-vertical', 'ddos-syn'];
const unavailable = realEvalUnavailable(SHORT);
// Under ACD_REQUIRE_SERVICES=1 (CI) missing root or tools is a failure, not a skip (CONVENTIONS 11).
if (unavailable !== undefined && process.env.ACD_REQUIRE_SERVICES === '1') throw new Error(unavailable);
const skipNote = unavailable === undefined ? '' : ` (skipped: ${unavailable})`;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function ownNamespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(`acd-ev-${process.pid}-`));
}

interface DecodedRecord {
  recordType?: string;
  sourceIPv4Address?: string;
  destinationIPv4Address?: string;
  destinationTransportPort?: number;
}

describe('real evaluation set: pure parts', () => {
  it('targets the 254 hosts of the sweep prefix and needs ip and tcpdump for every scenario', () => {
    const t = sweepTargets(planTopology());
    expect(t).toHaveLength(254);
    expect(t[0]).toBe('192.0.2.1');
    expect(t[253]).toBe('192.0.2.254');
    expect(toolsFor(['beacon'])).toEqual(expect.arrayContaining(['ip', 'tcpdump', 'curl', 'openssl']));
  });

  it('schedules the full beacon above the beacon detector\u2019s minimum period, long enough to be judged within 20 periods', () => {
    const b = resolveDetectConfig({}).beacon;
    const { periodMs, periods } = BEACON_SCHEDULE.full;
    // Every jittered interval is a check-in period to the detector, not automation.
    expect(periodMs * (1 - BEACON_JITTER)).toBeGreaterThan(b.minPeriodMs);
    expect(periods).toBeGreaterThanOrEqual(25);
    // First judgement: the admission connections before the ring, then minConnections in it.
    const judgedAtCheckIn = b.admitConnections - 1 + b.minConnections;
    expect(judgedAtCheckIn - 1).toBeLessThanOrEqual(20);
    expect(periods + 1).toBeGreaterThan(judgedAtCheckIn);
  });

  it('reports time to detect in periods for a periodic scenario', () => {
    const row = {
      scenario: 'beacon',
      detector: 'beacon' as const,
      alerts: 1,
      truePositives: 1,
      precision: 1,
      expected: 1,
      found: 1,
      recall: 1,
      timeToDetectMs: 204_000,
    };
    const label: RealLabel = {
      file: 'beacon.pcap',
      scenario: 'beacon',
      tool: 'curl',
      toolVersion: '7.88.1-10+deb12u14',
      command: ['curl'],
      expectedDetectors: ['beacon'],
      attackers: ['203.0.113.10'],
      victims: ['198.51.100.7'],
      subjects: ['198.51.100.7'],
      counterparts: ['203.0.113.10'],
      start: '2026-11-25T21:40:21.000Z',
      end: '2026-11-25T21:45:21.000Z',
      packets: 558,
      periodMs: 12_000,
    };
    expect(periodsToDetect(label, row)).toBe(17);
    const { periodMs: _, ...aperiodic } = label;
    expect(periodsToDetect(aperiodic, row)).toBeUndefined();
    expect(periodsToDetect(label, { ...row, timeToDetectMs: null })).toBeUndefined();
  });

  it('plans namespace and interface names that carry the owner pid and fit the 15-byte limit', () => {
    const t = planTopology();
    expect(t.attackerNs).toMatch(new RegExp(`^acd-ev-${process.pid}-[0-9a-f]{6}-a$`));
    expect(t.attackerIf.length).toBeLessThanOrEqual(15);
    expect(t.victimIf.length).toBeLessThanOrEqual(15);
  });
});

describe('real evaluation set: nmap and hping3 in namespaces', () => {
  it.skipIf(unavailable !== undefined)(
    `captures a real SYN scan and a SYN flood, labels them, the decoder meters flows between the labelled hosts, and acd analyze --lab finds both${skipNote}`,
    async () => {
      const outDir = mkdtempSync(join(tmpdir(), 'acd-real-eval-test-'));
      dirs.push(outDir);
      const r = await runRealEvalSet({ outDir, scenarios: SHORT, quick: true });
      const labels = JSON.parse(readFileSync(join(outDir, 'labels.json'), 'utf8')) as LabelsFile;
      expect(labels).toEqual(r.labels);
      expect(labels.captures.map((c) => c.scenario)).toEqual(SHORT);
      for (const c of labels.captures) {
        expect(statSync(join(outDir, c.file)).size).toBeGreaterThan(24); // more than the pcap header
        expect(c.packets).toBeGreaterThan(0);
        expect(c.toolVersion).not.toBe('unknown');
        expect(Date.parse(c.end)).toBeGreaterThan(Date.parse(c.start));
        const { stdout } = await execFileP(
          './bin/acd',
          ['decode', '--format', 'ndjson', join(outDir, c.file)],
          {
            maxBuffer: 256 * 1024 * 1024,
          },
        );
        const flows = stdout
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as DecodedRecord)
          .filter((f) => f.recordType === 'flow');
        const between = flows.filter(
          (f) =>
            c.attackers.includes(f.sourceIPv4Address ?? '') &&
            c.victims.includes(f.destinationIPv4Address ?? ''),
        );
        if (c.scenario === 'scan-vertical') {
          expect(c.expectedDetectors).toEqual(['scan']);
          expect(c.subjects).toEqual(c.attackers);
          // One flow per probed port (1-1000 in the quick run).
          expect(new Set(between.map((f) => f.destinationTransportPort)).size).toBeGreaterThanOrEqual(1000);
        } else {
          expect(c.expectedDetectors).toEqual(['ddos']);
          expect(c.subjects).toEqual(c.victims);
          // Random spoofed sources (--rand-source) and a new source port per packet: one flow
          // per SYN, nearly every one from another address.
          const toVictim = flows.filter((f) => c.victims.includes(f.destinationIPv4Address ?? ''));
          expect(between.length).toBe(0);
          expect(toVictim.length).toBeGreaterThanOrEqual(3000);
          expect(new Set(toVictim.map((f) => f.sourceIPv4Address)).size).toBeGreaterThanOrEqual(1000);
        }
        // The scoring of `acd eval --real`: the expected detector finds the labelled subject, and
        // nothing else alerts on the capture.
        const scored = await scoreCapture(
          { clock: systemClock, logger: silentLogger },
          loadAcdConfig({ env: {} }),
          outDir,
          c,
        );
        const [expected] = c.expectedDetectors;
        const row = scored.rows.find((r) => r.detector === expected);
        expect(row, `${c.scenario}: ${JSON.stringify(scored.rows)}`).toMatchObject({ recall: 1, found: 1 });
        expect(scored.alerts.filter((a) => a.detector === expected).map((a) => a.subject)).toContain(
          c.subjects[0],
        );
      }
      expect(ownNamespaces()).toEqual([]);
    },
    180_000,
  );

  it.skipIf(unavailable !== undefined)(
    `removes its namespaces and processes when aborted mid-scenario${skipNote}`,
    async () => {
      const outDir = mkdtempSync(join(tmpdir(), 'acd-real-eval-test-'));
      dirs.push(outDir);
      const abort = new AbortController();
      const run = runRealEvalSet({
        outDir,
        scenarios: ['ddos-syn'],
        quick: true,
        signal: abort.signal,
        onProgress: (p) => {
          if (p.phase === 'scenario-start') setTimeout(() => abort.abort(), 1000);
        },
      });
      await expect(run).rejects.toBeInstanceOf(RealEvalAbortedError);
      expect(ownNamespaces()).toEqual([]);
      // hping3 and tcpdump ran in their own process groups inside the namespace; none survives.
      const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.includes(outDir));
      expect(left).toEqual([]);
    },
    60_000,
  );
});
