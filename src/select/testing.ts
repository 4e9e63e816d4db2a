/**
 * Test helpers of selection (used by the tests beside this file and by bench/select.ts): a small
 * border table with known answers, a commission key and signed documents, record builders for
 * both the batch and the object path. Not used by production code.
 */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { ManualClock } from '../common/clock.ts';
import { shippedLegalParameters, type LegalParameterTable } from '../common/legal/index.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import {
  AsnTableBuilder,
  CountryTableBuilder,
  parseIpv4,
  parseIpv6Into,
  parsePrefix,
  PrefixTable,
} from '../common/prefixes/index.ts';
import type { AgreementPayload, ApprovalPayload, RevocationPayload } from '../common/schema/approval.ts';
import { FlowBatch } from '../common/schema/batch.ts';
import type { DnsEvent, Fields, FlowRecord } from '../common/schema/record.ts';
import { resolveTrustedKey, signDocument, SigningKey, TrustedKeySet } from '../common/signing/index.ts';
import { resolveSelectionConfig, type FeedConfig, type SelectionConfig } from './config.ts';
import type { FeedEvent, OperatorRegistry } from './feeds.ts';
import { ephemeralKeySource } from './keysource.ts';
import { createSelectionEngine, type SelectionEngine } from './selector.ts';

/** Prefixes of the test table: JP is domestic. */
export const TEST_RANGES = {
  JP: ['133.0.0.0/8', '2001:200::/23'],
  US: ['8.0.0.0/8', '2600::/12'],
  DE: ['5.0.0.0/8', '2a00::/12'],
} as const;
/** ASNs of the test table. */
export const TEST_ASN: Record<string, number> = { JP: 2500, US: 3356, DE: 3320 };

/** The border/ASN table of the tests (200.0.0.0/8 is deliberately unknown space). */
export function testTable(): PrefixTable {
  const cb = new CountryTableBuilder();
  const ab = new AsnTableBuilder();
  for (const [cc, list] of Object.entries(TEST_RANGES)) {
    for (const p of list) {
      const x = parsePrefix(p);
      if (x.version === 4) {
        cb.add4(Number(x.first), Number(x.last), cc);
        ab.add4(Number(x.first), Number(x.last), TEST_ASN[cc]!, `${cc}-NET`);
      } else {
        cb.add6(x.first, x.last, cc);
        ab.add6(x.first, x.last, TEST_ASN[cc]!, `${cc}-NET`);
      }
    }
  }
  const v = { source: 'test', version: '1' };
  return new PrefixTable(cb.build(v), ab.build(v));
}

/** Wall time of the tests. */
export const NOW = Date.parse('2026-03-01T00:00:00.000Z');
/** An event time inside the test approvals' window. */
export const T_EVENT = Date.parse('2026-02-27T12:00:00.000Z');

/** The test commission key and its trust set. */
export const commission = SigningKey.generate();
/** Trusted keys of the tests. */
export const trust = new TrustedKeySet([
  resolveTrustedKey({
    publicKey: commission.publicKey,
    signer: 'commission',
    validFrom: '2025-01-01T00:00:00.000Z',
    validUntil: '2030-01-01T00:00:00.000Z',
    scopes: ['approval'],
  }),
]);

/** A signed approval (defaults: all traffic of `channel` for provider `prov-a`, 2026-01..2026-07). */
export function approval(channel: ApprovalPayload['channel'], over: Partial<ApprovalPayload> = {}): unknown {
  return signDocument<ApprovalPayload>(
    {
      type: 'approval',
      id: `appr-${channel}`,
      kind: 'acquisition',
      channel,
      providers: ['prov-a'],
      targetActs: ['unauthorised-access'],
      selectors: [{ id: `all-${channel}`, kind: 'all-channel-traffic' }],
      validFrom: '2026-01-01T00:00:00.000Z',
      validUntil: '2026-07-01T00:00:00.000Z',
      issuedAt: '2026-01-01T00:00:00.000Z',
      caseId: 'case-1',
      ...over,
    },
    [commission],
  );
}

/** A signed agreement of operator `op-1` for 133.1.0.0/16 and 2001:200:1::/48. */
export function agreement(
  channel: AgreementPayload['channel'],
  over: Partial<AgreementPayload> = {},
): unknown {
  return signDocument<AgreementPayload>(
    {
      type: 'agreement',
      id: `agr-${channel}`,
      channel,
      operatorId: 'op-1',
      providers: ['prov-a'],
      ranges: ['133.1.0.0/16', '2001:200:1::/48'],
      pseudonymisationWaived: [],
      validFrom: '2026-01-01T00:00:00.000Z',
      validUntil: '2026-07-01T00:00:00.000Z',
      issuedAt: '2026-01-01T00:00:00.000Z',
      ...over,
    },
    [commission],
  );
}

/** A signed revocation. */
export function revocation(
  revokes: string,
  issuedAt: string,
  over: Partial<RevocationPayload> = {},
): unknown {
  return signDocument<RevocationPayload>(
    { type: 'revocation', id: `rev-${revokes}`, revokes, issuedAt, reason: 'test', ...over },
    [commission],
  );
}

/** One feed per channel, each on its own approval (agreement channels on `agreement()` too). */
export function allChannelFeeds(): { feeds: FeedConfig[]; documents: unknown[] } {
  return {
    feeds: [
      {
        id: 'f-transit',
        providerId: 'prov-a',
        channel: 'transit-foreign-to-foreign',
        approvalIds: ['appr-transit-foreign-to-foreign'],
        exporters: 'all',
      },
      {
        id: 'f-agreement',
        providerId: 'prov-a',
        channel: 'agreement-foreign-to-domestic',
        agreementId: 'agr-agreement-foreign-to-domestic',
        exporters: 'all',
      },
      {
        id: 'f-in',
        providerId: 'prov-a',
        channel: 'specified-foreign-to-domestic',
        approvalIds: ['appr-specified-foreign-to-domestic'],
        exporters: 'all',
      },
      {
        id: 'f-out',
        providerId: 'prov-a',
        channel: 'specified-domestic-to-foreign',
        approvalIds: ['appr-specified-domestic-to-foreign'],
        exporters: 'all',
      },
      {
        id: 'f-telemetry',
        providerId: 'prov-a',
        channel: 'operator-telemetry',
        agreementId: 'agr-operator-telemetry',
        exporters: 'all',
      },
    ],
    documents: [
      approval('transit-foreign-to-foreign'),
      agreement('agreement-foreign-to-domestic'),
      approval('specified-foreign-to-domestic'),
      approval('specified-domestic-to-foreign'),
      agreement('operator-telemetry'),
    ],
  };
}

/** A test engine and what it was built with. */
export interface TestEngine {
  engine: SelectionEngine;
  clock: ManualClock;
  events: FeedEvent[];
  metrics: MetricsRegistry;
  table: PrefixTable;
  config: SelectionConfig;
  logLines: string[];
  /** The engine's in-memory pseudonymisation key (tests compute expected pseudonyms with it). */
  keys: ReturnType<typeof ephemeralKeySource>;
}

/** Builds and activates an engine over the test table. */
export function testEngine(
  opts: {
    feeds?: FeedConfig[];
    documents?: unknown[];
    config?: Record<string, unknown>;
    operators?: OperatorRegistry;
    indicatorLists?: Record<string, string[]>;
    legal?: LegalParameterTable;
    table?: PrefixTable;
    trustedKeys?: TrustedKeySet;
    now?: number;
  } = {},
): TestEngine {
  const base = allChannelFeeds();
  const clock = new ManualClock(opts.now ?? NOW);
  const events: FeedEvent[] = [];
  const metrics = new MetricsRegistry();
  const table = opts.table ?? testTable();
  const config = resolveSelectionConfig({ feeds: opts.feeds ?? base.feeds, ...(opts.config ?? {}) });
  const logLines: string[] = [];
  const logger: Logger = pino(
    { level: 'trace' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(chunk.toString('utf8'));
        cb();
      },
    }),
  );
  const keys = ephemeralKeySource(clock.now());
  const engine = createSelectionEngine(
    {
      table,
      legal: opts.legal ?? shippedLegalParameters(),
      keys,
      clock,
      trustedKeys: opts.trustedKeys ?? trust,
      documents: opts.documents ?? base.documents,
      ...(opts.indicatorLists ? { indicatorLists: opts.indicatorLists } : {}),
      ...(opts.operators ? { operators: opts.operators } : {}),
      metrics,
      logger,
      onEvent: (e) => events.push(e),
    },
    config,
  );
  engine.activate();
  return { engine, clock, events, metrics, table, config, logLines, keys };
}

/** A flow as the tests describe it. */
export interface TestFlow {
  src: string;
  dst: string;
  proto?: number;
  sport?: number;
  dport?: number;
  flags?: number;
  start?: number;
  end?: number;
  octets?: number;
  packets?: number;
  exporter?: string;
  odid?: number;
  seq?: number;
  idx?: number;
  sampling?: number;
}

function words(a: string, out: Uint32Array, o: number): 4 | 6 {
  const v4 = parseIpv4(a);
  if (v4 !== undefined) {
    out[o] = v4;
    return 4;
  }
  const w = new Uint32Array(4);
  if (!parseIpv6Into(a, w)) throw new Error(`test address ${a}`);
  out.set(w, o);
  return 6;
}

/** A FlowBatch holding `flows`. */
export function batchOf(flows: readonly TestFlow[]): FlowBatch {
  const b = new FlowBatch(Math.max(1, flows.length));
  for (const f of flows) {
    const i = b.add();
    b.ipVersion[i] = words(f.src, b.src, i * 4);
    words(f.dst, b.dst, i * 4);
    b.proto[i] = f.proto ?? 6;
    b.srcPort[i] = f.sport ?? 40000;
    b.dstPort[i] = f.dport ?? 443;
    b.tcpFlags[i] = f.flags ?? 0x1b;
    b.octets[i] = f.octets ?? 1000;
    b.packets[i] = f.packets ?? 10;
    b.start[i] = f.start ?? T_EVENT - 1000;
    b.end[i] = f.end ?? T_EVENT;
    b.samplingInterval[i] = f.sampling ?? 1;
    b.exporterIndex[i] = b.exporterId(f.exporter ?? '192.0.2.10');
    b.observationDomainId[i] = f.odid ?? 7;
    b.sequence[i] = f.seq ?? 1000;
    b.recordIndex[i] = f.idx ?? i;
  }
  return b;
}

/** The same flow as a decoded `FlowRecord` (the fields the batch path would publish, plus `extra`). */
export function recordOf(f: TestFlow, extra: Fields = {}): FlowRecord {
  const v6 = f.src.includes(':');
  const fields: Fields = {
    [v6 ? 'sourceIPv6Address' : 'sourceIPv4Address']: f.src,
    [v6 ? 'destinationIPv6Address' : 'destinationIPv4Address']: f.dst,
    protocolIdentifier: f.proto ?? 6,
    sourceTransportPort: f.sport ?? 40000,
    destinationTransportPort: f.dport ?? 443,
    octetDeltaCount: f.octets ?? 1000,
    packetDeltaCount: f.packets ?? 10,
    flowStartMilliseconds: f.start ?? T_EVENT - 1000,
    flowEndMilliseconds: f.end ?? T_EVENT,
    ...extra,
  };
  if ((f.proto ?? 6) === 6) fields.tcpControlBits = f.flags ?? 0x1b;
  return {
    recordType: 'flow',
    protocol: 'ipfix',
    observation: {
      exporter: f.exporter ?? '192.0.2.10',
      observationDomainId: f.odid ?? 7,
      templateId: 256,
      sequence: f.seq ?? 1000,
      exportTime: (f.end ?? T_EVENT) + 1000,
    },
    recordIndex: f.idx ?? 0,
    samplingInterval: f.sampling ?? 1,
    fields,
  };
}

/** A DNS event (dnstap-like) from `client` to `server`. */
export function dnsOf(client: string, server: string, fields: Fields = {}, seq = 1): DnsEvent {
  const v6 = client.includes(':');
  return {
    recordType: 'dns',
    protocol: 'dnstap',
    observation: {
      exporter: 'unix:/run/dnstap.sock',
      observationDomainId: 0,
      templateId: 0,
      sequence: seq,
      exportTime: T_EVENT,
    },
    recordIndex: 0,
    fields: {
      [v6 ? 'sourceIPv6Address' : 'sourceIPv4Address']: client,
      [v6 ? 'destinationIPv6Address' : 'destinationIPv4Address']: server,
      protocolIdentifier: 17,
      sourceTransportPort: 53000,
      destinationTransportPort: 53,
      eventTime: T_EVENT,
      dnsMessageType: 'CLIENT_RESPONSE',
      dnsIsResponse: true,
      dnsQueryName: 'www.example.jp',
      dnsQueryType: 1,
      dnsQueryTypeName: 'A',
      dnsResponseCode: 0,
      dnsResponseCodeName: 'NOERROR',
      ...fields,
    },
  };
}
