import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Fields } from '../../../common/schema/index.ts';
import {
  decodeDnsMessageToFields,
  DnsParseError,
  MAX_ANSWERS_KEPT,
  MAX_LABELS,
  MAX_POINTER_HOPS,
  MAX_RECORDS_PER_SECTION,
  parseDnsMessage,
  type DnsParseResult,
} from './index.ts';

interface Captured {
  time: number;
  src: string;
  dst: string;
  transport: 'udp' | 'tcp';
  hex: string;
}

/** DNS messages of real dig traffic against unbound on lo (see testdata/README.md). */
const captured = JSON.parse(
  readFileSync(new URL('./testdata/dig-messages.json', import.meta.url), 'utf8'),
) as Captured[];
const msg = (i: number): Uint8Array => Buffer.from(captured[i]!.hex, 'hex');
const fieldsOf = (b: Uint8Array): { r: DnsParseResult; f: Fields } => {
  const f: Fields = {};
  const r = decodeDnsMessageToFields(b, f);
  return { r, f };
};

/** Builds a message from a header and raw section bytes. */
function message(
  h: { id?: number; flags?: number; qd?: number; an?: number; ns?: number; ar?: number },
  body: number[],
): Uint8Array {
  const b = [
    (h.id ?? 0x1234) >> 8,
    (h.id ?? 0x1234) & 255,
    (h.flags ?? 0x8180) >> 8,
    (h.flags ?? 0x8180) & 255,
    0,
    h.qd ?? 0,
    0,
    h.an ?? 0,
    0,
    h.ns ?? 0,
    0,
    h.ar ?? 0,
    ...body,
  ];
  return Uint8Array.from(b);
}
const label = (s: string): number[] => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];

describe('dns message parser on real dig traffic', () => {
  it('reads every captured message completely', () => {
    expect(captured).toHaveLength(38);
    for (let i = 0; i < captured.length; i++) expect(parseDnsMessage(msg(i)).status).toBe('ok');
  });

  it('decodes a query with EDNS into whole fields', () => {
    expect(fieldsOf(msg(0)).f).toEqual({
      dnsId: 18314,
      dnsIsResponse: false,
      dnsOpcode: 0,
      dnsFlags: 'rd ad',
      dnsTruncated: false,
      dnsQueryName: 'www.lab.test',
      dnsQueryType: 1,
      dnsQueryTypeName: 'A',
      dnsQueryClass: 1,
      dnsQuestionCount: 1,
      dnsAnswerCount: 0,
      dnsAuthorityCount: 0,
      dnsAdditionalCount: 1,
      dnsMessageSize: 53,
      dnsEdnsUdpSize: 1232,
      dnsEdnsVersion: 0,
      dnsEdnsDo: false,
    });
  });

  it('decodes an A response with compressed owner names', () => {
    expect(fieldsOf(msg(1)).f).toEqual({
      dnsId: 18314,
      dnsIsResponse: true,
      dnsOpcode: 0,
      dnsFlags: 'qr aa rd ra',
      dnsTruncated: false,
      dnsQueryName: 'www.lab.test',
      dnsQueryType: 1,
      dnsQueryTypeName: 'A',
      dnsQueryClass: 1,
      dnsQuestionCount: 1,
      dnsAnswerCount: 2,
      dnsAuthorityCount: 0,
      dnsAdditionalCount: 1,
      dnsMessageSize: 73,
      dnsResponseCode: 0,
      dnsResponseCodeName: 'NOERROR',
      dnsAnswers: [
        { name: 'www.lab.test', type: 1, ttl: 300, data: '192.0.2.11' },
        { name: 'www.lab.test', type: 1, ttl: 300, data: '192.0.2.10' },
      ],
      dnsTxtCount: 0,
      dnsTxtBytes: 0,
      dnsEdnsUdpSize: 1232,
      dnsEdnsVersion: 0,
      dnsEdnsDo: false,
    });
  });

  it('reports NXDOMAIN with the SOA in the authority section', () => {
    const { r, f } = fieldsOf(msg(7));
    expect(f).toMatchObject({
      dnsQueryName: 'nx.lab.test',
      dnsResponseCode: 3,
      dnsResponseCodeName: 'NXDOMAIN',
      dnsAnswers: [],
    });
    expect(r.message?.authorities).toEqual([
      {
        name: 'lab.test',
        type: 6,
        class: 1,
        ttl: 300,
        rdlength: 39,
        data: 'ns1.lab.test',
        serial: 2024010101,
        minimum: 300,
      },
    ]);
  });

  it('follows a CNAME chain to the address (forwarded answer)', () => {
    expect(fieldsOf(msg(29)).f.dnsAnswers).toEqual([
      { name: 'alias.fwd.test', type: 5, ttl: 120, data: 'www.fwd.test' },
      { name: 'www.fwd.test', type: 28, ttl: 300, data: '2001:db8::80' },
    ]);
  });

  it('keeps MX, SRV and PTR targets', () => {
    expect(parseDnsMessage(msg(9)).message?.answers[0]).toEqual({
      name: 'lab.test',
      type: 15,
      class: 1,
      ttl: 3600,
      rdlength: 9,
      preference: 10,
      data: 'mail.lab.test',
    });
    expect(parseDnsMessage(msg(15)).message?.answers[0]).toMatchObject({
      type: 33,
      priority: 10,
      weight: 60,
      port: 5060,
      data: 'sip.lab.test',
    });
    expect(fieldsOf(msg(19)).f).toMatchObject({
      dnsQueryName: '10.2.0.192.in-addr.arpa',
      dnsAnswers: [{ type: 12, data: 'www.lab.test' }],
    });
  });

  it('counts TXT strings and bytes without keeping their contents', () => {
    const { f } = fieldsOf(msg(25));
    expect(f).toMatchObject({ dnsTxtCount: 3, dnsTxtBytes: 720, dnsMessageSize: 800 });
    expect(JSON.stringify(f)).not.toContain('aaaa');
  });

  it('reports the TC flag of a truncated UDP answer', () => {
    expect(fieldsOf(msg(23)).f).toMatchObject({
      dnsFlags: 'qr aa tc rd ra',
      dnsTruncated: true,
      dnsAnswerCount: 0,
    });
  });

  it('lower-cases the query name of a mixed-case query', () => {
    expect(fieldsOf(msg(20)).f).toMatchObject({ dnsQueryName: 'www.lab.test', dnsMessageSize: 30 });
    expect(fieldsOf(msg(20)).f.dnsEdnsUdpSize).toBeUndefined();
  });

  it('reads the DO bit', () => {
    expect(fieldsOf(msg(34)).f).toMatchObject({ dnsEdnsDo: true, dnsEdnsUdpSize: 1232 });
  });

  it('yields what could be read from a message cut short, with a truncated error', () => {
    const full = msg(1);
    const { r, f } = fieldsOf(full.subarray(0, 50));
    expect(r.status).toBe('truncated');
    expect(r.error).toBeInstanceOf(DnsParseError);
    expect(r.error?.reason).toBe('truncated');
    expect(r.message?.answers).toHaveLength(1);
    expect(f).toMatchObject({
      dnsQueryName: 'www.lab.test',
      dnsMalformed: 'truncated',
      dnsAnswers: [{ data: '192.0.2.11' }],
    });
  });

  it('reports a message shorter than the header', () => {
    const { r, f } = fieldsOf(Uint8Array.of(1, 2, 3));
    expect(r).toMatchObject({ status: 'truncated', message: undefined });
    expect(r.error?.reason).toBe('short-header');
    expect(f).toEqual({ dnsMessageSize: 3, dnsMalformed: 'short-header' });
  });
});

describe('dns message parser on hostile input', () => {
  it('refuses a pointer to itself (a loop)', () => {
    const r = parseDnsMessage(message({ qd: 1 }, [0xc0, 12, 0, 1, 0, 1]));
    expect(r.status).toBe('malformed');
    expect(r.error?.reason).toBe('pointer-invalid');
  });

  it('refuses forward pointers and pointers into the header', () => {
    expect(parseDnsMessage(message({ qd: 1 }, [0xc0, 14, 0, 0, 0, 1, 0, 1])).error?.reason).toBe(
      'pointer-invalid',
    );
    expect(parseDnsMessage(message({ qd: 1 }, [0xc0, 2, 0, 1, 0, 1])).error?.reason).toBe('pointer-invalid');
  });

  it('stops a long chain of backward pointers at MAX_POINTER_HOPS', () => {
    // Question: the root name at 12. Answer 1 (owner root at 17, RDATA from 28) carries a chain of
    // n pointers, each to the one before (the first to 12); answer 2's owner points to the last,
    // so reading it takes n + 1 hops.
    const chained = (n: number): DnsParseResult => {
      const chain: number[] = [];
      for (let k = 0; k < n; k++) chain.push(0xc0, k === 0 ? 12 : 28 + 2 * (k - 1));
      const last = 28 + 2 * (n - 1);
      const body = [0, 0, 1, 0, 1, 0, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, chain.length, ...chain];
      body.push(0xc0 | (last >> 8), last & 255, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 0, 0, 1);
      return parseDnsMessage(message({ qd: 1, an: 2 }, body));
    };
    const ok = chained(MAX_POINTER_HOPS - 1);
    expect(ok.status).toBe('ok');
    expect(ok.message?.answers[1]).toMatchObject({ name: '.', data: '10.0.0.1' });
    const tooMany = chained(MAX_POINTER_HOPS);
    expect(tooMany.status).toBe('malformed');
    expect(tooMany.error?.reason).toBe('pointer-loop');
    expect(tooMany.message?.answers).toHaveLength(1);
  });

  it('refuses names longer than 255 octets and with more than 127 labels', () => {
    const long = [
      ...label('a'.repeat(63)),
      ...label('b'.repeat(63)),
      ...label('c'.repeat(63)),
      ...label('d'.repeat(63)),
      0,
    ];
    expect(parseDnsMessage(message({ qd: 1 }, [...long, 0, 1, 0, 1])).error?.reason).toBe('name-too-long');
    const many: number[] = [];
    for (let i = 0; i < MAX_LABELS + 1; i++) many.push(...label('x'));
    expect(parseDnsMessage(message({ qd: 1 }, [...many, 0, 0, 1, 0, 1])).error?.reason).toBe(
      'too-many-labels',
    );
    // 127 one-octet labels are exactly 255 octets: the label cap and the length cap agree.
    expect(MAX_LABELS * 2 + 1).toBe(255);
  });

  it('refuses extended label types', () => {
    expect(parseDnsMessage(message({ qd: 1 }, [0x41, 0, 0, 1, 0, 1])).error?.reason).toBe('bad-label-type');
  });

  it('reports counts beyond MAX_RECORDS_PER_SECTION', () => {
    const body: number[] = [];
    for (let i = 0; i < MAX_RECORDS_PER_SECTION + 1; i++) body.push(0, 0, 1, 0, 1);
    const m = message({ qd: 0 }, body);
    m[4] = (MAX_RECORDS_PER_SECTION + 1) >> 8;
    m[5] = (MAX_RECORDS_PER_SECTION + 1) & 255;
    const r = parseDnsMessage(m);
    expect(r.error?.reason).toBe('too-many-records');
    expect(r.message?.questions).toHaveLength(MAX_RECORDS_PER_SECTION);
  });

  it('keeps a record with undecodable RDATA without data and goes on', () => {
    const body = [
      0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 3, 1, 2, 3, 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1,
    ];
    const r = parseDnsMessage(message({ qd: 1, an: 2 }, body));
    expect(r.status).toBe('malformed');
    expect(r.error?.reason).toBe('bad-rdata');
    expect(r.message?.answers.map((a) => a.data)).toEqual([undefined, '10.0.0.1']);
  });

  it('combines the EDNS extended RCODE with the header RCODE (BADVERS)', () => {
    // OPT: root owner, type 41, class 4096, TTL = ext rcode 1, version 0, DO set.
    const body = [0, 0, 41, 0x10, 0, 1, 0, 0x80, 0, 0, 4, 0, 10, 0, 0];
    const { f } = fieldsOf(message({ flags: 0x8000, ar: 1 }, body));
    expect(f).toMatchObject({
      dnsResponseCode: 16,
      dnsResponseCodeName: 'BADVERS',
      dnsEdnsUdpSize: 4096,
      dnsEdnsDo: true,
    });
  });

  it('escapes non-printable and dot octets in labels', () => {
    const r = parseDnsMessage(message({ qd: 1 }, [3, 0x41, 0x2e, 0x07, 2, 0x5c, 0x20, 0, 0, 16, 0, 1]));
    expect(r.message?.questions[0]?.name).toBe('a\\.\\007.\\\\\\032');
  });

  it('caps the answers copied into fields at MAX_ANSWERS_KEPT', () => {
    const body = [0, 0, 1, 0, 1];
    for (let i = 0; i < MAX_ANSWERS_KEPT + 5; i++)
      body.push(0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 10, 0, 0, i);
    const { f } = fieldsOf(message({ qd: 1, an: MAX_ANSWERS_KEPT + 5 }, body));
    expect(f.dnsAnswers).toHaveLength(MAX_ANSWERS_KEPT);
    expect(f.dnsAnswerCount).toBe(MAX_ANSWERS_KEPT + 5);
  });
});

/** Invariants every parse result must hold, whatever the input. */
function checkInvariants(bytes: Uint8Array): void {
  const r = parseDnsMessage(bytes);
  if (r.status !== 'ok') {
    expect(r.error).toBeInstanceOf(DnsParseError);
    expect(r.error.reason).not.toBe('internal');
  }
  const m = r.message;
  if (!m) return;
  expect(m.questions.length).toBeLessThanOrEqual(MAX_RECORDS_PER_SECTION);
  expect(m.answers.length).toBeLessThanOrEqual(MAX_RECORDS_PER_SECTION);
  for (const q of m.questions) expect(q.name.split('.').length).toBeLessThanOrEqual(MAX_LABELS);
  const f: Fields = {};
  decodeDnsMessageToFields(bytes, f);
  if (Array.isArray(f.dnsAnswers)) expect(f.dnsAnswers.length).toBeLessThanOrEqual(MAX_ANSWERS_KEPT);
}

describe('dns message parser properties', () => {
  it('never throws on random bytes and keeps its limits', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (b) => checkInvariants(b)),
      { numRuns: 2000 },
    );
  });

  it('never throws on mutated real messages (pointers, counts, lengths)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: captured.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        (i, edits, cut) => {
          const b = Uint8Array.from(msg(i));
          for (const [pos, v] of edits) b[pos % b.length] = v;
          checkInvariants(b);
          checkInvariants(b.subarray(0, cut % (b.length + 1)));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('terminates on messages made only of compression pointers', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 200 }), (targets) => {
        const body: number[] = [];
        for (const t of targets) body.push(0xc0 | (t >> 8), t & 255);
        checkInvariants(message({ qd: 3, an: 10, ns: 10, ar: 10 }, body));
      }),
      { numRuns: 1000 },
    );
  });
});
