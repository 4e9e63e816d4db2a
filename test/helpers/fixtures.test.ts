import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import {
  EXPORT_FIXTURES,
  fixtureDatagrams,
  fixturePath,
  fixturePort,
  fixtureRaw,
  nfdumpFlows,
  readCapturePayloads,
  tsharkSummary,
} from './traffic.ts';
import {
  hasTool,
  nfdumpCsv,
  parseNfdumpCsv,
  requireTool,
  runNfcapd,
  sendUdp,
  toNfdumpFlow,
} from './tools.ts';

describe('real-exporter fixtures', () => {
  for (const name of EXPORT_FIXTURES) {
    it(`${name}: capture payloads are the raw file, message for message`, async () => {
      const summary = await tsharkSummary(name);
      const raw = await fixtureRaw(name);
      const payloads = await readCapturePayloads(`${name}.pcap`, {
        dstPort: fixturePort(name),
        protocol: name.endsWith('-tcp') ? 6 : 17,
      });
      const joined = Buffer.concat(payloads.map((p) => p.payload));
      expect(Buffer.from(raw).equals(joined)).toBe(true);
      if (!name.endsWith('-tcp')) {
        const datagrams = await fixtureDatagrams(name);
        expect(datagrams).toHaveLength(summary.datagrams);
        expect(datagrams[0]?.exporter.address).toBe('127.0.0.1');
      }
    });
  }

  it('nfdump ground truth and tshark agree on every NetFlow/IPFIX fixture', async () => {
    for (const name of EXPORT_FIXTURES) {
      if (name.includes('sfprobe') || name.endsWith('-tcp')) continue;
      const summary = await tsharkSummary(name);
      const flows = await nfdumpFlows(name);
      if (!('flowRecords' in summary)) throw new Error(`${name}: not a flow summary`);
      expect(flows.length, name).toBe(summary.flowRecords);
      expect(
        flows.reduce((s, f) => s + f.packets, 0),
        name,
      ).toBe(summary.packetsTotal);
    }
  });

  it('traffic.pcap holds IPv4 and IPv6 TCP, UDP and ICMP', async () => {
    const udp = await readCapturePayloads('traffic.pcap');
    const tcp = await readCapturePayloads('traffic.pcap', { protocol: 6 });
    expect(udp.some((p) => p.dstPort === 53 && p.dstAddress === '127.0.0.53')).toBe(true);
    expect(udp.some((p) => p.dstPort === 53 && p.dstAddress === 'fd00:acd::53')).toBe(true);
    expect(tcp.some((p) => p.dstPort === 8080 && p.dstAddress === 'fd00:acd::80')).toBe(true);
    expect(tcp.some((p) => p.dstPort === 2222)).toBe(true);
  });
});

describe('nfcapd helpers', () => {
  it('replaying a fixture into nfcapd gives its recorded ground truth', async (ctx) => {
    requireTool(['nfcapd', 'nfdump'], ctx);
    const nfcapd = await runNfcapd();
    try {
      const datagrams = await fixtureDatagrams('softflowd-v9');
      await sendUdp(
        nfcapd.host,
        nfcapd.port,
        datagrams.map((d) => d.bytes),
        { from: '127.0.0.3' },
      );
      // Give nfcapd a moment to read its socket before SIGTERM.
      await new Promise((r) => setTimeout(r, 300));
      await nfcapd.stop();
      const got = (await nfdumpCsv(nfcapd.dir)).map(toNfdumpFlow);
      const want = parseNfdumpCsv(await readFile(fixturePath('softflowd-v9.nfdump.csv'), 'utf8')).map(
        toNfdumpFlow,
      );
      const key = (f: (typeof got)[number]): string =>
        [f.startMs, f.endMs, f.protocol, f.srcAddr, f.srcPort, f.dstAddr, f.dstPort, f.packets, f.bytes].join(
          ' ',
        );
      expect(got.map(key).sort()).toEqual(want.map(key).sort());
    } finally {
      await nfcapd.dispose();
    }
  });

  it('hasTool finds sbin tools and rejects unknown names', () => {
    expect(hasTool('definitely-not-a-tool-acd')).toBe(false);
    expect(hasTool('sh')).toBe(true);
  });
});
