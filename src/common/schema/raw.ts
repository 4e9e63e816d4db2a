/** How a datagram or message arrived. */
export type Transport = 'udp' | 'tcp' | 'file' | 'pcap' | 'unix';

/** A network endpoint in canonical text form (IPv4 dotted quad, IPv6 per RFC 5952). */
export interface Endpoint {
  address: string;
  port: number;
}

/**
 * What a listener or file reader hands to a decoder: one export message (one UDP datagram, one
 * IPFIX message framed off a TCP stream, one message read from a file or capture). Raw data never
 * leaves the edge process and is never written to disk (R-SEL-1).
 */
export interface RawDatagram {
  /** Wall time of reception (epoch ms); for captures, the capture timestamp. */
  receivedAt: number;
  exporter: Endpoint;
  transport: Transport;
  bytes: Uint8Array;
}
