/**
 * `acd decode` contracts (issue 2, "Commands"; DESIGN section 7), run in process through `main`:
 * the NDJSON keys other tools rely on, several files through one decoder session, exit codes,
 * the table format and the help text.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { ManualClock } from '../src/common/clock.ts';
import { createLogger } from '../src/common/logging.ts';
import { ieByName } from '../src/collect/decode/ie/registry.ts';
import { TABLE_HEADER } from '../src/collect/output/table.ts';
import { encodeIpfixMessage, type EncodeTemplate } from '../src/simulate/encode/index.ts';
import { fixturePath } from './helpers/traffic.ts';
import { capture } from './helpers/cli.ts';

/** A writable that keeps what is written to it. */

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as NDJSON (only meaningful for the ndjson format). */
  lines: () => Record<string, unknown>[];
}

async function acd(...argv: string[]): Promise<Run> {
  const out = capture();
  const err = capture();
  const code = await main(argv, {
    stdout: out.stream,
    stderr: err.stream,
    clock: new ManualClock(Date.UTC(2026, 0, 1)),
    logger: createLogger({ level: 'silent' }),
    interactive: false,
    signal: new AbortController().signal,
  });
  return {
    code,
    stdout: out.text(),
    stderr: err.text(),
    lines: () =>
      out
        .text()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** ISO 8601 UTC with milliseconds (DESIGN section 7). */
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Keys every NDJSON record has (the observation flattened), and flows' sampling interval. */
const META = [
  'recordType',
  'protocol',
  'exporter',
  'observationDomainId',
  'templateId',
  'sequence',
  'exportTime',
];

const T = Date.UTC(2026, 1, 2, 3, 4, 5);
const TEMPLATE: EncodeTemplate = {
  templateId: 300,
  fields: [
    'sourceIPv4Address',
    'destinationIPv4Address',
    'sourceTransportPort',
    'destinationTransportPort',
    'protocolIdentifier',
    'octetDeltaCount',
    'packetDeltaCount',
    'flowStartMilliseconds',
    'flowEndMilliseconds',
  ],
};
const flow = (i: number): Record<string, string | number> => ({
  sourceIPv4Address: `192.0.2.${i}`,
  destinationIPv4Address: '198.51.100.1',
  sourceTransportPort: 40000 + i,
  destinationTransportPort: 53,
  protocolIdentifier: 17,
  octetDeltaCount: 100 * i,
  packetDeltaCount: i,
  flowStartMilliseconds: T - 2000,
  flowEndMilliseconds: T - 1000,
});

let dir = '';
const file = (name: string): string => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acd-decode-cli-'));
  // Template in one raw file, data in the next (as two `nc -u -l > file` captures would save them).
  await writeFile(
    file('templates.raw'),
    encodeIpfixMessage({
      observationDomainId: 5,
      sequence: 0,
      exportTime: T,
      sets: [{ kind: 'template', templates: [TEMPLATE] }],
    }),
  );
  await writeFile(
    file('data.raw'),
    encodeIpfixMessage({
      observationDomainId: 5,
      sequence: 0,
      exportTime: T,
      sets: [{ kind: 'data', template: TEMPLATE, records: [flow(1), flow(2)] }],
    }),
  );
  // Data for a template that never comes: undecodable, but the file itself is readable.
  await writeFile(
    file('orphan.raw'),
    encodeIpfixMessage({
      observationDomainId: 9,
      sequence: 0,
      exportTime: T,
      sets: [{ kind: 'data', template: { ...TEMPLATE, templateId: 999 }, records: [flow(3)] }],
    }),
  );
  await writeFile(file('not-an-export.bin'), 'this is neither a capture nor an export nor a log\n');
});

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('acd decode: NDJSON contract', () => {
  it('prints one object per record with the documented keys, IANA names and ISO times', async () => {
    const r = await acd('decode', fixturePath('softflowd-ipfix.pcap'));
    expect(r.code).toBe(0);
    const lines = r.lines();
    expect(lines).toHaveLength(45); // 44 flows + 1 options record (EXPECTED.md)
    for (const o of lines) {
      for (const k of META) expect(o, k).toHaveProperty(k);
      expect(['flow', 'options']).toContain(o.recordType);
      expect(o.protocol).toBe('ipfix');
      expect(o.exporter).toBe('127.0.0.1');
      expect(o.observationDomainId).toBe(0);
      expect(typeof o.templateId).toBe('number');
      expect([20, 43, 44]).toContain(o.sequence);
      expect(o.exportTime).toMatch(ISO);
      const own = Object.keys(o).filter(
        (k) => !META.includes(k) && k !== 'samplingInterval' && k !== 'scope',
      );
      // Every other key is an information-element name of the registry (IANA here).
      for (const k of own) expect(ieByName(k)?.enterprise, k).toBe(0);
      if (o.recordType === 'flow') {
        expect(o.samplingInterval).toBe(1);
        expect(o.flowStartMilliseconds).toMatch(ISO);
        expect(o.flowEndMilliseconds).toMatch(ISO);
        expect(typeof o.octetDeltaCount).toBe('number');
      } else {
        // Options data is printed as well as applied: scope and values, times as ISO.
        expect(o.scope).toEqual({ meteringProcessId: 25489 });
        expect(o.systemInitTimeMilliseconds).toBe('2026-11-25T18:18:26.468Z');
        expect(o).not.toHaveProperty('samplingInterval');
      }
    }
    const first = lines.find((o) => o.recordType === 'flow');
    expect(first).toEqual({
      recordType: 'flow',
      protocol: 'ipfix',
      exporter: '127.0.0.1',
      observationDomainId: 0,
      templateId: 1024,
      sequence: 20,
      exportTime: '2026-11-25T18:18:26.000Z',
      samplingInterval: 1,
      sourceIPv4Address: '127.0.0.1',
      destinationIPv4Address: '127.0.0.80',
      flowStartMilliseconds: '2026-11-25T18:12:33.501Z',
      flowEndMilliseconds: '2026-11-25T18:12:33.501Z',
      octetDeltaCount: 60,
      packetDeltaCount: 1,
      ingressInterface: 0,
      egressInterface: 0,
      flowDirection: 0,
      flowEndReason: 3,
      sourceTransportPort: 38524,
      destinationTransportPort: 8081,
      protocolIdentifier: 6,
      tcpControlBits: 2,
      ipVersion: 4,
      ipClassOfService: 0,
    });
    expect(r.stderr).toMatch(/44 flow/);
  });

  it('prints the effective samplingInterval of sampled exports', async () => {
    const r = await acd('decode', fixturePath('pmacct-nfprobe-v9-sampled.pcap'));
    expect(r.code).toBe(0);
    const flows = r.lines().filter((o) => o.recordType === 'flow');
    expect(flows).toHaveLength(30);
    expect(new Set(flows.map((o) => o.samplingInterval))).toEqual(new Set([4]));
    expect(flows.every((o) => o.protocol === 'netflow9' && o.observationDomainId === 7)).toBe(true);
  });
});

describe('acd decode: several files through one session', () => {
  it('applies a template from an earlier raw file to data in a later one (exporter "file")', async () => {
    const r = await acd('decode', file('templates.raw'), file('data.raw'));
    expect(r.code).toBe(0);
    const lines = r.lines();
    expect(lines).toHaveLength(2);
    expect(lines.map((o) => o.sourceIPv4Address)).toEqual(['192.0.2.1', '192.0.2.2']);
    for (const o of lines) {
      expect(o).toMatchObject({
        recordType: 'flow',
        protocol: 'ipfix',
        exporter: 'file',
        observationDomainId: 5,
        templateId: 300,
        exportTime: new Date(T).toISOString(),
        flowStartMilliseconds: new Date(T - 2000).toISOString(),
      });
    }
  });

  it('keeps file order: the data file alone decodes nothing', async () => {
    const r = await acd('decode', file('data.raw'));
    expect(r.code).toBe(0);
    expect(r.lines()).toEqual([]);
    expect(r.stderr).toMatch(/template-missing/);
  });

  it('reads captures and raw files in one call, each capture keeping its exporter address', async () => {
    const r = await acd('decode', fixturePath('softflowd-v5.pcap'), fixturePath('softflowd-v5.raw'));
    expect(r.code).toBe(0);
    const lines = r.lines();
    expect(lines).toHaveLength(68);
    expect(lines.slice(0, 34).every((o) => o.exporter === '127.0.0.1')).toBe(true);
    expect(lines.slice(34).every((o) => o.exporter === 'file')).toBe(true);
    // Same records apart from the exporter.
    const strip = (o: Record<string, unknown>): Record<string, unknown> => ({ ...o, exporter: undefined });
    expect(lines.slice(34).map(strip)).toEqual(lines.slice(0, 34).map(strip));
  });
});

describe('acd decode: exit codes', () => {
  it('exits 0 when every file was read, counting undecodable records', async () => {
    const r = await acd('decode', file('orphan.raw'), file('templates.raw'), file('data.raw'));
    expect(r.code).toBe(0);
    expect(r.lines()).toHaveLength(2);
    expect(r.stderr).toMatch(/template-missing 1/);
  });

  /**
   * Known bug (src/cli/commands/decode.ts:74 and :109): the final `session.tick(MAX_SAFE_INTEGER)`
   * is meant to drop and count data still waiting for a template when the input ends, but
   * `pendingMaxAgeMs` is also MAX_SAFE_INTEGER, so `now - receivedAt > pendingMaxAgeMs` is never
   * true and the summary says only `pending-buffered 1`. Remove `.fails` once fixed.
   */
  it('drops and counts data still waiting for a template at the end of the input', async () => {
    const r = await acd('decode', file('orphan.raw'));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/pending-dropped 1/);
  });

  it('exits 1 naming a file that does not exist, after decoding the others', async () => {
    const missing = file('no-such-file.pcap');
    const r = await acd('decode', fixturePath('softflowd-v9.pcap'), missing);
    expect(r.code).toBe(1);
    expect(r.lines().filter((o) => o.recordType === 'flow')).toHaveLength(44);
    expect(r.stderr).toContain(missing);
  });

  it('exits 1 naming a file of no known format', async () => {
    const r = await acd('decode', file('not-an-export.bin'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(file('not-an-export.bin'));
    expect(r.stdout).toBe('');
  });

  it('exits 2 on usage errors', async () => {
    expect((await acd('decode')).code).toBe(2);
    expect((await acd('decode', '--format', 'xml', file('data.raw'))).code).toBe(2);
    expect((await acd('decode', '--input-kind', 'sideways', file('data.raw'))).code).toBe(2);
    expect((await acd('decode', '--no-such-option', file('data.raw'))).code).toBe(2);
  });
});

describe('acd decode: table and help', () => {
  it('--format table prints a header and one line per record', async () => {
    const r = await acd('decode', '--format', 'table', fixturePath('softflowd-v5.pcap'));
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    expect(lines[0]).toBe(TABLE_HEADER);
    expect(lines).toHaveLength(1 + 34);
    const download = lines.find((l) => l.includes('127.0.0.80:8080') && l.includes('127772'));
    expect(download).toBeDefined();
    expect(download).toContain('TCP');
    expect(lines.every((l) => !l.startsWith('{'))).toBe(true);
  });

  it('--help describes the output and has examples', async () => {
    const r = await acd('decode', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: acd decode');
    expect(r.stdout).toContain('--format');
    expect(r.stdout).toContain('--input-kind');
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toMatch(/acd decode \S+\.pcap/);
    expect(r.stdout).toContain('samplingInterval');
  });
});
