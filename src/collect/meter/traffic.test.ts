/**
 * The flow meter on real captures, against softflowd's view of the same packets (softflowd ->
 * IPFIX -> nfcapd -> `nfdump -o csv`, one row per direction): traffic.pcap (loopback, made by
 * scripts/make-fixtures.sh, reference softflowd-ipfix.nfdump.csv) and veth.pcapng (pcapng, a veth
 * pair between two namespaces, made by testdata/make-veth-capture.sh with its own reference).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../common/errors.ts';
import type { DecodedRecord, DnsEvent, Fields, FlowRecord } from '../../common/schema/index.ts';
import { readTrafficFile, type TrafficFileStats } from './index.ts';

const DECODE_TESTDATA = fileURLToPath(new URL('../decode/testdata/', import.meta.url));
const TESTDATA = fileURLToPath(new URL('./testdata/', import.meta.url));
const TRAFFIC = DECODE_TESTDATA + 'traffic.pcap';
const VETH = TESTDATA + 'veth.pcapng';

async function meter(
  path: string,
  chunkBytes?: number,
): Promise<{ records: DecodedRecord[]; stats: TrafficFileStats }> {
  const it = readTrafficFile(path, chunkBytes === undefined ? {} : { chunkBytes });
  const records: DecodedRecord[] = [];
  for (let r = await it.next(); ; r = await it.next()) {
    if (r.done) return { records, stats: r.value };
    records.push(r.value);
  }
}

interface CsvRow {
  ts: number;
  te: number;
  pr: number;
  sa: string;
  sp: number;
  da: string;
  dp: string;
  flg: string;
  pkt: number;
  byt: number;
}

function readCsv(path: string): CsvRow[] {
  const lines = readFileSync(path, 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => {
    const [ts, te, pr, sa, sp, da, dp, flg, pkt, byt] = l.split(',');
    return {
      ts: Date.parse(ts!.replace(' ', 'T') + 'Z'),
      te: Date.parse(te!.replace(' ', 'T') + 'Z'),
      pr: Number(pr),
      sa: sa!,
      sp: Number(sp),
      da: da!,
      dp: dp!,
      flg: flg!,
      pkt: Number(pkt),
      byt: Number(byt),
    };
  });
}

/** nfdump shortens long IPv6 addresses as `head..tail`. */
function sameAddress(csv: string, ours: string): boolean {
  const cut = csv.indexOf('..');
  if (cut < 0) return csv === ours;
  return ours.startsWith(csv.slice(0, cut)) && ours.endsWith(csv.slice(cut + 2));
}

/** nfdump's flag string: CWR ECE URG ACK PSH RST SYN FIN, `.` when unset. */
function nfdumpFlags(bits: number): string {
  return 'CEUAPRSF'
    .split('')
    .map((c, i) => ((bits >> (7 - i)) & 1 ? c : '.'))
    .join('');
}

const str = (f: Fields, k: string): string => f[k] as string;
const num = (f: Fields, k: string): number => f[k] as number;
const flows = (rs: DecodedRecord[]): FlowRecord[] =>
  rs.filter((r): r is FlowRecord => r.recordType === 'flow');
const dnsEvents = (rs: DecodedRecord[]): DnsEvent[] =>
  rs.filter((r): r is DnsEvent => r.recordType === 'dns');

/** One direction of one of our flow records, in softflowd's terms. */
interface Direction {
  pr: number;
  sa: string;
  sp: number;
  da: string;
  dp: string;
  pkt: number;
  byt: number;
  flg: string | undefined;
  ts: number;
  te: number;
}

function directions(r: FlowRecord): Direction[] {
  const f = r.fields;
  const v6 = f.ipVersion === 6;
  const sa = str(f, v6 ? 'sourceIPv6Address' : 'sourceIPv4Address');
  const da = str(f, v6 ? 'destinationIPv6Address' : 'destinationIPv4Address');
  const pr = num(f, 'protocolIdentifier');
  const icmp = f.icmpTypeCodeIPv4 ?? f.icmpTypeCodeIPv6;
  // softflowd puts ICMP type.code in the destination port of each direction; ours keeps the first
  // packet's type/code only, so ICMP directions are compared without it.
  const sp = icmp === undefined ? num(f, 'sourceTransportPort') : 0;
  const dp = icmp === undefined ? String(num(f, 'destinationTransportPort')) : '*';
  const common = { pr, ts: num(f, 'flowStartMilliseconds'), te: num(f, 'flowEndMilliseconds') };
  const out: Direction[] = [
    {
      ...common,
      sa,
      sp,
      da,
      dp,
      pkt: num(f, 'packetDeltaCount'),
      byt: num(f, 'octetDeltaCount'),
      flg: pr === 6 ? nfdumpFlags(num(f, 'tcpControlBits')) : undefined,
    },
  ];
  if (num(f, 'reversePacketDeltaCount') > 0) {
    out.push({
      ...common,
      sa: da,
      sp: icmp === undefined ? num(f, 'destinationTransportPort') : 0,
      da: sa,
      dp: icmp === undefined ? String(num(f, 'sourceTransportPort')) : '*',
      pkt: num(f, 'reversePacketDeltaCount'),
      byt: num(f, 'reverseOctetDeltaCount'),
      flg: pr === 6 ? nfdumpFlags(num(f, 'reverseTcpControlBits')) : undefined,
    });
  }
  return out;
}

function findRow(rows: CsvRow[], d: Direction): CsvRow | undefined {
  return rows.find(
    (r) =>
      r.pr === d.pr &&
      sameAddress(r.sa, d.sa) &&
      sameAddress(r.da, d.da) &&
      r.sp === d.sp &&
      (d.dp === '*' || r.dp === d.dp),
  );
}

describe('flow meter on traffic.pcap (loopback: DNS, HTTP, SSH, ICMP over IPv4 and IPv6)', () => {
  it('meters every packet into flows whose directions match softflowd row for row', async () => {
    const { records, stats } = await meter(TRAFFIC);
    const rows = readCsv(DECODE_TESTDATA + 'softflowd-ipfix.nfdump.csv');
    const fl = flows(records);
    expect(stats.packets).toBe(379);
    expect(stats.ipPackets).toBe(379);
    // softflowd's totals (EXPECTED.md: 379 packets, 163096 octets) equal ours.
    expect(stats.ipOctets).toBe(rows.reduce((a, r) => a + r.byt, 0));
    expect(
      fl.reduce(
        (a, r) => a + num(r.fields, 'packetDeltaCount') + num(r.fields, 'reversePacketDeltaCount'),
        0,
      ),
    ).toBe(379);
    const matched = new Set<CsvRow>();
    for (const r of fl) {
      for (const d of directions(r)) {
        const row = findRow(rows, d);
        expect(row, `softflowd row for ${JSON.stringify(d)}`).toBeDefined();
        if (!row) continue;
        matched.add(row);
        expect({ pkt: d.pkt, byt: d.byt }).toEqual({ pkt: row.pkt, byt: row.byt });
        if (d.flg !== undefined) expect(d.flg).toBe(row.flg);
        // Same first and last packet times (softflowd keeps one pair per biflow, in ms).
        expect(Math.abs(d.ts - row.ts)).toBeLessThanOrEqual(1);
        expect(Math.abs(d.te - row.te)).toBeLessThanOrEqual(1);
      }
    }
    // Every softflowd row is one direction of one of our flows: 44 rows, 23 bidirectional flows.
    expect(matched.size).toBe(rows.length);
    expect(fl).toHaveLength(23);
  });

  it('keeps the first packet sender as source, with TCP ends, TTLs and ICMP type/code', async () => {
    const { records, stats } = await meter(TRAFFIC);
    const fl = flows(records);
    const download = fl.find((r) => r.fields.reverseOctetDeltaCount === 127772)!;
    expect(download.fields).toMatchObject({
      ipVersion: 4,
      sourceIPv4Address: '127.0.0.1',
      destinationIPv4Address: '127.0.0.80',
      destinationTransportPort: 8080,
      protocolIdentifier: 6,
      packetDeltaCount: 60,
      reversePacketDeltaCount: 90,
      tcpControlBits: 0x1b, // FIN SYN PSH ACK
      reverseTcpControlBits: 0x1b,
      minimumTTL: 64,
      maximumTTL: 64,
      biflowDirection: 1,
      flowEndReason: 3,
    });
    expect(download).toMatchObject({ protocol: 'pcap', samplingInterval: 1, recordIndex: 0 });
    expect(download.observation).toMatchObject({
      exporter: 'capture',
      observationDomainId: 0,
      templateId: 0,
    });
    const refused = fl.find((r) => r.fields.destinationTransportPort === 8081)!;
    expect(refused.fields).toMatchObject({
      tcpControlBits: 0x02,
      reverseTcpControlBits: 0x14,
      flowEndReason: 3,
    });
    const ping = fl.find((r) => r.fields.icmpTypeCodeIPv4 === 8 * 256)!;
    expect(ping.fields).toMatchObject({
      packetDeltaCount: 3,
      reversePacketDeltaCount: 3,
      octetDeltaCount: 252,
    });
    const ping6 = fl.find((r) => r.fields.icmpTypeCodeIPv6 === 128 * 256)!;
    expect(ping6.fields).toMatchObject({
      sourceIPv6Address: '::1',
      destinationIPv6Address: 'fd00:acd::80',
      reversePacketDeltaCount: 2,
    });
    const unreachable = fl.find((r) => r.fields.icmpTypeCodeIPv4 === 3 * 256 + 3)!;
    expect(unreachable.fields).toMatchObject({ sourceIPv4Address: '127.0.0.53', reversePacketDeltaCount: 0 });
    // 12 TCP connections ended by FIN, one by RST; the rest (DNS, ICMP, UDP) at end of input.
    expect(stats.flowsExpired).toEqual({ idle: 0, active: 0, fin: 12, rst: 1, evicted: 0, end: 10 });
    expect(stats.flowRecords).toBe(23);
    // Record ids: unique sequence numbers, shared by flows and DNS events.
    const seqs = records.map((r) => r.observation.sequence);
    expect(new Set(seqs).size).toBe(records.length);
  });

  it("turns dig's queries and dnsmasq's responses into DNS events like dnstap's", async () => {
    const { records, stats } = await meter(TRAFFIC);
    const ev = dnsEvents(records);
    expect(stats.dnsMessages).toBe(12);
    expect(stats.dnsMalformed).toBe(0);
    expect(ev).toHaveLength(12);
    const summary = ev.map((e) => [
      e.fields.dnsIsResponse,
      e.fields.dnsQueryName,
      e.fields.dnsQueryTypeName,
      e.fields.dnsResponseCodeName ?? '-',
    ]);
    expect(summary).toEqual([
      [false, 'www.acd.test', 'A', '-'],
      [true, 'www.acd.test', 'A', 'NOERROR'],
      [false, 'www.acd.test', 'AAAA', '-'],
      [true, 'www.acd.test', 'AAAA', 'NOERROR'],
      [false, 'acd.test', 'MX', '-'],
      [true, 'acd.test', 'MX', 'NOERROR'],
      [false, 'acd.test', 'TXT', '-'],
      [true, 'acd.test', 'TXT', 'NOERROR'],
      [false, 'nothere.acd.test', 'A', '-'],
      [true, 'nothere.acd.test', 'A', 'NXDOMAIN'],
      [false, 'mail.acd.test', 'A', '-'],
      [true, 'mail.acd.test', 'A', 'NOERROR'],
    ]);
    const answerA = ev[1]!;
    expect(answerA).toMatchObject({ recordType: 'dns', protocol: 'pcap', recordIndex: 0 });
    // Client and server the same way round for the query and the response.
    expect(answerA.fields).toMatchObject({
      sourceIPv4Address: '127.0.0.1',
      destinationIPv4Address: '127.0.0.53',
      destinationTransportPort: 53,
      sourceTransportPort: ev[0]!.fields.sourceTransportPort,
      protocolIdentifier: 17,
      dnsTransport: 'udp',
      dnsAnswers: [{ name: 'www.acd.test', type: 1, ttl: 0, data: '192.0.2.80' }],
    });
    expect(typeof answerA.fields.eventTime).toBe('number');
    expect(ev[11]!.fields).toMatchObject({
      sourceIPv6Address: 'fd00:acd::1',
      destinationIPv6Address: 'fd00:acd::53',
    });
    // The DNS event and its flow carry the same capture time.
    const flow = flows(records).find(
      (r) => r.fields.sourceTransportPort === ev[0]!.fields.sourceTransportPort,
    )!;
    expect(flow.fields.flowStartMilliseconds).toBe(ev[0]!.fields.eventTime);
  });

  it('gives the same records whatever the read chunk size', async () => {
    const whole = await meter(TRAFFIC);
    const small = await meter(TRAFFIC, 1000);
    expect(small.records).toEqual(whole.records);
    expect(small.stats.bytesRead).toBe(whole.stats.bytesRead);
  });
});

describe('flow meter on veth.pcapng (pcapng, Ethernet with real MACs, DNS over TCP, IP fragments)', () => {
  it('matches softflowd except for the non-first fragment softflowd puts under ports 0', async () => {
    const { records, stats } = await meter(VETH);
    const rows = readCsv(TESTDATA + 'veth.softflowd.nfdump.csv');
    const fl = flows(records);
    expect(stats.ipPackets).toBe(stats.packets);
    expect(stats.ipOctets).toBe(rows.reduce((a, r) => a + r.byt, 0));
    expect(stats.fragments).toBe(2);
    expect(stats.fragmentsUnattributed).toBe(0);
    // softflowd's ports-0 row for the second fragment of the large DNS response.
    const orphan = rows.find((r) => r.pr === 17 && r.sp === 0)!;
    expect(orphan).toBeDefined();
    const matched = new Set<CsvRow>([orphan]);
    for (const r of fl) {
      for (const d of directions(r)) {
        const row = findRow(rows, d)!;
        expect(row, JSON.stringify(d)).toBeDefined();
        matched.add(row);
        if (d.sp === 53 && d.pr === 17 && row.byt !== d.byt) {
          // Ours: both fragments in the DNS flow; softflowd: only the first.
          expect({ pkt: d.pkt, byt: d.byt }).toEqual({
            pkt: row.pkt + orphan.pkt,
            byt: row.byt + orphan.byt,
          });
        } else {
          expect({ pkt: d.pkt, byt: d.byt }).toEqual({ pkt: row.pkt, byt: row.byt });
        }
        if (d.flg !== undefined) expect(d.flg).toBe(row.flg);
      }
    }
    expect(matched.size).toBe(rows.length);
  });

  it('reads DNS over TCP and a DNS response reassembled from IP fragments', async () => {
    const { records, stats } = await meter(VETH);
    const ev = dnsEvents(records);
    expect(stats.dnsMalformed).toBe(0);
    expect(stats.dnsTcpSkipped).toBe(0);
    const tcp = ev.filter((e) => e.fields.dnsTransport === 'tcp');
    expect(
      tcp.map((e) => [e.fields.dnsIsResponse, e.fields.dnsQueryName, e.fields.protocolIdentifier]),
    ).toEqual([
      [false, 'www.acd.test', 6],
      [true, 'www.acd.test', 6],
    ]);
    expect(tcp[1]!.fields).toMatchObject({ sourceIPv4Address: '198.51.100.1', destinationTransportPort: 53 });
    const big = ev.find((e) => e.fields.dnsQueryName === 'big.acd.test' && e.fields.dnsIsResponse === true)!;
    expect(big).toBeDefined();
    // Eight TXT strings of 250 octets: counted, never kept.
    expect(big.fields).toMatchObject({ dnsTxtCount: 1, dnsTxtBytes: 2000, dnsAnswerCount: 1 });
    expect(big.fields.dnsMessageSize).toBeGreaterThan(1500);
    expect(JSON.stringify(big)).not.toContain('aaaa');
    expect(ev.filter((e) => e.fields.dnsIsResponse === true)).toHaveLength(ev.length / 2);
  });
});

describe('readTrafficFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'acd-traffic-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('throws InputError for a missing file or one that is not a capture, and yields nothing for an empty one', async () => {
    await expect(meter(join(dir, 'missing.pcap'))).rejects.toBeInstanceOf(InputError);
    writeFileSync(join(dir, 'text.pcap'), 'ts,te,pr\n1,2,3\n');
    await expect(meter(join(dir, 'text.pcap'))).rejects.toBeInstanceOf(InputError);
    writeFileSync(join(dir, 'empty.pcap'), '');
    const empty = await meter(join(dir, 'empty.pcap'));
    expect(empty.records).toHaveLength(0);
  });

  it('meters what a cut capture holds, flushes its flows and counts the cut', async () => {
    const bytes = readFileSync(TRAFFIC);
    writeFileSync(join(dir, 'cut.pcap'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    const { records, stats } = await meter(join(dir, 'cut.pcap'));
    expect(stats.captureEvents['truncated-file']).toBe(1);
    expect(stats.packets).toBeGreaterThan(100);
    expect(stats.activeFlows).toBe(0);
    const sum = flows(records).reduce(
      (a, r) => a + num(r.fields, 'packetDeltaCount') + num(r.fields, 'reversePacketDeltaCount'),
      0,
    );
    expect(sum).toBe(stats.ipPackets);
  });
});
