import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkExportHeader, recogniseExportDatagram, sniff } from './sniff.ts';
import { concat, ipfixMessage, pcapFile, shb, v5Message, v9Message } from './testdata/build.ts';

describe('content sniffing', () => {
  it('recognises captures by magic, never by name', () => {
    expect(sniff(pcapFile(1, []))).toEqual({ kind: 'pcap', littleEndian: true, nanosecond: false });
    expect(sniff(pcapFile(1, [], false, true))).toEqual({
      kind: 'pcap',
      littleEndian: false,
      nanosecond: true,
    });
    expect(sniff(shb(true))).toEqual({ kind: 'pcapng', littleEndian: true });
    expect(sniff(shb(false))).toEqual({ kind: 'pcapng', littleEndian: false });
  });

  it('recognises raw export files by a plausible first header', () => {
    expect(sniff(ipfixMessage(1, 8))).toEqual({ kind: 'raw-export', protocol: 'ipfix' });
    expect(sniff(v9Message(1, 8))).toEqual({ kind: 'raw-export', protocol: 'netflow9' });
    expect(sniff(v5Message(2))).toEqual({ kind: 'raw-export', protocol: 'netflow5' });
  });

  it('says unknown for text, other binaries and empty files', () => {
    expect(sniff(new TextEncoder().encode('ts,src,dst\n1,2,3\n'))).toEqual({
      kind: 'unknown',
      reason: 'unrecognised',
    });
    expect(sniff(new Uint8Array(0))).toEqual({ kind: 'unknown', reason: 'empty' });
    expect(sniff(Uint8Array.of(0, 5, 0, 0))).toEqual({ kind: 'unknown', reason: 'unrecognised' });
  });

  it('recognises whole export datagrams strictly', () => {
    expect(recogniseExportDatagram(ipfixMessage(1, 8))).toBe('ipfix');
    expect(recogniseExportDatagram(v9Message(1, 8))).toBe('netflow9');
    expect(recogniseExportDatagram(v5Message(1))).toBe('netflow5');
    expect(recogniseExportDatagram(concat(ipfixMessage(1, 8), Uint8Array.of(0)))).toBeUndefined();
    expect(recogniseExportDatagram(v5Message(2).subarray(0, 100))).toBeUndefined();
    expect(recogniseExportDatagram(concat(v9Message(1, 8), Uint8Array.of(1, 2, 3, 4, 5)))).toBeUndefined();
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat(100), (b, off) => {
        sniff(b);
        recogniseExportDatagram(b);
        const h = checkExportHeader(b, Math.min(off, b.length));
        if (typeof h === 'object' && 'length' in h) expect(h.length).toBeLessThanOrEqual(65_535);
      }),
      { numRuns: 2000 },
    );
  });
});
