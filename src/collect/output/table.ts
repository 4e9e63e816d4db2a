import type { DecodedRecord, FieldValue, Fields } from '../../common/schema/index.ts';

/** TCP flag letters from bit 0 (FIN) up to bit 7 (CWR), as nfdump and tcpdump print them. */
const FLAG_LETTERS = ['F', 'S', 'R', 'P', 'A', 'U', 'E', 'C'];

/** Protocol numbers people recognise at a glance. */
const PROTO_NAMES: Record<number, string> = {
  1: 'ICMP',
  6: 'TCP',
  17: 'UDP',
  47: 'GRE',
  50: 'ESP',
  58: 'ICMP6',
  132: 'SCTP',
};

function flags(v: FieldValue | undefined): string {
  if (typeof v !== 'number') return '';
  let s = '';
  for (let i = 7; i >= 0; i--) s += v & (1 << i) ? FLAG_LETTERS[i] : '.';
  return s;
}

function endpoint(addr: FieldValue | undefined, port: FieldValue | undefined): string {
  if (addr === undefined) return '-';
  const a = typeof addr === 'string' || typeof addr === 'number' ? String(addr) : JSON.stringify(addr);
  const withBrackets = a.includes(':') && port !== undefined ? `[${a}]` : a;
  return port === undefined ? a : `${withBrackets}:${typeof port === 'number' ? port : JSON.stringify(port)}`;
}

function time(v: FieldValue | undefined): string {
  return typeof v === 'number'
    ? new Date(v).toISOString().replace('T', ' ').replace('Z', '')
    : '-'.padEnd(23);
}

function text(v: FieldValue | undefined, absent: string): string {
  if (v === undefined) return absent;
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
    ? String(v)
    : JSON.stringify(v);
}

function num(v: FieldValue | undefined): string {
  return typeof v === 'number' || typeof v === 'string' ? String(v) : '0';
}

function compact(fields: Fields): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

/** The header line of the table output. */
export const TABLE_HEADER =
  'start                   dur(s)  proto  source                                         destination                                    flags     packets        bytes  samp  exporter';

/** One human-readable line per record (`acd decode --format table`); not a stable contract. */
export function formatTableRow(r: DecodedRecord): string {
  const f = r.fields;
  const exporter = r.observation.exporter;
  switch (r.recordType) {
    case 'flow': {
      const start = f.flowStartMilliseconds;
      const end = f.flowEndMilliseconds;
      const dur =
        typeof start === 'number' && typeof end === 'number' ? ((end - start) / 1000).toFixed(3) : '-';
      const proto =
        typeof f.protocolIdentifier === 'number'
          ? (PROTO_NAMES[f.protocolIdentifier] ?? String(f.protocolIdentifier))
          : '-';
      const src = endpoint(f.sourceIPv4Address ?? f.sourceIPv6Address, f.sourceTransportPort);
      const dst = endpoint(f.destinationIPv4Address ?? f.destinationIPv6Address, f.destinationTransportPort);
      return [
        time(start),
        dur.padStart(7),
        proto.padEnd(6),
        src.padEnd(46),
        dst.padEnd(46),
        flags(f.tcpControlBits).padEnd(8),
        num(f.packetDeltaCount).padStart(8),
        num(f.octetDeltaCount).padStart(12),
        String(r.samplingInterval).padStart(5),
        exporter,
      ].join(' ');
    }
    case 'options':
      return `options  ${exporter} domain=${r.observation.observationDomainId} template=${r.observation.templateId} scope: ${compact(r.scope)} values: ${compact(f)}`;
    case 'dns':
      return `dns      ${time(f.eventTime)} ${text(f.dnsQueryName, '-')} ${text(f.dnsQueryTypeName ?? f.dnsQueryType, '-')} ${text(f.dnsResponseCodeName, '')} ${endpoint(f.sourceIPv4Address ?? f.sourceIPv6Address, f.sourceTransportPort)} -> ${endpoint(f.destinationIPv4Address ?? f.destinationIPv6Address, f.destinationTransportPort)}`;
    case 'counters':
      return `counters ${exporter} ${compact(f)}`;
  }
}
