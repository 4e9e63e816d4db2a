import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../common/errors.ts';
import type { RawDatagram } from '../../common/schema/raw.ts';
import { newFileReadStats, readExportFile, type FileInputEvent, type ReadExportFileOptions } from './file.ts';
import {
  concat,
  epb,
  etherVlan,
  idb,
  ipfixMessage,
  ipv4,
  ipv6,
  pcapFile,
  shb,
  sll2,
  tcp,
  udp,
  v5Message,
  v9Message,
} from './testdata/build.ts';

const testdata = join(import.meta.dirname, 'testdata');
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acd-input-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function collect(path: string, opts: ReadExportFileOptions = {}) {
  const stats = newFileReadStats();
  const events: FileInputEvent[] = [];
  const out: RawDatagram[] = [];
  for await (const d of readExportFile(path, { ...opts, stats, onEvent: (e) => events.push(e) })) out.push(d);
  return { out, stats, events };
}
async function file(name: string, bytes: Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, bytes);
  return p;
}
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('reading a real tcpdump capture of UDP exports', () => {
  const path = join(testdata, 'lo-udp-exports.pcap');

  it('picks export datagrams by structure on an unlisted port', async () => {
    const { out, stats } = await collect(path);
    expect(out.map((d) => [d.bytes[1], d.bytes.length])).toEqual([
      [10, 36],
      [10, 36],
      [5, 72],
      [10, 56],
    ]);
    expect(out[0]).toMatchObject({ transport: 'pcap', exporter: { address: '127.0.0.1', port: 44196 } });
    // tcpdump -tt -r lo-udp-exports.pcap prints 1795630515.723491 for the first packet.
    expect(out[0]!.receivedAt).toBe(1_795_630_515_723);
    expect(stats).toMatchObject({ kind: 'pcap', packets: 5, datagrams: 4, skipped: { 'not-export': 1 } });
  });

  it('takes every payload on a configured port and nothing else without structure checks', async () => {
    expect((await collect(path, { udpPorts: [39055], recogniseByStructure: false })).out).toHaveLength(5);
    expect((await collect(path, { recogniseByStructure: false })).out).toHaveLength(0);
  });
});

describe('reading a real tcpdump capture of IPFIX over TCP', () => {
  const path = join(testdata, 'lo-tcp-ipfix.pcap');

  it('reassembles the stream and frames the messages (recognised by structure)', async () => {
    const { out, stats, events } = await collect(path);
    expect(out.map((d) => d.bytes.length)).toEqual([28, 820, 44]);
    expect(out.every((d) => d.exporter.address === '127.0.0.1' && d.exporter.port === 57348)).toBe(true);
    expect(stats.tcpMessages).toBe(3);
    expect(events).toEqual([]);
  });

  it('follows the connection from its SYN on a configured port', async () => {
    const { out, events } = await collect(path, { tcpPorts: [39739], recogniseByStructure: false });
    expect(out.map((d) => d.bytes.length)).toEqual([28, 820, 44]);
    expect(events).toEqual([]);
  });
});

describe('reading synthetic captures', () => {
  const m = ipfixMessage(5, 3000, 0x42);
  const small = ipfixMessage(6, 20);
  const dgram = udp(40000, 4739, m);
  const frag = (from: number, to: number, more: boolean) =>
    etherVlan(
      0x0800,
      ipv4('192.0.2.7', '192.0.2.8', 17, dgram.subarray(from, to), {
        id: 77,
        moreFragments: more,
        fragmentOffset: from,
      }),
      [[0x8100, 5]],
    );
  const tcpStream = concat(ipfixMessage(1, 100), ipfixMessage(2, 60));
  const seg = (seq: number, flags: number, p?: Uint8Array) =>
    sll2(0x86dd, ipv6('2001:db8::5', '2001:db8::6', 6, tcp(41000, 4739, seq, flags, p)));

  it('decodes a pcapng file read in small chunks: VLAN fragments, SLL2 IPv6 TCP out of order', async () => {
    const le = true;
    const bytes = concat(
      shb(le),
      idb(1, le, 9),
      idb(276, le, 6),
      epb(0, 1_700_000_000_000_000_000n, frag(1480, 2960, true), le),
      epb(0, 1_700_000_000_001_000_000n, frag(0, 1480, true), le),
      epb(0, 1_700_000_000_002_000_000n, frag(2960, dgram.length, false), le),
      epb(1, 1_700_000_000_003_000n, seg(99, 0x02), le),
      epb(1, 1_700_000_000_004_000n, seg(100 + 50, 0x10, tcpStream.subarray(50)), le),
      epb(1, 1_700_000_000_005_000n, seg(100, 0x10, tcpStream.subarray(0, 50)), le),
      epb(
        1,
        1_700_000_000_006_000n,
        sll2(0x86dd, ipv6('2001:db8::5', '2001:db8::7', 17, udp(1, 2055, small))),
        le,
      ),
    );
    const { out, stats } = await collect(await file('synthetic.pcapng', bytes), { chunkBytes: 64 });
    expect(out.map((d) => [d.exporter.address, d.receivedAt, hex(d.bytes).length / 2])).toEqual([
      ['192.0.2.7', 1_700_000_000_002, m.length],
      ['2001:db8::5', 1_700_000_000_005, 120],
      ['2001:db8::5', 1_700_000_000_005, 80],
      ['2001:db8::5', 1_700_000_000_006, small.length],
    ]);
    expect(hex(out[0]!.bytes)).toBe(hex(m));
    expect(stats.skipped['fragment-held']).toBe(2);
    expect(stats.events['fragments-reassembled']).toBe(1);
  });

  it('counts truncated packets and reports a truncated final record', async () => {
    const whole = ipv4('10.0.0.1', '10.0.0.2', 17, udp(1, 2055, small));
    const bytes = pcapFile(101, [
      { sec: 1, frac: 0, data: whole.subarray(0, 30), orig: whole.length },
      { sec: 2, frac: 0, data: whole },
    ]);
    const { out, stats } = await collect(await file('cut.pcap', bytes.subarray(0, bytes.length - 5)));
    expect(out).toHaveLength(0);
    expect(stats.skipped.truncated).toBe(1);
    expect(stats.events['truncated-file']).toBe(1);
  });

  it('keeps what it read before a corrupt record length', async () => {
    const bytes = pcapFile(101, [
      { sec: 1, frac: 0, data: ipv4('10.0.0.1', '10.0.0.2', 17, udp(1, 2055, small)) },
      { sec: 2, frac: 0, data: new Uint8Array(4) },
    ]);
    new DataView(bytes.buffer).setUint32(bytes.length - 4 - 8, 0x7fffffff, true);
    const { out, stats } = await collect(await file('corrupt.pcap', bytes));
    expect(out).toHaveLength(1);
    expect(stats.formatError?.code).toBe('ERR_CAPTURE_FORMAT');
  });
});

describe('reading raw export files', () => {
  it('yields each message with the file as exporter and its mtime as reception time', async () => {
    const path = await file('exports.bin', concat(ipfixMessage(1, 8), v9Message(2, 8), v5Message(2)));
    const mtime = new Date('2024-03-01T12:00:00.123Z');
    await utimes(path, mtime, mtime);
    const { out, stats } = await collect(path, { chunkBytes: 7 });
    expect(out.map((d) => d.bytes[1])).toEqual([10, 9, 5]);
    expect(out[0]).toMatchObject({ exporter: { address: 'file', port: 0 }, transport: 'file' });
    expect(out[0]!.receivedAt).toBe(Math.floor((await stat(path)).mtimeMs));
    expect(stats.kind).toBe('raw-export');
  });
});

describe('file reader properties', () => {
  it('never throws anything but InputError on mutated captures and export files', async () => {
    const bases = [
      pcapFile(1, [
        {
          sec: 1,
          frac: 0,
          data: etherVlan(0x0800, ipv4('10.0.0.1', '10.0.0.2', 17, udp(1, 2055, ipfixMessage(1, 40))), [
            [0x8100, 3],
          ]),
        },
        {
          sec: 2,
          frac: 0,
          data: etherVlan(
            0x0800,
            ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1, 4739, 5, 0x18, ipfixMessage(2, 30))),
            [],
          ),
        },
      ]),
      concat(
        shb(false),
        idb(276, false, 9),
        epb(0, 5n, sll2(0x86dd, ipv6('::1', '::2', 17, udp(1, 4739, v5Message(1)))), false),
      ),
      concat(ipfixMessage(1, 8), v9Message(2, 8), v5Message(2)),
    ];
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...bases),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.integer({ min: 1, max: 100 }),
        async (base, muts, chunkBytes) => {
          const b = base.slice();
          for (const [i, v] of muts) b[i % b.length] = v;
          const path = await file(`fuzz-${n++}`, b);
          try {
            const { out } = await collect(path, { chunkBytes });
            for (const d of out) expect(d.bytes.length).toBeLessThanOrEqual(65_535);
          } catch (e) {
            expect(e).toBeInstanceOf(InputError);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('unreadable files', () => {
  it('throws InputError naming a missing file, a directory or unknown content', async () => {
    for (const path of [
      join(dir, 'missing.pcap'),
      dir,
      await file('notes.txt', new TextEncoder().encode('hello world, not flows')),
    ]) {
      const err = await collect(path).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).input).toBe(path);
    }
  });

  it('reads an empty file as no datagrams', async () => {
    expect((await collect(await file('empty', new Uint8Array(0)))).out).toEqual([]);
  });
});
