import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DecodedRecord, Fields } from '../../../common/schema/index.ts';
import { readTrafficFile } from '../../meter/index.ts';
import {
  parseZeekJsonLine,
  readTextRecords,
  sniffText,
  TextFormatError,
  type TextEvent,
  type TextKind,
} from './index.ts';

const dir = join(import.meta.dirname, 'testdata');
const fixture = (name: string): string => join(dir, name);
const linesOf = (name: string): string[] => readFileSync(fixture(name), 'utf8').split('\n');

async function readAll(
  source: Parameters<typeof readTextRecords>[0],
  kind: TextKind | 'auto' = 'auto',
): Promise<{ records: DecodedRecord[]; events: TextEvent[] }> {
  const records: DecodedRecord[] = [];
  const events: TextEvent[] = [];
  for await (const r of readTextRecords(source, kind, { onEvent: (e) => events.push(e) })) records.push(r);
  return { records, events };
}

const problems = (events: TextEvent[]): TextEvent[] => events.filter((e) => e.kind === 'malformed-line');

/** Data lines of a Zeek TSV file: neither empty nor `#` headers. */
const zeekDataLines = (name: string): string[] => linesOf(name).filter((l) => l !== '' && !l.startsWith('#'));

describe('zeek conn.log import', () => {
  it('turns every TSV data line into one bidirectional flow with reverse counters', async () => {
    const { records, events } = await readAll(fixture('zeek-conn.log'));
    const data = zeekDataLines('zeek-conn.log');
    expect(problems(events)).toEqual([]);
    expect(records).toHaveLength(data.length);
    // Line 9 of the file is the first data line (eight header lines).
    const cols = data[0]!.split('\t');
    expect(records[0]).toEqual({
      recordType: 'flow',
      protocol: 'zeek',
      observation: {
        exporter: 'file',
        observationDomainId: 0,
        templateId: 0,
        sequence: 9,
        exportTime: 1795630349438,
      },
      recordIndex: 0,
      samplingInterval: 1,
      fields: {
        sourceIPv4Address: cols[2],
        sourceTransportPort: Number(cols[3]),
        destinationIPv4Address: cols[4],
        destinationTransportPort: Number(cols[5]),
        protocolIdentifier: 17,
        flowStartMilliseconds: 1795630349438,
        flowEndMilliseconds: 1795630349438, // ts + 0.000242 s, floored to ms
        octetDeltaCount: Number(cols[17]),
        packetDeltaCount: Number(cols[16]),
        reverseOctetDeltaCount: Number(cols[19]),
        reversePacketDeltaCount: Number(cols[18]),
        zeekOrigBytes: Number(cols[9]),
        zeekRespBytes: Number(cols[10]),
        zeekMissedBytes: 0,
        zeekUid: cols[1],
        zeekConnState: 'SF',
        zeekHistory: 'Dd',
        zeekService: 'dns',
      },
    });
  });

  it('reads IPv6 endpoints, ICMP type/code and unset fields', async () => {
    const { records } = await readAll(fixture('zeek-conn.log'));
    const v6 = records.find((r) => typeof r.fields.sourceIPv6Address === 'string');
    expect(v6?.fields.sourceIPv6Address).toBe('fd00:acd::1');
    expect(v6?.fields.sourceIPv4Address).toBeUndefined();
    const unreachable = records.find((r) => r.fields.icmpTypeIPv4 === 3);
    expect(unreachable?.fields).toMatchObject({
      protocolIdentifier: 1,
      icmpCodeIPv4: 3,
      icmpTypeCodeIPv4: 0x0303,
    });
    expect(unreachable?.fields.sourceTransportPort).toBeUndefined();
    // orig_bytes is `-` on that line: left out, not zero.
    expect(unreachable?.fields.zeekOrigBytes).toBeUndefined();
  });

  it('gives the same records from the JSON writer as from the TSV writer (line numbers aside)', async () => {
    const tsv = await readAll(fixture('zeek-conn.log'));
    const json = await readAll(fixture('zeek-conn.json'));
    expect(problems(json.events)).toEqual([]);
    expect(json.records.map((r) => r.fields)).toEqual(tsv.records.map((r) => r.fields));
    expect(json.records.map((r) => r.observation.sequence)).toEqual(json.records.map((_, i) => i + 1));
  });

  it('keeps the CTU IoT-23 label columns separated by spaces as label/detailedLabel', async () => {
    const { records, events } = await readAll(fixture('zeek-conn-iot23.log.labeled'));
    expect(problems(events)).toEqual([]);
    expect(records).toHaveLength(zeekDataLines('zeek-conn-iot23.log.labeled').length);
    const bad = records.filter((r) => r.fields.label === 'Malicious');
    expect(bad.length).toBeGreaterThan(0);
    for (const r of bad) expect(r.fields.detailedLabel).toBe('PartOfAHorizontalPortScan');
    const benign = records.find((r) => r.fields.label === 'Benign');
    expect(benign?.fields.detailedLabel).toBeUndefined();
    expect(benign?.fields.zeekTunnelParents).toBeUndefined();
  });
});

describe('zeek dns.log import', () => {
  it('turns every line into a DnsEvent with the shared dns field names', async () => {
    const { records, events } = await readAll(fixture('zeek-dns.log'));
    const data = zeekDataLines('zeek-dns.log');
    expect(problems(events)).toEqual([]);
    expect(records).toHaveLength(data.length);
    const c = data[0]!.split('\t');
    expect(records[0]).toEqual({
      recordType: 'dns',
      protocol: 'zeek',
      observation: {
        exporter: 'file',
        observationDomainId: 0,
        templateId: 0,
        sequence: 9,
        exportTime: 1795630349438,
      },
      recordIndex: 0,
      fields: {
        sourceIPv4Address: c[2],
        sourceTransportPort: Number(c[3]),
        destinationIPv4Address: c[4],
        destinationTransportPort: 53,
        protocolIdentifier: 17,
        eventTime: 1795630349438,
        zeekUid: c[1],
        dnsTransport: 'udp',
        dnsId: Number(c[7]),
        dnsIsResponse: true,
        zeekRttMicroseconds: 242,
        dnsQueryName: 'www.acd.test',
        dnsQueryClass: 1,
        dnsQueryClassName: 'C_INTERNET',
        dnsQueryType: 1,
        dnsQueryTypeName: 'A',
        dnsResponseCode: 0,
        dnsResponseCodeName: 'NOERROR',
        dnsFlags: 'qr aa rd',
        dnsTruncated: false,
        dnsRejected: false,
        dnsAnswers: [{ type: 1, data: '192.0.2.80', ttl: 300 }],
        dnsTxtCount: 0,
        dnsTxtBytes: 0,
      },
    });
    const nx = records.find((r) => r.fields.dnsResponseCodeName === 'NXDOMAIN');
    expect(nx?.fields).toMatchObject({ dnsAnswers: [], dnsFlags: 'qr rd', dnsResponseCode: 3 });
    const mx = records.find((r) => r.fields.dnsQueryTypeName === 'MX');
    expect(mx?.fields.dnsAnswers).toEqual([{ data: 'mail.acd.test', ttl: 300 }]);
    // TXT text is dropped, as the dnstap decoder and the flow meter do; its size is kept.
    const txt = records.find((r) => r.fields.dnsQueryTypeName === 'TXT');
    expect(txt?.fields).toMatchObject({
      dnsAnswers: [{ type: 16, ttl: 300 }],
      dnsTxtCount: 1,
      dnsTxtBytes: 11,
    });
    expect(JSON.stringify(records)).not.toContain('spf1');
  });

  it('uses the field names and value forms of the flow meter on the capture the log was modelled on', async () => {
    const zeek = (await readAll(fixture('zeek-dns.log'))).records;
    const meter: Fields[] = [];
    const it = readTrafficFile(fixture('traffic.pcap'), {});
    for (let r = await it.next(); !r.done; r = await it.next())
      if (r.value.recordType === 'dns') meter.push(r.value.fields);
    expect(zeek.length).toBeGreaterThan(0);
    const zeekOnly = new Set(['zeekUid', 'zeekRttMicroseconds', 'dnsQueryClassName', 'dnsRejected']);
    for (const z of zeek) {
      const f = z.fields;
      const query = meter.find((m) => m.dnsId === f.dnsId && m.dnsIsResponse === false);
      const response = meter.find((m) => m.dnsId === f.dnsId && m.dnsIsResponse === true);
      expect(response, `meter response for id ${JSON.stringify(f.dnsId)}`).toBeDefined();
      for (const [k, v] of Object.entries(f)) {
        if (zeekOnly.has(k)) continue;
        expect(typeof response![k], k).toBe(typeof v);
      }
      for (const k of [
        'sourceIPv4Address',
        'sourceIPv6Address',
        'destinationIPv4Address',
        'destinationIPv6Address',
        'sourceTransportPort',
        'destinationTransportPort',
        'protocolIdentifier',
        'dnsTransport',
        'dnsId',
        'dnsIsResponse',
        'dnsTruncated',
        'dnsQueryName',
        'dnsQueryClass',
        'dnsQueryType',
        'dnsQueryTypeName',
        'dnsResponseCode',
        'dnsResponseCodeName',
        'dnsTxtCount',
        'dnsTxtBytes',
      ])
        expect(f[k], k).toEqual(response![k]);
      // Zeek's ts is the query's time.
      expect(f.eventTime).toBe(query!.eventTime);
      // The fixture's flags were written by hand (RA left F): Zeek's are a subset of the real ones.
      expect(typeof f.dnsFlags).toBe('string');
      const real = (response!.dnsFlags as string).split(' ');
      for (const flag of (f.dnsFlags as string).split(' ')) expect(real).toContain(flag);
      const answers = (f.dnsAnswers ?? []) as Fields[];
      const realAnswers = response!.dnsAnswers as Fields[];
      expect(answers.length).toBe(realAnswers.length);
      answers.forEach((a, i) => {
        if (a.data !== undefined) expect(a.data).toBe(realAnswers[i]!.data);
        if (a.type !== undefined) expect(a.type).toBe(realAnswers[i]!.type);
      });
    }
  });

  it('normalises names, unknown mnemonics, unanswered queries and multi-string TXT answers', () => {
    const line = (o: Record<string, unknown>): Fields => {
      const r = parseZeekJsonLine(
        { log: 'dns' },
        JSON.stringify({
          ts: 1700000000.5,
          'id.orig_h': '192.0.2.1',
          'id.orig_p': 5353,
          'id.resp_h': '192.0.2.53',
          'id.resp_p': 53,
          ...o,
        }),
        1,
      );
      if (r.kind !== 'record') throw new Error(`not a record: ${JSON.stringify(r)}`);
      return r.record.fields;
    };
    expect(
      line({ proto: 'udp', query: 'WWW.Example.ORG.', qtype: 65280, qtype_name: 'query-65280', RD: true }),
    ).toMatchObject({
      dnsQueryName: 'www.example.org',
      dnsQueryTypeName: 'TYPE65280',
      dnsIsResponse: false,
      dnsFlags: 'rd',
      dnsTransport: 'udp',
    });
    const unanswered = line({ proto: 'udp', query: 'a.test', qtype: 1, qtype_name: 'A' });
    expect(unanswered.dnsAnswers).toBeUndefined();
    expect(unanswered.dnsResponseCode).toBeUndefined();
    expect(unanswered.dnsFlags).toBe('');
    expect(
      line({
        proto: 'tcp',
        query: 't.test',
        qtype: 38,
        qtype_name: 'A6',
        rcode: 24,
        rcode_name: 'rcode-24',
        AA: true,
        TC: true,
        RA: true,
        answers: ['TXT 5 hello TXT 3 a b', 'TXT 0 ', '2001:db8::1'],
        TTLs: [60, 60, 60],
      }),
    ).toMatchObject({
      dnsQueryTypeName: 'A6',
      dnsResponseCodeName: 'RCODE24',
      dnsIsResponse: true,
      dnsFlags: 'qr aa tc ra',
      dnsTruncated: true,
      dnsTransport: 'tcp',
      dnsAnswers: [
        { type: 16, ttl: 60 },
        { type: 16, ttl: 60 },
        { type: 28, data: '2001:db8::1', ttl: 60 },
      ],
      dnsTxtCount: 2,
      dnsTxtBytes: 8,
    });
  });

  it('reads JSON lines with ISO 8601 timestamps to the same events', async () => {
    const tsv = await readAll(fixture('zeek-dns.log'));
    const json = await readAll(fixture('zeek-dns.json'));
    expect(json.records.map((r) => r.fields)).toEqual(tsv.records.map((r) => r.fields));
  });
});

describe('argus CSV import', () => {
  it('reads the CTU-13 column set: one line one bidirectional flow, management records skipped', async () => {
    const { records, events } = await readAll(fixture('argus-ctu.binetflow'));
    const lines = linesOf('argus-ctu.binetflow').filter((l) => l !== '');
    const man = lines.filter((l) => l.split(',')[2] === 'man');
    expect(problems(events)).toEqual([]);
    expect(events.filter((e) => e.kind === 'skipped-line')).toHaveLength(man.length);
    expect(records).toHaveLength(lines.length - 1 - man.length);
    const idx = lines.findIndex((l) => l.includes(',tcp,') && l.includes(',FIN,'));
    const c = lines[idx]!.split(',');
    const r = records.find((x) => x.observation.sequence === idx + 1)!;
    const start = Date.parse(c[0]!.replace(/\//g, '-').replace(' ', 'T').slice(0, 23) + 'Z');
    expect(r.fields).toEqual({
      sourceIPv4Address: c[3],
      sourceTransportPort: Number(c[4]),
      destinationIPv4Address: c[6],
      destinationTransportPort: Number(c[7]),
      protocolIdentifier: 6,
      flowStartMilliseconds: start,
      flowEndMilliseconds: Math.floor((start * 1000 + Number(c[0]!.slice(-3)) + Number(c[1]) * 1e6) / 1000),
      octetDeltaCount: Number(c[13]),
      reverseOctetDeltaCount: Number(c[12]) - Number(c[13]),
      argusTotalPackets: Number(c[11]),
      ipClassOfService: Number(c[9]),
      reverseIpClassOfService: Number(c[10]),
      argusDirection: c[5]!.trim(),
      argusState: 'FIN',
    });
  });

  it('reads epoch times, per-direction packets, hex ICMP type/code and IPv6', async () => {
    const { records, events } = await readAll(fixture('argus-epoch.csv'));
    expect(problems(events)).toEqual([]);
    const lines = linesOf('argus-epoch.csv');
    const i = lines.findIndex((l) => l.split(',')[5] === '0x0303');
    const r = records.find((x) => x.observation.sequence === i + 1)!;
    expect(r.fields).toMatchObject({ protocolIdentifier: 1, icmpTypeIPv4: 3, icmpCodeIPv4: 3 });
    expect(r.fields.destinationTransportPort).toBeUndefined();
    const c = lines[i]!.split(',');
    expect(r.fields.flowStartMilliseconds).toBe(Math.floor(Number(c[0]) * 1000));
    expect(r.fields.packetDeltaCount).toBe(Number(c[10]));
    expect(r.fields.reversePacketDeltaCount).toBe(Number(c[11]));
    const echo = records.find((x) => x.fields.icmpTypeIPv6 === 128);
    expect(echo?.fields).toMatchObject({ protocolIdentifier: 58, icmpCodeIPv6: 0 });
    expect(records.some((x) => x.fields.sourceIPv6Address === 'fd00:acd::1')).toBe(true);
  });

  it('reports lines whose time has no date (ra default format) as bad-time', async () => {
    const { records, events } = await readAll(fixture('argus-timeofday.csv'));
    expect(records).toHaveLength(0);
    const bad = problems(events);
    expect(bad.length).toBeGreaterThan(0);
    for (const e of bad) expect(e).toMatchObject({ reason: 'bad-time', column: 'StartTime' });
  });
});

describe('nfdump CSV import', () => {
  it('reads nfdump 1.7.1 `-o csv` and skips the summary trailer', async () => {
    const { records, events } = await readAll(fixture('nfdump-1.7.1.csv'));
    const lines = linesOf('nfdump-1.7.1.csv').filter((l) => l !== '');
    const summaryAt = lines.indexOf('Summary');
    expect(problems(events)).toEqual([]);
    expect(records).toHaveLength(summaryAt - 1);
    expect(events.filter((e) => e.kind === 'skipped-line')).toHaveLength(3);
    const i = lines.findIndex((l) => l.includes(',TCP,') && l.includes('.AP.SF'));
    const c = lines[i]!.split(',');
    const r = records.find((x) => x.observation.sequence === i + 1)!;
    expect(r.protocol).toBe('nfdump');
    expect(r.fields).toEqual({
      flowStartMilliseconds: Date.parse(c[0]!.replace(' ', 'T') + 'Z'),
      flowEndMilliseconds: Date.parse(c[1]!.replace(' ', 'T') + 'Z'),
      flowDurationMilliseconds: Math.round(Number(c[2]) * 1000),
      sourceIPv4Address: c[3],
      destinationIPv4Address: c[4],
      sourceTransportPort: Number(c[5]),
      destinationTransportPort: Number(c[6]),
      protocolIdentifier: 6,
      tcpControlBits: 0x1b,
      packetDeltaCount: Number(c[11]),
      octetDeltaCount: Number(c[12]),
      nfdumpExporterId: Number(c[46]),
      exporterIPv4Address: c[44],
      collectionTimeMilliseconds: Date.parse(c[47]!.replace(' ', 'T') + 'Z'),
      ...(c[22] === '1' ? { flowDirection: 1 } : {}),
    });
    const icmp = records.find(
      (x) => x.fields.protocolIdentifier === 1 && x.fields.destinationTransportPort === 771,
    );
    expect(icmp?.fields).toMatchObject({ icmpTypeIPv4: 3, icmpCodeIPv4: 3, ipClassOfService: 192 });
  });

  it('reads the newer layout (firstSeen,...) to the same flows, with milliseconds', async () => {
    const old = await readAll(fixture('nfdump-1.7.1.csv'));
    const neu = await readAll(fixture('nfdump-1.7.6-layout.csv'));
    expect(problems(neu.events)).toEqual([]);
    expect(neu.records).toHaveLength(old.records.length);
    for (let i = 0; i < old.records.length; i++) {
      const a = old.records[i]!.fields;
      const b = neu.records[i]!.fields;
      for (const k of [
        'sourceTransportPort',
        'destinationTransportPort',
        'protocolIdentifier',
        'octetDeltaCount',
      ])
        expect(b[k]).toEqual(a[k]);
      expect(Math.floor((b.flowStartMilliseconds as number) / 1000) * 1000).toBe(a.flowStartMilliseconds);
    }
    expect(neu.records.find((r) => r.fields.icmpTypeIPv4 === 8)?.fields.destinationTransportPort).toBe(2048);
  });
});

describe('text sniffing', () => {
  const cases: [string, TextKind][] = [
    ['zeek-conn.log', 'zeek-conn-tsv'],
    ['zeek-conn-iot23.log.labeled', 'zeek-conn-tsv'],
    ['zeek-dns.log', 'zeek-dns-tsv'],
    ['zeek-conn.json', 'zeek-conn-json'],
    ['zeek-dns.json', 'zeek-dns-json'],
    ['argus-ctu.binetflow', 'argus-csv'],
    ['argus-epoch.csv', 'argus-csv'],
    ['nfdump-1.7.1.csv', 'nfdump-csv'],
    ['nfdump-1.7.6-layout.csv', 'nfdump-csv'],
  ];
  it.each(cases)('recognises %s as %s by content, under any name', async (name, kind) => {
    const bytes = readFileSync(fixture(name));
    expect(sniffText(bytes, true)).toBe(kind);
    const renamed = join(mkdtempSync(join(tmpdir(), 'acd-text-')), 'capture.pcap');
    writeFileSync(renamed, bytes);
    const direct = await readAll(fixture(name));
    const viaRename = await readAll(renamed);
    expect(viaRename.records).toEqual(direct.records);
  });

  it('recognises nothing in binary captures and unrelated text', () => {
    expect(sniffText(readFileSync(fixture('traffic.pcap')))).toBeUndefined();
    expect(sniffText(new TextEncoder().encode('hello,world\n1,2\n'))).toBeUndefined();
    expect(
      sniffText(new TextEncoder().encode('#separator \\x09\n#path\thttp\n#fields\tts\turi\n')),
    ).toBeUndefined();
    expect(
      sniffText(new TextEncoder().encode('{"ts":1,"id.orig_h":"1.2.3.4","_path":"http"}\n')),
    ).toBeUndefined();
  });

  it('rejects unrecognised content with a typed error when asked to recognise it', async () => {
    await expect(readAll(['not,a,flow\n1,2,3\n'])).rejects.toBeInstanceOf(TextFormatError);
  });
});

describe('malformed lines', () => {
  it('are counted and reported with their line number and reason, and reading goes on', async () => {
    const lines = linesOf('zeek-conn.log');
    const first = lines.findIndex((l) => !l.startsWith('#'));
    const bad = [...lines];
    bad.splice(first + 1, 0, 'garbage');
    bad.splice(first + 3, 0, lines[first]!.replace('127.0.0.1', '999.1.1.1'));
    bad.splice(first + 5, 0, lines[first]!.replace(/^\d+\.\d+/, 'yesterday'));
    const stats = { lines: 0, records: 0, malformed: 0, skipped: 0 };
    const events: TextEvent[] = [];
    const records: DecodedRecord[] = [];
    for await (const r of readTextRecords([bad.join('\n')], 'zeek-conn-tsv', {
      onEvent: (e) => events.push(e),
      stats,
    }))
      records.push(r);
    expect(records).toHaveLength(zeekDataLines('zeek-conn.log').length);
    expect(stats.malformed).toBe(3);
    expect(problems(events)).toEqual([
      { kind: 'malformed-line', format: 'zeek-conn-tsv', line: first + 2, reason: 'column-count' },
      {
        kind: 'malformed-line',
        format: 'zeek-conn-tsv',
        line: first + 4,
        reason: 'bad-address',
        column: 'id.orig_h',
      },
      { kind: 'malformed-line', format: 'zeek-conn-tsv', line: first + 6, reason: 'bad-time', column: 'ts' },
    ]);
  });

  it('skips lines longer than the limit whole and counts them', async () => {
    const csv = readFileSync(fixture('nfdump-1.7.1.csv'), 'utf8').split('\n');
    csv.splice(2, 0, 'x'.repeat(5000));
    const events: TextEvent[] = [];
    const records: DecodedRecord[] = [];
    for await (const r of readTextRecords([csv.join('\n')], 'nfdump-csv', {
      onEvent: (e) => events.push(e),
      maxLineBytes: 1024,
    }))
      records.push(r);
    expect(problems(events)).toEqual([
      { kind: 'malformed-line', format: 'nfdump-csv', line: 3, reason: 'too-long' },
    ]);
    expect(records).toHaveLength(44);
  });

  it('reports data before any header as no-header', async () => {
    const { events } = await readAll(['2026-11-25 18:12:33,x\n'], 'nfdump-csv');
    expect(problems(events)).toEqual([
      { kind: 'malformed-line', format: 'nfdump-csv', line: 1, reason: 'no-header' },
    ]);
  });
});

describe('chunked input', () => {
  it('gives the same records whatever the chunk boundaries', async () => {
    const bytes = readFileSync(fixture('zeek-dns.log'));
    const whole = await readAll(fixture('zeek-dns.log'));
    const chunks: Uint8Array[] = [];
    for (let o = 0; o < bytes.length; o += 7) chunks.push(bytes.subarray(o, o + 7));
    const split = await readAll(chunks);
    expect(split.records).toEqual(whole.records);
  });
});
