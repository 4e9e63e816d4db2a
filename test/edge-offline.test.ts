/**
 * `acd edge --input … --out …` (offline selection), `acd prefixes update` and the example
 * configurations, run in process through `main`. Inputs are the real-exporter fixtures of
 * src/collect/decode/testdata (softflowd, pmacct: loopback and ULA traffic, i.e. domestic↔domestic
 * under the border rule) and a capture generated here by the simulator's exporter fleet (IPFIX,
 * NetFlow v9 and v5 exporters writing a pcap) with Japanese subscribers and foreign hosts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { systemClock } from '../src/common/clock.ts';
import { loadPrefixTable, type PrefixTable } from '../src/common/prefixes/index.ts';
import {
  createExporterFleet,
  createPcapFileOutput,
  type ExporterConfig,
} from '../src/simulate/exporters/index.ts';
import {
  edgeFlows,
  fixedPoints,
  leakPatterns,
  listFiles,
  ROOT,
  scanForLeaks,
  testAddresses,
  withoutAddresses,
  type TestAddresses,
} from './helpers/edge.ts';
import { capture } from './helpers/cli.ts';

const FIXTURES = join(ROOT, 'src', 'collect', 'decode', 'testdata');
const REAL = [
  'softflowd-ipfix.pcap',
  'softflowd-v9.pcap',
  'softflowd-v5.pcap',
  'softflowd-ipfix-biflow.pcap',
  'pmacct-nfprobe-ipfix.pcap',
  'pmacct-sfprobe.pcap',
].map((f) => join(FIXTURES, f));

const dir = mkdtempSync(join(tmpdir(), 'acd-edge-offline-'));
let table: PrefixTable;
let addrs: TestAddresses;
let generated: string;
const T0 = Date.UTC(2026, 4, 1, 9, 0, 0);
const N = 700;

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = capture();
  const err = capture();
  // Logs go to the captured stderr too: the leak scan reads them.
  const logger = pino({ level: 'debug', base: undefined }, err.stream);
  const code = await main(argv, {
    stdout: out.stream,
    stderr: err.stream,
    clock: systemClock,
    logger,
    interactive: false,
    signal: new AbortController().signal,
  });
  return { code, out: out.text(), err: err.text() };
}

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function summary(err: string): {
  in: number;
  selected: number;
  dropped: Record<string, number>;
  errors: number;
  demo: boolean;
} {
  const m = /acd edge: summary (\{.*\})/.exec(err);
  if (!m) throw new Error(`no summary in:\n${err}`);
  return JSON.parse(m[1]!) as {
    in: number;
    selected: number;
    dropped: Record<string, number>;
    errors: number;
    demo: boolean;
  };
}

beforeAll(async () => {
  table = (await loadPrefixTable({ cacheDir: join(ROOT, 'data', 'cache') })).table;
  addrs = testAddresses(table);
  // A capture of three real-format exporters (IPFIX, NetFlow v9, NetFlow v5) written by the
  // simulator's fleet: `createPcapFileOutput` frames each message as UDP to 127.0.0.1:2055.
  generated = join(dir, 'border.pcap');
  const exporters: ExporterConfig[] = [
    { id: 'r-ipfix', address: '127.0.0.21', format: 'ipfix', observationDomainId: 1, samplingInterval: 1 },
    { id: 'r-v9', address: '127.0.0.22', format: 'netflow9', observationDomainId: 2, samplingInterval: 1 },
    { id: 'r-v5', address: '127.0.0.23', format: 'netflow5', observationDomainId: 3, samplingInterval: 1 },
  ];
  const fleet = createExporterFleet({ exporters, seed: 1, output: createPcapFileOutput(generated) });
  await fleet.start();
  edgeFlows(N, addrs, T0).forEach(({ fields, kind }, k) => {
    // NetFlow v5 carries no IPv6: those go to the IPFIX exporter.
    const e = kind === 'outbound6' ? 0 : k % 3;
    fleet.submit(e, fields, T0 + k);
  });
  await fleet.stop();
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('acd edge --input (offline selection)', () => {
  it('says it uses the demonstration feed set and drops domestic↔domestic real-exporter traffic by reason', async () => {
    const out = join(dir, 'real.ndjson');
    const r = await run(['edge', '--input', ...REAL, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/no --config: using the DEMONSTRATION feed set/);
    const s = summary(r.err);
    expect(s.demo).toBe(true);
    expect(s.in).toBeGreaterThan(400);
    // Loopback and ULA space count as domestic (special space): nothing may cross.
    expect(s.selected).toBe(0);
    expect(s.dropped['domestic-domestic']).toBe(s.in);
    expect(s.errors).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('');
    expect(r.err).toMatch(/in \d+, selected 0, dropped \d+ \(domestic-domestic \d+\)/);
  });

  it('selects border traffic with provenance, country/ASN and pseudonyms on every record', async () => {
    const out = join(dir, 'border.ndjson');
    // A key store of the test's own, so that the key's Crypto-PAn fixed points can be excluded.
    const keys = join(dir, 'keys');
    const r = await run(['edge', '--input', generated, '--out', out, '--keys', keys]);
    expect(r.code).toBe(0);
    const s = summary(r.err);
    expect(s.in).toBe(N);
    expect(s.errors).toBe(0);
    const recs = lines(out);
    expect(recs.length).toBe(s.selected);
    // Kinds cycle outbound, inbound, transit, domestic, outbound, inbound, outbound6: 6 of 7 cross or transit.
    const domestic = Math.floor(N / 7) + (N % 7 > 3 ? 1 : 0);
    expect(s.dropped['domestic-domestic']).toBe(domestic);
    expect(s.selected).toBe(N - domestic);
    const ids = new Set<string>();
    const channels = new Map<string, number>();
    for (const rec of recs) {
      const p = rec.provenance as Record<string, unknown>;
      expect(p.providerId).toBe('demo-provider');
      expect(typeof p.approvalId).toBe('string');
      expect((p.selectorIds as string[]).length).toBeGreaterThan(0);
      expect(p.tableVersion).toBe(table.tableVersion);
      expect(typeof p.parameterVersion).toBe('string');
      expect(p.keyEpoch).toBe(1);
      expect(p.retainUntil).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      channels.set(p.channel as string, (channels.get(p.channel as string) ?? 0) + 1);
      const id = rec.recordId as string;
      expect(id).toMatch(/^demo-provider\/127\.0\.0\.2[123]\/\d+\/\d+\/\d+$/);
      ids.add(id);
      const f = rec.fields as Record<string, unknown>;
      // Allow-listed fields only: the next hop (a subscriber address) and BGP/TOS fields are gone.
      for (const k of Object.keys(f))
        expect(k).not.toMatch(/NextHop|bgp|ClassOfService|PrefixLength|flowEndReason|selectorId/);
      const src = rec.source as { country: string; asn: number; pseudonymised: boolean };
      const dst = rec.destination as { country: string; asn: number; pseudonymised: boolean };
      expect(src.pseudonymised).toBe(src.country === 'JP');
      expect(dst.pseudonymised).toBe(dst.country === 'JP');
      expect(typeof f.flowEndMilliseconds).toBe('string');
    }
    expect(ids.size).toBe(recs.length);
    expect([...channels.keys()].sort()).toEqual(
      ['agreement-foreign-to-domestic', 'specified-domestic-to-foreign', 'transit-foreign-to-foreign'].sort(),
    );
    // Foreign endpoints stay in clear; no raw domestic address appears anywhere in the output or the logs.
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('"8.8.8.8"');
    const fixed = await fixedPoints(keys, addrs);
    const p = leakPatterns(withoutAddresses(addrs, fixed));
    writeFileSync(join(dir, 'border.stderr'), r.err);
    expect(scanForLeaks([out, join(dir, 'border.stderr')], p)).toEqual([]);
    const countries = new Set(recs.map((x) => (x.source as { country: string }).country));
    expect(countries.has('JP')).toBe(true);
  });

  it('refuses demonstration approvals in production mode (every feed refused: exit 1)', async () => {
    const docs = join(dir, 'demo-docs.json');
    const { demoFeedSet } = await import('../src/common/signing/index.ts');
    const set = demoFeedSet();
    writeFileSync(docs, JSON.stringify([...set.approvals]));
    const cfg = join(dir, 'prod.yaml');
    writeFileSync(
      cfg,
      [
        'select:',
        '  mode: production',
        `  documents: [${docs}]`,
        '  feeds:',
        '    - { id: t1, providerId: isp-a, channel: transit-foreign-to-foreign, approvalIds: [demo-approval-transit-foreign-to-foreign], exporters: all }',
        'edge:',
        '  providerId: isp-a',
        '',
      ].join('\n'),
    );
    const r = await run(['edge', '--input', generated, '--out', join(dir, 'prod.ndjson'), '--config', cfg]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ERR_EDGE_NO_FEED/);
    expect(r.err).toMatch(/ERR_FEED_DEMO_REFUSED/);
  });

  it('needs --out with --input (usage error, exit 2)', async () => {
    const r = await run(['edge', '--input', generated]);
    expect(r.code).toBe(2);
  });
});

describe('acd prefixes update', () => {
  it('loads a delegated-extended file, prints the new tableVersion, and the edge stamps it', async () => {
    const file = join(dir, 'delegated-apnic-extended-20260601');
    writeFileSync(
      file,
      [
        '2.3|apnic|20260601|4|19830613|20260531|+1000',
        'apnic|*|ipv4|*|3|summary',
        'apnic|JP|ipv4|126.0.0.0|16777216|20050101|allocated|A1',
        'apnic|JP|ipv4|133.0.0.0|16777216|19970101|allocated|A2',
        'apnic|JP|ipv4|210.128.0.0|262144|19970101|allocated|A3',
        'apnic|JP|ipv4|153.120.0.0|65536|20100101|allocated|A4',
        'apnic|JP|ipv6|2400:4050::|32|20100101|allocated|A5',
        'apnic|JP|ipv6|240b::|24|20100101|allocated|A6',
        'apnic|AU|ipv4|1.1.1.0|256|20110811|assigned|A7',
        'arin|US|ipv4|8.0.0.0|16777216|19921201|allocated|B1',
        'ripencc|GB|ipv4|185.199.0.0|65536|20120101|allocated|C1',
        'ripencc|US|ipv4|151.101.0.0|65536|20120101|allocated|C2',
        'arin|US|ipv4|52.0.0.0|16777216|20120101|allocated|B2',
        'ripencc|NL|ipv4|91.198.174.0|256|20120101|assigned|C3',
        'arin|US|ipv6|2001:4860::|32|20050101|allocated|B3',
        'ripencc|GB|ipv6|2a04:4e40::|29|20120101|allocated|C4',
        'arin|US|ipv6|2606:4700::|32|20120101|allocated|B4',
        '',
      ].join('\n'),
    );
    const out = join(dir, 'prefixes.bin');
    const cfg = join(dir, 'pfx.yaml');
    writeFileSync(
      cfg,
      `edge:\n  prefixTableFile: ${out}\n  prefixCacheDir: ${join(ROOT, 'data', 'cache')}\n`,
    );
    const r = await run(['prefixes', 'update', file, '--config', cfg]);
    expect(r.code).toBe(0);
    const version = r.out.trim();
    expect(version).toMatch(/20260601/);
    const show = await run(['prefixes', 'show', '--config', cfg]);
    expect(show.out).toContain(version);
    const sel = join(dir, 'pfx.ndjson');
    writeFileSync(
      join(dir, 'pfx-demo.yaml'),
      `select:\n  mode: demo\nedge:\n  providerId: isp-a\n  prefixTableFile: ${out}\n  prefixCacheDir: ${join(ROOT, 'data', 'cache')}\n`,
    );
    const e2 = await run([
      'edge',
      '--input',
      generated,
      '--out',
      sel,
      '--config',
      join(dir, 'pfx-demo.yaml'),
    ]);
    expect(e2.code).toBe(0);
    const recs = lines(sel);
    expect(recs.length).toBeGreaterThan(0);
    for (const rec of recs) expect((rec.provenance as { tableVersion: string }).tableVersion).toBe(version);
    // An older file is refused without --force.
    const older = join(dir, 'delegated-apnic-extended-20250101');
    writeFileSync(older, readFileSync(file, 'utf8').replace('20260601', '20250101'));
    const o = await run(['prefixes', 'update', older, '--config', cfg]);
    expect(o.code).toBe(1);
    expect(o.err).toMatch(/ERR_PREFIX_TABLE_OLDER/);
  });
});

describe('examples', () => {
  it('acd config check passes on every example configuration', async () => {
    const files = listFiles(join(ROOT, 'examples')).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) {
      const r = await run(['config', 'check', f]);
      expect(r.code, `${f}: ${r.err}`).toBe(0);
    }
  });

  it('acd config check recognises a centre file and names its bad key', async () => {
    const ok = await run(['config', 'check', join(ROOT, 'examples', 'centre.yaml')]);
    expect(ok.out).toContain('(acd centre file)');
    const dir = mkdtempSync(join(tmpdir(), 'acd-config-centre-'));
    try {
      const bad = join(dir, 'centre.yaml');
      writeFileSync(bad, 'centre:\n  retentionInterval: 5s\n');
      const r = await run(['config', 'check', bad]);
      expect(r.code).toBe(1);
      expect(r.err).toContain('centre.retentionInterval');
      const env = await run(['config', 'env', '--for', 'centre']);
      expect(env.out).toContain('ACD_CENTRE__RETENTION_INTERVAL\tcentre.retentionInterval');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
