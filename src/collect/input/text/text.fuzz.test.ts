import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from './lines.ts';
import {
  createTextLineParser,
  MAX_TEXT_LINE_BYTES,
  readTextRecords,
  sniffText,
  TEXT_KINDS,
  TEXT_SNIFF_BYTES,
  TextFormatError,
  type LineResult,
} from './index.ts';

const dir = join(import.meta.dirname, 'testdata');
const FIXTURES: Record<string, string> = {
  'zeek-conn-tsv': 'zeek-conn.log',
  'zeek-dns-tsv': 'zeek-dns.log',
  'zeek-conn-json': 'zeek-conn.json',
  'zeek-dns-json': 'zeek-dns.json',
  'argus-csv': 'argus-epoch.csv',
  'nfdump-csv': 'nfdump-1.7.1.csv',
};
const RESULT_KINDS = new Set(['record', 'header', 'none', 'skip', 'error']);

/** A real fixture's lines with characters replaced, inserted or cut at random. */
const mutatedLines = (lines: string[]): fc.Arbitrary<string[]> =>
  fc
    .array(
      fc.record({
        line: fc.nat(lines.length - 1),
        at: fc.nat(400),
        cut: fc.nat(8),
        text: fc.string({
          maxLength: 6,
          unit: fc.constantFrom(',', '\t', '-', '.', ':', '0', '9', 'x', ' ', '"', '{', '}'),
        }),
      }),
      { maxLength: 12 },
    )
    .map((muts) => {
      const out = [...lines];
      for (const m of muts) {
        const l = out[m.line] ?? '';
        const at = Math.min(m.at, l.length);
        out[m.line] = l.slice(0, at) + m.text + l.slice(at + m.cut);
      }
      return out;
    });

describe('text line parsers (property)', () => {
  for (const kind of TEXT_KINDS) {
    const lines = readFileSync(join(dir, FIXTURES[kind]!), 'utf8').split('\n');
    it(`${kind}: random and mutated lines give a typed result, never an exception`, () => {
      fc.assert(
        fc.property(
          fc.oneof(mutatedLines(lines), fc.array(fc.string({ maxLength: 300 }), { maxLength: 20 })),
          (ls) => {
            const parser = createTextLineParser(kind);
            ls.forEach((l, i) => {
              const r: LineResult<unknown> = parser.line(l, i + 1);
              expect(RESULT_KINDS.has(r.kind)).toBe(true);
              if (r.kind === 'record') {
                expect(r.record.observation.sequence).toBe(i + 1);
                expect(JSON.stringify(r.record.fields)).not.toContain('NaN');
              }
            });
          },
        ),
        { numRuns: 300 },
      );
    });
  }
});

describe('text sniffer (property)', () => {
  it('never throws and answers a known kind or nothing, for random bytes and mutated fixtures', () => {
    const heads = Object.values(FIXTURES).map((f) => readFileSync(join(dir, f)));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 2 * TEXT_SNIFF_BYTES }),
          fc
            .tuple(fc.constantFrom(...heads), fc.nat(), fc.uint8Array({ maxLength: 8 }))
            .map(([h, at, ins]) => {
              const o = at % (h.length + 1);
              return Buffer.concat([h.subarray(0, o), ins, h.subarray(o)]);
            }),
        ),
        fc.boolean(),
        (bytes, complete) => {
          const k = sniffText(bytes, complete);
          expect(k === undefined || TEXT_KINDS.includes(k)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('line splitter (property)', () => {
  it('respects the line limit, numbers every line and loses no line, whatever the chunking', () => {
    const max = 64;
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 100, unit: fc.constantFrom('a', 'é', '\r', '\n', ',') }), {
          maxLength: 20,
        }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }),
        (parts, sizes) => {
          const bytes = new TextEncoder().encode(parts.join(''));
          const s = new LineSplitter(max);
          const out = [];
          let o = 0;
          let i = 0;
          while (o < bytes.length) {
            const n = sizes[i++ % sizes.length]!;
            out.push(...s.push(bytes.subarray(o, o + n)));
            o += n;
          }
          out.push(...s.end());
          const text = new TextDecoder().decode(bytes);
          const expected = text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
          expect(out.length).toBe(expected);
          out.forEach((l, j) => {
            expect(l.line).toBe(j + 1);
            if ('text' in l) expect(new TextEncoder().encode(l.text).length).toBeLessThanOrEqual(max);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('defaults to the named limit', () => {
    const s = new LineSplitter();
    const long = new Uint8Array(MAX_TEXT_LINE_BYTES + 2).fill(0x61);
    const got = [...s.push(long), ...s.push(new Uint8Array([0x0a, 0x62, 0x0a]))];
    expect(got).toEqual([
      { line: 1, tooLong: true },
      { line: 2, text: 'b' },
    ]);
  });
});

describe('readTextRecords (property)', () => {
  it('reads mutated files to the end with only typed outcomes, counting every line', async () => {
    const bytes = readFileSync(join(dir, 'zeek-conn.log'), 'utf8').split('\n');
    await fc.assert(
      fc.asyncProperty(
        mutatedLines(bytes),
        fc.constantFrom<'auto' | 'zeek-conn-tsv'>('auto', 'zeek-conn-tsv'),
        async (ls, kind) => {
          const stats = { lines: 0, records: 0, malformed: 0, skipped: 0 };
          try {
            for await (const r of readTextRecords([ls.join('\n')], kind, { stats }))
              expect(r.protocol).toBe('zeek');
          } catch (e) {
            expect(e).toBeInstanceOf(TextFormatError);
            return;
          }
          expect(stats.records + stats.malformed + stats.skipped).toBeLessThanOrEqual(stats.lines);
          expect(stats.lines).toBe(ls.join('\n').endsWith('\n') ? ls.length - 1 : ls.length);
        },
      ),
      { numRuns: 100 },
    );
  });
});
