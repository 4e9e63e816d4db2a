import type { LegalChannel } from './legal.ts';
import type { Fields, RecordProtocol } from './record.ts';

/**
 * Where a selected record came from and on what legal basis (REQUIREMENTS R-FEED, R-SEL-3,
 * R-RET-1; DESIGN section 2). Stamped at the edge; never changed afterwards.
 */
export interface Provenance {
  providerId: string;
  feedId: string;
  channel: LegalChannel;
  /** The approval (or agreement) in force that justified keeping the record. */
  approvalId: string;
  /** The selector(s) the record matched. */
  selectorIds: string[];
  /** Border/ASN prefix table version used to classify the endpoints. */
  tableVersion: string;
  /** Legal-parameter table version (retention, deadlines) in force at selection. */
  parameterVersion: string;
  /** Pseudonymisation key epoch. */
  keyEpoch: number;
  /** When the edge selected the record (epoch ms). */
  selectedAt: number;
  /** Retention deadline (epoch ms): the record is deleted after it. */
  retainUntil: number;
}

/** Country and ASN of one endpoint, stamped before pseudonymisation. */
export interface EndpointInfo {
  /** ISO 3166 alpha-2 code, or `ZZ` for special/unknown space. */
  country: string;
  /** 0 when unknown. */
  asn: number;
  /** True when the address in `fields` is a pseudonym (domestic space), false when clear. */
  pseudonymised: boolean;
}

/**
 * A flow record or DNS event after selection at the edge (DESIGN section 2, `SelectedRecord`):
 * only allow-listed fields (R-SEL-2), domestic addresses pseudonymised (R-SEL-4), provenance and a
 * replay-stable `recordId` (DESIGN section 6).
 */
export interface SelectedRecord {
  /** provider id + exporter + observation domain + export sequence + record index; never addresses. */
  recordId: string;
  recordType: 'flow' | 'dns';
  protocol: RecordProtocol;
  /** Allow-listed fields only, IANA names; `samplingInterval` included for flows. */
  fields: Fields;
  source: EndpointInfo;
  destination: EndpointInfo;
  provenance: Provenance;
}
