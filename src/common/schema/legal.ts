/**
 * Shared legal and detection vocabulary (DESIGN sections 5-6, REQUIREMENTS R-FEED-1): used by the
 * simulator's ground truth, the edge's selection, detection and the centre.
 */

/** The legal channels through which metadata may reach the centre. */
export type LegalChannel =
  | 'transit-foreign-to-foreign'
  | 'agreement-foreign-to-domestic'
  | 'operator-telemetry'
  | 'specified-foreign-to-domestic'
  | 'specified-domestic-to-foreign';

/** Every legal channel, in a stable order. */
export const LEGAL_CHANNELS: readonly LegalChannel[] = [
  'transit-foreign-to-foreign',
  'agreement-foreign-to-domestic',
  'operator-telemetry',
  'specified-foreign-to-domestic',
  'specified-domestic-to-foreign',
];

/** Detector names of DESIGN section 6. */
export type DetectorName =
  | 'scan'
  | 'beacon'
  | 'ddos'
  | 'brute-force'
  | 'dga'
  | 'dns-tunnel'
  | 'exfiltration'
  | 'long-connection'
  | 'indicator';
