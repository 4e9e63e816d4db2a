/**
 * Japan's 15 critical-infrastructure sectors (the Cybersecurity Policy for Critical
 * Infrastructure Protection lists them).
 */

/** Sector ids, stable: they appear in the operators file, evidence and reports. */
export const SECTORS = [
  'information-communications',
  'finance',
  'aviation',
  'airports',
  'railways',
  'electric-power',
  'gas',
  'government-administrative-services',
  'medical',
  'water',
  'logistics',
  'chemicals',
  'credit-cards',
  'petroleum',
  'ports',
] as const;

/** One of `SECTORS`. */
export type Sector = (typeof SECTORS)[number];
