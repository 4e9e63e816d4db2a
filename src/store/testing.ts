/**
 * Builders of realistic store contents (selected records as the edge makes them, evidence,
 * alerts, incidents, audit entries) for the contract suite, the implementations' tests and
 * bench/store.ts. Not used by production code.
 */
import type { Alert, Incident } from '../common/schema/alert.ts';
import type { Evidence, Severity } from '../common/schema/evidence.ts';
import type { DetectorName, LegalChannel } from '../common/schema/legal.ts';
import type { SelectedRecord } from '../common/schema/selected.ts';
import type { AuditRecord } from './types.ts';

/** 2026-01-01T00:00:00Z: the event-time origin of the builders. */
export const T0 = Date.UTC(2026, 0, 1);
/** One day in ms. */
export const DAY = 86_400_000;

/** What a built flow record varies. */
export interface FlowSpec {
  /** Event time (flow end), epoch ms. */
  t: number;
  providerId?: string;
  channel?: LegalChannel;
  retainUntil?: number;
  src?: string;
  dst?: string;
  srcPort?: number;
  dstPort?: number;
  proto?: number;
  octets?: number;
  packets?: number;
  sampling?: number;
  srcCountry?: string;
  dstCountry?: string;
  srcAsn?: number;
  dstAsn?: number;
  /** Index in the export message (part of the record id). */
  index?: number;
}

let serial = 0;

/**
 * A selected flow record shaped like the edge's: allow-listed IANA fields, pseudonymised domestic
 * source (a pseudonym is an address too), country/ASN per endpoint, full provenance.
 */
export function flowRecord(s: FlowSpec): SelectedRecord {
  const providerId = s.providerId ?? 'prov-a';
  const i = s.index ?? serial++;
  return {
    recordId: `${providerId}/192.0.2.1/0/${Math.floor(i / 16)}/${i % 16}`,
    recordType: 'flow',
    protocol: 'ipfix',
    fields: {
      sourceIPv4Address: s.src ?? `10.${i & 255}.${(i >> 8) & 255}.7`,
      destinationIPv4Address: s.dst ?? '203.0.113.9',
      sourceTransportPort: s.srcPort ?? 40_000 + (i % 20_000),
      destinationTransportPort: s.dstPort ?? 443,
      protocolIdentifier: s.proto ?? 6,
      octetDeltaCount: s.octets ?? 1500,
      packetDeltaCount: s.packets ?? 3,
      tcpControlBits: 27,
      flowStartMilliseconds: s.t - 500,
      flowEndMilliseconds: s.t,
      samplingInterval: s.sampling ?? 1,
    },
    source: { country: s.srcCountry ?? 'JP', asn: s.srcAsn ?? 2497, pseudonymised: true },
    destination: { country: s.dstCountry ?? 'US', asn: s.dstAsn ?? 15_169, pseudonymised: false },
    provenance: {
      providerId,
      feedId: 'feed-1',
      channel: s.channel ?? 'specified-domestic-to-foreign',
      approvalId: 'appr-2026-001',
      selectorIds: ['sel-1'],
      tableVersion: '2026-06-17',
      parameterVersion: 'lp-2026-1',
      keyEpoch: 3,
      selectedAt: s.t + 1000,
      retainUntil: s.retainUntil ?? s.t + 90 * DAY,
    },
  };
}

/** A selected DNS event (a client's query seen through operator telemetry). */
export function dnsRecord(s: {
  t: number;
  qname: string;
  client?: string;
  index?: number;
  providerId?: string;
}): SelectedRecord {
  const providerId = s.providerId ?? 'prov-a';
  const i = s.index ?? serial++;
  return {
    recordId: `${providerId}/198.51.100.53/0/${Math.floor(i / 16)}/${i % 16}`,
    recordType: 'dns',
    protocol: 'dnstap',
    fields: {
      sourceIPv4Address: s.client ?? '10.1.2.3',
      destinationIPv4Address: '198.51.100.53',
      sourceTransportPort: 53_000,
      destinationTransportPort: 53,
      protocolIdentifier: 17,
      eventTime: s.t,
      dnsIsResponse: false,
      dnsQueryName: s.qname,
      dnsQueryType: 1,
      dnsQueryTypeName: 'A',
    },
    source: { country: 'JP', asn: 2497, pseudonymised: true },
    destination: { country: 'JP', asn: 2497, pseudonymised: false },
    provenance: {
      providerId,
      feedId: 'feed-dns',
      channel: 'operator-telemetry',
      approvalId: 'agr-op-1',
      selectorIds: ['sel-dns'],
      tableVersion: '2026-06-17',
      parameterVersion: 'lp-2026-1',
      keyEpoch: 3,
      selectedAt: s.t + 1000,
      retainUntil: s.t + 30 * DAY,
    },
  };
}

/** One evidence item. */
export function evidenceOf(
  detector: DetectorName,
  subject: string,
  start: number,
  extra: Partial<Evidence> = {},
): Evidence {
  return {
    detector,
    version: '1.0.0',
    subject,
    window: { start, end: start + 60_000 },
    confidence: 0.9,
    severity: 'medium',
    facts: { distinctTargets: 120, rate: 4.5, kind: 'tcp-syn' },
    recordIds: ['prov-a/192.0.2.1/0/1/2', 'prov-a/192.0.2.1/0/1/3'],
    ...extra,
  };
}

/** An alert with one evidence item. */
export function alertOf(
  id: string,
  o: {
    detector?: DetectorName;
    subject?: string;
    severity?: Severity;
    firstSeen: number;
    lastSeen?: number;
    incidentId?: string;
    counterparts?: string[];
    operators?: string[];
  },
): Alert {
  const detector = o.detector ?? 'scan';
  const subject = o.subject ?? '203.0.113.66';
  const ev = evidenceOf(detector, subject, o.firstSeen);
  return {
    id,
    detector,
    subject,
    counterparts: o.counterparts ?? [],
    severity: o.severity ?? 'medium',
    score: 0.7,
    firstSeen: o.firstSeen,
    lastSeen: o.lastSeen ?? o.firstSeen + 60_000,
    summary: `${detector} by ${subject}`,
    operators: o.operators ?? [],
    sectors: [],
    evidence: [ev],
    evidenceCount: 1,
    ...(o.incidentId !== undefined ? { incidentId: o.incidentId } : {}),
  };
}

/** An incident over the given alerts. */
export function incidentOf(
  id: string,
  o: {
    state?: Incident['state'];
    severity?: Severity;
    detectors?: DetectorName[];
    subjects?: string[];
    counterparts?: string[];
    operators?: string[];
    alerts?: string[];
    firstSeen: number;
    lastSeen: number;
  },
): Incident {
  return {
    id,
    state: o.state ?? 'new',
    severity: o.severity ?? 'high',
    score: 0.8,
    detectors: o.detectors ?? ['scan'],
    subjects: o.subjects ?? ['203.0.113.66'],
    counterparts: o.counterparts ?? [],
    operators: o.operators ?? [],
    sectors: [],
    alerts: o.alerts ?? [],
    firstSeen: o.firstSeen,
    lastSeen: o.lastSeen,
    summary: `incident ${id}`,
    campaign: false,
    updatedAt: o.lastSeen + 5000,
    history: [{ at: o.firstSeen, from: 'new', to: 'new', actor: 'correlate', reason: 'created' }],
  };
}

/** Audit entries `from..from+n-1` (hashes are placeholders: the chain is issue 8's). */
export function auditEntries(from: number, n: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (let seq = from; seq < from + n; seq++) {
    out.push({
      seq,
      at: T0 + seq * 1000,
      actor: 'analyst-1',
      role: 'analyst',
      purpose: 'monitoring',
      action: 'records.query',
      objectIds: [`q-${seq}`],
      detail: { limit: 100, filters: { port: 443 } },
      prev: seq === 1 ? '' : `h${seq - 1}`,
      hash: `h${seq}`,
    });
  }
  return out;
}

/**
 * 20 s of a SYN flood from 200 foreign sources (1,000 SYN packets/s, 100 flow records per second)
 * at one domestic address, starting at `start` (SYN only: no handshake completes).
 */
export function synFloodRecords(victim: string, start = T0, providerId = 'provider-1'): SelectedRecord[] {
  const out: SelectedRecord[] = [];
  let i = 0;
  for (let s = 0; s < 20; s++)
    for (let k = 0; k < 100; k++) {
      const src = i % 200;
      const r = flowRecord({
        t: start + s * 1000 + k * 10,
        providerId,
        channel: 'agreement-foreign-to-domestic',
        src: `198.51.100.${src}`,
        srcCountry: 'US',
        srcAsn: 64_500 + (src % 7),
        dst: victim,
        dstCountry: 'JP',
        dstAsn: 2497,
        dstPort: 80,
        proto: 6,
        packets: 10,
        octets: 400,
        index: i++,
      });
      r.fields.tcpControlBits = 2;
      out.push(r);
    }
  return out;
}
