/**
 * `acd generate` end to end (issue 4), in process through `main`: the generated stream decodes
 * with acd's own decoders for every format (`acd decode` of `--out` files), nfcapd/nfdump read
 * what `--to udp://` sends, `--out` is byte-identical for the same seed and start, `--count` is
 * exact, the truth, indicator and operators files are written, `--list --json` parses, and usage
 * errors exit 2.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/common/clock.ts';
import { readOperatorsFile } from '../src/simulate/country/index.ts';
import { SCENARIO_NAMES } from '../src/simulate/traffic/index.ts';
import { nfdumpCsv, requireTool, runNfcapd } from './helpers/tools.ts';
import { acdOn } from './helpers/cli.ts';

const acd = acdOn(new ManualClock(Date.UTC(2026, 0, 1)));

function ndjson(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const START = '2026-04-01T12:00:00Z';
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acd-generate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('acd generate --list', () => {
  it('prints every scenario with its parameters; --json parses', async () => {
    const text = await acd('generate', '--list');
    expect(text.code).toBe(0);
    for (const n of SCENARIO_NAMES) expect(text.stdout).toContain(n);
    const json = await acd('generate', '--list', '--json');
    expect(json.code).toBe(0);
    const list = JSON.parse(json.stdout) as {
      name: string;
      params: { name: string; default: unknown }[];
      defaultDurationMs: number;
    }[];
    expect(list.map((s) => s.name)).toEqual([...SCENARIO_NAMES]);
    for (const s of list) {
      expect(s.defaultDurationMs).toBeGreaterThan(0);
      for (const p of s.params) expect(p.default).toBeDefined();
    }
  });
});

describe('acd generate usage errors', () => {
  const cases: [string, string[]][] = [
    ['no output', ['--count', '10']],
    ['both --to and --out', ['--to', 'udp://127.0.0.1:9', '--out', 'x.pcap']],
    ['dnstap over UDP', ['--format', 'dnstap', '--to', 'udp://127.0.0.1:9']],
    ['netflow9 over TCP', ['--format', 'netflow9', '--to', 'tcp://127.0.0.1:9']],
    ['bad --start', ['--start', 'yesterday', '--out', 'x.pcap']],
    ['--duration and --count', ['--duration', '10s', '--count', '5', '--out', 'x.pcap']],
    ['bad --duration', ['--duration', 'ten', '--out', 'x.pcap']],
    ['unknown scenario', ['--scenario', 'nope', '--out', 'x.pcap']],
    ['unknown format', ['--format', 'netflow8', '--out', 'x.pcap']],
    ['--no-background alone', ['--no-background', '--out', 'x.pcap']],
    ['v5 sampling too large', ['--format', 'netflow5', '--sampling', '20000', '--out', 'x.pcap']],
    ['bad --param', ['--scenario', 'dga', '--param', 'c2-beacon.period=3s', '--out', 'x.pcap']],
  ];
  for (const [name, args] of cases) {
    it(`exits 2 for ${name}`, async () => {
      const r = await acd('generate', ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/acd|error|option/i);
    });
  }
});

describe('acd generate --out decodes with acd decode', () => {
  const formats = ['ipfix', 'netflow9', 'netflow5', 'sflow5', 'dnstap'] as const;
  for (const format of formats) {
    it(`${format}: exactly --count records, decodable, with the exporters' addresses`, async () => {
      const file = join(dir, `run-${format}.${format === 'dnstap' ? 'fstrm' : 'pcap'}`);
      const count = format === 'dnstap' ? 800 : 3000;
      const gen = await acd(
        'generate',
        '--format',
        format,
        '--count',
        String(count),
        '--seed',
        '3',
        '--start',
        START,
        '--out',
        file,
      );
      expect(gen.code, gen.stderr).toBe(0);
      const summary = JSON.parse(/summary (\{.*\})/.exec(gen.stderr)![1]!) as { records: number };
      expect(summary.records).toBe(count);
      const dec = await acd('decode', file);
      expect(dec.code, dec.stderr).toBe(0);
      const recs = ndjson(dec.stdout);
      const data = recs.filter((r) => r.recordType === (format === 'dnstap' ? 'dns' : 'flow'));
      expect(data.length).toBe(count);
      if (format === 'dnstap') {
        for (const r of data) expect(typeof r.dnsQueryName).toBe('string');
      } else {
        for (const r of data) {
          expect(String(r.exporter)).toMatch(/^127\.0\.0\.\d+$/);
          expect(typeof (r.sourceIPv4Address ?? r.sourceIPv6Address)).toBe('string');
        }
      }
    });
  }

  it('writes byte-identical files for the same --seed and --start', async () => {
    const a = join(dir, 'a.pcap');
    const b = join(dir, 'b.pcap');
    const c = join(dir, 'c.pcap');
    const args = [
      '--scenario',
      'c2-beacon,scan-horizontal',
      '--duration',
      '20s',
      '--speed',
      '30',
      '--rate',
      '3000',
      '--start',
      START,
    ];
    expect((await acd('generate', ...args, '--seed', '9', '--out', a)).code).toBe(0);
    expect((await acd('generate', ...args, '--seed', '9', '--out', b)).code).toBe(0);
    expect((await acd('generate', ...args, '--seed', '10', '--out', c)).code).toBe(0);
    const [ba, bb, bc] = await Promise.all([readFile(a), readFile(b), readFile(c)]);
    expect(ba.length).toBeGreaterThan(10_000);
    expect(bb.equals(ba)).toBe(true);
    expect(bc.equals(ba)).toBe(false);
  });

  it('writes the truth, a generated indicator file beside it, and the operators file', async () => {
    const truth = join(dir, 'run.truth.ndjson');
    const ops = join(dir, 'operators.json');
    const r = await acd(
      'generate',
      '--scenario',
      'ddos-flood,ioc-contact',
      '--duration',
      '30s',
      '--speed',
      '20',
      '--rate',
      '500',
      '--seed',
      '4',
      '--start',
      START,
      '--out',
      join(dir, 't.pcap'),
      '--truth',
      truth,
      '--operators-out',
      ops,
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = ndjson(await readFile(truth, 'utf8'));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) {
      expect(Object.keys(l)).toEqual([
        'scenario',
        'kind',
        'attackers',
        'victims',
        'start',
        'end',
        'channel',
        'expectedDetectors',
      ]);
      expect(Date.parse(l.start as string)).toBeGreaterThanOrEqual(Date.parse(START));
      expect(Date.parse(l.end as string)).toBeLessThanOrEqual(Date.parse(START) + 600_000);
    }
    expect(new Set(lines.map((l) => l.scenario))).toEqual(new Set(['ddos-flood', 'ioc-contact']));
    expect((await stat(join(dir, 'run.truth.indicators.csv'))).size).toBeGreaterThan(0);
    const file = await readOperatorsFile(ops);
    expect(file.operators.length).toBeGreaterThanOrEqual(45);
  });
});

describe('nfcapd/nfdump read what acd generate sends over UDP', () => {
  for (const format of ['netflow9', 'ipfix', 'netflow5'] as const) {
    it(`${format}: the same flows as acd decode of the --out file with the same seed`, async (ctx) => {
      requireTool(['nfcapd', 'nfdump'], ctx);
      const count = 3000;
      const common = [
        '--format',
        format,
        '--count',
        String(count),
        '--seed',
        '5',
        '--start',
        START,
        '--sampling',
        '1',
        '--rate',
        '20000',
        '--diurnal',
        'flat',
      ];
      const file = join(dir, `nf-${format}.pcap`);
      expect((await acd('generate', ...common, '--out', file)).code).toBe(0);
      const expected = ndjson((await acd('decode', file)).stdout)
        .filter((r) => r.recordType === 'flow' && typeof r.sourceIPv4Address === 'string')
        .map(
          (r) =>
            `${String(r.sourceIPv4Address)} ${String(r.destinationIPv4Address)} ${String(r.packetDeltaCount)} ${String(r.octetDeltaCount)}`,
        )
        .sort();
      const nfcapd = await runNfcapd({ receiveBufferBytes: 8 * 1024 * 1024 });
      try {
        const r = await acd('generate', ...common, '--to', `udp://${nfcapd.host}:${nfcapd.port}`);
        expect(r.code, r.stderr).toBe(0);
        await new Promise((res) => setTimeout(res, 500));
        await nfcapd.stop();
        const rows = await nfdumpCsv(nfcapd.dir, ['sa', 'da', 'pkt', 'byt']);
        const got = rows
          .filter((x) => !x.sa!.includes(':'))
          .map((x) => `${x.sa} ${x.da} ${x.pkt} ${x.byt}`)
          .sort();
        // Loopback UDP may drop under load on a shared machine; what arrives must match exactly.
        expect(got.length).toBeGreaterThan(expected.length * 0.95);
        const want = new Set(expected);
        for (const g of got) expect(want.has(g), g).toBe(true);
      } finally {
        await nfcapd.dispose();
      }
    });
  }
});
