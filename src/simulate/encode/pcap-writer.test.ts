import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodePcap } from './pcap-writer.ts';

const hasTshark = (() => {
  try {
    execFileSync('tshark', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    // Under ACD_REQUIRE_SERVICES=1 (CI) a missing tool is a failure, not a skip (CONVENTIONS 11).
    if (process.env.ACD_REQUIRE_SERVICES === '1')
      throw new Error('tshark is required (apt-get install tshark)');
    return false;
  }
})();

describe('pcap writer', () => {
  it.skipIf(!hasTshark)('writes captures tshark reads, with correct IPv4/IPv6 and UDP headers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'acd-pcap-'));
    for (const linkType of ['ethernet', 'raw'] as const) {
      const file = join(dir, `${linkType}.pcap`);
      writeFileSync(
        file,
        encodePcap(
          [
            {
              timeMs: 1_767_225_600_123.456,
              src: '127.0.0.2',
              srcPort: 40000,
              dst: '127.0.0.1',
              dstPort: 4739,
              payload: new Uint8Array(100).fill(7),
            },
            {
              timeMs: 1_767_225_601_000,
              src: '2001:db8::2',
              srcPort: 40001,
              dst: '2001:db8::1',
              dstPort: 6343,
              payload: new Uint8Array(33),
            },
          ],
          { linkType },
        ),
      );
      const out = execFileSync(
        'tshark',
        [
          '-r',
          file,
          '-o',
          'ip.check_checksum:TRUE',
          '-o',
          'udp.check_checksum:TRUE',
          '-T',
          'fields',
          '-e',
          'frame.time_epoch',
          '-e',
          'ip.src',
          '-e',
          'ipv6.src',
          '-e',
          'udp.dstport',
          '-e',
          'udp.length',
          '-e',
          'ip.checksum.status',
          '-e',
          'udp.checksum.status',
          '-e',
          '_ws.expert',
        ],
        { encoding: 'utf8' },
      );
      const lines = out
        .trim()
        .split('\n')
        .map((l) => l.split('\t'));
      expect(lines).toHaveLength(2);
      expect(lines[0]!.slice(1, 5)).toEqual(['127.0.0.2', '', '4739', '108']);
      expect(lines[0]![0]).toMatch(/^1767225600\.12345/);
      expect(lines[0]![5]).toBe('1'); // tshark: 0 bad, 1 good, 2 unverified
      expect(lines[1]!.slice(1, 5)).toEqual(['', '2001:db8::2', '6343', '41']);
      expect(lines[1]![6]).toBe('1');
      expect(lines.map((l) => l[7] ?? '')).toEqual(['', '']);
    }
  });
});
