/**
 * Live tests: real sockets to nfcapd (Debian nfdump tools) and to a local UDP receiver, and a pcap
 * file read by tshark. Skipped with a message when a tool is missing (failing instead under
 * ACD_REQUIRE_SERVICES=1).
 */
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createExporterFleet } from './fleet.ts';
import { createPcapFileOutput, createUdpOutput } from './outputs.ts';
import { runPaced } from './pacer.ts';
import { cyclingSource, testFlows } from './testing.ts';
import type { ExporterConfig, ExporterFormat } from './types.ts';

function has(tool: string, arg: string): boolean {
  try {
    execFileSync(tool, [arg], { stdio: 'ignore' });
    return true;
  } catch {
    return process.env.ACD_REQUIRE_SERVICES === '1';
  }
}
const hasNfdump = has('nfdump', '-V');
const hasTshark = has('tshark', '-v');

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const exportersOf = (format: ExporterFormat, sampling: number): ExporterConfig[] => [
  { id: 'r1', address: '127.0.0.31', format, observationDomainId: 1, samplingInterval: sampling },
  { id: 'r2', address: '127.0.0.32', format, observationDomainId: 2, samplingInterval: 1 },
];

describe('exporter fleet, live', () => {
  for (const [format, sampling] of [
    ['ipfix', 1],
    ['netflow9', 10],
    ['netflow5', 1],
  ] as const) {
    it.skipIf(!hasNfdump)(
      `nfcapd/nfdump read what the fleet sends over UDP: ${format} (sampling ${sampling})`,
      async () => {
        const dir = mkdtempSync(join(tmpdir(), 'acd-nfcapd-'));
        const port = await freeUdpPort();
        const nfcapd = spawn('nfcapd', ['-b', '127.0.0.1', '-p', String(port), '-w', dir], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let log = '';
        nfcapd.stdout.on('data', (d: Buffer) => (log += d.toString()));
        nfcapd.stderr.on('data', (d: Buffer) => (log += d.toString()));
        try {
          await new Promise((r) => setTimeout(r, 400));
          const fleet = createExporterFleet({
            seed: 5,
            output: createUdpOutput('127.0.0.1', port),
            exporters: exportersOf(format, sampling),
          });
          await fleet.start();
          const now = Date.now();
          const flows = testFlows(3000, { startMs: now - 60_000, stepMs: 10 });
          // Paced gently so no datagram is lost on a busy 2-core machine.
          await runPaced(fleet, cyclingSource(flows, 2, flows.length), { startMs: now, rate: 20_000 });
          await fleet.stop();
          const s = fleet.stats();
          await new Promise((r) => setTimeout(r, 300));
          const exited = new Promise((r) => nfcapd.once('exit', r));
          nfcapd.kill('SIGTERM');
          await exited;
          const csv = execFileSync('nfdump', ['-R', dir, '-o', 'csv'], {
            encoding: 'utf8',
            maxBuffer: 256 * 1024 * 1024,
          })
            .trim()
            .split('\n');
          const [flowsN, bytes, packets] = csv[csv.length - 1]!.split(',').map(Number);
          // What was exported (after sampling) is what nfdump stored, with no sequence errors.
          expect(flowsN).toBe(s.exported);
          const truth = { packets: 0, octets: 0 };
          if (sampling === 1) {
            for (const f of flows) {
              truth.packets += Number(f.packetDeltaCount);
              truth.octets += Number(f.octetDeltaCount);
            }
            expect({ packets, bytes }).toEqual({ packets: truth.packets, bytes: truth.octets });
          }
          expect(log).toMatch(/Sequence Errors: 0,/);
        } finally {
          if (nfcapd.exitCode === null) nfcapd.kill('SIGKILL');
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  }

  it('keeps a requested 20,000 flows/s over UDP (reported, loosely asserted)', async () => {
    const rx = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
    const port = rx.address().port;
    // Count by IPFIX sequence numbers: records sent = last sequence + records in the last message.
    let first = -1;
    let firstAt = 0;
    let lastSeq = 0;
    let lastCount = 0;
    let lastAt = 0;
    let received = 0;
    rx.on('message', (m: Buffer) => {
      const seq = m.readUInt32BE(8);
      // Data records of the message: its data set length / record size is not needed; the next
      // sequence tells. Keep the largest sequence and the time it arrived.
      if (first < 0) {
        first = seq;
        firstAt = performance.now();
      }
      if (seq >= lastSeq) {
        lastSeq = seq;
        lastAt = performance.now();
        lastCount = 0;
      }
      received++;
    });
    const fleet = createExporterFleet({
      seed: 1,
      output: createUdpOutput('127.0.0.1', port),
      exporters: [
        { id: 'p', address: '127.0.0.41', format: 'ipfix', observationDomainId: 1, samplingInterval: 1 },
      ],
    });
    await fleet.start();
    const flows = testFlows(5000);
    const res = await runPaced(fleet, cyclingSource(flows, 1), {
      startMs: Date.now(),
      rate: 20_000,
      durationMs: 3000,
    });
    await fleet.stop();
    await new Promise((r) => setTimeout(r, 200));
    rx.close();
    const measured = ((lastSeq + lastCount - first) * 1000) / (lastAt - firstAt);
    console.log(
      `pacing: requested 20000/s, sender ${res.rate.toFixed(0)}/s, receiver by sequence ${measured.toFixed(0)}/s, ${received} datagrams`,
    );
    expect(res.records).toBeGreaterThan(20_000 * 3 * 0.9);
    expect(Math.abs(res.rate / 20_000 - 1)).toBeLessThan(0.1);
    expect(Math.abs(measured / 20_000 - 1)).toBeLessThan(0.15);
  });

  it.skipIf(!hasTshark)('pcap output of all exporters opens in tshark and decodes as IPFIX', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acd-pcapout-'));
    const file = join(dir, 'out.pcap');
    try {
      const fleet = createExporterFleet({
        seed: 1,
        output: createPcapFileOutput(file),
        exporters: exportersOf('ipfix', 1),
      });
      await fleet.start();
      const start = Date.UTC(2026, 0, 1, 12);
      const flows = testFlows(500, { startMs: start - 1000 });
      await runPaced(fleet, cyclingSource(flows, 2, flows.length), {
        startMs: start,
        asFastAsPossible: true,
      });
      await fleet.stop();
      const out = execFileSync(
        'tshark',
        [
          '-r',
          file,
          '-d',
          'udp.port==4739,cflow',
          '-T',
          'fields',
          '-e',
          'ip.src',
          '-e',
          'cflow.od_id',
          '-e',
          'cflow.srcaddr',
        ],
        { encoding: 'utf8' },
      );
      const lines = out.trim().split('\n');
      expect(lines).toHaveLength(fleet.stats().messages);
      expect(new Set(lines.map((l) => l.split('\t')[0]))).toEqual(new Set(['127.0.0.31', '127.0.0.32']));
      const flowsSeen = lines.reduce(
        (n, l) => n + (l.split('\t')[2]?.split(',').filter(Boolean).length ?? 0),
        0,
      );
      expect(flowsSeen).toBe(500);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
