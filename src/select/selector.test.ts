import { describe, expect, it } from 'vitest';
import { legalParametersFrom, shippedLegalParameterFile } from '../common/legal/index.ts';
import { parseIpv4 } from '../common/prefixes/index.ts';
import type { SelectedRecord } from '../common/schema/selected.ts';
import { isValidSelectedRecord, selectedRecordProblem } from './allowlist.ts';
import { demoSelectionConfig } from './demo.ts';
import { HASHED_NAME_SUFFIX } from './dns.ts';
import { FeedActivationError } from './errors.ts';
import type { FeedConfig } from './config.ts';
import {
  agreement,
  allChannelFeeds,
  approval,
  batchOf,
  dnsOf,
  NOW,
  recordOf,
  revocation,
  T_EVENT,
  testEngine,
  testTable,
  type TestFlow,
} from './testing.ts';

// Addresses of the test table: JP (domestic) 133/8, 2001:200::/23; US 8/8, 2600::/12; DE 5/8, 2a00::/12.
const JP = '133.2.3.4';
const JP_OP = '133.1.0.9'; // inside operator op-1's agreement ranges
const US = '8.8.4.4';
const DE = '5.6.7.8';
const JP6 = '2001:200:5::1';
const JP6_OP = '2001:200:1::53';
const US6 = '2600:1::1';
const DE6 = '2a00:1::2';

function one(
  flows: TestFlow[],
  e = testEngine(),
): { recs: SelectedRecord[]; dropped: Record<string, number> } {
  const { selected, stats } = e.engine.selectBatch(batchOf(flows));
  return { recs: selected.toRecords(), dropped: stats.dropped };
}

describe('selection: channel direction rules (R-FEED-3, R-FEED-4)', () => {
  it('transit takes foreign<->foreign only', () => {
    const feeds = allChannelFeeds().feeds.filter((f) => f.id === 'f-transit');
    const e = testEngine({ feeds });
    const { recs, dropped } = one(
      [
        { src: US, dst: DE },
        { src: US, dst: JP },
        { src: JP, dst: US },
      ],
      e,
    );
    expect(recs.map((r) => r.provenance.channel)).toEqual(['transit-foreign-to-foreign']);
    expect(dropped['direction-mismatch']).toBe(2);
  });

  it('drops domestic<->domestic on every communications channel, special and unknown space included', () => {
    const { recs, dropped } = one([
      { src: JP, dst: '133.9.9.9' },
      { src: '10.0.0.1', dst: JP }, // RFC 1918 counts as domestic
      { src: '200.1.2.3', dst: '100.64.0.1' }, // unknown space and CGNAT count as domestic
    ]);
    expect(recs).toHaveLength(0);
    expect(dropped['domestic-domestic']).toBe(3);
  });

  it('specified foreign->domestic and domestic->foreign follow the record direction', () => {
    const feeds = allChannelFeeds().feeds.filter((f) => f.id === 'f-in' || f.id === 'f-out');
    const { recs } = one(
      [
        { src: US, dst: JP },
        { src: JP, dst: US },
        { src: '10.1.1.1', dst: DE },
      ],
      testEngine({ feeds }),
    );
    expect(recs.map((r) => r.provenance.channel)).toEqual([
      'specified-foreign-to-domestic',
      'specified-domestic-to-foreign',
      'specified-domestic-to-foreign',
    ]);
    expect(recs[2]!.source.country).toBe('ZZ');
    expect(recs[2]!.source.pseudonymised).toBe(true);
  });

  it('agreement takes foreign -> operator ranges only, never the reverse direction', () => {
    const feeds = allChannelFeeds().feeds.filter((f) => f.id === 'f-agreement');
    const { recs, dropped } = one(
      [
        { src: US, dst: JP_OP },
        { src: US, dst: JP },
        { src: JP_OP, dst: US },
        { src: US6, dst: JP6_OP },
      ],
      testEngine({ feeds }),
    );
    expect(recs.map((r) => r.provenance.channel)).toEqual([
      'agreement-foreign-to-domestic',
      'agreement-foreign-to-domestic',
    ]);
    expect(recs[0]!.provenance.approvalId).toBe('agr-agreement-foreign-to-domestic');
    expect(recs[0]!.provenance.selectorIds).toEqual(['agreement:agr-agreement-foreign-to-domestic']);
    expect(dropped['direction-mismatch']).toBe(2);
  });

  it('operator telemetry takes records touching the operator, domestic clients of its resolver included', () => {
    const feeds = allChannelFeeds().feeds.filter((f) => f.id === 'f-telemetry');
    const e = testEngine({ feeds });
    const { records, stats } = e.engine.selectRecords([
      dnsOf(JP, JP_OP), // domestic client asking the operator's resolver
      dnsOf(JP, '133.7.7.7'), // another resolver: not the operator's system
      dnsOf(JP6, JP6_OP),
    ]);
    expect(records.map((r) => r.provenance.channel)).toEqual(['operator-telemetry', 'operator-telemetry']);
    expect(records.every((r) => r.source.pseudonymised && r.destination.pseudonymised)).toBe(true);
    expect(stats.dropped['direction-mismatch']).toBe(1);
  });

  it('attributes each record to the first feed that takes it and reports the furthest reason', () => {
    const e = testEngine();
    const { selected, stats } = e.engine.selectBatch(
      batchOf([
        { src: US, dst: DE },
        { src: US, dst: JP_OP },
        { src: US, dst: JP },
        { src: JP, dst: US },
        { src: JP, dst: JP },
      ]),
    );
    expect(selected.toRecords().map((r) => r.provenance.feedId)).toEqual([
      'f-transit',
      'f-agreement',
      'f-in',
      'f-out',
    ]);
    expect(stats).toMatchObject({ in: 5, selected: 4 });
    expect(stats.dropped['domestic-domestic']).toBe(1);
    const transit = stats.feeds.find((f) => f.feedId === 'f-transit')!;
    expect(transit).toMatchObject({ in: 5, selected: 1 });
    expect(transit.dropped['direction-mismatch']).toBe(3);
  });
});

describe('selection: selectors (R-SEL-3)', () => {
  const telnet = approval('specified-foreign-to-domestic', {
    selectors: [
      {
        id: 's-telnet-syn',
        kind: 'target-act',
        protocol: 6,
        ports: [23, 2323],
        tcpFlags: { mask: 0x12, value: 0x02 },
        direction: 'inbound',
      },
      { id: 's-c2', kind: 'indicator-list', values: ['8.8.4.0/24', '2600:1::1', 'evil.example'] },
      { id: 's-ref', kind: 'indicator-list', listRef: 'lists/c2.txt' },
    ],
  });
  const feeds: FeedConfig[] = [
    {
      id: 'f-in',
      providerId: 'prov-a',
      channel: 'specified-foreign-to-domestic',
      approvalIds: ['appr-specified-foreign-to-domestic'],
      exporters: 'all',
    },
  ];
  const e = (): ReturnType<typeof testEngine> =>
    testEngine({
      feeds,
      documents: [telnet],
      indicatorLists: { 'lists/c2.txt': ['5.6.7.8', 'bad.example'] },
    });

  it('matches a target-act signature: TCP SYN from abroad to 23/2323', () => {
    const { recs, dropped } = one(
      [
        { src: DE, dst: JP, dport: 23, flags: 0x02 },
        { src: '5.1.1.1', dst: JP, dport: 2323, flags: 0x02 },
        { src: '5.1.1.1', dst: JP, dport: 80, flags: 0x02 },
        { src: '5.1.1.1', dst: JP, dport: 23, flags: 0x12 },
        { src: '5.1.1.1', dst: JP, dport: 23, proto: 17 },
      ],
      e(),
    );
    expect(recs.map((r) => r.provenance.selectorIds)).toEqual([['s-telnet-syn', 's-ref'], ['s-telnet-syn']]);
    expect(dropped['no-selector']).toBe(3);
  });

  it('matches indicator lists: prefixes, addresses (IPv6), referenced lists and domains in DNS events', () => {
    const { recs } = one(
      [
        { src: '8.8.4.1', dst: JP },
        { src: US6, dst: JP6 },
        { src: DE, dst: JP },
        { src: '8.9.9.9', dst: JP },
      ],
      e(),
    );
    expect(recs.map((r) => r.provenance.selectorIds)).toEqual([['s-c2'], ['s-c2'], ['s-ref']]);
    const dns = e().engine.selectRecords([
      dnsOf('5.9.9.9', JP, { dnsQueryName: 'x.evil.example' }),
      dnsOf('5.9.9.9', JP, { dnsQueryName: 'good.example' }),
      dnsOf('5.9.9.9', JP, { dnsAnswers: [{ name: 'q.jp', type: 5, ttl: 60, data: 'a.bad.example' }] }),
    ]);
    expect(dns.records.map((r) => r.provenance.selectorIds)).toEqual([['s-c2'], ['s-ref']]);
  });

  it('refuses a feed whose indicator list is not loaded', () => {
    const t = testEngine({ feeds, documents: [telnet] });
    expect(t.engine.feeds()[0]).toMatchObject({ state: 'refused', code: 'ERR_FEED_INDICATORS' });
  });
});

describe('selection: basis, event-time window, expiry and revocation (R-FEED-2)', () => {
  const feeds = allChannelFeeds().feeds.filter((f) => f.id === 'f-transit');
  const docs = [approval('transit-foreign-to-foreign')];

  it('checks each record event time against the approval window', () => {
    const t = testEngine({ feeds, documents: docs });
    const before = Date.parse('2025-12-31T23:59:59.999Z');
    const { recs, dropped } = one(
      [
        { src: US, dst: DE, end: before, start: before - 10 },
        { src: US, dst: DE },
        { src: US, dst: DE, end: Date.parse('2026-07-01T00:00:00.000Z') },
      ],
      t,
    );
    expect(recs).toHaveLength(1);
    expect(dropped['approval-window']).toBe(2);
  });

  it('keeps taking in-window records for stopGraceMs after expiry, then stops the feed', () => {
    const t = testEngine({
      feeds,
      documents: docs,
      now: Date.parse('2026-06-30T23:59:00.000Z'),
      config: { stopGraceMs: '10m' },
    });
    const late = Date.parse('2026-06-30T23:58:00.000Z');
    t.clock.set(Date.parse('2026-07-01T00:05:00.000Z'));
    expect(one([{ src: US, dst: DE, end: late, start: late }], t).recs).toHaveLength(1);
    t.clock.set(Date.parse('2026-07-01T00:10:00.000Z'));
    const r = one([{ src: US, dst: DE, end: late, start: late }], t);
    expect(r.recs).toHaveLength(0);
    expect(r.dropped['feed-inactive']).toBe(1);
    expect(t.engine.feeds()[0]!.state).toBe('stopped');
    expect(t.events.find((x) => x.type === 'feed-stopped')).toMatchObject({
      feedId: 'f-transit',
      reason: 'expired',
    });
  });

  it('applies a signed revocation: later event times are dropped at once, the feed stops after the grace', () => {
    const t = testEngine({ feeds, documents: docs, config: { stopGraceMs: '1m' } });
    const res = t.engine.applyRevocation(
      revocation('appr-transit-foreign-to-foreign', '2026-02-28T00:00:00.000Z'),
    );
    expect(res).toMatchObject({ ok: true, feedIds: ['f-transit'] });
    const r = one(
      [
        { src: US, dst: DE },
        { src: US, dst: DE, end: Date.parse('2026-02-27T00:00:00.000Z') },
      ],
      t,
    );
    // NOW (2026-03-01) is past revocation + grace: the feed has stopped.
    expect(r.recs).toHaveLength(0);
    expect(t.engine.feeds()[0]!.state).toBe('stopped');
    expect(t.events.map((x) => x.type)).toContain('revocation-applied');
  });

  it('drops records timed after a revocation while the feed is still in its grace', () => {
    const t = testEngine({ feeds, documents: docs, config: { stopGraceMs: '1h' } });
    t.engine.applyRevocation(revocation('appr-transit-foreign-to-foreign', '2026-02-28T23:30:00.000Z'));
    const after = Date.parse('2026-02-28T23:45:00.000Z');
    const r = one(
      [
        { src: US, dst: DE },
        { src: US, dst: DE, end: after, start: after },
      ],
      t,
    );
    expect(r.recs).toHaveLength(1);
    expect(r.dropped['approval-window']).toBe(1);
    t.clock.advance(3600_000);
    expect(one([{ src: US, dst: DE }], t).dropped['feed-inactive']).toBe(1);
  });

  it('refuses a revocation that does not verify, with a typed error', () => {
    const t = testEngine({ feeds, documents: docs });
    const doc = revocation('appr-transit-foreign-to-foreign', '2026-02-28T00:00:00.000Z') as {
      payload: { reason: string };
    };
    doc.payload.reason = 'tampered';
    const res = t.engine.applyRevocation(doc);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.code).toBe('ERR_REVOCATION_REFUSED');
    expect(t.engine.feeds()[0]!.state).toBe('active');
  });

  it('refuses feeds without a valid basis, with typed codes, and reports every refusal', () => {
    const tampered = approval('transit-foreign-to-foreign') as { payload: { targetActs: string[] } };
    tampered.payload.targetActs = ['something else'];
    const cases: [unknown[], FeedConfig, string][] = [
      [[], feeds[0]!, 'ERR_FEED_BASIS_MISSING'],
      [[tampered], feeds[0]!, 'ERR_FEED_BASIS_INVALID'],
      [[approval('transit-foreign-to-foreign', { providers: ['prov-b'] })], feeds[0]!, 'ERR_FEED_SCOPE'],
      [[approval('transit-foreign-to-foreign', { feeds: ['other-feed'] })], feeds[0]!, 'ERR_FEED_SCOPE'],
      [[approval('transit-foreign-to-foreign', { kind: 'police-measure' })], feeds[0]!, 'ERR_FEED_SCOPE'],
      [
        [approval('transit-foreign-to-foreign', { validUntil: '2026-02-01T00:00:00.000Z' })],
        feeds[0]!,
        'ERR_FEED_EXPIRED',
      ],
      [
        [approval('specified-foreign-to-domestic', { id: 'appr-transit-foreign-to-foreign' })],
        feeds[0]!,
        'ERR_FEED_SCOPE',
      ],
    ];
    for (const [documents, feed, code] of cases) {
      const t = testEngine({ feeds: [feed], documents });
      expect(t.engine.feeds()[0]).toMatchObject({ state: 'refused', code });
      expect(t.events.find((x) => x.type === 'feed-refused')).toMatchObject({ code, feedId: feed.id });
      expect(one([{ src: US, dst: DE }], t).dropped['feed-inactive']).toBe(1);
    }
  });

  it('refuses the demonstration documents unless the edge runs in demo or eval mode', () => {
    const demo = demoSelectionConfig('JP');
    for (const mode of ['production', 'demo', 'eval'] as const) {
      const t = testEngine({ feeds: demo.config.feeds, documents: demo.documents, config: { mode } });
      const states = t.engine.feeds().map((f) => f.state);
      if (mode === 'production') {
        expect(states.every((s) => s === 'refused')).toBe(true);
        expect(t.engine.feeds()[0]!.code).toBe('ERR_FEED_DEMO_REFUSED');
        const err = new FeedActivationError('ERR_FEED_DEMO_REFUSED', 'x', 'y');
        expect(err.code).toBe('ERR_FEED_DEMO_REFUSED');
      } else expect(states.every((s) => s === 'active')).toBe(true);
    }
  });
});

describe('selection: pseudonymisation and allow-list (R-SEL-2, R-SEL-4)', () => {
  it('pseudonymises domestic addresses (IPv4 and IPv6) and keeps foreign ones in clear', () => {
    const { recs } = one([
      { src: US, dst: JP },
      { src: US6, dst: JP6 },
      { src: JP, dst: DE },
    ]);
    expect(recs[0]!.fields.sourceIPv4Address).toBe(US);
    expect(recs[0]!.fields.destinationIPv4Address).not.toBe(JP);
    expect(recs[0]!.destination).toEqual({ country: 'JP', asn: 2500, pseudonymised: true });
    expect(recs[0]!.source).toEqual({ country: 'US', asn: 3356, pseudonymised: false });
    expect(recs[1]!.fields.sourceIPv6Address).toBe(US6);
    expect(recs[1]!.fields.destinationIPv6Address).not.toBe(JP6);
    expect(recs[2]!.fields.sourceIPv4Address).not.toBe(JP);
    // Prefix-preserving: two domestic addresses sharing a /24 keep sharing one.
    const p = one([
      { src: US, dst: '133.2.3.5' },
      { src: US, dst: '133.2.3.200' },
    ]).recs;
    const a = parseIpv4(p[0]!.fields.destinationIPv4Address as string)!;
    const b = parseIpv4(p[1]!.fields.destinationIPv4Address as string)!;
    expect(a >>> 8).toBe(b >>> 8);
  });

  it('leaves ranges in clear whose operator agreement waives pseudonymisation', () => {
    const base = allChannelFeeds();
    const docs = base.documents.map((d) =>
      (d as { payload: { id: string } }).payload.id === 'agr-agreement-foreign-to-domestic'
        ? agreement('agreement-foreign-to-domestic', { pseudonymisationWaived: ['133.1.2.0/24'] })
        : d,
    );
    const t = testEngine({ documents: docs });
    const { recs } = one(
      [
        { src: US, dst: '133.1.2.3' },
        { src: US, dst: '133.1.3.3' },
        { src: '133.1.2.4', dst: US },
      ],
      t,
    );
    expect(recs[0]!.fields.destinationIPv4Address).toBe('133.1.2.3');
    expect(recs[0]!.destination.pseudonymised).toBe(false);
    expect(recs[1]!.destination.pseudonymised).toBe(true);
    expect(recs[2]!.fields.sourceIPv4Address).toBe('133.1.2.4');
    // Operators-file waivers count only inside a verified agreement's ranges.
    const t2 = testEngine({
      operators: {
        operators: [
          {
            id: 'op-1',
            ranges: [
              { prefix: '133.1.0.0/16', pseudonymisationWaived: true },
              { prefix: '133.5.0.0/16', pseudonymisationWaived: true },
            ],
            agreement: { status: 'active', id: 'agr-agreement-foreign-to-domestic' },
          },
        ],
      },
    });
    const r2 = one(
      [
        { src: US, dst: '133.1.9.9' },
        { src: US, dst: '133.5.9.9' },
      ],
      t2,
    ).recs;
    expect(r2.map((r) => r.destination.pseudonymised)).toEqual([false, true]);
  });

  it('keeps only allow-listed fields of a decoded record', () => {
    const t = testEngine();
    const rec = recordOf(
      { src: US, dst: JP },
      {
        sourceMacAddress: '00:11:22:33:44:55',
        destinationMacAddress: '00:11:22:33:44:66',
        ipNextHopIPv4Address: '133.9.9.1',
        sourceHostname: 'host.example.jp',
        ipPayloadPacketSection: 'deadbeef',
        interfaceName: 'ge-0/0/1',
        userName: 'alice',
        httpRequestHost: 'www.example.jp',
        bgpSourceAsNumber: 15169,
        vlanId: 10,
        minimumTTL: 30,
        maximumTTL: 64,
        reverseOctetDeltaCount: 99,
      },
    );
    const { records } = t.engine.selectRecords([rec]);
    expect(Object.keys(records[0]!.fields).sort()).toEqual(
      [
        'destinationIPv4Address',
        'destinationTransportPort',
        'flowEndMilliseconds',
        'flowStartMilliseconds',
        'maximumTTL',
        'minimumTTL',
        'observationDomainId',
        'octetDeltaCount',
        'packetDeltaCount',
        'protocolIdentifier',
        'reverseOctetDeltaCount',
        'samplingInterval',
        'sourceIPv4Address',
        'sourceTransportPort',
        'tcpControlBits',
      ].sort(),
    );
    expect(isValidSelectedRecord(records[0])).toBe(true);
  });

  it('the schema check rejects extra or wrongly typed fields and incomplete provenance', () => {
    const { records } = testEngine().engine.selectRecords([recordOf({ src: US, dst: JP })]);
    const ok = records[0]!;
    expect(selectedRecordProblem(ok)).toBeUndefined();
    const extra = structuredClone(ok);
    extra.fields.sourceMacAddress = '00:11:22:33:44:55';
    expect(isValidSelectedRecord(extra)).toBe(false);
    expect(selectedRecordProblem(extra)).toBe('/fields/sourceMacAddress');
    const top = { ...structuredClone(ok), payload: 'abc' };
    expect(isValidSelectedRecord(top)).toBe(false);
    const badType = structuredClone(ok);
    badType.fields.destinationTransportPort = 'http';
    expect(isValidSelectedRecord(badType)).toBe(false);
    const noRetention = structuredClone(ok) as { provenance: Partial<SelectedRecord['provenance']> };
    delete noRetention.provenance.retainUntil;
    expect(isValidSelectedRecord(noRetention)).toBe(false);
  });

  it('pseudonymises reverse-lookup names, strips reverse-DNS answers and hashes e-mail-like names', () => {
    const t = testEngine({ feeds: allChannelFeeds().feeds.filter((f) => f.id === 'f-in') });
    const { records } = t.engine.selectRecords([
      dnsOf(US, JP, {
        dnsQueryName: '4.3.2.133.in-addr.arpa',
        dnsQueryType: 12,
        dnsAnswers: [
          { name: '4.3.2.133.in-addr.arpa', type: 12, ttl: 300, data: 'customer-133-2-3-4.example.jp' },
        ],
      }),
      dnsOf(US, JP, {
        dnsAnswers: [
          { name: 'www.example.jp', type: 1, ttl: 60, data: JP },
          { name: 'www.example.jp', type: 1, ttl: 60, data: US },
        ],
      }),
      dnsOf(US, JP, { dnsQueryName: 'alice@example.jp' }),
      dnsOf(US, JP, { dnsQueryName: '8.8.8.8.in-addr.arpa' }),
      dnsOf(US, JP, { dnsQueryName: '2.133.in-addr.arpa' }),
    ]);
    const [ptr, a, mail, foreign, partial] = records.map((r) => r.fields);
    expect(ptr!.dnsQueryName).toMatch(/^\d+\.\d+\.\d+\.\d+\.in-addr\.arpa$/);
    expect(ptr!.dnsQueryName).not.toBe('4.3.2.133.in-addr.arpa');
    expect(ptr!.dnsAnswers).toEqual([{ name: ptr!.dnsQueryName, type: 12, ttl: 300 }]);
    const answers = a!.dnsAnswers as { data: string }[];
    expect(answers[0]!.data).not.toBe(JP);
    expect(answers[1]!.data).toBe(US);
    expect(mail!.dnsQueryName).toMatch(
      new RegExp(`^[A-Za-z0-9_-]{22}${HASHED_NAME_SUFFIX.replace(/\./g, '\\.')}$`),
    );
    expect(foreign!.dnsQueryName).toBe('8.8.8.8.in-addr.arpa');
    // A partial reverse zone maps consistently with the full names under it (prefix preservation).
    const full = (ptr!.dnsQueryName as string).split('.');
    expect(partial!.dnsQueryName).toBe(`${full[2]}.${full[3]}.in-addr.arpa`);
    expect(JSON.stringify(records)).not.toContain('customer-133');
  });
});

describe('selection: provenance, record id and retention (R-SEL-3, R-RET-1)', () => {
  it('stamps complete provenance with versions, key epoch and retention per channel', () => {
    const file = shippedLegalParameterFile();
    const v = structuredClone(file.versions[0]!);
    const legal = legalParametersFrom([
      {
        label: 'test',
        value: {
          format: file.format,
          versions: [
            { ...v, retention: { default: '2y', channels: { 'transit-foreign-to-foreign': '90d' } } },
          ],
        },
      },
    ]);
    const t = testEngine({ legal });
    const { recs } = one(
      [
        { src: US, dst: DE },
        { src: US, dst: JP },
      ],
      t,
    );
    expect(recs[0]!.provenance).toEqual({
      providerId: 'prov-a',
      feedId: 'f-transit',
      channel: 'transit-foreign-to-foreign',
      approvalId: 'appr-transit-foreign-to-foreign',
      selectorIds: ['all-transit-foreign-to-foreign'],
      tableVersion: testTable().tableVersion,
      parameterVersion: 'jp-2025-05.1',
      keyEpoch: 1,
      selectedAt: NOW,
      retainUntil: T_EVENT + 90 * 86_400_000,
    });
    expect(recs[1]!.provenance.retainUntil).toBe(Date.parse('2028-02-27T12:00:00.000Z'));
  });

  it('a future-dated parameter version does not change what is stamped now', () => {
    const file = shippedLegalParameterFile();
    const v = structuredClone(file.versions[0]!);
    const legal = legalParametersFrom([
      { label: 'shipped', value: file },
      {
        label: 'future',
        value: {
          format: file.format,
          versions: [
            {
              ...v,
              version: 'future',
              effectiveFrom: '2027-01-01T00:00:00.000Z',
              retention: { default: '30d', channels: {} },
            },
          ],
        },
      },
    ]);
    const r = one([{ src: US, dst: DE }], testEngine({ legal })).recs[0]!;
    expect(r.provenance.parameterVersion).toBe('jp-2025-05.1');
    expect(r.provenance.retainUntil).toBe(Date.parse('2028-02-27T12:00:00.000Z'));
  });

  it('builds a replay-stable record id from provider, exporter, domain, sequence and index, never addresses', () => {
    const flow = { src: US, dst: JP, exporter: '192.0.2.10', odid: 3, seq: 777, idx: 5 };
    const a = one([flow]).recs[0]!;
    const b = one([flow]).recs[0]!;
    expect(a.recordId).toBe('prov-a/192.0.2.10/3/777/5');
    expect(b.recordId).toBe(a.recordId);
    expect(a.recordId).not.toContain(US);
    const aliased = testEngine({ config: { exporterAliases: { '192.0.2.10': 'tokyo-r1' } } });
    expect(one([flow], aliased).recs[0]!.recordId).toBe('prov-a/tokyo-r1/3/777/5');
    const dns = testEngine().engine.selectRecords([dnsOf(US, JP)]).records[0]!;
    expect(dns.recordId).toBe('prov-a/unix:%2Frun%2Fdnstap.sock/0/1/0');
  });
});

describe('selection: batch and object paths agree', () => {
  it('gives identical records for the same flows (IPv4 and IPv6)', () => {
    const flows: TestFlow[] = [
      { src: US, dst: DE, idx: 0 },
      { src: US, dst: JP, idx: 1, flags: 0x02, dport: 23 },
      { src: JP, dst: US, idx: 2 },
      { src: US6, dst: JP6, idx: 3 },
      { src: JP6, dst: DE6, idx: 4, proto: 17, dport: 53 },
      { src: US, dst: JP_OP, idx: 5 },
      { src: JP, dst: JP, idx: 6 },
      { src: '10.0.0.1', dst: '8.8.8.8', idx: 7 },
    ];
    const t = testEngine();
    const fromBatch = t.engine.selectBatch(batchOf(flows));
    const fromObjects = t.engine.selectRecords(
      flows.map((f) => {
        const r = recordOf(f, { observationDomainId: f.odid ?? 7 });
        return { ...r, fields: { ...r.fields, samplingInterval: 1 } };
      }),
    );
    const strip = (r: SelectedRecord): SelectedRecord => ({ ...r, protocol: 'ipfix' });
    expect(fromBatch.selected.toRecords().map(strip)).toEqual(fromObjects.records.map(strip));
    expect(fromBatch.stats.dropped).toEqual(fromObjects.stats.dropped);
    expect(fromBatch.selected.toRecords().every((r) => isValidSelectedRecord(r))).toBe(true);
  });
});

describe('selection: statistics, metrics and no raw data exposure (R-SEL-1, R-SEL-5)', () => {
  it('counts per reason and per feed, in the metrics registry too', () => {
    const t = testEngine();
    const { stats } = t.engine.selectBatch(
      batchOf([
        { src: US, dst: DE },
        { src: JP, dst: JP },
        { src: US, dst: DE, end: 1, start: 1 },
      ]),
    );
    const sum = Object.values(stats.dropped).reduce((a, b) => a + b, 0);
    expect(stats.in).toBe(stats.selected + sum);
    expect(stats.errors).toBe(0);
    const snap = t.metrics.snapshot();
    expect(snap['select_records{outcome="in"}']).toBe(3);
    expect(snap['select_records{outcome="selected"}']).toBe(1);
    expect(snap['select_records{outcome="domestic-domestic"}']).toBe(1);
    expect(snap['select_records{outcome="approval-window"}']).toBe(1);
    expect(snap['select_feed_records{feed="f-transit",outcome="selected"}']).toBe(1);
    expect(snap.select_feeds_active).toBe(5);
    expect(t.engine.totals().in).toBe(3);
  });

  it('never logs addresses or record contents', () => {
    const t = testEngine();
    t.engine.selectBatch(
      batchOf([
        { src: US, dst: JP },
        { src: JP, dst: JP },
      ]),
    );
    t.engine.selectRecords([dnsOf(JP, JP_OP), recordOf({ src: '133.44.55.66', dst: US })]);
    t.engine.applyRevocation(revocation('appr-transit-foreign-to-foreign', '2026-02-28T00:00:00.000Z'));
    const log = t.logLines.join('');
    expect(t.logLines.length).toBeGreaterThan(0);
    for (const a of [JP, JP_OP, '133.44.55.66', US, 'www.example.jp']) expect(log).not.toContain(a);
  });
});
