/**
 * `acd analyze` end to end (issue 6 contract), in process through `main`: a capture written by
 * `acd generate` (IPFIX in pcap, a horizontal scan and a SYN flood against an operator, with the
 * background on) is analysed with and without `--lab`. The NDJSON lines follow the contract
 * (alerts first, then incidents, with the named fields and types), the scanner and the flood
 * victim are found, `--since/--until` narrow the input, `--indicators` reads both file formats,
 * a missing file exits 1, bad usage exits 2, and a file with nothing to find still exits 0.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/common/clock.ts';
import { acdOn } from './helpers/cli.ts';

const acd = acdOn(new ManualClock(Date.UTC(2026, 0, 1)));

type Line = Record<string, unknown>;

function lines(text: string): Line[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
}

interface Truth {
  scenario: string;
  attackers: string[];
  victims: string[];
  expectedDetectors: string[];
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
let dir: string;
let pcap: string;
let truth: Truth[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acd-analyze-'));
  pcap = join(dir, 'run.pcap');
  const g = await acd(
    'generate',
    '--scenario',
    'scan-horizontal,ddos-flood',
    '--param',
    'scan-horizontal.start=+1m',
    '--param',
    'ddos-flood.start=+2m',
    '--seed',
    '5',
    '--start',
    '2026-05-11T09:00:00Z',
    '--speed',
    '60',
    '--duration',
    '8s',
    '--rate',
    '3000',
    '--sampling',
    '1',
    '--out',
    pcap,
    '--truth',
    join(dir, 'truth.ndjson'),
    '--operators-out',
    join(dir, 'operators.json'),
  );
  expect(g.code, g.stderr).toBe(0);
  truth = lines(await readFile(join(dir, 'truth.ndjson'), 'utf8')) as unknown as Truth[];
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('acd analyze', () => {
  it('--lab: NDJSON alerts then incidents in the contract shape, scanner and flood victim found', async () => {
    const r = await acd('analyze', '--lab', '--operators', join(dir, 'operators.json'), pcap);
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r.stdout);
    const alerts = out.filter((l) => l.type === 'alert');
    const incidents = out.filter((l) => l.type === 'incident');
    expect(alerts.length).toBeGreaterThan(0);
    expect(incidents.length).toBeGreaterThan(0);
    // Alerts come first, then incidents.
    const firstIncident = out.findIndex((l) => l.type === 'incident');
    expect(out.slice(firstIncident).every((l) => l.type === 'incident')).toBe(true);
    for (const a of alerts) {
      expect(typeof a.detector).toBe('string');
      expect(typeof a.subject).toBe('string');
      expect(Array.isArray(a.counterparts)).toBe(true);
      expect(['low', 'medium', 'high', 'critical']).toContain(a.severity);
      expect(a.score).toBeGreaterThanOrEqual(0);
      expect(a.score).toBeLessThanOrEqual(1);
      expect(a.firstSeen).toMatch(ISO);
      expect(a.lastSeen).toMatch(ISO);
      expect(typeof a.summary).toBe('string');
    }
    const ids = new Set(alerts.map((a) => a.id));
    for (const i of incidents) {
      expect(typeof i.id).toBe('string');
      expect(Array.isArray(i.detectors)).toBe(true);
      expect(Array.isArray(i.subjects)).toBe(true);
      expect((i.alerts as string[]).every((id) => ids.has(id))).toBe(true);
      expect(i.firstSeen).toMatch(ISO);
      expect(typeof i.summary).toBe('string');
    }
    const scanner = truth.find(
      (t) => t.scenario === 'scan-horizontal' && t.expectedDetectors.includes('scan'),
    )!;
    const flood = truth.find((t) => t.scenario === 'ddos-flood' && t.expectedDetectors.includes('ddos'))!;
    expect(alerts.some((a) => a.detector === 'scan' && scanner.attackers.includes(a.subject as string))).toBe(
      true,
    );
    expect(alerts.some((a) => a.detector === 'ddos' && flood.victims.includes(a.subject as string))).toBe(
      true,
    );
  }, 120_000);

  it('without --lab: selection with the demonstration feed set runs first and says so', async () => {
    const r = await acd('analyze', pcap);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('DEMONSTRATION feed set');
    expect(r.stderr).toMatch(/\d+ of \d+ selected/);
    const alerts = lines(r.stdout).filter((l) => l.type === 'alert');
    // The foreign scanner stays in clear (only domestic space is pseudonymised).
    const scanner = truth.find(
      (t) => t.scenario === 'scan-horizontal' && t.expectedDetectors.includes('scan'),
    )!;
    expect(alerts.some((a) => a.detector === 'scan' && scanner.attackers.includes(a.subject as string))).toBe(
      true,
    );
  }, 120_000);

  it('--since/--until keep only records in the range; --format table is for people', async () => {
    const r = await acd(
      'analyze',
      '--lab',
      '--format',
      'table',
      '--since',
      '2026-05-11T08:00:00Z',
      '--until',
      '2026-05-11T08:30:00Z',
      pcap,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('0 incident(s), 0 alert(s)');
    expect(r.stderr).toMatch(/outside --since\/--until/);
  }, 60_000);

  it('--indicators accepts one value per line and the CSV format', async () => {
    const scanner = truth.find((t) => t.scenario === 'scan-horizontal')!.attackers[0]!;
    const plain = join(dir, 'iocs.txt');
    await writeFile(plain, `# scanner\n${scanner}\n`);
    const r1 = await acd('analyze', '--lab', '--indicators', plain, pcap);
    expect(r1.code, r1.stderr).toBe(0);
    expect(lines(r1.stdout).some((l) => l.type === 'alert' && l.detector === 'indicator')).toBe(true);
    const csv = join(dir, 'iocs.csv');
    await writeFile(csv, `value,type,valid_until,source,confidence\n${scanner},ipv4,,test,90\n`);
    const r2 = await acd('analyze', '--lab', '--indicators', csv, pcap);
    expect(r2.code, r2.stderr).toBe(0);
    expect(lines(r2.stdout).some((l) => l.type === 'alert' && l.detector === 'indicator')).toBe(true);
  }, 120_000);

  it('exits 1 for a missing file, 2 for bad usage, 0 when nothing is found', async () => {
    expect((await acd('analyze', '--lab', join(dir, 'absent.pcap'))).code).toBe(1);
    expect((await acd('analyze', '--lab', '--since', 'yesterday', pcap)).code).toBe(2);
    expect((await acd('analyze', '--lab', '--format', 'xml', pcap)).code).toBe(2);
    const empty = join(dir, 'empty.log');
    await writeFile(empty, '#separator \\x09\n#path\tconn\n#fields\tts\tuid\n');
    const r = await acd('analyze', '--lab', empty);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
  }, 60_000);
});
