/** The labels file written next to the captures: what ran, against whom, when (by construction). */
import type { DetectorName } from '../../common/schema/legal.ts';

/** Version of the labels format; bumped on incompatible changes. */
export const LABELS_VERSION = 1;

/** One capture and what happened in it. */
export interface RealLabel {
  /** Capture file name, relative to the labels file. */
  file: string;
  /** Scenario name, one of `REAL_SCENARIOS`. */
  scenario: string;
  /** The Debian tool that made the traffic, e.g. `nmap`. */
  tool: string;
  /** Installed Debian package version of `tool` (`dpkg-query`). */
  toolVersion: string;
  /** The attack command as run inside its namespace (argv). */
  command: string[];
  /** Detectors that should raise an alert on this capture (DESIGN section 6 names). */
  expectedDetectors: DetectorName[];
  /**
   * Attacking side as in the generator's ground truth (src/simulate/traffic/types.ts `TruthLine`):
   * the scanner, brute-forcer or flooding source; for a beacon or DNS tunnel the C2/tunnel server.
   */
  attackers: string[];
  /** Attacked side: scanned or flooded hosts; for a beacon or DNS tunnel the infected client. */
  victims: string[];
  /**
   * The alert subject DESIGN section 6 expects: the scanner, the brute-forcing source, the DDoS
   * victim, the beaconing host, the tunnelling client. Always one of `attackers` or `victims`.
   */
  subjects: string[];
  /** Counterparts of an alert on `subjects` where DESIGN names one (the C2 of a beacon). */
  counterparts: string[];
  /** ISO 8601 UTC with milliseconds: just before the attack command started. */
  start: string;
  /** ISO 8601 UTC with milliseconds: just after it ended. */
  end: string;
  /** Packets tcpdump wrote into the capture. */
  packets: number;
  /** Nominal period of a periodic scenario (the beacon's check-ins), in ms; absent otherwise. */
  periodMs?: number;
}

/** Contents of `labels.json`. */
export interface LabelsFile {
  version: typeof LABELS_VERSION;
  /** What made the captures. */
  generator: 'acd real evaluation set (src/eval/real)';
  /** ISO 8601 time the run finished. */
  createdAt: string;
  /** Addresses of the lab topology (docs/eval-real.md). */
  topology: { attacker: string; victim: string; sweepPrefix: string; capturedOn: 'victim veth' };
  /** Versions of tcpdump and iproute2 used for every capture. */
  captureTools: Record<string, string>;
  captures: RealLabel[];
}
